"""This file's yearly targets: set one, list them (the report reads their progress)."""

from __future__ import annotations

from typing import Any

from cdt.domain.indicators import PERCENT_BASE
from cdt.domain.models import TargetIn, validate
from cdt.store import Store
from cdt.core.rows import ref_of


def own_targets(store: Store) -> list[dict]:
    """This file's own target rows (not those merged from other files), by year, indicator, percent."""
    return store.query(
        "SELECT * FROM target WHERE deleted = 0 AND origin = ? ORDER BY year, indicator, percent",
        (store.site.db_id,))


def list_targets(store: Store) -> list[dict]:
    """This file's own targets (a district's targets live in the district file), by year."""
    return [{"indicator": r["indicator"], "year": r["year"], "value": plain_number(r["value"]),
             "percent": bool(r["percent"]), "ref": ref_of(r["id"]),
             "base": PERCENT_BASE.get(r["indicator"]) if r["percent"] else None}
            for r in own_targets(store)]


def plain_number(value: Any) -> Any:
    """A whole float as an int (a target of 12.0 shows as 12); anything else as it is."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def set_target(store: Store, indicator: str, year: Any, value: Any, percent: bool = False) -> dict:
    """Set (or change) this file's target for an indicator and year; percent values are 0–100.

    Every check is the target rule of cdt/domain/rules.py (through TargetIn), run inside the write."""
    with store.write() as tx:
        data = validate(TargetIn, indicator=indicator, year=year, value=value, percent=percent)
        values = {"indicator": data.indicator, "year": data.year, "value": data.value, "percent": 1 if percent else 0}
        existing = [r for r in own_targets(store) if r["indicator"] == data.indicator and r["year"] == data.year]
        if existing:
            row = tx.update("target", existing[0]["id"], values)
            for extra in existing[1:]:
                tx.delete("target", extra["id"])
        else:
            row = tx.insert("target", values)
    return {"indicator": data.indicator, "year": data.year, "value": plain_number(data.value), "percent": bool(percent),
            "ref": ref_of(row["id"]), "base": PERCENT_BASE.get(data.indicator) if percent else None}
