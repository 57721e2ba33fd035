"""The monthly report as plain data (docs/report-shape.md): indicators, completeness, targets.

The figures per unit come from figures.py (which decides the unit each row belongs to); here they
become one row per expected unit and a total, with the completeness of the units' packs, the
progress of the targets and the trends (trends.py). Nothing here prints or writes files.
"""

from __future__ import annotations

import copy
from datetime import date

from cdt.core.errors import InvalidInput
from cdt.core.i18n import t
from cdt.core.text import vi_key
from cdt.domain import letterhead, units
from cdt.domain.indicators import CUMULATIVE_TARGETS, FLOW_KEYS, PARTS, PERCENT_BASE
from cdt.domain.services import service_catalogue
from cdt.register.settings import settings
from cdt.register.targets import own_targets, plain_number
from cdt.reports.figures import (buckets, commune_of_origin, empty_figures, households_total, load_buckets,
                                 measure, origins, period, ratio, sum_figures, unit_dict)
from cdt.reports.rates import apply_rates, has_figures, rate_base, rate_value
from cdt.reports.trends import build_trends
from cdt.store import Store
from cdt.core.rows import now, ref_of

SCHEMA = "cdt.report/1"

NO_DISTRICT_NOTE = "report.note_no_district"
# The bases a commune records for its hamlets (the others are counted from its records).
BASE_FIGURES = ("households", "working_age")


# -- the month ------------------------------------------------------------------------------------


def last_full_month(today: date | None = None) -> tuple[int, int]:
    """The month before today's: the default month of a report."""
    today = today or date.today()
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


# The keys of a finished row holding a dict of plain values (people_by_service holds dicts).
_NESTED = (*FLOW_KEYS, "households_reached_pct")


def _finish(values: dict, service_codes: list[str]) -> dict:
    """Fill derived keys (percentages) and give every row the same service codes, in order."""
    by_service = values.get("people_by_service") or {}
    values["people_by_service"] = {code: by_service.get(code) or {"month": 0, "ytd": 0, "total": 0}
                                   for code in service_codes}
    values["hamlets_covered_pct"] = ratio(values["hamlets_covered"], values["hamlets"])
    values["members_trained_pct"] = ratio(values["members_trained"], values["members"])
    values["households_reached_pct"] = {
        part: ratio(values["households_reached"][part], values["households"]) for part in PARTS}
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
    silent = _finish({"unit": None, **empty_figures()}, codes)
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
    report): dict copies in C, where an empty_figures() and a _finish() per row cost a sixth of the
    report."""
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


def _hamlet_units(store: Store) -> list[dict]:
    hamlets = store.query("SELECT id, name, kind FROM hamlet WHERE deleted = 0")
    return [{"code": ref_of(h["id"]), "id": h["id"], "name": h["name"], "level": "hamlet", "kind": h["kind"]}
            for h in sorted(hamlets, key=lambda h: vi_key(h["name"]))]


def _expected_units(unit: units.Unit | None, row_level: str) -> list[dict]:
    if unit is None:
        return []
    if row_level == "district":
        return [unit_dict(u) for u in units.districts_in(unit)]
    return [unit_dict(u) for u in units.communes_in(unit)]


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
    not been declared a replacement since."""
    return {row[0] for row in store.conn.execute(
        "SELECT DISTINCT l.unit_code FROM merge_log l WHERE l.outcome = 'refused' AND l.reason = 'second_file'"
        " AND l.unit_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM replacement r"
        " WHERE l.db_id IN (r.old_db_id, r.new_db_id))")}


def build_report(store: Store, *, year: int | None = None, month: int | None = None,
                 level: str | None = None) -> dict:
    """The report of a month for this file's unit, as the plain dict of docs/report-shape.md."""
    if year is None or month is None:
        year, month = last_full_month()
    level = _check_level(store, level)
    dates = period(year, month)
    params = {"start": dates["start"], "end": dates["end"], "year_start": dates["year_start"]}
    stored = settings(store)
    dc_codes = [c for c in stored["digital_citizen_services"].split(",") if c]
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
        mapping, seen = buckets(store, "hamlet")
        load_buckets(store, mapping)
        measured = measure(store, by_hamlet=True, params=params, dc_codes=dc_codes)
        total = sum_figures(measured.values())
        total["households_reached"] = households_total(store, params)
    else:
        # One pass by commune; districts are sums of their communes (households included: a
        # household code belongs to one commune's register).
        mapping, seen = buckets(store, "commune")
        load_buckets(store, mapping)
        measured = measure(store, by_hamlet=False, params=params, dc_codes=dc_codes)
        total = sum_figures(measured.values())
    services = _service_list(store, total)
    codes = [s["code"] for s in services]
    if level == "commune":
        rows = _assemble(expected, measured, "hamlet", seen, codes)
    elif row_level == "commune":
        rows = _assemble(expected, measured, "commune", seen, codes)
    else:
        district_of = {code: district for code, _, district, _ in commune_of_origin(store).values()}
        district_of.update({u.code: u.district_code for u in units.communes_in(unit)} if unit else {})
        by_district: dict[str, list[dict]] = {}
        for code, values in measured.items():
            by_district.setdefault(district_of.get(code) or "", []).append(values)
        rolled = {code: sum_figures(parts) for code, parts in by_district.items()}
        _, districts_seen = buckets(store, "district")
        rows = _assemble(expected, rolled, "district", districts_seen, codes)
    if level == "province":
        commune_rows = rows if row_level == "commune" else _assemble(communes, measured, "commune", seen, codes)
    total = _finish(total, codes)
    leaves, unit_level = _apply_rates(level, row_level, rows, commune_rows, total, district_of)

    done = completeness(store, year, month, communes) if level != "commune" else []
    _missing_bases(done, commune_rows if level == "province" else rows)
    missing = [entry["unit"]["name"] for entry in done if not entry["reported"]]
    if missing:
        notes.append(t("report.note_missing", count=len(missing), total=len(done)))
    doubled = [entry["unit"]["name"] for entry in done if entry.get("second_file")]
    if doubled:
        notes.append(t("valid.report.second_file", count=len(doubled), names=", ".join(doubled)))

    targets = target_progress(store, year, total, leaves=leaves, unit_level=unit_level)
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
        "letterhead": {key: stored[key] for key in letterhead.KEYS},
    }


def _missing_bases(done: list[dict], communes: list[dict]) -> None:
    """Say, for each expected commune with figures, which bases of the rates it has not recorded."""
    by_code = {row["unit"].get("code"): row for row in communes}
    for entry in done:
        row = by_code.get(entry["unit"].get("code"))
        entry["missing_bases"] = [base for base in BASE_FIGURES if not row[base]] \
            if row is not None and has_figures(row) else []


def _apply_rates(level: str, row_level: str, rows: list[dict], commune_rows: list[dict], total: dict,
                 district_of: dict[str, str | None] | None) -> tuple[list[dict], str]:
    """Every row's and the total's rates over the units that recorded their base (cdt/reports/rates.py);
    returns the leaves (hamlets of a commune, communes with figures above) and their level."""
    if level == "commune":
        for row in rows:
            apply_rates(row, [row], "hamlet")
        apply_rates(total, rows, "hamlet", whole_households=total["households_reached"])
        return rows, "hamlet"
    communes = commune_rows if level == "province" else rows
    leaves = [row for row in communes if has_figures(row)]
    for row in communes:
        apply_rates(row, [row] if has_figures(row) else [], "commune")
    if row_level == "district":
        by_district: dict[str, list[dict]] = {}
        for row in leaves:
            code = (district_of or {}).get(row["unit"].get("code")) or ""
            by_district.setdefault(code, []).append(row)
        for row in rows:
            apply_rates(row, by_district.get(row["unit"].get("code"), []), "commune")
    apply_rates(total, leaves, "commune")
    return leaves, "commune"


# -- targets ----------------------------------------------------------------------------------------


def target_progress(store: Store, year: int, total: dict, *, leaves: list[dict] | None = None,
                    unit_level: str = "commune") -> list[dict]:
    """The file's targets for the report's year and later, with the actual value and progress.

    Stock indicators compare their value at the month's end; flows their year-to-date value
    (``digital_citizens``: everything up to the month's end). A percent target (stored as 0–100,
    shown as a fraction) divides that by its base (working-age residents, households, hamlets,
    teams or members, as ``PERCENT_BASE`` says), over the ``leaves`` that recorded the base
    (cdt/reports/rates.py): the entry then says its numerator, denominator and units, and has no
    actual value when fewer than half of the units recorded the base.
    """
    result = []
    for r in own_targets(store):
        if r["year"] < year:
            continue
        key = r["indicator"]
        part = ("total" if key in CUMULATIVE_TARGETS else "ytd") if key in FLOW_KEYS else None
        count = total[key][part] if part else total.get(key)
        entry = {"indicator": key, "year": r["year"], "percent": bool(r["percent"]),
                 "base": PERCENT_BASE.get(key) if r["percent"] else None}
        if r["percent"]:
            goal = r["value"] / 100
            base = PERCENT_BASE.get(key, "")
            if leaves is None:
                actual = ratio(count, total.get(base, 0))
            else:
                counted = rate_base(leaves, key, base, part=part, unit_level=unit_level, whole=count)
                actual = rate_value(counted)
                entry.update({name: counted[name] for name in ("numerator", "denominator", "base_units", "units",
                                                                "unit_level", "sufficient")})
        else:
            goal = plain_number(r["value"])
            actual = count
        progress = round(actual / goal, 6) if actual is not None and goal else None
        result.append({**entry, "value": goal, "actual": actual, "progress": progress})
    return result
