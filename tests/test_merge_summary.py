"""cdt merge's everyday output: a line per pack and a total, tables on --detail, Ctrl-C said clearly."""

from __future__ import annotations

import json

import pytest

from kits.cli import daitu_and_its_province, make_commune, pack


@pytest.fixture
def two_packs(cdt, tmp_path):
    first = pack(cdt, make_commune(cdt, tmp_path / "hungson.db", "05761"), tmp_path / "packs")
    second = pack(cdt, make_commune(cdt, tmp_path / "phucluong.db", "05767", "Xóm Hai"), tmp_path / "packs")
    district = tmp_path / "district.db"
    assert cdt("--db", district, "init", "--district", "171").exit_code == 0
    return district, first, second


def test_one_line_per_pack_and_a_total(cdt, two_packs):
    district, first, second = two_packs
    result = cdt("--db", district, "merge", first, second)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # A line per pack (its signing key and whether it came sealed at its end), one hint that the
    # packs came unsealed, the total and the summary.
    assert len(lines) == 5, result.stdout
    assert lines[0].startswith(f"{first.name}: xã Thị trấn Hùng Sơn (05761)") or lines[0].startswith(first.name)
    assert "Thêm mới" in lines[0] and "Không đổi 0" in lines[0] and "CHƯA niêm phong" in lines[0]
    assert lines[2].startswith("2 gói CHƯA niêm phong")
    assert lines[3].startswith("Tổng số dòng: Thêm mới ")
    assert lines[4] == "Đã gộp 2/2 tệp; từ chối 0."
    detail = cdt("--db", district, "merge", first, "--detail")
    assert "Kết quả gộp" in detail.stdout and "Σ" in detail.stdout


def test_ctrl_c_says_what_was_merged_and_exits_130(cdt, two_packs, monkeypatch):
    from cdt.exchange import batch as library

    district, first, second = two_packs
    original = library.merge_file
    calls = []

    def interrupted_on_the_second(target, path, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(target, path, **kwargs)

    monkeypatch.setattr(library, "merge_file", interrupted_on_the_second)
    result = cdt("--db", district, "merge", first, second)
    assert result.exit_code == 130
    assert result.stderr == (
        f"Đã dừng (Ctrl-C). Đã gộp xong 1 tệp: {first.name}. Tệp đang gộp dở ({second.name}) không ghi gì vào "
        "tệp dữ liệu (mỗi gói gộp trọn vẹn hoặc không gì cả); chạy lại lệnh để gộp tiếp.\n")
    monkeypatch.setattr(library, "merge_file", original)
    status = json.loads(cdt("--db", district, "merge", first, second, "--format", "json").stdout)
    assert [f["already_merged"] is not None for f in status["files"]] == [True, False]


def test_the_reason_reaches_stderr_and_the_summary_stays_last(cdt, tmp_path, district, good_pack):
    empty = tmp_path / "e.cdt"
    empty.write_bytes(b"")
    result = cdt("--db", district, "merge", empty, good_pack)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any("rỗng" in line for line in lines) and "1/2" in lines[-1]
    assert all(line.strip() for line in lines), "no blank line on stderr"


# -- refusals ------------------------------------------------------------------------------------


def test_when_every_pack_is_refused_it_says_none_was_merged(cdt, tmp_path):
    province = tmp_path / "tinh.db"
    assert cdt("--db", province, "init", "--province", "19", "--structure", "2025").exit_code == 0
    for name in ("a.cdt", "b.cdt"):
        (tmp_path / name).write_bytes(b"not a pack")
    result = cdt("--db", province, "merge", tmp_path / "a.cdt", tmp_path / "b.cdt")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "TỪ CHỐI a.cdt: không phải gói dữ liệu cdt",
        "TỪ CHỐI b.cdt: không phải gói dữ liệu cdt",
        "Lỗi: không gộp tệp nào: 2/2 tệp bị từ chối (lý do ở trên)",
    ]
    english = cdt("--lang", "en", "--db", province, "merge", tmp_path / "a.cdt")
    assert english.stderr.splitlines()[-1] == "Error: no file merged: 1/1 refused (reasons above)"


def test_a_refusal_among_merged_packs_is_shown_once(cdt, tmp_path):
    commune, province = daitu_and_its_province(cdt, tmp_path)
    packed = pack(cdt, commune, tmp_path / "stick")
    (tmp_path / "bad.cdt").write_bytes(b"not a pack")
    result = cdt("--db", province, "merge", tmp_path / "bad.cdt", packed)
    assert result.exit_code == 1
    assert result.output.count("TỪ CHỐI bad.cdt") == 1
    assert result.stderr.splitlines() == [
        "TỪ CHỐI bad.cdt: không phải gói dữ liệu cdt",
        "Lỗi: 1/2 tệp bị từ chối (lý do ở trên); các tệp khác đã được xử lý",
    ]
    assert result.stdout.splitlines()[-1] == "Đã gộp 1/2 tệp; từ chối 1."
