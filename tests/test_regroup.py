"""cdt init --commune NEW --from OLD.db ...: a 2025 commune's file from its legacy communes' files."""

from __future__ import annotations

import json
import sqlite3

import pytest

# Legacy Xã Hòa Phú (24172) and Xã Hòa Khánh (24175) became the 2025 Xã Hòa Phú (24175), Đắk Lắk (66).
OLD = {"24172": ["Buôn Ea", "Buôn Ky"], "24175": ["Thôn Một"]}


def _old_commune(cdt, path, code, hamlets):
    assert cdt("--db", path, "init", "--commune", code, "--structure", "legacy").exit_code == 0
    for n, hamlet in enumerate(hamlets, 1):
        for args in (("hamlet", "add", hamlet, "--kind", "buôn" if hamlet.startswith("Buôn") else "thôn"),
                     ("team", "add", "--hamlet", hamlet, "--decided-on", "01/03/2024"),
                     ("member", "add", f"Y Niê {code}{n}", "--team", hamlet, "--role", "tổ trưởng"),
                     ("member", "add", f"H Ben {code}{n}", "--team", hamlet),
                     ("visit", "log", "--team", hamlet, "--household", f"H{n}", "--people", str(n + 1),
                      "--service", "vneid", "--date", "05/10/2026", "--member", f"y nie {code}{n}"),
                     ("visit", "log", "--team", hamlet, "--household", f"K{n}", "--people", "4",
                      "--service", "dvc", "--service", "payment", "--date", "20/10/2026")):
            result = cdt("--db", path, *args)
            assert result.exit_code == 0, (args, result.output)
    # an edit and a removal: history that must come along as the latest values only
    first = hamlets[0]
    assert cdt("--db", path, "member", "add", "Người Sẽ Rời", "--team", first).exit_code == 0
    assert cdt("--db", path, "member", "remove", "Người Sẽ Rời", "--yes").exit_code == 0
    return path


@pytest.fixture
def old_files(cdt, tmp_path):
    return [_old_commune(cdt, tmp_path / f"xa-{code}.db", code, hamlets) for code, hamlets in OLD.items()]


def _independent_count(cdt, files):
    visits = people = members = teams = 0
    for path in files:
        rows = json.loads(cdt("--db", path, "visit", "list", "--format", "json").stdout)
        visits += len(rows)
        people += sum(r["people"] for r in rows)
        members += len(json.loads(cdt("--db", path, "member", "list", "--format", "json").stdout))
        teams += len(json.loads(cdt("--db", path, "team", "list", "--format", "json").stdout))
    return {"visits": visits, "people": people, "members": members, "teams": teams}


def test_two_old_communes_make_the_new_one_and_the_province_counts_each_once(cdt, tmp_path, old_files):
    new = tmp_path / "hoa-phu-2025.db"
    before = [p.read_bytes() for p in old_files]
    result = cdt("--db", new, "init", "--commune", "24175", "--from", old_files[0], "--from", old_files[1])
    assert result.exit_code == 0, result.output
    assert "Xã Hòa Phú (24175, danh mục từ 1/7/2025)" in result.stdout
    assert [p.read_bytes() for p in old_files] == before  # the old files are untouched

    info = json.loads(cdt("--db", new, "info", "--format", "json").stdout)
    assert info["structure"] == "2025" and info["unit"]["code"] == "24175"
    # provenance: a log row per old file with its db_id; the rows keep their ids
    with sqlite3.connect(new) as conn:
        logged = {row[0] for row in conn.execute("SELECT db_id FROM merge_log WHERE outcome = 'regrouped'")}
    old_ids = {json.loads(cdt("--db", p, "info", "--format", "json").stdout)["db_id"] for p in old_files}
    assert logged == old_ids
    old_visit_ids = {v["id"] for p in old_files
                     for v in json.loads(cdt("--db", p, "visit", "list", "--format", "json").stdout)}
    assert {v["id"] for v in json.loads(cdt("--db", new, "visit", "list", "--format", "json").stdout)} == old_visit_ids
    # the clerk can go on editing inherited rows
    assert cdt("--db", new, "member", "edit", "y nie 241721", "--phone", "0912345678").exit_code == 0

    stick = tmp_path / "stick"
    packed = cdt("--db", new, "pack", "--out", stick)
    assert packed.exit_code == 0, packed.output
    province = tmp_path / "dak-lak.db"
    assert cdt("--db", province, "init", "--province", "66", "--structure", "2025").exit_code == 0
    merged = cdt("--db", province, "merge", stick)
    assert merged.exit_code == 0, merged.output
    merged_again = cdt("--db", province, "merge", stick)  # and twice is once
    assert merged_again.exit_code == 0
    report = json.loads(cdt("--db", province, "report", "--province", "--month", "2026-10",
                            "--format", "json").stdout)
    expected = _independent_count(cdt, old_files)
    total = report["total"]
    assert total["visits"]["month"] == expected["visits"] == 6
    assert total["people_helped"]["month"] == expected["people"]
    assert total["members"] == expected["members"] == 6
    assert total["teams"] == expected["teams"] == 3


def test_an_old_commune_that_did_not_form_the_new_one_is_refused(cdt, tmp_path, old_files):
    stranger = tmp_path / "hung-son.db"
    assert cdt("--db", stranger, "init", "--commune", "05761", "--structure", "legacy").exit_code == 0
    new = tmp_path / "new.db"
    result = cdt("--db", new, "init", "--commune", "24175", "--from", old_files[0], "--from", stranger)
    assert result.exit_code == 1
    assert result.stderr.startswith("Lỗi: Thị trấn Hùng Sơn (05761) không hợp nhất vào xã này: theo danh mục, "
                                    "xã đó nay thuộc ")
    assert not new.exists()


def test_the_same_file_twice_is_refused(cdt, tmp_path, old_files):
    new = tmp_path / "new.db"
    result = cdt("--db", new, "init", "--commune", "24175", "--from", old_files[0], "--from", old_files[0])
    assert result.exit_code == 1 and "cùng một tệp dữ liệu" in result.stderr
    assert not new.exists()
