"""cdt template: the workbook clerks fill in, read back with openpyxl, and its round trip through import."""

from __future__ import annotations

import json
import os
from datetime import datetime

from openpyxl import load_workbook


def test_template_sheets_headers_and_dropdowns(cdt, tmp_path):
    out = tmp_path / "mau.xlsx"
    result = cdt("template", "--out", out)
    assert result.exit_code == 0, result.output
    assert str(out) in result.stdout
    book = load_workbook(out)
    assert book.sheetnames[:1] == ["Hướng dẫn"]
    for title in ("Thôn xóm", "Tổ CNSCĐ", "Thành viên", "Tập huấn"):
        assert title in book.sheetnames
    members = book["Thành viên"]
    headers = [c.value for c in members[1]]
    assert headers[:3] == ["Thôn/xóm", "Họ và tên", "Chức vụ trong tổ"]
    assert "Số điện thoại" in headers
    lists = book["Danh mục"]
    assert lists.sheet_state == "hidden"
    values = {c.value for row in lists.iter_rows() for c in row if c.value}
    assert {"xóm", "tổ dân phố", "Tổ trưởng", "Tổ phó", "Thành viên", "Nam", "Nữ", "Đoàn Thanh niên"} <= values
    validated = {str(v.sqref).split(":")[0][0] for v in members.data_validations.dataValidation}
    column = {h: chr(ord("A") + i) for i, h in enumerate(headers)}
    assert {column["Chức vụ trong tổ"], column["Giới tính"], column["Đơn vị công tác"]} <= validated
    hamlet_rules = book["Thôn xóm"].data_validations.dataValidation
    assert hamlet_rules and all(v.type == "list" for v in hamlet_rules)
    guide = " ".join(str(c.value) for row in book["Hướng dẫn"].iter_rows() for c in row if c.value)
    assert "cdt import" in guide


def test_template_default_name_and_no_overwrite(cdt, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = cdt("template")
    assert first.exit_code == 0, first.output
    assert (tmp_path / "mau-nhap-lieu-cdt.xlsx").exists()
    stamp = os.stat(tmp_path / "mau-nhap-lieu-cdt.xlsx").st_mtime_ns
    second = cdt("template")
    assert second.exit_code == 1
    assert second.stderr.startswith("Lỗi: ") and "không ghi đè" in second.stderr
    assert os.stat(tmp_path / "mau-nhap-lieu-cdt.xlsx").st_mtime_ns == stamp


def test_template_round_trip(cdt, commune, tmp_path):
    out = tmp_path / "mau.xlsx"
    assert cdt("template", "--out", out).exit_code == 0
    book = load_workbook(out)
    book["Thôn xóm"].append(["Tổ dân phố Cầu Thành", "tổ dân phố", 150, 320])
    book["Thôn xóm"].append(["Tổ dân phố Sơn Tập", "tổ dân phố", 120, None])
    book["Tổ CNSCĐ"].append(["Tổ dân phố Cầu Thành", "12/QĐ-UBND", datetime(2022, 5, 15), None])
    book["Tổ CNSCĐ"].append(["Sơn Tập", "13/QĐ-UBND", "16/05/2022", "20/05/2022"])
    members = book["Thành viên"]
    members.append(["Tổ dân phố Cầu Thành", "Nguyễn Văn An", "Tổ trưởng", "Nam", 1980, "0912345678",
                    "Trưởng thôn/xóm", "01/06/2022"])
    members.append(["Cầu Thành", "Lê Thị Bình", "Thành viên", "Nữ", 1995, 912345679, "Đoàn Thanh niên", None])
    members.append(["Tổ dân phố Sơn Tập", "Trần Văn Cường", "Tổ trưởng", "Nam", 1970, "+84 388 123 456",
                    "VNPT", datetime(2022, 6, 2)])
    book["Tập huấn"].append(["Kỹ năng số cơ bản", "01/07/2022", "Sở TT&TT", "Trực tuyến",
                             "Nguyễn Văn An; Trần Văn Cường (Tổ dân phố Sơn Tập)"])
    book["Lượt hỗ trợ"].append(["05/10/2026", "Cầu Thành", "H01", 3, "dvc; VNeID", "Nguyễn Văn An"])
    book.save(out)

    result = cdt("import", out, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["created"] == {"hamlet": 2, "team": 2, "member": 3, "training": 1, "training_attendance": 2,
                               "visit": 1}
    assert data["problems"] == []

    hamlets = {h["name"]: h for h in json.loads(cdt("hamlet", "list", "--format", "json").stdout)}
    assert hamlets["Tổ dân phố Cầu Thành"]["households"] == 150
    assert hamlets["Tổ dân phố Sơn Tập"]["kind"] == "tổ dân phố"
    teams = {t["hamlet"]: t for t in json.loads(cdt("team", "list", "--format", "json").stdout)}
    assert teams["Tổ dân phố Cầu Thành"]["decision_date"] == "2022-05-15"
    assert teams["Tổ dân phố Sơn Tập"]["founded_on"] == "2022-05-20"
    people = {m["full_name"]: m for m in json.loads(cdt("member", "list", "--format", "json").stdout)}
    assert people["Lê Thị Bình"]["phone"] == "0912345679"
    assert people["Trần Văn Cường"]["phone"] == "0388123456"
    assert people["Trần Văn Cường"]["joined_on"] == "2022-06-02"
    assert people["Nguyễn Văn An"]["trained"] and not people["Lê Thị Bình"]["trained"]
    visits = json.loads(cdt("visit", "list", "--format", "json").stdout)
    assert [(v["household"], v["people"], sorted(v["services"])) for v in visits] == [("H01", 3, ["dvc", "vneid"])]

    again = json.loads(cdt("import", out, "--format", "json").stdout)
    assert not any(again["created"].values())
