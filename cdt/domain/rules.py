"""Every rule of the register as one table: each rule's Python check beside its SQL form for the merge.

A clerk's command checks a typed value with a rule's ``check`` (the input models of ``models.py``
are built from these checks); the merge runs the same rule's ``sql`` over every live row of an
incoming pack (DESIGN.md §3.1), set-based, one query per rule. Both forms are built here from the
same constants and parsers, and where a rule is a parser the SQL calls that very parser (registered
as the SQL function ``cdt_rule``), so the commands and the merge cannot disagree. A row hash proves a
row was not changed after it was written; these rules say whether the writer obeyed the commands.

Only live rows (``deleted = 0``) carry values that count; a tombstone keeps only its identity.
A reference resolves to a row of its table in the pack: a pack is a whole snapshot of its file, so
what a row points at travels with it. A live team, member or visit must point at a live hamlet or
team (the commands remove those only together with what uses them, so a report never counts a
visit of a team that is gone); an attendance or a visit's member list may name a removed member.

Rules across rows that need the register (one active team per hamlet, one leader per team) have
their Python check here too, as functions over the store, so every write path calls the one rule.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache, partial
from typing import Any, Callable

from cdt.core.errors import FileRefused, InvalidInput
from cdt.core.i18n import t
from cdt.core.text import clean, clean_text
from cdt.domain.indicators import PERCENT_BASE, TARGET_INDICATORS
from cdt.domain.kinds import HAMLET_KINDS
from cdt.domain.parsers import (
    EARLIEST_DATE_YEAR, GENDERS, MAX_CODE, MAX_NAME, MAX_TITLE, ROLES, TEAM_STATUSES, TRAINING_MODES,
    display_date, normalise_phone, parse_amount, parse_date, parse_gender, parse_household, parse_kind, parse_mode,
    parse_notes, parse_role, parse_service_code, parse_text, parse_whole_in, plain_number,
)
from cdt.domain.services import DEFAULT_SERVICES
from cdt.store import Store
from cdt.core.rows import ref_of
from cdt.core.schema import tables_at

# Ranges of the numbers a clerk may enter.
HOUSEHOLDS_RANGE = (0, 100_000)
WORKING_AGE_RANGE = (0, 500_000)
PEOPLE_RANGE = (1, 200)
BIRTH_YEAR_LOW = 1920
MIN_MEMBER_AGE = 10  # birth year at most this year - 10
TARGET_YEAR_RANGE = (2000, 2100)
# A count target above this is a typing slip (more than everyone in the country, many times over).
MAX_TARGET = 1_000_000_000
MAX_PERCENT = 100
# Rows are refused when they name a date after the merging computer's today plus this tolerance
# (a commune laptop a few hours ahead, another time zone). Never packed_at: a commune clock may be wrong.
DATE_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True)
class Rule:
    """One rule: the table and column it is about, the message key that names it, its SQL form (true
    for a bad live row of the table aliased ``r``; reads ``parameters()``) and, for a rule about one
    typed value, its Python check (the typed value → the stored one, or ValueError saying why)."""

    table: str
    column: str
    key: str
    sql: str
    check: Callable[[Any], Any] | None = None

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"


def _quoted(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _required(column: str, bad: str, required: bool) -> str:
    return f"(r.{column} IS NULL OR {bad})" if required else f"(r.{column} IS NOT NULL AND {bad})"


def _parsed(table: str, column: str, key: str, check: Callable[[Any], Any], *, required: bool) -> Rule:
    """A rule that is a parser: the SQL calls the same parser (cdt_rule) and wants its value back."""
    bad = f"cdt_rule('{table}.{column}', r.{column}) IS NOT r.{column}"
    return Rule(table, column, key, _required(column, bad, required), check)


def _text(table: str, column: str, *, required: bool, limit: int) -> Rule:
    """Text as parse_text stores it; an optional text may also be stored empty (files have such rows)."""
    found = _parsed(table, column, "valid.rule.text", partial(parse_text, required=required, limit=limit),
                    required=required)
    if required:
        return found
    return Rule(table, column, found.key, f"(r.{column} <> '' AND {found.sql})", found.check)


def _whole(table: str, column: str, low: int | str, high: int | str, *, required: bool = False,
           check: Callable[[Any], Any] | None = None) -> Rule:
    bad = f"(typeof(r.{column}) <> 'integer' OR r.{column} < {low} OR r.{column} > {high})"
    if check is None:
        check = partial(parse_whole_in, low=low, high=high, required=required)
    return Rule(table, column, "valid.rule.range", _required(column, bad, required), check)


def _date(table: str, column: str, *, required: bool = False) -> Rule:
    """A stored date is canonical ISO text of a real calendar day, not before 1945, not after :latest.

    The '+0 days' modifier makes SQLite normalise the day (2026-02-31 becomes 2026-03-03, which
    differs from the text); without a modifier SQLite 3.40 gives 2026-02-31 back unchanged."""
    ok = (f"(typeof(r.{column}) = 'text' AND date(r.{column}, '+0 days') IS r.{column}"
          f" AND r.{column} >= '{EARLIEST_DATE_YEAR:04d}-01-01' AND r.{column} <= :latest)")

    def check(value: Any) -> str | None:
        parsed = parse_date(value, not_future=True)
        if parsed is None and required:
            raise ValueError(t("input.empty"))
        return parsed

    return Rule(table, column, "valid.rule.date", f"NOT {ok}" if required else f"r.{column} IS NOT NULL AND NOT {ok}",
                check)


def _word(table: str, column: str, key: str, words: tuple[str, ...], parser: Callable[[Any], Any], *,
          required: bool) -> Rule:
    def check(value: Any) -> str | None:
        parsed = parser(value)
        if parsed is None and required:
            raise ValueError(t("input.empty"))
        return parsed

    return Rule(table, column, key, _required(column, f"r.{column} NOT IN ({_quoted(words)})", required), check)


def _reference(table: str, column: str, target: str, *, live: bool = False) -> Rule:
    alive = " AND x.deleted = 0" if live else ""
    return Rule(table, column, "valid.rule.reference",
                f"NOT EXISTS (SELECT 1 FROM {target} x WHERE x.id = r.{column}{alive})")


def _json_list_bad(column: str, each_bad: str, *, non_empty: bool, unique: bool = False) -> str:
    """A JSON array of text whose items all pass (CASE: json_each must never read malformed JSON)."""
    empty = f" OR json_array_length(r.{column}) = 0" if non_empty else ""
    twice = (f" OR (SELECT count(*) FROM json_each(r.{column})) <>"
             f" (SELECT count(DISTINCT value) FROM json_each(r.{column}))") if unique else ""
    return (f"CASE WHEN typeof(r.{column}) = 'text' AND json_valid(r.{column})"
            f" AND json_type(r.{column}) = 'array' THEN (0{empty}{twice}"
            f" OR EXISTS (SELECT 1 FROM json_each(r.{column}) j WHERE j.type <> 'text' OR {each_bad}))"
            " ELSE 1 END")


# -- the Python checks of values that are lists or depend on today ------------------------------------


def check_birth_year(value: Any) -> int | None:
    """A member's birth year: from 1920 to ten years before this year."""
    return parse_whole_in(value, BIRTH_YEAR_LOW, date.today().year - MIN_MEMBER_AGE)


def check_services(codes: list[str]) -> list[str]:
    """A visit's services: at least one; each once, in order (which codes exist is the catalogue's)."""
    if not codes:
        raise ValueError(t("input.no_service"))
    return sorted(set(codes))


def check_aliases(value: Any) -> list[str]:
    """A service's other names: texts, empty ones dropped."""
    return [a for a in (parse_text(v, required=False, limit=MAX_NAME) for v in (value or [])) if a]


def check_indicator(value: Any) -> str:
    """A target's indicator: one of the report's indicators that may carry a target."""
    key = clean(str(value or "")).lower()
    if key not in TARGET_INDICATORS:
        raise ValueError(t("target.unknown_indicator", indicator=clean(str(value or "")),
                           keys=", ".join(TARGET_INDICATORS)))
    return key


def check_target_value(value: Any) -> float:
    """A target's value: a number from 0 to MAX_TARGET (a percent's ceiling is checked with the row)."""
    number = parse_amount(value)
    if number > MAX_TARGET:
        raise ValueError(t("input.out_of_range", value=plain_number(number), low=0, high=MAX_TARGET))
    return number


def check_target(indicator: str, value: float, percent: bool) -> None:
    """A target as a whole: a count is whole (ValueError, like a field's rule); a percent is at most 100 and
    only for an indicator with a base (InvalidInput naming the target rule)."""
    if percent:
        if indicator not in PERCENT_BASE:
            raise InvalidInput("target.no_percent", indicator=indicator)
        if value > MAX_PERCENT:
            raise InvalidInput("target.percent_over", value=plain_number(value))
    elif not float(value).is_integer():
        raise ValueError(t("input.count_not_whole", value=plain_number(value)))


def check_member_dates(joined_on: str | None, left_on: str | None) -> None:
    """A member leaves on or after the day they joined."""
    if joined_on and left_on and left_on < joined_on:
        raise InvalidInput("member.left_before_joined", date=display_date(left_on))


def check_team_dates(founded_on: str | None, dissolved_on: str | None) -> None:
    """A team is dissolved on or after the day it was founded."""
    if founded_on and dissolved_on and dissolved_on < founded_on:
        raise InvalidInput("team.dissolved_before_founded", date=display_date(dissolved_on))


# -- rules across rows: their Python checks over the register ---------------------------------------


def active_team(store: Store, hamlet_id: str, *, other_than: str | None = None) -> dict | None:
    """The hamlet's active team (one at most, by the rule below), or None."""
    return next((team for team in store.rows("team", hamlet_id=hamlet_id)
                 if team["status"] == "active" and team["id"] != other_than), None)


def refuse_second_active_team(store: Store, hamlet: dict, *, team_id: str | None = None) -> None:
    """One active team per hamlet: raise when the hamlet has an active team other than team_id."""
    if active_team(store, hamlet["id"], other_than=team_id) is not None:
        raise InvalidInput("team.hamlet_has_team", hamlet=hamlet["name"])


def refuse_second_leader(store: Store, team_id: str, *, member_id: str | None = None) -> None:
    """One leader per team among its members still in it: raise naming the leader there is."""
    for member in store.rows("member", team_id=team_id):
        if member["role"] == "leader" and not member["left_on"] and member["id"] != member_id:
            raise InvalidInput("member.second_leader", leader=member["full_name"])


def require_commune(store: Store) -> None:
    """The register is written at the commune: a district or province file holds what communes packed."""
    if store.site.level != "commune":
        raise InvalidInput("register.commune_only", level=t(f"level.{store.site.level}"))


# -- the table ------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    """Every rule, in the order the merge checks them (so each tampering keeps its message)."""
    return (
        _text("hamlet", "name", required=True, limit=MAX_NAME),
        _word("hamlet", "kind", "valid.rule.kind", HAMLET_KINDS, parse_kind, required=True),
        _whole("hamlet", "households", *HOUSEHOLDS_RANGE),
        _whole("hamlet", "working_age", *WORKING_AGE_RANGE),
        _reference("team", "hamlet_id", "hamlet", live=True),
        Rule("team", "status", "valid.rule.status", _required("status", f"r.status NOT IN ({_quoted(TEAM_STATUSES)})",
                                                              True)),
        _text("team", "decision_number", required=False, limit=MAX_CODE),
        _date("team", "decision_date"),
        _date("team", "founded_on"),
        _date("team", "dissolved_on"),
        Rule("team", "hamlet_id", "valid.rule.two_active_teams",
             "r.status = 'active' AND EXISTS (SELECT 1 FROM team o WHERE o.hamlet_id = r.hamlet_id"
             " AND o.deleted = 0 AND o.status = 'active' AND o.id < r.id)"),
        Rule("team", "dissolved_on", "valid.rule.dissolved_before_founded",
             "r.dissolved_on IS NOT NULL AND r.founded_on IS NOT NULL AND r.dissolved_on < r.founded_on"),
        _reference("member", "team_id", "team", live=True),
        _text("member", "full_name", required=True, limit=MAX_NAME),
        _word("member", "role", "valid.rule.role", ROLES, parse_role, required=True),
        _word("member", "gender", "valid.rule.gender", GENDERS, parse_gender, required=False),
        _whole("member", "birth_year", BIRTH_YEAR_LOW, ":latest_birth_year", check=check_birth_year),
        _parsed("member", "phone", "valid.rule.phone", normalise_phone, required=False),
        _text("member", "affiliation", required=False, limit=MAX_NAME),
        _date("member", "joined_on"),
        _date("member", "left_on"),
        Rule("member", "role", "valid.rule.two_leaders",
             "r.role = 'leader' AND r.left_on IS NULL AND EXISTS (SELECT 1 FROM member o"
             " WHERE o.team_id = r.team_id AND o.deleted = 0 AND o.role = 'leader' AND o.left_on IS NULL"
             " AND o.id < r.id)"),
        Rule("member", "left_on", "valid.rule.left_before_joined",
             "r.left_on IS NOT NULL AND r.joined_on IS NOT NULL AND r.left_on < r.joined_on"),
        _text("training", "topic", required=True, limit=MAX_TITLE),
        _date("training", "date", required=True),
        _text("training", "organiser", required=False, limit=MAX_TITLE),
        _word("training", "mode", "valid.rule.mode", TRAINING_MODES, parse_mode, required=False),
        _reference("training_attendance", "training_id", "training"),
        _reference("training_attendance", "member_id", "member"),
        _date("visit", "date", required=True),
        _reference("visit", "team_id", "team", live=True),
        _parsed("visit", "household", "valid.rule.household", parse_household, required=True),
        _whole("visit", "people", *PEOPLE_RANGE, required=True),
        Rule("visit", "services", "valid.rule.services", _json_list_bad(
            "services", "(j.value NOT IN (SELECT value FROM json_each(:national))"
            " AND NOT EXISTS (SELECT 1 FROM service s WHERE s.code = j.value))", non_empty=True, unique=True),
             check_services),
        Rule("visit", "members", "valid.rule.reference", _json_list_bad(
            "members", "NOT EXISTS (SELECT 1 FROM member m WHERE m.id = j.value)", non_empty=False)),
        _parsed("visit", "notes", "valid.rule.text", parse_notes, required=False),
        _parsed("service", "code", "valid.rule.service_code", parse_service_code, required=True),
        _text("service", "name", required=True, limit=MAX_NAME),
        Rule("service", "aliases", "valid.rule.text", _json_list_bad(
            "aliases", "cdt_rule('service.alias', j.value) IS NOT j.value", non_empty=False), check_aliases),
        _word("target", "indicator", "valid.rule.indicator", TARGET_INDICATORS, check_indicator, required=True),
        _whole("target", "year", *TARGET_YEAR_RANGE, required=True),
        Rule("target", "value", "valid.rule.range",
             f"(typeof(r.value) NOT IN ('integer', 'real') OR r.value < 0 OR r.value > {MAX_TARGET}"
             f" OR (r.percent = 0 AND r.value <> CAST(r.value AS INTEGER)) OR (r.percent = 1 AND r.value > {MAX_PERCENT}))",
             check_target_value),
        Rule("target", "percent", "valid.rule.range", "r.percent NOT IN (0, 1)", bool),
        Rule("target", "percent", "valid.rule.percent_without_base",
             f"r.percent = 1 AND r.indicator NOT IN ({_quoted(tuple(PERCENT_BASE))})"),
    )


def rule(table: str, column: str) -> Rule:
    """The value rule of one column (the one with a Python check): what the input models use."""
    for found in rules():
        if found.table == table and found.column == column and found.check is not None:
            return found
    raise KeyError(f"no value rule for {table}.{column}")


def value_check(table: str, column: str) -> Callable[[Any], Any]:
    """The Python check of one column's value rule (what an input model's field runs)."""
    return rule(table, column).check


# -- the merge: the table as SQL over a staged pack ---------------------------------------------------

# Value checks the SQL calls by name (cdt_rule('visit.household', r.household)): each rule that is a
# parser, and the items of a service's aliases.
_CHECKS: dict[str, Callable[[Any], Any]] = {}


def _checks() -> dict[str, Callable[[Any], Any]]:
    if not _CHECKS:
        _CHECKS.update({r.name: r.check for r in rules() if r.check is not None and "cdt_rule(" in r.sql})
        _CHECKS["service.alias"] = partial(parse_text, required=True, limit=MAX_NAME)
    return _CHECKS


@lru_cache(maxsize=1 << 16)
def _rule_value(name: str, value: Any) -> Any:
    """cdt_rule: the canonical value of a stored one, or NULL when its rule refuses it.

    Cached from pack to pack (a merge of many packs checks the same household codes, notes and phones
    again and again; the checks are pure)."""
    if not isinstance(value, str):
        return None
    found = _checks().get(name)
    if found is None:
        return None
    try:
        return found(value)
    except (ValueError, TypeError, InvalidInput):
        return None


def register_functions(conn: sqlite3.Connection) -> None:
    """The Python checks, callable from the rules' SQL (deterministic: SQLite may cache them)."""
    conn.create_function("cdt_rule", 2, _rule_value, deterministic=True)


def parameters(today: date | None = None) -> dict[str, Any]:
    """The values the rules' SQL reads: today's limits (the merging computer's clock), the national services."""
    today = today or date.today()
    return {"latest": (today + DATE_TOLERANCE).isoformat(), "latest_birth_year": today.year - MIN_MEMBER_AGE,
            "national": json.dumps([service["code"] for service in DEFAULT_SERVICES])}


def refusal(rule: Rule, row_id: Any, value: Any = None) -> FileRefused:
    """A pack refused by a rule: table, row, column, value and the rule, in one line."""
    return FileRefused("valid.refused", table=rule.table,
                       id=clean_text(ref_of(row_id), 8) if isinstance(row_id, str) else "?",
                       column=rule.column, rule=t(rule.key), value=clean_text(value, 40) if value is not None else "∅")


def _per_value(rule: Rule) -> bool:
    """Whether a rule reads only its own column's value (so it can run once per distinct value)."""
    return set(re.findall(r"\br\.(\w+)", rule.sql)) == {rule.column}


def check_rows(conn: sqlite3.Connection, version: int, today: date | None = None) -> None:
    """Every live row of every table obeys the rules; the first bad row refuses the pack.

    A rule that reads only its column's value runs once per distinct value (a commune's visits
    repeat dates, household codes, notes and service lists: the parsers run once for each); the other
    rules of a table run in one scan, OR-ed, a CASE naming the first one broken."""
    register_functions(conn)
    args = parameters(today)
    present = set(tables_at(version))
    by_table: dict[str, list[Rule]] = {}
    for found in rules():
        if found.table not in present:
            continue
        if _per_value(found):
            bad = conn.execute(f"SELECT r.{found.column} FROM (SELECT DISTINCT {found.column} FROM {found.table}"
                               f" WHERE deleted = 0) AS r WHERE {found.sql} LIMIT 1", args).fetchone()
            if bad is not None:
                row = conn.execute(f"SELECT id FROM {found.table} WHERE deleted = 0 AND {found.column} IS ?"
                                   " LIMIT 1", (bad[0],)).fetchone()
                raise refusal(found, row[0] if row else None, bad[0])
        else:
            by_table.setdefault(found.table, []).append(found)
    for table, table_rules in by_table.items():
        which = " ".join(f"WHEN {r.sql} THEN {n}" for n, r in enumerate(table_rules))
        broken = " OR ".join(f"({r.sql})" for r in table_rules)
        bad = conn.execute(f"SELECT r.id, CASE {which} END FROM {table} r WHERE r.deleted = 0 AND ({broken})"
                           " LIMIT 1", args).fetchone()
        if bad is not None:
            found = table_rules[bad[1]]
            value = conn.execute(f"SELECT {found.column} FROM {table} WHERE id = ?", (bad[0],)).fetchone()
            raise refusal(found, bad[0], value[0] if value else None)


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
            raise refusal(Rule(table, "rev", key, ""), found[0], found[1])
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


def check_branch_choices(conn: sqlite3.Connection, site: dict, origins: list[dict]) -> None:
    """Choices between two branches of a file that a pack carries (made at the level below): well
    typed, and about files the pack carries, never about the pack's own file."""
    carried = json.dumps(sorted(o["db_id"] for o in origins if o["db_id"] != site["db_id"]))
    found = conn.execute(
        "SELECT origin FROM branch_choice WHERE typeof(origin) <> 'text' OR typeof(fork_rev) <> 'integer'"
        " OR fork_rev < 1 OR typeof(chain) <> 'text' OR length(chain) <> 64 OR typeof(decided_at) <> 'text'"
        " OR origin NOT IN (SELECT value FROM json_each(:carried)) LIMIT 1", {"carried": carried}).fetchone()
    if found is not None:
        raise FileRefused("valid.bad_branch_choice", id=str(found[0])[:8])


def check_carried_pins(conn: sqlite3.Connection, version: int) -> None:
    """Keys a pack carries for the units it holds: well typed (a public key is 32 bytes in base64)."""
    if version < 4:
        return
    found = conn.execute(
        "SELECT unit_code FROM pinned_key WHERE typeof(level) <> 'text' OR level NOT IN ('commune', 'district',"
        " 'province') OR typeof(unit_code) <> 'text' OR typeof(public_key) <> 'text' OR length(public_key) <> 44"
        " OR (db_id IS NOT NULL AND typeof(db_id) <> 'text') OR typeof(pinned_at) <> 'text'"
        " OR (retired_at IS NOT NULL AND typeof(retired_at) <> 'text') LIMIT 1").fetchone()
    if found is not None:
        raise FileRefused("valid.bad_pinned_key", code=str(found[0])[:8])


def check(conn: sqlite3.Connection, version: int, site: dict, origins: list[dict],
          today: date | None = None) -> None:
    """All of the above on a staged pack's connection (read-only: nothing is written)."""
    check_clocks(conn, version, site, origins)
    check_rows(conn, version, today)
    check_replacements(conn, version, site, origins)
    check_branch_choices(conn, site, origins)
    check_carried_pins(conn, version)


__all__ = ["DATE_TOLERANCE", "Rule", "check", "check_clocks", "check_rows", "parameters", "register_functions",
           "rule", "rules", "value_check"]
