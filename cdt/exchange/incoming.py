"""Stage an incoming pack and run every untrusted-file check on the copy (DESIGN.md §3.1).

A pack is hostile until proven otherwise. It is copied into a private staging folder (never opened
where it lies: a USB stick may be pulled, and SQLite would create files beside it), its header,
integrity, schema, site row, area, origins and every row's hash are checked there, and an older
schema is migrated there; only then may merge.py ATTACH it. The row hash is computed inside
SQLite's scan. The record rules run through ``rules.check``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdt.core.errors import FileRefused, StoreError, is_locked, os_reason
from cdt.core.files import sha256_file
from cdt.core.i18n import t
from cdt.core.rows import part_file_id
from cdt.core.text import clean_text
from cdt.domain import rules, units
from cdt.core.schema import APPLICATION_ID, HASH_COLUMNS, SCHEMA_VERSION, SQLITE_HEADER, reference_schema, tables_at
from cdt.store import Store, migrate_copy
from cdt.core.rows import hash_values, ref_of

# Checks of one file give up after this long (a crafted file could make a query loop for ever).
CHECK_SECONDS = 300
MAX_TEXT_BYTES = 1_000_000


def max_pack_bytes() -> int:
    """Largest pack accepted (CDT_MAX_PACK_MB, default 1024 MB): a stick may carry anything."""
    try:
        return int(float(os.environ.get("CDT_MAX_PACK_MB", "1024")) * 1024 * 1024)
    except ValueError:
        return 1024 * 1024 * 1024


@dataclass
class Checked:
    """A staged copy that passed every check."""

    path: Path
    sha256: str
    site: dict
    version: int
    origins: list[dict]
    replacement: dict | None = None  # this pack replaces another file of its unit (--replaces)


def _refuse(key: str, **params: Any) -> FileRefused:
    return FileRefused(key, **params)


def stage_copy(source: Path, staging: Path, digest: Any = None) -> Path:
    """Copy an incoming file into the private staging folder, refusing what must not be copied.
    ``digest`` (a hashlib object), when given, is fed the bytes as they are copied."""
    if not source.exists():
        raise _refuse("merge.missing")
    if not source.is_file():
        raise _refuse("merge.not_a_file")
    for suffix in ("-wal", "-journal"):
        if Path(str(source) + suffix).exists():
            raise _refuse("merge.sidecar", suffix=suffix)
    limit = max_pack_bytes()
    target = staging / "incoming.cdt"
    copied = 0
    try:
        with open(source, "rb") as reader, open(target, "wb") as writer:
            for chunk in iter(lambda: reader.read(1 << 20), b""):
                copied += len(chunk)
                if copied > limit:
                    raise _refuse("merge.too_big", mb=limit // (1024 * 1024))
                writer.write(chunk)
                if digest is not None:
                    digest.update(chunk)
    except OSError as error:
        raise _refuse("merge.cannot_read", reason=os_reason(error)) from error
    return target


def _open_untrusted(path: Path, deadline: float) -> sqlite3.Connection:
    conn = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True, isolation_level=None)
    try:
        for pragma in ("trusted_schema = OFF", "cell_size_check = ON", "mmap_size = 0", "query_only = ON"):
            conn.execute(f"PRAGMA {pragma}")
        if hasattr(conn, "setlimit"):
            conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_TEXT_BYTES)
            conn.setlimit(sqlite3.SQLITE_LIMIT_COLUMN, 100)
            conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, 100_000)
            conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
    except BaseException:
        # An open handle keeps the staging copy from being deleted on Windows.
        conn.close()
        raise
    return conn


def sqlite_reason(error: sqlite3.Error) -> str:
    """SQLite's complaint about a pack, in one Vietnamese line."""
    text = str(error).lower()
    for needle, key in (("malformed", "merge.why.malformed"), ("not a database", "merge.why.not_db"),
                        ("decode", "merge.why.encoding"), ("too big", "merge.why.too_big"),
                        ("disk is full", "os.disk_full"), ("readonly", "os.read_only"), ("disk i/o", "os.io_error")):
        if needle in text:
            return t(key)
    return t("merge.why.other", detail=clean_text(error, 80))


def lookup_unit(code: str | None, level: str, structure: str):
    """The unit of the bundled lists with this code, or None for a code they do not have."""
    if not code or structure not in ("legacy", "2025"):
        return None
    try:
        return units.get(str(code), level=level, structure=structure)
    except (ValueError, KeyError):
        return None


def _in_area(target: Store, level: str | None, structure: str | None, codes: dict) -> bool:
    """Whether a unit (commune or district, as a pack or an origin claims it) lies in the target's area."""
    site = target.site
    if structure != site.structure:
        return False
    if site.level == "district":
        if level != "commune":
            return False
        unit = lookup_unit(codes.get("commune_code"), "commune", structure)
        return bool(unit and unit.district_code == site.district_code and unit.province_code == site.province_code)
    if site.level == "province":
        if level == "commune":
            unit = lookup_unit(codes.get("commune_code"), "commune", structure)
        elif level == "district":
            unit = lookup_unit(codes.get("district_code"), "district", structure)
        else:
            return False
        return bool(unit and unit.province_code == site.province_code)
    return False


def check_file(target: Store, path: Path, digest: str | None = None) -> Checked:
    """Every check of DESIGN.md §3.1 on a staged copy; raises FileRefused with the reason.
    ``digest``: the SHA-256 to record for it, when the caller has it already (else computed)."""
    size = path.stat().st_size
    if size == 0:
        raise _refuse("merge.empty")
    with open(path, "rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or header[:16] != SQLITE_HEADER:
        raise _refuse("merge.not_sqlite")
    if header[18] == 2 or header[19] == 2:
        raise _refuse("merge.wal")
    if int.from_bytes(header[68:72], "big") != APPLICATION_ID:
        raise _refuse("merge.not_cdt")
    digest = digest or sha256_file(path)
    deadline = time.monotonic() + CHECK_SECONDS
    try:
        conn = _open_untrusted(path, deadline)
    except sqlite3.Error as error:
        raise _refuse("merge.corrupt", reason=sqlite_reason(error)) from error
    try:
        return _check_open(target, conn, path, digest)
    except sqlite3.OperationalError as error:
        if "interrupt" in str(error).lower():
            raise _refuse("merge.too_slow") from error
        raise _refuse("merge.corrupt", reason=sqlite_reason(error)) from error
    except sqlite3.Error as error:
        raise _refuse("merge.corrupt", reason=sqlite_reason(error)) from error
    finally:
        conn.close()


def _structure_label(structure: Any) -> str:
    return t(f"structure.{structure}") if structure in ("legacy", "2025") else (clean_text(structure) or "?")


def _known_in_area(target: Store, db_id: str) -> bool:
    """An origin counts as known only if it came in through a checked merge and lies in our area
    (a row a hand-made pack slipped into an older version's origin table does not)."""
    try:
        row = target.conn.execute("SELECT * FROM origin WHERE db_id = ?", (db_id,)).fetchone()
    except sqlite3.OperationalError as error:
        if is_locked(error):  # the target is busy, which says nothing about the pack being checked
            raise StoreError("store.in_use", path=str(target.path)) from error
        raise
    return bool(row) and _in_area(target, row["level"], row["structure"], dict(row))


def _check_open(target: Store, conn: sqlite3.Connection, path: Path, digest: str) -> Checked:
    result = conn.execute("PRAGMA integrity_check").fetchall()
    if result != [("ok",)]:
        # SQLite's findings are English and many lines long: the clerk gets one line and a count.
        problems = sum(max(1, str(row[0]).count("\n") + 1) for row in result) or 1
        raise _refuse("merge.integrity", count=problems)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise _refuse("merge.too_new", version=version, ours=SCHEMA_VERSION)
    if version < 1:
        raise _refuse("merge.not_cdt")
    schema = sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_schema").fetchall(), key=repr)
    if schema != reference_schema(version):
        raise _refuse("merge.schema")
    conn.row_factory = sqlite3.Row
    sites = conn.execute("SELECT * FROM site").fetchall()
    if len(sites) != 1:
        raise _refuse("merge.bad_site")
    site = dict(sites[0])
    if isinstance(site["schema_version"], int) and site["schema_version"] > SCHEMA_VERSION:
        raise _refuse("merge.too_new", version=site["schema_version"], ours=SCHEMA_VERSION)
    if site["level"] not in ("commune", "district", "province") or not isinstance(site["db_id"], str) \
            or not site["db_id"] or not isinstance(site["clock"], int) or site["schema_version"] != version:
        raise _refuse("merge.bad_site")
    if site["db_id"] == target.site.db_id:
        raise _refuse("merge.own_file")
    # Only "cdt pack" sets packed_at: a plain copy of a live file may lack commits (a WAL, a file
    # copied mid-write) and carries whatever was deleted but not yet purged.
    if not isinstance(site["packed_at"], str) or not site["packed_at"].strip():
        raise _refuse("merge.not_packed")
    name = clean_text(site.get(f"{site['level']}_name")) or "?"
    code = clean_text(site.get(f"{site['level']}_code")) or "?"
    if target.site.level == "commune":
        raise _refuse("merge.commune_target")
    if site["structure"] != target.site.structure:
        raise _refuse("merge.other_structure", name=name, code=code, theirs=_structure_label(site["structure"]),
                      ours=_structure_label(target.site.structure))
    if not _known_in_area(target, site["db_id"]) and not _in_area(target, site["level"], site["structure"], site):
        raise _refuse("merge.outside_area", name=name, code=code, ours=clean_text(target.site.unit_name) or "?")
    origins = [dict(row) for row in conn.execute("SELECT * FROM origin")]
    allowed = {site["db_id"]}
    if site["level"] == "commune":
        # A commune file never merges anything: its origin table is empty. A row there is forged,
        # and would make another commune look "known" (and so skip the area check) later. The one
        # exception: a 2025 commune made from its old communes' files (cdt init --from) carries
        # exactly those files, checked against the bundled old→new map (absorbed_in_pack).
        origins = absorbed_in_pack(conn, version, site, origins)
        allowed.update(origin["db_id"] for origin in origins)
    else:
        for origin in origins:
            if not isinstance(origin["db_id"], str) or not origin["db_id"]:
                raise _refuse("merge.bad_origin")
            if origin["db_id"] == target.site.db_id:
                raise _refuse("merge.foreign_origin")
            # Every unit the pack carries must lie in our area, and in the pack's own (a district's
            # file holds its own communes only): being known here already proves nothing.
            unit_code = clean_text(origin.get("commune_code") or origin.get("district_code")) or "?"
            unit_name = clean_text(origin.get("unit_name")) or "?"
            if not _in_area(target, origin["level"], origin["structure"], origin) \
                    or not _carries(site, origin):
                raise _refuse("merge.outside_area", name=unit_name, code=unit_code,
                              ours=clean_text(target.site.unit_name) or "?")
            allowed.add(origin["db_id"])
    _check_rows(conn, version, site, allowed)
    rules.check(conn, version, site, origins)
    return Checked(path=path, sha256=digest, site=site, version=version, origins=origins)


def _carries(site: dict, origin: dict) -> bool:
    """Whether a district or province pack may carry this origin: a unit inside the pack's own unit."""
    if origin["db_id"] == site["db_id"]:
        return True
    if origin["structure"] != site["structure"]:
        return False
    if site["level"] == "district":
        unit = lookup_unit(origin.get("commune_code"), "commune", site["structure"]) \
            if origin["level"] == "commune" else None
        return bool(unit and unit.district_code == site["district_code"]
                    and unit.province_code == site["province_code"])
    if site["level"] == "province":
        return origin["level"] in ("commune", "district") and origin.get("province_code") == site["province_code"]
    return False


def absorbed_in_pack(conn: sqlite3.Connection, version: int, site: dict, origins: list[dict]) -> list[dict]:
    """The old communes' files a commune pack carries (its origin table), checked; raises FileRefused.

    A commune file merges nothing, so its origin table is empty, except for a 2025 commune made by
    ``init --from``: then it lists exactly the legacy communes' files it absorbed, each one a
    predecessor of this commune in the bundled map, each with the replacement decision naming this
    file. Anything else is forged (it would make another commune's rows look like this one's)."""
    others = [o for o in origins if o.get("db_id") != site["db_id"]]
    decisions: dict[Any, dict] = {}
    if version >= 3:
        decisions = {row[0]: {"new_db_id": row[1], "level": row[2], "switch_clock": row[3]} for row in
                     conn.execute("SELECT old_db_id, new_db_id, level, switch_clock FROM replacement")}
    if not others and not decisions:
        return []
    if site.get("structure") != units.NEW or not site.get("commune_code"):
        raise FileRefused("merge.commune_origins")
    formed = {u.code for u in units.predecessors(str(site["commune_code"]))}
    for origin in others:
        decision = decisions.get(origin.get("db_id"))
        if (not isinstance(origin.get("db_id"), str) or decision is None
                or decision["new_db_id"] != site["db_id"] or decision["level"] != "commune"
                or origin.get("level") != "commune" or origin.get("structure") != units.LEGACY
                or origin.get("commune_code") not in formed
                or not isinstance(origin.get("clock"), int) or isinstance(origin.get("clock"), bool)):
            raise FileRefused("merge.commune_origins")
        # An old commune divided between new communes goes to each in part (a file of its own, whose id
        # is derived from the old file's and this commune's code); one taken whole goes whole.
        divided = len(units.successors(str(origin.get("commune_code")))) > 1
        part_of = origin.get("part_of")
        if (part_of is not None or divided) and not (
                divided and isinstance(part_of, str) and origin["db_id"] == part_file_id(part_of, str(site["commune_code"]))):
            raise FileRefused("merge.divided_whole", name=clean_text(origin.get("unit_name")) or "?",
                              code=clean_text(origin.get("commune_code")) or "?")
        # The file it took, whole: the switch at the old file's last write, and every write's link of
        # its history (a decision without the old file's data would only hide that file's rows; a
        # claim on a divided file is a part of it, whose rows no one else holds).
        links = conn.execute("SELECT count(DISTINCT rev) FROM history WHERE origin = ? AND rev BETWEEN 1 AND ?",
                             (origin["db_id"], origin["clock"])).fetchone()[0]
        if origin["clock"] < 0 or decision["switch_clock"] != origin["clock"] or links != origin["clock"]:
            raise FileRefused("merge.absorbed_without_data", name=clean_text(origin.get("unit_name")) or "?",
                              code=clean_text(origin.get("commune_code")) or "?")
    if set(decisions) - {o["db_id"] for o in others}:
        raise FileRefused("merge.commune_origins")
    return others


# What SQLite's typeof() may say for each declared column type; anything else (a BLOB, text in a
# number column) would break the hash and everything downstream.
_SQL_TYPES = {"TEXT": ("text",), "INTEGER": ("integer",), "REAL": ("integer", "real")}


def _column_types(conn: sqlite3.Connection, table: str) -> dict[str, tuple[str, ...]]:
    """typeof() values each column may hold, from the declared types (the schema is already checked
    against ours, so this reads our own declarations): SQLite stores any type in any column."""
    types = {}
    for info in conn.execute(f"PRAGMA table_info({table})"):
        allowed = _SQL_TYPES.get(str(info["type"]).upper(), ("text", "integer", "real"))
        types[info["name"]] = allowed if info["notnull"] else (*allowed, "null")
    return types


ROW_HASH_FUNCTION = "cdt_row_hash"
SHA256_FUNCTION = "cdt_sha256"
# Every character SQLite's json_quote could treat specially (it escapes ASCII only), beside text
# it passes through, integers at the ends of their range and NULL: json_array must write these
# exactly as store.hash_values' canonical JSON does, or the row hash is computed in Python.
_JSON_PROBE = ("".join(chr(c) for c in range(128)) + "Đồng \u2028\u2029\ufeff😀", -(2 ** 63), 2 ** 63 - 1, 0, None, "")


def _sql_row_hash(*values: Any) -> str:
    return hash_values(values)


def _sha256_text(text: Any) -> str | None:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if isinstance(text, str) else None


def register_row_hash(conn: sqlite3.Connection) -> bool:
    """Register the row hash of ``store.hash_values`` as SQL functions on a connection:
    ``cdt_row_hash(id, origin, rev, data columns…, deleted)`` (Python, any values), and
    ``cdt_sha256(text)`` for ``cdt_sha256(json_array(…))``, where SQLite writes the canonical JSON
    itself and Python only hashes it (about a tenth of the work per row). Returns whether this
    SQLite's json_array writes the canonical JSON exactly (checked here on every character it
    could escape): if not, the checks use cdt_row_hash. tests/test_merge_hash.py proves both equal
    ``rows.row_hash`` on fuzzed rows of every table."""
    conn.create_function(ROW_HASH_FUNCTION, -1, _sql_row_hash, deterministic=True)
    conn.create_function(SHA256_FUNCTION, 1, _sha256_text, deterministic=True)
    marks = ", ".join("?" for _ in _JSON_PROBE)
    try:
        written = conn.execute(f"SELECT json_array({marks})", _JSON_PROBE).fetchone()[0]
    except sqlite3.Error:
        return False
    return written == json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode(list(_JSON_PROBE))


def row_hash_sql(conn: sqlite3.Connection, table: str, json_ok: bool) -> str:
    """SQL computing a row's hash over ``table``'s columns (see register_row_hash). A table with a
    REAL column keeps the Python function: SQLite writes 500.0 and 0.1 otherwise than Python's
    canonical form (500, and the shortest repr)."""
    columns = ", ".join(HASH_COLUMNS[table])
    real = any(str(info[2]).upper() == "REAL" for info in conn.execute(f"PRAGMA table_info({table})"))
    if json_ok and not real:
        return f"{SHA256_FUNCTION}(json_array({columns}))"
    return f"{ROW_HASH_FUNCTION}({columns})"


def _row_problem_sql(conn: sqlite3.Connection, table: str, allowed: list[str]) -> tuple[str, list]:
    """One CASE naming the first structural problem of a row (or NULL): types, origin, identity
    and version, in the order the checks always had (so each tampering keeps its message)."""
    cases, args = [], []
    for column, kinds in _column_types(conn, table).items():
        cases.append(f"WHEN typeof({column}) NOT IN ({', '.join('?' for _ in kinds)}) THEN ?")
        args += [*kinds, f"type:{column}"]
    cases.append(f"WHEN origin NOT IN ({', '.join('?' for _ in allowed)}) THEN 'origin'")
    args += allowed
    cases.append("WHEN typeof(id) <> 'text' THEN 'row:id:valid.rule.row_id'")
    cases.append("WHEN rev < 1 THEN 'row:rev:valid.rule.rev_positive'")
    cases.append("WHEN deleted NOT IN (0, 1) THEN 'row:deleted:valid.rule.deleted_flag'")
    cases.append("WHEN origin = ? AND rev > ? THEN 'row:rev:valid.rule.rev_after_clock'")
    return f"CASE {' '.join(cases)} END", args


def _check_rows(conn: sqlite3.Connection, version: int, site: dict, allowed: set[str]) -> None:
    """Every value has the type its column declares, every row's origin belongs to the file and
    its hash matches its content.

    Two set-based scans per table, each stopping at the first bad row: the structural checks as one
    CASE over the row (typeof and ranges in SQLite's C), then the hash, computed by a registered
    function inside SQLite's scan (no row is fetched into Python)."""
    json_ok = register_row_hash(conn)
    origins = sorted(allowed)
    for table in tables_at(version):
        problem, args = _row_problem_sql(conn, table, origins)
        found = conn.execute(f"SELECT id, problem FROM (SELECT id, {problem} AS problem FROM {table})"
                             " WHERE problem IS NOT NULL LIMIT 1", (*args, site["db_id"], site["clock"])).fetchone()
        if found is not None:
            bad = clean_text(ref_of(found[0]), 8) if isinstance(found[0], str) else "?"
            kind = found[1]
            if kind.startswith("type:"):
                raise _refuse("merge.bad_type", table=table, column=kind[5:], id=bad)
            if kind == "origin":
                raise _refuse("merge.foreign_origin")
            _, column, rule = kind.split(":")
            value = conn.execute(f"SELECT {column} FROM {table} WHERE rowid = (SELECT rowid FROM {table}"
                                 " WHERE id IS ? LIMIT 1)", (found[0],)).fetchone()
            raise rules.refusal(rules.Rule(table, column, rule, ""), found[0], value[0] if value else None)
        try:
            found = conn.execute(f"SELECT id FROM {table} WHERE {row_hash_sql(conn, table, json_ok)} IS NOT hash"
                                 " LIMIT 1").fetchone()
        except sqlite3.OperationalError as error:
            if "user-defined function" not in str(error):
                raise
            # The hash function could not read a row's text: bytes that are no UTF-8.
            raise _refuse("merge.corrupt", reason=t("merge.why.encoding")) from error
        if found is not None:
            raise _refuse("merge.bad_hash", table=table, id=clean_text(ref_of(found[0]), 8))
    for origin, rev, chain in conn.execute("SELECT origin, rev, chain FROM history"):
        if origin not in allowed:
            raise _refuse("merge.foreign_origin")
        if not isinstance(rev, int) or rev < 1 or not isinstance(chain, str) or len(chain) != 64:
            raise _refuse("merge.bad_history")


def migrate_staged(checked: Checked) -> None:
    """Bring an older pack's staging copy to our schema (the copy is ours; the stick is untouched)."""
    migrate_copy(checked.path, checked.version)
