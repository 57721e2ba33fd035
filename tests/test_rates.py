"""Rates over the units that recorded their base (cdt/reports/rates.py), seen by a user in the terminal,
the JSON, the workbook and the web page: the Đại Từ case of the demo (five communes report, only Phúc
Lương recorded its households) and a district where three of five did."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from cdt.domain import units
from cdt.store import Store
from kits.registers import create_commune, merge_into

COMMUNES = ["05761", "05767", "05770", "05773", "05776"]  # Hùng Sơn, Phúc Lương, Minh Tiến, Yên Lãng, Đức Lương
REACHED = {"05761": 24, "05767": 26, "05770": 21, "05773": 26, "05776": 18}  # households visited in November


def build_district(tmp_path: Path, households: dict[str, int]) -> Path:
    """Five communes of Đại Từ, each with one hamlet, one team and a household visited per code in
    November 2026 (and one in October); households recorded only where the mapping says."""
    files = []
    for code in COMMUNES:
        path = tmp_path / f"{code}.db"
        store = create_commune(path, code)
        with store.write() as tx:
            hamlet = tx.insert("hamlet", {"name": f"Xóm Một {code}", "kind": "xóm",
                                          "households": households.get(code),
                                          "working_age": 3 * households[code] if code in households else None})
            team = tx.insert("team", {"hamlet_id": hamlet["id"], "decision_number": "1/QĐ", "decision_date": None,
                                      "founded_on": "2026-01-05", "status": "active", "dissolved_on": None})
            tx.insert("member", {"team_id": team["id"], "full_name": "Hoàng Văn An", "role": "leader",
                                 "joined_on": "2026-01-05", "left_on": None})
            for number in range(REACHED[code]):
                tx.insert("visit", {"date": "2026-11-10", "team_id": team["id"], "household": f"H{number}",
                                    "people": 2, "services": json.dumps(["dvc"]), "members": "[]", "notes": None})
            tx.insert("visit", {"date": "2026-10-10", "team_id": team["id"], "household": "H0", "people": 1,
                                "services": json.dumps(["vneid"]), "members": "[]", "notes": None})
        store.close()
        files.append(path)
    district = tmp_path / "huyen.db"
    unit = units.get("171", level="district", structure="legacy")
    Store.create(district, level="district", structure="legacy", province=(unit.province_code, unit.province_name),
                 district=(unit.code, unit.name)).close()
    merge_into(district, files, {code: "2026-12-05T08:00:00" for code in COMMUNES})
    return district


def summary_row(ws, label: str) -> int:
    return next(row[0].row for row in ws.iter_rows() if row[1].value == label)


def test_dai_tu_one_commune_of_five_with_households_gives_no_rate(cdt, tmp_path):
    district = build_district(tmp_path, {"05767": 633})
    data = json.loads(cdt("--db", district, "report", "--month", "2026-11", "--format", "json").stdout)
    total = data["total"]
    # The households reached everywhere over Phúc Lương's households alone was 115/633 = 18,2 %.
    assert total["households_reached"]["month"] == sum(REACHED.values()) == 115
    assert total["rates"]["households_reached_pct"] == {
        "base": "households", "numerator": {"month": 26, "ytd": 26, "total": 26}, "denominator": 633,
        "base_units": 1, "units": 5, "unit_level": "commune", "sufficient": False}
    assert total["households_reached_pct"] == {"month": None, "ytd": None, "total": None}
    phuc_luong = next(row for row in data["rows"] if row["unit"]["code"] == "05767")
    assert phuc_luong["households_reached_pct"]["month"] == round(26 / 633, 6)
    assert total["rates"]["hamlets_covered_pct"]["base_units"] == 5 and total["hamlets_covered_pct"] == 1.0
    missing = {entry["unit"]["code"]: entry["missing_bases"] for entry in data["completeness"] if entry["reported"]}
    assert missing == {"05761": ["households", "working_age"], "05767": [],
                       "05770": ["households", "working_age"], "05773": ["households", "working_age"],
                       "05776": ["households", "working_age"]}

    table = cdt("--db", district, "report", "--month", "2026-11").stdout
    line = next(text for text in table.splitlines() if "Tỷ lệ hộ được hỗ trợ" in text)
    assert "chưa đủ số liệu" in line and "chỉ 1/5 xã có số hộ" in line
    assert "18,2" not in table

    book, page = tmp_path / "bao-cao.xlsx", tmp_path / "bao-cao.html"
    r = cdt("--db", district, "report", "--month", "2026-11", "--xlsx", book, "--html", page)
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(book)
    ws = wb["Tổng hợp"]
    row = summary_row(ws, "Tỷ lệ hộ được hỗ trợ")
    assert ws.cell(row=row, column=5).value == "chưa đủ số liệu"
    assert ws.cell(row=row + 1, column=2).value == "chỉ 1/5 xã có số hộ"
    status = wb["PL VI - Tình hình gửi"]
    by_name = {r[1].value: r[6].value for r in status.iter_rows(min_row=7) if r[1].value}
    assert by_name["Thị trấn Hùng Sơn"] == "số hộ, số người trong độ tuổi lao động"
    assert by_name["Xã Phúc Lương"] in (None, "")
    text = page.read_text(encoding="utf-8")
    assert "chưa đủ số liệu" in text and "chỉ 1/5 xã có số hộ" in text and "18,2%" not in text


def test_three_communes_of_five_give_a_rate_over_those_three(cdt, tmp_path):
    households = {"05761": 300, "05767": 633, "05770": 400}
    district = build_district(tmp_path, households)
    assert cdt("--db", district, "target", "set", "households_reached", "--year", "2026", "--value", "50",
               "--percent").exit_code == 0
    data = json.loads(cdt("--db", district, "report", "--month", "2026-11", "--format", "json").stdout)
    reached = REACHED["05761"] + REACHED["05767"] + REACHED["05770"]
    rate = data["total"]["rates"]["households_reached_pct"]
    assert (rate["numerator"]["month"], rate["denominator"], rate["base_units"], rate["units"], rate["sufficient"]) \
        == (reached, 1333, 3, 5, True)
    assert data["total"]["households_reached_pct"]["month"] == round(reached / 1333, 6)
    target = data["targets"][0]
    assert (target["numerator"], target["denominator"], target["base_units"], target["units"]) == (reached, 1333, 3, 5)
    assert target["actual"] == round(reached / 1333, 6) and target["progress"] == pytest.approx(reached / 1333 / 0.5,
                                                                                                  abs=1e-5)
    table = cdt("--db", district, "report", "--month", "2026-11").stdout
    assert "tính trên 3/5 xã có số hộ" in table
    shown = f"{reached / 1333 * 100:.1f}".replace(".", ",") + "%"
    assert shown in table
    book = tmp_path / "b.xlsx"
    assert cdt("--db", district, "report", "--month", "2026-11", "--xlsx", book).exit_code == 0
    ws = openpyxl.load_workbook(book)["Tổng hợp"]
    row = summary_row(ws, "Tỷ lệ hộ được hỗ trợ")
    assert ws.cell(row=row, column=5).value == pytest.approx(reached / 1333, abs=1e-6)
    assert ws.cell(row=row + 1, column=2).value == "tính trên 3/5 xã có số hộ"
