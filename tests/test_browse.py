"""cdt browse's copy and canned queries: what is served, what is left out, and the report's own figures.

The queries run on the copy exactly as the web server runs them (kits.browse.run_query: the same SQL,
the same functions); tests/test_browse_server.py drives the real server over HTTP.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import socket
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from cdt.core import files
from cdt.core.i18n import set_language, t
from cdt.core.rows import ref_of
from cdt.reports.browse import phrases, prepare_connection
from cdt.reports.browse_copy import DROPPED_TABLES, make_copy
from cdt.reports.browse_queries import build_queries
from kits.browse import HOUSEHOLD, MONTH, NAME, NOTE, PHONE, build_commune, build_district, build_province, run_query

END = "2026-11-30"


@pytest.fixture(scope="module")
def areas(tmp_path_factory):
    """A commune, a district and a province file, built once for the module."""
    base = tmp_path_factory.mktemp("browse")
    return {"commune": build_commune(base / "commune"), "district": build_district(base / "district"),
            "province": build_province(base / "province")}


@pytest.fixture
def copy_of(areas):
    """make_copy of one of the areas' files (removed after the test)."""
    made = []

    def make(level: str, **options):
        copy = make_copy(areas[level].path, **options)
        made.append(copy)
        return copy

    yield make
    for copy in made:
        files.remove(copy.job)


def report(cdt, path: Path) -> dict:
    result = cdt("--db", path, "report", "--month", MONTH, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def report_rows(data: dict) -> list[dict]:
    """The report's rows at the copy's grain: hamlets on a commune file, communes above it."""
    return data["commune_rows"] if data["level"] == "province" else data["rows"]


def key_of(row: dict, level: str) -> str:
    return ref_of(row["unit"]["id"]) if level == "commune" else row["unit"]["code"]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the report's figures ----------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["commune", "district", "province"])
def test_visits_households_and_people_per_unit_equal_the_report(cdt, areas, copy_of, level):
    data = report(cdt, areas[level].path)
    copy = copy_of(level)
    got = {row[t("browse.col.code")]: row for row in run_query(copy, "activity", month="11/2026")}
    expected_rows = report_rows(data)
    assert len(expected_rows) >= 3 and set(got) == {key_of(row, level) for row in expected_rows}
    columns = {"visits": ("visits", "visits_ytd"), "households_reached": ("households_month", "households_ytd"),
               "people_helped": ("people_month", "people_ytd")}
    for row in expected_rows:
        mine = got[key_of(row, level)]
        assert mine[t("browse.col.month")] == "11/2026"
        for indicator, (month, ytd) in columns.items():
            assert mine[t(f"browse.col.{month}")] == row[indicator]["month"], (row["unit"], indicator)
            assert mine[t(f"browse.col.{ytd}")] == row[indicator]["ytd"], (row["unit"], indicator)
    assert sum(r[t("browse.col.visits")] for r in got.values()) == data["total"]["visits"]["month"] > 0
    assert sum(r[t("browse.col.people_month")] for r in got.values()) == data["total"]["people_helped"]["month"]


@pytest.mark.parametrize("level", ["commune", "district", "province"])
def test_people_by_service_and_unit_equal_the_report(cdt, areas, copy_of, level):
    data = report(cdt, areas[level].path)
    code_of = {service["name"]: service["code"] for service in data["services"]}
    copy = copy_of(level)
    got = {(row[t("browse.col.code")], code_of[row[t("browse.col.service")]]): row[t("browse.col.people_month")]
           for row in run_query(copy, "services", month=MONTH)}
    wanted = {(key_of(row, level), code): flow["month"] for row in report_rows(data)
              for code, flow in row["people_by_service"].items() if flow["month"]}
    assert got == wanted and len(wanted) > 5


@pytest.mark.parametrize("level", ["commune", "district", "province"])
def test_members_by_affiliation_add_up_to_the_report(cdt, areas, copy_of, level):
    data = report(cdt, areas[level].path)
    copy = copy_of(level)
    rows = run_query(copy, "affiliations", month=MONTH)
    assert sum(r[t("browse.col.members")] for r in rows) == data["total"]["members"] > 0
    assert sum(r[t("browse.col.trained")] for r in rows) == data["total"]["members_trained"]
    if level != "commune":
        one = report_rows(data)[0]["unit"] if level == "district" else data["commune_rows"][0]["unit"]
        one_row = next(r for r in report_rows(data) if r["unit"]["code"] == one["code"])
        only = run_query(copy, "affiliations", month=MONTH, unit=one["name"])
        assert sum(r[t("browse.col.members")] for r in only) == one_row["members"]


@pytest.mark.parametrize("level", ["district", "province"])
def test_units_not_reported_are_the_report_s(cdt, areas, copy_of, level):
    data = report(cdt, areas[level].path)
    copy = copy_of(level)
    got = [row[t("browse.col.commune")] for row in run_query(copy, "not_reported", month=MONTH)]
    missing = [entry["unit"]["name"] for entry in data["completeness"] if not entry["reported"]]
    assert sorted(got) == sorted(missing) and "Xã Phúc Lương" in got and "Thị trấn Hùng Sơn" not in got


def _team_active(team: dict | None, end: str) -> bool:
    if team is None or team["deleted"] or (team["founded_on"] and team["founded_on"] > end):
        return False
    return team["dissolved_on"] > end if team["dissolved_on"] else team["status"] != "dissolved"


def test_teams_without_a_trained_member_follow_the_register(areas, copy_of):
    data = areas["district"].data
    teams = {team["id"]: team for team in data["team"]}
    trainings = {tr["id"]: tr for tr in data["training"] if not tr["deleted"] and tr["date"] <= END}
    trained = {a["member_id"] for a in data["attendance"] if not a["deleted"] and a["training_id"] in trainings}
    active = [m for m in data["member"] if not m["deleted"] and (m["joined_on"] or "") <= END
              and (m["left_on"] is None or m["left_on"] > END) and _team_active(teams[m["team_id"]], END)]
    with_trained = {m["team_id"] for m in active if m["id"] in trained}
    wanted = sorted(ref_of(team["id"]) for team in teams.values()
                    if _team_active(team, END) and team["id"] not in with_trained)
    got = run_query(copy_of("district"), "untrained_teams", month="11/2026")
    assert sorted(row[t("browse.col.ref")] for row in got) == wanted and wanted
    members = {ref: sum(1 for m in active if ref_of(m["team_id"]) == ref) for ref in wanted}
    assert {row[t("browse.col.ref")]: row[t("browse.col.members")] for row in got} == members


@pytest.mark.parametrize("months, since", [("3", "2026-09-01"), ("", "2026-09-01"), ("12", "2025-12-01")])
def test_hamlets_without_a_visit_follow_the_register(areas, copy_of, months, since):
    data = areas["district"].data
    teams = {team["id"]: team for team in data["team"]}
    last: dict[str, str] = {}
    for visit in data["visit"]:
        if not visit["deleted"] and visit["date"] <= END:
            hamlet = teams[visit["team_id"]]["hamlet_id"]
            last[hamlet] = max(last.get(hamlet, ""), visit["date"])
    wanted = sorted(ref_of(h["id"]) for h in data["hamlet"] if not h["deleted"] and last.get(h["id"], "") < since)
    got = run_query(copy_of("district"), "quiet_hamlets", month=MONTH, months=months)
    assert sorted(row[t("browse.col.ref")] for row in got) == wanted
    for row in got:
        assert row[t("browse.col.last_visit")] is None or row[t("browse.col.last_visit")] < since


def test_words_that_cannot_be_read_say_so_in_the_result(copy_of):
    copy = copy_of("district")
    rows = run_query(copy, "activity", month="13/2026")
    assert len(rows) == 1 and list(rows[0].values())[0] == "tháng '13/2026' không hợp lệ (viết YYYY-MM, ví dụ 2026-10)"
    rows = run_query(copy, "quiet_hamlets", month=MONTH, months="ba")
    assert list(rows[0].values())[0] == "số tháng không hợp lệ: 'ba' không phải là số" and len(rows) == 1


def test_the_unit_field_takes_part_of_a_name_without_diacritics(copy_of):
    copy = copy_of("district")
    rows = run_query(copy, "activity", month=MONTH, unit="phuc luong")
    assert [row[t("browse.col.commune")] for row in rows] == ["Xã Phúc Lương"]
    rows = run_query(copy, "services", month=MONTH, service="vneid")
    assert {row[t("browse.col.service")] for row in rows} == {"Định danh điện tử VNeID"}


def test_an_empty_month_is_the_last_full_month(copy_of):
    copy = copy_of("district")
    today = date.today()
    last = (today.replace(day=1) - timedelta(days=1))
    rows = run_query(copy, "activity")
    assert {row[t("browse.col.month")] for row in rows} == {f"{last.month:02d}/{last.year}"}


# -- what the copy holds -------------------------------------------------------------------------------------


def test_the_copy_holds_no_key_journal_or_personal_field(areas, copy_of):
    area = areas["district"]
    before = sha(area.path)
    copy = copy_of("district")
    assert sha(area.path) == before
    conn = sqlite3.connect(copy.path)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    assert not tables & set(DROPPED_TABLES) and "own_key" not in tables and "undo_journal" not in tables
    everything = b"".join(copy.path.read_bytes().split(b"\x00"))
    for mark in (PHONE, HOUSEHOLD, NOTE, NAME):
        assert mark.encode() not in everything, mark
    assert area.secret not in copy.path.read_bytes()
    assert conn.execute("SELECT count(DISTINCT household) FROM visit").fetchone()[0] == \
        len({v["household"] for v in area.data["visit"]})
    conn.close()


def test_personal_copy_keeps_phones_codes_notes_and_names(areas, copy_of):
    copy = copy_of("district", personal=True)
    conn = sqlite3.connect(copy.path)
    prepare_connection(conn)
    assert conn.execute(f"SELECT count(*) FROM member WHERE phone LIKE '{PHONE}%' AND full_name LIKE '{NAME}%'"
                        ).fetchone()[0] > 0
    assert conn.execute(f"SELECT count(*) FROM visit WHERE household LIKE '{HOUSEHOLD}%'").fetchone()[0] > 0
    columns = {row[1] for view in copy.views if view.key in ("member", "visit")
               for row in conn.execute(f"PRAGMA table_info(\"{view.name}\")")}
    assert {t("browse.col.phone"), t("browse.col.household"), t("browse.col.notes"), t("browse.col.full_name")} <= columns
    conn.close()


def test_member_names_show_on_a_commune_file_and_where_the_setting_says(cdt, areas, copy_of, tmp_path):
    names = {view.key: view for view in copy_of("commune").views}
    assert copy_of("commune").names and t("browse.col.full_name") in names["member"].sql
    assert not copy_of("district").names
    district = tmp_path / "district.db"
    district.write_bytes(areas["district"].path.read_bytes())
    assert cdt("--db", district, "settings", "set", "browse_member_names", "true").exit_code == 0
    copy = make_copy(district)
    try:
        conn = sqlite3.connect(copy.path)
        assert copy.names and conn.execute(f"SELECT count(*) FROM member WHERE full_name LIKE '{NAME}%'").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM member WHERE phone IS NOT NULL").fetchone()[0] == 0
        conn.close()
    finally:
        files.remove(copy.job)


def test_views_and_queries_speak_the_run_language(copy_of):
    set_language("en")
    try:
        copy = copy_of("district")
        assert [view.name for view in copy.views][:5] == ["Hamlets", "Teams", "Members", "Trainings", "Visits"]
        assert build_queries(copy)[0].title == "Visits, households and people helped by unit"
        assert "Visits" in run_query(copy, "activity", month=MONTH)[0]
    finally:
        set_language(None)
    copy = copy_of("district")
    assert [view.name for view in copy.views][:5] == ["Thôn, tổ dân phố", "Tổ công nghệ số", "Thành viên",
                                                      "Lớp tập huấn", "Lượt hỗ trợ"]


def test_every_datasette_phrase_replaced_is_in_its_templates():
    """A newer Datasette whose words moved would leave English on the page: this names the phrase."""
    folder = Path(importlib.util.find_spec("datasette").origin).parent / "templates"
    sources = "".join(path.read_text(encoding="utf-8") for path in folder.glob("*.html"))
    assert [english for english, _ in phrases() if english not in sources] == []


# -- the command's refusals ------------------------------------------------------------------------------------


def test_without_datasette_the_command_says_how_to_install_it(cdt, commune, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "datasette" else real(name, *a))
    before = commune.read_bytes()
    result = cdt("browse", "--no-open")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Lỗi: chưa cài phần xem dữ liệu trong trình duyệt (thiếu datasette): "
                                     "hãy cài bằng lệnh  pip install 'cdt[browse]'")
    assert commune.read_bytes() == before


def test_a_port_in_use_is_refused_with_the_way_out(cdt, commune):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    before = commune.read_bytes()
    try:
        result = cdt("browse", "--no-open", "--port", str(port), "--personal")
    finally:
        taken.close()
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == t("browse.personal_warning")
    assert lines[-1] == f"Lỗi: {t('browse.port_busy', port=port)}"
    assert commune.read_bytes() == before


def test_a_file_that_is_not_cdt_s_is_refused(cdt, tmp_path):
    other = tmp_path / "ghi chép.db"
    other.write_text("không phải tệp cdt", encoding="utf-8")
    result = cdt("--db", other, "browse", "--no-open")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Lỗi: {t('store.not_cdt', path=str(other))}"
    assert other.read_text(encoding="utf-8") == "không phải tệp cdt"
    missing = cdt("--db", tmp_path / "không có.db", "browse", "--no-open")
    assert missing.exit_code == 1 and missing.stderr.strip() == \
        f"Lỗi: {t('store.missing', path=str(tmp_path / 'không có.db'))}"


def test_a_port_out_of_range_is_a_usage_error(cdt, commune):
    result = cdt("browse", "--port", "70000")
    assert result.exit_code == 2 and "--port" in result.stderr
