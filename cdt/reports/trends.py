"""Trends: the last 12 months of the main indicators, and each target's path through its year.

Everything here goes through ``figures_by_month``, which computes
each month's flows (visits, distinct households reached, people helped, digital citizens) per unit
and for the whole file. On a district or province file it reads the totals kept per origin and
month (cdt/totals.py); on a commune file it reads the visits, in one pass for the 12 months.

``figures_by_month`` relies on the temporary bucket tables figures.py loads (``temp.report_bucket``,
``temp.report_origin``), so it is called from ``build_report`` after they are written.
"""

from __future__ import annotations

from typing import Any, Callable

from cdt.domain.indicators import CUMULATIVE_TARGETS, FLOW_KEYS, PERCENT_BASE, TREND_KEYS
from cdt.reports.figures import (ACTIVE_TEAM, ACTIVE_TEAM_OF_HAMLET, bucket_units, month_rows, period, ratio,
                                 service_codes)
from cdt.store import Store

MONTHS = 12


def month_list(year: int, month: int, count: int = MONTHS) -> list[tuple[int, int]]:
    """The count months ending with (year, month), oldest first."""
    out = []
    y, m = year, month
    for _ in range(count):
        out.append((y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


_ZERO = {key: 0 for key in TREND_KEYS}  # read only


def _zero() -> dict[str, int]:
    return {key: 0 for key in TREND_KEYS}


def figures_by_month(store: Store, months: list[tuple[int, int]], *, by_hamlet: bool,
                     dc_codes: list[str]) -> dict[tuple[int, int], dict]:
    """Each month's flows, ``{(year, month): {"units": {unit key: figures}, "total": figures}}``.

    The one place trends read the data: on a district or province file the totals kept per
    origin and month (cdt/totals.py), on a commune file (units are hamlets, which the totals do
    not know) one pass over the visits of the months. A unit key is what ``temp.report_bucket`` maps to (a
    hamlet id on a commune file, a commune code above); rows of no known unit count in the total
    only. Households are distinct per commune's register within the month (a district adds its
    communes up), and on a commune file distinct over the whole commune in the total (a household
    may be visited by two hamlets' teams).
    """
    out = {ym: {"units": {}, "total": _zero()} for ym in months}
    if not months:
        return out
    first, last = min(months), max(months)
    params = {"start": period(*first)["start"], "end": period(*last)["end"]}
    key_of = {f"{y:04d}-{m:02d}": (y, m) for y, m in months}
    if by_hamlet:
        _from_visits(store, out, key_of, params, by_hamlet, set(dc_codes))
    else:
        _from_totals(store, out, key_of, set(dc_codes))
    return out


def _from_visits(store: Store, out: dict, key_of: dict[str, tuple[int, int]], params: dict, by_hamlet: bool,
                 dc_set: set[str]) -> None:
    """figures_by_month from a scan of the visits: a commune file's (units are hamlets, found
    through the visit's team), and the full recount tests/test_totals.py compares the totals with."""
    bucket = "t.hamlet_id" if by_hamlet else "v.origin"
    team_join = "LEFT JOIN team t ON t.id = v.team_id" if by_hamlet else ""
    parsed: dict[str, bool] = {}
    # One pass over the rows (NOT INDEXED, as in figures.py: a year of visits is most of the table),
    # added up here: measured faster than grouping by unit, month, household and services in SQL,
    # which sorts every row on long keys.
    households: dict[tuple, set] = {}
    totals: dict[tuple, set] = {}
    entries: dict[tuple, dict] = {}
    for unit, ym, commune, household, services, people in store.conn.execute(f"""
        SELECT coalesce(b.unit, ''), substr(v.date, 1, 7), coalesce(o.commune, v.origin), v.household,
               v.services, v.people
        FROM visit v NOT INDEXED {team_join} LEFT JOIN temp.report_bucket b ON b.bucket = {bucket}
        LEFT JOIN temp.report_origin o ON o.origin = v.origin
        WHERE v.deleted = 0 AND v.date >= :start AND v.date <= :end""", params):
        key = key_of.get(ym)
        if key is None:
            continue
        entry = entries.get((key, unit))
        if entry is None:
            entry = entries[(key, unit)] = out[key]["units"].setdefault(unit, _zero())
        total = out[key]["total"]
        services = services or ""
        dc = parsed.get(services)
        if dc is None:
            dc = parsed[services] = bool(service_codes(services) & dc_set)
        people = int(people or 0)
        entry["visits"] += 1
        total["visits"] += 1
        entry["people_helped"] += people
        total["people_helped"] += people
        if dc:
            entry["digital_citizens"] += people
            total["digital_citizens"] += people
        pair = (commune, household)
        households.setdefault((key, unit), set()).add(pair)
        totals.setdefault(key, set()).add(pair)
    for (key, unit), found in households.items():
        out[key]["units"][unit]["households_reached"] = len(found)
    for key, found in totals.items():
        out[key]["total"]["households_reached"] = len(found)
    for month in out.values():
        month["units"].pop("", None)


def _from_totals(store: Store, out: dict, key_of: dict[str, tuple[int, int]], dc_set: set[str]) -> None:
    """figures_by_month on a district or province file: from the totals kept per origin and month
    (cdt/totals.py), households distinct per commune as figures.py counts them."""
    args = {"first": min(key_of), "last": max(key_of)}
    unit_of = bucket_units(store)
    _, rows = month_rows(store, dc_set, args["last"])
    for origin, month, visits, people, dc, *_ in rows:
        key = key_of.get(month)
        if key is None:
            continue
        unit = unit_of.get(origin, "")
        units = out[key]["units"]
        for entry in (units[unit] if unit in units else units.setdefault(unit, _zero()), out[key]["total"]):
            entry["visits"] += int(visits or 0)
            entry["people_helped"] += int(people or 0)
            entry["digital_citizens"] += int(dc or 0)
    for unit, month, reached in store.conn.execute("""
        SELECT coalesce(b.unit, ''), r.month, sum(r.reached)
        FROM total_reach r LEFT JOIN temp.report_bucket b ON b.bucket = r.origin
        WHERE r.month BETWEEN :first AND :last AND r.origin NOT IN (SELECT origin FROM temp.report_shared)
        GROUP BY 1, 2
        UNION ALL
        SELECT unit, month, count(*) FROM (
            SELECT DISTINCT coalesce(b.unit, '') AS unit, h.month, o.commune, h.household
            FROM total_household h JOIN temp.report_origin o ON o.origin = h.origin
            LEFT JOIN temp.report_bucket b ON b.bucket = h.origin
            WHERE h.month BETWEEN :first AND :last AND h.origin IN (SELECT origin FROM temp.report_shared))
        GROUP BY 1, 2""", args):
        key = key_of.get(month)
        if key is None:
            continue
        for entry in (out[key]["units"].setdefault(unit, _zero()), out[key]["total"]):
            entry["households_reached"] += int(reached or 0)
    for month in out.values():
        month["units"].pop("", None)


def build_trends(store: Store, year: int, month: int, *, by_hamlet: bool, dc_codes: list[str],
                 rows: list[dict], row_key: Callable[[dict], str],
                 roll_up: Callable[[str], str] | None = None, total: dict, targets: list[dict]) -> dict:
    """The ``trends`` block of the report (docs/report-shape.md).

    ``rows`` are the report's rows; ``row_key`` gives the unit key a row's figures are kept under,
    and ``roll_up`` maps a bucket unit to that key when rows are sums of buckets (districts of a
    province).
    """
    months = month_list(year, month)
    by_month = figures_by_month(store, months, by_hamlet=by_hamlet, dc_codes=dc_codes)
    per_month = [by_month[ym] for ym in months]
    series_total = {key: [figures["total"][key] for figures in per_month] for key in TREND_KEYS}
    keyed: list[dict[str, dict[str, int]]] = []
    for figures in per_month:
        if roll_up is None:
            keyed.append(figures["units"])
            continue
        rolled: dict[str, dict[str, int]] = {}
        for unit, values in figures["units"].items():
            entry = rolled.setdefault(roll_up(unit) or "", _zero())
            for key in TREND_KEYS:
                entry[key] += values[key]
        keyed.append(rolled)
    trend_rows = []
    active = set().union(*keyed)  # most units of a province have no data (yet): zeros, built at once
    for row in rows:
        key = row_key(row)
        if key in active:
            series = {k: [month.get(key, _ZERO)[k] for month in keyed] for k in TREND_KEYS}
        else:
            series = {k: [0] * len(keyed) for k in TREND_KEYS}
        trend_rows.append({"unit": row["unit"], **series})
    return {
        "months": [f"{y:04d}-{m:02d}" for y, m in months],
        "indicators": list(TREND_KEYS),
        "total": series_total,
        "rows": trend_rows,
        "targets": target_paths(store, year, month, targets=targets, total=total,
                                months=months, per_month=[f["total"] for f in per_month]),
    }


# -- targets through the year -------------------------------------------------------------------------


def stocks_at(store: Store, end: str) -> dict[str, int]:
    """The whole file's stock indicators at a day's end (the rules of figures.py's ``measure``)."""
    params = {"end": end}
    q = store.conn.execute
    hamlets = q(f"""
        SELECT count(*) AS hamlets,
               coalesce(sum(EXISTS (SELECT 1 FROM team tt WHERE tt.hamlet_id = h.id
                                    AND {ACTIVE_TEAM_OF_HAMLET})), 0) AS covered
        FROM hamlet h WHERE h.deleted = 0""", params).fetchone()
    teams = q(f"""
        SELECT count(*) AS teams, coalesce(sum(trim(coalesce(t.decision_number, '')) <> ''), 0) AS decided
        FROM team t WHERE {ACTIVE_TEAM}""", params).fetchone()
    members = q(f"""
        SELECT count(*) AS members,
               coalesce(sum(EXISTS (SELECT 1 FROM training_attendance a JOIN training tr ON tr.id = a.training_id
                                    WHERE a.member_id = m.id AND a.deleted = 0 AND tr.deleted = 0
                                      AND tr.date <= :end)), 0) AS trained
        FROM member m JOIN team t ON t.id = m.team_id
        WHERE m.deleted = 0 AND (m.joined_on IS NULL OR m.joined_on <= :end)
          AND (m.left_on IS NULL OR m.left_on > :end) AND {ACTIVE_TEAM}""", params).fetchone()
    return {"hamlets": int(hamlets["hamlets"]), "hamlets_covered": int(hamlets["covered"]),
            "teams": int(teams["teams"]), "teams_with_decision": int(teams["decided"]),
            "members": int(members["members"]), "members_trained": int(members["trained"])}


def _households_ytd(store: Store, year: int, month: int) -> list[int]:
    """Distinct households reached from 1 January to the end of each month 1..month (cumulative)."""
    params = {"year_start": f"{year:04d}-01-01", "end": period(year, month)["end"]}
    firsts = [0] * month
    if store.site.level != "commune":
        # The totals (cdt/totals.py): each household's first month of the year, per commune.
        params = {"first": f"{year:04d}-01", "last": f"{year:04d}-{month:02d}"}
        rows = store.conn.execute("""
            SELECT r.month AS first, sum(r.first_in_year) AS n FROM total_reach r
            WHERE r.month BETWEEN :first AND :last AND r.origin NOT IN (SELECT origin FROM temp.report_shared)
            GROUP BY 1
            UNION ALL
            SELECT first, count(*) FROM (
                SELECT o.commune, h.household, min(h.month) AS first
                FROM total_household h JOIN temp.report_origin o ON o.origin = h.origin
                WHERE h.month BETWEEN :first AND :last AND h.origin IN (SELECT origin FROM temp.report_shared)
                GROUP BY 1, 2)
            GROUP BY 1""", params).fetchall()
    else:
        rows = store.conn.execute("""
        SELECT first, count(*) AS n FROM (
            SELECT coalesce(o.commune, v.origin), v.household, min(v.date) AS first
            FROM visit v LEFT JOIN temp.report_origin o ON o.origin = v.origin
            WHERE v.deleted = 0 AND v.date >= :year_start AND v.date <= :end
            GROUP BY 1, 2)
        GROUP BY substr(first, 6, 2)""", params).fetchall()
    for row in rows:
        index = int(str(row["first"])[5:7]) - 1
        if 0 <= index < month:
            firsts[index] += int(row["n"])
    out, running = [], 0
    for count in firsts:
        running += count
        out.append(running)
    return out


def target_paths(store: Store, year: int, month: int, *, targets: list[dict], total: dict,
                 months: list[tuple[int, int]], per_month: list[dict[str, int]]) -> list[dict]:
    """Each target of the report's year, month by month from January to the report's month.

    ``actual`` at a month is what the report of that month would show for the target (stocks at
    the month's end, flows for the year to date, ``digital_citizens`` everything up to the
    month's end; percent targets divided by their base; only the report's month when some units
    have not recorded the base), ``progress`` is actual / target and
    ``line`` the straight line from zero in January to the target in December (flows only: a
    count that builds up over the year). Targets of later years get an empty path.
    """
    index = {ym: i for i, ym in enumerate(months)}
    flows_by_month = [per_month[index[(year, m)]] for m in range(1, month + 1)]
    stock_cache: dict[int, dict[str, int]] = {}
    households_ytd: list[int] | None = None

    def stocks(m: int) -> dict[str, int]:
        if m not in stock_cache:
            stock_cache[m] = stocks_at(store, period(year, m)["end"])
        return stock_cache[m]

    out = []
    for target in targets:
        path: list[dict[str, Any]] = []
        key = target["indicator"]
        goal = target.get("value")
        if target.get("year") == year:
            for m in range(1, month + 1):
                if key == "households_reached":
                    if households_ytd is None:
                        households_ytd = _households_ytd(store, year, month)
                    count: Any = households_ytd[m - 1]
                elif key in CUMULATIVE_TARGETS:
                    # Everything up to the month's end: the report's figure less the months after.
                    later = sum(f[key] for f in flows_by_month[m:])
                    count = total[key]["total"] - later
                elif key in FLOW_KEYS:
                    count = sum(f[key] for f in flows_by_month[:m])
                else:
                    count = stocks(m).get(key)
                if target.get("percent") and target.get("base_units", 0) < target.get("units", 0):
                    # Some units never recorded the base: only the report's month is counted over
                    # the units that did (cdt/reports/rates.py); earlier months are not redrawn.
                    actual = target.get("actual") if m == month else None
                elif target.get("percent"):
                    base_key = PERCENT_BASE.get(key, "")
                    base = stocks(m).get(base_key) if base_key in ("teams", "members", "hamlets") \
                        else total.get(base_key)
                    actual = ratio(count, base)
                else:
                    actual = count
                progress = round(actual / goal, 6) if actual is not None and goal else None
                line = round(goal * m / 12, 6) if key in FLOW_KEYS and goal is not None else None
                path.append({"month": f"{year:04d}-{m:02d}", "actual": actual, "progress": progress,
                             "line": line})
        out.append({"indicator": key, "year": target.get("year"), "value": goal,
                    "percent": bool(target.get("percent")), "path": path})
    return out
