"""cdt target set|list and the progress section of the report."""

from __future__ import annotations

import json

import pytest


def _commune_with_visits(cdt):
    assert cdt("hamlet", "add", "Xóm Một", "--kind", "xóm", "--households", "50", "--working-age", "100").exit_code == 0
    assert cdt("hamlet", "add", "Xóm Hai", "--kind", "xóm", "--households", "30", "--working-age", "60").exit_code == 0
    assert cdt("team", "add", "--hamlet", "Xóm Một", "--founded-on", "01/01/2025").exit_code == 0
    for household, people, day, service in (("H1", "4", "05/12/2025", "dvc"), ("H2", "3", "05/03/2026", "vneid"),
                                            ("H1", "2", "05/10/2026", "ecommerce"), ("H3", "5", "06/10/2026", "payment")):
        r = cdt("visit", "log", "--team", "Xóm Một", "--household", household, "--people", people,
                "--date", day, "--service", service)
        assert r.exit_code == 0, r.output


def test_set_list_and_change(cdt, commune):
    r = cdt("target", "set", "people_helped", "--year", "2026", "--value", "500")
    assert r.exit_code == 0 and "500" in r.stdout
    assert cdt("target", "set", "digital_citizens", "--year", "2026", "--value", "20", "--percent").exit_code == 0
    assert cdt("target", "set", "people_helped", "--year", "2026", "--value", "600").exit_code == 0
    listed = json.loads(cdt("target", "list", "--format", "json").stdout)
    assert [(t["indicator"], t["year"], t["value"], t["percent"]) for t in listed] == [
        ("digital_citizens", 2026, 20, True), ("people_helped", 2026, 600, False)]
    assert listed[0]["base"] == "working_age"
    table = cdt("target", "list")
    assert table.exit_code == 0 and "20%" in table.stdout and "600" in table.stdout


def test_empty_list(cdt, commune):
    assert json.loads(cdt("target", "list", "--format", "json").stdout) == []
    assert "Chưa có chỉ tiêu" in cdt("target", "list").stdout


@pytest.mark.parametrize("args, words", [
    (["nonsense", "--year", "2026", "--value", "5"], "Không có chỉ tiêu"),
    (["visits", "--year", "2026", "--value", "5", "--percent"], "không đặt theo %"),
    (["people_helped", "--year", "2026", "--value", "150", "--percent"], "vượt quá 100%"),
    (["people_helped", "--year", "1800", "--value", "5"], ""),
    (["people_helped", "--year", "2026", "--value", "-5"], ""),
    (["people_helped", "--year", "2026", "--value", "nhiều"], ""),
])
def test_bad_targets_are_one_vietnamese_line(cdt, commune, args, words):
    r = cdt("target", "set", *args)
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output and r.stderr.startswith("Lỗi") and words in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_progress_in_the_report(cdt, commune):
    _commune_with_visits(cdt)
    assert cdt("target", "set", "people_helped", "--year", "2026", "--value", "40").exit_code == 0
    assert cdt("target", "set", "digital_citizens", "--year", "2026", "--value", "20", "--percent").exit_code == 0
    assert cdt("target", "set", "households_reached", "--year", "2026", "--value", "10", "--percent").exit_code == 0
    assert cdt("target", "set", "hamlets_covered", "--year", "2026", "--value", "100", "--percent").exit_code == 0
    assert cdt("target", "set", "visits", "--year", "2025", "--value", "10").exit_code == 0  # an earlier year
    report = json.loads(cdt("report", "--month", "2026-10", "--format", "json").stdout)
    targets = {t["indicator"]: t for t in report["targets"]}
    assert set(targets) == {"people_helped", "digital_citizens", "households_reached", "hamlets_covered"}
    # Flows count the year to date: 3 + 2 + 5 people in 2026.
    assert targets["people_helped"]["actual"] == 10 and targets["people_helped"]["progress"] == pytest.approx(0.25)
    # Digital citizens count everything up to the month's end (dvc, vneid, payment): 4 + 3 + 5 of 160 working-age.
    dc = targets["digital_citizens"]
    assert dc["value"] == pytest.approx(0.2) and dc["actual"] == pytest.approx(12 / 160)
    assert dc["progress"] == pytest.approx((12 / 160) / 0.2)
    # Households reached this year: H2, H1, H3 of 80 households.
    assert targets["households_reached"]["actual"] == pytest.approx(3 / 80)
    assert targets["hamlets_covered"]["actual"] == pytest.approx(0.5)
    assert targets["hamlets_covered"]["progress"] == pytest.approx(0.5)
    table = cdt("report", "--month", "2026-10")
    assert "25,0%" in table.stdout


def test_digital_citizen_services_are_configurable(cdt, commune):
    _commune_with_visits(cdt)
    assert cdt("settings", "set", "digital_citizen_services", "ecommerce").exit_code == 0
    assert cdt("target", "set", "digital_citizens", "--year", "2026", "--value", "4").exit_code == 0
    report = json.loads(cdt("report", "--month", "2026-10", "--format", "json").stdout)
    assert report["total"]["digital_citizens"] == {"month": 2, "ytd": 2, "total": 2}
    assert report["targets"][0]["actual"] == 2 and report["targets"][0]["progress"] == pytest.approx(0.5)


def test_only_the_files_own_targets_count(cdt, commune, tmp_path):
    import sqlite3

    assert cdt("target", "set", "people_helped", "--year", "2026", "--value", "40").exit_code == 0
    conn = sqlite3.connect(commune)
    conn.execute("INSERT INTO target (id, origin, rev, deleted, hash, indicator, year, value, percent)"
                 " VALUES ('x', 'another-file', 1, 0, 'h', 'visits', 2026, 9, 0)")
    conn.commit()
    conn.close()
    report = json.loads(cdt("report", "--month", "2026-10", "--format", "json").stdout)
    assert [t["indicator"] for t in report["targets"]] == ["people_helped"]
    assert [t["indicator"] for t in json.loads(cdt("target", "list", "--format", "json").stdout)] == ["people_helped"]
