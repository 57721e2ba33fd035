"""Rebuild a commune's own file from a district or province file (``cdt extract``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from cdt.core import files as temp_folders
from cdt.core.errors import InvalidInput, NotFound, StoreError, os_reason
from cdt.core.files import written_whole
from cdt.exchange import keys
from cdt.exchange.incoming import lookup_unit
from cdt.exchange.replacements import absorbed_origins
from cdt.core.schema import DATA_COLUMNS, ROW_COLUMNS
from cdt.store import Store


def extract_commune(store: Store, code: str, out: Path) -> dict:
    """Rebuild a commune's own file from a district or province file: its rows, db_id, clock, history."""
    if store.site.level == "commune":
        raise InvalidInput("extract.not_from_commune")
    code = str(code).strip()
    found = [o for o in store.query("SELECT * FROM origin WHERE level = 'commune'")
             if o["commune_code"] and (o["commune_code"] == code or o["commune_code"].lstrip("0") == code.lstrip("0"))]
    if not found:
        raise NotFound("extract.unknown", code=code)
    # Several files for one commune (a file replaced earlier): carry on from its current file, never
    # from one the district has declared replaced (its later work would be held, not counted).
    replaced = {row[0] for row in store.conn.execute("SELECT old_db_id FROM replacement")}
    found = [o for o in found if o["db_id"] not in replaced] or found
    origin = max(found, key=lambda o: (o["clock"], o["packed_at"] or "", o["db_id"]))
    db_id = origin["db_id"]
    into = absorbed_origins(store).get(db_id)
    if into is not None:
        # An old commune's file taken into a 2025 commune's (cdt init --from) lives on there only.
        new = store.conn.execute("SELECT commune_code, unit_name FROM origin WHERE db_id = ?", (into,)).fetchone()
        raise InvalidInput("regroup.extract_absorbed", name=origin["unit_name"] or "?", code=origin["commune_code"],
                           new_name=new[1] if new else "?", new_code=new[0] if new else "?")
    top = store.conn.execute("SELECT max(rev) FROM history WHERE origin = ?", (db_id,)).fetchone()[0] or 0
    for table in DATA_COLUMNS:
        rev = store.conn.execute(f"SELECT max(rev) FROM {table} WHERE origin = ?", (db_id,)).fetchone()[0] or 0
        top = max(top, rev)
    unit = lookup_unit(origin["commune_code"], "commune", origin["structure"])
    out = Path(out)
    if out.exists():
        raise InvalidInput("extract.exists", path=str(out))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError("extract.cannot_write", path=str(out.parent),
                         reason=os_reason(error)) from error
    # Built in the private scratch folder (its journal included), copied beside the destination
    # under a temporary name and renamed at the end: a kill midway must not leave a half-made file
    # that looks like the commune's (same db_id, same name), nor personal data in a shared folder.
    job = temp_folders.make("extract")
    try:
        return _extract_into(store, origin, db_id, top, unit, out, job)
    finally:
        temp_folders.remove(job)


def _extract_into(store: Store, origin: dict, db_id: str, top: int, unit: Any, out: Path, job: Path) -> dict:
    building = job / "extract.db"
    try:
        created = Store.create(
            building, level="commune", structure=origin["structure"],
            province=(unit.province_code, unit.province_name) if unit else (origin["province_code"], None),
            district=(unit.district_code, unit.district_name) if unit else (origin["district_code"], None),
            commune=(unit.code, unit.name) if unit else (origin["commune_code"], origin["unit_name"]),
            db_id=db_id, clock=top, on_create=keys.insert_new_keys,
        )
    except StoreError as error:
        raise StoreError("extract.cannot_write", path=str(out.parent), reason=error.message) from error
    except OSError as error:
        building.unlink(missing_ok=True)
        raise StoreError("extract.cannot_write", path=str(out.parent),
                         reason=os_reason(error)) from error
    conn = created.conn
    try:
        conn.execute("ATTACH DATABASE ? AS src", (str(store.path),))
        try:
            with created.local_write():
                counts = {}
                # A 2025 commune made from its old communes' files (cdt init --from) gets them back too:
                # their rows, chains, origin rows and the decisions that it absorbed them (regroup.py).
                absorbed = sorted(old for old, new in absorbed_origins(store).items() if new == db_id)
                carried = json.dumps([db_id, *absorbed])
                for table in DATA_COLUMNS:
                    listed = ", ".join(ROW_COLUMNS[table])
                    counts[table] = conn.execute(f"INSERT INTO main.{table} ({listed}) SELECT {listed}"
                                                 f" FROM src.{table} WHERE origin IN (SELECT value FROM json_each(?))",
                                                 (carried,)).rowcount
                conn.execute("INSERT INTO main.history (origin, rev, chain) SELECT origin, rev, chain"
                             " FROM src.history WHERE origin IN (SELECT value FROM json_each(?))", (carried,))
                if absorbed:
                    olds = json.dumps(absorbed)
                    listed = ("db_id, level, structure, province_code, district_code, commune_code, unit_name, clock,"
                              " packed_at, merged_at, part_of")
                    conn.execute(f"INSERT INTO main.origin ({listed}) SELECT {listed} FROM src.origin"
                                 " WHERE db_id IN (SELECT value FROM json_each(?))", (olds,))
                    listed = "old_db_id, new_db_id, level, unit_code, switch_clock, decided_at"
                    conn.execute(f"INSERT INTO main.replacement ({listed}) SELECT {listed} FROM src.replacement"
                                 " WHERE new_db_id = ? AND old_db_id IN (SELECT value FROM json_each(?))", (db_id, olds))
        finally:
            conn.execute("DETACH DATABASE src")
    except BaseException:
        created.close()
        building.unlink(missing_ok=True)
        raise
    # A new key pair (made by Store.create): the private key of the lost file is not the district's
    # to hand out, and the district accepts the new one deliberately (cdt key accept).
    fingerprint = keys.own_keys(created).fingerprint
    try:
        if store.site.level == "district":
            keys.trust_upper(created, store)  # rebuilt by its own district: its packs are sealed to it
    except InvalidInput:
        pass  # not this district's own commune after all: the clerk trusts a key as usual
    except BaseException:
        created.close()
        building.unlink(missing_ok=True)
        raise
    created.close()
    try:
        if out.exists():
            raise InvalidInput("extract.exists", path=str(out))
        with written_whole(out, replace=False, job=job) as part:
            with open(building, "rb") as reader, open(part, "wb") as writer:
                shutil.copyfileobj(reader, writer, 1 << 20)
    except FileExistsError:
        raise InvalidInput("extract.exists", path=str(out)) from None
    except OSError as error:
        raise StoreError("extract.cannot_write", path=str(out.parent),
                         reason=os_reason(error)) from error
    return {"path": str(out), "db_id": db_id, "clock": top, "fingerprint": fingerprint,
            "commune": {"code": origin["commune_code"],
            "name": unit.name if unit else origin["unit_name"]}, "rows": counts}
