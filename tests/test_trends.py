"""Trends: the 12-month figures against an independent count, and a target's path by hand."""

from __future__ import annotations

import json

import pytest

from cdt.reports.trends import month_list
from kits.registers import DC, create_commune, generate, hamlet_unit, make_district


def independent(data: dict, month: str, unit_of) -> dict:
    """Visits, distinct households, people, digital citizens of one month, per unit and in total."""
    out: dict = {}
    for v in data["visit"]:
        if v["deleted"] or not v["date"].startswith(month):
            continue
        for key in (None, unit_of("visit", v, {t["id"]: t for t in data["team"]})):
            e = out.setdefault(key, {"visits": 0, "people_helped": 0, "digital_citizens": 0, "hh": set()})
            e["visits"] += 1
            e["people_helped"] += v["people"]
            e["hh"].add((v["commune"], v["household"]))
            if set(json.loads(v["services"])) & DC:
                e["digital_citizens"] += v["people"]
    for e in out.values():
        e["households_reached"] = len(e.pop("hh"))
    return out


KEYS = ("visits", "households_reached", "people_helped", "digital_citizens")
ZERO = dict.fromkeys(KEYS, 0)


def test_month_list_wraps_the_year():
    assert month_list(2026, 2, 4) == [(2025, 11), (2025, 12), (2026, 1), (2026, 2)]
    assert len(month_list(2026, 10)) == 12


@pytest.mark.parametrize("month", ["2026-06", "2027-02"])
def test_district_trends_equal_an_independent_count(cdt, tmp_path, month):
    packed = {"05761": "2027-03-01T08:00:00", "05767": "2027-03-01T08:00:00", "05770": None}
    district, data = make_district(tmp_path, packed)
    r = cdt("--db", district, "report", "--district", "--month", month, "--format", "json")
    assert r.exit_code == 0, r.output
    trends = json.loads(r.stdout)["trends"]
    year, mon = map(int, month.split("-"))
    assert trends["months"] == [f"{y:04d}-{m:02d}" for y, m in month_list(year, mon)]
    assert trends["indicators"] == list(KEYS)
    rows = {row["unit"]["code"]: row for row in trends["rows"]}
    for index, ym in enumerate(trends["months"]):
        want = independent(data, ym, lambda kind, row, teams: row["commune"])
        for key in KEYS:
            assert trends["total"][key][index] == want.get(None, ZERO)[key], (ym, key)
            for code, row in rows.items():
                assert row[key][index] == want.get(code, ZERO)[key], (ym, code, key)
    assert sum(trends["total"]["visits"]) > 0


def test_commune_trends_per_hamlet(cdt, tmp_path):
    path = tmp_path / "xa.db"
    store = create_commune(path, "05761")
    data = generate(store, 7)
    store.close()
    r = cdt("--db", path, "report", "--month", "2026-09", "--format", "json")
    trends = json.loads(r.stdout)["trends"]
    for index, ym in enumerate(trends["months"]):
        want = independent(data, ym, hamlet_unit)
        for key in KEYS:
            assert trends["total"][key][index] == want.get(None, ZERO)[key], (ym, key)
            for row in trends["rows"]:
                assert row[key][index] == want.get(row["unit"]["id"], ZERO)[key], (ym, key)


def test_target_path_by_hand(cdt, commune):
    """Visits on 10/01, 15/01, 03/03 and one in 2025; a count target of 12 visits and 20 % digital citizens."""
    assert cdt("hamlet", "add", "Xóm Một", "--kind", "xóm", "--households", "50", "--working-age", "100").exit_code == 0
    assert cdt("team", "add", "--hamlet", "Xóm Một").exit_code == 0
    for day, hh, people, service in (("10/01/2026", "H1", 2, "dvc"), ("15/01/2026", "H2", 3, "ecommerce"),
                                     ("03/03/2026", "H1", 4, "vneid"), ("20/12/2025", "H9", 5, "dvc")):
        r = cdt("visit", "log", "--team", "Xóm Một", "--date", day, "--household", hh,
                "--people", str(people), "--service", service)
        assert r.exit_code == 0, r.output
    assert cdt("target", "set", "visits", "--year", "2026", "--value", "12").exit_code == 0
    assert cdt("target", "set", "digital_citizens", "--year", "2026", "--value", "20", "--percent").exit_code == 0
    assert cdt("target", "set", "households_reached", "--year", "2026", "--value", "4").exit_code == 0
    assert cdt("target", "set", "teams", "--year", "2027", "--value", "3").exit_code == 0
    r = cdt("report", "--month", "2026-04", "--format", "json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    paths = {(p["indicator"], p["year"]): p for p in report["trends"]["targets"]}
    visits = paths[("visits", 2026)]["path"]
    assert [p["month"] for p in visits] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert [p["actual"] for p in visits] == [2, 2, 3, 3]
    assert [p["progress"] for p in visits] == [round(2 / 12, 6), round(2 / 12, 6), 0.25, 0.25]
    assert [p["line"] for p in visits] == [1, 2, 3, 4]
    # Digital citizens count everything up to the month's end (the 2025 visit too), over 100 people.
    dc = paths[("digital_citizens", 2026)]["path"]
    assert [p["actual"] for p in dc] == [0.07, 0.07, 0.11, 0.11]
    assert [p["progress"] for p in dc] == [0.35, 0.35, 0.55, 0.55]
    households = paths[("households_reached", 2026)]["path"]
    assert [p["actual"] for p in households] == [2, 2, 2, 2]
    assert paths[("teams", 2027)]["path"] == []
    # The path ends where the report's own target figure stands.
    for target in report["targets"]:
        path = paths[(target["indicator"], target["year"])]["path"]
        if path:
            assert path[-1]["actual"] == target["actual"]
