"""Merge one checked pack into the target: plan forks, move rows set-based, log (DESIGN.md §3.2).

A staged copy that passed every check of incoming.py is ATTACHed (by a bound parameter) to the
target and merged in one transaction with ``INSERT … SELECT … ON CONFLICT(id) DO UPDATE … WHERE
excluded.rev > rev`` (or, when none of its rows can be known here, a plain ``INSERT … SELECT``).

``merge_file`` is the one path, in two stages: ``prepare`` (staging and every check, reading the
target without writing it) and ``apply`` (the decisions that depend on the target's state, and the
merge). batch.py runs several files: it prepares the next ones in a worker thread while this one
applies, and lets up to nine checked files share a transaction.

Forks. Each origin's history is a chain of links, one per write transaction. When a pack's chain
for an origin disagrees with ours at some rev, the two files are two branches of one commune file
(copied to two laptops). The branch whose chain sorts higher at the first divergent rev stays in
the domain tables (unless a person chose otherwise with ``cdt conflicts resolve``, recorded in
``branch_choice``); every row the other branch wrote from that rev on is held in ``conflict`` with
its history links in ``held_history``. The choice depends only on the two chains, so the result
does not depend on the order packs arrive, and nothing is lost.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from cdt import __version__
from cdt._testing import StatementSteps, merge_inserts_in_id_order
from cdt.core import files as temp_folders
from cdt.core import totals
from cdt.core.errors import CdtError, FileRefused, StoreError, is_locked, log_unexpected
from cdt.core.text import clean_text
from cdt.exchange import keys
from cdt.exchange.incoming import Checked, check_file, lookup_unit, migrate_staged, sqlite_reason, stage_copy
from cdt.exchange.replacements import REPLACED, TAKES_OVER, one_file_per_unit, record_replacements, unit_key
from cdt.core.schema import DATA_COLUMNS, PERSONAL_FIELDS, ROW_COLUMNS
from cdt.store import Store
from cdt.core.rows import now, ref_of, row_hash

COUNT_KEYS = ("inserted", "updated", "unchanged", "older", "conflicts")
# Each ATTACHed pack's page cache (KiB): read once, front to back; nine of them at SQLite's default
# 2 MB made a merge's peak memory follow the size of the packs.
INCOMING_CACHE_KIB = 512


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
    signer: str | None = None  # fingerprint of the key that signed the pack (keys.py)
    sealed: bool | None = None
    new_key: bool = False  # the signer's key was pinned by this merge (first pack of that unit)
    notes: list[CdtError] = field(default_factory=list)  # what an officer should know about this pack

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
            "notes": [{"key": note.key, "text": note.message} for note in self.notes],
        }


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


def json_row(table: str, alias: str) -> str:
    """SQL giving a row's data columns as one JSON object (``conflict.row_data``); ``alias`` names the row."""
    pairs = ", ".join(f"'{c}', {alias}.{c}" for c in DATA_COLUMNS[table])
    return f"json_object({pairs})"


# A row the merge holds back: its branch lost a fork, or its file was replaced before it was written.
_HELD = ("(EXISTS (SELECT 1 FROM temp.merge_plan p WHERE p.origin = {a}.origin AND p.mode = 'hold'"
         " AND {a}.rev >= p.fork_rev) OR " + "{replaced})")
_HELD = _HELD.replace("{replaced}", REPLACED)


_HOLD_INTO_CONFLICT = (
    "INSERT INTO main.conflict (kind, origin, fork_rev, branch, table_name, row_id, rev, deleted, hash,"
    " row_data, source, detected_at)"
    " SELECT 'fork', r.origin, p.fork_rev, p.branch, '{table}', r.id, r.rev, r.deleted, r.hash,"
    " {row_data}, :source, :now"
    " FROM {source}.{table} AS r JOIN temp.merge_plan AS p ON p.origin = r.origin"
    " WHERE p.mode = '{mode}' AND {which}"
    " ON CONFLICT (kind, origin, fork_rev, branch, table_name, row_id) DO UPDATE SET"
    " rev = excluded.rev, deleted = excluded.deleted, hash = excluded.hash, row_data = excluded.row_data,"
    " source = excluded.source WHERE excluded.rev > conflict.rev")


def _hold_rows_sql(table: str, source: str, mode: str, other: str) -> str:
    """Copy into conflict the losing branch's version of every row the two branches disagree on
    (incoming for 'hold', ours for 'replace'): the rows it wrote from the fork on, and its pre-fork
    version of the rows the winning branch (``other``) changed after the fork. Taking that branch
    later (cdt conflicts resolve) then restores every row as that branch has it, none lost."""
    changed_by_other = (f"(r.rev < p.fork_rev AND EXISTS (SELECT 1 FROM {other}.{table} o WHERE o.id = r.id"
                        " AND o.origin = r.origin AND o.rev >= p.fork_rev))")
    return _HOLD_INTO_CONFLICT.format(table=table, row_data=json_row(table, "r"), source=source, mode=mode,
                                      which=f"(r.rev >= p.fork_rev OR {changed_by_other})")


def _merge_one(target: Store, checked: Checked, name: str, step: StatementSteps, *,
               schema: str = "inc", own_tx: bool = True, fast: bool = True) -> dict:
    """Merge one checked file. With own_tx (the default) it is ATTACHed as ``inc`` and merged in a
    transaction of its own; without, the caller has ATTACHed it as ``schema`` and holds the
    transaction that several checked files share (batch._apply_batch)."""
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
        with target.local_write() if own_tx else nullcontext():
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS merge_plan"
                         " (origin TEXT PRIMARY KEY, mode TEXT, fork_rev INTEGER, branch TEXT, other TEXT)")
            conn.execute("DELETE FROM temp.merge_plan")
            _refuse_references_into_other_units(conn, target, checked, schema)
            _take_carried_choices(run, checked)
            plan = _plan(conn, schema)
            conn.executemany("INSERT INTO temp.merge_plan VALUES (?, ?, ?, ?, ?)", plan)
            record_replacements(run, checked, name, params)
            fast = _merge_all_new(run, conn, checked, schema) if fast and not plan else None
            replaced = defaultdict(int)
            if any(p[1] == "replace" for p in plan):
                for table in DATA_COLUMNS:
                    run(_hold_rows_sql(table, "main", "replace", "inc"), params)
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
            _erase_held(run, conn)
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
            keys.pin_carried(run, site, checked.origins)
            run("INSERT INTO main.merge_log (file_name, sha256, db_id, level, unit_code, unit_name, packed_at,"
                " clock, schema_version, counts, outcome, merged_at, cdt_version)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'merged', ?, ?)",
                (name, checked.sha256, site["db_id"], site["level"], site.get(f"{site['level']}_code"),
                 site.get(f"{site['level']}_name"), site["packed_at"], site["clock"], checked.version,
                 json.dumps(counts), params["now"], __version__))
            step()
    finally:
        if own_tx:
            conn.execute("DETACH DATABASE inc")
    return counts


# Each reference a row makes, and the table it points into: a row of one unit may point only at rows of
# the same unit (its own file's, or the old files it absorbed).
REFERENCES = (("team", "hamlet_id", "hamlet"), ("member", "team_id", "team"), ("visit", "team_id", "team"),
              ("training_attendance", "member_id", "member"), ("training_attendance", "training_id", "training"))


def _units_of_origins(conn: sqlite3.Connection, target: Store, checked: Checked) -> dict[str, str]:
    """origin → its unit ('level structure code'), for the target's origins and the pack's; an old
    commune's file absorbed by a 2025 commune's counts as that commune's."""
    found: dict[str, str] = {}
    rows = [dict(r) for r in conn.execute("SELECT * FROM main.origin")]
    rows += [checked.site, *checked.origins, {**vars(target.site)}]
    for row in rows:
        key = unit_key(row)
        if key is not None:
            found.setdefault(row["db_id"], " ".join(key))
    absorbed = dict(conn.execute("SELECT old_db_id, new_db_id FROM main.replacement"))
    absorbed.update({o["db_id"]: checked.site["db_id"] for o in checked.origins if o["db_id"] != checked.site["db_id"]
                     and checked.site["level"] == "commune"})
    for old, new in absorbed.items():
        if new in found and old in found and found[old].split()[1] != found[new].split()[1]:
            found[old] = found[new]  # a legacy commune's file taken into a 2025 commune's
    return found


def _refuse_references_into_other_units(conn: sqlite3.Connection, target: Store, checked: Checked,
                                        schema: str) -> None:
    """Refuse a pack whose rows point at rows another unit holds here (a team of commune B on a hamlet
    of commune A): only a unit's own file writes its figures. What a reference resolves to is the row
    this file holds under that id, if any."""
    units_of = _units_of_origins(conn, target, checked)
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS merge_unit (origin TEXT PRIMARY KEY, unit TEXT NOT NULL)")
    conn.execute("DELETE FROM temp.merge_unit")
    conn.executemany("INSERT INTO temp.merge_unit VALUES (?, ?)", list(units_of.items()))
    for table, column, points_to in REFERENCES:
        found = conn.execute(_in_schema(
            f"SELECT i.id, ui.unit, um.unit FROM inc.{table} i JOIN main.{points_to} m ON m.id = i.{column}"
            " JOIN temp.merge_unit ui ON ui.origin = i.origin JOIN temp.merge_unit um ON um.origin = m.origin"
            " WHERE i.deleted = 0 AND ui.unit <> um.unit LIMIT 1", schema)).fetchone()
        if found is None:
            found = conn.execute(_in_schema(
                "SELECT i.id, ui.unit, um.unit FROM inc.visit i, json_each(i.members) j"
                " JOIN main.member m ON m.id = j.value JOIN temp.merge_unit ui ON ui.origin = i.origin"
                " JOIN temp.merge_unit um ON um.origin = m.origin WHERE i.deleted = 0 AND ui.unit <> um.unit"
                " LIMIT 1", schema)).fetchone() if table == "visit" else None
            column = "members" if found is not None else column
        if found is not None:
            raise FileRefused("merge.cross_unit", table=table, id=clean_text(ref_of(found[0]), 8), column=column,
                              own=_unit_words(found[1]), other=_unit_words(found[2]))


def _unit_words(key: str) -> str:
    level, structure, code = key.split(" ", 2)
    unit = lookup_unit(code, level, structure)
    return f"{unit.name} ({code})" if unit else code


def _take_carried_choices(run: Callable, checked: Checked) -> None:
    """A person's choice between two branches of a file, made at the level below (cdt conflicts resolve
    at the district) and carried in its pack, is this file's choice too: both levels then keep the same
    branch, and the fork plan that follows applies it. Only choices about files the pack carries
    (checked with the pack)."""
    carried = json.dumps([o["db_id"] for o in checked.origins if o["db_id"] != checked.site["db_id"]])
    run("INSERT INTO main.branch_choice (origin, fork_rev, chain, decided_at)"
        " SELECT origin, fork_rev, chain, decided_at FROM inc.branch_choice"
        " WHERE origin IN (SELECT value FROM json_each(?)) ON CONFLICT (origin, fork_rev) DO UPDATE SET"
        " chain = excluded.chain, decided_at = excluded.decided_at WHERE excluded.chain <> branch_choice.chain",
        (carried,))


def _erase_held(run: Callable, conn: sqlite3.Connection) -> None:
    """A row removed by its file (a tombstone: its personal fields cleared) is removed in the rows held
    back too: their copy of it becomes the same tombstone, so an erasure erases everywhere."""
    for table, fields in PERSONAL_FIELDS.items():
        held = conn.execute(
            f"SELECT c.id, c.row_id, c.origin, c.rev, c.row_data FROM main.conflict c JOIN main.{table} r"
            " ON r.id = c.row_id AND r.origin = c.origin WHERE c.table_name = ? AND r.deleted = 1"
            " AND c.deleted = 0", (table,)).fetchall()
        for conflict_id, row_id, origin, rev, data in held:
            values = json.loads(data)
            for field in fields:
                values[field] = "" if field == "full_name" else None
            erased = {**values, "id": row_id, "origin": origin, "rev": rev, "deleted": 1}
            run("UPDATE main.conflict SET row_data = ?, deleted = 1, hash = ? WHERE id = ?",
                (json.dumps(values, ensure_ascii=False), row_hash(table, erased), conflict_id))


_INC = re.compile(r"\binc\.")


def _in_schema(sql: str, schema: str) -> str:
    """The merge's SQL names the incoming file ``inc``; a shared transaction ATTACHes several
    files under other names (inc0 … inc8)."""
    return sql if schema == "inc" else _INC.sub(f"{schema}.", sql)


class _NotAllNew(Exception):
    """The all-new fast path met an id already used here: the transaction is rolled back and the
    file merged again by the full path (apply)."""


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
        # The totals' row triggers would slow the bulk copy down (bench/RESULTS.md): paused, and
        # the pack's visits counted set-based (exact: the probe found none of its origins here).
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
    takes = TAKES_OVER.format(old="m", new="i")
    yields = TAKES_OVER.format(old="i", new="m")
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
    run(_hold_rows_sql(table, "inc", "hold", "main"), params)
    # A row whose id another origin already uses, or whose rev equals ours with other content, is
    # never applied: it is held as a conflict of kind 'row' (its branch is its own hash).
    run(
        "INSERT INTO main.conflict (kind, origin, fork_rev, branch, table_name, row_id, rev, deleted, hash,"
        " row_data, source, detected_at)"
        f" SELECT 'row', i.origin, i.rev, i.hash, '{table}', i.id, i.rev, i.deleted, i.hash,"
        f" {json_row(table, 'i')}, :source, :now"
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
        "clock": site["clock"], "packed_at": site["packed_at"], "part_of": None,
    }]
    rows += [{**{k: o.get(k) for k in rows[0]}, "unit_name": clean_text(o.get("unit_name"))}
             for o in checked.origins if o["db_id"] != target.site.db_id]
    for row in rows:
        row["merged_at"] = params["now"]
        run(
            "INSERT INTO main.origin (db_id, level, structure, province_code, district_code, commune_code,"
            " unit_name, clock, packed_at, merged_at, part_of) VALUES (:db_id, :level, :structure, :province_code,"
            " :district_code, :commune_code, :unit_name, :clock, :packed_at, :merged_at, :part_of)"
            " ON CONFLICT (db_id) DO UPDATE SET"
            " packed_at = CASE WHEN excluded.clock > origin.clock OR (excluded.clock = origin.clock"
            "  AND coalesce(excluded.packed_at, '') > coalesce(origin.packed_at, '')) THEN excluded.packed_at"
            "  ELSE origin.packed_at END,"
            " clock = max(origin.clock, excluded.clock), merged_at = excluded.merged_at",
            row,
        )


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


def merge_file(target: Store, path: Path, *, skip_known: bool = True,
               replaces: str | None = None, prepared: "Prepared | None" = None,
               schema: str | None = None) -> FileResult:
    """Check one incoming file and merge it.

    The one path every pack goes through, in two stages: prepare (stage the copy, recognise bytes
    merged before, signature and seal, every check of the file, migrate an older schema) and
    apply (the decisions that depend on the target's state: one file per unit, key pinning; then
    the merge). batch.merge_batch runs prepare of the next files in a worker thread and hands each
    file here, in turn, with ``prepared``; ``schema`` then names the ATTACHed copy in the
    transaction several checked files share (batch._apply_batch), and any failure is raised to it.

    A file whose exact bytes were merged before is reported unchanged without being merged again
    (``skip_known=False`` merges it all the same: the property tests use that to prove the merge
    itself idempotent).

    Whatever goes wrong with the file refuses that file alone: an unexpected error is logged and
    reported as a refusal. A target in use by another program is not the file's fault: StoreError
    ``store.in_use`` is raised, and batch.merge_files stops the run.
    """
    if prepared is None:
        prepared = prepare(target, Path(path), skip_known=skip_known, replaces=replaces)
    if prepared.checked is None:
        prepared.discard()
        return prepared.result
    if schema is not None:
        apply(target, prepared, replaces, schema=schema)
        return prepared.result
    try:
        _guarded(target, prepared, lambda: apply(target, prepared, replaces))
    finally:
        prepared.discard()
    return prepared.result


@dataclass
class Prepared:
    """One incoming file after prepare: its result so far and, when it passed every check of the
    file itself, the checked staging copy and opened container for apply."""

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


def prepare(target: Store, path: Path, *, skip_known: bool = True, replaces: str | None = None) -> Prepared:
    """Everything before the target-dependent decisions: stage the copy, recognise bytes merged
    before, open the container (signature, pinned key, seal), check the file (DESIGN.md §3.1, the
    rules included) and the snapshot against its signed header, migrate an older schema in the
    staging copy. Reads the target but never writes it, so it may run in a worker thread on a
    connection of its own (batch.merge_batch). Errors refuse the file (recorded in the result)."""
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
        opened = open_pack(target, staged, prepared.staging, result, header)
        # The log names the bytes that arrived (a re-merge is known by them), not the snapshot inside.
        checked = check_file(target, opened.inner, digest=container)
        keys.check_inner(opened, checked.site)
        result.sha256 = checked.sha256
        site = checked.site
        prepared.touches.update(("db", o["db_id"]) for o in checked.origins)
        prepared.touches.update(("unit", key[0], key[2]) for key in map(unit_key, [site, *checked.origins]) if key)
        result.db_id, result.level, result.clock, result.packed_at = (
            site["db_id"], site["level"], site["clock"], clean_text(site["packed_at"]))
        result.unit_code = clean_text(site.get(f"{site['level']}_code"))
        result.unit_name = clean_text(site.get(f"{site['level']}_name"))
        migrate_staged(checked)
        prepared.checked, prepared.opened = checked, opened

    try:
        _guarded(target, prepared, steps)
    finally:
        if prepared.checked is None:
            prepared.discard()
    return prepared


def apply(target: Store, prepared: Prepared, replaces: str | None, *,
          schema: str | None = None) -> None:
    """The target-dependent decisions and the merge of one checked file: one file per unit (and
    ``--replaces``), the rows, the key pin. With schema, the file is ATTACHed under that name and
    the caller holds the transaction it shares with other files (batch._apply_batch); else it gets a
    transaction of its own."""
    checked, opened, result = prepared.checked, prepared.opened, prepared.result
    if opened.first_use:
        keys.refuse_first_use_if_known(target, opened.header)
    checked.replacement = one_file_per_unit(target, checked, result.name, replaces)
    if schema is not None:  # a _NotAllNew here rolls the shared transaction back (batch._apply_batch)
        result.counts = _merge_one(target, checked, result.name, StatementSteps(), schema=schema, own_tx=False)
    else:
        try:
            result.counts = _merge_one(target, checked, result.name, StatementSteps())
        except _NotAllNew:
            result.counts = _merge_one(target, checked, result.name, StatementSteps(), fast=False)
    if opened.first_use:
        keys.pin(target, opened.header)
    elif opened.other_file and checked.replacement is not None:
        # The district said this file replaces the unit's old one: that is accepting its key.
        keys.pin(target, opened.header, how="replaces")
        result.new_key = True
    result.notes = _older_parts(target, checked)
    result.ok = True


def _older_parts(target: Store, checked: Checked) -> list[CdtError]:
    """For each divided old commune the pack carries a part of: a note for every new commune that took
    an older state of the old file than another did, so that it is told the old file's last writes
    in its own hamlets are missing here, and how to get them (whichever pack arrives first)."""
    notes = []
    for part_of in sorted({o["part_of"] for o in checked.origins if o.get("part_of")}):
        parts = target.conn.execute(
            "SELECT p.clock, p.unit_name, p.commune_code, n.unit_name, n.commune_code FROM origin p"
            " JOIN replacement r ON r.old_db_id = p.db_id LEFT JOIN origin n ON n.db_id = r.new_db_id"
            " WHERE p.part_of = ? ORDER BY p.clock DESC", (part_of,)).fetchall()
        if len(parts) < 2:
            continue
        latest = parts[0]
        for clock, name, code, unit, _ in parts[1:]:
            if clock < latest[0]:
                notes.append(CdtError("merge.older_part", name=clean_text(name) or "?", code=clean_text(code) or "?",
                                      unit=clean_text(unit) or "?", clock=clock, other=clean_text(latest[3]) or "?",
                                      other_code=clean_text(latest[4]) or "?", other_clock=latest[0]))
    return notes


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
        if is_locked(error):
            raise StoreError("store.in_use", path=str(target.path)) from error
        result.error, result.ok = FileRefused("merge.failed", reason=sqlite_reason(error)), False
    except Exception:  # noqa: BLE001 — one odd file must never sink the batch
        log = log_unexpected(f"cdt merge: {prepared.path}")
        result.error, result.ok = FileRefused("merge.unexpected", log=str(log) if log else "-"), False


def open_pack(target: Store, staged: Path, staging: Path, result: FileResult,
              header: "keys.Header | None" = None) -> "keys.Opened":
    """The pack container first (DESIGN.md §8): signature, pinned key, seal; the snapshot inside
    then goes through every check of §3 like any incoming file."""
    opened = keys.open_incoming(target, staged, staging, header)
    result.signer, result.sealed, result.new_key = opened.fingerprint, opened.sealed, opened.first_use
    return opened
