"""A fork (one commune file copied to two laptops, both used) through the CLI: held, listed, resolved."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from test_merge import make_commune, pack


def _hamlets(db: Path) -> dict:
    conn = sqlite3.connect(db)
    try:
        return {row[0]: row[1] for row in conn.execute("SELECT name, households FROM hamlet WHERE deleted = 0")}
    finally:
        conn.close()


def forked_packs(cdt, tmp_path) -> tuple[Path, Path]:
    laptop1 = make_commune(cdt, tmp_path / "laptop1.db", "05761")
    laptop2 = tmp_path / "laptop2.db"
    shutil.copyfile(laptop1, laptop2)
    assert cdt("--db", laptop1, "hamlet", "edit", "Xóm Một", "--households", "60").exit_code == 0
    assert cdt("--db", laptop1, "hamlet", "add", "Xóm Máy Một", "--kind", "xóm").exit_code == 0
    assert cdt("--db", laptop2, "hamlet", "edit", "Xóm Một", "--households", "70").exit_code == 0
    assert cdt("--db", laptop2, "hamlet", "add", "Xóm Máy Hai", "--kind", "xóm").exit_code == 0
    return pack(cdt, laptop1, tmp_path / "stick1"), pack(cdt, laptop2, tmp_path / "stick2")


def district(cdt, path: Path) -> Path:
    assert cdt("--db", path, "init", "--district", "171").exit_code == 0
    return path


def test_a_fork_is_held_listed_and_resolved_the_same_whatever_the_order(cdt, tmp_path):
    one, two = forked_packs(cdt, tmp_path)
    a, b = district(cdt, tmp_path / "a.db"), district(cdt, tmp_path / "b.db")
    assert cdt("--db", a, "merge", one, two).exit_code == 0
    result = cdt("--db", b, "merge", two, one)
    assert result.exit_code == 0 and "conflicts list" in result.stdout
    # Same branch kept whichever pack came first; the other is held, nothing overwritten.
    kept = _hamlets(a)
    assert kept == _hamlets(b)
    assert len(kept) == 2 and kept["Xóm Một"] in (60, 70)
    listed = json.loads(cdt("--db", a, "conflicts", "list", "--format", "json").stdout)
    assert len(listed) == 1 and listed[0]["kind"] == "fork" and listed[0]["rows"] == 2
    shown = cdt("--db", a, "conflicts", "show", str(listed[0]["id"]))
    assert shown.exit_code == 0
    loser_count = 70 if kept["Xóm Một"] == 60 else 60
    assert str(loser_count) in shown.stdout and str(kept["Xóm Một"]) in shown.stdout
    table = cdt("--db", a, "conflicts", "list")
    assert "rẽ nhánh" in table.stdout
    # Take theirs on both districts: the same result, the other branch now held.
    for db in (a, b):
        [entry] = json.loads(cdt("--db", db, "conflicts", "list", "--format", "json").stdout)
        done = cdt("--db", db, "conflicts", "resolve", str(entry["id"]), "--keep", "theirs")
        assert done.exit_code == 0, done.output
    switched = _hamlets(a)
    assert switched == _hamlets(b) and switched["Xóm Một"] == loser_count and switched != kept
    assert json.loads(cdt("--db", a, "conflicts", "list", "--format", "json").stdout) == []
    everything = json.loads(cdt("--db", a, "conflicts", "list", "--all", "--format", "json").stdout)
    # The taken branch keeps its number (marked taken); the branch set aside is listed as replaced.
    assert {e["resolution"] for e in everything} == {"theirs", "replaced"}
    assert [e["id"] for e in everything if e["resolution"] == "theirs"] == [entry["id"]]
    # Merging both packs again changes nothing: the choice sticks.
    again = cdt("--db", a, "merge", one, two)
    assert again.exit_code == 0 and _hamlets(a) == switched
    log = sqlite3.connect(a).execute("SELECT reason FROM merge_log WHERE outcome = 'resolved'").fetchall()
    assert log == [("fork keep theirs",)]


def test_keep_ours_settles_a_fork_and_later_packs_of_the_other_branch_stay_held(cdt, tmp_path):
    one, two = forked_packs(cdt, tmp_path)
    a = district(cdt, tmp_path / "a.db")
    assert cdt("--db", a, "merge", one, two).exit_code == 0
    before = _hamlets(a)
    [entry] = json.loads(cdt("--db", a, "conflicts", "list", "--format", "json").stdout)
    assert cdt("--db", a, "conflicts", "resolve", str(entry["id"]), "--keep", "ours").exit_code == 0
    assert json.loads(cdt("--db", a, "conflicts", "list", "--format", "json").stdout) == []
    assert _hamlets(a) == before
    # The set-aside laptop goes on working and packs again: still held, already decided.
    loser = tmp_path / ("laptop2.db" if before["Xóm Một"] == 60 else "laptop1.db")
    assert cdt("--db", loser, "hamlet", "add", "Xóm Muộn", "--kind", "xóm").exit_code == 0
    later = pack(cdt, loser, tmp_path / "stick3")
    result = json.loads(cdt("--db", a, "merge", later, "--format", "json").stdout)
    assert result["files"][0]["totals"]["conflicts"] >= 1
    assert _hamlets(a) == before
    assert json.loads(cdt("--db", a, "conflicts", "list", "--format", "json").stdout) == []


def test_unknown_conflict_and_bad_keep(cdt, tmp_path):
    a = district(cdt, tmp_path / "a.db")
    missing = cdt("--db", a, "conflicts", "show", "42")
    assert missing.exit_code == 1 and "42" in missing.stderr
    bad = cdt("--db", a, "conflicts", "resolve", "1", "--keep", "both")
    assert bad.exit_code == 2
