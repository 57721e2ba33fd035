"""Real `cdt merge` processes killed with SIGKILL at statement boundaries and at random times.

Every time: the target passes integrity_check, holds none or all of the pack's rows, and running
the merge again gives exactly the result of an uninterrupted run. The kill points come from the
inert-unless-set hook in merge.py (CDT_TEST_MERGE_KILL_AFTER / CDT_TEST_MERGE_SLEEP).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kits.mergekit import add_hamlet, add_member, dump, merge_ok, snapshot, unit_file
from cdt.store import Store

pytestmark = [pytest.mark.skipif(sys.platform == "win32" or not hasattr(signal, "SIGKILL"),
                                 reason="SIGKILL is POSIX"),
              pytest.mark.durable]

CDT = [sys.executable, "-m", "cdt"]
STATEMENTS = 38  # statements the merge runs for one file (each a kill point)


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDT_TEST_")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kill")
    base = unit_file(folder / "base.db", "district", "171")
    first = unit_file(folder / "c1.db", "commune", "05761")
    for i in range(20):
        add_hamlet(first, f"Xóm {i}")
    merge_ok(base, snapshot(first, folder / "first.cdt"))
    # The pack under test: new rows, edits of rows the district already has, deletes after a pack.
    rows = [add_hamlet(first, f"Xóm mới {i}") for i in range(150)]
    for i in range(40):
        add_member(first, f"Người {i}")
    with first.write() as tx:
        for row_id in rows[:30]:
            tx.update("hamlet", row_id, {"households": 5})
    pack = snapshot(first, folder / "pack.cdt")
    first.close()
    base.close()
    expected_copy = folder / "expected.db"
    shutil.copyfile(folder / "base.db", expected_copy)
    expected = Store.open(expected_copy)
    merge_ok(expected, pack)
    result = dump(expected)
    expected.close()
    return folder, pack, result


def _check(target: Path, before: dict, expected: dict) -> str:
    conn = sqlite3.connect(target)  # opening rolls back a hot journal, as cdt would
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    store = Store.open(target)
    try:
        now = dump(store)
    finally:
        store.close()
    assert now in (before, expected), "partial merge visible"
    return "all" if now == expected else "none"


def _rerun(target: Path, pack: Path, expected: dict) -> None:
    done = subprocess.run([*CDT, "--db", str(target), "merge", str(pack)], env=_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    store = Store.open(target)
    try:
        assert dump(store) == expected
    finally:
        store.close()


def test_kill_at_statement_boundaries(scene, tmp_path):
    folder, pack, expected = scene
    base = Store.open(folder / "base.db")
    before = dump(base)
    base.close()
    outcomes = set()
    for point in range(1, STATEMENTS + 2, 3):
        target = tmp_path / f"t{point}.db"
        shutil.copyfile(folder / "base.db", target)
        run = subprocess.run([*CDT, "--db", str(target), "merge", str(pack)],
                             env=_env(CDT_TEST_MERGE_KILL_AFTER=str(point)), capture_output=True, timeout=120)
        assert run.returncode == -signal.SIGKILL, (point, run.stderr)
        outcomes.add(_check(target, before, expected))
        _rerun(target, pack, expected)
    assert "none" in outcomes


def test_kill_at_random_times(scene, tmp_path):
    folder, pack, expected = scene
    base = Store.open(folder / "base.db")
    before = dump(base)
    base.close()
    rng = random.Random(20261130)
    for attempt in range(8):
        target = tmp_path / f"r{attempt}.db"
        shutil.copyfile(folder / "base.db", target)
        process = subprocess.Popen([*CDT, "--db", str(target), "merge", str(pack)],
                                   env=_env(CDT_TEST_MERGE_SLEEP="0.01"), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 1.2))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        _check(target, before, expected)
        _rerun(target, pack, expected)
