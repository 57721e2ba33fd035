"""The private copy that cdt browse serves: read from the file without writing it, private data out, views in.

The officer's file is read once, through a read-only connection, into a private scratch folder
(``VACUUM INTO``, as a pack's snapshot is made: consistent, compact); it is never opened for writing,
and the web server reads only the copy, opened immutable. In the copy:

- what never leaves its machine, or says nothing to a reader, is dropped: the keys (own, pinned,
  upstream), the write log and undo journal, the history chains and the totals kept for the merge
  (with their triggers); the conflict table keeps its bookkeeping, not the rows it holds;
- personal fields go unless the officer asks for them (``--personal``): phones, visit notes and
  household codes (replaced by numbers, one per code, so distinct households count the same).
  Member names and birth years show on a commune's own file, where the clerk's lists show them,
  and above it only where the setting ``browse_member_names`` says so;
- helper tables (``cdt_*``) say which unit each row belongs to (``figures.buckets``, the report's one
  place), which units are expected, the services by name and each list of services parsed once;
- views named in the run's language show each table as an officer reads it.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from cdt.core import files
from cdt.core.errors import StoreError, is_locked
from cdt.core.i18n import t
from cdt.core.schema import SCHEMA_VERSION, looks_like_store, read_header
from cdt.core.text import fold, vi_key
from cdt.domain import units
from cdt.domain.indicators import TARGET_INDICATORS
from cdt.domain.kinds import HAMLET_KINDS, kind_label
from cdt.domain.parsers import GENDERS, ROLES, TEAM_STATUSES, TRAINING_MODES
from cdt.domain.services import service_catalogue
from cdt.register.settings import settings
from cdt.reports.figures import buckets, commune_of_origin, load_buckets, service_codes
from cdt.store import BUSY_TIMEOUT_MS, Store, migrate_copy, refuse_stray_wal

# Tables that never leave their machine (keys, the undo journal and write log) or that say nothing
# an officer reads (history chains, the merge's kept totals and held branches): not in the copy.
DROPPED_TABLES = ("own_key", "pinned_key", "upstream_key", "write_log", "undo_journal", "history",
                  "held_history", "branch_choice", "total_visit", "total_household", "total_reach",
                  "total_pause")

# The file's tables as they stay in the copy: hidden from the lists (the views show them), open to
# the canned queries and to SQL.
RAW_TABLES = ("site", "setting", "hamlet", "team", "member", "training", "training_attendance", "visit",
              "service", "target", "merge_log", "origin", "conflict", "replacement")

# The helper tables this module adds.
HELPER_TABLES = ("cdt_bucket", "cdt_origin", "cdt_replaced", "cdt_unit", "cdt_service", "cdt_service_list",
                 "cdt_service_code", "cdt_label")

# Where no unit is known for a row (a removed hamlet's visits, a file of no commune).
NO_UNIT = ""


@dataclass
class View:
    """One table as the officer reads it: a view of the copy with its name, description and columns."""

    key: str  # what it shows (hamlet, team, …), stable across languages
    name: str
    description: str
    columns: dict[str, str]  # column name → its description (empty when the name says it all)
    sql: str
    count_sql: str  # counts its rows without building them
    facets: list = field(default_factory=list)


@dataclass
class Copy:
    """The copy being served and what it shows."""

    path: Path
    job: Path  # its scratch folder, removed when browsing ends
    source: Path
    level: str
    structure: str
    unit_name: str
    by_hamlet: bool  # a commune's own file: rows are its hamlets
    unit_levels: tuple[str, ...]  # the levels named beside each row, from the commune up
    personal: bool
    names: bool
    merges: bool  # the file has merged others' packs
    views: list[View]


# -- reading the file without writing it ------------------------------------------------------------


def database_name(source: Path) -> str:
    """The name the copy goes by in the browser's addresses: the file's name in plain letters."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(source.stem).replace("đ", "d")).strip("-")
    return slug[:40] or "cdt"


def _snapshot(source: Path, copy: Path) -> int:
    """Copy a cdt file through a read-only connection; its schema version. The file is not written."""
    if not source.exists():
        raise StoreError("store.missing", path=str(source))
    if not source.is_file():
        raise StoreError("store.not_a_file", path=str(source))
    try:
        header = read_header(source)
    except OSError as error:
        raise StoreError("store.cannot_read", path=str(source), reason=str(error)) from error
    if not looks_like_store(header):
        raise StoreError("store.not_cdt", path=str(source))
    refuse_stray_wal(source, header)
    try:
        conn = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as error:
        raise StoreError("store.cannot_read", path=str(source), reason=str(error)) from error
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError("store.too_new", path=str(source), version=version, ours=SCHEMA_VERSION)
        conn.execute("VACUUM INTO ?", (str(copy),))
        return version
    except sqlite3.DatabaseError as error:
        if isinstance(error, sqlite3.OperationalError) and is_locked(error):
            raise StoreError("store.in_use", path=str(source)) from error
        raise StoreError("store.corrupt", path=str(source), reason=str(error)) from error
    finally:
        conn.close()


def make_copy(source: Path, *, personal: bool = False) -> Copy:
    """The shaped private copy of a cdt file, in a new scratch folder (the caller removes ``job``)."""
    source = Path(source)
    job = files.make("browse")
    try:
        path = job / f"{database_name(source)}.db"
        version = _snapshot(source, path)
        migrate_copy(path, version)
        store = Store.open(path, migrate=False)
        try:
            return _shape(store, source, job, personal=personal)
        finally:
            store.close()
    except BaseException:
        files.remove(job)
        raise


# -- shaping the copy ---------------------------------------------------------------------------------


def _levels_named(site_level: str, structure: str) -> tuple[str, ...]:
    """The units named beside a row, from the commune up to the level below the file's own: a
    district names the commune, a pre-2025 province the commune and its district, a file of a
    level above the province every level below it."""
    chain = ["commune"] + (["district"] if structure == units.LEGACY else []) + ["province"]
    if site_level == "commune":
        return ()
    if site_level in chain:
        return tuple(chain[:chain.index(site_level)])
    return tuple(chain)


def names_shown(store: Store, personal: bool) -> bool:
    """Whether member names (and birth years) show: with --personal, on a commune's own file (its
    clerk's lists show them), and above it where the setting browse_member_names is true."""
    return personal or store.site.level == "commune" or settings(store)["browse_member_names"] == "true"


def _shape(store: Store, source: Path, job: Path, *, personal: bool) -> Copy:
    conn = store.conn
    site = store.site
    # The copy is private and rebuilt at every start: no journal, no syncs.
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA secure_delete = ON")
    by_hamlet = site.level == "commune"
    names = names_shown(store, personal)
    levels = _levels_named(site.level, site.structure)
    # A file that holds other files' rows (a district's, a province's) also shows its units, the packs
    # merged and the conflicts.
    merges = bool(conn.execute("SELECT EXISTS (SELECT 1 FROM origin) OR EXISTS (SELECT 1 FROM merge_log)").fetchone()[0])
    _helpers(store, by_hamlet)
    for (name,) in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'trigger'").fetchall():
        conn.execute(f'DROP TRIGGER "{name}"')
    for table in DROPPED_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    _scrub(conn, personal=personal, names=names)
    conn.create_collation("vi", compare_vi)
    views = build_views(levels=levels, personal=personal, names=names, merges=merges, by_hamlet=by_hamlet)
    for view in views:
        conn.execute(f"CREATE VIEW {quoted(view.name)} AS {view.sql}")
    return Copy(path=Path(store.path), job=job, source=source, level=site.level, structure=site.structure,
                unit_name=site.unit_name or "", by_hamlet=by_hamlet, unit_levels=levels, personal=personal,
                names=names, merges=merges, views=views)


def _scrub(conn: sqlite3.Connection, *, personal: bool, names: bool) -> None:
    """Take out what the officer did not ask to see."""
    conn.execute("UPDATE conflict SET row_data = ''")
    if not names:
        conn.execute("UPDATE member SET full_name = '', birth_year = NULL")
    if personal:
        return
    conn.execute("UPDATE member SET phone = NULL")
    conn.execute("UPDATE visit SET notes = NULL")
    # One number per household code, in no order the codes could be read from: distinct households
    # count as before, and no code is shown.
    conn.execute("CREATE TEMP TABLE browse_household AS SELECT household,"
                 " row_number() OVER (ORDER BY random()) AS number FROM (SELECT DISTINCT household FROM visit)")
    conn.execute("CREATE UNIQUE INDEX temp.browse_household_code ON browse_household (household)")
    conn.execute("UPDATE visit SET household = (SELECT CAST(number AS TEXT) FROM temp.browse_household h"
                 " WHERE h.household = visit.household)")
    conn.execute("DROP TABLE temp.browse_household")


def _helpers(store: Store, by_hamlet: bool) -> None:
    """The cdt_* tables: which unit each row belongs to, the units, the services, the words shown."""
    conn = store.conn
    site = store.site
    mapping, seen = buckets(store, "hamlet" if by_hamlet else "commune")
    load_buckets(store, mapping)  # the report's temp tables, kept in the copy
    conn.execute("CREATE TABLE cdt_bucket AS SELECT bucket, unit FROM temp.report_bucket")
    conn.execute("CREATE UNIQUE INDEX cdt_bucket_key ON cdt_bucket (bucket)")
    conn.execute("CREATE TABLE cdt_replaced AS SELECT origin FROM temp.report_replaced")

    of_origin = commune_of_origin(store)
    conn.execute("CREATE TABLE cdt_origin (origin TEXT PRIMARY KEY, commune TEXT, name TEXT,"
                 " district TEXT, province TEXT)")
    origins = {row[0] for table in ("hamlet", "team", "member", "training", "visit", "service", "target")
               for row in conn.execute(f"SELECT DISTINCT origin FROM {table}")}
    origins |= {row[0] for row in conn.execute("SELECT db_id FROM origin")}
    known = {row["db_id"]: row for row in store.query("SELECT * FROM origin")}
    rows = []
    for origin in sorted(origins):
        code, name, district, structure = of_origin.get(origin, (None, None, None, None))
        unit = units.get(code, level="commune", structure=structure) \
            if code and structure in units.STRUCTURES else None
        if origin == site.db_id and code is None:
            name = site.unit_name
        elif code is None:
            name = (known.get(origin) or {}).get("unit_name") or origin[:8]
        rows.append((origin, code, (unit.name if unit else name) or code,
                     unit.district_name if unit else None, unit.province_name if unit else None))
    conn.executemany("INSERT INTO cdt_origin VALUES (?, ?, ?, ?, ?)", rows)

    conn.execute("CREATE TABLE cdt_unit (code TEXT PRIMARY KEY, name TEXT NOT NULL, district TEXT, province TEXT,"
                 " expected INTEGER NOT NULL, sort INTEGER NOT NULL)")
    conn.executemany("INSERT INTO cdt_unit VALUES (?, ?, ?, ?, ?, 0)", _units(store, by_hamlet, seen))
    # The report's order: hamlets by name, communes by their official code (a commune's own file
    # has only its hamlets), the rows of no unit last.
    order = sorted(conn.execute("SELECT code, name FROM cdt_unit").fetchall(),
                   key=lambda row: (row[0] == NO_UNIT, vi_key(row[1] or "") if by_hamlet else row[0]))
    conn.executemany("UPDATE cdt_unit SET sort = ? WHERE code = ?", [(n, row[0]) for n, row in enumerate(order)])

    catalogue = service_catalogue(store)
    conn.execute("CREATE TABLE cdt_service (code TEXT PRIMARY KEY, name TEXT NOT NULL, aliases TEXT,"
                 " national INTEGER NOT NULL, sort INTEGER NOT NULL)")
    conn.executemany("INSERT INTO cdt_service VALUES (?, ?, ?, ?, ?)",
                     [(s["code"], s["name"], ", ".join(s["aliases"]), int(s["national"]), n)
                      for n, s in enumerate(catalogue)])
    rank = {s["code"]: n for n, s in enumerate(catalogue)}
    name_of = {s["code"]: s["name"] for s in catalogue}
    conn.execute("CREATE TABLE cdt_service_list (services TEXT PRIMARY KEY, names TEXT NOT NULL)")
    conn.execute("CREATE TABLE cdt_service_code (services TEXT NOT NULL, code TEXT NOT NULL,"
                 " PRIMARY KEY (services, code))")
    lists, codes = [], []
    for (services,) in conn.execute("SELECT DISTINCT services FROM visit").fetchall():
        found = sorted(service_codes(services), key=lambda code: (rank.get(code, len(rank)), code))
        lists.append((services, json.dumps([name_of.get(code, code) for code in found], ensure_ascii=False)))
        codes.extend((services, code) for code in found)
    conn.executemany("INSERT INTO cdt_service_list VALUES (?, ?)", lists)
    conn.executemany("INSERT INTO cdt_service_code VALUES (?, ?)", codes)

    conn.execute("CREATE TABLE cdt_label (domain TEXT NOT NULL, value TEXT NOT NULL, label TEXT NOT NULL,"
                 " PRIMARY KEY (domain, value))")
    conn.executemany("INSERT INTO cdt_label VALUES (?, ?, ?)", _labels())


def _units(store: Store, by_hamlet: bool, seen: dict[str, dict]) -> list[tuple]:
    """(code, name, district, province, expected) of each unit a row of the report stands for."""
    site = store.site
    if by_hamlet:
        found = [(row["id"], row["name"], None, None, 1)
                 for row in store.query("SELECT id, name FROM hamlet WHERE deleted = 0")]
        return found + [(NO_UNIT, t("browse.no_unit"), None, None, 0)]
    structure = site.structure if site.structure in units.STRUCTURES else units.LEGACY
    own = units.get(site.unit_code, level=site.level, structure=structure) \
        if site.unit_code and site.level in units.LEVELS and site.level != "commune" else None
    expected = {u.code: u for u in units.communes_in(own)} if own else {}
    found = {code: (code, u.name, u.district_name, u.province_name, 1) for code, u in expected.items()}
    for code, unit in seen.items():
        if code not in found:
            known = units.get(code, level="commune", structure=structure)
            found[code] = (code, known.name if known else unit["name"], known.district_name if known else None,
                           known.province_name if known else None, 0)
    return list(found.values()) + [(NO_UNIT, t("browse.no_unit"), None, None, 0)]


def _labels() -> list[tuple[str, str, str]]:
    """The words shown for stored codes, in the run's language."""
    found = [("kind", kind, kind_label(kind)) for kind in HAMLET_KINDS]
    found += [("role", role, t(f"role.{role}")) for role in ROLES]
    found += [("gender", gender, t(f"gender.{gender}")) for gender in GENDERS]
    found += [("mode", mode, t(f"mode.{mode}")) for mode in TRAINING_MODES]
    found += [("status", status, t(f"status.{status}")) for status in TEAM_STATUSES]
    found += [("indicator", key, t(f"report.ind.{key}")) for key in TARGET_INDICATORS]
    found += [("yes", "1", t("report.yes")), ("yes", "0", t("report.no"))]
    found += [("outcome", outcome, t(f"browse.outcome.{outcome}")) for outcome in ("merged", "refused")]
    found += [("conflict", kind, t(f"browse.conflict.{kind}")) for kind in ("fork", "row")]
    found += [("table", table, t(f"table.{table}")) for table in
              ("hamlet", "team", "member", "training", "training_attendance", "visit", "service", "target")]
    return found


def compare_vi(left: str, right: str) -> int:
    """Vietnamese alphabetical order (đ after d, tones after the bare letter), for ORDER BY … COLLATE vi."""
    a, b = vi_key(left or ""), vi_key(right or "")
    return (a > b) - (a < b)


def quoted(name: str) -> str:
    """An SQL identifier in double quotes (the views' names and columns are the run language's words)."""
    return '"' + name.replace('"', '""') + '"'


def sql_text(text: str) -> str:
    """An SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


# -- the views ----------------------------------------------------------------------------------------


def unit_columns(levels: tuple[str, ...], alias: str = "o") -> list[str]:
    """The select list naming a row's commune and the levels above it (cdt_origin, as ``alias``)."""
    source = {"commune": "name", "district": "district", "province": "province"}
    return [f"{alias}.{source[level]} AS {quoted(t(f'browse.col.{level}'))}" for level in levels]


def _select(columns: list[str]) -> str:
    return ",\n  ".join(columns)


def build_views(*, levels: tuple[str, ...], personal: bool, names: bool, merges: bool,
                by_hamlet: bool) -> list[View]:
    """Every view, in the order the officer meets them."""
    c = {key: t(f"browse.col.{key}") for key in (
        "name", "kind", "households", "working_age", "has_team", "ref", "hamlet", "decision", "decided_on",
        "founded_on", "status", "dissolved_on", "members_now", "full_name", "gender", "birth_year", "role",
        "affiliation", "joined_on", "left_on", "trainings", "phone", "topic", "date", "organiser", "mode",
        "attendees", "household", "people", "services", "members_present", "notes", "code", "aliases",
        "national", "indicator", "year", "value", "percent", "file", "unit", "packed_at", "merged_at",
        "outcome", "reason", "conflict_kind", "table", "row_ref", "detected_at", "resolved_at", "resolution",
        "unit_level", "origin_unit")}
    q = {key: quoted(value) for key, value in c.items()}
    units_of = unit_columns(levels)
    join_origin = "LEFT JOIN cdt_origin o ON o.origin = {a}.origin"
    label = "coalesce((SELECT label FROM cdt_label WHERE domain = '{domain}' AND value = {value}), {value})"
    yes_no = "(SELECT label FROM cdt_label WHERE domain = 'yes' AND value = CAST(({expr}) AS TEXT))"
    hamlet_of_team = "(SELECT h.name FROM hamlet h WHERE h.id = {team}.hamlet_id)"
    has_team = "EXISTS (SELECT 1 FROM team t WHERE t.hamlet_id = h.id AND t.deleted = 0 AND t.status = 'active')"
    views = []

    def add(key: str, columns: list[str], sql_from: str, describe: dict[str, str], **options) -> None:
        views.append(View(key=key, name=t(f"browse.view.{key}"), description=t(f"browse.view.{key}.about"),
                          columns=describe, sql=f"SELECT\n  {_select(columns)}\n{sql_from}",
                          count_sql="SELECT count(*) " + sql_from.split("\nORDER BY")[0], **options))

    add("hamlet", [
        *units_of, f"h.name AS {q['name']}", f"{label.format(domain='kind', value='h.kind')} AS {q['kind']}",
        f"h.households AS {q['households']}", f"h.working_age AS {q['working_age']}",
        f"{yes_no.format(expr=has_team)} AS {q['has_team']}",
        f"cdt_ref(h.id) AS {q['ref']}",
    ], f"FROM hamlet h {join_origin.format(a='h')}\nWHERE h.deleted = 0\nORDER BY {_order(levels)}h.name COLLATE vi",
        {c["has_team"]: t("browse.about.has_team"), c["ref"]: t("browse.about.ref")},
        facets=[*_unit_facets(levels), c["kind"], c["has_team"]])

    add("team", [
        *units_of, f"{hamlet_of_team.format(team='t')} AS {q['hamlet']}", f"t.decision_number AS {q['decision']}",
        f"t.decision_date AS {q['decided_on']}", f"t.founded_on AS {q['founded_on']}",
        f"{label.format(domain='status', value='t.status')} AS {q['status']}", f"t.dissolved_on AS {q['dissolved_on']}",
        f"(SELECT count(*) FROM member m WHERE m.team_id = t.id AND m.deleted = 0 AND (m.left_on IS NULL"
        f" OR m.left_on > date('now', 'localtime'))) AS {q['members_now']}",
        f"cdt_ref(t.id) AS {q['ref']}",
    ], f"FROM team t {join_origin.format(a='t')}\nWHERE t.deleted = 0\nORDER BY {_order(levels)}{q['hamlet']} COLLATE vi",
        {c["members_now"]: t("browse.about.members_now")}, facets=[*_unit_facets(levels), c["status"]])

    member = [*units_of, f"{hamlet_of_team.format(team='t')} AS {q['hamlet']}"]
    if names:
        member.append(f"m.full_name AS {q['full_name']}")
    member += [f"{label.format(domain='gender', value='m.gender')} AS {q['gender']}"]
    if names:
        member.append(f"m.birth_year AS {q['birth_year']}")
    member += [
        f"{label.format(domain='role', value='m.role')} AS {q['role']}", f"m.affiliation AS {q['affiliation']}",
        f"m.joined_on AS {q['joined_on']}", f"m.left_on AS {q['left_on']}",
        f"(SELECT count(*) FROM training_attendance a JOIN training tr ON tr.id = a.training_id"
        f" WHERE a.member_id = m.id AND a.deleted = 0 AND tr.deleted = 0) AS {q['trainings']}",
    ]
    if personal:
        member.append(f"m.phone AS {q['phone']}")
    member.append(f"cdt_ref(m.id) AS {q['ref']}")
    add("member", member, f"FROM member m LEFT JOIN team t ON t.id = m.team_id {join_origin.format(a='m')}\n"
        f"WHERE m.deleted = 0\nORDER BY {_order(levels)}{q['hamlet']} COLLATE vi",
        {c["trainings"]: t("browse.about.trainings")},
        facets=[*_unit_facets(levels), c["role"], c["affiliation"]])

    add("training", [
        *units_of, f"tr.topic AS {q['topic']}", f"tr.date AS {q['date']}", f"tr.organiser AS {q['organiser']}",
        f"{label.format(domain='mode', value='tr.mode')} AS {q['mode']}",
        f"(SELECT count(*) FROM training_attendance a WHERE a.training_id = tr.id AND a.deleted = 0)"
        f" AS {q['attendees']}", f"cdt_ref(tr.id) AS {q['ref']}",
    ], f"FROM training tr {join_origin.format(a='tr')}\nWHERE tr.deleted = 0\nORDER BY tr.date DESC",
        {}, facets=[*_unit_facets(levels), c["mode"]])

    visit = [*units_of, f"v.date AS {q['date']}", f"{hamlet_of_team.format(team='t')} AS {q['hamlet']}"]
    if personal:
        visit.append(f"v.household AS {q['household']}")
    visit += [
        f"v.people AS {q['people']}",
        f"(SELECT names FROM cdt_service_list l WHERE l.services = v.services) AS {q['services']}",
        f"CASE WHEN json_valid(v.members) THEN json_array_length(v.members) END AS {q['members_present']}",
    ]
    if personal:
        visit.append(f"v.notes AS {q['notes']}")
    visit.append(f"cdt_ref(v.id) AS {q['ref']}")
    add("visit", visit, f"FROM visit v LEFT JOIN team t ON t.id = v.team_id {join_origin.format(a='v')}\n"
        f"WHERE v.deleted = 0\nORDER BY v.date DESC",
        {c["people"]: t("browse.about.people"), c["services"]: t("browse.about.services")},
        facets=[*_unit_facets(levels), {"array": c["services"]}])

    add("service", [
        f"s.code AS {q['code']}", f"s.name AS {q['name']}", f"s.aliases AS {q['aliases']}",
        f"{yes_no.format(expr='s.national')} AS {q['national']}",
    ], "FROM cdt_service s\nORDER BY s.sort", {c["national"]: t("browse.about.national")})

    add("target", [
        f"o.name AS {q['origin_unit']}",
        f"{label.format(domain='indicator', value='g.indicator')} AS {q['indicator']}", f"g.year AS {q['year']}",
        f"g.value AS {q['value']}", f"{yes_no.format(expr='g.percent')} AS {q['percent']}",
    ], f"FROM target g {join_origin.format(a='g')}\nWHERE g.deleted = 0\nORDER BY g.year DESC",
        {c["percent"]: t("browse.about.percent")})

    if merges and not by_hamlet:
        add("unit", [
            f"u.code AS {q['code']}", f"u.name AS {q['name']}",
            *([f"u.district AS {quoted(t('browse.col.district'))}"] if "district" in levels else []),
            *([f"u.province AS {quoted(t('browse.col.province'))}"] if "province" in levels else []),
            f"(SELECT max(g.packed_at) FROM origin g WHERE g.commune_code = u.code AND g.level = 'commune')"
            f" AS {q['packed_at']}",
            f"(SELECT max(g.merged_at) FROM origin g WHERE g.commune_code = u.code AND g.level = 'commune')"
            f" AS {q['merged_at']}",
        ], f"FROM cdt_unit u\nWHERE u.code <> ''\nORDER BY u.sort", {c["packed_at"]: t("browse.about.packed_at")})
    if merges:
        add("merge", [
            f"l.file_name AS {q['file']}", f"l.unit_name AS {q['unit']}", f"l.packed_at AS {q['packed_at']}",
            f"l.merged_at AS {q['merged_at']}", f"{label.format(domain='outcome', value='l.outcome')} AS {q['outcome']}",
            f"l.reason AS {q['reason']}",
        ], "FROM merge_log l\nORDER BY l.seq DESC", {}, facets=[c["outcome"]])
        add("conflict", [
            f"{label.format(domain='conflict', value='x.kind')} AS {q['conflict_kind']}",
            f"o.name AS {q['origin_unit']}", f"{label.format(domain='table', value='x.table_name')} AS {q['table']}",
            f"cdt_ref(x.row_id) AS {q['row_ref']}", f"x.detected_at AS {q['detected_at']}",
            f"x.resolved_at AS {q['resolved_at']}", f"x.resolution AS {q['resolution']}",
        ], f"FROM conflict x {join_origin.format(a='x')}\nORDER BY x.id DESC",
            {c["conflict_kind"]: t("browse.about.conflict_kind")})
    return views


def _order(levels: tuple[str, ...]) -> str:
    """The ORDER BY prefix that groups a view's rows by their units, highest first."""
    return "".join(f"{quoted(t(f'browse.col.{level}'))} COLLATE vi, " for level in reversed(levels))


def _unit_facets(levels: tuple[str, ...]) -> list[str]:
    return [t(f"browse.col.{level}") for level in reversed(levels)]
