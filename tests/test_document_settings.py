"""The report's issuer and signer as the file's settings: set, checked, listed with their defaults per
level and structure, asked for at a terminal, and printed by `cdt report` (the README's province
officer: a Sở under the province's People's Committee, signed KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC)."""

from __future__ import annotations

import json
import os
import sys

import openpyxl
import pytest

from kits.cli import ok

DOCUMENT_KEYS = ("issuer", "issuer_parent", "doc_symbol", "signer_authority", "signer_title", "signer_name",
                 "preparer", "recipients")


def listed(cdt, db) -> dict[str, dict]:
    """`settings list` as rows: key → value, default (read from the table's text, one row a key)."""
    return json.loads(cdt("--db", db, "settings", "list", "--format", "json").stdout)


def defaults(cdt, db) -> dict[str, str]:
    """Each setting's default as `settings list` shows it (its CSV form: one line a setting)."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(cdt("--db", db, "settings", "list", "--format", "csv").stdout.lstrip("\ufeff"))))
    return {row[0]: row[2] for row in rows[1:]}


@pytest.mark.parametrize(("init", "issuer", "parent"), [
    (("--commune", "05761", "--structure", "legacy"), "ỦY BAN NHÂN DÂN THỊ TRẤN HÙNG SƠN", "UBND HUYỆN ĐẠI TỪ"),
    (("--district", "171"), "ỦY BAN NHÂN DÂN HUYỆN ĐẠI TỪ", "UBND TỈNH THÁI NGUYÊN"),
    (("--province", "66", "--structure", "2025"), "TỈNH ĐẮK LẮK", "ỦY BAN NHÂN DÂN"),
])
def test_defaults_per_level_and_structure(cdt, tmp_path, init, issuer, parent):
    db = tmp_path / "f.db"
    ok(cdt("--db", db, "init", *init))
    values = listed(cdt, db)
    assert {key: values[key] for key in DOCUMENT_KEYS} == {
        "issuer": "", "issuer_parent": "", "doc_symbol": "BC-UBND", "signer_authority": "TM.", "signer_title": "",
        "signer_name": "", "preparer": "", "recipients": ""}
    shown = defaults(cdt, db)
    assert (shown["issuer"], shown["issuer_parent"], shown["signer_title"]) == (issuer, parent, "CHỦ TỊCH")
    assert shown["signer_authority"] == "TM." and shown["doc_symbol"] == "BC-UBND"


def test_province_officer_report(cdt, tmp_path):
    """The README's example, with `cdt settings` and `cdt report` alone."""
    db = tmp_path / "tinh.db"
    ok(cdt("--db", db, "init", "--province", "66", "--structure", "2025"))
    for key, value in (("issuer", "SỞ KHOA HỌC VÀ CÔNG NGHỆ"), ("doc_symbol", "BC-SKHCN"),
                       ("signer_authority", "kt"), ("signer_title", "PHÓ GIÁM ĐỐC"),
                       ("signer_name", "Nguyễn Văn Hùng"), ("preparer", "Trần Thị Mai"),
                       ("recipients", "Bộ Khoa học và Công nghệ (b/c); UBND tỉnh (b/c); Lưu: VT, VP")):
        ok(cdt("--db", db, "settings", "set", key, value))
    assert listed(cdt, db)["signer_authority"] == "KT."
    # The body above the Sở defaults to the province's People's Committee once a Sở issues.
    assert defaults(cdt, db)["issuer_parent"] == "ỦY BAN NHÂN DÂN TỈNH ĐẮK LẮK"
    book = tmp_path / "bao-cao.xlsx"
    ok(cdt("--db", db, "report", "--province", "--month", "2026-10", "--number", "25", "--xlsx", book))
    ws = openpyxl.load_workbook(book)["Tổng hợp"]
    assert ws["A1"].value == "ỦY BAN NHÂN DÂN TỈNH ĐẮK LẮK" and not ws["A1"].font.b
    assert ws["A2"].value == "SỞ KHOA HỌC VÀ CÔNG NGHỆ" and ws["A2"].font.b
    assert ws["A4"].value == "Số: 25/BC-SKHCN"
    found = [cell.value for row in ws.iter_rows() for cell in row if cell.value is not None]
    for text in ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn Hùng", "Trần Thị Mai", "- Bộ Khoa học và Công nghệ (b/c);",
                 "- UBND tỉnh (b/c);", "- Lưu: VT, VP."):
        assert text in found, text
    # --signer still overrides for one report; the HTML page carries the same block.
    page = tmp_path / "bao-cao.html"
    ok(cdt("--db", db, "report", "--province", "--month", "2026-10", "--signer", "Lê Văn Tâm", "--html", page))
    text = page.read_text(encoding="utf-8")
    assert "KT. GIÁM ĐỐC" in text and "Lê Văn Tâm" in text and "Nguyễn Văn Hùng" not in text


@pytest.mark.parametrize(("key", "value", "message"), [
    ("signer_authority", "XX", "Lỗi: thẩm quyền ký 'XX' không hợp lệ; chỉ nhận TM., KT., TL., Q. hoặc - (không ghi)"),
    ("issuer", "SỞ\x07 KH", "Lỗi: issuer không được chứa ký tự điều khiển hay ký tự ẩn"),
    ("signer_name", "Nguyễn\u200b Văn A", "Lỗi: signer_name không được chứa ký tự điều khiển hay ký tự ẩn"),
    ("doc_symbol", "BC UB", "Lỗi: ký hiệu văn bản 'BC UB' chỉ gồm chữ, số, dấu gạch ngang, dấu chấm và &, không có "
                            "khoảng trắng hay dấu /"),
    ("signer_name", "a" * 61, "Lỗi: signer_name dài 61 ký tự, quá 60 ký tự cho phép"),
    ("issuer", "Ủ" * 121, "Lỗi: issuer dài 121 ký tự, quá 120 ký tự cho phép"),
    ("recipients", "x" * 151, "Lỗi: mỗi nơi nhận dài tối đa 150 ký tự"),
])
def test_bad_values_are_refused(cdt, commune, key, value, message):
    before = commune.read_bytes()
    r = cdt("settings", "set", key, value)
    assert r.exit_code == 1 and r.stderr.strip() == message
    assert commune.read_bytes() == before


def test_empty_goes_back_to_the_default_and_none_is_no_authority(cdt, commune, tmp_path):
    ok(cdt("settings", "set", "issuer", "PHÒNG VĂN HÓA VÀ THÔNG TIN"))
    r = cdt("settings", "set", "issuer", "")
    assert r.exit_code == 0 and "về mặc định: ỦY BAN NHÂN DÂN THỊ TRẤN HÙNG SƠN" in r.stdout
    ok(cdt("settings", "set", "signer_authority", "-"))
    ok(cdt("settings", "set", "signer_title", "CHỦ TỊCH"))
    book = tmp_path / "r.xlsx"
    ok(cdt("report", "--month", "2026-10", "--xlsx", book))
    found = [c.value for row in openpyxl.load_workbook(book)["Tổng hợp"].iter_rows() for c in row if c.value]
    assert "CHỦ TỊCH" in found and not [v for v in found if str(v).startswith("TM.")]


def test_set_without_a_value_is_a_usage_error_in_a_script(cdt, commune):
    r = cdt("--no-input", "settings", "set", "issuer")
    assert r.exit_code == 2 and r.stderr.strip() == "Lỗi: thiếu GIÁ_TRỊ (xem: cdt settings set --help)"


pexpect = pytest.importorskip("pexpect")


def _spawn(db, *args: str):
    env = {**os.environ, "COLUMNS": "100", "PYTHONIOENCODING": "utf-8"}
    env.pop("CDT_NO_INPUT", None)
    return pexpect.spawn(sys.executable, ["-m", "cdt", "--db", str(db), *args], encoding="utf-8", timeout=60,
                         env=env)


def test_asked_at_a_terminal(cdt, commune):
    child = _spawn(commune, "settings", "set", "signer_title")
    child.expect("Chức vụ người ký")
    child.expect(r"\[CHỦ TỊCH\]")
    child.sendline("PHÓ CHỦ TỊCH")
    child.expect("Đã đặt signer_title = PHÓ CHỦ TỊCH")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    # Every document setting in turn when no key is given; Enter keeps each; a bad value is asked again.
    child = _spawn(commune, "settings", "set")
    child.expect("issuer:")
    child.sendline("")
    child.expect("issuer_parent:")
    child.sendline("")
    child.expect("doc_symbol:")
    child.sendline("")
    child.expect("signer_authority:")
    child.sendline("ABC")
    child.expect("thẩm quyền ký 'ABC' không hợp lệ")
    child.sendline("KT.")
    for _ in range(4):  # signer_title (kept), signer_name, preparer, recipients
        child.expect(r"Giá trị")
        child.sendline("")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    values = listed(cdt, commune)
    assert values["signer_authority"] == "KT." and values["signer_title"] == "PHÓ CHỦ TỊCH"
    assert values["issuer"] == "" and values["doc_symbol"] == "BC-UBND"
