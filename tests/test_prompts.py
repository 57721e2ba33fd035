"""A clerk at a terminal is asked for what is missing; a script is told at once, in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kits.templates import TEMPLATES

pexpect = pytest.importorskip("pexpect")


@pytest.fixture
def team_la_cut(cdt, commune):
    def build(_path):
        assert cdt("hamlet", "add", "La Cút", "--kind", "xóm").exit_code == 0
        assert cdt("team", "add", "--hamlet", "la cut", "--decision", "12/QĐ-UBND",
                   "--decided-on", "01/02/2026").exit_code == 0
        assert cdt("member", "add", "Nguyễn Thị Lan", "--team", "la cut", "--role", "tổ trưởng").exit_code == 0
        assert cdt("member", "add", "Hoàng Văn Tú", "--team", "la cut").exit_code == 0

    return TEMPLATES.copy("prompts-la-cut", commune, build)


def _spawn(*args: str):
    env = {**os.environ, "COLUMNS": "100", "PYTHONIOENCODING": "utf-8"}
    env.pop("CDT_NO_INPUT", None)
    return pexpect.spawn(sys.executable, ["-m", "cdt", *args], encoding="utf-8", timeout=60, env=env)


def test_visit_logged_from_prompts_alone(cdt, team_la_cut):
    child = _spawn("visit", "log")
    typed = 0

    def answer(expected: str, text: str) -> None:
        nonlocal typed
        child.expect(expected)
        child.sendline(text)
        typed += len(text) + 1  # the keys, then Enter

    answer("1\\) La Cút", "")            # one team: Enter takes it
    answer("Mã hộ", "LC-004")
    answer("Số người", "2")
    # Words of one service's name, without diacritics (as the README says): taken, and named back.
    answer("Định danh điện tử VNeID", "dinh danh")
    child.expect("→ đã chọn Định danh điện tử VNeID \\(vneid\\)")
    answer("Ngày", "")                 # today
    answer("Nguyễn Thị Lan", "1")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "Đã ghi lượt hỗ trợ hộ LC-004" in child.before
    assert typed <= 30
    rows = json.loads(cdt("visit", "list", "--format", "json").stdout)
    assert len(rows) == 1
    assert rows[0]["household"] == "LC-004" and rows[0]["people"] == 2
    assert rows[0]["services"] == ["vneid"] and rows[0]["members"] == ["Nguyễn Thị Lan"]


def test_without_a_terminal_it_fails_at_once_in_one_line(team_la_cut):
    done = subprocess.run([sys.executable, "-m", "cdt", "visit", "log"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert done.returncode == 2
    assert done.stderr == "Lỗi: thiếu --team (xem: cdt visit log --help)\n"
    assert done.stdout == ""


@pytest.mark.parametrize("how", ["option", "env"])
def test_no_input_fails_at_once_even_at_a_terminal(team_la_cut, how):
    args = ["--no-input", "visit", "log", "--team", "la cut"] if how == "option" else ["visit", "log"]
    child = _spawn(*args)
    if how == "env":
        child.close()
        env = {**os.environ, "CDT_NO_INPUT": "1"}
        child = pexpect.spawn(sys.executable, ["-m", "cdt", *args], encoding="utf-8", timeout=60, env=env)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    missing = "--household" if how == "option" else "--team"
    assert child.before.strip() == f"Lỗi: thiếu {missing} (xem: cdt visit log --help)"


def test_progress_shows_on_a_terminal_only(cdt, team_la_cut, tmp_path):
    child = _spawn("pack", "--out", str(tmp_path / "stick"))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Đang đóng gói" in child.before
    quiet = cdt("pack", "--out", tmp_path / "stick2")
    assert quiet.exit_code == 0 and quiet.stderr == ""


def _answers(child, *pairs: tuple[str, str]) -> str:
    for expected, text in pairs:
        child.expect(expected)
        child.sendline(text)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return child.before


def test_hamlet_added_from_prompts_alone(cdt, commune):
    child = _spawn("hamlet", "add")
    _answers(child, ("Tên thôn", "Buôn Ea Kmát"),
             ("2\\) xóm", "buon"))          # a kind typed without diacritics
    rows = json.loads(cdt("hamlet", "list", "--format", "json").stdout)
    assert [(r["name"], r["kind"]) for r in rows] == [("Buôn Ea Kmát", "buôn")]


def test_hamlet_kind_not_known_is_asked_again(cdt, commune):
    child = _spawn("hamlet", "add", "La Cút")
    _answers(child, ("1\\) thôn", "lang mac"),  # not a kind: the reason, then the question again
             ("Lỗi: loại 'lang mac' không có; chọn: thôn, xóm", "2"))
    rows = json.loads(cdt("hamlet", "list", "--format", "json").stdout)
    assert [(r["name"], r["kind"]) for r in rows] == [("La Cút", "xóm")]


def test_member_added_from_prompts_alone(cdt, team_la_cut):
    child = _spawn("member", "add")
    before = _answers(child, ("Họ và tên", "Đỗ Thị Hoa"),
                      ("1\\) La Cút", ""),               # one team: Enter takes it
                      ("2\\) tổ phó", ""))               # Enter: thành viên
    assert "Đỗ Thị Hoa" in before
    rows = json.loads(cdt("member", "list", "--format", "json").stdout)
    hoa = next(r for r in rows if r["full_name"] == "Đỗ Thị Hoa")
    assert hoa["role"] == "member" and hoa["team"] == "La Cút"


def test_member_role_chosen_by_number(cdt, team_la_cut):
    child = _spawn("member", "add", "Đỗ Thị Hoa", "--team", "la cut")  # nothing missing: no question
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    child = _spawn("member", "add", "Lò Văn Sáu")
    _answers(child, ("1\\) La Cút", "la cut"), ("2\\) tổ phó", "2"))
    rows = json.loads(cdt("member", "list", "--format", "json").stdout)
    assert next(r for r in rows if r["full_name"] == "Lò Văn Sáu")["role"] == "deputy"


def test_training_added_from_prompts_alone(cdt, commune):
    from datetime import date

    child = _spawn("training", "add")
    _answers(child, ("Nội dung tập huấn", "Sử dụng VNeID"), ("Ngày", ""))  # today
    rows = json.loads(cdt("training", "list", "--format", "json").stdout)
    assert [(r["topic"], r["date"]) for r in rows] == [("Sử dụng VNeID", date.today().isoformat())]


def test_training_attended_from_prompts(cdt, team_la_cut):
    assert cdt("training", "add", "Sử dụng VNeID", "--date", "01/03/2026").exit_code == 0
    child = _spawn("training", "attend")
    _answers(child, ("01/03/2026 Sử dụng VNeID", ""), ("Nguyễn Thị Lan", "1, hoang van tu"))
    rows = json.loads(cdt("training", "list", "--format", "json").stdout)
    assert sorted(rows[0]["attendee_names"]) == ["Hoàng Văn Tú", "Nguyễn Thị Lan"]


def test_member_leaves_chosen_from_the_list(cdt, team_la_cut):
    child = _spawn("member", "leave")
    _answers(child, ("Hoàng Văn Tú — La Cút", "tu"))
    rows = json.loads(cdt("member", "list", "--format", "json").stdout)
    assert next(r for r in rows if r["full_name"] == "Hoàng Văn Tú")["left_on"]


def test_team_added_from_prompts_alone(cdt, commune):
    assert cdt("hamlet", "add", "La Cút", "--kind", "xóm").exit_code == 0
    assert cdt("hamlet", "add", "Đồng Tâm", "--kind", "thôn").exit_code == 0
    assert cdt("team", "add", "--hamlet", "la cut").exit_code == 0
    child = _spawn("team", "add")
    before = _answers(child, ("1\\) Đồng Tâm", ""), ("Số quyết định", "7/QĐ-UBND"), ("Ngày quyết định", ""))
    assert "La Cút" not in before.split("Số quyết định")[0]  # a hamlet with a team is not offered
    rows = json.loads(cdt("team", "list", "--format", "json").stdout)
    dong_tam = next(r for r in rows if r["hamlet"] == "Đồng Tâm")
    assert dong_tam["decision_number"] == "7/QĐ-UBND" and dong_tam["decision_date"] is None


# Each command that asks at a terminal, run by a script without the value: exit 2 and the one line
# Click gave when the value was required outright, before any file is opened (there is none here).
NO_TERMINAL = [
    (["visit", "log"], "--team", "visit log"),
    (["visit", "remove"], "MÃ", "visit remove"),
    (["hamlet", "add"], "TÊN", "hamlet add"),
    (["hamlet", "add", "La Cút"], "--kind", "hamlet add"),
    (["team", "add"], "--hamlet", "team add"),
    (["member", "add"], "HỌ_TÊN", "member add"),
    (["member", "add", "Lan"], "--team", "member add"),
    (["member", "leave"], "THÀNH_VIÊN", "member leave"),
    (["member", "remove"], "THÀNH_VIÊN", "member remove"),
    (["training", "add"], "NỘI_DUNG", "training add"),
    (["training", "add", "VNeID"], "--date", "training add"),
    (["training", "attend"], "LỚP_TẬP_HUẤN", "training attend"),
    (["training", "attend", "VNeID"], "--member", "training attend"),
]


@pytest.mark.parametrize("args,name,command", NO_TERMINAL, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_each_command_without_a_terminal_fails_at_once(tmp_path, args, name, command):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "CDT_DB": str(tmp_path / "none.db")}
    env.pop("CDT_NO_INPUT", None)
    done = subprocess.run([sys.executable, "-m", "cdt", *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60, env=env)
    assert (done.returncode, done.stderr, done.stdout) == (2, f"Lỗi: thiếu {name} (xem: cdt {command} --help)\n", "")
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize("args,name,command", NO_TERMINAL[1::2], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_no_input_fails_at_once_at_a_terminal_for_each_command(tmp_path, args, name, command):
    env = {**os.environ, "CDT_DB": str(tmp_path / "none.db")}
    env.pop("CDT_NO_INPUT", None)
    child = pexpect.spawn(sys.executable, ["-m", "cdt", "--no-input", *args], encoding="utf-8", timeout=60, env=env)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert child.before.strip() == f"Lỗi: thiếu {name} (xem: cdt {command} --help)"


def test_visit_removed_chosen_from_the_newest(cdt, team_la_cut):
    assert cdt("visit", "log", "--team", "la cut", "--household", "LC-001", "--people", "1",
               "--service", "vneid", "--date", "01/03/2026").exit_code == 0
    assert cdt("visit", "log", "--team", "la cut", "--household", "LC-002", "--people", "1",
               "--service", "vneid", "--date", "02/03/2026").exit_code == 0
    child = _spawn("visit", "remove")
    child.expect("1\\) 02/03/2026 LC-002 — La Cút")  # newest first
    child.expect("2\\) 01/03/2026 LC-001")
    child.sendline("2")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    rows = json.loads(cdt("visit", "list", "--format", "json").stdout)
    assert [r["household"] for r in rows] == ["LC-002"]


def test_member_removed_chosen_from_the_list_then_confirmed(cdt, team_la_cut):
    child = _spawn("member", "remove")
    _answers(child, ("Hoàng Văn Tú — La Cút", "hoang van tu"), ("c/", "c"))
    names = [r["full_name"] for r in json.loads(cdt("member", "list", "--format", "json").stdout)]
    assert names == ["Nguyễn Thị Lan"]
