"""cdt.export: the monthly report as an .xlsx workbook, read back with openpyxl."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from cdt.core import i18n
from cdt.core.errors import CdtError
from cdt.export import write_report_xlsx
from kits.cli import ok
from kits.reports import (
    DANGEROUS, REPORTS, commune_report, district_report, flow, province_2025_report, province_report, unit,
    with_trends,
)

FILE_NAME = "Báo cáo tháng 10 Đại Từ.xlsx"


@pytest.fixture(autouse=True)
def vietnamese(monkeypatch):
    """Every test starts in Vietnamese unless it switches language itself."""
    monkeypatch.delenv("CDT_LANG", raising=False)
    i18n.set_language(None)
    yield
    i18n.set_language(None)


# ---------------------------------------------------------------------------------------------
# Writing and reading back (the reports themselves: kits/reports.py)


def write(tmp_path, report, **options) -> Path:
    folder = tmp_path / "Báo cáo tháng"
    folder.mkdir(exist_ok=True)
    return write_report_xlsx(report, folder / FILE_NAME, **options)


def values(ws):
    """Every non-empty cell value of a sheet, as a list."""
    return [cell.value for row in ws.iter_rows() for cell in row if cell.value is not None]


def find(ws, text):
    """The first cell whose value is exactly text."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == text:
                return cell
    raise AssertionError(f"{text!r} not on sheet {ws.title!r}")


def row_of(ws, label, column=2):
    """The cells of the row whose given column holds label."""
    for row in ws.iter_rows():
        if row[column - 1].value == label:
            return row
    raise AssertionError(f"no row {label!r} on sheet {ws.title!r}")


# ---------------------------------------------------------------------------------------------
# The document


def test_returns_the_path_and_keeps_its_name(tmp_path):
    path = write(tmp_path, commune_report())
    assert path.name == FILE_NAME
    assert path.is_file()
    assert not path.with_name(path.name + ".part").exists()


@pytest.mark.parametrize(
    ("level", "sheets"),
    [
        # A commune reports no other unit: no reporting-status appendix.
        ("commune", ["Tổng hợp", "PL I - Tổ, thành viên", "PL II - Hoạt động", "PL III - Dịch vụ",
                     "PL IV - Biểu đồ, xu hướng", "PL V - Cách tính"]),
        ("district", ["Tổng hợp", "PL I - Tổ, thành viên", "PL II - Hoạt động", "PL III - Dịch vụ",
                      "PL IV - Biểu đồ, xu hướng", "PL V - Tình hình gửi", "PL VI - Cách tính"]),
        ("province", ["Tổng hợp", "PL I - Tổ, thành viên", "PL II - Hoạt động", "PL III - Tổ theo xã",
                      "PL IV - Hoạt động theo xã", "PL V - Dịch vụ", "PL VI - Biểu đồ, xu hướng",
                      "PL VII - Tình hình gửi", "PL VIII - Cách tính"]),
        # Rows are already communes: a per-commune appendix would repeat the per-unit ones.
        ("province_2025", ["Tổng hợp", "PL I - Tổ, thành viên", "PL II - Hoạt động", "PL III - Dịch vụ",
                           "PL IV - Biểu đồ, xu hướng", "PL V - Tình hình gửi", "PL VI - Cách tính"]),
    ],
)
def test_sheet_names(tmp_path, level, sheets):
    wb = openpyxl.load_workbook(write(tmp_path, REPORTS[level]()))
    assert wb.sheetnames == sheets


def test_commune_header_block(tmp_path):
    path = write(tmp_path, commune_report(), number="45", signer="Nguyễn Văn Đức", preparer="Lý Thị Hà")
    ws = openpyxl.load_workbook(path)["Tổng hợp"]
    assert ws["A1"].value == "UBND HUYỆN ĐẠI TỪ"
    assert ws["A2"].value == "ỦY BAN NHÂN DÂN THỊ TRẤN HÙNG SƠN"
    assert ws["A2"].font.b
    assert ws["C1"].value == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" and ws["C1"].font.b
    assert ws["C2"].value == "Độc lập - Tự do - Hạnh phúc" and ws["C2"].font.b
    assert ws["A4"].value == "Số: 45/BC-UBND"
    # Place defaults to the unit without its type word; dates below 10 get a leading zero.
    assert ws["C4"].value == "Hùng Sơn, ngày 03 tháng 11 năm 2026"
    assert ws["C4"].font.i
    found = values(ws)
    assert "BÁO CÁO" in found
    assert "Kết quả hoạt động của Tổ công nghệ số cộng đồng tháng 10 năm 2026" in found
    assert "(Số liệu từ ngày 01/10/2026 đến ngày 31/10/2026)" in found
    for text in ("Nơi nhận:", "- UBND huyện Đại Từ (b/c);", "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH",
                 "NGƯỜI LẬP BIỂU", "Nguyễn Văn Đức", "Lý Thị Hà",
                 "Số liệu tháng 10 đã được tổ trưởng các xóm xác nhận."):
        assert text in found
    assert find(ws, "Nguyễn Văn Đức").font.b


def test_district_header_block_and_place(tmp_path):
    ws = openpyxl.load_workbook(write(tmp_path, district_report()))["Tổng hợp"]
    assert ws["A1"].value == "UBND TỈNH THÁI NGUYÊN"
    assert ws["A2"].value == "ỦY BAN NHÂN DÂN HUYỆN ĐẠI TỪ"
    assert ws["A4"].value.startswith("Số: ") and ws["A4"].value.endswith("/BC-UBND")
    assert ws["C4"].value == "Đại Từ, ngày 03 tháng 11 năm 2026"
    assert "- UBND tỉnh Thái Nguyên (b/c);" in values(ws)
    # Signer left blank: the names row stays empty for a handwritten name.
    assert "Nguyễn Văn Đức" not in values(ws)


@pytest.mark.parametrize("level", ["province", "province_2025"])
def test_province_header_has_no_superior(tmp_path, level):
    ws = openpyxl.load_workbook(write(tmp_path, REPORTS[level](), place="Thái Nguyên"))["Tổng hợp"]
    assert ws["A1"].value == "ỦY BAN NHÂN DÂN" and ws["A1"].font.b
    assert ws["A2"].value == "TỈNH THÁI NGUYÊN" and ws["A2"].font.b
    assert ws["C4"].value == "Thái Nguyên, ngày 03 tháng 11 năm 2026"


def test_commune_of_2025_reports_to_the_province(tmp_path):
    report = commune_report()
    report["unit"] = unit("05749", "Xã Đại Từ", "commune", "2025")
    report["parent"] = None
    ws = openpyxl.load_workbook(write(tmp_path, report))["Tổng hợp"]
    assert ws["A1"].value == "UBND TỈNH THÁI NGUYÊN"
    assert ws["A2"].value == "ỦY BAN NHÂN DÂN XÃ ĐẠI TỪ"
    assert ws["C4"].value.startswith("Đại Từ, ngày")


def test_january_is_written_with_a_leading_zero(tmp_path):
    report = commune_report()
    report["month"] = "2027-01"
    report["period"] = {"start": "2027-01-01", "end": "2027-01-31", "year_start": "2027-01-01"}
    report["generated_at"] = "2027-02-15T08:00:00"
    ws = openpyxl.load_workbook(write(tmp_path, report))["Tổng hợp"]
    assert ws["C4"].value == "Hùng Sơn, ngày 15 tháng 02 năm 2027"
    assert "Kết quả hoạt động của Tổ công nghệ số cộng đồng tháng 01 năm 2027" in values(ws)


# ---------------------------------------------------------------------------------------------
# Numbers


@pytest.mark.parametrize("level", list(REPORTS))
def test_summary_indicators_are_the_totals_as_numbers(tmp_path, level):
    report = REPORTS[level]()
    total = report["total"]
    ws = openpyxl.load_workbook(write(tmp_path, report))["Tổng hợp"]
    for label, key in (("Số tổ CNSCĐ đang hoạt động", "teams"), ("Số tổ có quyết định thành lập", "teams_with_decision"),
                       ("Số thôn, tổ dân phố có tổ", "hamlets_covered"), ("Số thành viên của các tổ", "members"),
                       ("Số thành viên đã dự tập huấn", "members_trained")):
        cell = row_of(ws, label)[4]
        assert cell.value == total[key] and cell.data_type == "n"
        assert cell.number_format == "#,##0"
    for label, key in (("Số lượt hỗ trợ hộ gia đình", "visits"), ("Số hộ được hỗ trợ", "households_reached"),
                       ("Số lượt người được hỗ trợ", "people_helped")):
        row = row_of(ws, label)
        assert [c.value for c in row[4:7]] == [total[key]["month"], total[key]["ytd"], total[key]["total"]]
        assert all(c.data_type == "n" for c in row[4:7])
    pct = row_of(ws, "Tỷ lệ thôn, tổ dân phố có tổ")[4]
    assert pct.value == pytest.approx(total["hamlets_covered_pct"])
    assert 0 < pct.value <= 1 and pct.number_format == "0.0%"
    reached = row_of(ws, "Tỷ lệ hộ được hỗ trợ")[5]
    assert reached.value == pytest.approx(total["households_reached_pct"]["ytd"]) and reached.number_format == "0.0%"
    # The breakdown by service is Phụ lục III's (its total row): the summary stays on one page.
    assert not [row for row in ws.iter_rows() if row[1].value == "Dịch vụ công trực tuyến"]


@pytest.mark.parametrize("level", list(REPORTS))
def test_unit_appendices_have_every_row_and_the_total(tmp_path, level):
    """The wide per-unit table is split: register (teams, members, training) and activity."""
    report = REPORTS[level]()
    wb = openpyxl.load_workbook(write(tmp_path, report))
    register, activity = wb["PL I - Tổ, thành viên"], wb["PL II - Hoạt động"]
    expected = [row["unit"]["name"].replace("\x07", "") for row in report["rows"]]
    total = report["total"]
    for ws in (register, activity):
        assert [ws.cell(row=r, column=2).value for r in range(7, 7 + len(expected))] == expected
        assert ws.cell(row=5, column=2).value == {
            "commune": "Thôn, tổ dân phố", "district": "Xã, phường, thị trấn",
            "province": "Huyện, quận, thị xã, thành phố", "province_2025": "Xã, phường, đặc khu",
        }[level]
    assert register["A1"].value == "Phụ lục I" and activity["A1"].value == "Phụ lục II"
    assert register["A2"].value == "TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG, THÀNH VIÊN VÀ TẬP HUẤN THEO ĐƠN VỊ"
    total_row = row_of(register, "Tổng cộng")
    numbers = [c.value for c in total_row[2:]]
    assert numbers[0] == total["teams"]
    assert numbers[4] == pytest.approx(total["hamlets_covered_pct"])
    assert total_row[6].number_format == "0.0%"
    assert all(c.data_type == "n" for c in total_row[2:])
    total_row = row_of(activity, "Tổng cộng")
    assert [c.value for c in total_row[2:4]] == [total["visits"]["month"], total["visits"]["ytd"]]
    assert [c.value for c in total_row[8:10]] == [total["people_helped"]["month"], total["people_helped"]["ytd"]]
    assert all(c.data_type == "n" for c in total_row[2:])
    assert activity.cell(row=5, column=9).value == "Số lượt người được hỗ trợ"
    assert activity.cell(row=6, column=9).value == "Tháng 10/2026"
    assert activity.cell(row=6, column=10).value == "Lũy kế năm 2026"


def test_province_communes_sheet(tmp_path):
    report = province_report()
    ws = openpyxl.load_workbook(write(tmp_path, report))["PL III - Tổ theo xã"]
    assert ws["A1"].value == "Phụ lục III"
    assert [ws.cell(row=r, column=2).value for r in range(7, 10)] == [
        "Thị trấn Hùng Sơn", "Xã Phú Xuyên", "Phường Quang Trung"]
    assert ws.cell(row=7, column=3).value == 20
    assert row_of(ws, "Tổng cộng")[2].value == report["total"]["teams"]


def test_services_sheet(tmp_path):
    report = district_report()
    ws = openpyxl.load_workbook(write(tmp_path, report))["PL III - Dịch vụ"]
    assert ws.cell(row=5, column=5).value == "Dịch vụ công trực tuyến"
    assert ws.cell(row=5, column=9).value == "C-Thái Nguyên"
    first = report["rows"][0]
    assert [ws.cell(row=7, column=c).value for c in range(3, 11)] == [
        first["people_helped"]["month"], first["people_helped"]["ytd"],
        600, 5000, 700, 6000, 55, 300]
    total_row = row_of(ws, "Tổng cộng")
    assert total_row[6].value == report["total"]["people_by_service"]["vneid"]["month"]


def test_a_service_a_unit_never_used_counts_zero(tmp_path):
    report = province_2025_report()
    del report["rows"][0]["people_by_service"]["ctn"]
    ws = openpyxl.load_workbook(write(tmp_path, report))["PL III - Dịch vụ"]
    assert ws.cell(row=7, column=7).value == 0


def test_targets_progress(tmp_path):
    ws = openpyxl.load_workbook(write(tmp_path, commune_report()))["Tổng hợp"]
    people = [row for row in ws.iter_rows() if row[1].value == "Số lượt người được hỗ trợ" and row[3].value == 2026][0]
    assert [c.value for c in people[4:7]] == [500, 534, pytest.approx(1.068)]
    assert people[6].number_format == "0.0%"
    share = [row for row in ws.iter_rows() if row[1].value == "Tỷ lệ thôn, tổ dân phố có tổ" and row[3].value == 2026][0]
    assert share[4].value == 1.0 and share[4].number_format == "0.0%"


def test_digital_citizens_when_the_report_has_them(tmp_path):
    """report.py may add the digital_citizens flow; it is shown when present."""
    report = district_report()
    for number, row in enumerate(report["rows"]):
        row["digital_citizens"] = flow(100 + number, 900 + number, 1500 + number)
    report["total"]["digital_citizens"] = flow(510, 4510, 7510)
    report["targets"].append({"indicator": "digital_citizens", "year": 2026, "value": 0.2, "percent": True,
                              "base": "working_age", "actual": 0.2423, "progress": 1.2115})
    wb = openpyxl.load_workbook(write(tmp_path, report))
    summary = wb["Tổng hợp"]
    row = [r for r in summary.iter_rows() if r[1].value == "Số lượt người được hỗ trợ dịch vụ công dân số"][0]
    assert [c.value for c in row[4:7]] == [510, 4510, 7510]
    units = wb["PL II - Hoạt động"]
    assert units["K5"].value == "Số lượt người được hỗ trợ dịch vụ công dân số"
    assert units["K7"].value == 100 and row_of(units, "Tổng cộng")[11].value == 4510
    target = row_of(summary, "Số lượt người được hỗ trợ dịch vụ công dân số (tỷ lệ so với số người trong độ tuổi "
                             "lao động đã ghi)")
    assert target[4].value == 0.2 and target[4].number_format == "0.0%"
    assert target[6].value == pytest.approx(1.2115)
    # Nothing claims more than it counts: no criteria are defined, so none is said to be met.
    for ws in wb.worksheets:
        assert not [v for v in values(ws) if isinstance(v, str) and "tiêu chí" in v], ws.title


def test_no_targets_says_so(tmp_path):
    ws = openpyxl.load_workbook(write(tmp_path, district_report() | {"targets": []}))["Tổng hợp"]
    assert "II. TIẾN ĐỘ THỰC HIỆN CHỈ TIÊU KẾ HOẠCH: Chưa đặt chỉ tiêu kế hoạch." in values(ws)


# ---------------------------------------------------------------------------------------------
# Completeness


def test_completeness_lists_missing_units_with_dates(tmp_path):
    ws = openpyxl.load_workbook(write(tmp_path, district_report(), all_units=True))["PL V - Tình hình gửi"]
    missing = row_of(ws, "Xã La Bằng")
    assert missing[3].value == "Chưa gửi"
    assert missing[4].value is None and missing[5].value is None
    sent = row_of(ws, "Xã Phú Xuyên")
    assert sent[2].value == "05764" and sent[2].data_type == "s"
    assert sent[3].value == "Đã gửi"
    assert sent[4].value == datetime(2026, 11, 2) and sent[4].number_format == "dd/mm/yyyy"
    assert sent[5].value == datetime(2026, 11, 3) and sent[5].number_format == "dd/mm/yyyy"
    counts = {row[1].value: row[3].value for row in ws.iter_rows() if row[1].value and str(row[1].value).startswith("Số đơn vị")}
    assert counts == {"Số đơn vị phải báo cáo": 5, "Số đơn vị đã gửi": 4, "Số đơn vị chưa gửi": 1}
    assert "Đã nhận dữ liệu của 4/5 đơn vị; chưa gửi: Xã La Bằng." in values(ws.parent["Tổng hợp"])


def test_completeness_of_the_2025_province(tmp_path):
    ws = openpyxl.load_workbook(write(tmp_path, province_2025_report()))["PL V - Tình hình gửi"]
    # A unit that never sent anything is named in one line under the table, not given a row.
    assert "1 xã chưa gửi dữ liệu và chưa có số liệu: Phường Phan Đình Phùng." in values(ws)
    assert [ws.cell(row=r, column=2).value for r in (7, 8)] == ["Xã Đại Từ", "Xã Quân Chu"]
    summary = ws.parent["Tổng hợp"]
    assert "Đơn vị hành chính từ ngày 01/7/2025 không còn cấp huyện." in values(summary)


def test_completeness_does_not_apply_to_a_commune(tmp_path):
    wb = openpyxl.load_workbook(write(tmp_path, commune_report()))
    assert not [name for name in wb.sheetnames if "Tình hình" in name]


# ---------------------------------------------------------------------------------------------
# Text stays text


def test_dangerous_names_stay_text(tmp_path):
    path = write(tmp_path, commune_report())
    wb = openpyxl.load_workbook(path)
    for sheet in ("PL I - Tổ, thành viên", "PL II - Hoạt động", "PL III - Dịch vụ"):
        ws = wb[sheet]
        for name in DANGEROUS:
            cell = find(ws, name)
            assert cell.data_type == "s"
            assert cell.value == name
            assert cell.quotePrefix
    # The control character was dropped, the rest of the name kept.
    assert find(wb["PL I - Tổ, thành viên"], "Xóm Đồng Tâm").data_type == "s"


@pytest.mark.parametrize("level", list(REPORTS))
def test_no_formula_anywhere(tmp_path, level):
    path = write(tmp_path, REPORTS[level]())
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    # And in the file itself, whatever a reader makes of it.
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert not re.search(rb"<(\w+:)?f[ >]", archive.read(name)), name


def test_a_malicious_service_name_stays_text(tmp_path):
    report = district_report()
    report["services"][0]["name"] = "=cmd|' /C calc'!A0"
    ws = openpyxl.load_workbook(write(tmp_path, report))["PL III - Dịch vụ"]
    cell = find(ws, "=cmd|' /C calc'!A0")
    assert cell.data_type == "s"


def test_times_new_roman_everywhere(tmp_path):
    wb = openpyxl.load_workbook(write(tmp_path, district_report()))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    assert cell.font.name == "Times New Roman", (ws.title, cell.coordinate)
    # Unstyled cells too, for what a clerk types in later.
    assert wb["Tổng hợp"]["Z99"].font.name == "Times New Roman"


# ---------------------------------------------------------------------------------------------
# Chart and print setup


def chart_pairs(path: Path, chart_number: int = 1) -> list[tuple[str, float]]:
    """Each bar's label and value as the chart part of the file caches them, paired by index."""
    with zipfile.ZipFile(path) as archive:
        xml = archive.read(f"xl/charts/chart{chart_number}.xml").decode("utf-8")
    cat = re.search(r"<c:cat>(.*?)</c:cat>", xml, re.S).group(1)
    val = re.search(r"<c:val>(.*?)</c:val>", xml, re.S).group(1)
    labels = dict(re.findall(r'<c:pt idx="(\d+)"><c:v>([^<]*)</c:v></c:pt>', cat))
    numbers = dict(re.findall(r'<c:pt idx="(\d+)"><c:v>([^<]*)</c:v></c:pt>', val))
    assert labels.keys() == numbers.keys() and labels
    return [(labels[i], float(numbers[i])) for i in sorted(labels, key=int)]


@pytest.mark.parametrize("level", list(REPORTS))
def test_charts_appendix_has_the_ranked_bar_chart(tmp_path, level):
    report = REPORTS[level]()
    path = write(tmp_path, report)
    wb = openpyxl.load_workbook(path)
    sheet = [name for name in wb.sheetnames if "Biểu đồ" in name][0]
    assert not wb["Tổng hợp"]._charts  # the summary stays compact: text and tables only
    charts = wb[sheet]._charts
    assert len(charts) == 1 and charts[0].tagname == "barChart"
    title = "".join(run.t for p in charts[0].title.tx.rich.p for run in (p.r or []))
    assert title == "Số lượt người được hỗ trợ trong tháng 10/2026"
    # Every bar is its own unit with its own value, highest first, read from the ranked table beside it.
    expected = sorted(((row["unit"]["name"].replace("\x07", ""), row["people_helped"]["month"])
                       for row in report["rows"] if row["people_helped"]["month"]), key=lambda item: -item[1])
    pairs = chart_pairs(path)
    assert pairs == [(name, float(value)) for name, value in expected]
    assert charts[0].series[0].val.numRef.f.startswith(f"'{sheet}'!$N$")
    for ws in wb.worksheets:
        assert not ws._charts or ws.title == sheet


def test_many_units_show_the_first_fifteen_and_the_rest_as_one_bar(tmp_path):
    report = district_report()
    template = report["rows"][0]
    rows = []
    for n in range(30):
        row = {**template, "unit": unit(f"{5800 + n:05d}", f"Xã Số {n + 1}", "commune"),
               "people_helped": flow(0 if n % 3 == 0 else 10 + n, 100, 100)}
        rows.append(row)
    report["rows"] = rows
    path = write(tmp_path, report)
    pairs = chart_pairs(path)
    helped = sorted(((r["unit"]["name"], r["people_helped"]["month"]) for r in rows if r["people_helped"]["month"]),
                    key=lambda item: -item[1])
    assert pairs[:15] == [(name, float(value)) for name, value in helped[:15]]
    assert pairs[15] == ("5 xã khác", float(sum(value for _, value in helped[15:])))
    assert len(pairs) == 16
    zeros = [r["unit"]["name"] for r in rows if not r["people_helped"]["month"]]
    sheet = openpyxl.load_workbook(path)["PL IV - Biểu đồ, xu hướng"]
    assert (f"10 xã chưa có lượt người được hỗ trợ trong tháng 10/2026: {', '.join(zeros)}."
            in values(sheet))


def test_no_rows_means_no_chart(tmp_path):
    report = commune_report() | {"rows": []}
    wb = openpyxl.load_workbook(write(tmp_path, report))
    assert not any(ws._charts for ws in wb.worksheets)
    assert "Không có số liệu theo đơn vị." in values(wb["PL IV - Biểu đồ, xu hướng"])


@pytest.mark.parametrize("level", list(REPORTS))
def test_print_setup(tmp_path, level):
    wb = openpyxl.load_workbook(write(tmp_path, REPORTS[level]()))
    for ws in wb.worksheets:
        # The report itself is a portrait page; the appendices' tables print landscape.
        assert ws.page_setup.orientation == ("portrait" if ws.title == "Tổng hợp" else "landscape")
        assert int(ws.page_setup.paperSize) == 9  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
        assert ws.page_margins.left >= 0.5
        # Every page: the unit and "Trang x/y", numbered through the workbook.
        assert ws.oddFooter.left.text.startswith(REPORTS[level]()["unit"]["name"])
        assert ws.oddFooter.right.text == "Trang &P/&N"
        assert not ws.page_setup.useFirstPageNumber
    tables = [ws for ws in wb.worksheets if ws.title != "Tổng hợp" and "Biểu đồ" not in ws.title
              and "Cách tính" not in ws.title]
    for ws in tables:
        # Header rows repeat on every printed page.
        assert ws.print_title_rows == "$5:$6", ws.title
        assert ws.row_dimensions[5].height and ws["B5"].alignment.wrap_text
        # The table no wider than the page (no shrinking).
        widths = [d.width * (d.max - d.min + 1) for d in ws.column_dimensions.values() if d.min <= ws.max_column]
        assert sum(widths) <= 118, (ws.title, sum(widths))  # as stored: each column a little wider than set
    summary = wb["Tổng hợp"]
    widths = [d.width * (d.max - d.min + 1) for d in summary.column_dimensions.values()]
    assert sum(widths) <= 80
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    assert cell.font.sz >= 10, (ws.title, cell.coordinate)


def printed_page(ws, row, page_height=726.0):
    """The page a row prints on, given the explicit row heights and the manual breaks."""
    breaks = {brk.id for brk in ws.row_breaks.brk}
    page, used = 0, 0.0
    for r in range(1, row + 1):
        height = ws.row_dimensions[r].height or 15
        if used and (r - 1 in breaks or used + height > page_height):
            page, used = page + 1, 0.0
        used += height
    return page


@pytest.mark.parametrize("count", range(0, 30, 5))
def test_signature_block_stays_with_figures(tmp_path, count):
    report = district_report()
    report["notes"] = [f"Ghi chú số {n}: số liệu đã được đối chiếu với sổ theo dõi của xã." for n in range(count)]
    ws = openpyxl.load_workbook(write(tmp_path, report, signer="Nguyễn Văn Đức"))["Tổng hợp"]
    start, end = find(ws, "Nơi nhận:").row, find(ws, "Nguyễn Văn Đức").row
    assert printed_page(ws, start) == printed_page(ws, end)
    # Nghị định 30: the signature page carries text too; with few notes, the last rows of figures.
    assert printed_page(ws, start - 2) == printed_page(ws, start) and ws.cell(row=start - 2, column=1).value
    last_figure = max(cell.row for row in ws.iter_rows() for cell in row
                      if isinstance(cell.value, (int, float)) and cell.column >= 5)
    if count <= 5:
        assert printed_page(ws, last_figure) == printed_page(ws, end)
    # Compact: the summary of a five-commune district fits on one page, signature included.
    if count == 0:
        assert printed_page(ws, end) == 0


def test_issuer_and_signer_from_the_letterhead_settings(tmp_path):
    report = district_report()
    report["letterhead"] = {"issuer": "PHÒNG VĂN HÓA VÀ THÔNG TIN", "issuer_parent": "", "doc_symbol": "BC-VHTT",
                            "signer_authority": "KT.", "signer_title": "PHÓ TRƯỞNG PHÒNG",
                            "signer_name": "Nguyễn Văn A", "preparer": "Lê Thị B",
                            "recipients": "UBND huyện (b/c); Lưu: VT"}
    ws = openpyxl.load_workbook(write(tmp_path, report, number="12"))["Tổng hợp"]
    assert ws["A1"].value == "ỦY BAN NHÂN DÂN HUYỆN ĐẠI TỪ" and not ws["A1"].font.b
    assert ws["A2"].value == "PHÒNG VĂN HÓA VÀ THÔNG TIN" and ws["A2"].font.b
    assert ws["A4"].value == "Số: 12/BC-VHTT"
    found = values(ws)
    for text in ("KT. TRƯỞNG PHÒNG", "PHÓ TRƯỞNG PHÒNG", "Nguyễn Văn A", "Lê Thị B", "- UBND huyện (b/c);",
                 "- Lưu: VT."):
        assert text in found, text
    assert "TM. ỦY BAN NHÂN DÂN" not in found and "CHỦ TỊCH" not in found
    # The command line's signer wins for one report.
    ws = openpyxl.load_workbook(write(tmp_path, report, signer="Trần Văn C"))["Tổng hợp"]
    assert "Trần Văn C" in values(ws) and "Nguyễn Văn A" not in values(ws)


def test_a_full_number_is_used_as_given(tmp_path):
    ws = openpyxl.load_workbook(write(tmp_path, district_report(), number="112/BC-UBND"))["Tổng hợp"]
    assert ws["A4"].value == "Số: 112/BC-UBND"


# ---------------------------------------------------------------------------------------------
# Language, errors, LibreOffice


def test_english_workbook(tmp_path, monkeypatch):
    monkeypatch.setenv("CDT_LANG", "en")
    wb = openpyxl.load_workbook(write(tmp_path, district_report()))
    assert wb.sheetnames == ["Summary", "App I - Teams, members", "App II - Activity", "App III - Services",
                             "App IV - Charts, trend", "App V - Reporting status", "App VI - Definitions"]
    ws = wb["Summary"]
    assert ws["C1"].value == "SOCIALIST REPUBLIC OF VIETNAM"
    assert ws["A2"].value == "PEOPLE'S COMMITTEE OF HUYỆN ĐẠI TỪ"
    assert row_of(ws, "Active teams")[4].value == district_report()["total"]["teams"]
    assert "1 communes that sent nothing and have no figures: Xã La Bằng." in values(wb["App V - Reporting status"])


def test_catalogues_have_the_same_keys():
    vi, en = i18n.catalogue("vi"), i18n.catalogue("en")
    ours = {k for k in vi if k.startswith("xlsx_report.")}
    assert ours and ours == {k for k in en if k.startswith("xlsx_report.")}
    source = (Path(__file__).parents[1] / "cdt" / "export.py").read_text(encoding="utf-8")
    for key in re.findall(r't\("(xlsx_report\.[\w.]+)"', source):
        assert key in ours, key


def test_unwritable_path_is_a_cdt_error(tmp_path):
    with pytest.raises(CdtError) as caught:
        write_report_xlsx(commune_report(), tmp_path / "không có" / FILE_NAME)
    assert "không có" in str(caught.value)


def _office() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(_office() is None, reason="LibreOffice is not installed")
@pytest.mark.parametrize("level", ["commune", "province"])
def test_libreoffice_converts_to_pdf(tmp_path, level):
    path = write(tmp_path, REPORTS[level]())
    out = tmp_path / "pdf"
    profile = (tmp_path / "lo profile").as_uri()
    result = subprocess.run(
        [_office(), f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(out), str(path)],
        capture_output=True, timeout=180, check=False,
    )
    pdf = out / (Path(FILE_NAME).stem + ".pdf")
    assert result.returncode == 0, result.stderr
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")


# ---------------------------------------------------------------------------------------------
# An empty month, the trend appendices


def test_trend_appendices(tmp_path):
    path = write(tmp_path, with_trends(district_report()))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[4:6] == ["PL IV - Biểu đồ, xu hướng", "PL V - Xu hướng theo ĐV"]
    trend = wb["PL IV - Biểu đồ, xu hướng"]
    assert trend["A1"].value == "Phụ lục IV" and trend["A2"].value == "BIỂU ĐỒ VÀ XU HƯỚNG 12 THÁNG"
    # One row per indicator, one column per month, every month's label whole.
    head = find(trend, "11/2025")
    assert [trend.cell(row=head.row, column=c).value for c in range(3, 15)] == \
        ["11/2025", "12/2025"] + [f"{m:02d}/2026" for m in range(1, 11)]
    assert [trend.cell(row=head.row + k, column=14).value for k in range(1, 5)] == [12, 24, 36, 48]
    assert [chart.tagname for chart in trend._charts] == ["barChart", "lineChart"]
    line = trend._charts[1]
    assert line.x_axis.tickLblSkip == 1 and line.x_axis.txPr.bodyPr.rot in (None, 0)
    assert line.series[2].cat.strRef.f == f"'PL IV - Biểu đồ, xu hướng'!$C${head.row}:$N${head.row}"
    points = row_of(trend, "Thực hiện")
    assert [c.value for c in points[2:4]] == [5000, 10000]
    units = wb["PL V - Xu hướng theo ĐV"]
    assert units["B7"].value == "Thị trấn Hùng Sơn"
    assert [units.cell(row=7, column=c).value for c in range(3, 16)] == list(range(12)) + [66]
    assert row_of(units, "Tổng cộng")[-1].value == sum(3 * n for n in range(1, 13))
    assert any("IV: biểu đồ, xu hướng" in str(v) for v in values(wb["Tổng hợp"]))


def test_an_empty_month_has_no_broken_chart(tmp_path):
    report = district_report()
    for row in report["rows"]:
        row["people_helped"]["month"] = 0
    wb = openpyxl.load_workbook(write(tmp_path, report))
    assert not any(ws._charts for ws in wb.worksheets)
    assert ("Tháng 10/2026 chưa có người được hỗ trợ: không có biểu đồ để hiển thị."
            in values(wb["PL IV - Biểu đồ, xu hướng"]))


def test_the_summary_repeats_no_head_row(cdt, tmp_path):
    """Section I stays on the report's page: a repeated head row would print alone on the next page."""
    from openpyxl import load_workbook

    ok(cdt("init", "--commune", "05761", "--structure", "legacy"))
    ok(cdt("report", "--month", "2026-10", "--xlsx", tmp_path / "r.xlsx"))
    summary = load_workbook(tmp_path / "r.xlsx").worksheets[0]
    assert not summary.print_title_rows
