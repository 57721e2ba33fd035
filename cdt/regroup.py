"""A 2025 commune's file made from the files of the legacy communes that formed it (``cdt init --from``).

Since 1 July 2025 many communes are the merger of older ones. Their clerks kept one cdt file each;
the new commune starts from all of them:

1. Each old file is copied to a private folder, migrated there if older, packed (``VACUUM INTO``,
   integrity check) and merged into a scratch legacy province file with ``merge.merge_file``: every
   check a district runs on a pack (schema allow-list, row hashes, the rules of the commands,
   history chains, area) runs on it, and nothing of the original file is touched.
2. Each old commune must be, in the bundled old→new map (``data/commune_map.csv``), a predecessor
   of the new commune; the same file twice is refused.
3. The new file is created in the 2025 structure and, in one transaction, receives every live row
   of the old files with its id unchanged. The rows are re-issued under the new file's ``db_id``
   (origin) at its first write: only the origin file may change a row (DESIGN.md §2), the old
   files are retired, and a commune pack may carry its own origin only (``merge._check_open``), so
   this is what lets the clerk keep editing them and the new file merge at its 2025 province.
   Provenance stays: one ``merge_log`` row per old file (its ``db_id``, SHA-256, clock, unit and
   counts per table), and the ids themselves, which are the old files' ids.

Each row comes once, so a province report counts it once. Targets (a commune's yearly goals) do
not come along: the new commune sets its own. Provincial services already in the catalogue by code
are not repeated.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Optional

from cdt import units
from cdt.errors import CdtError, InvalidInput, StoreError, os_reason
from cdt.store import DATA_COLUMNS, Store, now

SKIPPED_TABLES = ("target",)


def _open_copy(path: Path, work: Path) -> Store:
    """The old file, copied (with a journal beside it) into work and opened there."""
    if not path.is_file():
        raise InvalidInput("regroup.missing", path=str(path))
    copy = work / "old.db"
    try:
        shutil.copy2(path, copy)
        for suffix in ("-wal", "-journal"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                shutil.copy2(side, copy.with_name(copy.name + suffix))
    except OSError as error:
        raise StoreError("regroup.cannot_read", path=str(path), reason=os_reason(error)) from error
    return Store.open(copy)


def _checked_rows(path: Path, new_code: str) -> tuple[dict, dict[str, list[dict]], dict]:
    """The old file's site, its live rows per table (after every merge check) and its log entry."""
    from cdt.merge import merge_file
    from cdt.pack import make_pack

    work = Path(tempfile.mkdtemp(prefix="cdt-regroup-"))
    try:
        old = _open_copy(path, work)
        try:
            site = old.site
            if site.level != "commune" or site.structure != units.LEGACY:
                raise InvalidInput("regroup.not_legacy_commune", path=str(path), name=site.unit_name or "?")
            successors = {u.code for u in units.successors(site.commune_code)}
            if new_code not in successors:
                became = ", ".join(f"{u.name} ({u.code})" for u in units.successors(site.commune_code)) or "?"
                raise InvalidInput("regroup.not_predecessor", name=site.unit_name or "?", code=site.commune_code,
                                   became=became)
            packed = make_pack(old, work / "pack")
        finally:
            old.close()
        unit = units.get(site.commune_code, level="commune", structure=units.LEGACY)
        scratch = Store.create(work / "scratch.db", level="province", structure=units.LEGACY,
                               province=(unit.province_code, unit.province_name),
                               district=(None, None), commune=(None, None))
        try:
            result = merge_file(scratch, packed.path)
            if not result.ok:
                raise InvalidInput("regroup.refused", path=str(path), reason=result.reason)
            rows = {table: scratch.query(f"SELECT * FROM {table} WHERE deleted = 0 ORDER BY id")
                    for table in DATA_COLUMNS}
        finally:
            scratch.close()
        log = {"file_name": path.name, "sha256": packed.sha256, "db_id": site.db_id, "level": "commune",
               "unit_code": site.commune_code, "unit_name": site.unit_name, "packed_at": None,
               "clock": site.clock, "schema_version": site.schema_version}
        return {"db_id": site.db_id, "code": site.commune_code, "name": site.unit_name}, rows, log
    finally:
        shutil.rmtree(work, ignore_errors=True)


def regroup(path: Path, new_code: str, old_files: list[Path],
            progress: Optional[Callable[[int, int, str], None]] = None) -> dict:
    """Create the 2025 commune new_code's file at path from the files of the old communes that formed it."""
    from cdt import register

    new_unit = units.get(str(new_code), level="commune", structure=units.NEW)
    if new_unit is None:
        found = [u for u in units.search(str(new_code), structure=units.NEW, level="commune")]
        if len(found) != 1:
            raise InvalidInput("regroup.unknown_commune", query=str(new_code))
        new_unit = found[0]
    if Path(path).exists():
        raise StoreError("regroup.exists", path=str(path))
    collected = []
    seen: dict[str, Path] = {}
    for index, old in enumerate(old_files):
        if progress:
            progress(index, len(old_files), Path(old).name)
        site, rows, log = _checked_rows(Path(old), new_unit.code)
        if site["db_id"] in seen:
            raise InvalidInput("regroup.twice", path=str(old), other=str(seen[site["db_id"]]))
        seen[site["db_id"]] = Path(old)
        collected.append((site, rows, log))
    if progress:
        progress(len(old_files), len(old_files), "")
    store = register.create_file(path, "commune", new_unit.code, units.NEW)
    try:
        counts = _bring_in(store, collected)
    except BaseException:
        store.close()
        Path(path).unlink(missing_ok=True)
        raise
    site = store.site
    store.close()
    return {"path": str(path), "commune": {"code": site.unit_code, "name": site.unit_name},
            "from": [{"code": s["code"], "name": s["name"], "db_id": s["db_id"]} for s, _, _ in collected],
            "rows": counts}


def _bring_in(store: Store, collected: list) -> dict[str, int]:
    """Every old row into the new file, in one transaction; a merge_log row per old file."""
    totals = {table: 0 for table in DATA_COLUMNS}
    known_services = {row["code"] for row in store.rows("service")}
    from cdt.register import DEFAULT_SERVICES

    known_services |= {s["code"] for s in DEFAULT_SERVICES}
    with store.write() as tx:
        for site, rows, log in collected:
            counts = {}
            for table in DATA_COLUMNS:
                if table in SKIPPED_TABLES:
                    continue
                brought = 0
                for row in rows[table]:
                    if table == "service":
                        if row["code"] in known_services:
                            continue
                        known_services.add(row["code"])
                    values = {column: row[column] for column in DATA_COLUMNS[table]}
                    values.update(id=row["id"], origin=tx.db_id, deleted=0)
                    tx._put(table, values)
                    brought += 1
                counts[table] = {"inserted": brought, "updated": 0, "unchanged": 0, "older": 0, "conflicts": 0}
                totals[table] += brought
            store.conn.execute(
                "INSERT INTO merge_log (file_name, sha256, db_id, level, unit_code, unit_name, packed_at, clock,"
                " schema_version, counts, outcome, reason, merged_at, cdt_version)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'regrouped', NULL, ?, ?)",
                (log["file_name"], log["sha256"], log["db_id"], log["level"], log["unit_code"], log["unit_name"],
                 log["packed_at"], log["clock"], log["schema_version"], json.dumps(counts), now(), _version()),
            )
    return totals


def _version() -> str:
    from cdt import __version__

    return __version__


__all__ = ["regroup", "CdtError"]
