"""The monthly report as plain data (docs/report-shape.md): indicators, completeness, targets.

Every number comes from SQL over the domain tables (tombstones excluded), grouped by the unit a
row belongs to. Which unit a row belongs to is decided in one place, ``_buckets``:

- on a commune file a row belongs to a hamlet (visit → team → hamlet, member → team → hamlet);
- on a district or province file a row belongs to the commune (or district) of the file that
  created it: its ``origin``, looked up in the ``origin`` table that merge keeps (the file's own
  rows use ``site``).

The mapping is written into temporary tables ``report_bucket(bucket, unit)`` and
``report_origin(origin, commune)`` that the
queries join, so one query per table serves every level, and a district with a million visits is
read in one scan per query. Nothing here prints or writes files.
"""

from __future__ import annotations

import calendar
import copy
import json
from datetime import date
from typing import Any

from cdt.domain import units
from cdt.core.errors import InvalidInput
from cdt.store import Store, now, ref_of

SCHEMA = "cdt.report/1"

STOCK_KEYS = ("teams", "teams_with_decision", "hamlets", "hamlets_covered", "members", "members_trained",
              "households", "working_age")
FLOW_KEYS = ("visits", "households_reached", "people_helped", "digital_citizens")
PARTS = ("month", "ytd", "total")

# Indicators a target may name; what a percent target of each is measured against.
TARGET_INDICATORS = ("teams", "teams_with_decision", "hamlets", "hamlets_covered", "members",
                     "members_trained", "visits", "households_reached", "people_helped", "digital_citizens")
PERCENT_BASE = {
    "teams": "hamlets", "hamlets_covered": "hamlets", "teams_with_decision": "teams",
    "members_trained": "members", "households_reached": "households",
    "people_helped": "working_age", "digital_citizens": "working_age",
}
# Flow indicators whose target counts everything up to the month's end (a person who became a
# "digital citizen" stays one); the other flows count the year to date.
CUMULATIVE_TARGETS = {"digital_citizens"}

NO_DISTRICT_NOTE = "report.note_no_district"


# -- the month ------------------------------------------------------------------------------------


def last_full_month(today: date | None = None) -> tuple[int, int]:
    """The month before today's: the default month of a report."""
    today = today or date.today()
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


def period(year: int, month: int) -> dict[str, str]:
    """Start and end of the month and the start of its year, as ISO dates."""
    last = calendar.monthrange(year, month)[1]
    return {"start": f"{year:04d}-{month:02d}-01", "end": f"{year:04d}-{month:02d}-{last:02d}",
            "year_start": f"{year:04d}-01-01"}


# -- which unit a row belongs to (the one place) -----------------------------------------------------


def origins(store: Store) -> list[dict]:
    """The merge bookkeeping: one dict per origin file seen (columns as the origin table has them)."""
    return store.query("SELECT * FROM origin")


def _unit_dict(unit: units.Unit | None, code: str | None = None, name: str | None = None,
               level: str = "commune") -> dict:
    if unit is not None:
        return {"code": unit.code, "name": unit.name, "level": unit.level}
    return {"code": code, "name": name or code, "level": level}


def _commune_of_origin(store: Store) -> dict[str, tuple[str, str | None, str | None, str | None]]:
    """origin db_id → (commune code, commune name, district code, structure) for commune files."""
    site = store.site
    found: dict[str, tuple] = {}
    for row in origins(store):
        if row.get("level") != "commune" or not row.get("commune_code"):
            continue
        structure = row.get("structure") or site.structure
        district = row.get("district_code")
        unit = units.get(row["commune_code"], level="commune", structure=structure) \
            if structure in units.STRUCTURES else None
        if unit is not None:
            district = unit.district_code or district
        found[row["db_id"]] = (unit.code if unit else row["commune_code"],
                               unit.name if unit else row.get("unit_name"), district, structure)
    if site.level == "commune" and site.commune_code:
        found[site.db_id] = (site.commune_code, site.commune_name, site.district_code, site.structure)
    # An old commune's file absorbed by a 2025 commune's (cdt init --from): its rows are that
    # commune's, and its household codes that commune's register (cdt/regroup.py).
    from cdt.exchange.regroup import absorbed_origins

    for old, new in absorbed_origins(store).items():
        if new in found:
            found[old] = found[new]
    return found


def _buckets(store: Store, row_level: str) -> tuple[dict[str, tuple[str, str | None]], dict[str, dict]]:
    """bucket → (unit code, commune code) and the units seen, for the given kind of row.

    A bucket is a hamlet id on a commune file (rows = hamlets) and an origin db_id otherwise.
    """
    mapping: dict[str, tuple[str, str | None]] = {}
    seen: dict[str, dict] = {}
    if row_level == "hamlet":
        commune = store.site.commune_code
        for h in store.query("SELECT id, name FROM hamlet WHERE deleted = 0"):
            mapping[h["id"]] = (h["id"], commune)
        return mapping, seen
    for db_id, (code, name, district, structure) in _commune_of_origin(store).items():
        if row_level == "commune":
            mapping[db_id] = (code, code)
            seen.setdefault(code, {"code": code, "name": name or code, "level": "commune"})
        elif district:
            mapping[db_id] = (district, code)
            unit = units.get(district, level="district", structure=structure) \
                if structure in units.STRUCTURES else None
            seen.setdefault(district, _unit_dict(unit, district, district, "district"))
    return mapping, seen


def _load_buckets(store: Store, mapping: dict[str, tuple[str, str | None]]) -> None:
    """Write the bucket → unit mapping, and origin → commune (households are per commune)."""
    conn = store.conn
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS report_bucket (bucket TEXT PRIMARY KEY, unit TEXT NOT NULL)")
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS report_origin (origin TEXT PRIMARY KEY, commune TEXT NOT NULL)")
    conn.execute("DELETE FROM temp.report_bucket")
    conn.execute("DELETE FROM temp.report_origin")
    conn.executemany("INSERT INTO temp.report_bucket (bucket, unit) VALUES (?, ?)",
                     [(bucket, unit) for bucket, (unit, _) in mapping.items()])
    conn.executemany("INSERT INTO temp.report_origin (origin, commune) VALUES (?, ?)",
                     [(db_id, found[0]) for db_id, found in _commune_of_origin(store).items()])
    # Files replaced by another file of their unit (cdt merge --replaces): their register rows
    # (hamlets, teams, members) are not counted, the new file's are; their visits still count.
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS report_replaced (origin TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM temp.report_replaced")
    from cdt.exchange.regroup import absorbed_origins

    absorbed = absorbed_origins(store)  # their register is the new commune's: it counts
    conn.executemany("INSERT INTO temp.report_replaced (origin) VALUES (?)",
                     [(row[0],) for row in conn.execute("SELECT old_db_id FROM main.replacement")
                      if row[0] not in absorbed])
    # Origins sharing their commune with another origin (a file replaced by another): their
    # households are counted distinct across those files, from total_household (cdt/totals.py).
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS report_shared (origin TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM temp.report_shared")
    conn.execute("INSERT INTO temp.report_shared SELECT origin FROM temp.report_origin WHERE commune IN"
                 " (SELECT commune FROM temp.report_origin GROUP BY commune HAVING count(*) > 1)")


# -- the queries ----------------------------------------------------------------------------------

# A team is active at the month's end when founded by then and not dissolved by then.
_ACTIVE_TEAM = ("t.deleted = 0 AND (t.founded_on IS NULL OR t.founded_on <= :end)"
                " AND CASE WHEN t.dissolved_on IS NOT NULL THEN t.dissolved_on > :end"
                " ELSE t.status <> 'dissolved' END")
_ACTIVE_TEAM_OF_HAMLET = _ACTIVE_TEAM.replace("t.", "tt.")
# A register row of a unit's current file (not of a file replaced by another, issue 9).
_CURRENT_FILE = "NOT EXISTS (SELECT 1 FROM temp.report_replaced x WHERE x.origin = {a}.origin)"


def _bucket_columns(by_hamlet: bool) -> dict[str, str]:
    """The bucket expression of each table: hamlet ids on a commune file, origins above."""
    if by_hamlet:
        return {"hamlet": "h.id", "team": "t.hamlet_id", "member": "t.hamlet_id", "visit": "t.hamlet_id"}
    return {"hamlet": "h.origin", "team": "t.origin", "member": "m.origin", "visit": "v.origin"}


def _measure(store: Store, *, by_hamlet: bool, params: dict, dc_codes: list[str]) -> dict:
    """Indicators per unit code (rows of no known unit under '')."""
    col = _bucket_columns(by_hamlet)
    unit = "coalesce(b.unit, '')"
    out: dict[str, dict] = {}

    def entry(key: str) -> dict:
        found = out.get(key)
        if found is None:
            found = out[key] = _empty()
        return found

    q = store.conn.execute
    for row in q(f"""
        SELECT {unit} AS unit, count(*) AS hamlets,
               coalesce(sum(h.households), 0) AS households, coalesce(sum(h.working_age), 0) AS working_age,
               coalesce(sum(EXISTS (SELECT 1 FROM team tt WHERE tt.hamlet_id = h.id AND {_ACTIVE_TEAM_OF_HAMLET})), 0)
                   AS covered
        FROM hamlet h LEFT JOIN temp.report_bucket b ON b.bucket = {col['hamlet']}
        WHERE h.deleted = 0 AND {_CURRENT_FILE.format(a='h')} GROUP BY 1""", params):
        e = entry(row["unit"])
        e.update(hamlets=row["hamlets"], households=row["households"], working_age=row["working_age"],
                 hamlets_covered=row["covered"])

    for row in q(f"""
        SELECT {unit} AS unit, count(*) AS teams,
               coalesce(sum(trim(coalesce(t.decision_number, '')) <> ''), 0) AS decided
        FROM team t LEFT JOIN temp.report_bucket b ON b.bucket = {col['team']}
        WHERE {_ACTIVE_TEAM} AND {_CURRENT_FILE.format(a='t')} GROUP BY 1""", params):
        entry(row["unit"]).update(teams=row["teams"], teams_with_decision=row["decided"])

    # Active members: joined by the month's end, not left by then, in a team active then. Teams
    # first, their members through member(team_id): one index probe per team, not one per member.
    for row in q(f"""
        SELECT {unit} AS unit, count(*) AS members,
               coalesce(sum(EXISTS (SELECT 1 FROM training_attendance a JOIN training tr ON tr.id = a.training_id
                                    WHERE a.member_id = m.id AND a.deleted = 0 AND tr.deleted = 0
                                      AND tr.date <= :end)), 0) AS trained
        FROM team t CROSS JOIN member m ON m.team_id = t.id
        LEFT JOIN temp.report_bucket b ON b.bucket = {col['member']}
        WHERE m.deleted = 0 AND (m.joined_on IS NULL OR m.joined_on <= :end)
          AND (m.left_on IS NULL OR m.left_on > :end) AND {_ACTIVE_TEAM} AND {_CURRENT_FILE.format(a='m')}
        GROUP BY 1""", params):
        entry(row["unit"]).update(members=row["members"], members_trained=row["trained"])

    if by_hamlet:
        _measure_visits_by_scan(store, by_hamlet, params, set(dc_codes), entry)
    else:  # a district or province file: the totals kept per origin and month
        _measure_visits_from_totals(store, params, set(dc_codes), entry)
    return out


def _measure_visits_by_scan(store: Store, by_hamlet: bool, params: dict, dc_set: set[str], entry: Any) -> None:
    """Visits, people, services and distinct households per unit, from a scan of every visit: a
    commune file's report (rows are hamlets, found through the visit's team), and the full
    recount that tests/test_totals.py compares the totals with."""
    col = _bucket_columns(by_hamlet)
    unit = "coalesce(b.unit, '')"
    q = store.conn.execute
    team_join = "LEFT JOIN team t ON t.id = v.team_id" if by_hamlet else ""
    # NOT INDEXED: "since the start" needs every visit up to the month's end, most of the table.
    # Walking visit(date) for that range then fetching each row was measured 10x slower than a
    # plain scan on a million-visit district (4.9 s against 0.4 s for the count alone).
    # One pass over the visits, grouped by unit and by the visit's list of services: a district
    # has a few dozen distinct lists, so each is parsed once in Python, not once per visit.
    for row in q(f"""
        SELECT {unit} AS unit, v.services AS services,
               sum(v.date >= :start) AS visits_month, sum(v.date >= :year_start) AS visits_ytd,
               count(*) AS visits_total,
               sum(CASE WHEN v.date >= :start THEN v.people ELSE 0 END) AS people_month,
               sum(CASE WHEN v.date >= :year_start THEN v.people ELSE 0 END) AS people_ytd,
               sum(v.people) AS people_total
        FROM visit v NOT INDEXED {team_join} LEFT JOIN temp.report_bucket b ON b.bucket = {col['visit']}
        WHERE v.deleted = 0 AND v.date <= :end
        GROUP BY 1, 2""", params):
        e = entry(row["unit"])
        _add(e["visits"], row["visits_month"], row["visits_ytd"], row["visits_total"])
        people = (row["people_month"], row["people_ytd"], row["people_total"])
        _add(e["people_helped"], *people)
        codes = _codes(row["services"])
        if codes & dc_set:
            _add(e["digital_citizens"], *people)
        for code in codes:
            _add(e["people_by_service"].setdefault(code, _flow(0, 0, 0)), *people)

    # Households are codes of one commune's register: distinct per commune, not across communes.
    # Counted from each household's latest visit up to the month's end.
    for row in q(f"""
        SELECT unit, sum(last >= :start) AS hh_month, sum(last >= :year_start) AS hh_ytd, count(*) AS hh_total
        FROM (SELECT {unit} AS unit, coalesce(o.commune, v.origin) AS commune, v.household, max(v.date) AS last
              FROM visit v NOT INDEXED {team_join} LEFT JOIN temp.report_bucket b ON b.bucket = {col['visit']}
              LEFT JOIN temp.report_origin o ON o.origin = v.origin
              WHERE v.deleted = 0 AND v.date <= :end
              GROUP BY 1, 2, 3)
        GROUP BY 1""", params):
        entry(row["unit"])["households_reached"] = _flow(row["hh_month"], row["hh_ytd"], row["hh_total"])


def bucket_units(store: Store) -> dict[str, str]:
    """The bucket → unit mapping ``_load_buckets`` wrote (origins → communes above a commune)."""
    return dict(store.conn.execute("SELECT bucket, unit FROM temp.report_bucket").fetchall())


# Above this many service codes the report adds people by service in Python (one row per file and
# list of services) rather than in one SQL row per file with a column per code.
_MAX_CODE_COLUMNS = 200


def _load_lists(store: Store, dc_set: set[str]) -> list[str]:
    """Each distinct list of services in the totals, parsed once (as ``_codes`` reads it), into
    ``temp.report_list(services, dc, c0, c1, …)``: dc = 1 when the list has a digital-citizen
    service, cN = 1 when it has the N-th code of the list returned. SQL then adds the totals up
    per file with the digital-citizen people and the people of each service apart, in the
    totals' own order (no sort, a few rows out)."""
    conn = store.conn
    key = frozenset(dc_set)
    version = conn.execute("PRAGMA data_version").fetchone()[0]
    loaded = getattr(store, "_report_lists", None)
    if loaded is not None and loaded[:3] == (key, version, conn.total_changes):
        return loaded[3]  # loaded by this report, and nothing was written since
    parsed = {row[0]: _codes(row[0]) for row in conn.execute("SELECT DISTINCT services FROM total_visit")}
    codes = sorted(set().union(*parsed.values()))
    if len(codes) > _MAX_CODE_COLUMNS:
        codes = []
    width = conn.execute("SELECT count(*) FROM pragma_table_info('report_list', 'temp')").fetchone()[0]
    if width == len(codes) + 2:
        conn.execute("DELETE FROM temp.report_list")
    else:
        # Only when the number of codes changes: a new temp table changes the schema, and SQLite
        # then prepares every statement of the connection again.
        columns = "".join(f", c{n} INTEGER NOT NULL" for n in range(len(codes)))
        conn.execute("DROP TABLE IF EXISTS temp.report_list")
        conn.execute(f"CREATE TEMP TABLE report_list (services TEXT PRIMARY KEY, dc INTEGER NOT NULL{columns})")
    marks = ", ".join("?" for _ in range(len(codes) + 2))
    conn.executemany(f"INSERT INTO temp.report_list VALUES ({marks})",
                     [(services, int(bool(found & dc_set)), *(int(code in found) for code in codes))
                      for services, found in parsed.items()])
    store._report_lists = (key, version, conn.total_changes, codes)
    return codes


def month_rows(store: Store, dc_set: set[str], last: str) -> tuple[list[str], list[tuple]]:
    """The totals per origin and month up to month ``last`` ('YYYY-MM'): ``(codes, rows)``, a row
    being (origin, month, visits, people, digital-citizen people, people of each code in codes).

    Grouped by origin and month, the totals' own order (no sort), a few rows per file and month
    whatever the number of visits; the report and its trends read the same rows (kept until the
    file or the settings change)."""
    conn = store.conn
    codes = _load_lists(store, dc_set)
    cached = getattr(store, "_report_month_rows", None)
    state = store._report_lists[:3]
    if cached is not None and cached[0] == state and cached[1] >= last:
        return codes, [row for row in cached[2] if row[1] <= last]
    sums = ["sum(tv.visits)", "sum(tv.people)", "sum(tv.people * l.dc)",
            *(f"sum(tv.people * l.c{n})" for n in range(len(codes)))]
    rows = [tuple(row) for row in conn.execute(f"""
        SELECT tv.origin, tv.month, {', '.join(sums)}
        FROM total_visit tv JOIN temp.report_list l ON l.services = tv.services
        WHERE tv.month <= ? GROUP BY 1, 2""", (last,))]
    store._report_month_rows = (state, last, rows)
    return codes, rows


def _measure_visits_from_totals(store: Store, params: dict, dc_set: set[str], entry: Any) -> None:
    """Visits, people, services and distinct households per unit, from the totals kept per origin
    and month (cdt/totals.py): a few rows per commune and month, whatever the number of visits.

    The same numbers as a scan of the visits (``_measure_visits_by_scan``; tests/test_totals.py
    compares them): months compare as the days do (ISO dates), and households are distinct per
    commune: a commune whose visits came from one file sums that file's first-visit marks, one
    with several files (one replaced the other) counts its households from total_household,
    distinct across the files."""
    q = store.conn.execute
    args = {"month": params["start"][:7], "year_month": params["year_start"][:7]}
    unit_of = bucket_units(store)
    codes, rows = month_rows(store, dc_set, args["month"])
    month, year_month = args["month"], args["year_month"]
    # Per origin: the sums of the report's month, of the year's earlier months, of older months.
    width = 3 + len(codes)
    parts: dict[str, list[list[int]]] = {}
    for origin, row_month, *sums in rows:
        found = parts.get(origin)
        if found is None:
            found = parts[origin] = [[0] * width, [0] * width, [0] * width]
        into = found[0 if row_month == month else 1 if row_month >= year_month else 2]
        for index, value in enumerate(sums):
            into[index] += value or 0
    for origin, (in_month, earlier, older) in parts.items():
        e = entry(unit_of.get(origin, ""))
        flows = [(m, m + y, m + y + o) for m, y, o in zip(in_month, earlier, older)]
        _add(e["visits"], *flows[0])
        _add(e["people_helped"], *flows[1])
        _add(e["digital_citizens"], *flows[2])
        by_service = e["people_by_service"]
        for code, flow in zip(codes, flows[3:]):
            if flow[2]:
                _add(by_service.setdefault(code, _flow(0, 0, 0)), *flow)
    if not codes:  # no codes at all, or too many for one row: by list of services, added up here
        parsed: dict[str, set[str]] = {}
        for origin, services, *people in q("""
            SELECT tv.origin, tv.services, sum(CASE WHEN tv.month = :month THEN tv.people ELSE 0 END),
                   sum(CASE WHEN tv.month >= :year_month THEN tv.people ELSE 0 END), sum(tv.people)
            FROM total_visit tv WHERE tv.month <= :month GROUP BY 1, 2""", args):
            found = parsed.get(services)
            if found is None:
                found = parsed[services] = _codes(services)
            by_service = entry(unit_of.get(origin, ""))["people_by_service"]
            for code in found:
                _add(by_service.setdefault(code, _flow(0, 0, 0)), *people)
    reached: dict[str, list[int]] = {}
    for unit, *counts in q("""
        SELECT coalesce(b.unit, ''), sum(CASE WHEN r.month = :month THEN r.reached ELSE 0 END),
               sum(CASE WHEN r.month >= :year_month THEN r.first_in_year ELSE 0 END), sum(r.first_ever)
        FROM total_reach r LEFT JOIN temp.report_bucket b ON b.bucket = r.origin
        WHERE r.month <= :month AND r.origin NOT IN (SELECT origin FROM temp.report_shared)
        GROUP BY 1
        UNION ALL
        SELECT unit, sum(last = :month), sum(last >= :year_month), count(*)
        FROM (SELECT coalesce(b.unit, '') AS unit, o.commune, h.household, max(h.month) AS last
              FROM total_household h JOIN temp.report_origin o ON o.origin = h.origin
              LEFT JOIN temp.report_bucket b ON b.bucket = h.origin
              WHERE h.month <= :month AND h.origin IN (SELECT origin FROM temp.report_shared)
              GROUP BY 1, 2, 3)
        GROUP BY 1""", args):
        found = reached.setdefault(unit, [0, 0, 0])
        for index, count in enumerate(counts):
            found[index] += int(count or 0)
    for unit, flows_ in reached.items():
        entry(unit)["households_reached"] = _flow(*flows_)


def _codes(services: Any) -> set[str]:
    """The service codes of a visit's JSON list (a damaged list counts as none)."""
    try:
        codes = json.loads(services or "[]")
    except ValueError:
        return set()
    return {str(code) for code in codes} if isinstance(codes, list) else set()


def _add(flow: dict, month: Any, ytd: Any, total: Any) -> None:
    flow["month"] += int(month or 0)
    flow["ytd"] += int(ytd or 0)
    flow["total"] += int(total or 0)


def _sum(measured: Any) -> dict:
    """The whole file's indicators from the per-unit ones: every row lands in exactly one unit
    (unknown ones under ''), so all counts add up; distinct households add up only when units
    are whole communes, which the caller checks."""
    total = _empty()
    for values in measured:
        for key in STOCK_KEYS:
            total[key] += values[key]
        for key in FLOW_KEYS:
            _add(total[key], *(values[key][part] for part in PARTS))
        for code, flow in values["people_by_service"].items():
            _add(total["people_by_service"].setdefault(code, _flow(0, 0, 0)), *(flow[p] for p in PARTS))
    return total


def _flow(month: Any, ytd: Any, total: Any) -> dict:
    return {"month": int(month or 0), "ytd": int(ytd or 0), "total": int(total or 0)}


def _empty() -> dict:
    values: dict[str, Any] = {key: 0 for key in STOCK_KEYS}
    values.update({key: _flow(0, 0, 0) for key in FLOW_KEYS})
    values["people_by_service"] = {}
    return values


def _ratio(part: Any, whole: Any) -> float | None:
    return round(part / whole, 6) if whole else None


# The keys of a finished row holding a dict of plain values (people_by_service holds dicts).
_NESTED = (*FLOW_KEYS, "households_reached_pct")


def _finish(values: dict, service_codes: list[str]) -> dict:
    """Fill derived keys (percentages) and give every row the same service codes, in order."""
    by_service = values.get("people_by_service") or {}
    values["people_by_service"] = {code: by_service.get(code) or {"month": 0, "ytd": 0, "total": 0}
                                   for code in service_codes}
    values["hamlets_covered_pct"] = _ratio(values["hamlets_covered"], values["hamlets"])
    values["members_trained_pct"] = _ratio(values["members_trained"], values["members"])
    values["households_reached_pct"] = {
        part: _ratio(values["households_reached"][part], values["households"]) for part in PARTS}
    return values


# -- the report -------------------------------------------------------------------------------------


def _check_level(store: Store, level: str | None) -> str:
    site = store.site
    wanted = level or site.level
    if wanted == "district" and site.structure == units.NEW:
        raise InvalidInput("report.no_district_2025")
    if wanted != site.level:
        raise InvalidInput(f"report.level_mismatch_{wanted}", file_level=_level_word(site.level))
    return wanted


def _level_word(level: str) -> str:
    from cdt.core.i18n import t

    return t(f"level.{level}")


def _site_unit(store: Store) -> tuple[dict, dict | None, dict | None, units.Unit | None]:
    site = store.site
    structure = site.structure if site.structure in units.STRUCTURES else units.LEGACY
    unit = units.get(site.unit_code, level=site.level, structure=structure) if site.unit_code else None
    own = {"code": site.unit_code, "name": site.unit_name, "level": site.level, "structure": site.structure}
    province = {"code": site.province_code, "name": site.province_name} if site.province_code else None
    parent = None
    if site.level == "commune" and site.district_code:
        parent = {"code": site.district_code, "name": site.district_name, "level": "district"}
    elif site.level != "province" and site.province_code:
        parent = {"code": site.province_code, "name": site.province_name, "level": "province"}
    return own, parent, province, unit


def _service_list(store: Store, totals: dict) -> list[dict]:
    """Services with any people helped up to the month's end: catalogue order, unknown codes last."""
    from cdt.domain.services import service_catalogue

    used = [code for code, flow in totals.get("people_by_service", {}).items() if flow["total"]]
    catalogue = service_catalogue(store)
    known = [{"code": s["code"], "name": s["name"]} for s in catalogue if s["code"] in used]
    names = {s["code"] for s in catalogue}
    return known + [{"code": code, "name": code} for code in sorted(used) if code not in names]


def _assemble(expected: list[dict], measured: dict[str, dict], row_level: str, seen: dict[str, dict],
              codes: list[str]) -> list[dict]:
    """One finished row per expected unit (zeros for silent ones), then any unit found only in the data."""
    rows = []
    listed = set()
    silent = _finish({"unit": None, **_empty()}, codes)
    for unit in expected:
        key = unit["id"] if row_level == "hamlet" else unit["code"]
        listed.add(key)
        values = measured.get(key)
        rows.append(_finish({"unit": dict(unit), **_clone(values)}, codes) if values else _silent_row(silent, unit))
    # A unit found in the data but not expected here (a commune of another district merged by
    # mistake) still gets a row, so the rows add up to the total. Rows of deleted hamlets and of
    # files of no commune count in the total only.
    if row_level != "hamlet":
        for code in sorted(set(measured) - listed - {""}):
            rows.append(_finish({"unit": seen.get(code, {"code": code, "name": code, "level": row_level}),
                                 **_clone(measured[code]), "expected": False}, codes))
    return rows


def _silent_row(silent: dict, unit: dict) -> dict:
    """A copy of the finished row of zeros for a unit with no data (most rows of a province
    report): dict copies in C, where an _empty() and a _finish() per row cost a sixth of the report."""
    row = silent.copy()
    row["unit"] = dict(unit)
    for key in _NESTED:
        row[key] = silent[key].copy()
    row["people_by_service"] = {code: flow.copy() for code, flow in silent["people_by_service"].items()}
    return row


def _clone(values: dict) -> dict:
    """A copy of a unit's values (ints, flows, flows by service) that shares nothing with them:
    copy.deepcopy's generic walk was the largest cost of a province report."""
    out: dict = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out[key] = {k: dict(v) if isinstance(v, dict) else copy.deepcopy(v) if isinstance(v, (list, set)) else v
                        for k, v in value.items()}
        else:
            out[key] = copy.deepcopy(value) if isinstance(value, (list, set)) else value
    return out


def _households_total(store: Store, params: dict) -> dict:
    """Distinct households of the whole file (on a commune file a household may span hamlets)."""
    row = store.conn.execute("""
        SELECT sum(last >= :start) AS m, sum(last >= :year_start) AS y, count(*) AS total
        FROM (SELECT coalesce(o.commune, v.origin), v.household, max(v.date) AS last
              FROM visit v NOT INDEXED LEFT JOIN temp.report_origin o ON o.origin = v.origin
              WHERE v.deleted = 0 AND v.date <= :end GROUP BY 1, 2)""", params).fetchone()
    return _flow(row["m"], row["y"], row["total"])


def _hamlet_units(store: Store) -> list[dict]:
    from cdt.core.text import vi_key

    hamlets = store.query("SELECT id, name, kind FROM hamlet WHERE deleted = 0")
    return [{"code": ref_of(h["id"]), "id": h["id"], "name": h["name"], "level": "hamlet", "kind": h["kind"]}
            for h in sorted(hamlets, key=lambda h: vi_key(h["name"]))]


def _expected_units(unit: units.Unit | None, row_level: str) -> list[dict]:
    if unit is None:
        return []
    if row_level == "district":
        return [_unit_dict(u) for u in units.districts_in(unit)]
    return [_unit_dict(u) for u in units.communes_in(unit)]


def completeness(store: Store, year: int, month: int, expected: list[dict]) -> list[dict]:
    """Per expected commune: has a pack made after the month's end been merged, and when."""
    end = period(year, month)["end"]
    latest: dict[str, dict] = {}
    for row in origins(store):
        code = row.get("commune_code")
        if row.get("level") != "commune" or not code or not row.get("merged_at") \
                or row.get("structure") not in (None, store.site.structure):
            continue  # a code means another commune in the other structure
        current = latest.get(code)
        if current is None or str(row.get("packed_at") or "") > str(current.get("packed_at") or ""):
            latest[code] = row
    second = _second_files(store)
    result = []
    for unit in expected:
        row = latest.get(unit["code"])
        packed = row.get("packed_at") if row else None
        # packed_at is an ISO timestamp: any time on a later day than the month's last covers it.
        reported = bool(packed) and str(packed)[:10] > end
        result.append({"unit": unit, "reported": reported, "packed_at": packed,
                       "merged_at": row.get("merged_at") if row else None,
                       "clock": row.get("clock") if row else None,
                       "second_file": unit["code"] in second})
    return result


def _second_files(store: Store) -> set[str]:
    """Units with an unresolved second file: a pack refused as a unit's second file, whose file has
    not been declared a replacement since (issue 9)."""
    return {row[0] for row in store.conn.execute(
        "SELECT DISTINCT l.unit_code FROM merge_log l WHERE l.outcome = 'refused' AND l.reason = 'second_file'"
        " AND l.unit_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM replacement r"
        " WHERE l.db_id IN (r.old_db_id, r.new_db_id))")}


def build_report(store: Store, *, year: int | None = None, month: int | None = None,
                 level: str | None = None) -> dict:
    """The report of a month for this file's unit, as the plain dict of docs/report-shape.md."""
    from cdt.core.i18n import t
    from cdt.register.settings import settings

    if year is None or month is None:
        year, month = last_full_month()
    level = _check_level(store, level)
    dates = period(year, month)
    params = {"start": dates["start"], "end": dates["end"], "year_start": dates["year_start"]}
    dc_codes = [c for c in settings(store)["digital_citizen_services"].split(",") if c]
    own, parent, province, unit = _site_unit(store)
    notes: list[str] = []
    today = date.today()
    if (year, month) > (today.year, today.month):
        # Said in the report itself: a month that has not begun cannot have data yet.
        notes.append(t("report.future_month", month=f"{month:02d}/{year}"))

    if level == "commune":
        row_level = "hamlet"
        expected = _hamlet_units(store)
    elif level == "district":
        row_level = "commune"
        expected = _expected_units(unit, "commune")
    else:
        row_level = "district" if store.site.structure == units.LEGACY else "commune"
        expected = _expected_units(unit, row_level)
        if row_level == "commune":
            notes.append(t(NO_DISTRICT_NOTE))

    commune_rows: list[dict] = []
    district_of: dict[str, str | None] | None = None
    communes = _expected_units(unit, "commune") if level != "commune" else []
    if level == "commune":
        mapping, seen = _buckets(store, "hamlet")
        _load_buckets(store, mapping)
        measured = _measure(store, by_hamlet=True, params=params, dc_codes=dc_codes)
        total = _sum(measured.values())
        total["households_reached"] = _households_total(store, params)
    else:
        # One pass by commune; districts are sums of their communes (households included: a
        # household code belongs to one commune's register).
        mapping, seen = _buckets(store, "commune")
        _load_buckets(store, mapping)
        measured = _measure(store, by_hamlet=False, params=params, dc_codes=dc_codes)
        total = _sum(measured.values())
    services = _service_list(store, total)
    codes = [s["code"] for s in services]
    if level == "commune":
        rows = _assemble(expected, measured, "hamlet", seen, codes)
    elif row_level == "commune":
        rows = _assemble(expected, measured, "commune", seen, codes)
    else:
        district_of = {code: district for code, _, district, _ in _commune_of_origin(store).values()}
        district_of.update({u.code: u.district_code for u in units.communes_in(unit)} if unit else {})
        by_district: dict[str, list[dict]] = {}
        for code, values in measured.items():
            by_district.setdefault(district_of.get(code) or "", []).append(values)
        rolled = {code: _sum(parts) for code, parts in by_district.items()}
        _, districts_seen = _buckets(store, "district")
        rows = _assemble(expected, rolled, "district", districts_seen, codes)
    if level == "province":
        commune_rows = rows if row_level == "commune" else _assemble(communes, measured, "commune", seen, codes)
    total = _finish(total, codes)

    done = completeness(store, year, month, communes) if level != "commune" else []
    missing = [entry["unit"]["name"] for entry in done if not entry["reported"]]
    if missing:
        notes.append(t("report.note_missing", count=len(missing), total=len(done)))
    doubled = [entry["unit"]["name"] for entry in done if entry.get("second_file")]
    if doubled:
        notes.append(t("valid.report.second_file", count=len(doubled), names=", ".join(doubled)))

    targets = target_progress(store, year, total)
    from cdt.reports.trends import build_trends

    trends = build_trends(store, year, month, by_hamlet=level == "commune", dc_codes=dc_codes, rows=rows,
                          row_key=lambda row: row["unit"].get("id") or row["unit"]["code"],
                          roll_up=(lambda code: district_of.get(code) or "") if district_of else None,
                          total=total, targets=targets)
    return {
        "schema": SCHEMA,
        "month": f"{year:04d}-{month:02d}",
        "period": dates,
        "level": level,
        "unit": own,
        "parent": parent,
        "province": province,
        "generated_at": now(),
        "services": services,
        "digital_citizen_services": dc_codes,
        "row_level": row_level,
        "rows": rows,
        "commune_rows": commune_rows,
        "total": total,
        "completeness": done,
        "targets": targets,
        "notes": notes,
        "trends": trends,
    }


# -- targets ----------------------------------------------------------------------------------------


def _own_targets(store: Store) -> list[dict]:
    return store.query(
        "SELECT * FROM target WHERE deleted = 0 AND origin = ? ORDER BY year, indicator, percent",
        (store.site.db_id,))


def list_targets(store: Store) -> list[dict]:
    """This file's own targets (a district's targets live in the district file), by year."""
    return [{"indicator": r["indicator"], "year": r["year"], "value": _plain(r["value"]),
             "percent": bool(r["percent"]), "ref": ref_of(r["id"]),
             "base": PERCENT_BASE.get(r["indicator"]) if r["percent"] else None}
            for r in _own_targets(store)]


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def set_target(store: Store, indicator: str, year: Any, value: Any, percent: bool = False) -> dict:
    """Set (or change) this file's target for an indicator and year; percent values are 0–100."""
    from cdt.domain.models import TargetIn, validate
    from cdt.core.text import clean

    key = clean(indicator or "").lower()
    if key not in TARGET_INDICATORS:
        raise InvalidInput("target.unknown_indicator", indicator=clean(indicator or ""),
                           keys=", ".join(TARGET_INDICATORS))
    data = validate(TargetIn, indicator=key, year=year, value=value, percent=percent)
    if percent:
        if key not in PERCENT_BASE:
            raise InvalidInput("target.no_percent", indicator=key)
        if data.value > 100:
            raise InvalidInput("target.percent_over", value=_plain(data.value))
    values = {"indicator": key, "year": data.year, "value": data.value, "percent": 1 if percent else 0}
    existing = [r for r in _own_targets(store) if r["indicator"] == key and r["year"] == data.year]
    with store.write() as tx:
        if existing:
            row = tx.update("target", existing[0]["id"], values)
            for extra in existing[1:]:
                tx.delete("target", extra["id"])
        else:
            row = tx.insert("target", values)
    return {"indicator": key, "year": data.year, "value": _plain(data.value), "percent": bool(percent),
            "ref": ref_of(row["id"]), "base": PERCENT_BASE.get(key) if percent else None}


def target_progress(store: Store, year: int, total: dict) -> list[dict]:
    """The file's targets for the report's year and later, with the actual value and progress.

    Stock indicators compare their value at the month's end; flows their year-to-date value
    (``digital_citizens``: everything up to the month's end). A percent target (stored as 0–100,
    shown as a fraction) divides that by its base: working-age residents, households, hamlets,
    teams or members, as ``PERCENT_BASE`` says.
    """
    result = []
    for r in _own_targets(store):
        if r["year"] < year:
            continue
        key = r["indicator"]
        if key in FLOW_KEYS:
            count = total[key]["total" if key in CUMULATIVE_TARGETS else "ytd"]
        else:
            count = total.get(key)
        if r["percent"]:
            goal = r["value"] / 100
            actual = _ratio(count, total.get(PERCENT_BASE.get(key, ""), 0))
        else:
            goal = _plain(r["value"])
            actual = count
        progress = round(actual / goal, 6) if actual is not None and goal else None
        result.append({"indicator": key, "year": r["year"], "value": goal, "percent": bool(r["percent"]),
                       "base": PERCENT_BASE.get(key) if r["percent"] else None,
                       "actual": actual, "progress": progress})
    return result
