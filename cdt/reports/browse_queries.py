"""The canned queries of cdt browse: what officers ask of a file, as SQL with a month and a unit to fill in.

Each query counts as the monthly report does: rows belong to units through the copy's ``cdt_bucket``
(the report's own mapping, ``figures.buckets``), teams and members count by the report's rules
(``figures.ACTIVE_TEAM``, ``ACTIVE_MEMBER``, ``TRAINED_MEMBER``), months are the report's (an empty
month is the last full one), so a query's figures equal ``cdt report --format json`` for the same
month. The SQL functions the queries call (``cdt_month_start`` …) are ``FUNCTIONS``, registered on
every connection of the web server, so the words typed in the form are read by cdt's own parsers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from cdt.core.errors import InvalidInput
from cdt.core.i18n import t
from cdt.core.rows import ref_of
from cdt.core.text import fold
from cdt.domain.parsers import parse_month, parse_whole_in
from cdt.reports.browse_copy import Copy, quoted, sql_text
from cdt.reports.figures import ACTIVE_MEMBER, ACTIVE_TEAM, ACTIVE_TEAM_OF_HAMLET, TRAINED_MEMBER, period
from cdt.reports.report import last_full_month

# How many months "a hamlet without a visit" looks back when the form leaves it empty, and at most.
DEFAULT_QUIET_MONTHS = 3
MAX_QUIET_MONTHS = 120


@dataclass
class Query:
    """One canned query: its name in addresses, title, description, form fields and SQL."""

    name: str
    title: str
    description: str
    params: list[str]
    sql: str
    columns: list[str] = field(default_factory=list)  # the result's column names, in order


# -- what the form's words mean (SQL functions) ---------------------------------------------------------


def _month(text: Any) -> tuple[int, int] | None:
    """The month typed in a form (2026-10 or 10/2026; empty: the last full month), None if unreadable."""
    if text is None or not str(text).strip():
        return last_full_month()
    try:
        return parse_month(str(text))
    except InvalidInput:
        return None


def _months(text: Any) -> int | None:
    """How many months back (empty: DEFAULT_QUIET_MONTHS), None if unreadable."""
    try:
        found = parse_whole_in(text, 1, MAX_QUIET_MONTHS)
    except ValueError:
        return None
    return DEFAULT_QUIET_MONTHS if found is None else found


def month_part(text: Any, part: str) -> str | None:
    """A day of the typed month, as period() names it: start, end or year_start (ISO), None if unreadable."""
    found = _month(text)
    return period(*found)[part] if found else None


def months_back_start(text: Any, count: Any) -> str | None:
    """The first day of the month ``count`` months before the typed one counts as the first: with 3
    and 11/2026, 01/09/2026 (September, October and November)."""
    found, many = _month(text), _months(count)
    if not found or not many:
        return None
    index = found[0] * 12 + found[1] - 1 - (many - 1)
    return date(index // 12, index % 12 + 1, 1).isoformat()


def month_label(text: Any) -> str | None:
    """The typed month as people write it: 11/2026."""
    found = _month(text)
    return f"{found[1]:02d}/{found[0]}" if found else None


def problem(month: Any, count: Any = None) -> str | None:
    """Why the form's month or number of months cannot be read, in the run's language; None when they can."""
    if _month(month) is None:
        return t("input.bad_month", value=str(month).strip())
    if count is not None:
        try:
            parse_whole_in(count, 1, MAX_QUIET_MONTHS)
        except ValueError as error:
            return t("browse.bad_months", reason=str(error))
    return None


def matches(wanted: Any, *names: Any) -> int:
    """1 when a name contains the typed words (diacritics and case aside) or nothing was typed."""
    if wanted is None or not str(wanted).strip():
        return 1
    key = fold(str(wanted))
    return int(any(key in fold(str(name)) for name in names if name))


def reference(row_id: Any) -> str | None:
    """A row's short reference, as the commands show it."""
    return ref_of(str(row_id)) if row_id else None


# name → (number of arguments, function); -1: any number.
FUNCTIONS: dict[str, tuple[int, Callable]] = {
    "cdt_month_start": (1, lambda text: month_part(text, "start")),
    "cdt_month_end": (1, lambda text: month_part(text, "end")),
    "cdt_year_start": (1, lambda text: month_part(text, "year_start")),
    "cdt_months_back": (2, months_back_start),
    "cdt_month_label": (1, month_label),
    "cdt_problem": (2, problem),
    "cdt_matches": (-1, matches),
    "cdt_ref": (1, reference),
}


# -- the queries ------------------------------------------------------------------------------------------


class _Sql:
    """The pieces the queries share for one copy: how rows reach their unit, and its columns."""

    def __init__(self, copy: Copy):
        self.copy = copy
        by_hamlet = copy.by_hamlet
        # The visit's unit, as figures.measure finds it: its team's hamlet on a commune's file, the
        # file that wrote it above.
        self.visit_join = "LEFT JOIN team t ON t.id = v.team_id " if by_hamlet else ""
        self.visit_bucket = "t.hamlet_id" if by_hamlet else "v.origin"
        self.member_bucket = "t.hamlet_id" if by_hamlet else "m.origin"
        self.unit_title = t("browse.col.hamlet") if by_hamlet else t("browse.col.commune")
        self.above = [level for level in copy.unit_levels if level != "commune"]

    def unit_columns(self, alias: str = "u") -> list[str]:
        """The unit's reference or code, name and the units above it (a cdt_unit row as ``alias``)."""
        code = f"cdt_ref({alias}.code)" if self.copy.by_hamlet else f"{alias}.code"
        source = {"district": "district", "province": "province"}
        return [f"{code} AS {quoted(t('browse.col.code'))}", f"{alias}.name AS {quoted(self.unit_title)}",
                *(f"{alias}.{source[level]} AS {quoted(t(f'browse.col.{level}'))}" for level in reversed(self.above))]

    def origin_columns(self) -> list[str]:
        """A register row's commune and the units above it (a cdt_origin row as ``o``); none on a commune's file."""
        source = {"commune": "name", "district": "district", "province": "province"}
        return [f"o.{source[level]} AS {quoted(t(f'browse.col.{level}'))}" for level in reversed(self.copy.unit_levels)]

    def origin_order(self) -> str:
        return "".join(f"{quoted(t(f'browse.col.{level}'))} COLLATE vi, " for level in reversed(self.copy.unit_levels))

    @staticmethod
    def month_column() -> str:
        return f"cdt_month_label(:month) AS {quoted(t('browse.col.month'))}"


def _finish(main: str, columns: int, count: str = "NULL") -> str:
    """The query, then one line saying why nothing came out when the form's words cannot be read."""
    blanks = ", ".join(["NULL"] * (columns - 1))
    return (f"SELECT * FROM (\n{main}\n)\nUNION ALL\nSELECT cdt_problem(:month, {count}), {blanks}\n"
            f"WHERE cdt_problem(:month, {count}) IS NOT NULL")


def _at(sql: str, end: str) -> str:
    """A rule of figures.py with its ``:end`` read from the query's month."""
    return sql.replace(":end", end)


def _query(name: str, params: list[str], columns: list[str], main: str, count: str = "NULL") -> Query:
    return Query(name=name, title=t(f"browse.query.{name}"), description=t(f"browse.query.{name}.about"),
                 params=params, sql=_finish(main, len(columns), count),
                 columns=[column.rsplit(" AS ", 1)[1].strip('"').replace('""', '"') for column in columns])


def _select(columns: list[str]) -> str:
    return ",\n    ".join(columns)


def build_queries(copy: Copy) -> list[Query]:
    """The canned queries for this copy, in the order the officer meets them."""
    s = _Sql(copy)
    col = {key: quoted(t(f"browse.col.{key}")) for key in (
        "visits", "households_month", "people_month", "visits_ytd", "households_ytd", "people_ytd", "service",
        "hamlet", "last_visit", "has_team", "ref", "decision", "founded_on", "members", "affiliation",
        "trained", "packed_at", "merged_at")}
    month = "p.start"
    queries = []

    columns = [s.month_column(), *s.unit_columns(),
               f"coalesce(m.visits, 0) AS {col['visits']}", f"coalesce(m.households, 0) AS {col['households_month']}",
               f"coalesce(m.people, 0) AS {col['people_month']}", f"coalesce(m.visits_ytd, 0) AS {col['visits_ytd']}",
               f"coalesce(m.households_ytd, 0) AS {col['households_ytd']}",
               f"coalesce(m.people_ytd, 0) AS {col['people_ytd']}"]
    queries.append(_query("activity", ["month", "unit"], columns, f"""  WITH p AS (SELECT cdt_month_start(:month) AS start,
      cdt_month_end(:month) AS finish, cdt_year_start(:month) AS year_start),
  seen AS (
    SELECT coalesce(b.unit, '') AS unit, coalesce(o.commune, v.origin) || '|' || v.household AS household,
      v.people AS people, v.date >= {month} AS in_month
    FROM visit v {s.visit_join}LEFT JOIN cdt_bucket b ON b.bucket = {s.visit_bucket}
      LEFT JOIN cdt_origin o ON o.origin = v.origin, p
    WHERE v.deleted = 0 AND v.date >= p.year_start AND v.date <= p.finish),
  m AS (
    SELECT unit, sum(in_month) AS visits, count(DISTINCT CASE WHEN in_month THEN household END) AS households,
      sum(CASE WHEN in_month THEN people ELSE 0 END) AS people, count(*) AS visits_ytd,
      count(DISTINCT household) AS households_ytd, sum(people) AS people_ytd
    FROM seen GROUP BY unit)
  SELECT
    {_select(columns)}
  FROM cdt_unit u LEFT JOIN m ON m.unit = u.code, p
  WHERE p.start IS NOT NULL AND (u.expected = 1 OR m.unit IS NOT NULL)
    AND cdt_matches(:unit, u.name, u.district, u.province)
  ORDER BY u.sort"""))

    columns = [s.month_column(), *s.unit_columns(), f"coalesce(sv.name, x.code) AS {col['service']}",
               f"count(*) AS {col['visits']}", f"sum(x.people) AS {col['people_month']}"]
    queries.append(_query("services", ["month", "unit", "service"], columns, f"""  WITH p AS (SELECT cdt_month_start(:month) AS start,
      cdt_month_end(:month) AS finish),
  x AS (
    SELECT coalesce(b.unit, '') AS unit, l.code AS code, v.people AS people
    FROM visit v {s.visit_join}LEFT JOIN cdt_bucket b ON b.bucket = {s.visit_bucket}
      JOIN cdt_service_code l ON l.services = v.services, p
    WHERE v.deleted = 0 AND v.date >= p.start AND v.date <= p.finish)
  SELECT
    {_select(columns)}
  FROM x JOIN cdt_unit u ON u.code = x.unit LEFT JOIN cdt_service sv ON sv.code = x.code
  WHERE cdt_matches(:unit, u.name, u.district, u.province) AND cdt_matches(:service, sv.name, x.code)
  GROUP BY x.unit, x.code
  ORDER BY u.sort, coalesce(sv.sort, 1000000), x.code"""))

    has_team = _at(f"EXISTS (SELECT 1 FROM team tt WHERE tt.hamlet_id = h.id AND {ACTIVE_TEAM_OF_HAMLET})", "p.finish")
    columns = [*s.origin_columns(), f"h.name AS {col['hamlet']}", f"last.day AS {col['last_visit']}",
               f"(SELECT label FROM cdt_label WHERE domain = 'yes' AND value = CAST(({has_team}) AS TEXT))"
               f" AS {col['has_team']}", f"cdt_ref(h.id) AS {col['ref']}"]
    queries.append(_query("quiet_hamlets", ["month", "months", "unit"], columns, f"""  WITH p AS (SELECT cdt_months_back(:month, :months) AS since,
      cdt_month_end(:month) AS finish),
  last AS (
    SELECT t.hamlet_id AS hamlet, max(v.date) AS day
    FROM visit v JOIN team t ON t.id = v.team_id, p
    WHERE v.deleted = 0 AND v.date <= p.finish GROUP BY t.hamlet_id)
  SELECT
    {_select(columns)}
  FROM hamlet h LEFT JOIN last ON last.hamlet = h.id LEFT JOIN cdt_origin o ON o.origin = h.origin, p
  WHERE p.since IS NOT NULL AND h.deleted = 0 AND h.origin NOT IN (SELECT origin FROM cdt_replaced)
    AND (last.day IS NULL OR last.day < p.since)
    AND cdt_matches(:unit, h.name, o.name, o.district, o.province)
  ORDER BY {s.origin_order()}h.name COLLATE vi""", count=":months"))

    active_member = _at(ACTIVE_MEMBER, "p.finish")
    members = f"(SELECT count(*) FROM member m WHERE m.team_id = t.id AND {active_member}" \
              " AND m.origin NOT IN (SELECT origin FROM cdt_replaced))"
    columns = [s.month_column(), *s.origin_columns(), f"h.name AS {col['hamlet']}",
               f"t.decision_number AS {col['decision']}", f"t.founded_on AS {col['founded_on']}",
               f"{members} AS {col['members']}", f"cdt_ref(t.id) AS {col['ref']}"]
    queries.append(_query("untrained_teams", ["month", "unit"], columns, f"""  WITH p AS (SELECT cdt_month_end(:month) AS finish)
  SELECT
    {_select(columns)}
  FROM team t LEFT JOIN hamlet h ON h.id = t.hamlet_id LEFT JOIN cdt_origin o ON o.origin = t.origin, p
  WHERE p.finish IS NOT NULL AND {_at(ACTIVE_TEAM, 'p.finish')}
    AND t.origin NOT IN (SELECT origin FROM cdt_replaced)
    AND NOT EXISTS (SELECT 1 FROM member m WHERE m.team_id = t.id AND {active_member}
                    AND m.origin NOT IN (SELECT origin FROM cdt_replaced) AND {_at(TRAINED_MEMBER, 'p.finish')})
    AND cdt_matches(:unit, h.name, o.name, o.district, o.province)
  ORDER BY {s.origin_order()}{col['hamlet']} COLLATE vi"""))

    unknown = sql_text(t("browse.no_affiliation"))
    columns = [s.month_column(), f"coalesce(nullif(trim(m.affiliation), ''), {unknown}) AS {col['affiliation']}",
               f"count(*) AS {col['members']}", f"sum({_at(TRAINED_MEMBER, 'p.finish')}) AS {col['trained']}"]
    queries.append(_query("affiliations", ["month", "unit"], columns, f"""  WITH p AS (SELECT cdt_month_end(:month) AS finish)
  SELECT
    {_select(columns)}
  FROM team t CROSS JOIN member m ON m.team_id = t.id
    LEFT JOIN cdt_bucket b ON b.bucket = {s.member_bucket} LEFT JOIN cdt_unit u ON u.code = coalesce(b.unit, ''), p
  WHERE p.finish IS NOT NULL AND {active_member} AND {_at(ACTIVE_TEAM, 'p.finish')}
    AND m.origin NOT IN (SELECT origin FROM cdt_replaced)
    AND cdt_matches(:unit, u.name, u.district, u.province)
  GROUP BY 2
  ORDER BY 3 DESC, 2 COLLATE vi"""))

    if not copy.by_hamlet:
        columns = [s.month_column(), *s.unit_columns(), f"latest.packed AS {col['packed_at']}",
                   f"latest.merged AS {col['merged_at']}"]
        # As the report's completeness: a commune has reported a month when the latest pack merged
        # from it was made on a day after the month's last (a code of the other structure is
        # another commune).
        queries.append(_query("not_reported", ["month", "unit"], columns, f"""  WITH p AS (SELECT cdt_month_end(:month) AS finish),
  latest AS (
    SELECT commune_code AS code, max(packed_at) AS packed, merged_at AS merged
    FROM origin
    WHERE level = 'commune' AND merged_at IS NOT NULL AND commune_code IS NOT NULL
      AND (structure IS NULL OR structure = {sql_text(copy.structure)})
    GROUP BY commune_code)
  SELECT
    {_select(columns)}
  FROM cdt_unit u LEFT JOIN latest ON latest.code = u.code, p
  WHERE p.finish IS NOT NULL AND u.expected = 1
    AND (latest.packed IS NULL OR substr(latest.packed, 1, 10) <= p.finish)
    AND cdt_matches(:unit, u.name, u.district, u.province)
  ORDER BY u.sort"""))
    return queries
