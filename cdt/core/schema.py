"""The schema of a cdt file: its tables, the numbered migrations that build them, how a file is known as cdt's.

A commune file, a district file and a province file have the same schema; only their contents
differ (DESIGN.md §1). Each migration is a list of statements; the list index + 1 is the schema
version it produces. Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache
from pathlib import Path

from cdt.core import totals


# "CDT1": marks a SQLite file as ours, so a stray SQLite file is never taken for a store.
APPLICATION_ID = 0x43445431


SQLITE_HEADER = b"SQLite format 3\x00"


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
    # 3: one file per unit. A district's decision that a new file replaces an old one for
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
    # 5: the local write log and undo journal (cdt history, cdt undo). Local to this file:
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
    # 6: totals of the visits per origin and month, kept exact by triggers on visit
    # (the district and province reports read them): cdt/core/totals.py.
    totals.MIGRATION,
    # 7: one index on visit, (team, date), instead of (date, team) and (team). Nothing reads visits
    # by date across teams through an index (the reports scan or read the totals), and a pack's
    # visits, a year of dates, landed all over the (date, team) index; in the (team, date) index a
    # pack's visits fall in its own teams' stretches, whatever the size of the file.
    [
        "DROP INDEX visit_date",
        "DROP INDEX visit_team",
        "CREATE INDEX visit_team_date ON visit (team_id, date)",
    ],
    # 8: a part of an old commune's file: a legacy commune divided between 2025 communes goes to
    # each in part (cdt init --from … --hamlet), a file of its own whose origin names the old file.
    [
        "ALTER TABLE origin ADD COLUMN part_of TEXT",
    ],
]


SCHEMA_VERSION = len(MIGRATIONS)


TOTALS_VERSION = 6  # the schema version that brings the totals (cdt/totals.py)


KEYS_VERSION = 4  # the schema version that brings own_key, pinned_key and upstream_key


def tables_at(version: int) -> tuple[str, ...]:
    """Domain tables that exist at a schema version (older packs lack the newer ones)."""
    return DOMAIN_TABLES if version >= 2 else tuple(t for t in DOMAIN_TABLES if t != "target")


# The values a row hash reads, in order: identity, version, data columns, tombstone flag.
HASH_COLUMNS: dict[str, tuple[str, ...]] = {
    table: ("id", "origin", "rev", *columns, "deleted") for table, columns in DATA_COLUMNS.items()
}


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


@lru_cache(maxsize=None)
def reference_schema(version: int) -> list[tuple]:
    """The exact sqlite_schema (type, name, table, SQL) that a file of schema ``version`` has: what an
    incoming pack's schema must equal (anything else could fake rows or run code)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        conn.execute("BEGIN")
        apply_migrations(conn, 0, version)
        conn.execute("COMMIT")
        return sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_schema").fetchall(), key=repr)
    finally:
        conn.close()


JOURNAL_VERSION = 5  # the migration that made write_log and undo_journal


# Tables that never travel in a pack: this file's write log and undo journal, and the rows a merge
# held back (another branch's rows, with the personal data they carry: a level above decides from
# its own merges, and a person's choice travels as branch_choice).
LOCAL_TABLES = ("write_log", "undo_journal", "conflict", "held_history")


# Every column of a domain row, in the order a merge moves it: the row's bookkeeping, then its data.
ROW_COLUMNS = {table: ("id", "origin", "rev", "deleted", "hash", *cols) for table, cols in DATA_COLUMNS.items()}
