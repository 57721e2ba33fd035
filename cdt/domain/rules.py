"""The rules of the commands, checked on every row of an incoming pack (DESIGN.md §3.1).

A row hash proves a row was not changed after it was written; it says nothing about whether the
writer obeyed the rules. A pack edited with any SQLite tool (hashes recomputed) could otherwise
bring ``people`` = 2^63−1, a date 9999-99-99 or a citizen ID as a household code into a district's
figures, where nobody can repair them. So the merge checks every row of the staged copy against
the rules of ``models.py`` — the same constants and word lists, and the same Python parsers
(registered as SQL functions) where a rule is a parser — set-based, one query per rule.

Only live rows (``deleted = 0``) carry values that count; a tombstone keeps only its identity.
A reference resolves to a row of its table in the pack: a pack is a whole snapshot of its file, so
what a row points at travels with it. A live team, member or visit must point at a live hamlet or
team (the commands remove those only together with what uses them, so a report never counts a
visit of a team that is gone); an attendance or a visit's member list may name a removed member.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, timedelta
from typing import Any, Callable

from cdt.domain import models
from cdt.domain.services import DEFAULT_SERVICES
from cdt.core.errors import FileRefused
from cdt.store import ref_of, tables_at

# Rows are refused when they name a date after the merging computer's today plus this tolerance
# (a commune laptop a few hours ahead, another time zone). Never packed_at: a commune clock may be wrong.
DATE_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True)
class Rule:
    """One rule: the table and column it reads, its message key, and a condition true for a bad row.

    ``where`` is SQL over the table aliased ``r``, applied to live rows (not tombstoned)."""

    table: str
    column: str
    key: str
    where: str


def _quoted(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _bad_date(column: str, *, required: bool = False) -> str:
    """A stored date is canonical ISO text of a real calendar day, not before 1945, not after :latest.

    The '+0 days' modifier makes SQLite normalise the day (2026-02-31 becomes 2026-03-03, which
    differs from the text); without a modifier SQLite 3.40 gives 2026-02-31 back unchanged."""
    ok = (f"(typeof(r.{column}) = 'text' AND date(r.{column}, '+0 days') IS r.{column}"
          f" AND r.{column} >= '{models.EARLIEST_DATE_YEAR:04d}-01-01' AND r.{column} <= :latest)")
    return f"NOT {ok}" if required else f"r.{column} IS NOT NULL AND NOT {ok}"


def _outside(column: str, low: int | str, high: int | str, *, required: bool = False) -> str:
    bad = f"(typeof(r.{column}) <> 'integer' OR r.{column} < {low} OR r.{column} > {high})"
    return bad if required else f"(r.{column} IS NOT NULL AND {bad})"


def _not_in(column: str, words: tuple[str, ...], *, required: bool = True) -> str:
    bad = f"r.{column} NOT IN ({_quoted(words)})"
    return f"(r.{column} IS NULL OR {bad})" if required else f"(r.{column} IS NOT NULL AND {bad})"


def _dangling(column: str, table: str, *, live: bool = False) -> str:
    alive = " AND x.deleted = 0" if live else ""
    return f"NOT EXISTS (SELECT 1 FROM {table} x WHERE x.id = r.{column}{alive})"


def _json_list_bad(column: str, each_bad: str, *, non_empty: bool) -> str:
    """A JSON array of text whose items all pass (CASE: json_each must never read malformed JSON)."""
    empty = f" OR json_array_length(r.{column}) = 0" if non_empty else ""
    return (f"CASE WHEN typeof(r.{column}) = 'text' AND json_valid(r.{column})"
            f" AND json_type(r.{column}) = 'array' THEN (0{empty}"
            f" OR EXISTS (SELECT 1 FROM json_each(r.{column}) j WHERE j.type <> 'text' OR {each_bad}))"
            " ELSE 1 END")


def rules() -> list[Rule]:
    """Every rule, read from models.py at call time (issue 15 extends the kinds, for one)."""
    households, working = models.HOUSEHOLDS_RANGE, models.WORKING_AGE_RANGE
    people, years = models.PEOPLE_RANGE, models.TARGET_YEAR_RANGE
    return [
        Rule("hamlet", "name", "valid.rule.text", "NOT cdt_text_ok(r.name, 1, :max_name)"),
        Rule("hamlet", "kind", "valid.rule.kind", _not_in("kind", models.HAMLET_KINDS)),
        Rule("hamlet", "households", "valid.rule.range", _outside("households", *households)),
        Rule("hamlet", "working_age", "valid.rule.range", _outside("working_age", *working)),
        Rule("team", "hamlet_id", "valid.rule.reference", _dangling("hamlet_id", "hamlet", live=True)),
        Rule("team", "status", "valid.rule.status", _not_in("status", models.TEAM_STATUSES)),
        Rule("team", "decision_number", "valid.rule.text", "r.decision_number IS NOT NULL AND NOT cdt_text_ok(r.decision_number, 0, 60)"),
        Rule("team", "decision_date", "valid.rule.date", _bad_date("decision_date")),
        Rule("team", "founded_on", "valid.rule.date", _bad_date("founded_on")),
        Rule("team", "dissolved_on", "valid.rule.date", _bad_date("dissolved_on")),
        Rule("team", "hamlet_id", "valid.rule.two_active_teams",
             "r.status = 'active' AND EXISTS (SELECT 1 FROM team o WHERE o.hamlet_id = r.hamlet_id"
             " AND o.deleted = 0 AND o.status = 'active' AND o.id < r.id)"),
        Rule("member", "team_id", "valid.rule.reference", _dangling("team_id", "team", live=True)),
        Rule("member", "full_name", "valid.rule.text", "NOT cdt_text_ok(r.full_name, 1, :max_name)"),
        Rule("member", "role", "valid.rule.role", _not_in("role", models.ROLES)),
        Rule("member", "gender", "valid.rule.gender", _not_in("gender", models.GENDERS, required=False)),
        Rule("member", "birth_year", "valid.rule.range",
             _outside("birth_year", models.BIRTH_YEAR_LOW, ":latest_birth_year")),
        Rule("member", "phone", "valid.rule.phone", "r.phone IS NOT NULL AND cdt_phone(r.phone) IS NOT r.phone"),
        Rule("member", "affiliation", "valid.rule.text", "r.affiliation IS NOT NULL AND NOT cdt_text_ok(r.affiliation, 0, :max_name)"),
        Rule("member", "joined_on", "valid.rule.date", _bad_date("joined_on")),
        Rule("member", "left_on", "valid.rule.date", _bad_date("left_on")),
        Rule("member", "role", "valid.rule.two_leaders",
             "r.role = 'leader' AND r.left_on IS NULL AND EXISTS (SELECT 1 FROM member o"
             " WHERE o.team_id = r.team_id AND o.deleted = 0 AND o.role = 'leader' AND o.left_on IS NULL"
             " AND o.id < r.id)"),
        Rule("training", "topic", "valid.rule.text", "NOT cdt_text_ok(r.topic, 1, 200)"),
        Rule("training", "date", "valid.rule.date", _bad_date("date", required=True)),
        Rule("training", "organiser", "valid.rule.text", "r.organiser IS NOT NULL AND NOT cdt_text_ok(r.organiser, 0, 200)"),
        Rule("training", "mode", "valid.rule.mode", _not_in("mode", models.TRAINING_MODES, required=False)),
        Rule("training_attendance", "training_id", "valid.rule.reference", _dangling("training_id", "training")),
        Rule("training_attendance", "member_id", "valid.rule.reference", _dangling("member_id", "member")),
        Rule("visit", "date", "valid.rule.date", _bad_date("date", required=True)),
        Rule("visit", "team_id", "valid.rule.reference", _dangling("team_id", "team", live=True)),
        Rule("visit", "household", "valid.rule.household", "cdt_household(r.household) IS NOT r.household"),
        Rule("visit", "people", "valid.rule.range", _outside("people", *people, required=True)),
        Rule("visit", "services", "valid.rule.services", _json_list_bad(
            "services", "(j.value NOT IN (SELECT value FROM json_each(:national))"
            " AND NOT EXISTS (SELECT 1 FROM service s WHERE s.code = j.value))", non_empty=True)),
        Rule("visit", "members", "valid.rule.reference", _json_list_bad(
            "members", "NOT EXISTS (SELECT 1 FROM member m WHERE m.id = j.value)", non_empty=False)),
        Rule("visit", "notes", "valid.rule.text", "r.notes IS NOT NULL AND cdt_notes(r.notes) IS NOT r.notes"),
        Rule("service", "code", "valid.rule.service_code", "cdt_service_code(r.code) IS NOT r.code"),
        Rule("service", "name", "valid.rule.text", "NOT cdt_text_ok(r.name, 1, :max_name)"),
        Rule("target", "year", "valid.rule.range", _outside("year", *years, required=True)),
        Rule("target", "value", "valid.rule.range",
             "(typeof(r.value) NOT IN ('integer', 'real') OR r.value < 0 OR r.value > 9.0e15"
             " OR (r.percent = 0 AND r.value <> CAST(r.value AS INTEGER)))"),
        Rule("target", "percent", "valid.rule.range", "r.percent NOT IN (0, 1)"),
    ]


# -- the rules that are Python parsers, registered as SQL functions -------------------------------


_PARSERS: dict[Callable[[Any], Any], Callable[[Any], Any]] = {}


def _parsed(parser: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A parser as an SQL function: the canonical value, or NULL when the parser refuses.

    Cached, and the cache kept from pack to pack for as long as the parser is the same function
    (a merge of many packs checks the same household-code shapes, notes and phones again and again;
    the parsers are pure). A parser replaced in models gets a cache of its own."""
    known = _PARSERS.get(parser)
    if known is not None:
        return known
    if len(_PARSERS) > 32:  # parsers replaced again and again (tests): forget the old ones
        _PARSERS.clear()

    @lru_cache(maxsize=1 << 16)
    def call(value: Any) -> Any:
        if not isinstance(value, str):
            return None
        try:
            return parser(value)
        except (ValueError, TypeError):
            return None

    _PARSERS[parser] = call
    return call


@lru_cache(maxsize=1 << 16)
def _text_ok(value: Any, required: Any, limit: Any) -> int:
    if value is None:
        return 0 if required else 1
    if not isinstance(value, str):
        return 0
    try:
        models._text(value, required=bool(required), limit=int(limit))
    except (ValueError, TypeError):
        return 0
    return 1


def _service_code(value: Any) -> Any:
    return models.ServiceIn.model_validate({"code": value, "name": "x"}).code


def _notes(value: Any) -> Any:
    # Issue 11 adds models.parse_notes (no phone or ID numbers in notes): use it once it is there.
    parse = getattr(models, "parse_notes", None)
    return parse(value) if parse else models._text(value, required=False, limit=models.MAX_TEXT)


def register_functions(conn: sqlite3.Connection) -> None:
    """The parsers of models.py, callable from the rules' SQL (deterministic: SQLite may cache them).

    Made per call (not at import), so the rules always read models' current parsers."""
    conn.create_function("cdt_household", 1, _parsed(models.parse_household), deterministic=True)
    conn.create_function("cdt_phone", 1, _parsed(models.normalise_phone), deterministic=True)
    conn.create_function("cdt_text_ok", 3, _text_ok, deterministic=True)
    conn.create_function("cdt_service_code", 1, _parsed(_service_code), deterministic=True)
    conn.create_function("cdt_notes", 1, _parsed(_notes), deterministic=True)


def _national_codes() -> str:
    return json.dumps([service["code"] for service in DEFAULT_SERVICES])


def parameters(today: date | None = None) -> dict[str, Any]:
    """The values the rules' SQL reads: today's limits (the merging computer's clock), word lists."""
    today = today or date.today()
    return {"latest": (today + DATE_TOLERANCE).isoformat(), "latest_birth_year": today.year - models.MIN_MEMBER_AGE,
            "max_name": models.MAX_NAME, "national": _national_codes()}


def _refuse(rule: Rule, row_id: Any, value: Any = None) -> FileRefused:
    from cdt.core.i18n import t
    from cdt.core.text import clean_text

    return FileRefused("valid.refused", table=rule.table, id=clean_text(ref_of(row_id), 8) if isinstance(row_id, str) else "?",
                       column=rule.column, rule=t(rule.key), value=clean_text(value, 40) if value is not None else "∅")


def _per_value(rule: Rule) -> bool:
    """Whether a rule reads only its own column's value (so it can run once per distinct value)."""
    return set(re.findall(r"\br\.(\w+)", rule.where)) == {rule.column}


def check_rows(conn: sqlite3.Connection, version: int, today: date | None = None) -> None:
    """Every live row of every table obeys the commands' rules; the first bad row refuses the pack.

    A rule that reads only its column's value runs once per distinct value (a commune's visits
    repeat dates, household codes, notes and service lists: the parsers run once for each;
    measured about half the CPU time of one scan per table); the other rules of a table run in one
    scan, OR-ed, a CASE naming the first one broken."""
    register_functions(conn)
    args = parameters(today)
    present = set(tables_at(version))
    by_table: dict[str, list[Rule]] = {}
    for rule in rules():
        if rule.table not in present:
            continue
        if _per_value(rule):
            found = conn.execute(f"SELECT r.{rule.column} FROM (SELECT DISTINCT {rule.column} FROM {rule.table}"
                                 f" WHERE deleted = 0) AS r WHERE {rule.where} LIMIT 1", args).fetchone()
            if found is not None:
                row = conn.execute(f"SELECT id FROM {rule.table} WHERE deleted = 0 AND {rule.column} IS ?"
                                   " LIMIT 1", (found[0],)).fetchone()
                raise _refuse(rule, row[0] if row else None, found[0])
        else:
            by_table.setdefault(rule.table, []).append(rule)
    for table, table_rules in by_table.items():
        which = " ".join(f"WHEN {rule.where} THEN {n}" for n, rule in enumerate(table_rules))
        broken = " OR ".join(f"({rule.where})" for rule in table_rules)
        found = conn.execute(f"SELECT r.id, CASE {which} END FROM {table} r WHERE r.deleted = 0 AND ({broken})"
                             " LIMIT 1", args).fetchone()
        if found is not None:
            rule = table_rules[found[1]]
            value = conn.execute(f"SELECT {rule.column} FROM {table} WHERE id = ?", (found[0],)).fetchone()
            raise _refuse(rule, found[0], value[0] if value else None)


def check_clocks(conn: sqlite3.Connection, version: int, site: dict, origins: list[dict]) -> None:
    """Each row's rev is within its origin's clock as the pack records it (the pack's own clock for
    its own rows, its origin table for rows it carries), and history holds a link for each (origin, rev)."""
    for origin in origins:
        if not isinstance(origin.get("clock"), int) or isinstance(origin.get("clock"), bool):
            raise FileRefused("merge.bad_origin")
    args = {"own": site["db_id"], "own_clock": site["clock"]}
    clock_of = ("CASE WHEN {a}.origin = :own THEN :own_clock"
                " ELSE (SELECT o.clock FROM origin o WHERE o.db_id = {a}.origin) END")
    for table in tables_at(version):
        beyond = f"r.rev > {clock_of.format(a='r')}"
        found = conn.execute(f"SELECT r.id, r.rev, {beyond} FROM {table} r WHERE {beyond} OR NOT EXISTS"
                             " (SELECT 1 FROM history h WHERE h.origin = r.origin AND h.rev = r.rev) LIMIT 1",
                             args).fetchone()
        if found is not None:
            key = "valid.rule.rev_after_clock" if found[2] else "valid.rule.no_history"
            raise _refuse(Rule(table, "rev", key, ""), found[0], found[1])
    found = conn.execute(f"SELECT origin, rev FROM history h WHERE h.rev > {clock_of.format(a='h')} LIMIT 1",
                         args).fetchone()
    if found is not None:
        raise FileRefused("valid.history_after_clock", origin=str(found[0])[:8], rev=found[1])


def check_replacements(conn: sqlite3.Connection, version: int, site: dict, origins: list[dict]) -> None:
    """Replacement decisions a pack carries (schema 3 on): well-typed, about files the pack carries."""
    if version < 3:
        return
    known = json.dumps(sorted({site["db_id"], *(origin["db_id"] for origin in origins)}))
    found = conn.execute(
        "SELECT old_db_id FROM replacement WHERE typeof(old_db_id) <> 'text' OR typeof(new_db_id) <> 'text'"
        " OR old_db_id = new_db_id OR level NOT IN ('commune', 'district') OR typeof(unit_code) <> 'text'"
        " OR typeof(switch_clock) <> 'integer' OR switch_clock < 0 OR typeof(decided_at) <> 'text'"
        " OR old_db_id NOT IN (SELECT value FROM json_each(:known))"
        " OR new_db_id NOT IN (SELECT value FROM json_each(:known)) LIMIT 1", {"known": known}).fetchone()
    if found is not None:
        raise FileRefused("valid.bad_replacement", id=str(found[0])[:8])


def check(conn: sqlite3.Connection, version: int, site: dict, origins: list[dict],
          today: date | None = None) -> None:
    """All of the above on a staged pack's connection (read-only: nothing is written)."""
    check_clocks(conn, version, site, origins)
    check_rows(conn, version, today)
    check_replacements(conn, version, site, origins)


__all__ = ["DATE_TOLERANCE", "Rule", "check", "check_clocks", "check_rows", "parameters", "register_functions",
           "rules"]
