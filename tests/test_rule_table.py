"""The one rule table (cdt/domain/rules.py): every field a clerk types has its merge-side rule, and
each rule's Python check and SQL form agree on generated values."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cdt.core.i18n import t
from cdt.domain import models, parsers, rules
from cdt.domain.indicators import TARGET_INDICATORS
from cdt.domain.kinds import HAMLET_KINDS
from cdt.core.schema import SCHEMA_VERSION, apply_migrations

# A valid live row of each table: one column at a time is replaced by the value under test.
BASE = {
    "hamlet": {"name": "Xóm", "kind": "xóm"},
    "team": {"hamlet_id": "h", "status": "active"},
    "member": {"team_id": "t", "full_name": "An", "role": "member"},
    "training": {"topic": "x", "date": "2026-01-01"},
    "visit": {"date": "2026-01-01", "team_id": "t", "household": "H1", "people": 1, "services": '["dvc"]',
              "members": "[]"},
    "service": {"code": "cthn", "name": "C-Thái Nguyên", "aliases": "[]"},
    "target": {"indicator": "visits", "year": 2026, "value": 1, "percent": 0},
}


def test_every_field_a_clerk_types_has_a_merge_side_rule():
    """Walk every field of every input model: each names a column with a rule the merge runs as SQL."""
    tables = {(r.table, r.column) for r in rules.rules() if r.sql}
    missing = [f"{model.__name__}.{field} ({table}.{field})"
               for model, table in models.MODEL_TABLES.items()
               for field in model.model_fields if (table, field) not in tables]
    assert not missing, f"fields without a merge-side rule: {missing}"


def test_every_value_rule_the_models_use_is_the_tables_check():
    """A model field checked by a rule runs that rule's very function (no second copy to drift)."""
    for model, table in models.MODEL_TABLES.items():
        for field, info in model.__pydantic_decorators__.field_validators.items():
            for column in info.info.fields:
                try:
                    found = rules.rule(table, column)
                except KeyError:
                    continue
                assert info.func is found.check or getattr(info.func, "__func__", None) is found.check \
                    or column in ("role", "date"), (model.__name__, column)


def _stored(table: str, column: str, value, today: date) -> tuple[bool, object]:
    """Whether any SQL rule on table.column refuses a live row holding value (other columns valid), and
    the value as SQLite stored it (a column's type affinity turns 0 into '0' in a TEXT column)."""
    conn = sqlite3.connect(":memory:")
    conn.execute("BEGIN")
    apply_migrations(conn, 0, SCHEMA_VERSION)
    conn.execute("COMMIT")
    conn.execute("INSERT INTO hamlet (id, origin, rev, hash, name, kind) VALUES ('h', 'o', 1, 'x', 'X', 'xóm')")
    conn.execute("INSERT INTO team (id, origin, rev, hash, hamlet_id, status) VALUES ('t', 'o', 1, 'x', 'h', 'active')")
    row = {"id": "r", "origin": "o", "rev": 1, "deleted": 0, "hash": "h", **BASE[table], column: value}
    try:
        conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                     list(row.values()))
    except sqlite3.IntegrityError:
        assume(False)  # a NOT NULL column: no row can hold it
    rules.register_functions(conn)
    args = rules.parameters(today)
    stored = conn.execute(f"SELECT {column} FROM {table} WHERE id = 'r'").fetchone()[0]
    return any(conn.execute(f"SELECT 1 FROM {table} r WHERE r.id = 'r' AND ({rule.sql})", args).fetchone()
               for rule in rules.rules() if rule.table == table and rule.column == column), stored


def _rejects(table: str, column: str, value, today: date) -> bool:
    return _stored(table, column, value, today)[0]


def _canonical(check, value) -> bool:
    """Whether a stored value is what the Python check makes of it (the commands would store it so)."""
    try:
        made = check(value)
    except (ValueError, TypeError):
        return False
    return made == value or (value == "" and made is None and "<> ''" in rules.rule(*RULE_OF[check]).sql)


RULE_OF = {r.check: (r.table, r.column) for r in rules.rules() if r.check is not None}
# Columns whose Python check takes one typed value and whose SQL reads that column alone.
VALUE_RULES = [(r.table, r.column) for r in rules.rules()
               if r.check is not None and r.sql and r.check is not bool
               and (r.table, r.column) not in {("visit", "services"), ("service", "aliases"), ("target", "value")}]

VALUES = st.one_of(
    st.text(max_size=14),
    st.integers(-10, 600_000),
    st.sampled_from([None, "", " ", 0, 1, 200, 201, 1919, 1920, 2 ** 63 - 1, -(2 ** 63), 2026, 2101, "2026-02-31",
                     "2026-01-05", "1944-12-31", "05/01/2026", "0912345678", "+84912345678", "HGD-001", "001203004567",
                     "gọi 0912 345 678", "cthn", "C-Thái", "Xóm Một", " Xóm ", *HAMLET_KINDS, *parsers.ROLES,
                     *parsers.GENDERS, *parsers.TRAINING_MODES, *TARGET_INDICATORS, "tổ trưởng", "nữ", "xyz",
                     "a\u0000b", "x" * 121, "x" * 201]),
    st.dates(date(1900, 1, 1), date(2100, 12, 31)).map(date.isoformat),
)


@pytest.mark.parametrize("table,column", VALUE_RULES, ids=[f"{a}.{b}" for a, b in VALUE_RULES])
@given(value=VALUES)
def test_python_check_and_sql_agree(table, column, value):
    """A stored value passes the merge's SQL exactly when the command's check would store it as it is.
    The merge allows a day's tolerance after its today: compared with the checks a day earlier."""
    check = rules.rule(table, column).check
    yesterday = date.today() - timedelta(days=1)
    rejected, stored = _stored(table, column, value, yesterday)
    assert rejected == (not _canonical(check, stored)), (table, column, value, stored)


@given(value=st.one_of(st.floats(allow_nan=False, allow_infinity=False, min_value=-10, max_value=2e9),
                       st.integers(-10, 2 * rules.MAX_TARGET)),
       percent=st.booleans())
def test_target_value_rule_agrees_with_the_model(value, percent):
    try:
        made = models.TargetIn(indicator="visits" if not percent else "people_helped", year=2026, value=value,
                               percent=percent)
        accepted = made.value == value
    except Exception:  # noqa: BLE001 — a ValidationError or the target rule's InvalidInput
        accepted = False
    BASE["target"]["indicator"] = "people_helped" if percent else "visits"
    try:
        conn_percent = 1 if percent else 0
        BASE["target"]["percent"] = conn_percent
        assert _rejects("target", "value", value, date.today()) == (not accepted), (value, percent)
    finally:
        BASE["target"].update(indicator="visits", percent=0)


# -- the rules a clerk met drifting apart, through the CLI ------------------------------------------------


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_target_the_merge_would_refuse_is_refused_at_the_commune(cdt, commune):
    before = _sha(commune)
    result = cdt("target", "set", "visits", "--year", "2026", "--value", "10000000000000000")
    assert result.exit_code == 1
    detail = t("input.out_of_range", value="10000000000000000", low=0, high=rules.MAX_TARGET)
    assert result.stderr.strip().endswith(detail), result.stderr
    assert _sha(commune) == before
    assert cdt("target", "set", "visits", "--year", "2026", "--value", str(rules.MAX_TARGET)).exit_code == 0


def test_a_percent_over_a_hundred_is_refused_at_the_commune(cdt, commune):
    before = _sha(commune)
    result = cdt("target", "set", "digital_citizens", "--year", "2026", "--value", "500", "--percent")
    assert result.exit_code == 1
    assert t("target.percent_over", value="500") in result.stderr
    assert _sha(commune) == before


def test_a_hamlet_the_import_calls_the_same_is_refused_by_hamlet_add(cdt, commune):
    """'Na Mao' is the hamlet 'Thôn Na Mao' by the sameness rule the import uses: add and rename refuse it."""
    assert cdt("hamlet", "add", "Thôn Na Mao", "--kind", "thôn").exit_code == 0
    assert cdt("hamlet", "add", "Xóm Chùa", "--kind", "xóm").exit_code == 0
    before = _sha(commune)
    added = cdt("hamlet", "add", "Na Mao", "--kind", "thôn")
    assert added.exit_code == 1
    assert added.stderr.strip() == "Lỗi: " + t("hamlet.exists", name="Thôn Na Mao")
    renamed = cdt("hamlet", "edit", "Xóm Chùa", "--name", "Na Mao")
    assert renamed.exit_code == 1
    assert renamed.stderr.strip() == "Lỗi: " + t("hamlet.exists", name="Thôn Na Mao")
    assert _sha(commune) == before


def test_every_register_write_at_a_district_names_the_level_alike(cdt, tmp_path):
    """The commune-only rule is one: the import and the commands say 'cấp huyện', never 'district'."""
    district = tmp_path / "district.db"
    assert cdt("--db", district, "init", "--district", "171").exit_code == 0
    before = _sha(district)
    expected = "Lỗi: " + t("register.commune_only", level=t("level.district"))
    for args in (("hamlet", "add", "Xóm Một", "--kind", "xóm"), ("import", tmp_path / "any.xlsx")):
        result = cdt("--db", district, *args)
        assert result.exit_code == 1
        assert result.stderr.strip() == expected, args
    assert "cấp huyện" in expected
    assert _sha(district) == before
