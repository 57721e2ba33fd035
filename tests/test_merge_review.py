"""Regressions found in review of merge, pack, conflicts and extract (one test per defect)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

import packkit
# The district file and a commune pack are the same fixtures as the main merge tests'.
from test_merge import district, good_pack, make_commune, pack  # noqa: F401


def signer_of(pack_path: Path) -> Path:
    """The file that made a pack (the tests keep their .db files in tmp_path, two levels above)."""
    wanted = packkit.read_header(pack_path).db_id
    for db in pack_path.parent.parent.glob("*.db"):
        if packkit.identity_of(db)["db_id"] == wanted:
            return db
    raise AssertionError(f"no file signed {pack_path}")


def altered(good: Path, target: Path, *statements: str) -> Path:
    """The pack with its snapshot edited by sqlite3 and signed again with its maker's own key (a forger
    holding the key): what the signature cannot catch, the checks of DESIGN.md §3 must."""
    def edit(inner: Path) -> None:
        conn = sqlite3.connect(inner)
        conn.executescript(";".join(statements))
        conn.close()

    return packkit.rewrap(good, target, signer_of(good), edit)


def test_a_changed_rev_inside_a_pack_is_caught_by_the_row_hash(cdt, tmp_path, district, good_pack):
    inner = packkit.unwrap(good_pack, tmp_path / "inner.sqlite")
    rev = sqlite3.connect(inner).execute("SELECT rev FROM member").fetchone()[0]
    assert rev > 1
    bad = altered(good_pack, tmp_path / "rev.cdt", f"UPDATE member SET rev = {rev - 1}")
    before = district.read_bytes()
    result = cdt("--db", district, "merge", bad)
    assert result.exit_code == 1 and "mã kiểm tra" in result.stderr
    assert district.read_bytes() == before


def _files(result) -> list[dict]:
    return json.loads(result.stdout)["files"]


@pytest.fixture
def other_pack(cdt, tmp_path) -> Path:
    return pack(cdt, make_commune(cdt, tmp_path / "phucluong.db", "05767", "Xóm Hai"), tmp_path / "packs2")


# -- 1. a value of an unexpected type refuses that file only ------------------------------------------


def test_a_blob_in_a_data_column_refuses_that_file_and_the_others_merge(cdt, tmp_path, district, good_pack,
                                                                       other_pack):
    bad = altered(good_pack, tmp_path / "blob.cdt", "UPDATE member SET phone = X'3039'")
    result = cdt("--db", district, "merge", bad, other_pack, "--format", "json")
    assert result.exit_code == 1 and "ngoài dự kiến" not in result.output
    first, second = _files(result)
    assert not first["ok"] and "kiểu" in first["reason"] and "member.phone" in first["reason"]
    assert second["ok"] and second["totals"]["inserted"] == 4


def test_an_unexpected_error_checking_one_file_refuses_that_file_only(cdt, tmp_path, district, good_pack,
                                                                     other_pack, monkeypatch):
    from cdt.exchange import incoming

    real = incoming._check_rows

    def flaky(conn, version, site, allowed):
        if site["commune_code"] == "05761":
            raise RuntimeError("boom")
        return real(conn, version, site, allowed)

    monkeypatch.setattr(incoming, "_check_rows", flaky)
    result = cdt("--db", district, "merge", good_pack, other_pack, "--format", "json")
    assert result.exit_code == 1
    first, second = _files(result)
    assert not first["ok"] and "ngoài dự kiến" in first["reason"] and second["ok"]
    assert "RuntimeError: boom" in (tmp_path / "cdt-errors.log").read_text(encoding="utf-8")


# -- 2. forged origin rows --------------------------------------------------------------------------


def _hanoi_origin_sql(db_id: str) -> str:
    return ("INSERT INTO origin (db_id, level, structure, province_code, district_code, commune_code, unit_name,"
            f" clock) VALUES ('{db_id}', 'commune', 'legacy', '01', '001', '00004', 'Phường Trúc Bạch', 1)")


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


# -- 3. a dry run of several files says what the real run does ---------------------------------------


def test_dry_run_of_several_files_equals_the_real_run(cdt, tmp_path, district):
    from test_conflicts import forked_packs

    one, two = forked_packs(cdt, tmp_path)
    before = district.read_bytes()
    dry = cdt("--db", district, "merge", one, two, one, "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.output
    assert district.read_bytes() == before
    real = cdt("--db", district, "merge", one, two, one, "--format", "json")
    assert [f["tables"] for f in _files(dry)] == [f["tables"] for f in _files(real)]
    assert json.loads(dry.stdout)["open_conflicts"] == json.loads(real.stdout)["open_conflicts"] == 1
    assert _files(real)[2]["totals"]["inserted"] == 0


# -- 4. conflicts resolve ---------------------------------------------------------------------------


def _stolen_id_pack(cdt, tmp_path, district, good_pack, other_pack) -> Path:
    """Phúc Lương's pack, altered so that one of its hamlets reuses Hùng Sơn's hamlet id (hash redone)."""
    from cdt.core.rows import row_hash

    assert cdt("--db", district, "merge", good_pack).exit_code == 0
    victim = sqlite3.connect(district).execute("SELECT id FROM hamlet").fetchone()[0]
    def edit(inner: Path) -> None:
        conn = sqlite3.connect(inner)
        conn.row_factory = sqlite3.Row
        row = dict(conn.execute("SELECT * FROM hamlet").fetchone())
        stolen_from = row["id"]
        row["id"] = victim
        row["name"] = "Xóm Giả"
        conn.execute("UPDATE hamlet SET id = ?, name = ?, hash = ? WHERE id = ?",
                     (victim, row["name"], row_hash("hamlet", row), stolen_from))
        # Its teams follow it (hashes redone), so the pack obeys every other rule (rules.py).
        for team in [dict(t) for t in conn.execute("SELECT * FROM team WHERE hamlet_id = ?", (stolen_from,))]:
            team["hamlet_id"] = victim
            conn.execute("UPDATE team SET hamlet_id = ?, hash = ? WHERE id = ?",
                         (victim, row_hash("team", team), team["id"]))
        conn.commit()
        conn.close()

    return packkit.rewrap(other_pack, tmp_path / "stolen.cdt", signer_of(other_pack), edit)


def test_a_row_claimed_by_another_origin_can_only_be_kept_and_show_names_both_units(
        cdt, tmp_path, district, good_pack, other_pack):
    bad = _stolen_id_pack(cdt, tmp_path, district, good_pack, other_pack)
    assert cdt("--db", district, "merge", bad).exit_code == 0
    [entry] = json.loads(cdt("--db", district, "conflicts", "list", "--format", "json").stdout)
    assert entry["kind"] == "row"
    shown = cdt("--db", district, "conflicts", "show", str(entry["id"]))
    assert shown.exit_code == 0 and "Phúc Lương" in shown.stdout and "Hùng Sơn" in shown.stdout
    taken = cdt("--db", district, "conflicts", "resolve", str(entry["id"]), "--keep", "theirs")
    assert taken.exit_code == 1 and "--keep dang-dung" in taken.stderr
    names = [r[0] for r in sqlite3.connect(district).execute("SELECT name FROM hamlet")]
    assert "Xóm Giả" not in names
    assert cdt("--db", district, "conflicts", "resolve", str(entry["id"]), "--keep", "ours").exit_code == 0
    again = cdt("--db", district, "conflicts", "resolve", str(entry["id"]), "--keep", "ours")
    assert again.exit_code == 0, again.output


def test_resolving_twice_is_a_no_op_and_numbers_stay(cdt, tmp_path, district):
    from test_conflicts import forked_packs

    one, two = forked_packs(cdt, tmp_path)
    assert cdt("--db", district, "merge", one, two).exit_code == 0
    [entry] = json.loads(cdt("--db", district, "conflicts", "list", "--format", "json").stdout)
    number = str(entry["id"])
    assert cdt("--db", district, "conflicts", "resolve", number, "--keep", "theirs").exit_code == 0
    after = district.read_bytes()
    again = cdt("--db", district, "conflicts", "resolve", number, "--keep", "theirs")
    assert again.exit_code == 0, again.output
    assert "không thay đổi" in again.stdout
    assert cdt("--db", district, "conflicts", "show", number).exit_code == 0
    listed = json.loads(cdt("--db", district, "conflicts", "list", "--all", "--format", "json").stdout)
    assert entry["id"] in [e["id"] for e in listed]
    # Switching back and forth keeps both numbers.
    [other] = [e for e in listed if e["id"] != entry["id"]]
    assert cdt("--db", district, "conflicts", "resolve", str(other["id"]), "--keep", "theirs").exit_code == 0
    relisted = json.loads(cdt("--db", district, "conflicts", "list", "--all", "--format", "json").stdout)
    assert sorted(e["id"] for e in relisted) == sorted(e["id"] for e in listed)
    assert district.read_bytes() != after


def test_show_of_an_add_only_fork_row_says_ours_has_none(cdt, tmp_path, district):
    from test_conflicts import forked_packs

    one, two = forked_packs(cdt, tmp_path)
    assert cdt("--db", district, "merge", one, two).exit_code == 0
    [entry] = json.loads(cdt("--db", district, "conflicts", "list", "--format", "json").stdout)
    shown = cdt("--db", district, "conflicts", "show", str(entry["id"]))
    assert "chỉ có ở bản kia" in shown.stdout


# -- 5. a raw copy of a live file -------------------------------------------------------------------


def test_a_raw_copy_of_a_commune_file_is_refused(cdt, tmp_path, district):
    live = make_commune(cdt, tmp_path / "c.db", "05761")
    copy = tmp_path / "x.db"
    shutil.copyfile(live, copy)
    before = district.read_bytes()
    result = cdt("--db", district, "merge", copy)
    assert result.exit_code == 1 and "cdt pack" in result.stderr
    assert district.read_bytes() == before


# -- 7. a busy target --------------------------------------------------------------------------------


def test_a_target_in_use_stops_the_batch_once_and_refuses_no_pack(cdt, district, good_pack, other_pack):
    holder = sqlite3.connect(district, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = cdt("--db", district, "merge", good_pack, other_pack)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1
    assert "đang được một chương trình khác sử dụng" in result.stderr
    assert "TỪ CHỐI" not in result.output and "ngoài dự kiến" not in result.output


# -- 8. a dry run never migrates the target ----------------------------------------------------------


def test_dry_run_on_an_older_schema_target_leaves_it_alone(cdt, tmp_path, good_pack):
    from mergekit import unit_file

    old = unit_file(tmp_path / "old-district.db", "district", "171", schema_version=1)
    old.close()
    path = tmp_path / "old-district.db"
    before = path.read_bytes()
    dry = cdt("--db", path, "merge", good_pack, "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.output
    assert _files(dry)[0]["totals"]["inserted"] == 4
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("old-district")) == ["old-district.db"]


# -- 9. messages -------------------------------------------------------------------------------------


def test_a_pack_whose_site_says_a_newer_schema_asks_to_update_cdt(cdt, tmp_path, district, good_pack):
    newer = altered(good_pack, tmp_path / "newer-site.cdt", "UPDATE site SET schema_version = 99")
    result = cdt("--db", district, "merge", newer)
    assert result.exit_code == 1 and "cập nhật cdt" in result.stderr


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


def test_the_reason_reaches_stderr_and_the_summary_stays_last(cdt, tmp_path, district, good_pack):
    empty = tmp_path / "e.cdt"
    empty.write_bytes(b"")
    result = cdt("--db", district, "merge", empty, good_pack)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any("rỗng" in line for line in lines) and "1/2" in lines[-1]
    assert all(line.strip() for line in lines), "no blank line on stderr"


def test_missing_paths_are_named_in_vietnamese(cdt, district):
    result = cdt("--db", district, "merge")
    assert result.exit_code == 2 and "PATHS" not in result.stderr and "TỆP" in result.stderr


def test_one_empty_folder_is_reported_for_itself_and_the_rest_merge(cdt, tmp_path, district, good_pack):
    empty = tmp_path / "empty folder"
    empty.mkdir()
    result = cdt("--db", district, "merge", empty, good_pack, "--format", "json")
    assert result.exit_code == 1
    first, second = _files(result)
    assert not first["ok"] and "không có gói" in first["reason"] and second["ok"]


def test_a_legacy_pack_into_a_2025_province_says_the_structures_differ(cdt, tmp_path, good_pack):
    province = tmp_path / "p2025.db"
    assert cdt("--db", province, "init", "--province", "2025:19").exit_code == 0
    result = cdt("--db", province, "merge", good_pack)
    assert result.exit_code == 1 and "danh mục" in result.stderr and "không thuộc địa bàn" not in result.stderr


# -- 9. extract ---------------------------------------------------------------------------------------


@pytest.fixture
def district_with_commune(cdt, district, good_pack) -> Path:
    assert cdt("--db", district, "merge", good_pack).exit_code == 0
    return district


def test_extract_onto_an_existing_file_points_at_out(cdt, tmp_path, district_with_commune):
    existing = tmp_path / "there.db"
    existing.write_bytes(b"keep me")
    result = cdt("--db", district_with_commune, "extract", "--commune", "05761", "--out", existing)
    assert result.exit_code == 1 and "--out" in result.stderr and "--db" not in result.stderr
    assert existing.read_bytes() == b"keep me"


def test_extract_to_an_impossible_folder_is_a_clear_error(cdt, tmp_path, district_with_commune):
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    result = cdt("--db", district_with_commune, "extract", "--commune", "05761", "--out", blocker / "dir" / "x.db")
    assert result.exit_code == 1 and "ngoài dự kiến" not in result.output
    assert result.stderr.startswith("Lỗi:") and "không tạo được" in result.stderr


def test_extract_builds_under_a_temporary_name_and_renames_at_the_end(cdt, tmp_path, district_with_commune,
                                                                        monkeypatch):
    from cdt.exchange import extract

    made = []
    real = extract.Store.create

    def spy(path, **kwargs):
        made.append(Path(path))
        return real(path, **kwargs)

    monkeypatch.setattr(extract.Store, "create", staticmethod(spy))
    out = tmp_path / "new" / "Hùng Sơn.db"
    result = cdt("--db", district_with_commune, "extract", "--commune", "05761", "--out", out)
    assert result.exit_code == 0, result.output
    # Built in the private scratch folder (issue 9: no journal or half file beside the destination),
    # then copied beside it under a temporary name and renamed.
    from cdt.core import files as scratch

    assert made and made[0] != out and made[0].parent.parent == scratch.root()
    assert [p.name for p in out.parent.iterdir()] == [out.name]
    assert list(scratch.root().iterdir()) == []


# -- 10. staging copies left by a killed run ---------------------------------------------------------


def test_stale_staging_folders_are_cleaned_and_none_is_left(cdt, tmp_path, district, good_pack, monkeypatch):
    import os
    import tempfile
    import time

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    stale, fresh, foreign = temp / "cdt-merge-stale", temp / "cdt-merge-fresh", temp / "other-old"
    for folder in (stale, fresh, foreign):
        folder.mkdir()
        (folder / "incoming.cdt").write_bytes(b"x")
    old = time.time() - 3600
    for folder in (stale, foreign):
        os.utime(folder, (old, old))
    empty = tmp_path / "e.cdt"
    empty.write_bytes(b"")
    assert cdt("--db", district, "merge", good_pack, empty).exit_code == 1
    assert cdt("--db", district, "merge", good_pack, "--dry-run").exit_code == 0
    assert sorted(p.name for p in temp.iterdir()) == ["cdt-merge-fresh", "other-old"]


def test_a_pack_merged_before_is_recognised_and_changes_nothing(cdt, tmp_path):
    """Re-merging the same bytes skips the checks and the row probes: nothing new, file untouched."""
    import hashlib
    import json as _json

    commune = tmp_path / "xa.db"
    assert cdt("--db", commune, "init", "--commune", "05761", "--structure", "legacy").exit_code == 0
    assert cdt("--db", commune, "hamlet", "add", "Xóm Một", "--kind", "xóm").exit_code == 0
    packs = tmp_path / "gói"
    packs.mkdir()
    assert cdt("--db", commune, "pack", "--out", packs).exit_code == 0
    district = tmp_path / "huyen.db"
    assert cdt("--db", district, "init", "--district", "171").exit_code == 0
    first = _json.loads(cdt("--db", district, "merge", packs, "--format", "json").stdout)
    before = hashlib.sha256(district.read_bytes()).hexdigest()
    again = cdt("--db", district, "merge", packs)
    assert again.exit_code == 0 and "đã được gộp" in again.stdout
    second = _json.loads(cdt("--db", district, "merge", packs, "--format", "json").stdout)
    assert hashlib.sha256(district.read_bytes()).hexdigest() == before
    files = second["files"] if isinstance(second, dict) and "files" in second else second
    entry = files[0]
    assert entry["already_merged"] and entry["totals"]["inserted"] == 0
    assert entry["totals"]["unchanged"] == (first["files"][0] if "files" in first else first[0])["totals"]["inserted"]


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
    (entry,) = _files(result)
    assert not entry["ok"]
    if reason:
        assert reason in entry["reason"]
    assert hashlib.sha256(district.read_bytes()).hexdigest() == before
