"""No unit writes another unit's figures: keys pinned wherever rows arrive, no reference into another
unit, absorbed old files only whole and only once, divided communes counted part by part."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from cdt.core.i18n import t
from kits import packkit
from kits.cli import ok, pack, rows


def _commune(cdt, path: Path, code: str, hamlets=("Xóm A",), structure: str = "legacy") -> Path:
    ok(cdt("--db", path, "init", "--commune", code, "--structure", structure))
    for hamlet in hamlets:
        ok(cdt("--db", path, "hamlet", "add", hamlet, "--kind", "xóm", "--households", "40"))
        ok(cdt("--db", path, "team", "add", "--hamlet", hamlet))
    return path


def _visit(cdt, db: Path, hamlet: str, household: str, people: int, day: str = "05") -> None:
    ok(cdt("--db", db, "visit", "log", "--team", hamlet, "--household", household, "--people", str(people),
           "--service", "vneid", "--date", f"{day}/10/2026"))


def _row(cdt, db: Path, code: str, level: str = "--province") -> dict:
    report = json.loads(ok(cdt("--db", db, "report", level, "--month", "2026-10", "--format", "json")).stdout)
    return next(r for r in report.get("commune_rows") or report["rows"] if r["unit"]["code"] == code)


def _sha(path: Path) -> bytes:
    return path.read_bytes()


# -- keys ---------------------------------------------------------------------------------------------


def test_a_commune_known_through_its_district_cannot_be_impersonated_at_the_province(cdt, tmp_path):
    commune = _commune(cdt, tmp_path / "c.db", "05761")
    _visit(cdt, commune, "Xóm A", "HH-1", 3)
    district, province = tmp_path / "d.db", tmp_path / "p.db"
    ok(cdt("--db", district, "init", "--district", "171"))
    ok(cdt("--db", province, "init", "--province", "legacy:19"))
    ok(cdt("--db", district, "merge", pack(cdt, commune, tmp_path / "u1")))
    ok(cdt("--db", province, "merge", pack(cdt, district, tmp_path / "ud")))
    # The province pinned the commune's key from the district's pack.
    carried = rows(province, "SELECT how FROM pinned_key WHERE level = 'commune' AND unit_code = '05761'")
    assert carried == [("carried",)]
    # A forger: a fresh file given the commune's file id (printed in every pack header).
    victim = rows(commune, "SELECT db_id FROM site")[0][0]
    forger = _commune(cdt, tmp_path / "x.db", "05761", hamlets=("Xóm Giả",))
    conn = sqlite3.connect(forger)
    conn.execute("UPDATE site SET db_id = ?, clock = 1000", (victim,))
    conn.commit()
    conn.close()
    for household in ("FK-1", "FK-2"):
        _visit(cdt, forger, "Xóm Giả", household, 50)
    before = _sha(province)
    result = cdt("--db", province, "merge", pack(cdt, forger, tmp_path / "ux"))
    assert result.exit_code == 1
    assert "Thị trấn Hùng Sơn (05761)" in result.stderr and "cdt key accept" in result.stderr, result.stderr
    assert _sha(province) == before
    assert _row(cdt, province, "05761")["visits"]["month"] == 1


def test_a_unit_known_here_without_a_key_is_not_trusted_on_first_use(cdt, tmp_path):
    commune = _commune(cdt, tmp_path / "c.db", "05761")
    district, province = tmp_path / "d.db", tmp_path / "p.db"
    ok(cdt("--db", district, "init", "--district", "171"))
    ok(cdt("--db", province, "init", "--province", "legacy:19"))
    ok(cdt("--db", district, "merge", pack(cdt, commune, tmp_path / "u1")))
    ok(cdt("--db", province, "merge", pack(cdt, district, tmp_path / "ud")))
    conn = sqlite3.connect(province)  # as a province that merged the district before keys travelled
    conn.execute("DELETE FROM pinned_key WHERE level = 'commune'")
    conn.commit()
    conn.close()
    before = _sha(province)
    result = cdt("--db", province, "merge", pack(cdt, commune, tmp_path / "u2"))
    assert result.exit_code == 1
    assert t("keys.known_unpinned", name="Thị trấn Hùng Sơn", code="05761") in result.stderr
    assert _sha(province) == before


# -- references ---------------------------------------------------------------------------------------


def test_a_pack_pointing_into_another_communes_rows_is_refused_naming_both(cdt, tmp_path):
    a = _commune(cdt, tmp_path / "a.db", "05761", hamlets=("Xóm A2",))
    ok(cdt("--db", a, "hamlet", "add", "Xóm A1", "--kind", "xóm", "--households", "40"))  # no team yet
    b = _commune(cdt, tmp_path / "b.db", "05767", hamlets=("Xóm B1",))
    district = tmp_path / "d.db"
    ok(cdt("--db", district, "init", "--district", "171"))
    ok(cdt("--db", district, "merge", pack(cdt, a, tmp_path / "ua")))
    theirs = rows(a, "SELECT id FROM hamlet WHERE name = 'Xóm A1'")[0][0]
    good = pack(cdt, b, tmp_path / "ub")

    def point_at_a(snapshot: Path) -> None:
        from cdt.core.rows import row_hash

        conn = sqlite3.connect(snapshot)
        conn.row_factory = sqlite3.Row
        hamlet = dict(conn.execute("SELECT * FROM hamlet").fetchone())
        old = hamlet["id"]
        hamlet.update(id=theirs)
        hamlet["hash"] = row_hash("hamlet", hamlet)
        conn.execute("UPDATE hamlet SET id = ?, hash = ? WHERE id = ?", (theirs, hamlet["hash"], old))
        for team in [dict(r) for r in conn.execute("SELECT * FROM team")]:
            team["hamlet_id"] = theirs
            conn.execute("UPDATE team SET hamlet_id = ?, hash = ? WHERE id = ?",
                         (theirs, row_hash("team", team), team["id"]))
        conn.commit()
        conn.close()

    bad = packkit.rewrap(good, tmp_path / "bad.cdt", b, point_at_a)
    before = _sha(district)
    result = cdt("--db", district, "merge", bad)
    assert result.exit_code == 1
    assert "Xã Phúc Lương (05767)" in result.stderr and "Thị trấn Hùng Sơn (05761)" in result.stderr
    assert "bảng team" in result.stderr and "cột hamlet_id" in result.stderr
    assert _sha(district) == before


# -- absorbed and divided old communes ------------------------------------------------------------------


def _old_commune(cdt, tmp_path: Path, name: str = "X.db") -> Path:
    """Old commune 00007 (Phường Cống Vị), divided in 2025 between 00008 and 00025, two hamlets."""
    old = _commune(cdt, tmp_path / name, "00007", hamlets=("Thôn Một", "Thôn Hai"))
    for day in ("01", "02", "03"):
        _visit(cdt, old, "Thôn Một", f"HH-{day}", 2, day)
        _visit(cdt, old, "Thôn Hai", f"HK-{day}", 3, day)
    return old


def test_a_divided_commune_is_taken_in_parts_and_counted_once_under_each_successor(cdt, tmp_path):
    old = _old_commune(cdt, tmp_path)
    copy = tmp_path / "X-copy.db"
    copy.write_bytes(old.read_bytes())
    first, second = tmp_path / "n1.db", tmp_path / "n2.db"
    refused = cdt("--db", first, "init", "--commune", "00008", "--from", old)
    assert refused.exit_code == 1 and "--hamlet" in refused.stderr and not first.exists()
    ok(cdt("--db", first, "init", "--commune", "00008", "--from", old, "--hamlet", "thon mot"))
    ok(cdt("--db", second, "init", "--commune", "00025", "--from", copy, "--hamlet", "Thôn Hai"))
    packs = [pack(cdt, first, tmp_path / "u1"), pack(cdt, second, tmp_path / "u2")]
    for order in (packs, packs[::-1]):
        province = tmp_path / f"p-{order[0].parent.name}.db"
        ok(cdt("--db", province, "init", "--province", "01", "--structure", "2025"))
        ok(cdt("--db", province, "merge", *order))
        assert (_row(cdt, province, "00008")["visits"]["month"], _row(cdt, province, "00008")["people_helped"]["month"]) == (3, 6)
        assert (_row(cdt, province, "00025")["visits"]["month"], _row(cdt, province, "00025")["people_helped"]["month"]) == (3, 9)
        assert _row(cdt, province, "00008")["hamlets"] == _row(cdt, province, "00025")["hamlets"] == 1


def test_two_successors_claiming_one_hamlet_are_refused_naming_both(cdt, tmp_path):
    old = _old_commune(cdt, tmp_path)
    copy = tmp_path / "X-copy.db"
    copy.write_bytes(old.read_bytes())
    first, second = tmp_path / "n1.db", tmp_path / "n2.db"
    ok(cdt("--db", first, "init", "--commune", "00008", "--from", old, "--hamlet", "Thôn Một"))
    ok(cdt("--db", second, "init", "--commune", "00025", "--from", copy, "--hamlet", "Thôn Một",
           "--hamlet", "Thôn Hai"))
    province = tmp_path / "p.db"
    ok(cdt("--db", province, "init", "--province", "01", "--structure", "2025"))
    ok(cdt("--db", province, "merge", pack(cdt, first, tmp_path / "u1")))
    before = _sha(province)
    result = cdt("--db", province, "merge", pack(cdt, second, tmp_path / "u2"))
    assert result.exit_code == 1
    assert "Phường Giảng Võ (00025)" in result.stderr and "Phường Ngọc Hà (00008)" in result.stderr
    assert _sha(province) == before


def test_a_successor_that_took_an_older_copy_is_told_what_it_lacks(cdt, tmp_path):
    old = _old_commune(cdt, tmp_path)
    copy = tmp_path / "X-copy.db"
    copy.write_bytes(old.read_bytes())
    _visit(cdt, old, "Thôn Hai", "HK-09", 4, "09")  # written after the copy was handed over
    first, second = tmp_path / "n1.db", tmp_path / "n2.db"
    ok(cdt("--db", first, "init", "--commune", "00008", "--from", old, "--hamlet", "Thôn Một"))
    ok(cdt("--db", second, "init", "--commune", "00025", "--from", copy, "--hamlet", "Thôn Hai"))
    province = tmp_path / "p.db"
    ok(cdt("--db", province, "init", "--province", "01", "--structure", "2025"))
    ok(cdt("--db", province, "merge", pack(cdt, second, tmp_path / "u2")))
    merged = json.loads(ok(cdt("--db", province, "merge", pack(cdt, first, tmp_path / "u1"),
                               "--format", "json")).stdout)
    notes = [n["key"] for f in merged["files"] for n in f["notes"]]
    assert notes == ["merge.older_part"]
    clocks = rows(old, "SELECT clock FROM site")[0][0], rows(copy, "SELECT clock FROM site")[0][0]
    text = merged["files"][0]["notes"][0]["text"]
    assert f"đến lần ghi {clocks[1]}" in text and f"đến lần ghi {clocks[0]}" in text and "Phường Giảng Võ" in text


def test_a_claim_on_an_old_file_without_its_data_is_refused(cdt, tmp_path):
    """A 2025 commune's pack saying it absorbed an old commune's file, carrying none of its writes
    (which would hide that file's rows at the province), is refused."""
    honest = _commune(cdt, tmp_path / "n.db", "24175", hamlets=("Thôn Một",), structure="2025")
    old = _commune(cdt, tmp_path / "hp.db", "24172")
    old_id, old_clock = rows(old, "SELECT db_id, clock FROM site")[0]
    good = pack(cdt, honest, tmp_path / "u")
    new_id = rows(honest, "SELECT db_id FROM site")[0][0]

    def claim(snapshot: Path) -> None:
        conn = sqlite3.connect(snapshot)
        conn.execute("INSERT INTO origin (db_id, level, structure, province_code, district_code, commune_code,"
                     " unit_name, clock) VALUES (?, 'commune', 'legacy', '66', '643', '24172', 'Xã Hòa Phú', ?)",
                     (old_id, old_clock))
        conn.execute("INSERT INTO replacement (old_db_id, new_db_id, level, unit_code, switch_clock, decided_at)"
                     " VALUES (?, ?, 'commune', '24172', ?, '2026-12-01T00:00:00')", (old_id, new_id, old_clock))
        conn.commit()
        conn.close()

    bad = packkit.rewrap(good, tmp_path / "claim.cdt", honest, claim)
    province = tmp_path / "p.db"
    ok(cdt("--db", province, "init", "--province", "66", "--structure", "2025"))
    before = _sha(province)
    result = cdt("--db", province, "merge", bad)
    assert result.exit_code == 1
    assert t("merge.absorbed_without_data", name="Xã Hòa Phú", code="24172") in result.stderr
    assert _sha(province) == before


def test_a_re_made_regrouped_file_replacing_the_first_counts_its_own_register(cdt, tmp_path):
    """The clerk made the 2025 commune again from the same old files; the province takes the new file
    with --replaces: the old files' registers count once, through the new file, and both agree."""
    olds = []
    for code, name in (("24172", "hp"), ("24175", "hk")):
        made = _commune(cdt, tmp_path / f"{name}.db", code, hamlets=(f"Thôn {name}",))
        _visit(cdt, made, f"Thôn {name}", "HH-1", 2, "01")
        olds.append(made)
    backups = [p.read_bytes() for p in olds]
    first = tmp_path / "n.db"
    ok(cdt("--db", first, "init", "--commune", "24175", "--from", olds[0], "--from", olds[1]))
    province = tmp_path / "p.db"
    ok(cdt("--db", province, "init", "--province", "66", "--structure", "2025"))
    ok(cdt("--db", province, "merge", pack(cdt, first, tmp_path / "u1")))
    for path, data in zip(olds, backups):  # the old files were never retired (a crash): used again
        path.write_bytes(data)
    _visit(cdt, olds[0], "Thôn hp", "HH-2", 3, "02")
    again = tmp_path / "n2.db"
    ok(cdt("--db", again, "init", "--commune", "24175", "--from", olds[0], "--from", olds[1]))
    old_id = rows(first, "SELECT db_id FROM site")[0][0][:8]
    ok(cdt("--db", province, "merge", pack(cdt, again, tmp_path / "u2"), "--replaces", old_id))
    mine = json.loads(ok(cdt("--db", again, "report", "--month", "2026-10", "--format", "json")).stdout)["total"]
    theirs = _row(cdt, province, "24175")
    for key in ("hamlets", "teams", "households"):
        assert theirs[key] == mine[key], key
    assert theirs["visits"]["month"] == mine["visits"]["month"] == 3
    assert theirs["people_helped"]["month"] == mine["people_helped"]["month"] == 7
