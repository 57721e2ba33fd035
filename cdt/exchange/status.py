"""What a district or province file holds: each unit's file, and the units never heard from (``cdt status``)."""

from __future__ import annotations

from collections import defaultdict

from cdt.core.text import clean_text
from cdt.domain import units
from cdt.exchange import keys
from cdt.exchange.conflicts import list_conflicts
from cdt.exchange.incoming import lookup_unit
from cdt.core.schema import DATA_COLUMNS
from cdt.store import Store


def status(store: Store) -> dict:
    """Every unit whose data this file holds, and the units of its area never heard from."""
    site = store.site
    rows_by_origin: dict[str, dict[str, int]] = defaultdict(dict)
    for table in DATA_COLUMNS:
        for origin, count in store.conn.execute(
                f"SELECT origin, count(*) FROM {table} WHERE deleted = 0 GROUP BY origin"):
            rows_by_origin[origin][table] = count
    last_merge = {row["db_id"]: row["merged_at"] for row in store.query(
        "SELECT db_id, max(merged_at) AS merged_at FROM merge_log WHERE outcome = 'merged' GROUP BY db_id")}
    origins = []
    pinned = keys.pinned_fingerprints(store)
    for row in store.query("SELECT * FROM origin ORDER BY level, commune_code, district_code, db_id"):
        code = row["commune_code"] if row["level"] == "commune" else row["district_code"]
        origins.append({
            "key": pinned.get((row["level"], code)),
            "db_id": row["db_id"], "level": row["level"],
            "unit": {"code": clean_text(code), "name": clean_text(row["unit_name"])},
            "clock": row["clock"], "packed_at": row["packed_at"],
            "merged_at": last_merge.get(row["db_id"]) or row["merged_at"],
            "rows": {t: rows_by_origin.get(row["db_id"], {}).get(t, 0) for t in DATA_COLUMNS},
        })
    if rows_by_origin.get(site.db_id):
        origins.append({
            "db_id": site.db_id, "level": site.level, "unit": {"code": site.unit_code, "name": site.unit_name},
            "clock": site.clock, "packed_at": None, "merged_at": None, "own": True, "key": None,
            "rows": {t: rows_by_origin[site.db_id].get(t, 0) for t in DATA_COLUMNS},
        })
    _mark_replacements(store, origins)
    heard = {(o["level"], o["unit"]["code"]) for o in origins}
    missing: list[dict] = []
    if site.level in ("district", "province"):
        unit = lookup_unit(site.unit_code, site.level, site.structure)
        if unit is not None:
            for commune in units.communes_in(unit):
                if ("commune", commune.code) not in heard:
                    missing.append({"code": commune.code, "name": commune.name,
                                    "district": commune.district_name})
    open_conflicts = len(list_conflicts(store))
    return {
        "unit": {"code": site.unit_code, "name": site.unit_name, "level": site.level},
        "db_id": site.db_id, "origins": origins, "never_heard": missing, "open_conflicts": open_conflicts,
        "second_files": _open_second_files(store),
    }


def _mark_replacements(store: Store, origins: list[dict]) -> None:
    """Each unit's current file and the files it replaced, on status's origin entries."""
    replaced = {row["old_db_id"]: row for row in store.query("SELECT * FROM replacement")}
    replaces: dict[str, list[str]] = defaultdict(list)
    for old, row in replaced.items():
        replaces[row["new_db_id"]].append(old)
    for origin in origins:
        row = replaced.get(origin["db_id"])
        origin["current"] = row is None
        origin["replaced_by"] = None if row is None else {
            "db_id": row["new_db_id"], "switch_clock": row["switch_clock"], "decided_at": row["decided_at"]}
        origin["replaces"] = sorted(replaces.get(origin["db_id"], []))


def _open_second_files(store: Store) -> list[dict]:
    """Packs refused as a unit's second file and not declared a replacement since."""
    return [{"db_id": row["db_id"], "unit": {"code": clean_text(row["unit_code"]), "name": clean_text(row["unit_name"])},
             "file": clean_text(row["file_name"]), "refused_at": row["merged_at"]}
            for row in store.query(
                "SELECT l.* FROM merge_log l WHERE l.outcome = 'refused' AND l.reason = 'second_file'"
                " AND NOT EXISTS (SELECT 1 FROM replacement r WHERE l.db_id IN (r.old_db_id, r.new_db_id))"
                " AND l.seq = (SELECT max(seq) FROM merge_log m WHERE m.db_id = l.db_id"
                " AND m.outcome = 'refused' AND m.reason = 'second_file') ORDER BY l.seq")]
