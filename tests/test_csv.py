"""--format csv of every list and of report: UTF-8 with a BOM (Excel), formula-safe, headings first."""

from __future__ import annotations

import csv
import io

import pytest

from kits.templates import TEMPLATES


@pytest.fixture
def register_with_rows(cdt, commune):
    def build(_path):
        assert cdt("hamlet", "add", "=La Cút", "--kind", "xóm").exit_code == 0
        assert cdt("team", "add", "--hamlet", "la cut", "--decision", "12/QĐ-UBND", "--decided-on", "01/02/2026").exit_code == 0
        assert cdt("member", "add", "Nguyễn Thị Lan", "--team", "la cut", "--role", "tổ trưởng",
                   "--phone", "0912345678").exit_code == 0
        assert cdt("visit", "log", "--team", "la cut", "--household", "LC-004", "--people", "120", "--service", "vneid",
                   "--date", "03/11/2026", "--member", "lan").exit_code == 0
        assert cdt("training", "add", "@Kỹ năng số", "--date", "05/11/2026").exit_code == 0

    return TEMPLATES.copy("csv-register", commune, build)


def _read(result) -> list[list[str]]:
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("\ufeff"), result.stdout[:20]
    return list(csv.reader(io.StringIO(result.stdout[1:])))


@pytest.mark.parametrize("group, heading, cell", [
    ("member", "Họ và tên", "Nguyễn Thị Lan"),
    ("team", "Thôn/TDP", "'=La Cút"),
    ("visit", "Số người", "120"),
    ("training", "Nội dung", "'@Kỹ năng số"),
    ("hamlet", "Tên", "'=La Cút"),
])
def test_list_as_csv(cdt, register_with_rows, group, heading, cell):
    rows = _read(cdt(group, "list", "--format", "csv"))
    header = rows[0]
    assert heading in header
    assert rows[1][header.index(heading)] == cell
    assert len(rows) == 2


def test_report_csv_has_a_bom(cdt, register_with_rows):
    rows = _read(cdt("report", "--month", "2026-11", "--format", "csv"))
    assert rows[0][0] == "unit_code"
    assert rows[-1][rows[0].index("people_helped_month")] == "120"
