"""check_xlsx refuses hostile or broken workbooks before openpyxl sees them, and lets plain ones through."""

from __future__ import annotations

import base64
import json
import random
import re
import struct
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest

from cdt.core import i18n
from cdt.core.errors import FileRefused
from cdt.intake.xlsx_safety import check_xlsx

NAME = "Danh sách hộ Xóm Đồng Tâm.xlsx"
SHEET = "Danh sách"
LOCALE = Path(__file__).resolve().parents[1] / "cdt" / "locale"


@pytest.fixture(autouse=True)
def _language():
    yield
    i18n.set_language(None)


@pytest.fixture
def workbook(tmp_path) -> Path:
    """A plain workbook as a clerk would save it, under a name with spaces and Vietnamese letters."""
    path = tmp_path / NAME
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(["Họ và tên", "Xóm", "Số điện thoại"])
    ws.append(["Nguyễn Thị Hương", "Đồng Tâm", "0912345678"])
    ws.append(["Trần Văn Đức", "Hùng Sơn", "0387654321"])
    wb.create_sheet("Tổ 2")
    wb.save(path)
    return path


def rewrite(src: Path, dst: Path, replace: dict[str, bytes | None] | None = None, add: dict | None = None) -> Path:
    """Copy a zip, replacing (or with None dropping) some entries and adding others."""
    replace = replace or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in replace:
                if replace[info.filename] is not None:
                    zout.writestr(info.filename, replace[info.filename])
            else:
                zout.writestr(info.filename, zin.read(info.filename))
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def refused(path, **limits) -> FileRefused:
    with pytest.raises(FileRefused) as caught:
        check_xlsx(path, **limits)
    return caught.value


def sheet_xml(dimension: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
        "</sheetData></worksheet>"
    ).encode()


def test_plain_workbook_passes_and_opens(workbook):
    assert check_xlsx(workbook) is None
    assert check_xlsx(str(workbook)) is None
    wb = openpyxl.load_workbook(workbook, read_only=True, data_only=True)
    assert wb.sheetnames == [SHEET, "Tổ 2"]
    wb.close()


def test_missing_file_and_folder(tmp_path):
    assert refused(tmp_path / "Không có tệp này.xlsx").key == "xlsx.missing"
    assert refused(tmp_path).key == "xlsx.missing"


def test_empty_file(tmp_path):
    path = tmp_path / "Tệp rỗng.xlsx"
    path.write_bytes(b"")
    assert refused(path).key == "xlsx.empty"


def test_oversized_file(workbook, tmp_path):
    noise = base64.b64encode(random.Random(5).randbytes(1536 * 1024))
    path = rewrite(workbook, tmp_path / "Danh sách lớn.xlsx", add={"xl/media/image1.bin": noise})
    error = refused(path, max_bytes=1024 * 1024)
    assert error.key == "xlsx.too_big"
    i18n.set_language("vi")
    assert re.search(r"quá lớn \(1,\d MB, tối đa 1 MB\)", error.message), error.message
    i18n.set_language("en")
    assert re.search(r"too large \(1\.\d MB, at most 1 MB\)", error.message), error.message


def test_renamed_csv(tmp_path):
    path = tmp_path / "Danh sách hộ.xlsx"
    path.write_text("Họ và tên,Xóm\nNguyễn Thị Hương,Đồng Tâm\n", encoding="utf-8")
    error = refused(path)
    assert error.key == "xlsx.not_xlsx"
    assert error.params["file"] == "Danh sách hộ.xlsx"
    i18n.set_language("vi")
    assert error.message.startswith("Tệp Danh sách hộ.xlsx không phải tệp Excel .xlsx")


def test_random_bytes(tmp_path):
    path = tmp_path / "ngẫu nhiên.xlsx"
    data = random.Random(7).randbytes(4096)
    path.write_bytes(b"\x00" + data)
    assert refused(path).key == "xlsx.not_xlsx"


def test_old_xls_renamed(tmp_path):
    path = tmp_path / "Sổ cũ.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    assert refused(path).key == "xlsx.old_format"


def test_zip_signature_then_garbage(tmp_path):
    path = tmp_path / "hỏng.xlsx"
    path.write_bytes(b"PK\x03\x04" + random.Random(3).randbytes(2000))
    assert refused(path).key == "xlsx.corrupt"


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "văn bản.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<document/>")
    error = refused(path)
    assert error.key == "xlsx.not_workbook"
    assert error.params["part"] == "xl/workbook.xml"


def test_too_many_entries(workbook):
    error = refused(workbook, max_entries=5)
    assert error.key == "xlsx.too_many_entries"
    assert error.params["count"] > 5


def test_zip_bomb_never_decompressed(workbook, tmp_path, monkeypatch):
    """A 150 MB sheet squeezed into a few hundred KB is refused from its declared sizes alone."""
    bomb = tmp_path / "Bom nén.xlsx"
    rewrite(workbook, bomb, replace={"xl/worksheets/sheet1.xml": None})
    row = b'<row r="1"><c r="A1"><v>0</v></c></row>'
    chunk = row * (1024 * 1024 // len(row))
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as stream:
            stream.write(sheet_xml("A1:A1").split(b"<sheetData>")[0] + b"<sheetData>")
            for _ in range(150):
                stream.write(chunk)
            stream.write(b"</sheetData></worksheet>")
    assert bomb.stat().st_size < 1024 * 1024

    opened = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    error = refused(bomb)
    assert error.key == "xlsx.too_large_uncompressed"
    assert "xl/worksheets/sheet1.xml" not in opened
    # Under the total cap, the compression ratio alone gives it away.
    error = refused(bomb, max_uncompressed=500 * 1024 * 1024)
    assert error.key == "xlsx.zip_bomb"
    assert error.params["part"] == "xl/worksheets/sheet1.xml"
    assert error.params["ratio"] > 100
    assert "xl/worksheets/sheet1.xml" not in opened


def test_declared_total_over_cap(workbook, tmp_path):
    """Incompressible data: a low ratio, but more than the cap once uncompressed."""
    noise = base64.b64encode(random.Random(5).randbytes(1536 * 1024))
    path = rewrite(workbook, tmp_path / "nhiễu.xlsx", add={"xl/media/image1.bin": noise})
    assert check_xlsx(path) is None
    assert refused(path, max_uncompressed=1024 * 1024).key == "xlsx.too_large_uncompressed"


def _patch_declared_size(path: Path, member: str, size: int) -> None:
    """Make the central directory lie about a member's uncompressed size."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_len].decode() == member:
            struct.pack_into("<L", data, at + 24, size)
            path.write_bytes(bytes(data))
            return
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(member)


@pytest.mark.parametrize("size", [100, 50_000])
def test_declared_size_that_lies(workbook, size):
    _patch_declared_size(workbook, "[Content_Types].xml", size)
    assert refused(workbook).key in {"xlsx.corrupt", "xlsx.size_mismatch"}


def test_vba_project_part(workbook, tmp_path):
    path = rewrite(workbook, tmp_path / "có macro.xlsx", add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + bytes(100)})
    assert refused(path).key == "xlsx.macros"


def test_macro_enabled_content_type(workbook, tmp_path):
    with zipfile.ZipFile(workbook) as zf:
        types = zf.read("[Content_Types].xml").decode()
    types = types.replace(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    path = rewrite(workbook, tmp_path / "đổi tên từ xlsm.xlsx", replace={"[Content_Types].xml": types.encode()})
    assert refused(path).key == "xlsx.macros"


def test_excel4_macro_sheet(workbook, tmp_path):
    path = rewrite(workbook, tmp_path / "macro cũ.xlsx", add={"xl/macrosheets/sheet1.xml": b"<xm:macrosheet/>"})
    assert refused(path).key == "xlsx.macros"


def test_external_link_part(workbook, tmp_path):
    path = rewrite(
        workbook,
        tmp_path / "liên kết ngoài.xlsx",
        add={
            "xl/externalLinks/externalLink1.xml": b"<externalLink/>",
            "xl/externalLinks/_rels/externalLink1.xml.rels": b"<Relationships/>",
        },
    )
    error = refused(path)
    assert error.key == "xlsx.external_links"
    assert error.params["count"] == 1


def test_sheet_claiming_a_million_rows(workbook, tmp_path):
    path = rewrite(workbook, tmp_path / "cả triệu dòng.xlsx", replace={"xl/worksheets/sheet1.xml": sheet_xml("A1:Z1048576")})
    error = refused(path)
    assert error.key == "xlsx.too_many_rows"
    assert error.params["sheet"] == SHEET
    assert error.params["rows"] == 1048576
    i18n.set_language("vi")
    assert 'Trang tính "Danh sách"' in error.message and "1.048.576 dòng" in error.message
    i18n.set_language("en")
    assert "1,048,576 rows" in error.message


def test_sheet_claiming_too_many_columns(workbook, tmp_path):
    path = rewrite(workbook, tmp_path / "nhiều cột.xlsx", replace={"xl/worksheets/sheet1.xml": sheet_xml("A1:ZZ10")})
    error = refused(path)
    assert error.key == "xlsx.too_many_columns"
    assert error.params["columns"] == 702


def test_dimension_within_limits(workbook, tmp_path):
    path = rewrite(workbook, tmp_path / "vừa đủ.xlsx", replace={"xl/worksheets/sheet1.xml": sheet_xml("$A$1:$CV$20000")})
    assert check_xlsx(path) is None
    assert refused(path, max_rows=19999).key == "xlsx.too_many_rows"
    assert refused(path, max_columns=99).key == "xlsx.too_many_columns"


def test_entity_expansion_in_content_types(workbook, tmp_path):
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">&lol2;</Types>'
    )
    path = rewrite(workbook, tmp_path / "thực thể.xlsx", replace={"[Content_Types].xml": laughs})
    assert refused(path).key == "xlsx.unsafe_xml"


def test_duplicate_entries(workbook, tmp_path):
    path = tmp_path / "trùng tên.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rewrite(workbook, path, add={"xl/workbook.xml": b"<workbook/>"})
    assert refused(path).key == "xlsx.corrupt"


def _catalogue(lang: str) -> dict[str, str]:
    return json.loads((LOCALE / lang / "xlsx.json").read_text(encoding="utf-8"))


def test_every_refusal_has_one_line_messages_in_both_languages():
    source = (Path(__file__).resolve().parents[1] / "cdt" / "intake" / "xlsx_safety.py").read_text(encoding="utf-8")
    used = {f"xlsx.{key}" for key in re.findall(r'_refuse\(\s*"(\w+)"', source)}
    vi, en = _catalogue("vi"), _catalogue("en")
    assert used and used == set(vi) == set(en)
    for key in used:
        for text in (vi[key], en[key]):
            assert "\n" not in text and "{file}" in text
        assert re.search("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", vi[key].lower()), key
        assert set(re.findall(r"{(\w+)}", vi[key])) == set(re.findall(r"{(\w+)}", en[key])), key
