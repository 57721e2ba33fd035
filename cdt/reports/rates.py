"""Rates over the units that recorded their base: the figure, its numerator and denominator, and how many units stand behind it.

A rate divides a count by a base: hamlets covered by hamlets, members trained by members,
households reached by households, a percent target by its base (docs/report.md). A commune that
never recorded its households would pull a district's rate up if its visits counted and its
households did not, so a rate counts only the units that recorded its base (``base_units`` of
``units``, the units with any figure), and is not given at all when fewer than half of them did
(``sufficient`` false, the value null): the documents then print "chưa đủ số liệu".

The units are the leaves of the report: hamlets on a commune file, communes above it (a district
of a province is the sum of its communes). Nothing here queries the database.
"""

from __future__ import annotations

from typing import Any, Iterable

from cdt.domain.indicators import FLOW_KEYS, PARTS, STOCK_KEYS

# rate key: (numerator, base), as report.py fills them in every row and in the total.
RATES = {
    "hamlets_covered_pct": ("hamlets_covered", "hamlets"),
    "members_trained_pct": ("members_trained", "members"),
    "households_reached_pct": ("households_reached", "households"),
}


def has_figures(values: dict) -> bool:
    """True when a unit has any figure at all (a commune whose data reached this file)."""
    if any(values.get(key) for key in STOCK_KEYS):
        return True
    return any((values.get(key) or {}).get("total") for key in FLOW_KEYS)


def sufficient(base_units: int, units: int) -> bool:
    """A rate stands when at least half of the units recorded its base."""
    return units > 0 and base_units > 0 and 2 * base_units >= units


def _count(values: dict, key: str, part: str | None) -> int:
    value = values.get(key)
    if isinstance(value, dict):
        return int(value.get(part or "total") or 0)
    return int(value or 0)


def rate_base(leaves: Iterable[dict], numerator: str, base: str, *, part: str | None = None,
              unit_level: str, whole: Any = None) -> dict:
    """A rate's numerator, denominator and units, counted over the leaves that recorded the base.

    For a flow without ``part`` the numerator is ``{"month", "ytd", "total"}``. ``whole`` is the
    numerator of all the leaves when it is not their sum (distinct households of a commune that
    two hamlets' teams visited): used when every leaf recorded the base.
    """
    leaves = list(leaves)
    based = [values for values in leaves if _count(values, base, None) > 0]
    denominator = sum(_count(values, base, None) for values in based)
    flow = numerator in FLOW_KEYS and part is None
    if flow:
        count: Any = {p: sum(_count(values, numerator, p) for values in based) for p in PARTS}
        if whole is not None and len(based) == len(leaves):
            count = {p: int(whole[p]) for p in PARTS}
    else:
        count = sum(_count(values, numerator, part) for values in based)
        if whole is not None and len(based) == len(leaves):
            count = int(whole)
    return {"base": base, "numerator": count, "denominator": denominator, "base_units": len(based),
            "units": len(leaves), "unit_level": unit_level, "sufficient": sufficient(len(based), len(leaves))}


def rate_value(entry: dict, part: str | None = None) -> float | None:
    """The rate of a ``rate_base`` entry (one part of a flow's), to six places; None when it does not stand."""
    count = entry["numerator"]
    if isinstance(count, dict):
        count = count[part or "total"]
    if not entry["sufficient"] or not entry["denominator"]:
        return None
    return round(count / entry["denominator"], 6)


def apply_rates(row: dict, leaves: list[dict], unit_level: str, *, whole_households: dict | None = None) -> dict:
    """Set a finished row's rates from its leaves, and say what each stands on under ``rates``."""
    bases = {}
    for key, (numerator, base) in RATES.items():
        whole = whole_households if numerator == "households_reached" else None
        entry = rate_base(leaves, numerator, base, unit_level=unit_level, whole=whole)
        bases[key] = entry
        if numerator in FLOW_KEYS:
            row[key] = {part: rate_value(entry, part) for part in PARTS}
        else:
            row[key] = rate_value(entry)
    row["rates"] = bases
    return row
