"""Merging packs upward (DESIGN.md §3): untrusted-file checks, the set-based merge, forks, status.

A pack is hostile until proven otherwise. It is copied into a private staging folder (never opened
where it lies: a USB stick may be pulled, and SQLite would create files beside it), its header,
integrity, schema, site row, area, origins and every row's hash are checked there, an older schema
is migrated there, and only then is the copy ATTACHed (by a bound parameter) to the target and
merged in one transaction with ``INSERT … SELECT … ON CONFLICT(id) DO UPDATE … WHERE excluded.rev >
rev`` (or, when none of its rows can be known here, a plain ``INSERT … SELECT``).

Speed (issue 12). ``merge_file`` is the one path, in two stages: ``_prepare`` (everything above
that reads the target without writing it) and ``_apply`` (the decisions that depend on the
target's state, and the merge). A run of several files prepares the next ones in a worker thread
while this one applies, and lets up to nine checked files share a transaction (all or nothing; a
failure sinks no other file: see ``_apply_batch``). The row hash is computed inside SQLite's scan.

Forks. Each origin's history is a chain of links, one per write transaction. When a pack's chain
for an origin disagrees with ours at some rev, the two files are two branches of one commune file
(copied to two laptops). The branch whose chain sorts higher at the first divergent rev stays in
the domain tables (unless a person chose otherwise with ``cdt conflicts resolve``, recorded in
``branch_choice``); every row the other branch wrote from that rev on is held in ``conflict`` with
its history links in ``held_history``. The choice depends only on the two chains, so the result
does not depend on the order packs arrive, and nothing is lost.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import queue
import re
import shutil
import sqlite3
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from cdt import __version__
from cdt._testing import StatementSteps, merge_inserts_in_id_order
from cdt.exchange import keys
from cdt.exchange.packfile import PACK_SUFFIX
from cdt.domain import rules
from cdt.core import totals
from cdt.core import files as temp_folders
from cdt.core.files import sha256_file
from cdt.core.text import clean_text
from cdt.core.errors import CdtError, FileRefused, InvalidInput, NotFound, StoreError, log_unexpected, os_reason
from cdt.store import (
    APPLICATION_ID, DATA_COLUMNS, SCHEMA_VERSION, SQLITE_HEADER, Store, apply_migrations,
    HASH_COLUMNS, ROW_COLUMNS, connect, hash_values, now, ref_of, tables_at,
)

COUNT_KEYS = ("inserted", "updated", "unchanged", "older", "conflicts")
# Checks of one file give up after this long (a crafted file could make a query loop for ever).
CHECK_SECONDS = 300
MAX_TEXT_BYTES = 1_000_000
STAGING_PREFIX = "cdt-merge-"
# A staging folder older than this is left over from a killed run (a merge never takes it this long
# to check one file without touching the folder), and holds a full copy of someone's personal data.
STALE_STAGING_SECONDS = 15 * 60


def max_pack_bytes() -> int:
    """Largest pack accepted (CDT_MAX_PACK_MB, default 1024 MB): a stick may carry anything."""
    try:
        return int(float(os.environ.get("CDT_MAX_PACK_MB", "1024")) * 1024 * 1024)
    except ValueError:
        return 1024 * 1024 * 1024


# -- results ---------------------------------------------------------------------------------------


@dataclass
class FileResult:
    """What happened to one incoming file."""

    path: str
    name: str
    ok: bool = False
    error: CdtError | None = None
    sha256: str | None = None
    db_id: str | None = None
    level: str | None = None
    unit_code: str | None = None
    unit_name: str | None = None
    clock: int | None = None
    packed_at: str | None = None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    already_merged: str | None = None  # when these exact bytes were merged before
    signer: str | None = None  # fingerprint of the key that signed the pack (cdt/keys.py)
    sealed: bool | None = None
    new_key: bool = False  # the signer's key was pinned by this merge (first pack of that unit)

    @property
    def reason(self) -> str | None:
        return self.error.message if self.error else None

    def totals(self) -> dict[str, int]:
        return {key: sum(c[key] for c in self.counts.values()) for key in COUNT_KEYS}

    def as_dict(self) -> dict:
        return {
            "file": self.path, "name": self.name, "ok": self.ok, "refused": not self.ok,
            "reason": self.reason, "reason_key": self.error.key if self.error else None,
            "sha256": self.sha256, "db_id": self.db_id, "level": self.level,
            "unit": {"code": self.unit_code, "name": self.unit_name}, "clock": self.clock,
            "packed_at": self.packed_at, "tables": self.counts, "totals": self.totals() if self.ok else None,
            "already_merged": self.already_merged,
            "signer": self.signer, "sealed": self.sealed, "new_key": self.new_key,
        }


@dataclass
class Checked:
    """A staged copy that passed every check."""

    path: Path
    sha256: str
    site: dict
    version: int
    origins: list[dict]
    replacement: dict | None = None  # this pack replaces another file of its unit (--replaces)


# -- paths -----------------------------------------------------------------------------------------


def _expand(paths: Iterable[str | Path]) -> list[tuple[Path, CdtError | None]]:
    """The files to merge: each file named, and every ``*.cdt`` pack inside each folder named. A
    folder without packs (or unreadable) comes back with its error, so it is reported for that
    argument alone and the other arguments are still merged."""
    found: list[tuple[Path, CdtError | None]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            try:
                packs = sorted(p for p in path.iterdir() if p.suffix.lower() == PACK_SUFFIX and p.is_file())
            except OSError as error:
                found.append((path, FileRefused("merge.cannot_read", reason=clean_text(error.strerror or error))))
                continue
            if not packs:
                found.append((path, InvalidInput("merge.no_packs", path=clean_text(path))))
            found.extend((p, None) for p in packs)
        else:
            found.append((path, None))
    return found


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """The files to merge (see _expand); raises for a folder without packs."""
    found = []
    for path, error in _expand(paths):
        if error is not None:
            raise error
        found.append(path)
    return found


# -- staging and checks ----------------------------------------------------------------------------


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


@functools.lru_cache(maxsize=None)
def _reference_schema(version: int) -> list[tuple]:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("BEGIN")
        apply_migrations(conn, 0, version)
        conn.execute("COMMIT")
        return sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_schema").fetchall(),
                      key=repr)
    finally:
        conn.close()


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


def _sqlite_reason(error: sqlite3.Error) -> str:
    """SQLite's complaint about a pack, in one Vietnamese line."""
    from cdt.core.i18n import t

    text = str(error).lower()
    for needle, key in (("malformed", "merge.why.malformed"), ("not a database", "merge.why.not_db"),
                        ("decode", "merge.why.encoding"), ("too big", "merge.why.too_big"),
                        ("disk is full", "os.disk_full"), ("readonly", "os.read_only"), ("disk i/o", "os.io_error")):
        if needle in text:
            return t(key)
    return t("merge.why.other", detail=clean_text(error, 80))


def _unit(code: str | None, level: str, structure: str):
    from cdt.domain import units

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
        unit = _unit(codes.get("commune_code"), "commune", structure)
        return bool(unit and unit.district_code == site.district_code and unit.province_code == site.province_code)
    if site.level == "province":
        if level == "commune":
            unit = _unit(codes.get("commune_code"), "commune", structure)
        elif level == "district":
            unit = _unit(codes.get("district_code"), "district", structure)
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
        raise _refuse("merge.corrupt", reason=_sqlite_reason(error)) from error
    try:
        return _check_open(target, conn, path, digest)
    except sqlite3.OperationalError as error:
        if "interrupt" in str(error).lower():
            raise _refuse("merge.too_slow") from error
        raise _refuse("merge.corrupt", reason=_sqlite_reason(error)) from error
    except sqlite3.Error as error:
        raise _refuse("merge.corrupt", reason=_sqlite_reason(error)) from error
    finally:
        conn.close()


def _structure_label(structure: Any) -> str:
    from cdt.core.i18n import t

    return t(f"structure.{structure}") if structure in ("legacy", "2025") else (clean_text(structure) or "?")


def _known_in_area(target: Store, db_id: str) -> bool:
    """An origin counts as known only if it came in through a checked merge and lies in our area
    (a row a hand-made pack slipped into an older version's origin table does not)."""
    try:
        row = target.conn.execute("SELECT * FROM origin WHERE db_id = ?", (db_id,)).fetchone()
    except sqlite3.OperationalError as error:
        if _locked(error):  # the target is busy, which says nothing about the pack being checked
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
    if schema != _reference_schema(version):
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
        # exactly those files, checked against the bundled old→new map (cdt/regroup.py).
        from cdt.exchange.regroup import absorbed_in_pack

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
        unit = _unit(origin.get("commune_code"), "commune", site["structure"]) \
            if origin["level"] == "commune" else None
        return bool(unit and unit.district_code == site["district_code"]
                    and unit.province_code == site["province_code"])
    if site["level"] == "province":
        return origin["level"] in ("commune", "district") and origin.get("province_code") == site["province_code"]
    return False


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
    ``store.row_hash`` on fuzzed rows of every table."""
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
    cases.append("WHEN typeof(id) <> 'text' OR rev < 1 OR deleted NOT IN (0, 1) OR (origin = ? AND rev > ?)"
                 " THEN 'row'")
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
            raise _refuse("merge.bad_row", table=table, id=bad)
        try:
            found = conn.execute(f"SELECT id FROM {table} WHERE {row_hash_sql(conn, table, json_ok)} IS NOT hash"
                                 " LIMIT 1").fetchone()
        except sqlite3.OperationalError as error:
            if "user-defined function" not in str(error):
                raise
            # The hash function could not read a row's text: bytes that are no UTF-8.
            from cdt.core.i18n import t

            raise _refuse("merge.corrupt", reason=t("merge.why.encoding")) from error
        if found is not None:
            raise _refuse("merge.bad_hash", table=table, id=clean_text(ref_of(found[0]), 8))
    for origin, rev, chain in conn.execute("SELECT origin, rev, chain FROM history"):
        if origin not in allowed:
            raise _refuse("merge.foreign_origin")
        if not isinstance(rev, int) or rev < 1 or not isinstance(chain, str) or len(chain) != 64:
            raise _refuse("merge.bad_history")


def _migrate_staged(checked: Checked) -> None:
    """Bring an older pack's staging copy to our schema (the copy is ours; the stick is untouched)."""
    if checked.version >= SCHEMA_VERSION:
        return
    conn = sqlite3.connect(str(checked.path), isolation_level=None)
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("BEGIN IMMEDIATE")
        apply_migrations(conn, checked.version)
        conn.execute("COMMIT")
    finally:
        conn.close()


# -- the merge transaction -------------------------------------------------------------------------


def _plan(conn: sqlite3.Connection, schema: str = "inc") -> list[tuple[str, str, int, str, str]]:
    """Per origin whose incoming chain disagrees with ours: (origin, mode, fork_rev, held branch, other).

    mode 'hold': the incoming branch loses, its rows from fork_rev on are held;
    mode 'replace': the incoming branch wins, our rows of that origin from fork_rev on are held.
    """
    incoming: dict[str, dict[int, str]] = defaultdict(dict)
    for origin, rev, chain in conn.execute(f"SELECT origin, rev, chain FROM {schema}.history"):
        incoming[origin][rev] = chain
    plan = []
    for origin, theirs in sorted(incoming.items()):
        ours = dict(conn.execute("SELECT rev, chain FROM main.history WHERE origin = ?", (origin,)).fetchall())
        fork = next((rev for rev in sorted(set(ours) & set(theirs)) if ours[rev] != theirs[rev]), None)
        if fork is None:
            continue
        chosen = conn.execute("SELECT chain FROM branch_choice WHERE origin = ? AND fork_rev = ?",
                              (origin, fork)).fetchone()
        if chosen and chosen[0] == theirs[fork]:
            theirs_win = True
        elif chosen and chosen[0] == ours[fork]:
            theirs_win = False
        else:
            theirs_win = theirs[fork] > ours[fork]
        if theirs_win:
            plan.append((origin, "replace", fork, ours[fork], theirs[fork]))
        else:
            plan.append((origin, "hold", fork, theirs[fork], ours[fork]))
    return plan


def _json_row(table: str, alias: str) -> str:
    pairs = ", ".join(f"'{c}', {alias}.{c}" for c in DATA_COLUMNS[table])
    return f"json_object({pairs})"


_HELD = ("(EXISTS (SELECT 1 FROM temp.merge_plan p WHERE p.origin = {a}.origin AND p.mode = 'hold'"
         " AND {a}.rev >= p.fork_rev) OR " + "{replaced})")
# A file replaced by another for its unit (cdt merge --replaces): its rows after the switch are held.
_REPLACED = ("EXISTS (SELECT 1 FROM main.replacement x WHERE x.old_db_id = {a}.origin"
             " AND {a}.rev > x.switch_clock)")
_HELD = _HELD.replace("{replaced}", _REPLACED)


def _hold_rows_sql(table: str, source: str, mode: str) -> str:
    """Copy rows of a losing branch (incoming for 'hold', ours for 'replace') into conflict."""
    return (
        "INSERT INTO main.conflict (kind, origin, fork_rev, branch, table_name, row_id, rev, deleted, hash,"
        " row_data, source, detected_at)"
        f" SELECT 'fork', r.origin, p.fork_rev, p.branch, '{table}', r.id, r.rev, r.deleted, r.hash,"
        f" {_json_row(table, 'r')}, :source, :now"
        f" FROM {source}.{table} AS r JOIN temp.merge_plan AS p ON p.origin = r.origin"
        f" WHERE p.mode = '{mode}' AND r.rev >= p.fork_rev"
        " ON CONFLICT (kind, origin, fork_rev, branch, table_name, row_id) DO UPDATE SET"
        " rev = excluded.rev, deleted = excluded.deleted, hash = excluded.hash, row_data = excluded.row_data,"
        " source = excluded.source WHERE excluded.rev > conflict.rev"
    )


def _merge_one(target: Store, checked: Checked, name: str, dry_run: bool, step: StatementSteps, *,
               schema: str = "inc", own_tx: bool = True, fast: bool = True) -> dict:
    """Merge one checked file. With own_tx (the default) it is ATTACHed as ``inc`` and merged in a
    transaction of its own; without, the caller has ATTACHed it as ``schema`` and holds the
    transaction that several checked files share (_apply_batch)."""
    conn = target.conn
    site = checked.site
    params = {"source": name, "now": now()}
    counts: dict[str, dict[str, int]] = {}

    def run(sql: str, args: Any = ()) -> sqlite3.Cursor:
        step()
        return conn.execute(_in_schema(sql, schema), args)

    if own_tx:
        conn.execute("ATTACH DATABASE ? AS inc", (str(checked.path),))
        conn.execute(f"PRAGMA inc.cache_size = -{INCOMING_CACHE_KIB}")
    try:
        if own_tx:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise StoreError("store.in_use", path=str(target.path)) from error
        try:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS merge_plan"
                         " (origin TEXT PRIMARY KEY, mode TEXT, fork_rev INTEGER, branch TEXT, other TEXT)")
            conn.execute("DELETE FROM temp.merge_plan")
            plan = _plan(conn, schema)
            conn.executemany("INSERT INTO temp.merge_plan VALUES (?, ?, ?, ?, ?)", plan)
            _record_replacements(run, checked, name, params)
            fast = _merge_all_new(run, conn, checked, schema) if fast and not plan else None
            replaced = defaultdict(int)
            if any(p[1] == "replace" for p in plan):
                for table in DATA_COLUMNS:
                    run(_hold_rows_sql(table, "main", "replace"), params)
                    cur = run(f"DELETE FROM main.{table} WHERE EXISTS (SELECT 1 FROM temp.merge_plan p"
                              f" WHERE p.origin = {table}.origin AND p.mode = 'replace'"
                              f" AND {table}.rev >= p.fork_rev)")
                    replaced[table] = cur.rowcount
                run("INSERT OR IGNORE INTO main.held_history (origin, fork_rev, branch, rev, chain)"
                    " SELECT h.origin, p.fork_rev, p.branch, h.rev, h.chain FROM main.history h"
                    " JOIN temp.merge_plan p ON p.origin = h.origin WHERE p.mode = 'replace' AND h.rev >= p.fork_rev")
                run("DELETE FROM main.history WHERE EXISTS (SELECT 1 FROM temp.merge_plan p WHERE"
                    " p.origin = history.origin AND p.mode = 'replace' AND history.rev >= p.fork_rev)")
                # The winning branch may have been held before (a person's choice changed): it is live now.
                run("DELETE FROM main.conflict WHERE kind = 'fork' AND EXISTS (SELECT 1 FROM temp.merge_plan p"
                    " WHERE p.mode = 'replace' AND p.origin = conflict.origin AND p.fork_rev = conflict.fork_rev"
                    " AND p.other = conflict.branch)")
                run("DELETE FROM main.held_history WHERE EXISTS (SELECT 1 FROM temp.merge_plan p"
                    " WHERE p.mode = 'replace' AND p.origin = held_history.origin"
                    " AND p.fork_rev = held_history.fork_rev AND p.other = held_history.branch)")
            for table in DATA_COLUMNS:
                counts[table] = fast[table] if fast else _merge_table(run, table, params)
                counts[table]["conflicts"] += replaced[table]
            run("INSERT OR IGNORE INTO main.held_history (origin, fork_rev, branch, rev, chain)"
                " SELECT h.origin, p.fork_rev, p.branch, h.rev, h.chain FROM inc.history h"
                " JOIN temp.merge_plan p ON p.origin = h.origin WHERE p.mode = 'hold' AND h.rev >= p.fork_rev")
            run("INSERT INTO main.history (origin, rev, chain) SELECT h.origin, h.rev, h.chain FROM inc.history h"
                f" WHERE NOT {_HELD.format(a='h')} ON CONFLICT (origin, rev) DO NOTHING")
            # A branch a person already set aside stays set aside: its new rows come in decided.
            run("UPDATE main.conflict SET resolved_at = :now, resolution = 'ours' WHERE resolved_at IS NULL"
                " AND kind = 'fork' AND EXISTS (SELECT 1 FROM main.branch_choice b WHERE b.origin = conflict.origin"
                " AND b.fork_rev = conflict.fork_rev AND b.chain <> conflict.branch)", params)
            _record_origins(run, target, checked, params)
            run("INSERT INTO main.merge_log (file_name, sha256, db_id, level, unit_code, unit_name, packed_at,"
                " clock, schema_version, counts, outcome, merged_at, cdt_version)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'merged', ?, ?)",
                (name, checked.sha256, site["db_id"], site["level"], site.get(f"{site['level']}_code"),
                 site.get(f"{site['level']}_name"), site["packed_at"], site["clock"], checked.version,
                 json.dumps(counts), params["now"], __version__))
            step()
            if own_tx:
                conn.execute("ROLLBACK" if dry_run else "COMMIT")
        except BaseException:
            if own_tx and conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    finally:
        if own_tx:
            conn.execute("DETACH DATABASE inc")
    return counts


# A row of a file absorbed by a 2025 commune's file (cdt init --from, cdt/regroup.py) that the new
# file changed carries the new file's origin: that version takes the old one's place, and the old
# one never comes back over it, whatever order the packs arrive in. {old} and {new} are aliases.
_TAKES_OVER = ("EXISTS (SELECT 1 FROM main.replacement x WHERE x.old_db_id = {old}.origin"
               " AND x.new_db_id = {new}.origin)")


_INC = re.compile(r"\binc\.")


def _in_schema(sql: str, schema: str) -> str:
    """The merge's SQL names the incoming file ``inc``; a shared transaction ATTACHes several
    files under other names (inc0 … inc8)."""
    return sql if schema == "inc" else _INC.sub(f"{schema}.", sql)


class _NotAllNew(Exception):
    """The all-new fast path met an id already used here: the transaction is rolled back and the
    file merged again by the full path (_apply)."""


def _merge_all_new(run: Callable, conn: sqlite3.Connection, checked: Checked, schema: str) -> dict | None:
    """The fast path: a pack whose rows are all new here (a commune's first pack, most packs of a
    new month's batch) is one plain INSERT … SELECT per table, as a raw copy would be.

    One probe establishes it (the caller has found no fork to settle): no history here for any
    origin the pack carries, and none of them a file replaced here (its later rows are held). The
    plain INSERT then proves the rest row by row for free: an id already used here (a row another
    origin made, a forged copy) violates the primary key and raises _NotAllNew; the caller rolls
    the transaction back and merges the file again by the full path, with every rule of DESIGN.md
    §3.2 (no savepoint here: in a transaction several packs share, a savepoint makes SQLite copy
    every page the earlier packs touched). Returns the counts, or None for the full merge."""
    known = conn.execute(
        f"SELECT 1 FROM main.history WHERE origin IN (SELECT DISTINCT origin FROM {schema}.history)"
        f" UNION ALL SELECT 1 FROM main.replacement WHERE old_db_id IN (SELECT DISTINCT origin FROM {schema}.history)"
        " LIMIT 1").fetchone()
    if known is not None:
        return None
    try:
        # The totals' row triggers would cost the bulk copy five times its time: paused, and the
        # pack's visits counted set-based (exact: the probe found none of its origins here).
        with totals.paused(conn):
            inserted = _insert_all_new(run, conn, schema)
            totals.add_all_new(conn, schema)
    except sqlite3.IntegrityError as error:
        raise _NotAllNew() from error
    return {table: {**{key: 0 for key in COUNT_KEYS}, "inserted": count} for table, count in inserted.items()}


# Rows inserted in the order of their id: each pack's random ids then sweep the target's id index
# once, front to back, instead of hitting its pages at random (bench/RESULTS.md).
_ORDER = {table: " ORDER BY id" for table in DATA_COLUMNS} if merge_inserts_in_id_order() else {}


def _insert_all_new(run: Callable, conn: sqlite3.Connection, schema: str) -> dict[str, int]:
    """THE one place where a pack's rows are bulk-inserted (the all-new fast path): a plain
    INSERT … SELECT per table, no ON CONFLICT (an id already here raises IntegrityError and the
    caller falls back to the full merge). Anything kept per row at merge time that row triggers
    would slow down (totals) is paused around this call and counted set-based over ``schema``'s
    rows here. Returns rows inserted per table."""
    inserted = {}
    for table in DATA_COLUMNS:
        listed = ", ".join(ROW_COLUMNS[table])
        inserted[table] = run(f"INSERT INTO main.{table} ({listed}) SELECT {listed} FROM inc.{table}"
                              f"{_ORDER.get(table, '')}").rowcount
    return inserted


def _merge_table(run: Callable, table: str, params: dict) -> dict[str, int]:
    columns = ROW_COLUMNS[table]
    listed = ", ".join(columns)
    held = _HELD.format(a="i")
    takes = _TAKES_OVER.format(old="m", new="i")
    yields = _TAKES_OVER.format(old="i", new="m")
    row = run(
        "SELECT"
        f" coalesce(sum(CASE WHEN {held} THEN 0 WHEN m.id IS NULL THEN 1 ELSE 0 END), 0),"
        f" coalesce(sum(CASE WHEN {held} THEN 0 WHEN m.origin <> i.origin THEN {takes}"
        "  WHEN i.rev > m.rev THEN 1 ELSE 0 END), 0),"
        f" coalesce(sum(CASE WHEN {held} OR m.origin <> i.origin THEN 0"
        "  WHEN i.rev = m.rev AND i.hash = m.hash THEN 1 ELSE 0 END), 0),"
        f" coalesce(sum(CASE WHEN {held} THEN 0 WHEN m.origin <> i.origin THEN {yields}"
        "  WHEN i.rev < m.rev THEN 1 ELSE 0 END), 0),"
        f" coalesce(sum(CASE WHEN {held} THEN 1 WHEN m.origin <> i.origin THEN NOT ({takes} OR {yields})"
        "  WHEN i.rev = m.rev AND i.hash <> m.hash THEN 1 ELSE 0 END), 0)"
        f" FROM inc.{table} AS i LEFT JOIN main.{table} AS m ON m.id = i.id"
    ).fetchone()
    counts = dict(zip(COUNT_KEYS, (int(v) for v in row)))
    run(_hold_rows_sql(table, "inc", "hold"), params)
    # A row whose id another origin already uses, or whose rev equals ours with other content, is
    # never applied: it is held as a conflict of kind 'row' (its branch is its own hash).
    run(
        "INSERT INTO main.conflict (kind, origin, fork_rev, branch, table_name, row_id, rev, deleted, hash,"
        " row_data, source, detected_at)"
        f" SELECT 'row', i.origin, i.rev, i.hash, '{table}', i.id, i.rev, i.deleted, i.hash,"
        f" {_json_row(table, 'i')}, :source, :now"
        f" FROM inc.{table} AS i JOIN main.{table} AS m ON m.id = i.id"
        f" WHERE NOT {held} AND ((m.origin <> i.origin AND NOT ({takes} OR {yields}))"
        "  OR (m.origin = i.origin AND i.rev = m.rev AND i.hash <> m.hash))"
        " ON CONFLICT DO NOTHING", params)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    # Only rows of the same origin, or a new file's version taking over its absorbed file's, pass
    # the filter; the revs of two origins are two clocks, never compared.
    run(
        f"INSERT INTO main.{table} ({listed}) SELECT {', '.join('i.' + c for c in columns)}"
        f" FROM inc.{table} AS i WHERE NOT {held} AND NOT EXISTS (SELECT 1 FROM main.{table} AS m"
        f" WHERE m.id = i.id AND m.origin <> i.origin AND NOT {takes})"
        f" ON CONFLICT (id) DO UPDATE SET {updates}"
        f" WHERE excluded.origin <> {table}.origin OR excluded.rev > {table}.rev"
    )
    return counts


def _record_origins(run: Callable, target: Store, checked: Checked, params: dict) -> None:
    """The pack's own origin row, and the origins it carries (a province sees communes via districts)."""
    site = checked.site
    rows = [{
        "db_id": site["db_id"], "level": site["level"], "structure": site["structure"],
        "province_code": site["province_code"], "district_code": site["district_code"],
        "commune_code": site["commune_code"], "unit_name": clean_text(site.get(f"{site['level']}_name")),
        "clock": site["clock"], "packed_at": site["packed_at"],
    }]
    rows += [{**{k: o.get(k) for k in rows[0]}, "unit_name": clean_text(o.get("unit_name"))}
             for o in checked.origins if o["db_id"] != target.site.db_id]
    for row in rows:
        row["merged_at"] = params["now"]
        run(
            "INSERT INTO main.origin (db_id, level, structure, province_code, district_code, commune_code,"
            " unit_name, clock, packed_at, merged_at) VALUES (:db_id, :level, :structure, :province_code,"
            " :district_code, :commune_code, :unit_name, :clock, :packed_at, :merged_at)"
            " ON CONFLICT (db_id) DO UPDATE SET"
            " packed_at = CASE WHEN excluded.clock > origin.clock OR (excluded.clock = origin.clock"
            "  AND coalesce(excluded.packed_at, '') > coalesce(origin.packed_at, '')) THEN excluded.packed_at"
            "  ELSE origin.packed_at END,"
            " clock = max(origin.clock, excluded.clock), merged_at = excluded.merged_at",
            row,
        )


# -- one file per unit (issue 9) ---------------------------------------------------------------------


def _unit_key(row: dict) -> tuple | None:
    """(level, structure, unit code) of a site or origin row: what makes two files one unit's."""
    level = row.get("level")
    code = row.get("commune_code") if level == "commune" else row.get("district_code") if level == "district" \
        else row.get("province_code")
    return (level, row.get("structure"), str(code)) if code else None


def _log_refusal(target: Store, name: str, checked: Checked, second: dict, key: tuple, unit: str) -> None:
    """A refused second file is remembered, under that file's id and unit (a commune's, when a
    district pack carries it): the completeness table and status mark the unit until resolved."""
    with target._immediate():
        target.conn.execute(
            "INSERT INTO merge_log (file_name, sha256, db_id, level, unit_code, unit_name, packed_at, clock,"
            " schema_version, outcome, reason, merged_at, cdt_version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'refused', 'second_file', ?, ?)",
            (name, checked.sha256, second["db_id"], key[0], key[2], unit, checked.site["packed_at"],
             second.get("clock"), checked.version, now(), __version__))


def one_file_per_unit(target: Store, checked: Checked, name: str, replaces: str | None) -> dict | None:
    """Refuse a pack for a unit whose data the target holds from another file, unless one file
    replaces the other (a decision here, ``replaces``, or one the pack carries from below).

    Returns the new replacement decision to record with the merge (or None)."""
    site = checked.site
    conn = target.conn
    replaced = {row[0]: row[1] for row in conn.execute("SELECT old_db_id, new_db_id FROM replacement")}
    staged = sqlite3.connect(checked.path.as_uri() + "?mode=ro", uri=True)
    try:
        has_table = staged.execute("SELECT 1 FROM sqlite_schema WHERE name = 'replacement'").fetchone()
        carried = staged.execute("SELECT old_db_id, new_db_id FROM replacement").fetchall() if has_table else []
    finally:
        staged.close()
    replaced.update({old: new for old, new in carried if old not in replaced})
    decision = None
    if replaces is not None:
        wanted = str(replaces).strip().lower()
        found = [dict(row) for row in conn.execute("SELECT * FROM origin WHERE db_id LIKE ? ESCAPE '\\'",
                                                    (wanted.replace("%", "").replace("_", "\\_") + "%",))]
        old = found[0] if len(found) == 1 and len(wanted) >= 8 else None
        if old is None or old["db_id"] == site["db_id"] or _unit_key(old) != _unit_key(site):
            raise FileRefused("merge.replaces_unknown", db_id=clean_text(replaces, 40),
                              unit=clean_text(site.get(f"{site['level']}_name")) or "?")
        if site["db_id"] in replaced or old["db_id"] in replaced:
            # Switching back, or replacing a file already replaced, would leave the unit with no
            # current file (a cycle) or two: one decision per old file, made once.
            raise FileRefused("merge.replaces_again", db_id=old["db_id"][:8],
                              unit=clean_text(site.get(f"{site['level']}_name")) or "?")
        decision = {"old_db_id": old["db_id"], "new_db_id": site["db_id"], "level": site["level"],
                    "unit_code": _unit_key(site)[2], "switch_clock": old["clock"], "decided_at": now()}
        replaced.setdefault(old["db_id"], site["db_id"])
    files = [site] + [o for o in checked.origins if o["db_id"] != site["db_id"]]
    for incoming in files:
        key = _unit_key(incoming)
        if key is None or incoming["db_id"] in replaced:
            continue
        for other in conn.execute("SELECT * FROM origin WHERE level = ? AND structure = ? AND db_id <> ?",
                                  (key[0], key[1], incoming["db_id"])):
            other = dict(other)
            if _unit_key(other) != key or other["db_id"] in replaced:
                continue
            unit = clean_text(incoming.get("unit_name") or incoming.get(f"{key[0]}_name")) or "?"
            _log_refusal(target, name, checked, incoming, key, unit)
            raise FileRefused("merge.second_file", unit=unit, code=key[2], ours=other["db_id"][:8],
                              theirs=str(incoming["db_id"])[:8])
    return decision


# Two decisions about one old file settle on the earliest switch (then the lowest new id).
_KEEP_EARLIEST = (
    " ON CONFLICT (old_db_id) DO UPDATE SET new_db_id = excluded.new_db_id, level = excluded.level,"
    " unit_code = excluded.unit_code, switch_clock = excluded.switch_clock, decided_at = excluded.decided_at"
    " WHERE excluded.switch_clock < replacement.switch_clock OR (excluded.switch_clock = replacement.switch_clock"
    " AND excluded.new_db_id < replacement.new_db_id)")


def _record_replacements(run: Callable, checked: Checked, name: str, params: dict) -> None:
    """Inside the merge transaction, before rows move: this pack's decision (logged) and the ones it
    carries from below. Two decisions about one old file (rare: two districts' clerks) settle on the
    earliest switch, whatever their order of arrival. Rows of a replaced file already here from
    after its switch leave the tables, so the result does not depend on which came first."""
    decision = checked.replacement
    if decision is not None:
        run("INSERT INTO main.replacement (old_db_id, new_db_id, level, unit_code, switch_clock, decided_at)"
            " VALUES (:old_db_id, :new_db_id, :level, :unit_code, :switch_clock, :decided_at)" + _KEEP_EARLIEST,
            decision)
        run("INSERT INTO main.merge_log (file_name, sha256, db_id, level, unit_code, packed_at, clock, outcome,"
            " reason, merged_at, cdt_version) VALUES (?, ?, ?, ?, ?, ?, ?, 'replaces', ?, ?, ?)",
            (name, checked.sha256, decision["new_db_id"], decision["level"], decision["unit_code"],
             checked.site["packed_at"], checked.site["clock"],
             f"{decision['old_db_id']} switch_clock={decision['switch_clock']}", params["now"], __version__))
    carried = run("INSERT INTO main.replacement (old_db_id, new_db_id, level, unit_code, switch_clock, decided_at)"
                  " SELECT old_db_id, new_db_id, level, unit_code, switch_clock, decided_at FROM inc.replacement"
                  " WHERE true" + _KEEP_EARLIEST).rowcount
    if decision is None and not carried:
        return
    for table in DATA_COLUMNS:
        run(f"DELETE FROM main.{table} WHERE {_REPLACED.format(a=table)}")
    run(f"DELETE FROM main.history WHERE {_REPLACED.format(a='history')}")


def _locked(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _already_merged(target: Store, digest: str) -> dict | None:
    """The log of an earlier merge of exactly these bytes, if there was one."""
    row = target.conn.execute(
        "SELECT * FROM merge_log WHERE sha256 = ? AND outcome = 'merged' ORDER BY seq DESC LIMIT 1", (digest,)
    ).fetchone()
    return dict(row) if row else None


def _as_unchanged(result: FileResult, earlier: dict) -> None:
    """Report a pack merged before: every row it carried is unchanged, nothing is written.

    Merging is idempotent (the property tests prove it), and these bytes passed every check the
    first time, so re-checking and re-probing every row would only cost time (bench: remerge).
    """
    result.sha256 = earlier["sha256"]
    result.db_id, result.level, result.clock, result.packed_at = (
        earlier["db_id"], earlier["level"], earlier["clock"], earlier["packed_at"])
    result.unit_code, result.unit_name = earlier["unit_code"], earlier["unit_name"]
    before = json.loads(earlier["counts"] or "{}")
    result.counts = {table: {**{key: 0 for key in COUNT_KEYS}, "unchanged": sum(before.get(table, {}).values())}
                     for table in DATA_COLUMNS}
    result.already_merged = earlier["merged_at"]
    result.ok = True


def merge_file(target: Store, path: Path, *, dry_run: bool = False, skip_known: bool = True,
               replaces: str | None = None, prepared: "Prepared | None" = None,
               schema: str | None = None) -> FileResult:
    """Check one incoming file and merge it (or, with dry_run, roll the merge back).

    The one path every pack goes through, in two stages: _prepare (stage the copy, recognise bytes
    merged before, signature and seal, every check of the file, migrate an older schema) and
    _apply (the decisions that depend on the target's state: one file per unit, key pinning; then
    the merge). merge_batch runs _prepare of the next files in a worker thread and hands each
    file here, in turn, with ``prepared``; ``schema`` then names the ATTACHed copy in the
    transaction several checked files share (_apply_batch), and any failure is raised to it.

    A file whose exact bytes were merged before is reported unchanged without being merged again
    (``skip_known=False`` merges it all the same: the property tests use that to prove the merge
    itself idempotent).

    Whatever goes wrong with the file refuses that file alone: an unexpected error is logged and
    reported as a refusal. A target in use by another program is not the file's fault: StoreError
    ``store.in_use`` is raised, and merge_files stops the batch.
    """
    if prepared is None:
        prepared = _prepare(target, Path(path), skip_known=skip_known, replaces=replaces)
    if prepared.checked is None:
        prepared.discard()
        return prepared.result
    if schema is not None:
        _apply(target, prepared, replaces, schema=schema)
        return prepared.result
    try:
        _guarded(target, prepared, lambda: _apply(target, prepared, replaces, dry_run=dry_run))
    finally:
        prepared.discard()
    return prepared.result


@dataclass
class Prepared:
    """One incoming file after _prepare: its result so far and, when it passed every check of the
    file itself, the checked staging copy and opened container for _apply."""

    path: Path
    result: FileResult
    staging: Path | None = None
    checked: Checked | None = None
    opened: "keys.Opened | None" = None
    # What in the target's state this file's checks read (its bytes' hash, its unit, the files it
    # carries): a file checked ahead while earlier files merged is checked again in turn when an
    # earlier file of the run touched any of it, so the outcome equals merging one after another.
    touches: set = field(default_factory=set)

    def discard(self) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None


def _prepare(target: Store, path: Path, *, skip_known: bool = True, replaces: str | None = None) -> Prepared:
    """Everything before the target-dependent decisions: stage the copy, recognise bytes merged
    before, open the container (signature, pinned key, seal), check the file (DESIGN.md §3.1, the
    rules included) and the snapshot against its signed header, migrate an older schema in the
    staging copy. Reads the target but never writes it, so it may run in a worker thread on a
    connection of its own (merge_batch). Errors refuse the file (recorded in the result)."""
    prepared = Prepared(path=path, result=FileResult(path=str(path), name=clean_text(Path(path).name) or "?"))
    result = prepared.result
    prepared.staging = temp_folders.make("merge")

    def steps() -> None:
        hashing = hashlib.sha256()
        staged = stage_copy(Path(path), prepared.staging, hashing)
        container = hashing.hexdigest()
        prepared.touches.add(("sha", container))
        earlier = _already_merged(target, container) if skip_known and not replaces else None
        if earlier:
            _as_unchanged(result, earlier)
            return
        header = keys.read_pack(staged)
        prepared.touches.update({("unit", header.level, header.unit_code), ("db", header.db_id)})
        opened = _open_pack(target, staged, prepared.staging, result, header)
        # The log names the bytes that arrived (a re-merge is known by them), not the snapshot inside.
        checked = check_file(target, opened.inner, digest=container)
        keys.check_inner(opened, checked.site)
        result.sha256 = checked.sha256
        site = checked.site
        prepared.touches.update(("db", o["db_id"]) for o in checked.origins)
        prepared.touches.update(("unit", key[0], key[2]) for key in map(_unit_key, [site, *checked.origins]) if key)
        result.db_id, result.level, result.clock, result.packed_at = (
            site["db_id"], site["level"], site["clock"], clean_text(site["packed_at"]))
        result.unit_code = clean_text(site.get(f"{site['level']}_code"))
        result.unit_name = clean_text(site.get(f"{site['level']}_name"))
        _migrate_staged(checked)
        prepared.checked, prepared.opened = checked, opened

    try:
        _guarded(target, prepared, steps)
    finally:
        if prepared.checked is None:
            prepared.discard()
    return prepared


def _apply(target: Store, prepared: Prepared, replaces: str | None, *, dry_run: bool = False,
           schema: str | None = None) -> None:
    """The target-dependent decisions and the merge of one checked file: one file per unit (and
    ``--replaces``), the rows, the key pin. With schema, the file is ATTACHed under that name and
    the caller holds the transaction it shares with other files (_apply_batch); else it gets a
    transaction of its own."""
    checked, opened, result = prepared.checked, prepared.opened, prepared.result
    checked.replacement = one_file_per_unit(target, checked, result.name, replaces)
    if schema is not None:  # a _NotAllNew here rolls the shared transaction back (_apply_batch)
        result.counts = _merge_one(target, checked, result.name, dry_run, StatementSteps(), schema=schema, own_tx=False)
    else:
        try:
            result.counts = _merge_one(target, checked, result.name, dry_run, StatementSteps())
        except _NotAllNew:
            result.counts = _merge_one(target, checked, result.name, dry_run, StatementSteps(), fast=False)
    if opened.first_use and not dry_run:
        keys.pin(target, opened.header)
    elif opened.other_file and checked.replacement is not None and not dry_run:
        # The district said this file replaces the unit's old one: that is accepting its key.
        keys.pin(target, opened.header, how="replaces")
        result.new_key = True
    result.ok = True


def _guarded(target: Store, prepared: Prepared, action: Callable[[], Any]) -> None:
    """Run one file's stage; whatever goes wrong with the file refuses that file alone (recorded in
    its result). A busy target is not the file's fault: StoreError store.in_use is raised."""
    result = prepared.result
    try:
        action()
    except CdtError as error:
        if error.key == "store.in_use":
            raise
        result.error, result.ok = error, False
    except sqlite3.Error as error:
        if _locked(error):
            raise StoreError("store.in_use", path=str(target.path)) from error
        result.error, result.ok = FileRefused("merge.failed", reason=_sqlite_reason(error)), False
    except Exception:  # noqa: BLE001 — one odd file must never sink the batch
        log = log_unexpected(f"cdt merge: {prepared.path}")
        result.error, result.ok = FileRefused("merge.unexpected", log=str(log) if log else "-"), False


def _open_pack(target: Store, staged: Path, staging: Path, result: FileResult,
               header: "keys.Header | None" = None) -> "keys.Opened":
    """The pack container first (DESIGN.md §8): signature, pinned key, seal; the snapshot inside
    then goes through every check of §3 like any incoming file."""
    opened = keys.open_incoming(target, staged, staging, header)
    result.signer, result.sealed, result.new_key = opened.fingerprint, opened.sealed, opened.first_use
    return opened


def clean_stale_staging(max_age: float = STALE_STAGING_SECONDS) -> int:
    """Remove staging folders a killed merge left in the temp folder (full copies of packs, with
    personal data). Only cdt's own prefix, only folders untouched for max_age; best effort."""
    removed = 0
    cutoff = time.time() - max_age
    try:
        candidates = list(Path(tempfile.gettempdir()).glob(STAGING_PREFIX + "*"))
    except OSError:
        return 0
    for folder in candidates:
        try:
            if folder.is_symlink() or not folder.is_dir() or folder.stat().st_mtime > cutoff:
                continue
            shutil.rmtree(folder)
            removed += 1
        except OSError:
            continue
    return removed


def _check_not_in_use(target: Store) -> None:
    """Stop before the first file if another program holds the target's write lock."""
    try:
        target.conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if _locked(error):
            raise StoreError("store.in_use", path=str(target.path)) from error
        raise
    target.conn.execute("ROLLBACK")


@dataclass
class Batch:
    """The outcome of one ``cdt merge``: a result per file, and the conflicts open afterwards."""

    results: list[FileResult]
    open_conflicts: int


# Checked files sharing one transaction (SQLite ATTACHes at most 10 databases). On this machine
# each commit's sync, not the SQL, dominates a small pack's merge (DESIGN.md §3.2).
GROUP_FILES = 9
# The target's page cache, bounded (KiB): enough for the B-tree paths a growing district or
# province file keeps hot (random ids land anywhere in three indexes), small enough that a
# merge's memory does not follow the size of the file.
TARGET_CACHE_KIB = 12288
# Each ATTACHed pack's page cache (KiB): read once, front to back; nine of them at SQLite's default
# 2 MB made a merge's peak memory follow the size of the packs.
INCOMING_CACHE_KIB = 512


def tune_target(conn: sqlite3.Connection) -> None:
    """The merge target's connection settings (the benchmark's raw baseline uses the same ones):
    the store's rollback journal and full sync (store.connect), and a bounded page cache."""
    conn.execute(f"PRAGMA cache_size = -{TARGET_CACHE_KIB}")


def _refused_entry(path: Path, error: CdtError) -> Prepared:
    return Prepared(path=path, result=FileResult(path=str(path), name=clean_text(path.name) or "?", error=error))


_ALONE = ("merge.second_file", "merge.replaces_unknown", "merge.replaces_again")


def _apply_batch(target: Store, batch: list[Prepared], replaces: str | None,
                 progress: Callable[[str], None] | None = None) -> None:
    """Hand each file of the batch to merge_file, in order; the checked ones share one transaction:
    all of them or none (DESIGN.md §3.2). A file refused by a target-dependent decision (one file
    per unit) is refused alone and the others go on. If applying one fails otherwise, the whole
    batch is rolled back and each file applied again in a transaction of its own, so one bad file
    never sinks good ones. Ctrl-C while a file is applied keeps the files before it (applied again,
    committed) and stops: what the command says was merged is what is in the file."""
    checked = [p for p in batch if p.checked is not None]
    conn = target.conn
    names: dict[int, str] = {}
    failed = False
    try:
        if len(checked) > 1:
            for number, prepared in enumerate(checked):
                conn.execute(f"ATTACH DATABASE ? AS inc{number}", (str(prepared.checked.path),))
                names[id(prepared)] = f"inc{number}"
                conn.execute(f"PRAGMA inc{number}.cache_size = -{INCOMING_CACHE_KIB}")
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise StoreError("store.in_use", path=str(target.path)) from error
        done: list[Prepared] = []
        try:
            for prepared in batch:
                if progress:
                    progress(prepared.result.name)
                schema = names.get(id(prepared))
                try:
                    merge_file(target, prepared.path, prepared=prepared, schema=schema)
                except FileRefused as error:
                    if error.key not in _ALONE:
                        raise
                    prepared.result.error, prepared.result.ok = error, False
                except KeyboardInterrupt:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                        _reapply(target, done, names)
                    raise
                if schema is not None:
                    done.append(prepared)
            if conn.in_transaction:
                conn.execute("COMMIT")
        except CdtError as error:
            if error.key == "store.in_use":
                raise
            failed = True
        except sqlite3.Error as error:
            if _locked(error):
                raise StoreError("store.in_use", path=str(target.path)) from error
            failed = True
        except Exception:  # noqa: BLE001 — applied again file by file below, where it is logged
            failed = True
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
    finally:
        for name in names.values():
            conn.execute(f"DETACH DATABASE {name}")
    if failed:
        for prepared in checked:
            prepared.result.error, prepared.result.ok, prepared.result.counts = None, False, {}
            prepared.result.new_key = bool(prepared.opened and prepared.opened.first_use)
            merge_file(target, prepared.path, prepared=prepared)


def _reapply(target: Store, done: list[Prepared], names: dict[int, str]) -> None:
    """After Ctrl-C in a shared transaction (rolled back): the files applied before it, again, committed."""
    if not done:
        return
    conn = target.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        for prepared in done:
            prepared.result.ok, prepared.result.counts = False, {}
            _apply(target, prepared, None, schema=names[id(prepared)])
        conn.execute("COMMIT")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def _merge_each(target: Store, entries: list[tuple[Path, CdtError | None]],
                progress: Callable[[int, int, str], None] | None, replaces: str | None = None) -> list[FileResult]:
    """Every file through merge_file, in order: _prepare of the next files in a worker thread (its
    own connection to the target, read only), merge_file here with what the worker prepared,
    up to GROUP_FILES checked files to a transaction (_apply_batch), applied as soon as no other
    checked file is waiting (_apply_now).

    SQLite releases the GIL while a statement runs, so the merge's SQL here and the checks' scans
    there use both cores. The worker stays at most a batch ahead (bounded staging space). A file
    whose checks read something an earlier file of the run changed (its unit, a file it carries,
    the same bytes) is prepared again in turn, after the earlier ones are in: every outcome equals
    merging the files one after another."""
    total = len(entries)
    if total <= 1 or replaces is not None:
        return _merge_in_turn(target, entries, progress, replaces)
    keys.own_keys(target)  # made now if missing: the worker only reads
    ready: queue.Queue = queue.Queue(maxsize=GROUP_FILES)
    stop = threading.Event()

    def work() -> None:
        view = None
        try:
            view = Store(target.path, connect(target.path))
            for index, (path, error) in enumerate(entries):
                if stop.is_set():
                    break
                if error is not None:
                    ready.put((index, _refused_entry(path, error), None))
                    continue
                ready.put((index, _prepare_ahead(view, path, stop), None))
        except BaseException as error:  # noqa: BLE001 — handed to the main thread (a busy target)
            ready.put((-1, None, error))
        finally:
            if view is not None:
                view.close()
            ready.put(None)

    results: list[FileResult] = []
    seen: set = set()
    batch: list[Prepared] = []
    position = {"done": 0}

    def told(name: str) -> None:
        if progress:
            progress(position["done"], total, name)
        position["done"] += 1

    def flush() -> None:
        try:
            if batch:
                _apply_batch(target, batch, None, told)
        finally:
            for prepared in batch:
                prepared.discard()
            batch.clear()

    worker = threading.Thread(target=work, name="cdt-merge-checks", daemon=True)
    worker.start()
    finished = False
    try:
        while True:
            item = ready.get()
            if item is None:
                finished = True
                break
            index, prepared, error = item
            if error is not None:
                raise error
            if prepared.touches & seen:
                # Checked against a state an earlier file of the run changed: in turn, from the start.
                flush()
                prepared.discard()
                told(prepared.result.name)
                prepared.result = merge_file(target, prepared.path)
            else:
                batch.append(prepared)
                if _apply_now(batch, ready):
                    flush()
            seen |= prepared.touches
            results.append(prepared.result)
        flush()
    finally:
        stop.set()
        for prepared in batch:
            prepared.discard()
        while not finished:  # let the worker end, and remove what it staged
            item = ready.get()
            if item is None:
                break
            if item[1] is not None:
                item[1].discard()
        worker.join()
    if progress:
        progress(total, total, "")
    return results


def _apply_now(batch: list[Prepared], ready: queue.Queue) -> bool:
    """Whether to apply the files checked so far now: a full batch, or nothing else checked yet.
    Waiting for a full batch while the worker checks would leave this thread idle (both cores
    busy is the point): on a quiet machine the checks and the merge of a pack take about as long,
    so a 10-pack merge ran 2.0 s waiting for full batches and 1.2-1.3 s applying what was ready."""
    return ready.empty() or sum(1 for p in batch if p.checked is not None) >= GROUP_FILES


# How long the worker waits, in all, for the target while this thread writes it (a large shared
# transaction spills its pages to the file and holds it exclusively until it commits).
AHEAD_WAIT_SECONDS = 600


def _prepare_ahead(view: Store, path: Path, stop: threading.Event) -> Prepared:
    """_prepare in the worker: its reads of the target wait while the batch being applied holds
    the file (its busy timeout is short, for a target held by another program); the main thread
    raises store.in_use itself when another program holds it, and stops this one."""
    deadline = time.monotonic() + AHEAD_WAIT_SECONDS
    while True:
        try:
            return _prepare(view, path)
        except StoreError as error:
            if error.key != "store.in_use" or stop.is_set() or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _merge_in_turn(target: Store, entries: list[tuple[Path, CdtError | None]],
                   progress: Callable[[int, int, str], None] | None, replaces: str | None = None) -> list[FileResult]:
    results = []
    for index, (path, error) in enumerate(entries):
        if progress:
            progress(index, len(entries), clean_text(path.name) or "?")
        if error is not None:
            results.append(FileResult(path=str(path), name=clean_text(path.name) or "?", error=error))
            continue
        results.append(merge_file(target, path, replaces=replaces))
    if progress:
        progress(len(entries), len(entries), "")
    return results


def merge_batch(target: Store, paths: Iterable[str | Path], *, dry_run: bool = False,
                progress: Callable[[int, int, str], None] | None = None, replaces: str | None = None) -> Batch:
    """Merge the files (see _merge_each); a refused file does not stop the others, a busy target stops all.

    A dry run merges into a scratch copy of the target in a private temp folder, file after file
    exactly as the real run does, and throws the copy away: so later files see what earlier ones
    would have brought (a fork, rows already there), its summary equals the real run's, and an
    older-schema target is migrated in the copy only. (One transaction rolled back at the end
    cannot do this: SQLite cannot DETACH a pack inside a transaction, and only 10 may be ATTACHed.)
    """
    if target.site.level == "commune":
        raise InvalidInput("merge.commune_target")
    entries = _expand(paths)
    if replaces is not None and len(entries) != 1:
        raise InvalidInput("merge.replaces_one_file")
    clean_stale_staging()
    if not dry_run:
        _check_not_in_use(target)
        tune_target(target.conn)
        results = _merge_each(target, entries, progress, replaces)
        target.refresh()
        return Batch(results, len(list_conflicts(target)))
    scratch_folder = temp_folders.make("dryrun")
    try:
        copy = scratch_folder / "target.db"
        dest = sqlite3.connect(str(copy))
        try:
            target.conn.backup(dest)
        except sqlite3.OperationalError as error:
            if _locked(error):
                raise StoreError("store.in_use", path=str(target.path)) from error
            raise
        finally:
            dest.close()
        scratch = Store.open(copy)
        try:
            scratch.conn.execute("PRAGMA synchronous = OFF")  # thrown away: no fsync per file
            tune_target(scratch.conn)
            results = _merge_each(scratch, entries, progress, replaces)
            return Batch(results, len(list_conflicts(scratch)))
        finally:
            scratch.close()
    finally:
        shutil.rmtree(scratch_folder, ignore_errors=True)


def merge_files(target: Store, paths: Iterable[str | Path], *, dry_run: bool = False,
                progress: Callable[[int, int, str], None] | None = None,
                replaces: str | None = None) -> list[FileResult]:
    """Merge each file in turn (see merge_batch); the results per file."""
    return merge_batch(target, paths, dry_run=dry_run, progress=progress, replaces=replaces).results


# -- status ----------------------------------------------------------------------------------------


def status(store: Store) -> dict:
    """Every unit whose data this file holds, and the units of its area never heard from."""
    from cdt.domain import units

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
        unit = _unit(site.unit_code, site.level, site.structure)
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
    """Each unit's current file and the files it replaced (issue 9), on status's origin entries."""
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


# -- conflicts -------------------------------------------------------------------------------------


def _groups(store: Store, include_resolved: bool) -> list[dict]:
    rows = store.query(
        "SELECT c.*, o.unit_name, o.commune_code, o.district_code FROM conflict c"
        " LEFT JOIN origin o ON o.db_id = c.origin ORDER BY c.id")
    groups: dict[tuple, dict] = {}
    for row in rows:
        key = (row["kind"], row["origin"], row["fork_rev"], row["branch"]) if row["kind"] == "fork" \
            else ("row", row["id"])
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "id": row["id"], "kind": row["kind"], "origin": row["origin"],
                "unit": {"code": clean_text(row["commune_code"] or row["district_code"]),
                         "name": clean_text(row["unit_name"])},
                "fork_rev": row["fork_rev"], "branch": row["branch"], "rows": 0, "tables": {},
                "source": row["source"], "detected_at": row["detected_at"], "resolved_at": row["resolved_at"],
                "resolution": row["resolution"], "members": [],
            }
        group["rows"] += 1
        group["tables"][row["table_name"]] = group["tables"].get(row["table_name"], 0) + 1
        group["members"].append(row["id"])
        if row["resolved_at"] is None:
            group["resolved_at"] = None
            group["resolution"] = None
    found = list(groups.values())
    return found if include_resolved else [g for g in found if g["resolved_at"] is None]


def list_conflicts(store: Store, *, include_resolved: bool = False) -> list[dict]:
    """Open conflicts (or all), one entry per held fork branch or per held row."""
    return [{k: v for k, v in g.items() if k != "members"} for g in _groups(store, include_resolved)]


def _group(store: Store, conflict_id: int) -> dict:
    for group in _groups(store, include_resolved=True):
        if conflict_id in group["members"]:
            return group
    raise NotFound("conflicts.not_found", id=conflict_id)


def show_conflict(store: Store, conflict_id: int) -> dict:
    """A conflict with both versions of each row side by side: ours (in the tables) and theirs (held)."""
    group = _group(store, conflict_id)
    marks = ",".join("?" * len(group["members"]))
    units = {row["db_id"]: row for row in store.query("SELECT db_id, level, commune_code, district_code,"
                                                       " unit_name FROM origin")}
    if store.site.db_id not in units:
        units[store.site.db_id] = {"commune_code": store.site.commune_code, "district_code": store.site.district_code,
                                   "unit_name": store.site.unit_name}

    def unit_of(db_id: str) -> dict:
        known = units.get(db_id) or {}
        return {"db_id": db_id, "code": clean_text(known.get("commune_code") or known.get("district_code")),
                "name": clean_text(known.get("unit_name"))}

    pairs = []
    for held in store.query(f"SELECT * FROM conflict WHERE id IN ({marks}) ORDER BY table_name, row_id",
                            tuple(group["members"])):
        ours = store.get(held["table_name"], held["row_id"])
        pairs.append({
            "table": held["table_name"], "row_id": held["row_id"],
            # Which file each side comes from: for a row that reuses another origin's id, that is the point.
            "theirs": {"rev": held["rev"], "deleted": bool(held["deleted"]), "origin": held["origin"],
                       **json.loads(held["row_data"])},
            "theirs_unit": unit_of(held["origin"]),
            "ours": None if ours is None else {
                "rev": ours["rev"], "deleted": bool(ours["deleted"]), "origin": ours["origin"],
                **{c: ours[c] for c in DATA_COLUMNS[held["table_name"]]}},
            "ours_unit": None if ours is None else unit_of(ours["origin"]),
        })
    ours_chain = store.conn.execute("SELECT chain FROM history WHERE origin = ? AND rev = ?",
                                    (group["origin"], group["fork_rev"])).fetchone()
    info = {k: v for k, v in group.items() if k != "members"}
    info["our_branch"] = ours_chain[0] if ours_chain and group["kind"] == "fork" else None
    info["pairs"] = pairs
    return info


def _restore_sql(table: str) -> str:
    columns = ROW_COLUMNS[table]
    values = ["c.row_id", "c.origin", "c.rev", "c.deleted", "c.hash",
              *(f"json_extract(c.row_data, '$.{col}')" for col in DATA_COLUMNS[table])]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    return (f"INSERT INTO main.{table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM main.conflict c"
            f" WHERE c.table_name = '{table}' AND c.id IN (SELECT id FROM temp.chosen)"
            f" ON CONFLICT (id) DO UPDATE SET {updates} WHERE excluded.rev > {table}.rev OR :force")


def resolve_conflict(store: Store, conflict_id: int, keep: str) -> dict:
    """Settle a conflict: keep ours (the held version stays held) or take theirs (swap it in); logged."""
    if keep not in ("ours", "theirs"):
        raise InvalidInput("conflicts.bad_keep", value=keep)
    group = _group(store, conflict_id)
    conn = store.conn
    stamp = now()
    marks = ",".join("?" * len(group["members"]))
    members = tuple(group["members"])
    done = {"id": conflict_id, "kind": group["kind"], "keep": keep, "rows": group["rows"], "already": True}
    # Settled already: "ours" keeps what is in use, which is what a settled conflict shows (the
    # taken branch included), and taking again what was taken changes nothing. A no-op, not an error.
    if group["resolved_at"] is not None and (keep == "ours" or group["resolution"] == "theirs"):
        return done
    if group["kind"] == "row" and keep == "theirs":
        held = store.query("SELECT origin, table_name, row_id FROM conflict WHERE id = ?", (members[0],))[0]
        current = store.get(held["table_name"], held["row_id"])
        if current is not None and current["origin"] != held["origin"]:
            # Same id, another origin: a pack claiming a row another file created. Only the origin
            # may change a row (DESIGN.md §2), so that version is never applied (§3).
            raise InvalidInput("conflicts.theirs_other_origin", id=conflict_id)
    with store._immediate():
        if group["kind"] == "fork":
            origin, fork = group["origin"], group["fork_rev"]
            ours = conn.execute("SELECT chain FROM history WHERE origin = ? AND rev = ?", (origin, fork)).fetchone()
            ours_chain = ours[0] if ours else ""
            chosen = group["branch"] if keep == "theirs" else ours_chain
            conn.execute("INSERT INTO branch_choice (origin, fork_rev, chain, decided_at) VALUES (?, ?, ?, ?)"
                         " ON CONFLICT (origin, fork_rev) DO UPDATE SET chain = excluded.chain,"
                         " decided_at = excluded.decided_at", (origin, fork, chosen, stamp))
            if keep == "theirs":
                args = {"origin": origin, "fork": fork, "branch": ours_chain, "now": stamp, "force": 0}
                for table in DATA_COLUMNS:
                    conn.execute(
                        "INSERT INTO conflict (kind, origin, fork_rev, branch, table_name, row_id, rev, deleted,"
                        " hash, row_data, source, detected_at, resolved_at, resolution)"
                        f" SELECT 'fork', r.origin, :fork, :branch, '{table}', r.id, r.rev, r.deleted, r.hash,"
                        f" {_json_row(table, 'r')}, 'resolve', :now, :now, 'replaced' FROM main.{table} r"
                        " WHERE r.origin = :origin AND r.rev >= :fork"
                        " ON CONFLICT (kind, origin, fork_rev, branch, table_name, row_id) DO UPDATE SET"
                        " rev = excluded.rev, deleted = excluded.deleted, hash = excluded.hash,"
                        " row_data = excluded.row_data, resolved_at = excluded.resolved_at,"
                        " resolution = excluded.resolution", args)
                    conn.execute(f"DELETE FROM main.{table} WHERE origin = :origin AND rev >= :fork", args)
                conn.execute("INSERT OR IGNORE INTO held_history (origin, fork_rev, branch, rev, chain)"
                             " SELECT origin, :fork, :branch, rev, chain FROM history"
                             " WHERE origin = :origin AND rev >= :fork", args)
                conn.execute("DELETE FROM history WHERE origin = :origin AND rev >= :fork", args)
                conn.execute("CREATE TEMP TABLE IF NOT EXISTS chosen (id INTEGER PRIMARY KEY)")
                conn.execute("DELETE FROM temp.chosen")
                conn.execute(f"INSERT INTO temp.chosen SELECT id FROM conflict WHERE id IN ({marks})", members)
                for table in DATA_COLUMNS:
                    conn.execute(_restore_sql(table), {"force": 0})
                conn.execute("INSERT OR IGNORE INTO history (origin, rev, chain) SELECT origin, rev, chain"
                             " FROM held_history WHERE origin = ? AND fork_rev = ? AND branch = ?",
                             (origin, fork, group["branch"]))
                conn.execute("DELETE FROM held_history WHERE origin = ? AND fork_rev = ? AND branch = ?",
                             (origin, fork, group["branch"]))
                # Kept as a record (its number must not change), marked as the version taken.
                conn.execute(f"UPDATE conflict SET resolved_at = ?, resolution = 'theirs' WHERE id IN ({marks})",
                             (stamp, *members))
            else:
                conn.execute(f"UPDATE conflict SET resolved_at = ?, resolution = 'ours' WHERE id IN ({marks})",
                             (stamp, *members))
        else:
            if keep == "theirs":
                held = store.query("SELECT * FROM conflict WHERE id = ?", (members[0],))[0]
                table = held["table_name"]
                current = store.get(table, held["row_id"])
                if current is not None:
                    conn.execute(
                        "INSERT INTO conflict (kind, origin, fork_rev, branch, table_name, row_id, rev, deleted,"
                        " hash, row_data, source, detected_at, resolved_at, resolution)"
                        f" SELECT 'row', r.origin, r.rev, r.hash, '{table}', r.id, r.rev, r.deleted, r.hash,"
                        f" {_json_row(table, 'r')}, 'resolve', :now, :now, 'replaced' FROM main.{table} r"
                        " WHERE r.id = :id ON CONFLICT DO UPDATE SET resolved_at = excluded.resolved_at,"
                        " resolution = excluded.resolution", {"now": stamp, "id": held["row_id"]})
                conn.execute("CREATE TEMP TABLE IF NOT EXISTS chosen (id INTEGER PRIMARY KEY)")
                conn.execute("DELETE FROM temp.chosen")
                conn.execute("INSERT INTO temp.chosen VALUES (?)", (members[0],))
                conn.execute(_restore_sql(table), {"force": 1})
                conn.execute("UPDATE conflict SET resolved_at = ?, resolution = 'theirs' WHERE id = ?",
                             (stamp, members[0]))
            else:
                conn.execute("UPDATE conflict SET resolved_at = ?, resolution = 'ours' WHERE id = ?",
                             (stamp, members[0]))
        conn.execute(
            "INSERT INTO merge_log (file_name, db_id, counts, outcome, reason, merged_at, cdt_version)"
            " VALUES (?, ?, ?, 'resolved', ?, ?, ?)",
            (f"conflict #{conflict_id}", group["origin"], json.dumps({"rows": group["rows"]}),
             f"{group['kind']} keep {keep}", stamp, __version__))
    return {**done, "already": False}


# -- extract ---------------------------------------------------------------------------------------


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
    from cdt.exchange.regroup import absorbed_origins

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
    unit = _unit(origin["commune_code"], "commune", origin["structure"])
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
            db_id=db_id, clock=top,
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
            conn.execute("BEGIN IMMEDIATE")
            counts = {}
            # A 2025 commune made from its old communes' files (cdt init --from) gets them back too:
            # their rows, chains, origin rows and the decisions that it absorbed them (cdt/regroup.py).
            from cdt.exchange.regroup import absorbed_origins

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
                          " packed_at, merged_at")
                conn.execute(f"INSERT INTO main.origin ({listed}) SELECT {listed} FROM src.origin"
                             " WHERE db_id IN (SELECT value FROM json_each(?))", (olds,))
                listed = "old_db_id, new_db_id, level, unit_code, switch_clock, decided_at"
                conn.execute(f"INSERT INTO main.replacement ({listed}) SELECT {listed} FROM src.replacement"
                             " WHERE new_db_id = ? AND old_db_id IN (SELECT value FROM json_each(?))", (db_id, olds))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
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
    part = out.with_name(f".{out.name}.{os.getpid()}{temp_folders.PART_SUFFIX}")
    try:
        if out.exists():
            raise InvalidInput("extract.exists", path=str(out))
        temp_folders.note_part(job, part)
        with open(building, "rb") as reader, open(part, "wb") as writer:
            shutil.copyfileobj(reader, writer, 1 << 20)
            writer.flush()
            os.fsync(writer.fileno())
        os.replace(part, out)
    except OSError as error:
        part.unlink(missing_ok=True)
        raise StoreError("extract.cannot_write", path=str(out.parent),
                         reason=os_reason(error)) from error
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return {"path": str(out), "db_id": db_id, "clock": top, "fingerprint": fingerprint,
            "commune": {"code": origin["commune_code"],
            "name": unit.name if unit else origin["unit_name"]}, "rows": counts}


__all__ = [
    "FileResult", "check_file", "expand_paths", "extract_commune", "list_conflicts",
    "merge_file", "merge_files", "resolve_conflict", "show_conflict", "status",
]
