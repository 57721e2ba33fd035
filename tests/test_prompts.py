"""A clerk at a terminal is asked for what is missing; a script is told at once, in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pexpect = pytest.importorskip("pexpect")


@pytest.fixture
def team_la_cut(cdt, commune):
    assert cdt("hamlet", "add", "La Cút", "--kind", "xóm").exit_code == 0
    assert cdt("team", "add", "--hamlet", "la cut", "--decision", "12/QĐ-UBND",
               "--decided-on", "01/02/2026").exit_code == 0
    assert cdt("member", "add", "Nguyễn Thị Lan", "--team", "la cut", "--role", "tổ trưởng").exit_code == 0
    assert cdt("member", "add", "Hoàng Văn Tú", "--team", "la cut").exit_code == 0
    return commune


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
    answer("Định danh điện tử VNeID", "dinh danh")  # words without diacritics
    child.expect("có phải vneid")     # not a service: the suggestion, then the question again
    answer("Chọn số", "2")
    answer("Ngày", "")                 # today
    answer("Nguyễn Thị Lan", "1")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "Đã ghi lượt hỗ trợ hộ LC-004" in child.before
    assert typed - len("dinh danh") - 1 <= 30
    rows = json.loads(cdt("visit", "list", "--format", "json").stdout)
    assert len(rows) == 1
    assert rows[0]["household"] == "LC-004" and rows[0]["people"] == 2
    assert rows[0]["services"] and rows[0]["members"] == ["Nguyễn Thị Lan"]


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
