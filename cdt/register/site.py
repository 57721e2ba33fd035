"""This file as a whole: creating it for a unit, and describing what it is."""

from __future__ import annotations

import re

from cdt.core.errors import Ambiguous, InvalidInput, NotFound
from cdt.core.i18n import t
from cdt.core.text import clean, fold
from cdt.domain import units
from cdt.store import Store


def info(store: Store) -> dict:
    """What the file is: path, unit, level, schema version, clock and live rows per table."""
    site = store.site
    return {
        "path": str(store.path), "db_id": site.db_id, "level": site.level, "structure": site.structure,
        "unit": {"code": site.unit_code, "name": site.unit_name},
        "commune": {"code": site.commune_code, "name": site.commune_name},
        "district": {"code": site.district_code, "name": site.district_name},
        "province": {"code": site.province_code, "name": site.province_name},
        "schema_version": site.schema_version, "clock": site.clock, "created_at": site.created_at,
        "counts": {table: store.count(table) for table in
                   ("hamlet", "team", "member", "training", "training_attendance", "visit", "service", "target")},
    }


def _same_unit_both_structures(found: list) -> bool:
    """True when the matches are one unit that kept its code and name through the 2025 reform."""
    return (len(found) == 2 and {u.structure for u in found} == {"legacy", "2025"}
            and len({u.code for u in found}) == 1 and len({fold(u.name) for u in found}) == 1)


def create_file(path, level: str, query: str, structure: str | None = None, *, prefer_legacy: bool = False,
                on_create=None):
    """Create the store for a commune, district or province named by code or name (``on_create``: as
    for Store.create, what the new file gets in its creating transaction: its key pairs).

    A code or name that matches several units (the same code can name different communes in the
    two structures) raises Ambiguous; nothing is picked silently. The one exception, when the
    caller cannot ask (``prefer_legacy``): the same unit under the same code and name in both
    structures (province 19 Thái Nguyên) takes the pre-2025 structure, which district packs use,
    and the caller says so. ``query`` may also be the exact key ``structure:code`` that an answer
    to the question gives.
    """
    query = clean(query)
    if structure not in (None, "legacy", "2025"):
        raise InvalidInput("init.bad_structure", value=structure)
    if re.fullmatch(r"(legacy|2025):\d+", query):
        structure, code = query.split(":")
        found = [u for u in [units.get(code, level=level, structure=structure)] if u]
    else:
        found = units.search(query, structure=structure, level=level)
        exact = [u for u in found if u.code == query or u.code.lstrip("0") == query.lstrip("0")]
        found = exact or found
    if not found:
        raise NotFound("init.unit_not_found", name=query, level=t_level(level))
    if len(found) > 1 and not (prefer_legacy and _same_unit_both_structures(found)):
        raise Ambiguous("init.ambiguous", [(f"{u.structure}:{u.code}", u.label()) for u in found[:20]],
                        name=query, count=len(found))
    unit = next(u for u in found if u.structure == "legacy") if len(found) > 1 else found[0]
    return Store.create(
        path, level=level, structure=unit.structure,
        province=(unit.province_code, unit.province_name),
        district=(unit.district_code, unit.district_name) if level != "province" else (None, None),
        commune=(unit.code, unit.name) if level == "commune" else (None, None),
        on_create=on_create,
    )


def t_level(level: str) -> str:
    """A file's level (commune, district, province) in the user's language."""
    return t(f"level.{level}")
