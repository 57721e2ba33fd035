"""cdt report: every indicator checked against an independent Python computation over generated rows.

The generator writes rows straight through ``Store.write`` (so it can make dissolved teams, members
who left, tombstones and unknown joining dates the register commands would refuse to backdate),
keeps its own copy of what it wrote, and ``expected`` recomputes the indicators from that copy in
plain Python. District data is several commune files merged into a district file.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from cdt.domain import units
from cdt.store import Store
from kits.registers import (
    DC, DISTRICT_COMMUNES, commune_unit, create_commune, generate, hamlet_unit, hostile_commune, make_district,
    merge_into,
)


# -- the independent computation ---------------------------------------------------------------------


def _live(rows):
    return [r for r in rows if not r["deleted"]]


def _team_active(team, end):
    if team is None or team["deleted"]:
        return False
    if team["founded_on"] and team["founded_on"] > end:
        return False
    if team["dissolved_on"]:
        return team["dissolved_on"] > end
    return team["status"] != "dissolved"


def expected(data: dict, month: str, unit_of) -> dict:
    """Indicators per unit key and under None for the whole, in plain Python.

    unit_of(kind, row, teams) gives the unit key of a row (a hamlet id, or a commune code)."""
    year, mon = map(int, month.split("-"))
    start = f"{month}-01"
    end = (date(year + (mon == 12), mon % 12 + 1, 1) - timedelta(days=1)).isoformat()
    ystart = f"{year}-01-01"
    teams = {t["id"]: t for t in data["team"]}
    trainings = {t["id"]: t for t in _live(data["training"])}
    trained = {a["member_id"] for a in _live(data["attendance"])
               if a["training_id"] in trainings and trainings[a["training_id"]]["date"] <= end}
    out: dict = {}

    def get(key):
        return out.setdefault(key, {
            "teams": 0, "teams_with_decision": 0, "hamlets": 0, "hamlets_covered": 0, "households": 0,
            "working_age": 0, "members": 0, "members_trained": 0,
            **{f: {"month": 0, "ytd": 0, "total": 0} for f in ("visits", "people_helped", "digital_citizens")},
            "hh": {"month": set(), "ytd": set(), "total": set()}, "svc": {}})

    for key in (None, "unit"):
        for h in _live(data["hamlet"]):
            e = get(None if key is None else unit_of("hamlet", h, teams))
            e["hamlets"] += 1
            e["households"] += h["households"] or 0
            e["working_age"] += h["working_age"] or 0
            e["hamlets_covered"] += any(t["hamlet_id"] == h["id"] and _team_active(t, end) for t in data["team"])
        for t in data["team"]:
            if _team_active(t, end):
                e = get(None if key is None else unit_of("team", t, teams))
                e["teams"] += 1
                e["teams_with_decision"] += bool((t["decision_number"] or "").strip())
        for m in _live(data["member"]):
            if (m["joined_on"] is None or m["joined_on"] <= end) and (m["left_on"] is None or m["left_on"] > end) \
                    and _team_active(teams.get(m["team_id"]), end):
                e = get(None if key is None else unit_of("member", m, teams))
                e["members"] += 1
                e["members_trained"] += m["id"] in trained
        for v in _live(data["visit"]):
            if v["date"] > end:
                continue
            e = get(None if key is None else unit_of("visit", v, teams))
            services = set(json.loads(v["services"]))
            for part, since in (("month", start), ("ytd", ystart), ("total", "")):
                if v["date"] >= since:
                    e["visits"][part] += 1
                    e["people_helped"][part] += v["people"]
                    e["hh"][part].add((v["commune"], v["household"]))
                    if services & DC:
                        e["digital_citizens"][part] += v["people"]
                    for code in services:
                        e["svc"].setdefault(code, {"month": 0, "ytd": 0, "total": 0})[part] += v["people"]
    for e in out.values():
        hh = e.pop("hh")
        e["households_reached"] = {part: len(hh[part]) for part in ("month", "ytd", "total")}
        e["people_by_service"] = {c: f for c, f in e.pop("svc").items() if f["total"]}
    return out


KEYS = ("teams", "teams_with_decision", "hamlets", "hamlets_covered", "households", "working_age", "members",
        "members_trained", "visits", "households_reached", "people_helped", "digital_citizens")
EMPTY = {k: 0 for k in KEYS[:8]} | {k: {"month": 0, "ytd": 0, "total": 0} for k in KEYS[8:]}


def assert_same(actual: dict, wanted: dict | None, where: str):
    wanted = wanted or dict(EMPTY, people_by_service={})
    for key in KEYS:
        assert actual[key] == wanted[key], (where, key)
    nonzero = {c: f for c, f in actual["people_by_service"].items() if f["total"]}
    assert nonzero == wanted["people_by_service"], (where, "people_by_service")
    assert actual["hamlets_covered_pct"] == (round(wanted["hamlets_covered"] / wanted["hamlets"], 6)
                                             if wanted["hamlets"] else None)


MONTHS = ["2025-12", "2026-01", "2026-06", "2026-12", "2027-01", "2027-02"]


# -- commune level ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_commune_report_matches_independent_count(cdt, tmp_path, seed):
    path = tmp_path / "xa.db"
    store = create_commune(path, "05761")
    data = generate(store, seed)
    store.close()
    for month in MONTHS:
        r = cdt("--db", path, "report", "--month", month, "--format", "json")
        assert r.exit_code == 0, r.output
        report = json.loads(r.stdout)
        assert report["month"] == month and report["level"] == "commune" and report["row_level"] == "hamlet"
        want = expected(data, month, hamlet_unit)
        assert_same(report["total"], want[None], f"{month} total")
        live = [h for h in data["hamlet"] if not h["deleted"]]
        assert sorted(row["unit"]["id"] for row in report["rows"]) == sorted(h["id"] for h in live)
        for row in report["rows"]:
            assert_same(row, want.get(row["unit"]["id"]), f"{month} {row['unit']['name']}")
        assert report["completeness"] == []


def test_hand_checked_commune_month(cdt, commune):
    """A small case worked out by hand: a dissolved team, a member who left, a deleted visit."""
    assert cdt("hamlet", "add", "Xóm Một", "--kind", "xóm", "--households", "50", "--working-age", "120").exit_code == 0
    assert cdt("hamlet", "add", "Xóm Hai", "--kind", "xóm", "--households", "30", "--working-age", "80").exit_code == 0
    assert cdt("team", "add", "--hamlet", "Xóm Một", "--decision", "1/QĐ", "--decided-on", "01/06/2026").exit_code == 0
    assert cdt("team", "add", "--hamlet", "Xóm Hai", "--founded-on", "01/06/2026").exit_code == 0
    assert cdt("member", "add", "Hoàng Văn An", "--team", "Xóm Một", "--role", "leader",
               "--joined-on", "01/06/2026").exit_code == 0
    assert cdt("member", "add", "Lê Thị Bình", "--team", "Xóm Một", "--joined-on", "01/06/2026").exit_code == 0
    assert cdt("member", "add", "Trần Văn Cường", "--team", "Xóm Hai", "--joined-on", "01/06/2026").exit_code == 0
    assert cdt("training", "add", "Kỹ năng số", "--date", "2026-09-01").exit_code == 0
    assert cdt("training", "attend", "Kỹ năng số", "--member", "Hoàng Văn An", "--member", "Trần Văn Cường").exit_code == 0
    log = [("Xóm Một", "H1", "2", "05/10/2026", ["dvc", "vneid"]), ("Xóm Một", "H1", "1", "20/10/2026", ["ecommerce"]),
           ("Xóm Hai", "H2", "3", "15/09/2026", ["payment"]), ("Xóm Một", "H3", "4", "03/11/2026", ["dvc"])]
    for team, household, people, day, services in log:
        args = [a for s in services for a in ("--service", s)]
        r = cdt("visit", "log", "--team", team, "--household", household, "--people", people, "--date", day, *args)
        assert r.exit_code == 0, r.output
    r = cdt("visit", "log", "--team", "Xóm Một", "--household", "H9", "--people", "9", "--date", "06/10/2026",
            "--service", "dvc")
    ref = r.stdout.rsplit("mã ", 1)[1].strip(" )\n")
    assert cdt("visit", "remove", ref).exit_code == 0
    assert cdt("member", "leave", "Lê Thị Bình", "--date", "15/10/2026").exit_code == 0
    assert cdt("team", "dissolve", "Xóm Hai", "--date", "10/10/2026").exit_code == 0

    october = json.loads(cdt("report", "--month", "2026-10", "--format", "json").stdout)
    total = october["total"]
    assert (total["teams"], total["teams_with_decision"], total["hamlets"], total["hamlets_covered"]) == (1, 1, 2, 1)
    assert (total["members"], total["members_trained"]) == (1, 1)  # Bình left, Cường's team dissolved
    assert total["visits"] == {"month": 2, "ytd": 3, "total": 3}
    assert total["households_reached"] == {"month": 1, "ytd": 2, "total": 2}
    assert total["people_helped"] == {"month": 3, "ytd": 6, "total": 6}
    assert total["digital_citizens"] == {"month": 2, "ytd": 5, "total": 5}
    assert total["people_by_service"]["dvc"] == {"month": 2, "ytd": 2, "total": 2}
    assert total["people_by_service"]["payment"] == {"month": 0, "ytd": 3, "total": 3}
    assert total["households_reached_pct"]["ytd"] == pytest.approx(2 / 80)
    assert [s["code"] for s in october["services"]] == ["dvc", "vneid", "payment", "ecommerce"]

    september = json.loads(cdt("report", "--month", "2026-09", "--format", "json").stdout)
    assert (september["total"]["teams"], september["total"]["members"], september["total"]["members_trained"]) \
        == (2, 3, 2)
    rows = {row["unit"]["name"]: row for row in september["rows"]}
    assert rows["Xóm Hai"]["visits"]["month"] == 1 and rows["Xóm Một"]["visits"]["month"] == 0


def test_default_month_is_last_full_month(cdt, commune):
    from cdt.reports.report import last_full_month

    report = json.loads(cdt("report", "--format", "json").stdout)
    year, month = last_full_month()
    assert report["month"] == f"{year:04d}-{month:02d}"
    assert last_full_month(date(2027, 1, 15)) == (2026, 12)
    assert last_full_month(date(2026, 11, 1)) == (2026, 10)


# -- district level ---------------------------------------------------------------------------------


@pytest.mark.parametrize("month", MONTHS)
def test_district_report_matches_independent_count(cdt, tmp_path, month):
    packed = {"05761": "2027-03-01T08:00:00", "05767": "2027-03-01T08:00:00", "05770": None}
    district, data = make_district(tmp_path, packed)
    r = cdt("--db", district, "report", "--district", "--month", month, "--format", "json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["level"] == "district" and report["row_level"] == "commune"
    want = expected(data, month, commune_unit)
    assert_same(report["total"], want[None], "total")
    district_communes = [u.code for u in units.communes_in(units.get("171", level="district", structure="legacy"))]
    assert [row["unit"]["code"] for row in report["rows"]] == district_communes  # silent communes too
    for row in report["rows"]:
        assert_same(row, want.get(row["unit"]["code"]), f"{month} {row['unit']['code']}")
    # The district's total equals the sum of its communes' rows for everything but distinct households.
    for key in ("teams", "members", "members_trained", "hamlets"):
        assert sum(row[key] for row in report["rows"]) == report["total"][key]


def test_district_report_without_flag_reports_the_files_level(cdt, tmp_path):
    district, _ = make_district(tmp_path, {"05761": "2027-03-01T08:00:00"})
    plain = json.loads(cdt("--db", district, "report", "--month", "2026-06", "--format", "json").stdout)
    flagged = json.loads(cdt("--db", district, "report", "--district", "--month", "2026-06", "--format", "json").stdout)
    plain.pop("generated_at"), flagged.pop("generated_at")
    assert plain == flagged


def test_completeness(cdt, tmp_path):
    packed = {"05761": "2026-11-02T08:00:00", "05767": "2026-10-31T17:00:00", "05770": None}
    district, _ = make_district(tmp_path, packed)
    report = json.loads(cdt("--db", district, "report", "--district", "--month", "2026-10", "--format", "json").stdout)
    entries = {e["unit"]["code"]: e for e in report["completeness"]}
    assert len(entries) == 27
    assert entries["05761"]["reported"] is True and entries["05761"]["packed_at"] == "2026-11-02T08:00:00"
    assert entries["05761"]["merged_at"] == "2027-03-02T09:00:00"
    # Packed on the month's last day: the month may not be complete in it.
    assert entries["05767"]["reported"] is False and entries["05767"]["packed_at"] == "2026-10-31T17:00:00"
    assert entries["05770"]["reported"] is False and entries["05770"]["packed_at"] is None
    assert sum(e["reported"] for e in entries.values()) == 1
    september = json.loads(cdt("--db", district, "report", "--district", "--month", "2026-09",
                               "--format", "json").stdout)
    assert {e["unit"]["code"] for e in september["completeness"] if e["reported"]} == {"05761", "05767"}
    table = cdt("--db", district, "report", "--district", "--month", "2026-10")
    assert table.exit_code == 0 and "1/27" in table.stdout


# -- levels and errors ------------------------------------------------------------------------------


def test_level_flags_on_the_wrong_file_are_clear_errors(cdt, commune, tmp_path):
    r = cdt("report", "--district", "--month", "2026-10")
    assert r.exit_code == 1 and "tệp của huyện" in r.stderr and "Traceback" not in r.output
    r = cdt("report", "--province", "--month", "2026-10")
    assert r.exit_code == 1 and "tệp của tỉnh" in r.stderr
    r = cdt("report", "--district", "--province")
    assert r.exit_code == 1 and "--district" in r.stderr
    r = cdt("report", "--month", "2026-13")
    assert r.exit_code == 1 and "Traceback" not in r.output
    district, _ = make_district(tmp_path, {})
    r = cdt("--db", district, "report", "--province", "--month", "2026-10")
    assert r.exit_code == 1 and "tệp của tỉnh" in r.stderr
    r = cdt("--lang", "en", "report", "--district", "--month", "2026-10")
    assert r.exit_code == 1 and "not a district file" in r.stderr


def test_2025_structure_has_no_district_rollup_and_province_works(cdt, tmp_path):
    province_unit = units.get("19", level="province", structure="2025")
    commune_unit = units.communes_in(province_unit)[0]
    path = tmp_path / "moi.db"
    store = create_commune(path, commune_unit.code, structure="2025")
    data = generate(store, 7)
    store.close()
    r = cdt("--db", path, "report", "--district", "--month", "2026-10")
    assert r.exit_code == 1 and "không còn cấp huyện" in r.stderr and "--province" in r.stderr

    province = tmp_path / "tinh.db"
    Store.create(province, level="province", structure="2025",
                 province=(province_unit.code, province_unit.name)).close()
    merge_into(province, [path], {commune_unit.code: "2026-11-05T10:00:00"})
    r = cdt("--db", province, "report", "--province", "--month", "2026-10", "--format", "json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["row_level"] == "commune" and len(report["rows"]) == len(units.communes_in(province_unit))
    assert any("cấp huyện" in note for note in report["notes"])
    want = expected(data, "2026-10", lambda kind, row, teams: row["commune"])
    assert_same(report["total"], want[None], "province total")
    row = next(r for r in report["rows"] if r["unit"]["code"] == commune_unit.code)
    assert_same(row, want[commune_unit.code], "commune row")
    assert [e["reported"] for e in report["completeness"] if e["unit"]["code"] == commune_unit.code] == [True]


def test_legacy_province_rows_per_district_and_commune_rows(cdt, tmp_path):
    district, data = make_district(tmp_path, {c: "2027-03-01T00:00:00" for c in DISTRICT_COMMUNES})
    unit = units.get("19", level="province", structure="legacy")
    province = tmp_path / "tinh.db"
    Store.create(province, level="province", structure="legacy", province=(unit.code, unit.name)).close()
    merge_into(province, [tmp_path / f"{c}.db" for c in DISTRICT_COMMUNES],
               {c: "2027-03-01T00:00:00" for c in DISTRICT_COMMUNES})
    report = json.loads(cdt("--db", province, "report", "--province", "--month", "2026-12", "--format", "json").stdout)
    assert report["row_level"] == "district"
    assert [row["unit"]["code"] for row in report["rows"]] == [d.code for d in units.districts_in(unit)]
    want = expected(data, "2026-12", commune_unit)
    dai_tu = next(row for row in report["rows"] if row["unit"]["code"] == "171")
    assert_same(dai_tu, want[None], "Đại Từ")
    assert_same(report["total"], want[None], "province")
    assert len(report["commune_rows"]) == len(units.communes_in(unit))
    for row in report["commune_rows"]:
        assert_same(row, want.get(row["unit"]["code"]), row["unit"]["code"])
    assert len(report["completeness"]) == len(units.communes_in(unit))


def test_province_rows_share_nothing(tmp_path):
    """Rows of units with no data are copies of one row of zeros (report._silent_row): no two rows,
    and no row and the total, may hold the same dict or list, or a change to one changes others."""
    from cdt.reports.report import build_report

    make_district(tmp_path, {c: "2027-03-01T00:00:00" for c in DISTRICT_COMMUNES})
    unit = units.get("19", level="province", structure="legacy")
    province = tmp_path / "tinh.db"
    Store.create(province, level="province", structure="legacy", province=(unit.code, unit.name)).close()
    merge_into(province, [tmp_path / f"{c}.db" for c in DISTRICT_COMMUNES],
               {c: "2027-03-01T00:00:00" for c in DISTRICT_COMMUNES})
    with Store.open(province) as store:
        report = build_report(store, year=2026, month=12, level="province")
    silent = [row for row in report["commune_rows"] if not row["visits"]["total"]]
    assert len(silent) > 100 and silent[0]["people_by_service"]  # zero rows with every service listed

    seen: dict[int, str] = {}

    def walk(value, where: str) -> None:
        if isinstance(value, (dict, list)):
            assert id(value) not in seen, f"{where} is the same object as {seen[id(value)]}"
            seen[id(value)] = where
            for key, inner in (value.items() if isinstance(value, dict) else enumerate(value)):
                walk(inner, f"{where}.{key}")

    for name in ("rows", "commune_rows"):
        for number, row in enumerate(report[name]):
            walk(row, f"{name}[{number}]")
    walk(report["total"], "total")
    silent[0]["visits"]["month"] += 1
    silent[0]["people_by_service"][next(iter(silent[0]["people_by_service"]))]["total"] += 1
    assert all(not row["visits"]["month"] for row in silent[1:])
    assert all(not flow["total"] for row in silent[1:] for flow in row["people_by_service"].values())


def test_reports_on_one_connection_follow_new_service_lists(tmp_path):
    """The report keeps its temp list table between reports on one connection while the number of
    service codes is the same (a new temp table makes SQLite prepare every statement again): a list
    with a new code then makes a wider one, and each report still equals one on a fresh connection."""
    from cdt.core import totals
    from cdt.reports.report import build_report

    district, _ = make_district(tmp_path, {c: "2027-03-01T00:00:00" for c in DISTRICT_COMMUNES})
    with Store.open(district) as store:
        first = build_report(store, year=2026, month=12, level="district")
        again = build_report(store, year=2026, month=12, level="district")
        # A visit with a code no list had yet (a commune's own service), as a merge would bring it.
        visit = store.conn.execute("SELECT * FROM visit WHERE deleted = 0 AND date LIKE '2026-12%' LIMIT 1").fetchone()
        store.conn.execute("BEGIN")
        store.conn.execute("UPDATE visit SET services = ? WHERE id = ?", ('["dvc", "zz-moi"]', visit["id"]))
        store.conn.execute("COMMIT")
        wider = build_report(store, year=2026, month=12, level="district")
        assert totals.kept(store.conn) == totals.recount(store.conn)
    with Store.open(district) as fresh:
        wanted = build_report(fresh, year=2026, month=12, level="district")
    for report in (first, again, wider, wanted):
        report.pop("generated_at")
    assert again == first
    assert wider == wanted and wider != first
    assert wider["total"]["people_by_service"]["zz-moi"]["month"] == visit["people"]

# -- CSV and the workbook ------------------------------------------------------------------------------


def test_csv_escapes_formula_text(cdt, commune):
    import csv
    import io

    hostile_commune(cdt, commune)
    r = cdt("report", "--month", "2026-10", "--format", "csv")
    assert r.exit_code == 0, r.output
    lines = list(csv.reader(io.StringIO(r.stdout)))
    header, body, total = lines[0], lines[1:-1], lines[-1]
    names = [line[header.index("unit_name")] for line in body]
    assert sorted(names) == sorted(["'=1+1", "'@SUM(A1)", "'-2+3", "'+84 xóm", "Xóm \"Một\", Hai"])
    assert total[header.index("unit_name")] == "Tổng cộng"
    assert total[header.index("visits_month")] == "1" and total[header.index("service_dvc_month")] == "2"
    assert total[header.index("hamlets")] == "5"


def test_xlsx_through_the_command(cdt, commune, tmp_path):
    import openpyxl

    hostile_commune(cdt, commune)
    out = tmp_path / "bao cao.xlsx"
    r = cdt("report", "--month", "2026-10", "--xlsx", out, "--number", "12/BC-UBND")
    assert r.exit_code == 0, r.output
    assert str(out) in r.stdout.replace("\n", "")
    wb = openpyxl.load_workbook(out)
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in s for s in texts)
    assert any("tháng 10 năm 2026" in s for s in texts)
    assert all(not (c.data_type == "f") for ws in wb.worksheets for row in ws.iter_rows() for c in row)
    assert any("=1+1" in s for s in texts)
    numbers = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
               if isinstance(c.value, (int, float)) and not isinstance(c.value, bool)]
    assert 5 in numbers and 2 in numbers  # hamlets and people helped, as numbers
    assert len(wb.worksheets) >= 4  # summary, units, services, completeness
    # JSON on stdout stays parseable when a workbook is written at the same time.
    r = cdt("report", "--month", "2026-10", "--format", "json", "--xlsx", tmp_path / "b.xlsx")
    assert json.loads(r.stdout)["month"] == "2026-10" and (tmp_path / "b.xlsx").exists()


def test_table_fits_80_columns_and_uses_vietnamese_numbers(cdt, commune):
    assert cdt("hamlet", "add", "Xóm Một", "--kind", "xóm", "--households", "5000").exit_code == 0
    assert cdt("team", "add", "--hamlet", "Xóm Một", "--founded-on", "01/01/2026").exit_code == 0
    for i in range(12):
        assert cdt("visit", "log", "--team", "Xóm Một", "--household", f"H{i}", "--people", "150",
                   "--service", "dvc", "--date", "05/10/2026").exit_code == 0
    r = cdt("report", "--month", "2026-10")
    assert r.exit_code == 0, r.output
    assert max(len(line) for line in r.stdout.splitlines()) <= 80
    assert "1.800" in r.stdout and "Tổng cộng" in r.stdout and "tháng 10/2026" in r.stdout


def test_district_after_real_pack_and_merge(cdt, tmp_path, monkeypatch):
    """The district month-end as a clerk runs it: cdt pack on each commune, cdt merge at the district."""
    # The merge refuses dates after today (rules.py), as the commands do: real packs hold none.
    monkeypatch.setattr("kits.registers.LAST_DAY", date.today())
    data = {k: [] for k in ("hamlet", "team", "member", "training", "attendance", "visit")}
    packs = tmp_path / "packs"
    for n, code in enumerate(DISTRICT_COMMUNES[:2]):
        path = tmp_path / f"{code}.db"
        store = create_commune(path, code)
        for kind, rows in generate(store, 200 + n).items():
            data[kind].extend(rows)
        with store.write() as tx:  # the provincial service the visits name (not in the national list)
            tx.insert("service", {"code": "ctn", "name": "C-Thái Nguyên", "aliases": "[]"})
        store.close()
        r = cdt("--db", path, "pack", "--out", packs)
        assert r.exit_code == 0, r.output
    district = tmp_path / "huyen.db"
    assert cdt("--db", district, "init", "--district", "171").exit_code == 0
    r = cdt("--db", district, "merge", packs)
    assert r.exit_code == 0, r.output
    for month in ("2026-01", "2026-10", "2027-01"):
        report = json.loads(cdt("--db", district, "report", "--district", "--month", month, "--format", "json").stdout)
        want = expected(data, month, commune_unit)
        assert_same(report["total"], want[None], f"{month} total")
        for row in report["rows"]:
            assert_same(row, want.get(row["unit"]["code"]), f"{month} {row['unit']['code']}")
        # Packs made today cover any month that ended before today.
        sent = {e["unit"]["code"] for e in report["completeness"] if e["reported"]}
        today = date.today().isoformat()
        assert sent == (set(DISTRICT_COMMUNES[:2]) if report["period"]["end"] < today else set())


@pytest.mark.skipif(not __import__("shutil").which("soffice"), reason="LibreOffice is not installed")
def test_workbook_converts_to_pdf_with_libreoffice(cdt, commune, tmp_path):
    import subprocess

    hostile_commune(cdt, commune)
    out = tmp_path / "r.xlsx"
    assert cdt("report", "--month", "2026-10", "--xlsx", out).exit_code == 0
    profile = tmp_path / "lo-profile"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(out)], capture_output=True, timeout=180, check=False)
    assert (tmp_path / "r.pdf").stat().st_size > 1000
