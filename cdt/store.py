"""The store: one open cdt file, its connection, its clock, and every write to it (DESIGN.md §1–2).

A write of domain rows (``Store.write``) moves the file's logical clock once, stamps each row it
writes with that rev and its hash, journals what it replaced (cdt undo) and links the history
chain; writes nest as savepoints of one transaction. ``Store.local_write`` writes the file's own
bookkeeping without a tick. The schema and its migrations are ``core/schema.py``; row identity and
hashes ``core/rows.py``.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from cdt import __version__, _testing
from cdt.core.errors import NotFound, ReadOnlyRow, StoreError, is_locked, is_read_only
from cdt.core.files import user_data_dir
from cdt.core.rows import REF_LENGTH, chain_link, new_file_id, new_id, now, ref_of, row_hash
from cdt.core.schema import (
    APPLICATION_ID, DATA_COLUMNS, HASH_COLUMNS, JOURNAL_VERSION, LOCAL_TABLES, PERSONAL_FIELDS, ROW_COLUMNS,
    SCHEMA_VERSION, apply_migrations, looks_like_store, read_header,
)

BUSY_TIMEOUT_MS = 3000


def default_db_path() -> Path:
    """The per-user data folder's database: %LOCALAPPDATA%\\cdt on Windows, XDG elsewhere."""
    return user_data_dir() / "cdt.db"


def resolve_db_path(option: str | Path | None) -> Path:
    """The database in use: --db, else CDT_DB, else the per-user data folder."""
    chosen = option or os.environ.get("CDT_DB") or default_db_path()
    return Path(chosen).expanduser()


@dataclass
class Site:
    """The one row of ``site``: what this file is."""

    db_id: str
    level: str
    structure: str
    province_code: str | None
    province_name: str | None
    district_code: str | None
    district_name: str | None
    commune_code: str | None
    commune_name: str | None
    schema_version: int
    clock: int
    created_at: str
    packed_at: str | None
    cdt_version: str | None

    @property
    def unit_code(self) -> str | None:
        return {"commune": self.commune_code, "district": self.district_code}.get(
            self.level, self.province_code
        )

    @property
    def unit_name(self) -> str | None:
        return {"commune": self.commune_name, "district": self.district_name}.get(
            self.level, self.province_name
        )


def connect(path: Path) -> sqlite3.Connection:
    """A connection with cdt's settings: rollback journal, full sync (off in tests: _testing), explicit transactions."""
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite3.Row
    # Rollback journal, not WAL: older SQLite builds bundled with Python on Windows have WAL bugs
    # with concurrent writers, and a clerk's file has one writer (DESIGN.md §4).
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute(f"PRAGMA synchronous = {'FULL' if _testing.syncs_files() else 'OFF'}")
    conn.execute("PRAGMA trusted_schema = OFF")
    return conn


def migrate_copy(path: Path, version: int) -> None:
    """Bring a private copy of a file (a pack's staging copy) from schema ``version`` to ours, in place."""
    if version >= SCHEMA_VERSION:
        return
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("BEGIN IMMEDIATE")
        apply_migrations(conn, version)
        conn.execute("COMMIT")
    finally:
        conn.close()


def refuse_stray_wal(path: Path, header: bytes) -> None:
    """Refuse a store in rollback-journal mode (header bytes 18-19 = 1, as cdt keeps its files) with
    a ``-wal`` file beside it: that WAL is not its own (a copy's, another tool's), and SQLite would
    replay it into the file at the first read. A file switched to WAL mode by another program keeps
    its own WAL, read as SQLite does. A hot ``-journal`` (a crash during a write) is ours, and is
    rolled back."""
    wal = Path(str(path) + "-wal")
    if header[18:20] == b"\x01\x01" and wal.exists():
        raise StoreError("store.stray_wal", path=str(path), wal=wal.name)


def migration_copy(path: Path, version: int) -> Path:
    """Where Store.open keeps a file as it was before migrating it from schema ``version``."""
    return path.with_name(f"{path.name}.v{version}.bak")


class Store:
    """An open cdt database file."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self.conn = conn
        self._tx: Transaction | None = None  # the open write, when one is
        self._savepoints = 0
        self._changeable: frozenset[str] | None = None
        self.site = self._read_site()

    # -- opening and creating ------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: Path,
        *,
        level: str,
        structure: str,
        province: tuple[str | None, str | None] = (None, None),
        district: tuple[str | None, str | None] = (None, None),
        commune: tuple[str | None, str | None] = (None, None),
        db_id: str | None = None,
        clock: int = 0,
        schema_version: int = SCHEMA_VERSION,
        on_create: Callable[[sqlite3.Connection, str], None] | None = None,
    ) -> "Store":
        """Create a new store file; refuses to touch an existing file. ``on_create(connection, level)``
        runs inside the creating transaction: the exchange layer gives the file its key pairs there."""
        path = Path(path)
        if path.exists():
            raise StoreError("store.exists", path=str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = connect(path)
        except sqlite3.Error as error:
            raise StoreError("store.cannot_create", path=str(path), reason=str(error)) from error
        try:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute("PRAGMA journal_mode = DELETE")
            conn.execute("BEGIN IMMEDIATE")
            apply_migrations(conn, 0, schema_version)
            conn.execute(
                "INSERT INTO site (db_id, level, structure, province_code, province_name, district_code,"
                " district_name, commune_code, commune_name, schema_version, clock, created_at, cdt_version)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (db_id or new_file_id(), level, structure, *province, *district, *commune,
                 schema_version, clock, now(), __version__),
            )
            if on_create is not None:
                on_create(conn, level)
            conn.execute("COMMIT")
        except BaseException:
            conn.close()
            path.unlink(missing_ok=True)
            raise
        return cls(path, conn)

    @classmethod
    def open(cls, path: Path, *, migrate: bool = True,
             on_migrate: Callable[[int, int, Path], None] | None = None) -> "Store":
        """Open an existing store, migrating an older schema forward after copying the file aside.
        ``on_migrate(old version, new version, copy)`` is called first: on a large district file
        the copy and the migration take seconds, which the clerk should hear about."""
        path = Path(path)
        if not path.exists():
            raise StoreError("store.missing", path=str(path))
        if not path.is_file():
            raise StoreError("store.not_a_file", path=str(path))
        try:
            header = read_header(path)
        except OSError as error:
            raise StoreError("store.cannot_read", path=str(path), reason=str(error)) from error
        if not looks_like_store(header):
            raise StoreError("store.not_cdt", path=str(path))
        refuse_stray_wal(path, header)
        try:
            # connect() already reads the file (PRAGMA synchronous): another process's EXCLUSIVE
            # lock shows up here, and must read as "in use", not as an unexpected error.
            conn = connect(path)
        except sqlite3.DatabaseError as error:
            if isinstance(error, sqlite3.OperationalError) and is_locked(error):
                raise StoreError("store.in_use", path=str(path)) from error
            raise StoreError("store.corrupt", path=str(path), reason=str(error)) from error
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError("store.too_new", path=str(path), version=version, ours=SCHEMA_VERSION)
            if version < SCHEMA_VERSION and migrate:
                if on_migrate is not None:
                    on_migrate(version, SCHEMA_VERSION, migration_copy(path, version))
                cls._migrate_file(path, conn, version)
            return cls(path, conn)
        except sqlite3.DatabaseError as error:
            conn.close()
            if isinstance(error, sqlite3.OperationalError) and is_locked(error):
                raise StoreError("store.in_use", path=str(path)) from error
            raise StoreError("store.corrupt", path=str(path), reason=str(error)) from error
        except BaseException:
            conn.close()
            raise

    @staticmethod
    def _migrate_file(path: Path, conn: sqlite3.Connection, version: int) -> None:
        target = sqlite3.connect(str(migration_copy(path, version)))
        try:
            conn.backup(target)
        finally:
            target.close()
        # A file older than the keys gets its key pairs when they are first needed (exchange.keys).
        conn.execute("BEGIN IMMEDIATE")
        try:
            apply_migrations(conn, version)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _read_site(self) -> Site:
        row = self.conn.execute("SELECT * FROM site").fetchone()
        if row is None:
            raise StoreError("store.not_cdt", path=str(self.path))
        return Site(**{key: row[key] for key in row.keys()})

    def refresh(self) -> Site:
        """Re-read the site row (after a write transaction moved the clock)."""
        self.site = self._read_site()
        self._changeable = None
        return self.site

    # -- reading ---------------------------------------------------------------------------------

    def query(self, sql: str, params: tuple | dict = ()) -> list[dict]:
        """Rows of a read-only query as dicts."""
        return [dict(row) for row in self.conn.execute(sql, params)]

    def rows(self, table: str, *, include_deleted: bool = False, **equal: Any) -> list[dict]:
        """Rows of a domain table, live ones only unless asked, filtered by equal columns."""
        self._check_table(table)
        clauses = [] if include_deleted else ["deleted = 0"]
        params: list[Any] = []
        for column, value in equal.items():
            if column not in DATA_COLUMNS[table] and column not in ("id", "origin"):
                raise ValueError(f"unknown column {column} of {table}")
            clauses.append(f"{column} = ?")
            params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return self.query(f"SELECT * FROM {table}{where}", tuple(params))

    def get(self, table: str, row_id: str) -> dict | None:
        """One row by id (tombstones included), or None."""
        self._check_table(table)
        row = self.conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
        return dict(row) if row else None

    def count(self, table: str) -> int:
        """Live rows in a domain table."""
        self._check_table(table)
        return self.conn.execute(f"SELECT count(*) FROM {table} WHERE deleted = 0").fetchone()[0]

    def ids_starting(self, table: str, prefix: str) -> list[dict]:
        """Live rows whose short reference (ref_of) starts with prefix, or whose whole id does
        when prefix is longer than a reference (a time-ordered id's first digits are the clock,
        shared by every row written in the same minute: no way to name one row)."""
        self._check_table(table)
        prefix = prefix.lower().replace("%", "").replace("_", "")
        rows = self.query(f"SELECT * FROM {table} WHERE deleted = 0 AND instr(id, ?) > 0", (prefix,))
        return [row for row in rows if ref_of(row["id"]).startswith(prefix)
                or (len(prefix) > REF_LENGTH and row["id"].startswith(prefix))]

    @staticmethod
    def _check_table(table: str) -> None:
        if table not in DATA_COLUMNS:
            raise ValueError(f"not a domain table: {table}")

    # -- settings (local to this file, never merged) ------------------------------------------------

    def settings(self) -> dict[str, str]:
        return {row["key"]: row["value"] for row in self.conn.execute("SELECT key, value FROM setting")}

    def put_setting(self, key: str, value: str) -> None:
        with self.local_write():
            self.conn.execute(
                "INSERT INTO setting (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- writing ---------------------------------------------------------------------------------

    @contextmanager
    def local_write(self) -> Iterator[None]:
        """A write of this file's own bookkeeping, no clock tick: settings, keys, merges, logs. BEGIN
        IMMEDIATE (the file's write lock from the first read to the commit), or a SAVEPOINT when a
        transaction is already open on this connection; rolled back if the block fails."""
        if self.conn.in_transaction:
            with self._savepoint():
                yield
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if is_locked(error):
                raise StoreError("store.in_use", path=str(self.path)) from error
            if is_read_only(error):
                raise StoreError("store.read_only_file", path=str(self.path)) from error
            raise
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def check_writable(self) -> None:
        """Raise StoreError store.in_use now if another program holds this file's write lock (before a
        long job starts, rather than after its first step)."""
        with self.local_write():
            pass

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        # A name per depth: SQLite's savepoints nest by name, like sqlite-utils' atomic().
        self._savepoints += 1
        name = f"cdt_{self._savepoints}"
        self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
            raise
        else:
            self.conn.execute(f"RELEASE {name}")
        finally:
            self._savepoints -= 1

    @contextmanager
    def write(self) -> Iterator["Transaction"]:
        """One write transaction: rows written get rev = clock + 1; the clock and history move once.

        Writes nest: inside an open write, ``write()`` is a SAVEPOINT of the same transaction (as
        sqlite-utils' ``atomic()``), sharing its rev, its one clock tick and its one history link.
        An exception leaving an inner block undoes that block only (rows and their history entries);
        the caller may catch it and go on. One leaving the outer block undoes everything. Rule checks
        run inside the write they protect: BEGIN IMMEDIATE holds the file's write lock from the first
        read of the check to the commit, so two processes cannot both pass "one team per hamlet".
        """
        if self._tx is not None:
            tx = self._tx
            mark = len(tx.rollback_log)  # not a copy of tx.written: that made an import of n rows cost n²
            try:
                with self._savepoint():
                    yield tx
            except BaseException:
                tx.forget_since(mark)
                raise
            return
        with self.local_write():
            self.refuse_if_retired()
            site = self._read_site()
            tx = Transaction(self, site.db_id, site.clock + 1)
            self._tx = tx
            try:
                yield tx
            finally:
                self._tx = None
            if tx.written or tx.local_changed:
                previous = self.conn.execute(
                    "SELECT chain FROM history WHERE origin = ? ORDER BY rev DESC LIMIT 1", (site.db_id,)
                ).fetchone()
                link = chain_link(previous[0] if previous else "", tx.rev, tx.written_list())
                self.conn.execute(
                    "INSERT INTO history (origin, rev, chain) VALUES (?, ?, ?)", (site.db_id, tx.rev, link)
                )
                self.conn.execute("UPDATE site SET clock = ?", (tx.rev,))
        self.refresh()

    # -- regrouped files (cdt init --from, cdt/exchange/regroup.py) --------------------------------

    def changeable_origins(self) -> frozenset[str]:
        """Origins whose rows this file may change: its own, and those of the old communes' files it
        absorbed (``cdt init --from``: a replacement naming this file as the new one). A row of an
        absorbed file that this file changes becomes this file's row (its origin moves here, with
        a rev of this file), and a merge takes that version over the old file's (merge.py)."""
        if self._changeable is None:
            db_id = self.site.db_id
            absorbed = set()
            if self.conn.execute("SELECT 1 FROM sqlite_schema WHERE name = 'replacement'").fetchone():
                absorbed = {row[0] for row in self.conn.execute(
                    "SELECT old_db_id FROM replacement WHERE new_db_id = ?", (db_id,))}
            self._changeable = frozenset({db_id, *absorbed})
        return self._changeable

    def may_change(self, origin: str) -> bool:
        """Whether a row of this origin may be changed here (see changeable_origins)."""
        return origin in self.changeable_origins()

    def retired_into(self) -> dict | None:
        """The file that took this one's place (``cdt init --from``), or None: a retired file takes
        no more writes and no more packs, its data lives on in that file."""
        row = self.conn.execute("SELECT value FROM setting WHERE key = ?", (RETIRED_SETTING,)).fetchone()
        if row is None:
            return None
        try:
            found = json.loads(row[0])
        except ValueError:
            found = None
        return found if isinstance(found, dict) else {"name": "?", "code": "?", "db_id": "?", "path": "?"}

    def refuse_if_retired(self) -> None:
        """Raise StoreError regroup.retired (one line naming the file that replaced this one)."""
        into = self.retired_into()
        if into is not None:
            raise StoreError("regroup.retired", path=str(self.path), name=into.get("name") or "?",
                             code=into.get("code") or "?", db_id=str(into.get("db_id") or "?")[:8],
                             new_path=into.get("path") or "?")


class Transaction:
    """Writes of one transaction; only rows this file created may change (DESIGN.md §2)."""

    def __init__(self, store: Store, db_id: str, rev: int):
        self.store = store
        self.db_id = db_id
        self.rev = rev
        self.written: dict[tuple[str, str], str] = {}
        self.description: str | None = None
        # A file at an older schema (a test's, a staging copy) has no journal to write to.
        self._journal = store.conn.execute("PRAGMA user_version").fetchone()[0] >= JOURNAL_VERSION
        # (key, hash before) per entry of ``written``, so a savepoint rolled back forgets its rows.
        self.rollback_log: list[tuple[tuple[str, str], str | None]] = []
        # A setting or key changed: the write moves the clock (its history link lists no row).
        self.local_changed = False

    def forget_since(self, mark: int) -> None:
        """Take back the rows written since rollback_log[mark] (their savepoint was rolled back)."""
        while len(self.rollback_log) > mark:
            key, before = self.rollback_log.pop()
            if before is None:
                self.written.pop(key, None)
            else:
                self.written[key] = before

    def written_list(self) -> list[tuple[str, str, str]]:
        return [(table, row_id, digest) for (table, row_id), digest in self.written.items()]

    def describe(self, key: str, **params: Any) -> None:
        """Name this write in the local write log (cdt history); without it history derives a name."""
        self.description = json.dumps([key, params], ensure_ascii=False)
        if self._journal:
            self.store.conn.execute("UPDATE write_log SET description = ? WHERE rev = ?",
                                    (self.description, self.rev))

    def _record_previous(self, table: str, row_id: str) -> None:
        """Journal the row as it is before this transaction first changes it (cdt undo).

        Keyed by (rev, table, id) and written with INSERT OR IGNORE in the same SQLite transaction
        as the change: the first state seen in a rev wins, nested writes of one rev included, and a
        rolled-back write (or savepoint) takes its journal lines with it."""
        conn = self.store.conn
        before = conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
        conn.execute("INSERT OR IGNORE INTO write_log (rev, at, description) VALUES (?, ?, ?)",
                     (self.rev, now(), self.description))
        conn.execute(
            "INSERT OR IGNORE INTO undo_journal (rev, table_name, row_id, previous) VALUES (?, ?, ?, ?)",
            (self.rev, table, row_id,
             json.dumps(dict(before), ensure_ascii=False) if before is not None else None),
        )

    def put_local(self, table: str, row: dict) -> None:
        """Insert or replace a row of one of this file's own tables (a setting, a trusted or pinned
        key) as part of this write: journalled for cdt undo like a domain row; never in a pack."""
        keys = LOCAL_KEYS[table]
        self._record_local(table, keys, [row[k] for k in keys])
        columns = list(row)
        self.store.conn.execute(
            f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
            [row[c] for c in columns])
        self.local_changed = True

    def delete_local(self, table: str, key_values: list) -> None:
        """Delete a row of one of this file's own tables as part of this write (journalled)."""
        keys = LOCAL_KEYS[table]
        self._record_local(table, keys, key_values)
        self.store.conn.execute(f"DELETE FROM {table} WHERE {' AND '.join(k + ' = ?' for k in keys)}",
                                list(key_values))
        self.local_changed = True

    def _record_local(self, table: str, keys: tuple[str, ...], key_values: list) -> None:
        if not self._journal:
            return
        conn = self.store.conn
        before = conn.execute(f"SELECT * FROM {table} WHERE {' AND '.join(k + ' = ?' for k in keys)}",
                              list(key_values)).fetchone()
        conn.execute("INSERT OR IGNORE INTO write_log (rev, at, description) VALUES (?, ?, ?)",
                     (self.rev, now(), self.description))
        conn.execute(
            "INSERT OR IGNORE INTO undo_journal (rev, table_name, row_id, previous) VALUES (?, ?, ?, ?)",
            (self.rev, table, json.dumps(list(key_values), ensure_ascii=False),
             json.dumps({k: (v.hex() if isinstance(v, bytes) else v) for k, v in dict(before).items()},
                        ensure_ascii=False) if before is not None else None))

    def _put(self, table: str, row: dict) -> None:
        if self._journal:
            self._record_previous(table, row["id"])
        row["origin"] = self.db_id  # a row of an absorbed file becomes this file's (changeable_origins)
        row["rev"] = self.rev
        row["hash"] = row_hash(table, row)  # after rev: the hash covers it
        columns = ("id", "origin", "rev", "deleted", "hash", *DATA_COLUMNS[table])
        placeholders = ", ".join("?" for _ in columns)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
        self.store.conn.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
            f" ON CONFLICT(id) DO UPDATE SET {updates}",
            tuple(row.get(c) for c in columns),
        )
        key = (table, row["id"])
        self.rollback_log.append((key, self.written.get(key)))
        self.written[key] = row["hash"]

    def insert(self, table: str, values: dict) -> dict:
        """Add a new row created by this file; returns it with its id."""
        Store._check_table(table)
        unknown = set(values) - set(DATA_COLUMNS[table])
        if unknown:
            raise ValueError(f"unknown columns for {table}: {sorted(unknown)}")
        row = {column: values.get(column) for column in DATA_COLUMNS[table]}
        row.update(id=new_id(), origin=self.db_id, deleted=0)
        self._put(table, row)
        return row

    def _owned(self, table: str, row_id: str) -> dict:
        row = self.store.get(table, row_id)
        if row is None or row["deleted"]:
            raise NotFound("store.row_missing", table=table, id=ref_of(row_id))
        if not self.store.may_change(row["origin"]):
            raise ReadOnlyRow("store.read_only")
        return row

    def update(self, table: str, row_id: str, changes: dict) -> dict:
        """Change data columns of a live row this file created."""
        unknown = set(changes) - set(DATA_COLUMNS[table])
        if unknown:
            raise ValueError(f"unknown columns for {table}: {sorted(unknown)}")
        row = self._owned(table, row_id)
        row.update(changes)
        self._put(table, row)
        return row

    def restore(self, table: str, row_id: str, values: dict, deleted: int) -> dict:
        """Write back a row of this file to earlier data values and tombstone flag (cdt undo)."""
        row = self.store.get(table, row_id)
        if row is None:
            raise NotFound("store.row_missing", table=table, id=ref_of(row_id))
        if not self.store.may_change(row["origin"]):
            raise ReadOnlyRow("store.read_only")
        row.update({column: values.get(column) for column in DATA_COLUMNS[table]})
        row["deleted"] = 1 if deleted else 0
        self._put(table, row)
        return row

    def delete(self, table: str, row_id: str) -> dict:
        """Tombstone a row this file created, clearing its personal fields."""
        row = self._owned(table, row_id)
        for field in PERSONAL_FIELDS.get(table, ()):
            row[field] = "" if field == "full_name" else None
        row["deleted"] = 1
        self._put(table, row)
        return row


RETIRED_SETTING = "retired_into"
# This file's own tables a write may change besides domain rows (journalled for undo), by their key.
LOCAL_KEYS: dict[str, tuple[str, ...]] = {
    "setting": ("key",), "upstream_key": ("id",), "pinned_key": ("level", "unit_code", "public_key"),
}  # set in an old commune's file by cdt init --from (cdt/regroup.py)


def strip_local_tables(conn: sqlite3.Connection, live: "Store | None" = None) -> None:
    """Empty this file's local tables in a snapshot before it is hashed: they never travel.

    secure_delete overwrites the freed pages, so the snapshot carries none of their bytes. With
    ``live`` (the store the snapshot was made from), personal fields that the journal still holds
    for rows now removed are erased there too: they stay only until the next pack (DESIGN.md §2)."""
    conn.execute("PRAGMA secure_delete = ON")
    present = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    for table in LOCAL_TABLES:
        if table in present:
            conn.execute(f"DELETE FROM {table}")
    if live is not None:
        _forget_erased(live)


def _forget_erased(store: Store) -> int:
    """Clear personal fields from journal lines of rows that are removed now; returns lines changed."""
    if store.conn.execute("PRAGMA user_version").fetchone()[0] < JOURNAL_VERSION:
        return 0
    changed = 0
    store.conn.execute("PRAGMA secure_delete = ON")
    with store.local_write():
        for table, fields in PERSONAL_FIELDS.items():
            lines = store.conn.execute(
                f"SELECT j.seq, j.previous FROM undo_journal j JOIN {table} r ON r.id = j.row_id"
                " WHERE j.table_name = ? AND r.deleted = 1 AND j.erased = 0 AND j.previous IS NOT NULL",
                (table,),
            ).fetchall()
            for seq, previous in lines:
                values = json.loads(previous)
                for field in fields:
                    values[field] = "" if field == "full_name" else None
                store.conn.execute("UPDATE undo_journal SET previous = ?, erased = 1 WHERE seq = ?",
                                   (json.dumps(values, ensure_ascii=False), seq))
                changed += 1
    return changed


def open_store(path: str | Path | None) -> Store:
    """Open the store at the resolved path (see resolve_db_path)."""
    return Store.open(resolve_db_path(path))


# -- canonical dump (tests and support) -------------------------------------------------------------


def canonical_dump(store_or_conn: Store | sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every domain row, sorted: two files with equal dumps hold the same data."""
    conn = store_or_conn.conn if isinstance(store_or_conn, Store) else store_or_conn
    dump = {table: [tuple(r) for r in conn.execute(
        f"SELECT {', '.join(ROW_COLUMNS[table])} FROM {table} ORDER BY id")] for table in DATA_COLUMNS}
    dump["replacement"] = [tuple(r) for r in conn.execute(
        "SELECT old_db_id, new_db_id, level, unit_code, switch_clock FROM replacement ORDER BY old_db_id")]
    return dump


# The row format a support script needs beside the Store (the table's data columns, what a row hash
# reads, the hash itself) is importable from here too, as it was before the core was split.
__all__ = ["DATA_COLUMNS", "HASH_COLUMNS", "Site", "Store", "Transaction", "canonical_dump", "default_db_path",
           "open_store", "resolve_db_path", "row_hash"]
