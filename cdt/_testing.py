"""Hooks the test suite uses to reach inside a real run; inert unless their CDT_TEST_* variable is set."""

from __future__ import annotations

import os


# -- fsync: tests that do not test durability skip it --------------------------------------------


def sync_mode() -> str:
    """SQLite's ``synchronous`` setting for every connection: FULL, or OFF when CDT_TEST_SYNC=off.

    The suite sets CDT_TEST_SYNC=off for the tests that do not test durability (the kill, full-disk
    and lock tests keep FULL): a commit then skips its fsync, and the files stay correct as long
    as the machine does not lose power mid-test."""
    return "OFF" if os.environ.get("CDT_TEST_SYNC", "").strip().lower() == "off" else "FULL"
