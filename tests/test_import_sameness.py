"""Import never drops or merges a row silently: every row read ends new, present, updated or a problem,
and a row is present only by the register's sameness rules."""

from __future__ import annotations

import json

from openpyxl import Workbook

HEADER = ["Thôn/xóm", "Họ và tên", "Chức vụ trong tổ", "Năm sinh", "Số điện thoại"]
PEOPLE = [
    ["Xóm Đồng Tâm", "Lê Thị Bình", "Tổ trưởng", 1980, "0912000001"],
    ["Xóm Đồng Tâm", "Lê Thị Bình", "Thành viên", 1995, "0912000002"],  # another person, one name
    ["Xóm Đồng Tâm", "Lê Thị Hà", "Thành viên", 1990, "0912000003"],
    ["Xóm Đồng Tâm", "Lê Thị Hạ", "Thành viên", 1990, "0912000004"],  # differs by a tone mark only
    ["Xóm Đồng Kim", "Lê Thị Hà", "Tổ trưởng", 1990, "0912000005"],  # same name, other hamlet
]


def _book(path, rows, header=HEADER):
    book = Workbook()
    ws = book.active
    ws.title = "Thành viên"
    ws.append(header)
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def _import(cdt, path, *args):
    result = cdt("import", path, "--format", "json", *args)
    return result, json.loads(result.stdout) if result.stdout.strip() else None


def _members(cdt):
    return sorted((m["team"], m["full_name"], m["birth_year"], m["phone"])
                  for m in json.loads(cdt("member", "list", "--format", "json").stdout))


def test_every_person_is_stored_and_counts_add_up(cdt, commune, tmp_path):
    path = _book(tmp_path / "ds.xlsx", PEOPLE)
    result, data = _import(cdt, path)
    assert result.exit_code == 0, result.output
    assert _members(cdt) == sorted((r[0], r[1], r[3], r[4]) for r in PEOPLE)
    (sheet,) = data["sheets"]
    assert (sheet["rows"], sheet["new"], sheet["present"], sheet["updated"], sheet["problems"]) == (5, 5, 0, 0, 0)
    assert sheet["adds_up"] and data["totals"] == {"rows": 5, "new": 5, "present": 0, "updated": 0, "problems": 0}
    assert data["created"]["member"] == 5 and data["created"]["hamlet"] == 2 and data["created"]["team"] == 2


def test_the_same_file_again_adds_nothing_and_names_what_is_there(cdt, commune, tmp_path):
    path = _book(tmp_path / "ds.xlsx", PEOPLE)
    assert cdt("import", path).exit_code == 0
    before = (tmp_path / "cdt.db").read_bytes()
    result, data = _import(cdt, path)
    assert result.exit_code == 0, result.output
    (sheet,) = data["sheets"]
    assert (sheet["rows"], sheet["new"], sheet["present"], sheet["updated"], sheet["problems"]) == (5, 0, 5, 0, 0)
    refs = {(m["team"], m["full_name"], m["birth_year"]): m["ref"]
            for m in json.loads(cdt("member", "list", "--format", "json").stdout)}
    assert sheet["present_records"][1] == {
        "row": 3, "record": f"Lê Thị Bình — Xóm Đồng Tâm [{refs[('Xóm Đồng Tâm', 'Lê Thị Bình', 1995)]}]"}
    assert (tmp_path / "cdt.db").read_bytes() == before
    text = cdt("import", path)
    assert "Đã đọc 5 dòng = 0 mới + 5 đã có + 0 cập nhật + 0 lỗi." in text.stdout


def test_one_phone_changed_updates_that_member_only(cdt, commune, tmp_path):
    assert cdt("import", _book(tmp_path / "ds.xlsx", PEOPLE)).exit_code == 0
    changed = [list(r) for r in PEOPLE]
    changed[3][4] = "0988888888"
    path = _book(tmp_path / "ds2.xlsx", changed)
    preview, data = _import(cdt, path, "--dry-run")
    assert preview.exit_code == 0 and data["updated"]["member"] == 1 and data["written"] is False
    assert data["sheets"][0]["updated_rows"] == [5]
    result, data = _import(cdt, path)
    (sheet,) = data["sheets"]
    assert (sheet["new"], sheet["present"], sheet["updated"]) == (0, 4, 1)
    assert _members(cdt) == sorted((r[0], r[1], r[3], r[4]) for r in changed)


def test_hamlets_differing_only_by_diacritics_are_a_problem_naming_both(cdt, commune, tmp_path):
    rows = [["Xóm Đồng Tiến", "Hoàng Văn An", "Tổ trưởng", 1980, None],
            ["Xom Dong Tien", "Trần Văn Cường", "Thành viên", 1985, None]]
    result, data = _import(cdt, _book(tmp_path / "ds.xlsx", rows))
    assert result.exit_code == 1
    (problem,) = data["problems"]
    assert problem["row"] == 3 and problem["column"] == "A"
    assert problem["message"].startswith('thôn "Xom Dong Tien" chỉ khác "Xóm Đồng Tiến" ở dấu')
    assert data["sheets"][0]["adds_up"] and data["sheets"][0]["problems"] == 1
    # The clerk says they are two places: adds both, and the import takes both.
    assert cdt("hamlet", "add", "Xóm Đồng Tiến", "--kind", "xóm").exit_code == 0
    assert cdt("hamlet", "add", "Xom Dong Tien", "--kind", "xóm").exit_code == 0
    result, data = _import(cdt, _book(tmp_path / "ds.xlsx", rows))
    assert result.exit_code == 0, result.output
    assert {m[0] for m in _members(cdt)} == {"Xóm Đồng Tiến", "Xom Dong Tien"}


def test_a_failed_row_leaves_nothing_behind_with_only_valid(cdt, commune, tmp_path):
    rows = [["Xóm Mới", "Hoàng Văn An", "Tổ trưởng", 1980, "0912 34"]]  # a bad phone: no hamlet, no team either
    result, data = _import(cdt, _book(tmp_path / "ds.xlsx", rows), "--only-valid")
    assert data["sheets"][0]["problems"] == 1 and data["written"] is False
    assert json.loads(cdt("hamlet", "list", "--format", "json").stdout) == []


def test_hamlet_column_under_every_region_header(cdt, commune, tmp_path):
    for i, header in enumerate(["Thôn/Buôn", "Ấp", "Bản", "Tên thôn, buôn, tổ dân phố", "Thon/Buon", "Đơn vị"]):
        rows = [[f"Buôn Cư {i}", "Y Bhim Niê", "Tổ trưởng", 1980, None]]
        result, data = _import(cdt, _book(tmp_path / f"ds{i}.xlsx", rows, [header, *HEADER[1:]]))
        assert result.exit_code == 0, (header, result.output)
        assert data["sheets"][0]["new"] == 1
    assert {m[0] for m in _members(cdt)} == {f"Buôn Cư {i}" for i in range(6)}


def test_kind_headers_follow_the_kinds_list(monkeypatch):
    from cdt.intake import headers

    monkeypatch.setattr(headers, "HAMLET_KINDS", (*headers.HAMLET_KINDS, "khóm", "phum", "sóc"))
    for header in ("Khóm/Ấp", "Khom - Ap", "Phum, sóc", "Tên ấp, khóm"):
        assert headers.header_field(header) == "hamlet", header


def test_no_hamlet_column_is_one_line_naming_the_headers(cdt, commune, tmp_path):
    rows = [["Y Bhim Niê", "Tổ trưởng", 1980, None], ["H'Hen Niê", "Thành viên", 1990, None]]
    path = _book(tmp_path / "ds.xlsx", rows, ["Họ và tên", "Chức vụ trong tổ", "Năm sinh", "Ghi chú khác"])
    result = cdt("import", path)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == ("Lỗi: Trang Thành viên không có cột thôn/xóm (ví dụ 'Thôn/Buôn', 'Ấp', 'Tổ dân phố'); "
                             "các tiêu đề đã đọc: 'Họ và tên', 'Chức vụ trong tổ', 'Năm sinh', 'Ghi chú khác'. "
                             "Thêm hoặc đổi tên cột thôn rồi nhập lại.\n")


def test_visits_reimported_are_present_and_a_changed_count_updates(cdt, commune, tmp_path):
    def book(people):
        wb = Workbook()
        ws = wb.active
        ws.title = "Tổ CNSCĐ"
        ws.append(["Thôn/xóm", "Số quyết định thành lập", "Ngày quyết định"])
        ws.append(["Xóm Một", "1/QĐ-UBND", "01/06/2022"])
        visits = wb.create_sheet("Lượt hỗ trợ")
        visits.append(["Ngày hỗ trợ", "Tổ (thôn/xóm)", "Mã hộ", "Số người được hỗ trợ", "Dịch vụ"])
        visits.append(["02/09/2025", "Xóm Một", "HM-001", people, "VNeID; dịch vụ công"])
        visits.append(["02/09/2025", "Xóm Một", "HM-002", 1, "VNeID"])
        wb.save(tmp_path / "v.xlsx")
        return tmp_path / "v.xlsx"

    result, data = _import(cdt, book(2))
    assert result.exit_code == 0, result.output
    assert [(s["new"], s["present"], s["updated"]) for s in data["sheets"]] == [(1, 0, 0), (2, 0, 0)]
    result, data = _import(cdt, book(2))
    assert [(s["new"], s["present"], s["updated"]) for s in data["sheets"]] == [(0, 1, 0), (0, 2, 0)]
    result, data = _import(cdt, book(3))
    assert [(s["new"], s["present"], s["updated"]) for s in data["sheets"]] == [(0, 1, 0), (0, 1, 1)]
    visits = json.loads(cdt("visit", "list", "--format", "json").stdout)
    assert sorted((v["household"], v["people"]) for v in visits) == [("HM-001", 3), ("HM-002", 1)]
