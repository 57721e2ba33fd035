"""The commune register driven through the CLI, as a clerk would use it."""

from __future__ import annotations

import json
import random
import unicodedata
from datetime import date, timedelta

import pytest
from cdt.core.schema import SCHEMA_VERSION
from kits.templates import TEMPLATES


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def as_json(result):
    return json.loads(ok(result).stdout)


@pytest.fixture
def hamlet_team(cdt, commune):
    def build(_path):
        ok(cdt("hamlet", "add", "Xóm Một", "--kind", "xóm", "--households", "50", "--working-age", "120"))
        ok(cdt("team", "add", "--hamlet", "Xóm Một", "--decision", "1/QĐ-UBND", "--decided-on", "01/06/2022"))

    return TEMPLATES.copy("register-hamlet-team", commune, build)


def test_init_creates_commune_and_info_reports_it(cdt, commune):
    info = as_json(cdt("info", "--format", "json"))
    assert info["level"] == "commune"
    assert info["unit"] == {"code": "05761", "name": "Thị trấn Hùng Sơn"}
    assert info["district"]["code"] == "171" and info["province"]["code"] == "19"
    assert info["structure"] == "legacy" and info["schema_version"] == SCHEMA_VERSION
    assert info["counts"]["hamlet"] == 0


def test_init_refuses_to_overwrite(cdt, commune):
    before = commune.read_bytes()
    result = cdt("init", "--commune", "05767")
    assert result.exit_code == 1 and "không ghi đè" in result.stderr
    assert commune.read_bytes() == before


def test_init_ambiguous_code_lists_both_structures(cdt, db_path):
    result = cdt("init", "--commune", "24175")
    assert result.exit_code == 1
    assert "Hòa Khánh" in result.stderr and "Hòa Phú" in result.stderr
    assert not db_path.exists()
    ok(cdt("init", "--commune", "24175", "--structure", "2025"))
    assert as_json(cdt("info", "--format", "json"))["unit"]["name"] == "Xã Hòa Phú"


def test_init_by_name_and_interactive_choice(cdt, db_path, monkeypatch):
    monkeypatch.setattr("cdt.commands.common.interactive", lambda: True)
    result = cdt("init", "--commune", "24175", input="2\n")
    assert result.exit_code == 0, result.output
    info = as_json(cdt("info", "--format", "json"))
    assert info["unit"]["code"] == "24175"


def test_hamlets_teams_members_round_trip(cdt, hamlet_team):
    ok(cdt("member", "add", "Hoàng Văn An", "--team", "Xóm Một", "--role", "tổ trưởng", "--phone", "091 234 5678",
           "--gender", "nam", "--birth-year", "1980", "--affiliation", "Đoàn Thanh niên"))
    ok(cdt("member", "add", "Lê Thị Bình", "--team", "xom mot", "--role", "member", "--gender", "nữ",
           "--phone", "+84987654321"))
    members = as_json(cdt("member", "list", "--format", "json"))
    assert [m["full_name"] for m in members] == ["Hoàng Văn An", "Lê Thị Bình"]
    an, binh = members
    assert (an["role"], an["phone"], an["gender"], an["birth_year"], an["affiliation"], an["team"]) == (
        "leader", "0912345678", "male", 1980, "Đoàn Thanh niên", "Xóm Một")
    assert (binh["role"], binh["phone"], binh["gender"]) == ("member", "0987654321", "female")
    teams = as_json(cdt("team", "list", "--format", "json"))
    assert teams[0]["members"] == 2 and teams[0]["leader"] == "Hoàng Văn An"
    assert teams[0]["decision_number"] == "1/QĐ-UBND" and teams[0]["decision_date"] == "2022-06-01"


def test_member_search_ignores_diacritics_and_case(cdt, hamlet_team):
    ok(cdt("member", "add", "Nguyễn Văn Đức", "--team", "Xóm Một"))
    ok(cdt("member", "edit", "nguyen van duc", "--phone", "0912000111"))
    assert as_json(cdt("member", "list", "--format", "json"))[0]["phone"] == "0912000111"
    ok(cdt("member", "edit", "DUC", "--role", "tổ phó"))
    assert as_json(cdt("member", "list", "--format", "json"))[0]["role"] == "deputy"


def test_decomposed_input_is_stored_nfc(cdt, commune):
    nfd = unicodedata.normalize("NFD", "Xóm Đồng Tâm")
    ok(cdt("hamlet", "add", nfd, "--kind", unicodedata.normalize("NFD", "xóm")))
    name = as_json(cdt("hamlet", "list", "--format", "json"))[0]["name"]
    assert name == unicodedata.normalize("NFC", "Xóm Đồng Tâm") and name != nfd


def test_members_sorted_by_given_name_vietnamese_order(cdt, hamlet_team):
    ok(cdt("settings", "set", "team_max_members", "10"))
    for name in ["Trần Văn Bình", "Lê Thị Ánh", "Nguyễn Văn An", "Đỗ Đức Dũng", "Phạm Thị Ân", "Vũ Văn Đạt"]:
        ok(cdt("member", "add", name, "--team", "Xóm Một"))
    names = [m["full_name"] for m in as_json(cdt("member", "list", "--format", "json"))]
    assert names == ["Nguyễn Văn An", "Lê Thị Ánh", "Phạm Thị Ân", "Trần Văn Bình", "Đỗ Đức Dũng", "Vũ Văn Đạt"]


def test_team_size_rule_is_a_setting(cdt, hamlet_team):
    for i in range(5):
        ok(cdt("member", "add", f"Thành Viên {i}", "--team", "Xóm Một"))
    sixth = cdt("member", "add", "Thành Viên Sáu", "--team", "Xóm Một")
    assert sixth.exit_code == 1 and "team_max_members" in sixth.stderr
    ok(cdt("settings", "set", "team_max_members", "7"))
    ok(cdt("member", "add", "Thành Viên Sáu", "--team", "Xóm Một"))
    assert len(as_json(cdt("member", "list", "--format", "json"))) == 6


def test_team_below_minimum_is_flagged(cdt, hamlet_team):
    ok(cdt("member", "add", "Hoàng Văn An", "--team", "Xóm Một"))
    team = as_json(cdt("team", "list", "--format", "json"))[0]
    assert team["below_minimum"] is True
    shown = ok(cdt("team", "show", "Xóm Một"))
    assert "dưới mức tối thiểu 2" in shown.stdout
    ok(cdt("member", "add", "Lê Thị Bình", "--team", "Xóm Một"))
    assert as_json(cdt("team", "list", "--format", "json"))[0]["below_minimum"] is False


def test_dissolve_then_new_team_for_same_hamlet(cdt, hamlet_team):
    second = cdt("team", "add", "--hamlet", "Xóm Một")
    assert second.exit_code == 1 and "đã có tổ đang hoạt động" in second.stderr
    ok(cdt("team", "dissolve", "Xóm Một", "--date", "01/01/2024"))
    ok(cdt("team", "add", "--hamlet", "Xóm Một", "--decision", "9/QĐ-UBND", "--decided-on", "02/01/2024"))
    teams = as_json(cdt("team", "list", "--format", "json"))
    assert sorted(t["status"] for t in teams) == ["active", "dissolved"]


def test_member_leave_and_remove_clears_personal_data(cdt, hamlet_team, db_path):
    ok(cdt("member", "add", "Hoàng Văn An", "--team", "Xóm Một", "--phone", "0912345678", "--birth-year", "1980"))
    ok(cdt("member", "add", "Lê Thị Bình", "--team", "Xóm Một"))
    ok(cdt("member", "leave", "Lê Thị Bình", "--date", "01/09/2026"))
    assert "Lê Thị Bình" not in ok(cdt("member", "list")).stdout
    everyone = as_json(cdt("member", "list", "--all", "--format", "json"))
    assert {m["full_name"]: m["left_on"] for m in everyone}["Lê Thị Bình"] == "2026-09-01"
    ok(cdt("member", "remove", "Hoàng Văn An", "--yes"))
    import sqlite3

    row = sqlite3.connect(db_path).execute(
        "SELECT full_name, phone, birth_year, deleted FROM member WHERE deleted = 1").fetchone()
    assert row == ("", None, None, 1)


def test_training_and_attendance(cdt, hamlet_team):
    ok(cdt("member", "add", "Hoàng Văn An", "--team", "Xóm Một"))
    ok(cdt("member", "add", "Lê Thị Bình", "--team", "Xóm Một"))
    added = ok(cdt("training", "add", "Kỹ năng số", "--date", "2026-09-01", "--organiser", "Sở KH&CN",
                   "--mode", "trực tuyến"))
    ref = added.stdout.strip().splitlines()[-1]
    assert len(ref) == 8
    ok(cdt("training", "attend", ref, "--member", "hoang van an", "--member", "Lê Thị Bình"))
    again = cdt("training", "attend", "ky nang so", "--member", "Hoàng Văn An")  # a second attendance: refused, named
    assert again.exit_code == 1 and "Hoàng Văn An đã được ghi tham dự buổi \"Kỹ năng số\"" in again.stderr
    training = as_json(cdt("training", "list", "--format", "json"))[0]
    assert training["attendees"] == 2 and training["mode"] == "online" and training["organiser"] == "Sở KH&CN"
    assert all(m["trained"] for m in as_json(cdt("member", "list", "--format", "json")))


def test_visits_log_edit_remove(cdt, hamlet_team):
    ok(cdt("member", "add", "Hoàng Văn An", "--team", "Xóm Một"))
    logged = ok(cdt("visit", "log", "--team", "Xóm Một", "--household", "h-01", "--people", "3",
                    "--service", "dvc", "--service", "VNeID", "--service", "Thanh toán không dùng tiền mặt",
                    "--date", "05/10/2026", "--member", "Hoàng Văn An"))
    visit = as_json(cdt("visit", "list", "--format", "json"))[0]
    assert visit["ref"] in logged.stdout
    assert (visit["date"], visit["household"], visit["people"]) == ("2026-10-05", "H-01", 3)
    assert visit["services"] == ["dvc", "payment", "vneid"] and visit["members"] == ["Hoàng Văn An"]
    ok(cdt("visit", "edit", visit["ref"], "--people", "4"))
    assert as_json(cdt("visit", "list", "--format", "json"))[0]["people"] == 4
    ok(cdt("visit", "remove", visit["ref"]))
    assert as_json(cdt("visit", "list", "--format", "json")) == []


def test_visit_default_date_is_today(cdt, hamlet_team):
    ok(cdt("visit", "log", "--team", "Xóm Một", "--household", "H2", "--people", "1", "--service", "dvc"))
    assert as_json(cdt("visit", "list", "--format", "json"))[0]["date"] == date.today().isoformat()


def test_provincial_service_with_aliases(cdt, hamlet_team):
    ok(cdt("service", "add", "id-thainguyen", "--name", "Thái Nguyên ID", "--alias", "ID Thái Nguyên"))
    ok(cdt("visit", "log", "--team", "Xóm Một", "--household", "H3", "--people", "1",
           "--service", "id thai nguyen", "--date", "01/10/2026"))
    assert as_json(cdt("visit", "list", "--format", "json"))[0]["services"] == ["id-thainguyen"]
    codes = [s["code"] for s in as_json(cdt("service", "list", "--format", "json"))]
    assert codes[:9] == ["dvc", "vneid", "payment", "ecommerce", "ehealth", "esign", "elearning",
                         "cybersafety", "bdhvs"]
    assert "id-thainguyen" in codes


def test_settings_list_and_bad_values(cdt, commune):
    assert as_json(cdt("settings", "list", "--format", "json"))["team_max_members"] == "5"
    assert cdt("settings", "set", "team_max_members", "many").exit_code == 1
    assert cdt("settings", "set", "team_min_members", "9").exit_code == 1  # above the maximum
    assert cdt("settings", "set", "no_such_key", "1").exit_code == 1


def test_english_messages(cdt, commune):
    result = cdt("--lang", "en", "hamlet", "add", "Xóm Một", "--kind", "planet")
    assert result.exit_code == 1 and "no kind 'planet'" in result.stderr


def test_env_language(cdt, commune, monkeypatch):
    monkeypatch.setenv("CDT_LANG", "en")
    assert "Added xóm Xóm Một" in ok(cdt("hamlet", "add", "Xóm Một", "--kind", "xóm")).stdout


def test_missing_database_explains_how_to_start(cdt, tmp_path):
    result = cdt("--db", tmp_path / "nothing here.db", "hamlet", "list")
    assert result.exit_code == 1 and "cdt init" in result.stderr
    assert not (tmp_path / "nothing here.db").exists()


@pytest.mark.durable
def test_database_in_use_is_a_clear_message(cdt, commune):
    import sqlite3

    holder = sqlite3.connect(commune, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = cdt("hamlet", "add", "Xóm Hai", "--kind", "xóm")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1 and "đang được một chương trình khác sử dụng" in result.stderr


def test_clerks_full_session_round_trips(cdt, commune):
    """3 hamlets, 3 teams, 10 members, 2 trainings with attendance, 30 visits: back exactly as entered."""
    rng = random.Random(7)
    hamlets = [("Xóm Đồng Tâm", "xóm", 80, 200), ("Tổ dân phố Sơn Tập", "tổ dân phố", 120, 310),
               ("Bản Nà Hin", "bản", 45, 90)]
    for name, kind, households, working in hamlets:
        ok(cdt("hamlet", "add", name, "--kind", kind, "--households", households, "--working-age", working))
        ok(cdt("team", "add", "--hamlet", name, "--decision", f"{households}/QĐ-UBND", "--decided-on", "15/06/2022"))
    people = [
        ("Hoàng Văn An", 0, "leader", "0912345601", "male", 1975, "Trưởng thôn"),
        ("Lê Thị Bình", 0, "deputy", "0912345602", "female", 1990, "Đoàn Thanh niên"),
        ("Nguyễn Thị Cúc", 0, "member", "0912345603", "female", 1985, "Hội Phụ nữ"),
        ("Trần Văn Dũng", 1, "leader", "0912345604", "male", 1970, "Trưởng thôn"),
        ("Phạm Văn Đức", 1, "deputy", "0912345605", "male", 1995, "Đoàn Thanh niên"),
        ("Vũ Thị Hà", 1, "member", "0912345606", "female", 1992, "Viettel"),
        ("Đỗ Văn Khánh", 1, "member", "0912345607", "male", 1988, "Công an xã"),
        ("Lò Văn Lả", 2, "leader", "0912345608", "male", 1980, "Trưởng bản"),
        ("Lò Thị Mai", 2, "member", "0912345609", "female", 1998, "Hội Phụ nữ"),
        ("Hà Văn Nam", 2, "member", "0912345610", "male", 2000, "Tình nguyện viên"),
    ]
    for name, team, role, phone, gender, year, affiliation in people:
        ok(cdt("member", "add", name, "--team", hamlets[team][0], "--role", role, "--phone", phone,
               "--gender", gender, "--birth-year", year, "--affiliation", affiliation))
    refs = []
    for topic, when in (("Kỹ năng số cơ bản", "10/07/2026"), ("Hướng dẫn VNeID mức 2", "20/08/2026")):
        refs.append(ok(cdt("training", "add", topic, "--date", when, "--mode", "trực tiếp")).stdout.split()[-1])
    ok(cdt("training", "attend", refs[0], *sum((["--member", p[0]] for p in people[:6]), [])))
    ok(cdt("training", "attend", refs[1], *sum((["--member", p[0]] for p in people[5:]), [])))
    services = ["dvc", "vneid", "payment", "ecommerce", "ehealth", "esign", "elearning", "cybersafety", "bdhvs"]
    entered = []
    for i in range(30):
        team = rng.randrange(3)
        when = date(2026, 8, 1) + timedelta(days=rng.randrange(80))
        chosen = sorted(rng.sample(services, rng.randint(1, 3)))
        present = [p[0] for p in people if p[1] == team][: rng.randint(1, 2)]
        household = f"HS-{team}{i:03d}"
        count = rng.randint(1, 6)
        ok(cdt("visit", "log", "--team", hamlets[team][0], "--household", household, "--people", count,
               "--date", when.strftime("%d/%m/%Y"), *sum((["--service", s] for s in chosen), []),
               *sum((["--member", m] for m in present), [])))
        entered.append((when.isoformat(), hamlets[team][0], household, count, chosen, sorted(present)))

    got_hamlets = as_json(cdt("hamlet", "list", "--format", "json"))
    assert sorted((h["name"], h["kind"], h["households"], h["working_age"]) for h in got_hamlets) == sorted(hamlets)
    got_teams = as_json(cdt("team", "list", "--format", "json"))
    assert sorted((t["hamlet"], t["decision_number"], t["decision_date"], t["members"]) for t in got_teams) == sorted(
        (h[0], f"{h[2]}/QĐ-UBND", "2022-06-15", sum(1 for p in people if p[1] == i)) for i, h in enumerate(hamlets))
    got_members = as_json(cdt("member", "list", "--format", "json"))
    assert sorted((m["full_name"], m["team"], m["role"], m["phone"], m["gender"], m["birth_year"], m["affiliation"])
                  for m in got_members) == sorted(
        (p[0], hamlets[p[1]][0], p[2], p[3], p[4], p[5], p[6]) for p in people)
    assert sum(m["trained"] for m in got_members) == 10
    got_trainings = as_json(cdt("training", "list", "--format", "json"))
    assert sorted((t["topic"], t["date"], t["attendees"]) for t in got_trainings) == [
        ("Hướng dẫn VNeID mức 2", "2026-08-20", 5), ("Kỹ năng số cơ bản", "2026-07-10", 6)]
    got_visits = as_json(cdt("visit", "list", "--format", "json"))
    assert sorted((v["date"], v["team"], v["household"], v["people"], v["services"], sorted(v["members"]))
                  for v in got_visits) == sorted(entered)


def test_province_same_in_both_structures_defaults_to_legacy_and_says_so(cdt, db_path):
    result = ok(cdt("init", "--province", "19"))
    assert "--structure 2025" in result.stderr
    info = as_json(cdt("info", "--format", "json"))
    assert (info["level"], info["structure"], info["province"]["code"]) == ("province", "legacy", "19")


def test_province_in_the_2025_structure_on_request(cdt, db_path):
    ok(cdt("init", "--province", "19", "--structure", "2025"))
    assert as_json(cdt("info", "--format", "json"))["structure"] == "2025"


def test_district_file(cdt, db_path):
    ok(cdt("init", "--district", "171"))
    info = as_json(cdt("info", "--format", "json"))
    assert (info["level"], info["unit"]["name"], info["province"]["code"]) == ("district", "Huyện Đại Từ", "19")
    refused = cdt("hamlet", "add", "Xóm Một", "--kind", "xóm")
    assert refused.exit_code == 1 and "tệp của xã" in refused.stderr


def test_team_without_dates_accepts_earlier_visits(cdt, commune):
    ok(cdt("hamlet", "add", "Xóm Ba", "--kind", "xóm"))
    ok(cdt("team", "add", "--hamlet", "Xóm Ba"))
    assert as_json(cdt("team", "list", "--format", "json"))[0]["founded_on"] is None
    ok(cdt("visit", "log", "--team", "Xóm Ba", "--household", "B1", "--people", "1", "--service", "dvc",
           "--date", "01/03/2023"))


def test_numbers_are_never_misread(cdt, commune):
    ok(cdt("hamlet", "add", "Xóm Ba", "--kind", "xóm", "--households", "1.200", "--working-age", "2.0"))
    hamlet = as_json(cdt("hamlet", "list", "--format", "json"))[0]
    assert (hamlet["households"], hamlet["working_age"]) == (1200, 2)  # "1.200" is twelve hundred
    refused = cdt("hamlet", "edit", "Xóm Ba", "--households", "80.5")
    assert refused.exit_code == 1 and "phải là số nguyên" in refused.stderr


def test_settings_errors_say_what_is_wrong(cdt, commune):
    assert "không có thiết lập 'foo'" in cdt("settings", "set", "foo", "3").stderr
    assert "phải là số nguyên từ 1 đến 100" in cdt("settings", "set", "team_max_members", "abc").stderr
    assert "lớn hơn số tối đa" in cdt("settings", "set", "team_min_members", "9").stderr


def test_names_that_differ_by_a_diacritic_are_different(cdt, commune):
    ok(cdt("hamlet", "add", "Thôn Lân", "--kind", "thôn"))
    ok(cdt("hamlet", "add", "Thôn Lan", "--kind", "thôn"))
    assert "đã có thôn" in cdt("hamlet", "add", "thôn lân", "--kind", "thôn").stderr
    ok(cdt("hamlet", "add", "Xóm Hoà Bình", "--kind", "xóm"))
    assert cdt("hamlet", "add", "Xóm Hòa Bình", "--kind", "xóm").exit_code == 1  # tone placement only
    ok(cdt("team", "add", "--hamlet", "Thôn Lân"))
    ok(cdt("member", "add", "Nguyễn Thị Lan", "--team", "Thôn Lân"))
    ok(cdt("member", "add", "Nguyễn Thị Lân", "--team", "Thôn Lân"))
    ref = ok(cdt("training", "add", "Kỹ năng số", "--date", "01/09/2026")).stdout.split()[-1]
    ok(cdt("training", "attend", ref, "--member", "Nguyễn Thị Lân"))  # exact spelling wins
    ambiguous = cdt("training", "attend", ref, "--member", "nguyen thi lan")  # no diacritics: ask
    assert ambiguous.exit_code == 1 and "Nguyễn Thị Lan" in ambiguous.stderr and "Nguyễn Thị Lân" in ambiguous.stderr
    trained = {m["full_name"]: m["trained"] for m in as_json(cdt("member", "list", "--format", "json"))}
    assert trained == {"Nguyễn Thị Lan": False, "Nguyễn Thị Lân": True}


def test_visit_dates_must_fit_the_team_and_members(cdt, hamlet_team):
    ok(cdt("member", "add", "Hoàng Văn An", "--team", "Xóm Một", "--joined-on", "01/03/2023"))
    early = cdt("visit", "log", "--team", "Xóm Một", "--household", "H1", "--people", "1", "--service", "dvc",
                "--date", "01/01/2023", "--member", "Hoàng Văn An")
    assert early.exit_code == 1 and "chưa vào tổ" in early.stderr
    ok(cdt("visit", "log", "--team", "Xóm Một", "--household", "H1", "--people", "1", "--service", "dvc",
           "--date", "01/06/2023", "--member", "Hoàng Văn An"))
    late_founding = cdt("team", "edit", "Xóm Một", "--founded-on", "01/01/2024")
    assert late_founding.exit_code == 1 and "lượt hỗ trợ đầu tiên" in late_founding.stderr
    early_dissolution = cdt("team", "dissolve", "Xóm Một", "--date", "01/05/2023")
    assert early_dissolution.exit_code == 1 and "lượt hỗ trợ cuối" in early_dissolution.stderr
    ok(cdt("team", "dissolve", "Xóm Một", "--date", "01/07/2023"))
    team_ref = as_json(cdt("team", "list", "--format", "json"))[0]["ref"]
    after = cdt("visit", "log", "--team", team_ref, "--household", "H2", "--people", "1", "--service", "dvc",
                "--date", "01/08/2023")
    assert after.exit_code == 1 and "giải thể" in after.stderr


def test_member_list_json_has_every_live_row(cdt, hamlet_team):
    ok(cdt("member", "add", "Hoàng Văn An", "--team", "Xóm Một"))
    ok(cdt("member", "add", "Lê Thị Bình", "--team", "Xóm Một"))
    ok(cdt("member", "leave", "Lê Thị Bình", "--date", "01/09/2026"))
    rows = as_json(cdt("member", "list", "--format", "json"))
    assert {m["full_name"]: m["left_on"] for m in rows} == {"Hoàng Văn An": None, "Lê Thị Bình": "2026-09-01"}
    assert "Lê Thị Bình" not in ok(cdt("member", "list")).stdout  # the table shows who is active


def test_member_remove_asks_in_vietnamese(cdt, hamlet_team, monkeypatch):
    ok(cdt("member", "add", "Hoàng Văn An", "--team", "Xóm Một"))
    monkeypatch.setattr("cdt.commands.common.interactive", lambda: True)
    kept = ok(cdt("member", "remove", "Hoàng Văn An", input="k\n"))
    assert "[c/K]" in kept.stdout and "Không xóa" in kept.stdout
    assert len(as_json(cdt("member", "list", "--format", "json"))) == 1
    ok(cdt("member", "remove", "Hoàng Văn An", input="có\n"))
    assert as_json(cdt("member", "list", "--format", "json")) == []


# -- services typed at a prompt ------------------------------------------------------------------


CODES = "dvc, vneid, payment, ecommerce, ehealth, esign, elearning, cybersafety, bdhvs"


def test_words_of_one_service_are_taken_at_a_prompt_only(cdt, commune):
    from cdt.core.errors import NotFound
    from cdt.domain import services as register
    from cdt.store import Store

    store = Store.open(commune)
    try:
        assert register.service_from_words(store, "dinh danh") == "vneid"
        assert register.service_from_words(store, "Định danh điện tử VNeID") == "vneid"
        with pytest.raises(NotFound):  # words of several services: no guess
            register.service_from_words(store, "dien tu")
        with pytest.raises(NotFound):  # an option stays exact
            register.resolve_service(store, "dinh danh")
    finally:
        store.close()
    assert cdt("hamlet", "add", "La Cút", "--kind", "xóm").exit_code == 0
    assert cdt("team", "add", "--hamlet", "la cut", "--decided-on", "01/02/2026").exit_code == 0
    result = cdt("visit", "log", "--team", "la cut", "--household", "H1", "--people", "1", "--service", "dinh danh")
    assert result.stderr == ("Lỗi: không có dịch vụ 'dinh danh'; có phải vneid (Định danh điện tử VNeID)? "
                             f"Các mã: {CODES}\n")
