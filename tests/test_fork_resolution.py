"""Resolving a fork keeps every row, respects a replaced file's switch, travels up, and erases what
its file erased. A fork's default branch depends on the two chains, so each test looks at which
branch won and resolves to the other."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from kits.cli import ok, pack, rows

HAMLET = "Xóm A"


def _commune(cdt, path: Path) -> Path:
    ok(cdt("--db", path, "init", "--commune", "05761", "--structure", "legacy"))
    ok(cdt("--db", path, "hamlet", "add", HAMLET, "--kind", "xóm"))
    ok(cdt("--db", path, "team", "add", "--hamlet", HAMLET))
    return path


def _visit(cdt, db: Path, household: str, people: int, day: str) -> None:
    ok(cdt("--db", db, "visit", "log", "--team", HAMLET, "--household", household, "--people", str(people),
           "--service", "vneid", "--date", f"{day}/10/2026"))


def _visits(db: Path) -> list[tuple]:
    return rows(db, "SELECT household, people FROM visit WHERE deleted = 0 ORDER BY household")


def _report(cdt, db: Path, *level: str) -> tuple[int, int]:
    total = json.loads(ok(cdt("--db", db, "report", *level, "--month", "2026-10", "--format", "json")).stdout)["total"]
    return total["visits"]["month"], total["people_helped"]["month"]


def _fork(cdt, tmp_path):
    """A commune file copied to a second laptop; each laptop writes its own way afterwards."""
    one = _commune(cdt, tmp_path / "laptop1.db")
    _visit(cdt, one, "HH-1", 4, "05")
    two = tmp_path / "laptop2.db"
    shutil.copyfile(one, two)
    return one, two


def _lost(db: Path, losers: dict) -> str:
    """Which laptop lost the fork at this file: the one whose marker row is not live."""
    live = {h for h, _ in _visits(db)}
    found = [name for name, marker in losers.items() if marker not in live]
    assert len(found) == 1, (live, losers)
    return found[0]


def test_taking_the_other_branch_keeps_a_row_changed_only_on_the_one_set_aside(cdt, tmp_path):
    """Each laptop corrects a different visit recorded before the copy: whichever branch is taken, the
    visit only the other laptop corrected comes back as it was before the fork."""
    one = _commune(cdt, tmp_path / "laptop1.db")
    _visit(cdt, one, "HH-1", 4, "05")
    _visit(cdt, one, "HH-3", 3, "06")
    two = tmp_path / "laptop2.db"
    shutil.copyfile(one, two)
    first, third = (row[0][-8:] for row in rows(one, "SELECT id FROM visit ORDER BY household"))
    ok(cdt("--db", one, "visit", "edit", first, "--people", "9"))      # laptop 1 corrects HH-1
    _visit(cdt, one, "HH-5", 5, "07")
    ok(cdt("--db", two, "visit", "edit", third, "--people", "8"))      # laptop 2 corrects HH-3
    _visit(cdt, two, "HH-2", 2, "08")
    district = tmp_path / "district.db"
    ok(cdt("--db", district, "init", "--district", "171"))
    cdt("--db", district, "merge", pack(cdt, one, tmp_path / "u1"), pack(cdt, two, tmp_path / "u2"))
    lost = _lost(district, {"one": "HH-5", "two": "HH-2"})
    ok(cdt("--db", district, "conflicts", "resolve", "1", "--keep", "theirs"))
    chosen = two if lost == "two" else one
    assert _visits(district) == _visits(chosen)
    assert _report(cdt, district, "--district") == _report(cdt, chosen)


def test_taking_a_held_branch_of_a_replaced_file_restores_nothing_written_after_the_switch(cdt, tmp_path):
    one, two = _fork(cdt, tmp_path)
    _visit(cdt, one, "HH-5", 5, "07")
    _visit(cdt, two, "HH-2", 2, "06")
    district = tmp_path / "district.db"
    ok(cdt("--db", district, "init", "--district", "171"))
    cdt("--db", district, "merge", pack(cdt, one, tmp_path / "u1"), pack(cdt, two, tmp_path / "u2"))
    lost = _lost(district, {"one": "HH-5", "two": "HH-2"})
    held = two if lost == "two" else one
    old = rows(one, "SELECT db_id FROM site")[0][0][:8]
    new = _commune(cdt, tmp_path / "new.db")                            # a new file for the commune
    ok(cdt("--db", district, "merge", pack(cdt, new, tmp_path / "un"), "--replaces", old))
    before = _visits(held)
    for day in ("11", "12", "13"):                                     # the held laptop goes on writing
        _visit(cdt, held, f"HH-7{day}", 9, day)
    cdt("--db", district, "merge", pack(cdt, held, tmp_path / "late"))
    ok(cdt("--db", district, "conflicts", "resolve", "1", "--keep", "theirs"))
    assert _visits(district) == before


def test_a_districts_choice_travels_to_the_province(cdt, tmp_path):
    one, two = _fork(cdt, tmp_path)
    _visit(cdt, one, "HH-5", 5, "07")
    _visit(cdt, two, "HH-2", 2, "06")
    district, province = tmp_path / "district.db", tmp_path / "province.db"
    ok(cdt("--db", district, "init", "--district", "171"))
    ok(cdt("--db", province, "init", "--province", "legacy:19"))
    cdt("--db", district, "merge", pack(cdt, one, tmp_path / "u1"), pack(cdt, two, tmp_path / "u2"))
    ok(cdt("--db", province, "merge", pack(cdt, district, tmp_path / "d1")))
    ok(cdt("--db", district, "conflicts", "resolve", "1", "--keep", "theirs"))
    ok(cdt("--db", province, "merge", pack(cdt, district, tmp_path / "d2")))
    assert _visits(province) == _visits(district)
    assert rows(province, "SELECT origin, fork_rev, chain FROM branch_choice") == \
        rows(district, "SELECT origin, fork_rev, chain FROM branch_choice")
    assert _report(cdt, province, "--province") == _report(cdt, district, "--district")


def test_a_member_erased_at_the_commune_is_erased_in_the_held_branch_and_never_packed(cdt, tmp_path):
    one = _commune(cdt, tmp_path / "laptop1.db")
    ok(cdt("--db", one, "member", "add", "Trần Thị Riêng Tư", "--team", HAMLET, "--phone", "0987654321",
           "--birth-year", "1985"))
    two = tmp_path / "laptop2.db"
    shutil.copyfile(one, two)
    member = rows(one, "SELECT id FROM member")[0][0][-8:]
    _visit(cdt, one, "HH-1", 1, "01")
    ok(cdt("--db", two, "member", "edit", member, "--phone", "0987000111"))
    district = tmp_path / "district.db"
    ok(cdt("--db", district, "init", "--district", "171"))
    cdt("--db", district, "merge", pack(cdt, one, tmp_path / "u1"), pack(cdt, two, tmp_path / "u2"))
    lost = "two" if rows(district, "SELECT phone FROM member")[0][0] == "0987654321" else "one"
    winner = one if lost == "two" else two
    ok(cdt("--db", winner, "member", "remove", member, "--yes"))
    ok(cdt("--db", district, "merge", pack(cdt, winner, tmp_path / "u3")))
    held = rows(district, "SELECT row_data, deleted FROM conflict WHERE table_name = 'member'")
    assert held and all(json.loads(data)["phone"] is None and json.loads(data)["full_name"] == "" and deleted
                        for data, deleted in held)
    packed = pack(cdt, district, tmp_path / "ud")
    province = tmp_path / "province.db"
    ok(cdt("--db", province, "init", "--province", "legacy:19"))
    ok(cdt("--db", province, "merge", packed))
    for path in (district, province):
        text = path.read_bytes()
        assert "Riêng Tư".encode() not in text and b"0987" not in text, path
    assert rows(province, "SELECT count(*) FROM conflict") == [(0,)]
