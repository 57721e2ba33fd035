"""One file per unit: a second `cdt init` file of a commune is refused at the
district unless declared a replacement (`cdt merge --replaces`); then the commune's register comes
from the new file, the old file's visits up to the switch count once, and nothing is counted twice,
at the district and at the province."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from cdt.core.i18n import t

MONTH = "2026-10"


def ok(cdt, *args) -> str:
    result = cdt(*args)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def commune_file(cdt, path: Path, visits: int, hamlet: str = "Xóm Một") -> Path:
    ok(cdt, "--db", path, "init", "--commune", "05761", "--structure", "legacy")
    ok(cdt, "--db", path, "hamlet", "add", hamlet, "--kind", "xóm", "--households", "50")
    ok(cdt, "--db", path, "team", "add", "--hamlet", hamlet, "--decided-on", "01/06/2022")
    ok(cdt, "--db", path, "member", "add", "Hoàng Văn An", "--team", hamlet, "--role", "tổ trưởng")
    for i in range(visits):
        log_visit(cdt, path, f"H{i}", hamlet)
    return path


def log_visit(cdt, path: Path, household: str, hamlet: str = "Xóm Một") -> None:
    ok(cdt, "--db", path, "visit", "log", "--team", hamlet, "--household", household, "--people", "3",
       "--service", "dvc", "--date", "05/10/2026")


def pack(cdt, db: Path, out: Path) -> Path:
    return Path(ok(cdt, "--db", db, "pack", "--out", out).strip().splitlines()[-1])


def db_id(path: Path) -> str:
    return sqlite3.connect(path).execute("SELECT db_id FROM site").fetchone()[0]


def live_visits(*paths: Path) -> int:
    """The independent count: live visits in the commune files themselves."""
    return sum(sqlite3.connect(p).execute("SELECT count(*) FROM visit WHERE deleted = 0").fetchone()[0]
               for p in paths)


def district_row(cdt, district: Path) -> dict:
    report = json.loads(ok(cdt, "--db", district, "report", "--district", "--month", MONTH, "--format", "json"))
    [row] = [r for r in report["rows"] if r["unit"]["code"] == "05761"]
    return {"report": report, "row": row}


def test_second_file_refused_then_replaced_counts_once(cdt, tmp_path):
    old = commune_file(cdt, tmp_path / "old.db", visits=2)
    old_pack = pack(cdt, old, tmp_path / "p1")
    district = tmp_path / "district.db"
    ok(cdt, "--db", district, "init", "--district", "171")
    ok(cdt, "--db", district, "merge", old_pack)

    # A reinstall: `cdt init` again instead of `cdt extract`; the same hamlet typed in again.
    new = commune_file(cdt, tmp_path / "new.db", visits=1)
    new_pack = pack(cdt, new, tmp_path / "p2")
    refused = cdt("--db", district, "merge", new_pack)
    assert refused.exit_code == 1
    assert "cdt extract" in refused.stderr and f"--replaces {db_id(old)[:8]}" in refused.stderr
    assert t("merge.second_file").split("{")[0] in refused.stderr
    seen = district_row(cdt, district)
    assert seen["row"]["teams"] == 1
    [entry] = [e for e in seen["report"]["completeness"] if e["unit"]["code"] == "05761"]
    assert entry["second_file"] is True
    assert any("tệp thứ hai" in note for note in seen["report"]["notes"])
    status = json.loads(ok(cdt, "--db", district, "status", "--format", "json"))
    assert [f["db_id"] for f in status["second_files"]] == [db_id(new)]
    assert "tệp thứ hai" in ok(cdt, "--db", district, "status")

    # A wrong id is refused with a reason; the right one (8 characters suffice) is accepted.
    wrong = cdt("--db", district, "merge", new_pack, "--replaces", "00000000")
    assert wrong.exit_code == 1 and "--replaces 00000000" in wrong.stderr
    ok(cdt, "--db", district, "merge", new_pack, "--replaces", db_id(old)[:8])
    seen = district_row(cdt, district)
    assert seen["row"]["teams"] == 1 and seen["row"]["hamlets"] == 1 and seen["row"]["members"] == 1
    assert seen["row"]["visits"]["month"] == live_visits(old, new) == 3
    assert seen["row"]["people_helped"]["month"] == 9
    [entry] = [e for e in seen["report"]["completeness"] if e["unit"]["code"] == "05761"]
    assert entry["second_file"] is False

    # The old laptop goes on being used and sends a pack: its later visits are held, not counted.
    log_visit(cdt, old, "H9")
    later = pack(cdt, old, tmp_path / "p3")
    ok(cdt, "--db", district, "merge", later)
    assert district_row(cdt, district)["row"]["visits"]["month"] == 3

    status = json.loads(ok(cdt, "--db", district, "status", "--format", "json"))
    files = {o["db_id"]: o for o in status["origins"]}
    assert files[db_id(old)]["replaced_by"]["db_id"] == db_id(new) and not files[db_id(old)]["current"]
    assert files[db_id(new)]["replaces"] == [db_id(old)] and files[db_id(new)]["current"]
    assert status["second_files"] == []
    shown = ok(cdt, "--db", district, "status")
    assert db_id(old)[:8] in shown and db_id(new)[:8] in shown
    log = sqlite3.connect(district).execute("SELECT count(*) FROM merge_log WHERE outcome = 'replaces'").fetchone()
    assert log[0] == 1

    # Switching back (the old file replacing the new) would leave no current file: refused, unchanged.
    before = sqlite3.connect(district).execute("SELECT * FROM replacement").fetchall()
    back = cdt("--db", district, "merge", later, "--replaces", db_id(new)[:8])
    assert back.exit_code == 1 and "chỉ được thay một lần" in back.stderr
    assert sqlite3.connect(district).execute("SELECT * FROM replacement").fetchall() == before
    # A lost laptop now is recovered from the current file, never from the replaced one.
    ok(cdt, "--db", district, "extract", "--commune", "05761", "--out", tmp_path / "rebuilt.db")
    assert db_id(tmp_path / "rebuilt.db") == db_id(new)

    # One level up: the decision travels in the district's pack; the province counts the unit once.
    province = tmp_path / "province.db"
    ok(cdt, "--db", province, "init", "--province", "legacy:19")
    ok(cdt, "--db", province, "merge", pack(cdt, district, tmp_path / "p4"))
    report = json.loads(ok(cdt, "--db", province, "report", "--month", MONTH, "--format", "json"))
    assert report["total"]["teams"] == 1 and report["total"]["visits"]["month"] == 3


def test_replacement_decision_travels_and_holds_whatever_the_order(cdt, tmp_path):
    """At the province, the old file's later pack arriving before or after the district's decision
    gives the same figures (merge stays commutative)."""
    old = commune_file(cdt, tmp_path / "old.db", visits=2)
    old_pack = pack(cdt, old, tmp_path / "p1")
    new = commune_file(cdt, tmp_path / "new.db", visits=1)
    new_pack = pack(cdt, new, tmp_path / "p2")
    district = tmp_path / "district.db"
    ok(cdt, "--db", district, "init", "--district", "171")
    ok(cdt, "--db", district, "merge", old_pack)
    ok(cdt, "--db", district, "merge", new_pack, "--replaces", db_id(old))
    district_pack = pack(cdt, district, tmp_path / "p3")
    log_visit(cdt, old, "H9")
    later = pack(cdt, old, tmp_path / "p4")

    figures = []
    for order, name in (((district_pack, later), "a.db"), ((later, district_pack), "b.db")):
        province = tmp_path / name
        ok(cdt, "--db", province, "init", "--province", "legacy:19")
        for path in order:
            ok(cdt, "--db", province, "merge", path)
        report = json.loads(ok(cdt, "--db", province, "report", "--month", MONTH, "--format", "json"))
        figures.append((report["total"]["teams"], report["total"]["visits"]["month"]))
        conn = sqlite3.connect(province)
        figures.append(sorted(conn.execute("SELECT id, rev FROM visit")))
    assert figures[0] == figures[2] == (1, 3)
    assert figures[1] == figures[3]
