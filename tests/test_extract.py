"""Recovering a commune whose laptop died: extract from the district, carry on, merge back."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from kits.cli import make_commune, pack


def test_extract_then_new_visits_then_merge_back_has_no_duplicates(cdt, tmp_path):
    district = tmp_path / "district.db"
    assert cdt("--db", district, "init", "--district", "171").exit_code == 0
    lost = make_commune(cdt, tmp_path / "lost.db", "05767")
    other = make_commune(cdt, tmp_path / "other.db", "05761")
    for db in (lost, other):
        assert cdt("--db", district, "merge", pack(cdt, db, tmp_path / "stick")).exit_code == 0
    lost_id = sqlite3.connect(lost).execute("SELECT db_id, clock FROM site").fetchone()
    lost.unlink()

    recovered = tmp_path / "máy mới" / "Phúc Lương.db"
    result = cdt("--db", district, "extract", "--commune", "05767", "--out", recovered)
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(recovered)
    assert conn.execute("SELECT db_id, clock, level, commune_code FROM site").fetchone() == (*lost_id, "commune", "05767")
    assert conn.execute("SELECT count(*) FROM hamlet").fetchone()[0] == 1
    assert conn.execute("SELECT count(DISTINCT origin) FROM visit").fetchone()[0] == 1
    conn.close()

    for args in (("visit", "log", "--team", "Xóm Một", "--household", "H2", "--people", "3", "--service", "vneid",
                  "--date", "06/10/2026"),
                 ("hamlet", "edit", "Xóm Một", "--households", "99")):
        done = cdt("--db", recovered, *args)
        assert done.exit_code == 0, done.output
    new_pack = pack(cdt, recovered, tmp_path / "stick2")
    # The rebuilt file has a new key: refused until the district accepts it (DESIGN.md §8).
    refused = cdt("--db", district, "merge", new_pack)
    assert refused.exit_code == 1 and "cdt key accept" in refused.stderr
    assert cdt("--db", district, "key", "accept", new_pack, "--yes").exit_code == 0
    merged = cdt("--db", district, "merge", new_pack, "--format", "json")
    assert merged.exit_code == 0, merged.output
    totals = json.loads(merged.stdout)["files"][0]["totals"]
    assert totals == {"inserted": 1, "updated": 1, "unchanged": 3, "older": 0, "conflicts": 0}
    conn = sqlite3.connect(district)
    assert conn.execute("SELECT count(*), count(DISTINCT household) FROM visit").fetchone() == (3, 2)
    assert conn.execute("SELECT count(*) FROM visit WHERE origin = ?", (lost_id[0],)).fetchone()[0] == 2
    assert conn.execute("SELECT count(*) FROM conflict").fetchone()[0] == 0


def test_extract_refuses_unknown_commune_and_existing_file(cdt, tmp_path):
    district = tmp_path / "district.db"
    assert cdt("--db", district, "init", "--district", "171").exit_code == 0
    unknown = cdt("--db", district, "extract", "--commune", "05770", "--out", tmp_path / "x.db")
    assert unknown.exit_code == 1 and "05770" in unknown.stderr
    assert not (tmp_path / "x.db").exists()


# -- where extract writes ---------------------------------------------------------------------------


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
    # Built in the private scratch folder (no journal or half file beside the destination),
    # then copied beside it under a temporary name and renamed.
    from cdt.core import files as scratch

    assert made and made[0] != out and made[0].parent.parent == scratch.root()
    assert [p.name for p in out.parent.iterdir()] == [out.name]
    assert list(scratch.root().iterdir()) == []
