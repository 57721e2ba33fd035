"""A month's figures per unit, from the visits or from the totals kept per origin and month.

The report (report.py) and its trends (trends.py) both read this. Every number comes from SQL
over the domain tables (tombstones excluded), grouped by the unit a row belongs to. Which unit a
row belongs to is decided in one place, ``buckets``:

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
import json
import weakref
from typing import Any

from cdt.domain import units
from cdt.domain.indicators import FLOW_KEYS, PARTS, STOCK_KEYS
from cdt.exchange.replacements import absorbed_origins
from cdt.store import Store

# -- the month ------------------------------------------------------------------------------------


def period(year: int, month: int) -> dict[str, str]:
    """Start and end of the month and the start of its year, as ISO dates."""
    last = calendar.monthrange(year, month)[1]
    return {"start": f"{year:04d}-{month:02d}-01", "end": f"{year:04d}-{month:02d}-{last:02d}",
            "year_start": f"{year:04d}-01-01"}


# -- which unit a row belongs to (the one place) -----------------------------------------------------


def origins(store: Store) -> list[dict]:
    """The merge bookkeeping: one dict per origin file seen (columns as the origin table has them)."""
    return store.query("SELECT * FROM origin")


def unit_dict(unit: units.Unit | None, code: str | None = None, name: str | None = None,
              level: str = "commune") -> dict:
    """A unit as the report names it (code, name, level), from the unit list or from what is known."""
    if unit is not None:
        return {"code": unit.code, "name": unit.name, "level": unit.level}
    return {"code": code, "name": name or code, "level": level}


def commune_of_origin(store: Store) -> dict[str, tuple[str, str | None, str | None, str | None]]:
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
    # commune's, and its household codes that commune's register (cdt/exchange/replacements.py).
    for old, new in absorbed_origins(store).items():
        if new in found:
            found[old] = found[new]
    return found


def buckets(store: Store, row_level: str) -> tuple[dict[str, tuple[str, str | None]], dict[str, dict]]:
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
    for db_id, (code, name, district, structure) in commune_of_origin(store).items():
        if row_level == "commune":
            mapping[db_id] = (code, code)
            seen.setdefault(code, {"code": code, "name": name or code, "level": "commune"})
        elif district:
            mapping[db_id] = (district, code)
            unit = units.get(district, level="district", structure=structure) \
                if structure in units.STRUCTURES else None
            seen.setdefault(district, unit_dict(unit, district, district, "district"))
    return mapping, seen


def load_buckets(store: Store, mapping: dict[str, tuple[str, str | None]]) -> None:
    """Write the bucket → unit mapping, and origin → commune (households are per commune)."""
    conn = store.conn
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS report_bucket (bucket TEXT PRIMARY KEY, unit TEXT NOT NULL)")
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS report_origin (origin TEXT PRIMARY KEY, commune TEXT NOT NULL)")
    conn.execute("DELETE FROM temp.report_bucket")
    conn.execute("DELETE FROM temp.report_origin")
    conn.executemany("INSERT INTO temp.report_bucket (bucket, unit) VALUES (?, ?)",
                     [(bucket, unit) for bucket, (unit, _) in mapping.items()])
    conn.executemany("INSERT INTO temp.report_origin (origin, commune) VALUES (?, ?)",
                     [(db_id, found[0]) for db_id, found in commune_of_origin(store).items()])
    # Files replaced by another file of their unit (cdt merge --replaces): their register rows
    # (hamlets, teams, members) are not counted, the new file's are; their visits still count.
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS report_replaced (origin TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM temp.report_replaced")
    # An old commune's file absorbed by a 2025 commune's: its register is the new commune's and
    # counts, unless that file was itself replaced by another (then the new file's register counts).
    absorbed = absorbed_origins(store)
    replaced = {row[0] for row in conn.execute("SELECT old_db_id FROM main.replacement") if row[0] not in absorbed}
    replaced |= {old for old, new in absorbed.items() if new in replaced}
    conn.executemany("INSERT INTO temp.report_replaced (origin) VALUES (?)", [(origin,) for origin in replaced])
    # Origins sharing their commune with another origin (a file replaced by another): their
    # households are counted distinct across those files, from total_household (cdt/totals.py).
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS report_shared (origin TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM temp.report_shared")
    conn.execute("INSERT INTO temp.report_shared SELECT origin FROM temp.report_origin WHERE commune IN"
                 " (SELECT commune FROM temp.report_origin GROUP BY commune HAVING count(*) > 1)")


# -- the queries ----------------------------------------------------------------------------------

# A team is active at the month's end when founded by then and not dissolved by then.
ACTIVE_TEAM = ("t.deleted = 0 AND (t.founded_on IS NULL OR t.founded_on <= :end)"
               " AND CASE WHEN t.dissolved_on IS NOT NULL THEN t.dissolved_on > :end"
               " ELSE t.status <> 'dissolved' END")
ACTIVE_TEAM_OF_HAMLET = ACTIVE_TEAM.replace("t.", "tt.")
# A member counts at the month's end when joined by then (or joining unknown) and not left by then
# (their team must count too); trained when they attended a live training dated by then.
ACTIVE_MEMBER = ("m.deleted = 0 AND (m.joined_on IS NULL OR m.joined_on <= :end)"
                 " AND (m.left_on IS NULL OR m.left_on > :end)")
TRAINED_MEMBER = ("EXISTS (SELECT 1 FROM training_attendance a JOIN training tr ON tr.id = a.training_id"
                  " WHERE a.member_id = m.id AND a.deleted = 0 AND tr.deleted = 0 AND tr.date <= :end)")
# A register row of a unit's current file (not of a file replaced by another).
_CURRENT_FILE = "NOT EXISTS (SELECT 1 FROM temp.report_replaced x WHERE x.origin = {a}.origin)"


def _bucket_columns(by_hamlet: bool) -> dict[str, str]:
    """The bucket expression of each table: hamlet ids on a commune file, origins above."""
    if by_hamlet:
        return {"hamlet": "h.id", "team": "t.hamlet_id", "member": "t.hamlet_id", "visit": "t.hamlet_id"}
    return {"hamlet": "h.origin", "team": "t.origin", "member": "m.origin", "visit": "v.origin"}


def measure(store: Store, *, by_hamlet: bool, params: dict, dc_codes: list[str]) -> dict:
    """Indicators per unit code (rows of no known unit under '')."""
    col = _bucket_columns(by_hamlet)
    unit = "coalesce(b.unit, '')"
    out: dict[str, dict] = {}

    def entry(key: str) -> dict:
        found = out.get(key)
        if found is None:
            found = out[key] = empty_figures()
        return found

    q = store.conn.execute
    for row in q(f"""
        SELECT {unit} AS unit, count(*) AS hamlets,
               coalesce(sum(h.households), 0) AS households, coalesce(sum(h.working_age), 0) AS working_age,
               coalesce(sum(EXISTS (SELECT 1 FROM team tt WHERE tt.hamlet_id = h.id AND {ACTIVE_TEAM_OF_HAMLET})), 0)
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
        WHERE {ACTIVE_TEAM} AND {_CURRENT_FILE.format(a='t')} GROUP BY 1""", params):
        entry(row["unit"]).update(teams=row["teams"], teams_with_decision=row["decided"])

    # Active members: joined by the month's end, not left by then, in a team active then. Teams
    # first, their members through member(team_id): one index probe per team, not one per member.
    for row in q(f"""
        SELECT {unit} AS unit, count(*) AS members, coalesce(sum({TRAINED_MEMBER}), 0) AS trained
        FROM team t CROSS JOIN member m ON m.team_id = t.id
        LEFT JOIN temp.report_bucket b ON b.bucket = {col['member']}
        WHERE {ACTIVE_MEMBER} AND {ACTIVE_TEAM} AND {_CURRENT_FILE.format(a='m')}
        GROUP BY 1""", params):
        entry(row["unit"]).update(members=row["members"], members_trained=row["trained"])

    if by_hamlet:
        measure_visits_by_scan(store, by_hamlet, params, set(dc_codes), entry)
    else:  # a district or province file: the totals kept per origin and month
        _measure_visits_from_totals(store, params, set(dc_codes), entry)
    return out


def measure_visits_by_scan(store: Store, by_hamlet: bool, params: dict, dc_set: set[str], entry: Any) -> None:
    """Visits, people, services and distinct households per unit, from a scan of every visit: a
    commune file's report (rows are hamlets, found through the visit's team), and the full
    recount that tests/test_totals.py compares the totals with."""
    col = _bucket_columns(by_hamlet)
    unit = "coalesce(b.unit, '')"
    q = store.conn.execute
    team_join = "LEFT JOIN team t ON t.id = v.team_id" if by_hamlet else ""
    # NOT INDEXED: "since the start" needs every visit up to the month's end, most of the table,
    # and a plain scan reads it faster than walking visit(date) and fetching each row.
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
        codes = service_codes(row["services"])
        if codes & dc_set:
            _add(e["digital_citizens"], *people)
        for code in codes:
            _add(e["people_by_service"].setdefault(code, new_flow(0, 0, 0)), *people)

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
        entry(row["unit"])["households_reached"] = new_flow(row["hh_month"], row["hh_ytd"], row["hh_total"])


def bucket_units(store: Store) -> dict[str, str]:
    """The bucket → unit mapping ``load_buckets`` wrote (origins → communes above a commune)."""
    return dict(store.conn.execute("SELECT bucket, unit FROM temp.report_bucket").fetchall())


# Above this many service codes the report adds people by service in Python (one row per file and
# list of services) rather than in one SQL row per file with a column per code.
_MAX_CODE_COLUMNS = 200

# What load_lists and month_rows keep for an open store (its connection holds the temp tables);
# forgotten with the store.
_lists_loaded: weakref.WeakKeyDictionary[Store, tuple] = weakref.WeakKeyDictionary()
_month_rows_kept: weakref.WeakKeyDictionary[Store, tuple] = weakref.WeakKeyDictionary()


def load_lists(store: Store, dc_set: set[str]) -> list[str]:
    """Each distinct list of services in the totals, parsed once (as ``service_codes`` reads it), into
    ``temp.report_list(services, dc, c0, c1, …)``: dc = 1 when the list has a digital-citizen
    service, cN = 1 when it has the N-th code of the list returned. SQL then adds the totals up
    per file with the digital-citizen people and the people of each service apart, in the
    totals' own order (no sort, a few rows out)."""
    conn = store.conn
    key = frozenset(dc_set)
    version = conn.execute("PRAGMA data_version").fetchone()[0]
    loaded = _lists_loaded.get(store)
    if loaded is not None and loaded[:3] == (key, version, conn.total_changes):
        return loaded[3]  # loaded by this report, and nothing was written since
    parsed = {row[0]: service_codes(row[0]) for row in conn.execute("SELECT DISTINCT services FROM total_visit")}
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
    _lists_loaded[store] = (key, version, conn.total_changes, codes)
    return codes


def month_rows(store: Store, dc_set: set[str], last: str) -> tuple[list[str], list[tuple]]:
    """The totals per origin and month up to month ``last`` ('YYYY-MM'): ``(codes, rows)``, a row
    being (origin, month, visits, people, digital-citizen people, people of each code in codes).

    Grouped by origin and month, the totals' own order (no sort), a few rows per file and month
    whatever the number of visits; the report and its trends read the same rows (kept until the
    file or the settings change)."""
    conn = store.conn
    codes = load_lists(store, dc_set)
    cached = _month_rows_kept.get(store)
    state = _lists_loaded[store][:3]
    if cached is not None and cached[0] == state and cached[1] >= last:
        return codes, [row for row in cached[2] if row[1] <= last]
    sums = ["sum(tv.visits)", "sum(tv.people)", "sum(tv.people * l.dc)",
            *(f"sum(tv.people * l.c{n})" for n in range(len(codes)))]
    rows = [tuple(row) for row in conn.execute(f"""
        SELECT tv.origin, tv.month, {', '.join(sums)}
        FROM total_visit tv JOIN temp.report_list l ON l.services = tv.services
        WHERE tv.month <= ? GROUP BY 1, 2""", (last,))]
    _month_rows_kept[store] = (state, last, rows)
    return codes, rows


def _measure_visits_from_totals(store: Store, params: dict, dc_set: set[str], entry: Any) -> None:
    """Visits, people, services and distinct households per unit, from the totals kept per origin
    and month (cdt/totals.py): a few rows per commune and month, whatever the number of visits.

    The same numbers as a scan of the visits (``measure_visits_by_scan``; tests/test_totals.py
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
                _add(by_service.setdefault(code, new_flow(0, 0, 0)), *flow)
    if not codes:  # no codes at all, or too many for one row: by list of services, added up here
        parsed: dict[str, set[str]] = {}
        for origin, services, *people in q("""
            SELECT tv.origin, tv.services, sum(CASE WHEN tv.month = :month THEN tv.people ELSE 0 END),
                   sum(CASE WHEN tv.month >= :year_month THEN tv.people ELSE 0 END), sum(tv.people)
            FROM total_visit tv WHERE tv.month <= :month GROUP BY 1, 2""", args):
            found = parsed.get(services)
            if found is None:
                found = parsed[services] = service_codes(services)
            by_service = entry(unit_of.get(origin, ""))["people_by_service"]
            for code in found:
                _add(by_service.setdefault(code, new_flow(0, 0, 0)), *people)
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
        entry(unit)["households_reached"] = new_flow(*flows_)


def service_codes(services: Any) -> set[str]:
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


def sum_figures(measured: Any) -> dict:
    """The whole file's indicators from the per-unit ones: every row lands in exactly one unit
    (unknown ones under ''), so all counts add up; distinct households add up only when units
    are whole communes, which the caller checks."""
    total = empty_figures()
    for values in measured:
        for key in STOCK_KEYS:
            total[key] += values[key]
        for key in FLOW_KEYS:
            _add(total[key], *(values[key][part] for part in PARTS))
        for code, flow in values["people_by_service"].items():
            _add(total["people_by_service"].setdefault(code, new_flow(0, 0, 0)), *(flow[p] for p in PARTS))
    return total


def new_flow(month: Any, ytd: Any, total: Any) -> dict:
    """A flow indicator's three parts: the month, the year to date, since the start."""
    return {"month": int(month or 0), "ytd": int(ytd or 0), "total": int(total or 0)}


def empty_figures() -> dict:
    """One unit's indicators, all zero (no services yet)."""
    values: dict[str, Any] = {key: 0 for key in STOCK_KEYS}
    values.update({key: new_flow(0, 0, 0) for key in FLOW_KEYS})
    values["people_by_service"] = {}
    return values


def ratio(part: Any, whole: Any) -> float | None:
    """part / whole to six places; None when there is no whole."""
    return round(part / whole, 6) if whole else None


def households_total(store: Store, params: dict) -> dict:
    """Distinct households of the whole file (on a commune file a household may span hamlets)."""
    row = store.conn.execute("""
        SELECT sum(last >= :start) AS m, sum(last >= :year_start) AS y, count(*) AS total
        FROM (SELECT coalesce(o.commune, v.origin), v.household, max(v.date) AS last
              FROM visit v NOT INDEXED LEFT JOIN temp.report_origin o ON o.origin = v.origin
              WHERE v.deleted = 0 AND v.date <= :end GROUP BY 1, 2)""", params).fetchone()
    return new_flow(row["m"], row["y"], row["total"])
