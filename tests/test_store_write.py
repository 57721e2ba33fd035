"""Store.write() nests (SAVEPOINT inside BEGIN IMMEDIATE), and rule checks run inside the write."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cdt.register import records as register
from cdt.core.errors import InvalidInput
from cdt.store import Store


@pytest.fixture
def store(commune):
    with Store.open(commune) as opened:
        yield opened


def _history(store: Store) -> list[int]:
    return [r["rev"] for r in store.query("SELECT rev FROM history WHERE origin = ? ORDER BY rev",
                                          (store.site.db_id,))]


def test_nested_writes_are_one_transaction_one_tick_one_history_link(store):
    before = store.site.clock
    with store.write() as outer:
        register.add_hamlet(store, "Xóm Đồng Tâm", "xóm")
        with store.write() as inner:
            assert inner is outer
            register.add_hamlet(store, "Xóm Đồng Kim", "xóm")
    assert store.site.clock == before + 1
    assert _history(store) == [before + 1]
    assert {h["rev"] for h in store.rows("hamlet")} == {before + 1}


def test_a_caught_inner_failure_undoes_only_that_savepoint(store):
    with store.write() as tx:
        register.add_hamlet(store, "Xóm Đồng Tâm", "xóm")
        with pytest.raises(InvalidInput):
            with store.write():
                register.add_hamlet(store, "Xóm Đồng Kim", "xóm")
                register.add_hamlet(store, "Xóm Đồng Tâm", "xóm")  # a second one: refused
        assert len(tx.written) == 1  # the undone row is not in the history link either
    assert sorted(h["name"] for h in store.rows("hamlet")) == ["Xóm Đồng Tâm"]
    assert store.site.clock == 1


def test_an_escaping_failure_undoes_everything(store):
    with pytest.raises(RuntimeError):
        with store.write():
            register.add_hamlet(store, "Xóm Đồng Tâm", "xóm")
            raise RuntimeError("boom")
    assert store.rows("hamlet") == [] and store.site.clock == 0 and _history(store) == []
    register.add_hamlet(store, "Xóm Đồng Kim", "xóm")  # the connection is usable again
    assert store.site.clock == 1


@pytest.mark.durable
def test_two_processes_adding_a_team_to_one_hamlet_exactly_one_succeeds(cdt, commune):
    assert cdt("hamlet", "add", "Xóm Đồng Tâm", "--kind", "xóm").exit_code == 0
    # Each process stops for a while between the check and the insert: were the check outside
    # the write lock, both would pass it and two active teams would be stored.
    env = {**os.environ, "CDT_TEST_PAUSE": "add_team:1.5", "CDT_DB": str(commune)}
    command = [sys.executable, "-m", "cdt", "team", "add", "--hamlet", "Đồng Tâm"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outcomes = [(run.wait(timeout=60), run.stderr.read().decode()) for run in runs]
    assert sorted(code for code, _ in outcomes) == [0, 1], outcomes
    refused = next(err for code, err in outcomes if code)
    assert "đã có tổ đang hoạt động" in refused, refused  # the rule refused it, not a lock
    with Store.open(commune) as store:
        assert len([t for t in store.rows("team") if t["status"] == "active"]) == 1


def test_a_test_that_does_not_test_durability_commits_without_fsync(store):
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 0  # OFF: CDT_TEST_SYNC=off (conftest.py)


@pytest.mark.durable
def test_a_durable_test_commits_with_full_sync_as_clerks_do(store):
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
