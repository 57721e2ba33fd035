"""The store: one SQLite file per unit (commune, district or province), the same schema everywhere.

This module owns the connection, the schema and its numbered migrations, the logical clock, the
history chain and every write to domain rows (DESIGN.md §1–2). Domain rules live in
``register.py``; merging in ``merge.py``; reporting in ``report.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from cdt import __version__
from cdt import _testing
from cdt.core import totals
from cdt.core.errors import CdtError, NotFound, ReadOnlyRow, StoreError

# "CDT1": marks a SQLite file as ours, so a stray SQLite file is never taken for a store.
APPLICATION_ID = 0x43445431
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 3000

# Per domain table: its data columns, in the order the row hash reads them.
# Every domain row also has id, origin, rev, deleted and hash (see DESIGN.md §2).
DATA_COLUMNS: dict[str, tuple[str, ...]] = {
    "hamlet": ("name", "kind", "households", "working_age"),
    "team": ("hamlet_id", "decision_number", "decision_date", "founded_on", "status", "dissolved_on"),
    "member": (
        "team_id", "full_name", "gender", "birth_year", "phone", "role", "affiliation",
        "joined_on", "left_on",
    ),
    "training": ("topic", "date", "organiser", "mode"),
    "training_attendance": ("training_id", "member_id"),
    "visit": ("date", "team_id", "household", "people", "services", "members", "notes"),
    "service": ("code", "name", "aliases"),
    "target": ("indicator", "year", "value", "percent"),
}
DOMAIN_TABLES = tuple(DATA_COLUMNS)
# Fields cleared when a row is removed: an erasure travels upward with the tombstone. A visit's
# notes are free text that may name people, so they go with it.
PERSONAL_FIELDS = {
    "member": ("full_name", "gender", "birth_year", "phone", "affiliation"),
    "visit": ("notes",),
}


def _domain_table(name: str, columns: str) -> str:
    return f"""CREATE TABLE {name} (
    id TEXT PRIMARY KEY,
    origin TEXT NOT NULL,
    rev INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    hash TEXT NOT NULL,
{columns}
)"""


# Each migration is a list of statements; the list index + 1 is the schema version it produces.
# Never edit a migration that has shipped: add a new one.
MIGRATIONS: list[list[str]] = [
    # 1: the register, history, and the district's bookkeeping tables.
    [
        """CREATE TABLE site (
    db_id TEXT PRIMARY KEY,
    level TEXT NOT NULL,
    structure TEXT NOT NULL,
    province_code TEXT,
    province_name TEXT,
    district_code TEXT,
    district_name TEXT,
    commune_code TEXT,
    commune_name TEXT,
    schema_version INTEGER NOT NULL,
    clock INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    packed_at TEXT,
    cdt_version TEXT
)""",
        """CREATE TABLE history (
    origin TEXT NOT NULL,
    rev INTEGER NOT NULL,
    chain TEXT NOT NULL,
    PRIMARY KEY (origin, rev)
)""",
        "CREATE TABLE setting (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        _domain_table("hamlet", "    name TEXT NOT NULL,\n    kind TEXT NOT NULL,\n"
                      "    households INTEGER,\n    working_age INTEGER"),
        _domain_table("team", "    hamlet_id TEXT NOT NULL,\n    decision_number TEXT,\n"
                      "    decision_date TEXT,\n    founded_on TEXT,\n    status TEXT NOT NULL,\n"
                      "    dissolved_on TEXT"),
        _domain_table("member", "    team_id TEXT NOT NULL,\n    full_name TEXT NOT NULL,\n"
                      "    gender TEXT,\n    birth_year INTEGER,\n    phone TEXT,\n    role TEXT NOT NULL,\n"
                      "    affiliation TEXT,\n    joined_on TEXT,\n    left_on TEXT"),
        _domain_table("training", "    topic TEXT NOT NULL,\n    date TEXT NOT NULL,\n"
                      "    organiser TEXT,\n    mode TEXT"),
        _domain_table("training_attendance", "    training_id TEXT NOT NULL,\n    member_id TEXT NOT NULL"),
        _domain_table("visit", "    date TEXT NOT NULL,\n    team_id TEXT NOT NULL,\n"
                      "    household TEXT NOT NULL,\n    people INTEGER NOT NULL,\n"
                      "    services TEXT NOT NULL,\n    members TEXT NOT NULL,\n    notes TEXT"),
        _domain_table("service", "    code TEXT NOT NULL,\n    name TEXT NOT NULL,\n    aliases TEXT NOT NULL"),
        "CREATE INDEX team_hamlet ON team (hamlet_id)",
        "CREATE INDEX member_team ON member (team_id)",
        "CREATE INDEX attendance_training ON training_attendance (training_id)",
        "CREATE INDEX attendance_member ON training_attendance (member_id)",
        "CREATE INDEX visit_date ON visit (date, team_id)",
        "CREATE INDEX visit_team ON visit (team_id)",
        """CREATE TABLE merge_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    file_name TEXT NOT NULL,
    sha256 TEXT,
    db_id TEXT,
    level TEXT,
    unit_code TEXT,
    unit_name TEXT,
    packed_at TEXT,
    clock INTEGER,
    schema_version INTEGER,
    counts TEXT,
    outcome TEXT NOT NULL,
    reason TEXT,
    merged_at TEXT NOT NULL,
    cdt_version TEXT
)""",
        """CREATE TABLE origin (
    db_id TEXT PRIMARY KEY,
    level TEXT NOT NULL,
    structure TEXT NOT NULL,
    province_code TEXT,
    district_code TEXT,
    commune_code TEXT,
    unit_name TEXT,
    clock INTEGER NOT NULL DEFAULT 0,
    packed_at TEXT,
    merged_at TEXT
)""",
        # Rows held back by a merge (merge.py): a fork's other branch (kind 'fork', keyed by the
        # origin, the first divergent rev and the held branch's chain there), or a row whose id
        # is already used by another origin or whose rev equals ours with other content
        # (kind 'row', fork_rev = its rev, branch = its hash). id is a local number for people.
        """CREATE TABLE conflict (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    origin TEXT NOT NULL,
    fork_rev INTEGER NOT NULL,
    branch TEXT NOT NULL,
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    rev INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    hash TEXT NOT NULL,
    row_data TEXT NOT NULL,
    source TEXT,
    detected_at TEXT NOT NULL,
    resolved_at TEXT,
    resolution TEXT,
    UNIQUE (kind, origin, fork_rev, branch, table_name, row_id)
)""",
        # History links of a held branch, so taking that branch later restores its chain.
        """CREATE TABLE held_history (
    origin TEXT NOT NULL,
    fork_rev INTEGER NOT NULL,
    branch TEXT NOT NULL,
    rev INTEGER NOT NULL,
    chain TEXT NOT NULL,
    PRIMARY KEY (origin, rev, chain)
)""",
        # A person's choice between two branches of one origin (cdt conflicts resolve).
        """CREATE TABLE branch_choice (
    origin TEXT NOT NULL,
    fork_rev INTEGER NOT NULL,
    chain TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    PRIMARY KEY (origin, fork_rev)
)""",
    ],
    # 2: yearly targets (indicator, year, value) for the progress columns of the reports.
    [
        _domain_table("target", "    indicator TEXT NOT NULL,\n    year INTEGER NOT NULL,\n"
                      "    value REAL NOT NULL,\n    percent INTEGER NOT NULL DEFAULT 0"),
    ],
    # 3: one file per unit (issue 9). A district's decision that a new file replaces an old one for
    # the same unit (cdt merge --replaces): the unit's register comes from the new file, the old
    # file's rows up to switch_clock still count, its later rows are held. Merged upward insert-only.
    [
        """CREATE TABLE replacement (
    old_db_id TEXT PRIMARY KEY,
    new_db_id TEXT NOT NULL,
    level TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    switch_clock INTEGER NOT NULL,
    decided_at TEXT NOT NULL
)""",
    ],
    # 4: keys (DESIGN.md §8, cdt/keys.py). own_key holds this file's private keys: it lives in the
    # database so that a copied file keeps its identity, and cdt pack empties it in every snapshot
    # (secure_delete), so no pack, extract or export ever carries it. pinned_key: the signing keys
    # of the units whose packs this file merged (trust on first use, replaced by cdt key accept).
    # upstream_key: the district's (or province's) key this file seals its packs to (cdt key trust).
    [
        """CREATE TABLE own_key (
    kind TEXT PRIMARY KEY,
    secret BLOB NOT NULL,
    public BLOB NOT NULL,
    created_at TEXT NOT NULL
)""",
        """CREATE TABLE pinned_key (
    level TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    public_key TEXT NOT NULL,
    db_id TEXT,
    unit_name TEXT,
    pinned_at TEXT NOT NULL,
    how TEXT NOT NULL,
    retired_at TEXT,
    PRIMARY KEY (level, unit_code, public_key)
)""",
        """CREATE TABLE upstream_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    level TEXT NOT NULL,
    unit_code TEXT,
    unit_name TEXT,
    db_id TEXT,
    sign_key TEXT NOT NULL,
    seal_key TEXT NOT NULL,
    trusted_at TEXT NOT NULL
)""",
    ],
    # 5: issue 11: the local write log and undo journal (cdt history, cdt undo). Local to this file:
    # a pack empties them (strip_local_tables), so they never travel. write_log has one row per write
    # transaction of this file (its rev, the local time, an optional description as JSON [key,
    # params]); undo_journal has, per rev, each row that transaction wrote as it was before (all its
    # columns as JSON), or NULL when the row did not exist. erased = 1 once a pack has cleared the
    # personal fields kept there for a row that is now removed (DESIGN.md §2).
    [
        """CREATE TABLE write_log (
    rev INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    description TEXT
)""",
        """CREATE TABLE undo_journal (
    seq INTEGER PRIMARY KEY,
    rev INTEGER NOT NULL,
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    previous TEXT,
    erased INTEGER NOT NULL DEFAULT 0,
    UNIQUE (rev, table_name, row_id)
)""",
        "CREATE INDEX undo_journal_row ON undo_journal (table_name, row_id, rev)",
    ],
    # 6: issue 12: totals of the visits per origin and month, kept exact by triggers on visit
    # (the district and province reports read them): cdt/totals.py.
    totals.MIGRATION,
    # 7: issue 12: one index on visit, (team, date), instead of (date, team) and (team). Nothing
    # reads visits by date across teams through an index (the reports scan or read the totals),
    # and a pack's visits, a year of dates, landed all over the (date, team) index: inserting a
    # pack's rows into a district file of 115 MB cost 220 ms with it, 115 ms with this one (the
    # pack's visits fall in its own teams' stretches of the index, whatever the size of the file).
    [
        "DROP INDEX visit_date",
        "DROP INDEX visit_team",
        "CREATE INDEX visit_team_date ON visit (team_id, date)",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)
TOTALS_VERSION = 6  # the schema version that brings the totals (cdt/totals.py)
KEYS_VERSION = 4  # the schema version that brings own_key, pinned_key and upstream_key


def tables_at(version: int) -> tuple[str, ...]:
    """Domain tables that exist at a schema version (older packs lack the newer ones)."""
    return DOMAIN_TABLES if version >= 2 else tuple(t for t in DOMAIN_TABLES if t != "target")


def now() -> str:
    """Local wall-clock time for display fields only; nothing is ever ordered by it."""
    return datetime.now().replace(microsecond=0).isoformat()


def new_id() -> str:
    """A new row's identity: time-ordered (UUIDv7's layout: milliseconds since 1970, then 74
    random bits). The order carries no meaning (DESIGN.md §2): nothing sorts or decides by it. It
    keeps the rows a file writes in a month next to each other in every id index, so merging a
    month's pack touches the end of the district's indexes instead of pages all over them (with
    random ids the cost of each pack grew with the size of the district file)."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = ((millis & (2**48 - 1)) << 80 | 0x7 << 76 | (rand >> 68) << 64   # version 7, 12 random bits
             | 0b10 << 62 | (rand & (2**62 - 1)))                          # variant, 62 random bits
    return str(uuid.UUID(int=value))


def new_file_id() -> str:
    """A new file's identity (random: a file's id is shown by its first 8 digits)."""
    return str(uuid.uuid4())


# The short reference lists show for a row, and that commands accept for it.
REF_LENGTH = 8


def ref_of(row_id: str) -> str:
    """A row's short reference: the first 8 hex digits of a random id (UUID4, every row before
    schema 7's time-ordered ids), the last 8 of a time-ordered one (its first ones are the clock,
    shared by every row written in the same minute). Either way 32 random bits."""
    if len(row_id) == 36 and row_id[14] == "7":
        return row_id[-REF_LENGTH:]
    return row_id[:REF_LENGTH]


# The values a row hash reads, in order: identity, version, data columns, tombstone flag.
HASH_COLUMNS: dict[str, tuple[str, ...]] = {
    table: ("id", "origin", "rev", *columns, "deleted") for table, columns in DATA_COLUMNS.items()
}


# One encoder for every hash: json.dumps with options builds a new encoder per call, and the merge
# hashes every incoming row (it was a fifth of a merge's time).
_CANONICAL_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def hash_values(values: Iterable[Any]) -> str:
    """The hash of a row given as its HASH_COLUMNS values in order (a dict's or a query's tuple).

    Values are hashed as SQLite gives them back: True is 1, and 500.0 in a REAL column is 500, so a
    hash recomputed from a stored row (the merge checks every incoming row) matches the one made
    at write time."""
    canonical = [
        int(value) if (value.__class__ is float and value.is_integer()) or value.__class__ is bool else value
        for value in values
    ]
    canonical[-1] = 1 if canonical[-1] else 0
    return hashlib.sha256(_CANONICAL_JSON.encode(canonical).encode("utf-8")).hexdigest()


def row_hash(table: str, row: dict) -> str:
    """Hash of a row in canonical JSON (DESIGN.md §2): its identity (id, origin), its version (rev),
    its data columns and tombstone flag. The one definition, used at write time and by the merge's
    recheck of every incoming row: a changed byte anywhere in a row, rev included, is caught."""
    return hash_values(row.get(column) for column in HASH_COLUMNS[table])


def chain_link(previous: str, rev: int, written: list[tuple[str, str, str]]) -> str:
    """The next history chain value: sha256(previous ‖ rev ‖ sorted (table, id, hash))."""
    body = json.dumps(sorted(written), separators=(",", ":"))
    return hashlib.sha256(f"{previous}|{rev}|{body}".encode("utf-8")).hexdigest()


def default_db_path() -> Path:
    """The per-user data folder's database: %LOCALAPPDATA%\\cdt on Windows, XDG elsewhere."""
    from cdt.core.files import user_data_dir

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
    conn.execute(f"PRAGMA synchronous = {_testing.sync_mode()}")
    conn.execute("PRAGMA trusted_schema = OFF")
    return conn


def _is_locked(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


def read_header(path: Path) -> bytes:
    """The first 100 bytes of a file (the SQLite header), or fewer for a short file."""
    with open(path, "rb") as handle:
        return handle.read(100)


def looks_like_store(header: bytes) -> bool:
    """True when a file header is SQLite's and carries cdt's application id."""
    return (
        len(header) >= 100
        and header[:16] == SQLITE_HEADER
        and int.from_bytes(header[68:72], "big") == APPLICATION_ID
    )


def apply_migrations(conn: sqlite3.Connection, start: int, stop: int = SCHEMA_VERSION) -> None:
    """Run migrations start+1 … stop on an open transaction, and record the new version."""
    for version in range(start + 1, stop + 1):
        for statement in MIGRATIONS[version - 1]:
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {stop}")
    if start > 0:
        conn.execute("UPDATE site SET schema_version = ?", (stop,))


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
    ) -> "Store":
        """Create a new store file; refuses to touch an existing file."""
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
            if schema_version >= KEYS_VERSION:
                from cdt.exchange.keys import insert_new_keys

                insert_new_keys(conn, level)
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
            if isinstance(error, sqlite3.OperationalError) and _is_locked(error):
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
            if isinstance(error, sqlite3.OperationalError) and _is_locked(error):
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
        conn.execute("BEGIN IMMEDIATE")
        try:
            apply_migrations(conn, version)
            if version < KEYS_VERSION <= SCHEMA_VERSION:
                # An existing file gets its keys the first time a cdt that knows keys opens it.
                from cdt.exchange.keys import insert_new_keys

                insert_new_keys(conn, conn.execute("SELECT level FROM site").fetchone()[0])
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
        with self._immediate():
            self.conn.execute(
                "INSERT INTO setting (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- writing ---------------------------------------------------------------------------------

    @contextmanager
    def _immediate(self) -> Iterator[None]:
        """BEGIN IMMEDIATE, or a SAVEPOINT when a transaction is already open on this connection."""
        if self.conn.in_transaction:
            with self._savepoint():
                yield
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if _is_locked(error):
                raise StoreError("store.in_use", path=str(self.path)) from error
            raise
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

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
        with self._immediate():
            self.refuse_if_retired()
            site = self._read_site()
            tx = Transaction(self, site.db_id, site.clock + 1)
            self._tx = tx
            try:
                yield tx
            finally:
                self._tx = None
            if tx.written:
                previous = self.conn.execute(
                    "SELECT chain FROM history WHERE origin = ? ORDER BY rev DESC LIMIT 1", (site.db_id,)
                ).fetchone()
                link = chain_link(previous[0] if previous else "", tx.rev, tx.written_list())
                self.conn.execute(
                    "INSERT INTO history (origin, rev, chain) VALUES (?, ?, ?)", (site.db_id, tx.rev, link)
                )
                self.conn.execute("UPDATE site SET clock = ?", (tx.rev,))
        self.refresh()

    # -- regrouped files (issue 13 item 6, cdt/regroup.py) -------------------------------------------

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

    @property
    def in_write(self) -> bool:
        """True inside ``write()`` (a nested call is a savepoint of the open transaction)."""
        return self._tx is not None


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


JOURNAL_VERSION = 5  # the migration that made write_log and undo_journal
RETIRED_SETTING = "retired_into"  # set in an old commune's file by cdt init --from (cdt/regroup.py)
LOCAL_TABLES = ("write_log", "undo_journal")  # never in a pack


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
    with store._immediate():
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


__all__ = [
    "APPLICATION_ID", "CdtError", "DATA_COLUMNS", "DOMAIN_TABLES", "SCHEMA_VERSION", "Site", "Store",
    "Transaction", "chain_link", "default_db_path", "open_store", "resolve_db_path", "row_hash",
]
