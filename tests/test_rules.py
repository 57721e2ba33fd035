"""Every incoming row obeys the commands' rules (rules.py, DESIGN.md §3.1).

Hand-made packs: real packs made through the CLI, edited with the sqlite3 module and their row
hashes recomputed with ``cdt.store.row_hash``, so that only the new checks can catch them. Each is
refused with the rule named, exit 1, and the target byte-identical; the district report still works.
The SQL rules are also checked against the validators of models.py on many values (hypothesis).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import uuid
from datetime import date, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from kits import packkit
from kits.profiles import examples
from cdt.domain import models, parsers, rules
from cdt.domain.kinds import HAMLET_KINDS
from cdt.core.i18n import t
from cdt.core.schema import SCHEMA_VERSION, apply_migrations
from cdt.core.rows import row_hash

HAMLET = "Xóm Một"


def _run(cdt, *args) -> str:
    result = cdt(*args)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def rich_commune(cdt, path: Path) -> Path:
    """A commune with a row in every table: hamlet, team, leader and member, training, attendance, visit."""
    for args in (
        ("init", "--commune", "05761", "--structure", "legacy"),
        ("hamlet", "add", HAMLET, "--kind", "xóm", "--households", "50", "--working-age", "120"),
        ("team", "add", "--hamlet", HAMLET, "--decided-on", "01/06/2022"),
        ("member", "add", "Hoàng Văn An", "--team", HAMLET, "--role", "tổ trưởng", "--phone", "0912345678",
         "--birth-year", "1980"),
        ("member", "add", "Lò Thị Bình", "--team", HAMLET, "--role", "thành viên", "--gender", "nữ"),
        ("training", "add", "Kỹ năng số", "--date", "01/09/2026", "--mode", "trực tiếp"),
        ("training", "attend", "Kỹ năng số", "--member", "Hoàng Văn An"),
        ("visit", "log", "--team", HAMLET, "--household", "H1", "--people", "2", "--service", "dvc",
         "--member", "Hoàng Văn An", "--date", "05/10/2026"),
        ("target", "set", "visits", "--year", "2026", "--value", "100"),
    ):
        _run(cdt, "--db", path, *args)
    return path


# Each pack made here and the file that signed it: an edited pack is signed again with that file's
# key (a forger holding the commune's key), so only the rules of rules.py can refuse it.
_SIGNERS: dict[Path, Path] = {}


def pack(cdt, db: Path, out: Path) -> Path:
    made = Path(_run(cdt, "--db", db, "pack", "--out", out).strip().splitlines()[-1])
    _SIGNERS[made] = db
    return made


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def edited(good: Path, folder: Path, name: str, edit) -> Path:
    """A copy of a good pack changed by edit(conn), every touched row's hash recomputed."""
    folder.mkdir(exist_ok=True)

    def change(snapshot: Path) -> None:
        conn = sqlite3.connect(snapshot)
        conn.row_factory = sqlite3.Row
        edit(conn)
        conn.commit()
        conn.close()

    return packkit.rewrap(good, folder / f"{name}.cdt", _SIGNERS[good], change)


def set_row(table: str, changes: dict, where: str = "1"):
    """An edit: change columns of the first row of table matching where, rehash it."""

    def edit(conn: sqlite3.Connection) -> None:
        row = dict(conn.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY rowid LIMIT 1").fetchone())
        old = row["id"]
        row.update(changes)
        row["hash"] = row_hash(table, row)
        names = [c for c in row if c != "id"] + ["id"]
        conn.execute(f"UPDATE {table} SET {', '.join(c + ' = ?' for c in names)} WHERE id = ?",
                     [row[c] for c in names] + [old])

    return edit


def add_copy(table: str, changes: dict):
    """An edit: a second row like the first of table (a new id, same origin and rev), rehashed."""

    def edit(conn: sqlite3.Connection) -> None:
        row = dict(conn.execute(f"SELECT * FROM {table} ORDER BY rowid LIMIT 1").fetchone())
        row.update(changes, id=str(uuid.uuid4()))
        row["hash"] = row_hash(table, row)
        conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                     list(row.values()))

    return edit


def sql(*statements: str):
    def edit(conn: sqlite3.Connection) -> None:
        for statement in statements:
            conn.execute(statement)

    return edit


FUTURE = (date.today() + timedelta(days=30)).isoformat()

CASES = {
    # name: (edit, table, column, rule key)
    "people 0": (set_row("visit", {"people": 0}), "visit", "people", "valid.rule.range"),
    "people -1": (set_row("visit", {"people": -1}), "visit", "people", "valid.rule.range"),
    "people 201": (set_row("visit", {"people": 201}), "visit", "people", "valid.rule.range"),
    "people 2^63-1": (set_row("visit", {"people": 2 ** 63 - 1}), "visit", "people", "valid.rule.range"),
    "date 31/02": (set_row("visit", {"date": "2026-02-31"}), "visit", "date", "valid.rule.date"),
    "date 9999-99-99": (set_row("visit", {"date": "9999-99-99"}), "visit", "date", "valid.rule.date"),
    "date after today": (set_row("visit", {"date": FUTURE}), "visit", "date", "valid.rule.date"),
    "date before 1945": (set_row("training", {"date": "1900-01-01"}), "training", "date", "valid.rule.date"),
    "founded 31/02": (set_row("team", {"founded_on": "2024-02-30"}), "team", "founded_on", "valid.rule.date"),
    "household 12-digit ID": (set_row("visit", {"household": "001203004567"}), "visit", "household",
                              "valid.rule.household"),
    "household a name": (set_row("visit", {"household": "Nguyễn Văn An"}), "visit", "household",
                         "valid.rule.household"),
    "household 0912345678": (set_row("visit", {"household": "0912345678"}), "visit", "household",
                             "valid.rule.household"),
    "household 001-203-004-567": (set_row("visit", {"household": "001-203-004-567"}), "visit", "household",
                                  "valid.rule.household"),
    "visit of a team not in the file": (set_row("visit", {"team_id": str(uuid.uuid4())}), "visit", "team_id",
                                        "valid.rule.reference"),
    "visit of a member not in the file": (set_row("visit", {"members": json.dumps([str(uuid.uuid4())])}),
                                          "visit", "members", "valid.rule.reference"),
    "visit with an unknown service": (set_row("visit", {"services": '["nope"]'}), "visit", "services",
                                      "valid.rule.services"),
    "a row of rev 0": (set_row("visit", {"rev": 0}), "visit", "rev", "valid.rule.rev_positive"),
    "a removed flag of 2": (set_row("visit", {"deleted": 2}), "visit", "deleted", "valid.rule.deleted_flag"),
    "a row written after the file's clock": (set_row("visit", {"rev": 999}), "visit", "rev",
                                            "valid.rule.rev_after_clock"),
    "notes with a full-width phone number": (set_row("visit", {"notes": "gọi ０９１２３４５６７８"}), "visit",
                                            "notes", "valid.rule.text"),
    "notes with an ID number written with commas": (set_row("visit", {"notes": "số 001,203,004,567"}), "visit",
                                                    "notes", "valid.rule.text"),
    "visit without a service": (set_row("visit", {"services": "[]"}), "visit", "services", "valid.rule.services"),
    "visit services not JSON": (set_row("visit", {"services": "dvc"}), "visit", "services", "valid.rule.services"),
    "hamlet households 100001": (set_row("hamlet", {"households": 100_001}), "hamlet", "households",
                                 "valid.rule.range"),
    "hamlet working age -5": (set_row("hamlet", {"working_age": -5}), "hamlet", "working_age", "valid.rule.range"),
    "hamlet unknown kind": (set_row("hamlet", {"kind": "lâu đài"}), "hamlet", "kind", "valid.rule.kind"),
    "hamlet empty name": (set_row("hamlet", {"name": "  "}), "hamlet", "name", "valid.rule.text"),
    "team of a hamlet not in the file": (set_row("team", {"hamlet_id": str(uuid.uuid4())}), "team", "hamlet_id",
                                         "valid.rule.reference"),
    "team unknown status": (set_row("team", {"status": "sleeping"}), "team", "status", "valid.rule.status"),
    "two active teams for one hamlet": (add_copy("team", {}), "team", "hamlet_id", "valid.rule.two_active_teams"),
    "member of a team not in the file": (set_row("member", {"team_id": str(uuid.uuid4())}), "member", "team_id",
                                         "valid.rule.reference"),
    # A removed team or hamlet with live rows under it: the commands remove those only together.
    "visits and members of a removed team": (set_row("team", {"deleted": 1}), "member", "team_id",
                                             "valid.rule.reference"),
    "team of a removed hamlet": (set_row("hamlet", {"deleted": 1}), "team", "hamlet_id", "valid.rule.reference"),
    "member unknown role": (set_row("member", {"role": "boss"}), "member", "role", "valid.rule.role"),
    "member role as typed": (set_row("member", {"role": "tổ trưởng"}), "member", "role", "valid.rule.role"),
    "member unknown gender": (set_row("member", {"gender": "x"}), "member", "gender", "valid.rule.gender"),
    "member born 1800": (set_row("member", {"birth_year": 1800}), "member", "birth_year", "valid.rule.range"),
    "member born this year": (set_row("member", {"birth_year": date.today().year}), "member", "birth_year",
                              "valid.rule.range"),
    "member bad phone": (set_row("member", {"phone": "12345"}), "member", "phone", "valid.rule.phone"),
    "two leaders": (set_row("member", {"role": "leader"}, "role <> 'leader'"), "member", "role",
                    "valid.rule.two_leaders"),
    "training unknown mode": (set_row("training", {"mode": "bay"}), "training", "mode", "valid.rule.mode"),
    "attendance of a member not in the file": (set_row("training_attendance", {"member_id": str(uuid.uuid4())}),
                                               "training_attendance", "member_id", "valid.rule.reference"),
    "attendance of a training not in the file": (set_row("training_attendance",
                                                         {"training_id": str(uuid.uuid4())}),
                                                 "training_attendance", "training_id", "valid.rule.reference"),
    "target of an unknown indicator": (set_row("target", {"indicator": "xyz"}), "target", "indicator",
                                       "valid.rule.indicator"),
    "target of 500 percent": (set_row("target", {"indicator": "digital_citizens", "percent": 1, "value": 500}),
                              "target", "value", "valid.rule.range"),
    "percent target of an indicator without a base": (set_row("target", {"indicator": "visits", "percent": 1,
                                                                         "value": 50}),
                                                      "target", "percent", "valid.rule.percent_without_base"),
    "member who left before joining": (set_row("member", {"joined_on": "2026-05-01", "left_on": "2026-04-01"},
                                               "role <> 'leader'"),
                                       "member", "left_on", "valid.rule.left_before_joined"),
    "team dissolved before it was founded": (set_row("team", {"founded_on": "2024-05-01", "status": "dissolved",
                                                              "dissolved_on": "2024-04-01"}),
                                             "team", "dissolved_on", "valid.rule.dissolved_before_founded"),
    "a service listed twice in a visit": (set_row("visit", {"services": '["dvc", "dvc"]'}), "visit", "services",
                                          "valid.rule.services"),
    # The last write is the target's.
    "rev without its history row": (sql("DELETE FROM history WHERE rev = (SELECT max(rev) FROM history)"),
                                    "target", "rev", "valid.rule.no_history"),
    "history beyond the clock": (sql("INSERT INTO history SELECT origin, rev + 1, chain FROM history"
                                     " WHERE rev = (SELECT max(rev) FROM history)"),
                                 None, None, "valid.history_after_clock"),
}


def _expect_refused(cdt, target: Path, bad: Path, table: str | None, column: str | None, key: str) -> None:
    before = sha(target)
    result = cdt("--db", target, "merge", bad)
    assert result.exit_code == 1, (bad.name, result.output)
    assert "Traceback" not in result.output
    if key.startswith("valid.rule."):
        assert t(key) in result.stderr and f"bảng {table}" in result.stderr and f"cột {column}" in result.stderr, \
            (bad.name, result.stderr)
    else:
        assert t(key).split("{")[0] in result.stderr, (bad.name, result.stderr)
    assert sha(target) == before, bad.name


def test_every_broken_rule_refuses_the_pack_and_leaves_the_target_unchanged(cdt, tmp_path):
    good = pack(cdt, rich_commune(cdt, tmp_path / "hungson.db"), tmp_path / "packs")
    district = tmp_path / "district.db"
    _run(cdt, "--db", district, "init", "--district", "171")
    folder = tmp_path / "bad"
    for name, (edit, table, column, key) in CASES.items():
        bad = edited(good, folder, name.replace(" ", "_").replace("/", "-"), edit)
        _expect_refused(cdt, district, bad, table, column, key)
    # The good pack still merges, and the district's report works on what came in.
    assert cdt("--db", district, "merge", good).exit_code == 0
    report = cdt("--db", district, "report", "--district", "--month", "2026-10", "--format", "json")
    assert report.exit_code == 0, report.output
    assert json.loads(report.stdout)["total"]["people_helped"]["month"] == 2


def test_english_reason_names_the_rule(cdt, tmp_path):
    good = pack(cdt, rich_commune(cdt, tmp_path / "hungson.db"), tmp_path / "packs")
    district = tmp_path / "district.db"
    _run(cdt, "--db", district, "init", "--district", "171")
    bad = edited(good, tmp_path / "bad", "people", set_row("visit", {"people": 2 ** 63 - 1}))
    result = cdt("--lang", "en", "--db", district, "merge", bad)
    assert result.exit_code == 1
    assert "table visit" in result.stderr and "column people" in result.stderr
    assert "number outside the allowed range" in result.stderr


def test_a_carried_row_beyond_its_origins_clock_is_refused_at_the_province(cdt, tmp_path):
    """A district pack's rows of a commune: rev within the commune's clock as the origin table records it."""
    good = pack(cdt, rich_commune(cdt, tmp_path / "hungson.db"), tmp_path / "packs")
    district = tmp_path / "district.db"
    _run(cdt, "--db", district, "init", "--district", "171")
    _run(cdt, "--db", district, "merge", good)
    district_pack = pack(cdt, district, tmp_path / "dpacks")
    province = tmp_path / "province.db"
    _run(cdt, "--db", province, "init", "--province", "legacy:19")
    bad = edited(district_pack, tmp_path / "bad", "clock", sql("UPDATE origin SET clock = clock - 1"))
    _expect_refused(cdt, province, bad, "target", "rev", "valid.rule.rev_after_clock")  # the last write
    assert cdt("--db", province, "merge", district_pack).exit_code == 0


def test_tombstones_are_not_held_to_the_value_rules(cdt, tmp_path):
    """A removed member keeps only its identity (an empty name): the pack merges."""
    path = rich_commune(cdt, tmp_path / "hungson.db")
    good = pack(cdt, path, tmp_path / "packs")
    bad = edited(good, tmp_path / "t", "tomb", set_row("member", {"full_name": "", "phone": None, "deleted": 1},
                                                          "role <> 'leader'"))
    district = tmp_path / "district.db"
    _run(cdt, "--db", district, "init", "--district", "171")
    assert cdt("--db", district, "merge", bad).exit_code == 0


# -- the SQL rules agree with the validators of models.py ------------------------------------------


def _rule_rejects(table: str, column: str, value, today: date) -> bool:
    """Whether any rule on table.column refuses a live row holding value (other columns valid)."""
    conn = sqlite3.connect(":memory:")
    conn.execute("BEGIN")
    apply_migrations(conn, 0, SCHEMA_VERSION)
    conn.execute("COMMIT")
    base = {
        "hamlet": {"name": "Xóm", "kind": "xóm"},
        "member": {"team_id": "t", "full_name": "An", "role": "member"},
        "visit": {"date": "2026-01-01", "team_id": "t", "household": "H1", "people": 1, "services": '["dvc"]',
                  "members": "[]"},
        "training": {"topic": "x", "date": "2026-01-01"},
        "target": {"indicator": "x", "year": 2026, "value": 1, "percent": 0},
    }[table]
    row = {"id": "r", "origin": "o", "rev": 1, "deleted": 0, "hash": "h", **base, column: value}
    conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))
    rules.register_functions(conn)
    args = rules.parameters(today)
    for rule in rules.rules():
        if rule.table == table and rule.column == column and "valid.rule.reference" != rule.key:
            if conn.execute(f"SELECT 1 FROM {table} r WHERE r.deleted = 0 AND ({rule.sql})", args).fetchone():
                return True
    return False


def _model_accepts(model, field: str, value, **others) -> bool:
    try:
        made = model(**{**others, field: value})
    except Exception:  # noqa: BLE001 — ValidationError
        return False
    return getattr(made, field) == value


NUMBERS = st.one_of(st.integers(-10, 600_000), st.sampled_from([2 ** 63 - 1, -(2 ** 63), 0, 1, 200, 201, 100_000,
                                                                100_001, 500_000, 500_001, 1919, 1920]))


@given(value=NUMBERS)
def test_ranges_agree_with_the_models(value):
    today = date.today()
    hamlet = {"name": "Xóm", "kind": "xóm"}
    assert _rule_rejects("hamlet", "households", value, today) == (
        not _model_accepts(models.HamletIn, "households", value, **hamlet))
    assert _rule_rejects("hamlet", "working_age", value, today) == (
        not _model_accepts(models.HamletIn, "working_age", value, **hamlet))
    assert _rule_rejects("member", "birth_year", value, today) == (
        not _model_accepts(models.MemberIn, "birth_year", value, team_id="t", full_name="An"))
    visit = {"date": "2026-01-01", "team_id": "t", "household": "H1", "services": ["dvc"]}
    assert _rule_rejects("visit", "people", value, today) == (
        not _model_accepts(models.VisitIn, "people", value, **visit))


DAYS = st.one_of(
    st.dates(date(1900, 1, 1), date(2100, 12, 31)).map(date.isoformat),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"),
    st.sampled_from(["2026-02-31", "2026-02-29", "2024-02-29", "9999-99-99", "1944-12-31", "1945-01-01",
                     "2026-1-5", " 2026-01-05", "05/01/2026", ""]),
)


@examples(thorough=400)
@given(value=DAYS)
def test_dates_agree_with_the_models(value):
    # The merge allows a day's tolerance after its today: compared with the models' rule a day earlier.
    yesterday = date.today() - timedelta(days=1)
    try:
        accepted = parsers.parse_date(value, not_future=True) == value
    except ValueError:
        accepted = False
    assert _rule_rejects("training", "date", value, yesterday) == (not accepted)


WORDS = st.one_of(st.text(max_size=12), st.sampled_from(
    [*HAMLET_KINDS, *parsers.ROLES, *parsers.GENDERS, *parsers.TRAINING_MODES, "thon", "Xóm", "tổ trưởng",
     "nam", "nữ", "online ", "truc tiep"]))


@given(value=WORDS)
def test_word_lists_agree_with_the_models(value):
    today = date.today()

    def canonical(parser) -> bool:
        try:
            return parser(value) == value
        except ValueError:
            return False

    assert _rule_rejects("hamlet", "kind", value, today) == (not canonical(parsers.parse_kind))
    assert _rule_rejects("member", "role", value, today) == (not canonical(parsers.parse_role))
    assert _rule_rejects("member", "gender", value, today) == (not canonical(parsers.parse_gender))
    assert _rule_rejects("training", "mode", value, today) == (not canonical(parsers.parse_mode))
