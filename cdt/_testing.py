"""Hooks the test suite uses to reach inside a real run; inert unless their CDT_TEST_* variable is set."""

from __future__ import annotations

import os
import time


# -- CDT_TEST_PAUSE: wait inside a write -------------------------------------------------------------


def pause(point: str) -> None:
    """Wait at a named point inside a write (CDT_TEST_PAUSE=point:seconds), to race two processes."""
    wanted = os.environ.get("CDT_TEST_PAUSE", "")
    if wanted.startswith(point + ":"):
        time.sleep(float(wanted.split(":", 1)[1]))
