"""Hooks the test suite uses to reach inside a real run; inert unless their CDT_TEST_* variable is set."""

from __future__ import annotations

import os
import signal
import time


# -- the merge's statements --------------------------------------------------------------------------


class StatementSteps:
    """Called before each merge statement: counts them and, when CDT_TEST_MERGE_KILL_AFTER /
    CDT_TEST_MERGE_SLEEP are set, sleeps or kills the process there. The crash test uses it to
    kill a real ``cdt merge`` at a statement boundary."""

    def __init__(self) -> None:
        self.count = 0
        kill = os.environ.get("CDT_TEST_MERGE_KILL_AFTER", "")
        self.kill_after = int(kill) if kill.isdigit() else None
        try:
            self.sleep = float(os.environ.get("CDT_TEST_MERGE_SLEEP", "0"))
        except ValueError:
            self.sleep = 0.0

    def __call__(self) -> None:
        self.count += 1
        if self.sleep:
            time.sleep(self.sleep)
        if self.kill_after is not None and self.count >= self.kill_after and hasattr(signal, "SIGKILL"):
            os.kill(os.getpid(), signal.SIGKILL)


def merge_inserts_in_id_order() -> bool:
    """Whether the merge's bulk insert orders a pack's rows by id: CDT_MERGE_ORDER=0 turns it off,
    to measure what the order gains (bench/RESULTS.md)."""
    return os.environ.get("CDT_MERGE_ORDER") != "0"


# -- CDT_TEST_PAUSE: wait inside a write -------------------------------------------------------------


def pause(point: str) -> None:
    """Wait at a named point inside a write (CDT_TEST_PAUSE=point:seconds), to race two processes."""
    wanted = os.environ.get("CDT_TEST_PAUSE", "")
    if wanted.startswith(point + ":"):
        time.sleep(float(wanted.split(":", 1)[1]))


# -- durability: tests that do not test it skip the syncs -----------------------------------------


def syncs_files() -> bool:
    """Whether files and the database are synced to the device: always, unless CDT_TEST_SYNC=off (the
    test suite sets it for every test that does not test durability: kills, full disks, locks)."""
    return os.environ.get("CDT_TEST_SYNC", "").lower() != "off"
