"""cdt merge through the real entry point: summaries, hostile files refused, odd paths, older packs."""

from __future__ import annotations

import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

from kits import packkit
from kits.cli import files_of, forked_packs, make_commune, pack
from kits.mergekit import add_hamlet, unit_file


def test_merge_shows_counts_and_second_merge_changes_nothing(cdt, tmp_path, district, good_pack):
    other = pack(cdt, make_commune(cdt, tmp_path / "phucluong.db", "05767", "Xóm Hai"), tmp_path / "packs")
    first = cdt("--db", district, "merge", good_pack.parent, "--format", "json")
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert [f["ok"] for f in data["files"]] == [True, True]
    assert {f["name"] for f in data["files"]} == {good_pack.name, other.name}
    assert all(f["totals"]["inserted"] == 4 for f in data["files"])
    again = json.loads(cdt("--db", district, "merge", good_pack, other, "--format", "json").stdout)
    assert all(f["totals"] == {"inserted": 0, "updated": 0, "unchanged": 4, "older": 0, "conflicts": 0}
               for f in again["files"])
    table = cdt("--db", district, "merge", good_pack)
    assert table.exit_code == 0
    assert "Không đổi" in table.stdout and "Thêm mới" in table.stdout


def test_dry_run_changes_nothing_and_prints_the_same_summary(cdt, district, good_pack):
    before = district.read_bytes()
    dry = cdt("--db", district, "merge", good_pack, "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.output
    assert district.read_bytes() == before
    real = cdt("--db", district, "merge", good_pack, "--format", "json")
    assert json.loads(dry.stdout)["files"][0]["tables"] == json.loads(real.stdout)["files"][0]["tables"]


def test_edits_and_deletes_after_a_pack_travel_up(cdt, tmp_path, district):
    db = make_commune(cdt, tmp_path / "c.db", "05761")
    first = pack(cdt, db, tmp_path / "p1")
    assert cdt("--db", db, "hamlet", "edit", "Xóm Một", "--households", "77").exit_code == 0
    assert cdt("--db", db, "member", "remove", "Hoàng Văn An", "--yes").exit_code == 0
    second = pack(cdt, db, tmp_path / "p2")
    data = json.loads(cdt("--db", district, "merge", second, first, "--format", "json").stdout)
    assert data["files"][1]["totals"]["older"] == 2
    conn = sqlite3.connect(district)
    assert conn.execute("SELECT households FROM hamlet").fetchone()[0] == 77
    assert conn.execute("SELECT deleted, full_name, phone FROM member").fetchone() == (1, "", None)


# -- hostile files -----------------------------------------------------------------------------------


def _page_of(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = ?", (table,)).fetchone()[0]
        return (root - 1) * size
    finally:
        conn.close()


def _altered(good: Path, target: Path, *statements: str) -> Path:
    """A pack whose snapshot was edited with sqlite3, signed again with the commune's own key: the
    checks of DESIGN.md §3 must catch what the signature cannot (a forger holding the key)."""
    inner = target.parent.parent / "inner" / target.name
    inner.parent.mkdir(exist_ok=True)
    shutil.copyfile(good, inner)
    conn = sqlite3.connect(inner)
    conn.executescript(";".join(statements))
    conn.close()
    return _signed(inner, target)


def _signed(inner: Path, target: Path) -> Path:
    signer = target.parent.parent / "hungson.db"
    return packkit.wrap(inner, target, key_from=signer, identity=_IDENTITY)


_IDENTITY: dict = {}


def hostile_files(good_pack: Path, folder: Path, cdt, tmp_path) -> dict[str, Path]:
    folder.mkdir()
    (tmp_path / "inner").mkdir()
    good = packkit.unwrap(good_pack, tmp_path / "inner" / "good.sqlite")
    _IDENTITY.clear()
    _IDENTITY.update(packkit.identity_of(good))
    files: dict[str, Path] = {}
    files["random"] = folder / "random.cdt"
    files["random"].write_bytes(bytes(range(256)) * 64)
    files["empty"] = folder / "empty.cdt"
    files["empty"].write_bytes(b"")
    files["zip"] = folder / "zip.cdt"
    with zipfile.ZipFile(files["zip"], "w") as archive:
        archive.writestr("a.txt", "xin chào")
    data = good.read_bytes()
    inner = tmp_path / "inner"
    (inner / "truncated.cdt").write_bytes(data[: len(data) // 2])
    files["truncated"] = _signed(inner / "truncated.cdt", folder / "truncated.cdt")
    flipped = bytearray(data)
    offset = _page_of(good, "member")
    flipped[offset] ^= 0xFF
    (inner / "btree.cdt").write_bytes(bytes(flipped))
    files["btree"] = _signed(inner / "btree.cdt", folder / "btree.cdt")
    needle = "Hoàng Văn An".encode()
    assert data.count(needle) == 1
    (inner / "name.cdt").write_bytes(data.replace(needle, "Hoàng Văn Am".encode()))
    files["name"] = _signed(inner / "name.cdt", folder / "name.cdt")
    conn = sqlite3.connect(inner / "other.cdt")
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    files["other_app"] = _signed(inner / "other.cdt", folder / "other.cdt")
    files["newer"] = _altered(good, folder / "newer.cdt", "PRAGMA user_version = 99")
    files["trigger"] = _altered(good, folder / "trigger.cdt",
                                "CREATE TRIGGER t AFTER INSERT ON hamlet BEGIN SELECT 1; END")
    files["view"] = _altered(good, folder / "view.cdt", "CREATE VIEW v AS SELECT * FROM hamlet")
    files["table"] = _altered(good, folder / "table.cdt", "CREATE TABLE extra (x)")
    files["column"] = _altered(good, folder / "column.cdt", "ALTER TABLE hamlet ADD COLUMN x")
    files["index"] = _altered(good, folder / "index.cdt", "CREATE INDEX i ON hamlet (name)")
    files["view_for_table"] = _altered(
        good, folder / "viewtable.cdt", "DROP TABLE hamlet",
        "CREATE VIEW hamlet AS SELECT 'x' AS id, 'o' AS origin, 1 AS rev, 0 AS deleted, '' AS hash,"
        " 'a' AS name, 'xóm' AS kind, 1 AS households, 1 AS working_age")
    files["wal"] = _altered(good, folder / "wal.cdt", "PRAGMA journal_mode = WAL")
    files["foreign"] = _altered(good, folder / "foreign.cdt", "UPDATE hamlet SET origin = 'someone-else'")
    outside = make_commune(cdt, tmp_path / "quantrieu.db", "05431")
    files["outside"] = pack(cdt, outside, folder)
    own = pack(cdt, tmp_path / "district.db", tmp_path / "own")
    files["own"] = shutil.move(str(own), folder / "own.cdt")
    return files


REASONS = {
    "random": "không phải gói", "empty": "rỗng", "zip": "không phải gói", "truncated": "hỏng",
    "btree": "hỏng", "name": "mã kiểm tra", "other_app": "không phải của cdt", "newer": "cập nhật cdt",
    "trigger": "cấu trúc", "view": "cấu trúc", "table": "cấu trúc", "column": "cấu trúc", "index": "cấu trúc",
    "view_for_table": "cấu trúc", "wal": "WAL", "foreign": "không thuộc về", "outside": "không thuộc địa bàn",
    "own": "chính tệp này",
}


def test_every_hostile_file_is_refused_and_the_target_is_untouched(cdt, tmp_path, district, good_pack):
    assert cdt("--db", district, "merge", good_pack).exit_code == 0
    folder = tmp_path / "hostile"
    files = hostile_files(good_pack, folder, cdt, tmp_path)
    assert set(files) == set(REASONS)
    listing = sorted(p.name for p in folder.iterdir())
    before = district.read_bytes()
    for name, path in files.items():
        result = cdt("--db", district, "merge", path)
        assert result.exit_code == 1, (name, result.output)
        assert REASONS[name] in result.stderr, (name, result.stderr)
        assert "Traceback" not in result.output
        assert district.read_bytes() == before, name
    # All at once, with a good file among them: the good one merges, the exit code says some were refused.
    result = cdt("--db", district, "merge", *files.values(), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert sum(1 for f in data["files"] if f["ok"]) == 0 and data["refused"] == len(files)
    assert sorted(p.name for p in folder.iterdir()) == listing


def test_a_sidecar_wal_or_journal_is_refused(cdt, tmp_path, district, good_pack):
    before = district.read_bytes()
    for suffix in ("-wal", "-journal"):
        side = Path(str(good_pack) + suffix)
        side.write_bytes(b"x")
        result = cdt("--db", district, "merge", good_pack)
        assert result.exit_code == 1 and "cdt pack" in result.stderr
        side.unlink()
    assert district.read_bytes() == before


def test_english_reason(cdt, tmp_path, district):
    empty = tmp_path / "e.cdt"
    empty.write_bytes(b"")
    result = cdt("--lang", "en", "--db", district, "merge", empty)
    assert result.exit_code == 1 and "empty" in result.stderr


def test_paths_with_spaces_quotes_and_vietnamese_letters(cdt, tmp_path, district, good_pack):
    folder = tmp_path / "USB của xã Hùng Sơn" / "tháng 11"
    folder.mkdir(parents=True)
    odd = folder / "O'Brien \"gói\" Hùng Sơn.cdt"
    shutil.copyfile(good_pack, odd)
    listing = sorted(p.name for p in folder.iterdir())
    result = cdt("--db", district, "merge", odd)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == listing
    odd_db = tmp_path / "Sổ của 'Hùng' Sơn.db"
    shutil.copyfile(district, odd_db)
    assert cdt("--db", odd_db, "merge", folder).exit_code == 0
    packed = cdt("--db", odd_db, "pack", "--out", tmp_path / "đĩa USB 'E'")
    assert packed.exit_code == 0, packed.output
    assert Path(packed.stdout.strip().splitlines()[-1]).exists()


def test_an_older_schema_pack_merges(cdt, tmp_path, district):
    old = unit_file(tmp_path / "old.db", "commune", "05767", schema_version=1)
    add_hamlet(old, "Xóm Cũ")
    old.close()
    packed = pack(cdt, tmp_path / "old.db", tmp_path / "packs")
    result = cdt("--db", district, "merge", packed, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"][0]["totals"]["inserted"] == 1
    assert sqlite3.connect(district).execute("SELECT name FROM hamlet").fetchall() == [("Xóm Cũ",)]


def test_a_commune_file_does_not_merge(cdt, commune, good_pack):
    result = cdt("merge", good_pack)
    assert result.exit_code == 1 and "Lỗi" in result.stderr


def test_province_takes_districts_and_communes_of_its_province_and_sees_communes_through_districts(
        cdt, tmp_path, district, good_pack):
    assert cdt("--db", district, "merge", good_pack).exit_code == 0
    district_pack = pack(cdt, district, tmp_path / "dpacks")
    province = tmp_path / "province.db"
    assert cdt("--db", province, "init", "--province", "legacy:19").exit_code == 0
    outside = pack(cdt, make_commune(cdt, tmp_path / "other.db", "00004"), tmp_path / "x")
    result = cdt("--db", province, "merge", district_pack, outside, "--format", "json")
    assert result.exit_code == 1
    assert [f["ok"] for f in json.loads(result.stdout)["files"]] == [True, False]
    status = json.loads(cdt("--db", province, "status", "--format", "json").stdout)
    units = {(o["level"], o["unit"]["code"]) for o in status["origins"]}
    assert ("district", "171") in units and ("commune", "05761") in units
    assert "05761" not in {u["code"] for u in status["never_heard"]}
    assert "05767" in {u["code"] for u in status["never_heard"]}


def test_status_lists_units_heard_and_never_heard(cdt, district, good_pack):
    assert cdt("--db", district, "merge", good_pack).exit_code == 0
    data = json.loads(cdt("--db", district, "status", "--format", "json").stdout)
    [origin] = data["origins"]
    assert origin["unit"]["code"] == "05761" and origin["rows"]["hamlet"] == 1 and origin["clock"] == 4
    assert len(data["never_heard"]) == 26
    table = cdt("--db", district, "status")
    assert "Hùng Sơn" in table.stdout and "Chưa gửi dữ liệu (26)" in table.stdout


# -- several files, dry runs, a file merged before ----------------------------------------------


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
    first, second = files_of(result)
    assert not first["ok"] and "ngoài dự kiến" in first["reason"] and second["ok"]
    assert "RuntimeError: boom" in (tmp_path / "cdt-errors.log").read_text(encoding="utf-8")


def test_dry_run_of_several_files_equals_the_real_run(cdt, tmp_path, district):
    one, two = forked_packs(cdt, tmp_path)
    before = district.read_bytes()
    dry = cdt("--db", district, "merge", one, two, one, "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.output
    assert district.read_bytes() == before
    real = cdt("--db", district, "merge", one, two, one, "--format", "json")
    assert [f["tables"] for f in files_of(dry)] == [f["tables"] for f in files_of(real)]
    assert json.loads(dry.stdout)["open_conflicts"] == json.loads(real.stdout)["open_conflicts"] == 1
    assert files_of(real)[2]["totals"]["inserted"] == 0


def test_a_raw_copy_of_a_commune_file_is_refused(cdt, tmp_path, district):
    live = make_commune(cdt, tmp_path / "c.db", "05761")
    copy = tmp_path / "x.db"
    shutil.copyfile(live, copy)
    before = district.read_bytes()
    result = cdt("--db", district, "merge", copy)
    assert result.exit_code == 1 and "cdt pack" in result.stderr
    assert district.read_bytes() == before


def test_dry_run_on_an_older_schema_target_leaves_it_alone(cdt, tmp_path, good_pack):
    from kits.mergekit import unit_file

    old = unit_file(tmp_path / "old-district.db", "district", "171", schema_version=1)
    old.close()
    path = tmp_path / "old-district.db"
    before = path.read_bytes()
    dry = cdt("--db", path, "merge", good_pack, "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.output
    assert files_of(dry)[0]["totals"]["inserted"] == 4
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("old-district")) == ["old-district.db"]


def test_missing_paths_are_named_in_vietnamese(cdt, district):
    result = cdt("--db", district, "merge")
    assert result.exit_code == 2 and "PATHS" not in result.stderr and "TỆP" in result.stderr


def test_one_empty_folder_is_reported_for_itself_and_the_rest_merge(cdt, tmp_path, district, good_pack):
    empty = tmp_path / "empty folder"
    empty.mkdir()
    result = cdt("--db", district, "merge", empty, good_pack, "--format", "json")
    assert result.exit_code == 1
    first, second = files_of(result)
    assert not first["ok"] and "không có gói" in first["reason"] and second["ok"]


def test_a_legacy_pack_into_a_2025_province_says_the_structures_differ(cdt, tmp_path, good_pack):
    province = tmp_path / "p2025.db"
    assert cdt("--db", province, "init", "--province", "2025:19").exit_code == 0
    result = cdt("--db", province, "merge", good_pack)
    assert result.exit_code == 1 and "danh mục" in result.stderr and "không thuộc địa bàn" not in result.stderr


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
