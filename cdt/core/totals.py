"""Totals of the visits per origin and month, kept exact by triggers (DESIGN.md §5).

A district or province report reads these instead of scanning every visit. They are kept by
triggers on ``visit``, so whatever changes a visit (a command, an undo, a merge, a fork held back
or taken, a file replaced with ``--replaces``, code written later) changes them in the same
transaction. Only live rows (``deleted = 0``) count; a month is ``substr(date, 1, 7)`` (dates are
ISO days: the commands and the merge's rules make sure of it). Three tables (migration 6):

- ``total_visit(origin, month, services, visits, people)``: visits and people per origin, month
  and list of services (the JSON text as stored: a commune has a few dozen distinct lists, so the
  report parses each once, and "digital citizens" follow the settings of the day of the report);
- ``total_household(origin, household, month, visits)``: live visits of each household in a
  month, a reference count (a row exists while it is above 0);
- ``total_reach(origin, month, reached, first_in_year, first_ever)``: households visited in the
  month, those whose first visit of that calendar year is in it, and those whose first visit ever
  is in it; kept by triggers on ``total_household``, so "year to date" and "since the start" are
  sums over months, not distinct counts over visits.

Households are codes of one commune's register: the report counts them distinct per commune. A
commune whose visits come from one file (origin) reads ``total_reach``; a commune of several files
(one replaced the other) counts from ``total_household``, distinct across its files.

``total_pause``: a row there makes every trigger do nothing. Only ``paused`` writes one, inside a
transaction, for the merge's all-new fast path, which then counts a pack's visits set-based with
``add_all_new``.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from typing import Iterator

_MONTH = "substr({r}.date, 1, 7)"
_COUNTED = ("deleted", "origin", "date", "household", "people", "services")


def _visit_out(r: str) -> list[str]:
    """Statements taking a visit (r = OLD) out of the totals, if it was live."""
    m = _MONTH.format(r=r)
    live = f"{r}.deleted = 0"
    return [
        f"UPDATE total_visit SET visits = visits - 1, people = people - {r}.people WHERE {live}"
        f" AND origin = {r}.origin AND month = {m} AND services = {r}.services",
        f"DELETE FROM total_visit WHERE {live} AND origin = {r}.origin AND month = {m}"
        f" AND services = {r}.services AND visits = 0",
        f"UPDATE total_household SET visits = visits - 1 WHERE {live} AND origin = {r}.origin"
        f" AND household = {r}.household AND month = {m}",
        f"DELETE FROM total_household WHERE {live} AND origin = {r}.origin AND household = {r}.household"
        f" AND month = {m} AND visits = 0",
    ]


def _visit_in(r: str) -> list[str]:
    """Statements putting a visit (r = NEW) into the totals, if it is live."""
    m = _MONTH.format(r=r)
    return [
        f"INSERT INTO total_visit (origin, month, services, visits, people) SELECT {r}.origin, {m},"
        f" {r}.services, 1, {r}.people WHERE {r}.deleted = 0 ON CONFLICT (origin, month, services)"
        " DO UPDATE SET visits = visits + 1, people = people + excluded.people",
        f"INSERT INTO total_household (origin, household, month, visits) SELECT {r}.origin, {r}.household,"
        f" {m}, 1 WHERE {r}.deleted = 0 ON CONFLICT (origin, household, month) DO UPDATE SET visits = visits + 1",
    ]


def _marks(r: str) -> dict[str, str]:
    """Expressions about household-month r (NEW after an insert, OLD after a delete): whether no
    other row of the household is earlier (ever: e, in r's year: y), and the household's next
    month after r (ever: fe, in r's year: fy)."""
    same = f"h.origin = {r}.origin AND h.household = {r}.household"
    year = f"h.month BETWEEN substr({r}.month, 1, 5) || '00' AND substr({r}.month, 1, 5) || '99'"
    return {
        "e": f"NOT EXISTS (SELECT 1 FROM total_household h WHERE {same} AND h.month < {r}.month)",
        "y": f"NOT EXISTS (SELECT 1 FROM total_household h WHERE {same} AND h.month < {r}.month AND {year})",
        "fe": f"(SELECT min(h.month) FROM total_household h WHERE {same} AND h.month > {r}.month)",
        "fy": f"(SELECT min(h.month) FROM total_household h WHERE {same} AND h.month > {r}.month AND {year})",
    }


def _firsts_moved(r: str, sign: str) -> str:
    """The first-visit marks that household-month r takes from (sign '-': on insert) or gives
    back to (sign '+': on delete) the household's next month, when r is (was) the earliest."""
    m = _marks(r)
    return (f"UPDATE total_reach SET"
            f" first_ever = first_ever {sign} CASE WHEN month = {m['fe']} AND {m['e']} THEN 1 ELSE 0 END,"
            f" first_in_year = first_in_year {sign} CASE WHEN month = {m['fy']} AND {m['y']} THEN 1 ELSE 0 END"
            f" WHERE origin = {r}.origin AND month IN ({m['fe']}, {m['fy']})")


def _trigger(name: str, when: str, statements: list[str], condition: str = "") -> str:
    body = "".join(f"    {statement};\n" for statement in statements)
    extra = f" AND ({condition})" if condition else ""
    return f"CREATE TRIGGER {name} {when} WHEN NOT EXISTS (SELECT 1 FROM total_pause){extra}\nBEGIN\n{body}END"


# Set-based counts of visits (from table ``{src}``, filtered by ``{where}``) and of the reach
# marks from total_household (for origins filtered by ``{origins}``): the migration's fill and
# add_all_new use them; the triggers keep the same numbers row by row.
_FILL_VISIT = (
    "INSERT INTO main.total_visit (origin, month, services, visits, people)"
    " SELECT origin, substr(date, 1, 7), services, count(*), sum(people) FROM {src}"
    " WHERE deleted = 0 GROUP BY 1, 2, 3 ON CONFLICT (origin, month, services) DO UPDATE SET"
    " visits = visits + excluded.visits, people = people + excluded.people")
_FILL_HOUSEHOLD = (
    "INSERT INTO main.total_household (origin, household, month, visits)"
    " SELECT origin, household, substr(date, 1, 7), count(*) FROM {src}"
    " WHERE deleted = 0 GROUP BY 1, 2, 3 ON CONFLICT (origin, household, month) DO UPDATE SET"
    " visits = visits + excluded.visits")
_FILL_REACH = (
    "INSERT INTO main.total_reach (origin, month, reached, first_in_year, first_ever)"
    " SELECT origin, month, sum(reached), sum(first_in_year), sum(first_ever) FROM ("
    "  SELECT origin, month, count(*) AS reached, 0 AS first_in_year, 0 AS first_ever"
    "   FROM main.total_household WHERE {origins} GROUP BY 1, 2"
    "  UNION ALL SELECT origin, first, 0, count(*), 0 FROM (SELECT origin, min(month) AS first"
    "   FROM main.total_household WHERE {origins} GROUP BY origin, household, substr(month, 1, 4)) GROUP BY 1, 2"
    "  UNION ALL SELECT origin, first, 0, 0, count(*) FROM (SELECT origin, min(month) AS first"
    "   FROM main.total_household WHERE {origins} GROUP BY origin, household) GROUP BY 1, 2)"
    " GROUP BY 1, 2")
# The same counts with window functions, as migration 6 shipped them (a shipped migration is never
# edited). The merge's fast path uses the grouped form above: 8-11 ms a commune pack against 19
# (a household's first month, ever or in a year, is the first row of its stretch of the primary key).
_FILL_REACH_WINDOWS = (
    "INSERT INTO main.total_reach (origin, month, reached, first_in_year, first_ever)"
    " SELECT origin, month, count(*), sum(month = first_in_year), sum(month = first_ever) FROM ("
    "  SELECT origin, month,"
    "   min(month) OVER (PARTITION BY origin, household, substr(month, 1, 4)) AS first_in_year,"
    "   min(month) OVER (PARTITION BY origin, household) AS first_ever"
    "  FROM main.total_household WHERE {origins})"
    " GROUP BY 1, 2")

_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _COUNTED)

MIGRATION: list[str] = [
    """CREATE TABLE total_visit (
    origin TEXT NOT NULL,
    month TEXT NOT NULL,
    services TEXT NOT NULL,
    visits INTEGER NOT NULL,
    people INTEGER NOT NULL,
    PRIMARY KEY (origin, month, services)
) WITHOUT ROWID""",
    """CREATE TABLE total_household (
    origin TEXT NOT NULL,
    household TEXT NOT NULL,
    month TEXT NOT NULL,
    visits INTEGER NOT NULL,
    PRIMARY KEY (origin, household, month)
) WITHOUT ROWID""",
    """CREATE TABLE total_reach (
    origin TEXT NOT NULL,
    month TEXT NOT NULL,
    reached INTEGER NOT NULL DEFAULT 0,
    first_in_year INTEGER NOT NULL DEFAULT 0,
    first_ever INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (origin, month)
) WITHOUT ROWID""",
    "CREATE TABLE total_pause (paused INTEGER NOT NULL)",
    # Files made before the totals: count what they hold (set-based, before the triggers exist).
    _FILL_VISIT.format(src="main.visit"),
    _FILL_HOUSEHOLD.format(src="main.visit"),
    _FILL_REACH_WINDOWS.format(origins="1"),
    # Two or three statements per household-month that appears or goes (trigger statements are
    # the cost of a merge's per-row path): its own month's counts, then the next month's marks.
    _trigger("total_household_in", "AFTER INSERT ON total_household", [
        "INSERT INTO total_reach (origin, month, reached, first_in_year, first_ever)"
        f" VALUES (NEW.origin, NEW.month, 1, {_marks('NEW')['y']}, {_marks('NEW')['e']})"
        " ON CONFLICT (origin, month) DO UPDATE SET reached = reached + 1,"
        " first_in_year = first_in_year + excluded.first_in_year, first_ever = first_ever + excluded.first_ever",
        _firsts_moved("NEW", "-"),
    ]),
    _trigger("total_household_out", "AFTER DELETE ON total_household", [
        f"UPDATE total_reach SET reached = reached - 1, first_in_year = first_in_year - {_marks('OLD')['y']},"
        f" first_ever = first_ever - {_marks('OLD')['e']} WHERE origin = OLD.origin AND month = OLD.month",
        _firsts_moved("OLD", "+"),
        "DELETE FROM total_reach WHERE origin = OLD.origin AND month = OLD.month AND reached = 0",
    ]),
    _trigger("total_visit_in", "AFTER INSERT ON visit", _visit_in("NEW")),
    _trigger("total_visit_out", "AFTER DELETE ON visit", _visit_out("OLD")),
    # A merge's upsert of a newer rev sets every column: only a change of a counted one moves totals.
    _trigger("total_visit_change", "AFTER UPDATE ON visit", [*_visit_out("OLD"), *_visit_in("NEW")],
             _CHANGED),
]

TABLES = ("total_visit", "total_household", "total_reach")


@contextmanager
def paused(conn: sqlite3.Connection) -> Iterator[None]:
    """Inside: the totals' triggers do nothing (the caller counts what it writes, add_all_new).

    Call it inside the caller's transaction: the pause row never commits (it is removed on the
    way out, and a rollback removes it too), so no other connection ever sees it. Nests.
    Outside a transaction it refuses: a pause row committed by itself, then a crash, would leave
    the totals unkept for good."""
    if not conn.in_transaction:
        raise RuntimeError("totals.paused needs the caller's transaction")
    rowid = conn.execute("INSERT INTO main.total_pause (paused) VALUES (1)").lastrowid
    try:
        yield
    finally:
        conn.execute("DELETE FROM main.total_pause WHERE rowid = ?", (rowid,))


def add_all_new(conn: sqlite3.Connection, schema: str) -> None:
    """Add the visits of attached schema ``schema`` (say ``inc``) to the totals, set-based.

    For the merge's all-new fast path: call it in the merge's transaction after every visit of
    ``schema`` was inserted into ``main.visit`` as it is (all ids new here) with the triggers
    ``paused``. Visits and household counts are added; the reach marks of the pack's origins are
    recounted from ``total_household``, so the result is exact even when an origin already had
    visits here (that costs a recount of its households; with no totals yet for the pack's
    origins, the fast path's case, it is only the pack's own)."""
    if not schema.isidentifier():
        raise ValueError(f"not a schema name: {schema!r}")
    src = f"{schema}.visit"
    with paused(conn):
        conn.execute(_FILL_VISIT.format(src=src))
        conn.execute(_FILL_HOUSEHOLD.format(src=src))
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS totals_origin (origin TEXT PRIMARY KEY)")
        conn.execute("DELETE FROM temp.totals_origin")
        conn.execute(f"INSERT INTO temp.totals_origin SELECT DISTINCT origin FROM {src} WHERE deleted = 0")
        conn.execute("DELETE FROM main.total_reach WHERE origin IN (SELECT origin FROM temp.totals_origin)")
        conn.execute(_FILL_REACH.format(origins="origin IN (SELECT origin FROM temp.totals_origin)"))


def rebuild(conn: sqlite3.Connection) -> None:
    """Count the totals again from the live visits, set-based (in the caller's transaction): for
    a file whose visits were written with the triggers paused, or one to check and repair."""
    with paused(conn):
        for table in TABLES:
            conn.execute(f"DELETE FROM main.{table}")
        conn.execute(_FILL_VISIT.format(src="main.visit"))
        conn.execute(_FILL_HOUSEHOLD.format(src="main.visit"))
        conn.execute(_FILL_REACH.format(origins="1"))


def recount(conn: sqlite3.Connection) -> dict[str, set[tuple]]:
    """What the three tables must hold, recounted from scratch from the live visits (in Python,
    independently of the SQL above): for tests and for checking a file."""
    from collections import defaultdict

    visit: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    households: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for origin, day, household, people, services in conn.execute(
            "SELECT origin, date, household, people, services FROM main.visit WHERE deleted = 0"):
        month = day[:7]
        visit[(origin, month, services)][0] += 1
        visit[(origin, month, services)][1] += people
        households[(origin, household)][month] += 1
    reach: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (origin, _), months in households.items():
        firsts_in_year: dict[str, str] = {}
        for month in months:
            reach[(origin, month)][0] += 1
            firsts_in_year[month[:4]] = min(firsts_in_year.get(month[:4], month), month)
        for month in firsts_in_year.values():
            reach[(origin, month)][1] += 1
        reach[(origin, min(months))][2] += 1
    return {
        "total_visit": {(*k, *v) for k, v in visit.items()},
        "total_household": {(o, h, m, n) for (o, h), months in households.items() for m, n in months.items()},
        "total_reach": {(*k, *v) for k, v in reach.items()},
    }


def kept(conn: sqlite3.Connection) -> dict[str, set[tuple]]:
    """What the three tables hold (same shape as ``recount``)."""
    return {
        "total_visit": {tuple(r) for r in conn.execute(
            "SELECT origin, month, services, visits, people FROM main.total_visit")},
        "total_household": {tuple(r) for r in conn.execute(
            "SELECT origin, household, month, visits FROM main.total_household")},
        "total_reach": {tuple(r) for r in conn.execute(
            "SELECT origin, month, reached, first_in_year, first_ever FROM main.total_reach")},
    }
