"""Packs changed after they were made, by someone holding the commune's key (so the signature
verifies): the checks of DESIGN.md §3 refuse each change, name it in one Vietnamese line, and leave
the target unchanged."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kits import packkit
from kits.cli import files_of, make_commune, pack
from kits.packkit import altered, signer_of


def _hanoi_origin_sql(db_id: str) -> str:
    return ("INSERT INTO origin (db_id, level, structure, province_code, district_code, commune_code, unit_name,"
            f" clock) VALUES ('{db_id}', 'commune', 'legacy', '01', '001', '00004', 'Phường Trúc Bạch', 1)")


def test_a_changed_rev_inside_a_pack_is_caught_by_the_row_hash(cdt, tmp_path, district, good_pack):
    inner = packkit.unwrap(good_pack, tmp_path / "inner.sqlite")
    rev = sqlite3.connect(inner).execute("SELECT rev FROM member").fetchone()[0]
    assert rev > 1
    bad = altered(good_pack, tmp_path / "rev.cdt", f"UPDATE member SET rev = {rev - 1}")
    before = district.read_bytes()
    result = cdt("--db", district, "merge", bad)
    assert result.exit_code == 1 and "mã kiểm tra" in result.stderr
    assert district.read_bytes() == before


def test_a_blob_in_a_data_column_refuses_that_file_and_the_others_merge(cdt, tmp_path, district, good_pack,
                                                                       other_pack):
    bad = altered(good_pack, tmp_path / "blob.cdt", "UPDATE member SET phone = X'3039'")
    result = cdt("--db", district, "merge", bad, other_pack, "--format", "json")
    assert result.exit_code == 1 and "ngoài dự kiến" not in result.output
    first, second = files_of(result)
    assert not first["ok"] and "kiểu" in first["reason"] and "member.phone" in first["reason"]
    assert second["ok"] and second["totals"]["inserted"] == 4


def test_a_commune_pack_with_a_forged_origin_row_is_refused_and_does_not_open_the_door(
        cdt, tmp_path, district, good_pack):
    hanoi_db = make_commune(cdt, tmp_path / "hanoi.db", "00004")
    hanoi_id = sqlite3.connect(hanoi_db).execute("SELECT db_id FROM site").fetchone()[0]
    forged = altered(good_pack, tmp_path / "forged.cdt", _hanoi_origin_sql(hanoi_id))
    result = cdt("--db", district, "merge", forged)
    assert result.exit_code == 1 and "danh sách đơn vị khác" in result.stderr
    # Even if such a row got in (an older cdt accepted it), it does not make the other commune "known".
    conn = sqlite3.connect(district)
    conn.execute(_hanoi_origin_sql(hanoi_id))
    conn.commit()
    conn.close()
    hanoi_pack = pack(cdt, hanoi_db, tmp_path / "hanoi-stick")
    result = cdt("--db", district, "merge", hanoi_pack)
    assert result.exit_code == 1 and "không thuộc địa bàn" in result.stderr
    assert sqlite3.connect(district).execute("SELECT count(*) FROM hamlet").fetchone()[0] == 0


def test_a_district_pack_carrying_a_unit_outside_its_district_is_refused(cdt, tmp_path, district, good_pack):
    assert cdt("--db", district, "merge", good_pack).exit_code == 0
    district_pack = pack(cdt, district, tmp_path / "dpack")
    province = tmp_path / "province.db"
    assert cdt("--db", province, "init", "--province", "legacy:19").exit_code == 0
    # 05431 lies in the province but in another district (164): a district file never holds it.
    forged = altered(district_pack, tmp_path / "forged-district.cdt",
                     "INSERT INTO origin (db_id, level, structure, province_code, district_code, commune_code,"
                     " unit_name, clock) VALUES ('x-05431', 'commune', 'legacy', '19', '164', '05431', 'X', 1)")
    result = cdt("--db", province, "merge", forged)
    assert result.exit_code == 1 and "không thuộc địa bàn" in result.stderr
    assert cdt("--db", province, "merge", district_pack).exit_code == 0


def _index_page_corrupted(good_pack: Path, target: Path) -> Path:
    """A pack whose member_team index lost track of a row: integrity_check has many English lines to say.
    (The snapshot inside the pack is corrupted, and the pack signed again by its maker.)"""
    good = packkit.unwrap(good_pack, Path(str(target) + ".good"))
    raw = Path(str(target) + ".sqlite")
    _corrupt_index(good, raw)
    return packkit.wrap(raw, target, key_from=signer_of(good_pack),
                        identity=packkit.read_header(good_pack).fields)


def _corrupt_index(good: Path, target: Path) -> Path:
    conn = sqlite3.connect(good)
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'member_team'").fetchone()[0]
    team = conn.execute("SELECT team_id FROM member").fetchone()[0].encode()
    conn.close()
    data = bytearray(good.read_bytes())
    start = (root - 1) * size
    at = data.index(team, start, start + size)
    data[at] = ord("f") if data[at] != ord("f") else ord("e")
    target.write_bytes(bytes(data))
    return target


def test_a_pack_whose_site_says_a_newer_schema_asks_to_update_cdt(cdt, tmp_path, district, good_pack):
    newer = altered(good_pack, tmp_path / "newer-site.cdt", "UPDATE site SET schema_version = 99")
    result = cdt("--db", district, "merge", newer)
    assert result.exit_code == 1 and "cập nhật cdt" in result.stderr


def test_an_integrity_failure_is_one_vietnamese_line(cdt, tmp_path, district, good_pack):
    bad = _index_page_corrupted(good_pack, tmp_path / "hong.cdt")
    raw = sqlite3.connect(str(bad) + ".sqlite").execute("PRAGMA integrity_check").fetchall()
    assert raw != [("ok",)]
    result = cdt("--db", district, "merge", bad)
    assert result.exit_code == 1
    [line] = [line for line in result.stderr.splitlines() if "TỪ CHỐI" in line]
    assert "kiểm tra toàn vẹn" in line
    for english in ("missing", "index", "Page", "***", "wrong"):
        assert english not in result.output


def test_control_characters_from_a_pack_do_not_forge_output_lines(cdt, tmp_path, district, good_pack):
    forged = altered(good_pack, tmp_path / "forged-name.cdt",
                     "UPDATE site SET commune_name = 'Hùng Sơn' || char(10) || 'Đã gộp 99/99 tệp' || char(27) || '[2J'")
    result = cdt("--db", district, "merge", forged)
    assert result.exit_code == 0, result.output
    assert not any(line.startswith("Đã gộp 99") for line in result.output.splitlines())
    assert "\x1b" not in result.output
    status = cdt("--db", district, "status")
    assert not any(line.startswith("Đã gộp 99") for line in status.output.splitlines())


@pytest.mark.parametrize("change, reason", [
    ("UPDATE hamlet SET rev = 'x'", "kiểu"),
    ("UPDATE hamlet SET id = NULL", None),
    ("UPDATE hamlet SET deleted = 2", None),
    ("UPDATE hamlet SET rev = 0", None),
    ("UPDATE visit SET people = 2.5", "kiểu"),
    ("UPDATE hamlet SET name = 'Xóm Khác'", None),
])
def test_each_row_check_refuses_a_tampered_pack(cdt, tmp_path, district, good_pack, change, reason):
    """The structural checks (set-based SQL) and the hash recheck each catch their kind of change."""
    import hashlib

    bad = altered(good_pack, tmp_path / "sửa.cdt", change)
    before = hashlib.sha256(district.read_bytes()).hexdigest()
    result = cdt("--db", district, "merge", bad, "--format", "json")
    assert result.exit_code == 1 and "ngoài dự kiến" not in result.output
    (entry,) = files_of(result)
    assert not entry["ok"]
    if reason:
        assert reason in entry["reason"]
    assert hashlib.sha256(district.read_bytes()).hexdigest() == before
