"""cdt import through the real entry point: the example spreadsheets, hostile files, re-imports."""

from __future__ import annotations

import importlib.util
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from kits.cli import ok

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "data"


def _examples():
    spec = importlib.util.spec_from_file_location("make_spreadsheets", ROOT / "examples" / "make_spreadsheets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLES = _examples()
BY_STYLE = {c["style"]: c for c in EXAMPLES.COMMUNES}


def _init(cdt, code):
    result = cdt("init", "--commune", code, "--structure", "legacy")
    assert result.exit_code == 0, result.output


def _members(cdt):
    result = cdt("member", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    return sorted(
        ({"hamlet": m["team"], "full_name": m["full_name"], "role": m["role"], "gender": m["gender"],
          "birth_year": m["birth_year"], "phone": m["phone"], "affiliation": m["affiliation"]}
         for m in json.loads(result.stdout)),
        key=lambda m: m["full_name"],
    )


def _expected(style):
    return sorted(EXAMPLES.expected_members(BY_STYLE[style]), key=lambda m: m["full_name"])


@pytest.mark.parametrize("style", ["template", "messy", "tcvn3", "vni"])
def test_example_imports_fully_with_exact_rows(cdt, db_path, style):
    commune = BY_STYLE[style]
    _init(cdt, commune["code"])
    result = cdt("import", DATA / commune["file"])
    assert result.exit_code == 0, result.output
    assert "Đã nhập" in result.stdout
    assert _members(cdt) == _expected(style)
    hamlets = json.loads(cdt("hamlet", "list", "--format", "json").stdout)
    assert sorted(h["name"] for h in hamlets) == sorted(EXAMPLES.hamlets_of(commune))
    teams = json.loads(cdt("team", "list", "--format", "json").stdout)
    number, decided = commune["decision"]
    assert {(t["decision_number"], t["decision_date"]) for t in teams} == {
        (number, "-".join(reversed(decided.split("/"))))}


@pytest.mark.parametrize("style", ["template", "messy", "tcvn3"])
def test_second_import_adds_nothing(cdt, db_path, style):
    commune = BY_STYLE[style]
    _init(cdt, commune["code"])
    assert cdt("import", DATA / commune["file"]).exit_code == 0
    before = db_path.read_bytes()
    again = cdt("import", DATA / commune["file"], "--format", "json")
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert not any(data["created"].values())
    # Every row read is new, present, updated or a problem; here all are present
    assert all(s["present"] == s["rows"] and s["adds_up"] for s in data["sheets"])
    assert db_path.read_bytes() == before
    assert _members(cdt) == _expected(style)


def test_legacy_text_is_converted(cdt, db_path):
    commune = BY_STYLE["tcvn3"]
    _init(cdt, commune["code"])
    result = cdt("import", DATA / commune["file"])
    assert result.exit_code == 0, result.output
    assert "TCVN3" in result.stdout
    names = {m["full_name"] for m in _members(cdt)}
    assert "Nguyễn Thị Phương" in names and "Dương Thị Hường" in names


def test_invalid_rows_block_and_change_nothing(cdt, db_path):
    commune = BY_STYLE["invalid"]
    _init(cdt, commune["code"])
    before = db_path.read_bytes()
    result = cdt("import", DATA / commune["file"])
    assert result.exit_code == 1
    lines = [line.strip() for line in result.stdout.splitlines() if ", dòng " in line]
    assert lines == [
        "Thành viên tổ, dòng 6, cột E (Điện thoại): số điện thoại '0912 34' không hợp lệ (10 số, bắt đầu bằng 03, 05, 07, 08, 09, hoặc +84)",
        "Thành viên tổ, dòng 7, cột D (Vai trò): tổ đã có tổ trưởng Hoàng Văn Bảy; mỗi tổ một tổ trưởng (đổi vai trò người đó trước)",
        "Thành viên tổ, dòng 14, cột B (Họ tên): tổ Xóm Đồng Kè đã đủ 5 thành viên (tối đa 5); nếu tỉnh cho phép nhiều hơn: cdt settings set team_max_members N",
        "Thành viên tổ, dòng 16, cột F (Giới tính): giới tính 'Không rõ' không hợp lệ; chọn: nam, nữ",
        "Thành viên tổ, dòng 17, cột I (Ngày tham gia): ngày '31/02/2023' không có: tháng 2/2023 chỉ có 28 ngày; sửa lại ngày (dd/mm/yyyy)",
    ]
    assert "Chưa nhập gì" in result.stderr
    assert db_path.read_bytes() == before
    assert "Traceback" not in result.output

    json_run = cdt("import", DATA / commune["file"], "--format", "json")
    assert json_run.exit_code == 1
    data = json.loads(json_run.stdout)
    assert [(p["row"], p["column"]) for p in data["problems"]] == [(6, "E"), (7, "D"), (14, "B"), (16, "F"), (17, "I")]
    assert data["written"] is False
    assert db_path.read_bytes() == before

    dry = cdt("import", DATA / commune["file"], "--dry-run")
    assert dry.exit_code == 1
    assert db_path.read_bytes() == before

    partial = cdt("import", DATA / commune["file"], "--only-valid")
    assert partial.exit_code == 0, partial.output
    assert "dòng 6" in partial.stdout
    assert _members(cdt) == _expected("invalid")
    assert len(_members(cdt)) == 9


def test_dry_run_writes_nothing(cdt, db_path):
    commune = BY_STYLE["template"]
    _init(cdt, commune["code"])
    before = db_path.read_bytes()
    result = cdt("import", DATA / commune["file"], "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Xem trước (chưa ghi)" in result.stdout
    assert db_path.read_bytes() == before


def test_template_training_attendance(cdt, db_path):
    commune = BY_STYLE["template"]
    _init(cdt, commune["code"])
    assert cdt("import", DATA / commune["file"]).exit_code == 0
    trainings = json.loads(cdt("training", "list", "--format", "json").stdout)
    assert len(trainings) == 1
    assert trainings[0]["attendees"] == 5
    assert trainings[0]["mode"] == "in_person"


# -- hostile and odd files ------------------------------------------------------------------------


def _good_xlsx(path: Path) -> Path:
    book = Workbook()
    ws = book.active
    ws.append(["Thôn/xóm", "Họ và tên", "Số ĐT"])
    ws.append(["Xóm Một", "Nguyễn Văn An", "0912345678"])
    book.save(path)
    return path


def _rewrite(src: Path, dst: Path, change) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = change(item.filename, zin.read(item.filename))
            if data is not None:
                zout.writestr(item.filename, data)
        extra = change(None, None)
        if extra:
            for name, data in extra.items():
                zout.writestr(name, data)
    return dst


def _refused(cdt, db_path, path: Path):
    before = db_path.read_bytes()
    result = cdt("import", path)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Lỗi: "), result.stderr
    assert path.name in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) <= 2
    assert db_path.read_bytes() == before
    return result.stderr


def test_zip_bomb_is_refused(cdt, commune, tmp_path):
    good = _good_xlsx(tmp_path / "good.xlsx")

    def bomb(name, data):
        if name == "xl/worksheets/sheet1.xml":
            return data.replace(b"<sheetData>", b"<sheetData>" + b"<!--" + b" " * (30 * 1024 * 1024) + b"-->")
        return data

    message = _refused(cdt, commune, _rewrite(good, tmp_path / "bom.xlsx", bomb))
    assert "nén bất thường" in message or "quá lớn" in message


def test_macro_part_is_refused(cdt, commune, tmp_path):
    good = _good_xlsx(tmp_path / "good.xlsx")
    macro = _rewrite(good, tmp_path / "macro.xlsx",
                     lambda name, data: {"xl/vbaProject.bin": b"\x00" * 100} if name is None else data)
    message = _refused(cdt, commune, macro)
    assert "macro" in message.lower()


def test_renamed_non_xlsx_is_refused(cdt, commune, tmp_path):
    fake = tmp_path / "danh-sach.xlsx"
    fake.write_text("Họ và tên,Số ĐT\nNguyễn Văn An,0912345678\n", encoding="utf-8")
    message = _refused(cdt, commune, fake)
    assert "không phải tệp Excel" in message


def test_million_row_claim_is_refused(cdt, commune, tmp_path):
    good = _good_xlsx(tmp_path / "good.xlsx")

    def claim(name, data):
        if name == "xl/worksheets/sheet1.xml":
            import re
            return re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:C1048576"', data)
        return data

    _refused(cdt, commune, _rewrite(good, tmp_path / "million.xlsx", claim))


def test_rows_beyond_the_cap_without_a_dimension_are_refused(cdt, commune, tmp_path):
    good = _good_xlsx(tmp_path / "good.xlsx")

    def far(name, data):
        if name == "xl/worksheets/sheet1.xml":
            import re
            data = re.sub(rb'<dimension ref="[^"]*"\s*/>', b"", data)
            return data.replace(b"</sheetData>",
                                b'<row r="900000"><c r="A900000" t="inlineStr"><is><t>x</t></is></c></row></sheetData>')
        return data

    _refused(cdt, commune, _rewrite(good, tmp_path / "far.xlsx", far))


def test_missing_file_and_no_table(cdt, commune, tmp_path):
    _refused(cdt, commune, tmp_path / "khong-co.xlsx")
    book = Workbook()
    book.active.append(["Một bảng không liên quan", 1, 2])
    book.save(tmp_path / "khac.xlsx")
    message = _refused(cdt, commune, tmp_path / "khac.xlsx")
    assert "Không tìm thấy bảng" in message


def test_import_needs_a_commune_file(cdt, tmp_path):
    district = tmp_path / "d.db"
    assert cdt("--db", district, "init", "--district", "171").exit_code == 0
    result = cdt("--db", district, "import", DATA / BY_STYLE["messy"]["file"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_headers_in_any_order_without_diacritics(cdt, commune, tmp_path):
    book = Workbook()
    ws = book.active
    ws.title = "Sheet1"
    ws.append(["DANH SACH TO CNSCD"])
    ws.append([])
    ws.append(["So DT", "Gioi tinh", "HO TEN", "Ten thon/xom", "Chuc vu", "Nam sinh"])
    ws.append(["+84 912 345 678", "nu", "Lê Thị Bình", "Xóm Một", "Tổ trưởng", 1990])
    ws.append([987654321, "Nam", "Hoàng Văn An", "Xóm Một", "Bí thư chi đoàn", "1985"])
    book.save(tmp_path / "odd.xlsx")
    result = cdt("import", tmp_path / "odd.xlsx")
    assert result.exit_code == 0, result.output
    members = {m["full_name"]: m for m in _members(cdt)}
    assert members["Lê Thị Bình"]["phone"] == "0912345678"
    assert members["Lê Thị Bình"]["role"] == "leader"
    assert members["Hoàng Văn An"]["phone"] == "0987654321"
    assert members["Hoàng Văn An"]["role"] == "member"
    assert members["Hoàng Văn An"]["affiliation"] == "Bí thư chi đoàn"
    assert {m["hamlet"] for m in members.values()} == {"Xóm Một"}


def test_english_messages(cdt, commune):
    result = cdt("--lang", "en", "import", DATA / BY_STYLE["invalid"]["file"])
    assert result.exit_code == 1
    assert "row 6, column E" in result.stdout


def test_group_rows_split_names_and_a_sheet_per_hamlet(cdt, commune, tmp_path):
    book = Workbook()
    ws = book.active
    ws.title = "Tổ CNSCĐ"
    ws.append(["DANH SÁCH TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG"])
    ws.append(["STT", "Họ đệm", "Tên", "Năm sinh", "Chức vụ", "Điện thoại"])
    ws.append(["I. TỔ DÂN PHỐ SƠN TẬP"])
    ws.append([1, "Nguyễn Văn", "An", 1980, "Tổ trưởng", "0912345678"])
    ws.append([2, "Lê Thị", "Bình", 1990, "Thành viên", "0912345679"])
    ws.append([None, "II. Tổ dân phố Cầu Thành (1 người)"])
    ws.append([1, "Hà Thị", "Dung", 1990, "Trưởng thôn", "0912345671"])
    other = book.create_sheet("Tổ dân phố Chiến Thắng")
    other.append(["DANH SÁCH THÀNH VIÊN TỔ CNSCĐ TỔ DÂN PHỐ CHIẾN THẮNG"])
    other.append(["TT", "Họ và tên", "Chức vụ trong tổ", "SĐT"])
    other.append([1, "Đặng Văn Lực", "Tổ trưởng", 916678008])
    book.save(tmp_path / "nhom.xlsx")
    result = cdt("import", tmp_path / "nhom.xlsx")
    assert result.exit_code == 0, result.output
    got = {(m["hamlet"], m["full_name"], m["role"], m["affiliation"]) for m in _members(cdt)}
    assert got == {
        ("Tổ dân phố Sơn Tập", "Nguyễn Văn An", "leader", None),
        ("Tổ dân phố Sơn Tập", "Lê Thị Bình", "member", None),
        ("Tổ dân phố Cầu Thành", "Hà Thị Dung", "member", "Trưởng thôn"),
        ("Tổ dân phố Chiến Thắng", "Đặng Văn Lực", "leader", None),
    }
    kinds = {h["kind"] for h in json.loads(cdt("hamlet", "list", "--format", "json").stdout)}
    assert kinds == {"tổ dân phố"}


def test_external_link_old_format_and_empty_files_are_refused(cdt, commune, tmp_path):
    good = _good_xlsx(tmp_path / "good.xlsx")
    link = _rewrite(good, tmp_path / "link.xlsx", lambda name, data: (
        {"xl/externalLinks/externalLink1.xml": b'<externalLink xmlns="http://schemas.openxmlformats.org/'
                                                 b'spreadsheetml/2006/main"/>'} if name is None else data))
    assert "liên kết" in _refused(cdt, commune, link)
    old = tmp_path / "cu.xlsx"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024)
    assert ".xls" in _refused(cdt, commune, old)
    empty = tmp_path / "rong.xlsx"
    empty.write_bytes(b"")
    assert "rỗng" in _refused(cdt, commune, empty)
    garbage = tmp_path / "hong.xlsx"
    garbage.write_bytes(b"PK\x03\x04" + b"\x17" * 500)
    _refused(cdt, commune, garbage)


def test_long_and_control_character_cells_are_problems_not_crashes(cdt, commune, tmp_path):
    book = Workbook()
    ws = book.active
    ws.append(["Thôn/xóm", "Họ và tên", "Năm sinh", "Số ĐT"])
    ws.append(["Xóm Một", "A" * 500, 1980, "0912345678"])
    ws.append(["Xóm Một", "Nguyễn\tVăn An", 1980, "0912345679"])
    ws.append(["Xóm Một", "Lê Thị Bình", 1850, "0912345670"])
    ws.append(["X" * 300, "Trần Văn Cường", 1980, "0912345671"])
    book.save(tmp_path / "xau.xlsx")
    before = commune.read_bytes()
    result = cdt("import", tmp_path / "xau.xlsx", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [p["row"] for p in data["problems"]] == [2, 3, 4, 5]
    assert commune.read_bytes() == before


def test_hamlet_list_with_bare_name_header_and_single_team_list(cdt, commune, tmp_path):
    book = Workbook()
    ws = book.active
    ws.append(["STT", "Tên", "Loại", "Số hộ"])
    ws.append([1, "Tổ dân phố Sơn Tập", "Tổ dân phố", 120])
    book.save(tmp_path / "thon.xlsx")
    assert cdt("import", tmp_path / "thon.xlsx").exit_code == 0
    assert cdt("team", "add", "--hamlet", "Sơn Tập", "--decision", "1/QĐ-UBND", "--decided-on",
               "01/06/2022").exit_code == 0
    people = Workbook()
    ws = people.active
    ws.append(["Họ và tên", "Số điện thoại", "Địa chỉ"])
    ws.append(["Nguyễn Văn An", "0912345678", None])
    people.save(tmp_path / "to.xlsx")
    result = cdt("import", tmp_path / "to.xlsx")
    assert result.exit_code == 0, result.output
    assert [(m["hamlet"], m["full_name"]) for m in _members(cdt)] == [("Tổ dân phố Sơn Tập", "Nguyễn Văn An")]
    hamlets = json.loads(cdt("hamlet", "list", "--format", "json").stdout)
    assert [(h["name"], h["kind"], h["households"]) for h in hamlets] == [("Tổ dân phố Sơn Tập", "tổ dân phố", 120)]


def test_birth_year_under_nam_nu_subcolumns(cdt, commune, tmp_path):
    book = Workbook()
    ws = book.active
    ws.append(["DANH SÁCH THÀNH VIÊN TỔ CNSCĐ TỔ DÂN PHỐ SƠN TẬP"])
    ws.append(["TT", "Họ và tên", "Năm sinh", None, "Chức vụ", "Số ĐT"])
    ws.append([None, None, "Nam", "Nữ", None, None])
    ws.merge_cells("C2:D2")
    ws.append([1, "Nguyễn Văn An", 1980, None, "Tổ trưởng", "0912345678"])
    ws.append([2, "Lê Thị Bình", None, "12/03/1995", "Tổ viên", "0912345679"])
    book.save(tmp_path / "namnu.xlsx")
    result = cdt("import", tmp_path / "namnu.xlsx")
    assert result.exit_code == 0, result.output
    got = {(m["hamlet"], m["full_name"], m["gender"], m["birth_year"], m["role"]) for m in _members(cdt)}
    assert got == {("Tổ dân phố Sơn Tập", "Nguyễn Văn An", "male", 1980, "leader"),
                   ("Tổ dân phố Sơn Tập", "Lê Thị Bình", "female", 1995, "member")}


def test_visit_sheet_problems_name_their_column(cdt, commune, tmp_path):
    """Each bad cell of a visits sheet is reported with its column, and nothing is written."""
    assert cdt("hamlet", "add", "Xóm Một", "--kind", "xóm").exit_code == 0
    assert cdt("team", "add", "--hamlet", "Xóm Một", "--decided-on", "01/06/2022").exit_code == 0
    book = Workbook()
    ws = book.active
    ws.title = "Lượt hỗ trợ"
    ws.append(["Ngày hỗ trợ", "Tổ (thôn/xóm)", "Mã hộ", "Số người được hỗ trợ", "Dịch vụ"])
    ws.append(["05/10/2026", "Xóm Một", "H-01", "2.5", "dvc"])
    ws.append(["06/10/2026", "Xóm Một", "Nguyễn Văn A", "2", "dvc"])
    ws.append(["07/10/2026", "Xóm Một", "H-03", "1", "dvc"])
    book.save(tmp_path / "luot.xlsx")
    before = commune.read_bytes()
    result = cdt("import", tmp_path / "luot.xlsx", "--format", "json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    where = {(p["row"], p["column"]) for p in problems}
    assert (2, "D") in where and (3, "C") in where
    assert commune.read_bytes() == before


def test_a_member_list_naming_no_hamlet_is_refused_even_with_one_team(cdt, tmp_path):
    ok(cdt("init", "--commune", "05761", "--structure", "legacy"))
    ok(cdt("hamlet", "add", "Thôn A", "--kind", "thon"))
    ok(cdt("team", "add", "--hamlet", "thon a"))
    book = Workbook()
    book.active.append(["STT", "Họ và tên", "Năm sinh", "Điện thoại"])
    book.active.append([1, "Lê Văn Nam", 1990, "0912345678"])
    book.save(tmp_path / "ds.xlsx")
    result = cdt("import", tmp_path / "ds.xlsx")
    assert result.exit_code == 1
    assert "'Họ và tên'" in result.stderr + result.stdout
    assert json.loads(ok(cdt("member", "list", "--format", "json")).stdout) == []
