"""Bad input: one Vietnamese line on stderr, a non-zero exit, no traceback, the database unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from kits.cli import ok

FUTURE = (date.today() + timedelta(days=3)).strftime("%d/%m/%Y")

BAD_INPUTS = [
    ("impossible date", ["visit", "log", "--team", "Xóm Một", "--household", "H1", "--people", "1",
                         "--service", "dvc", "--date", "31/02/2026"]),
    ("future date", ["visit", "log", "--team", "Xóm Một", "--household", "H1", "--people", "1",
                     "--service", "dvc", "--date", FUTURE]),
    ("garbage date", ["visit", "log", "--team", "Xóm Một", "--household", "H1", "--people", "1",
                      "--service", "dvc", "--date", "hôm qua"]),
    ("unknown team", ["visit", "log", "--team", "Xóm Không Có", "--household", "H1", "--people", "1",
                      "--service", "dvc"]),
    ("unknown service", ["visit", "log", "--team", "Xóm Một", "--household", "H1", "--people", "1",
                         "--service", "facebook"]),
    ("zero people", ["visit", "log", "--team", "Xóm Một", "--household", "H1", "--people", "0", "--service", "dvc"]),
    ("people not a number", ["visit", "log", "--team", "Xóm Một", "--household", "H1", "--people", "ba",
                             "--service", "dvc"]),
    ("citizen name as household", ["visit", "log", "--team", "Xóm Một", "--household", "Nguyễn Văn A",
                                   "--people", "1", "--service", "dvc"]),
    ("citizen ID as household", ["visit", "log", "--team", "Xóm Một", "--household", "001203004567",
                                 "--people", "1", "--service", "dvc"]),
    ("member of another team", ["visit", "log", "--team", "Xóm Một", "--household", "H1", "--people", "1",
                                "--service", "dvc", "--member", "Người Xóm Hai"]),
    ("unknown hamlet", ["team", "add", "--hamlet", "Thôn Không Có"]),
    ("second active team", ["team", "add", "--hamlet", "Xóm Một"]),
    ("future decision", ["team", "edit", "Xóm Một", "--decided-on", FUTURE]),
    ("malformed phone", ["member", "add", "Lê Văn Cường", "--team", "Xóm Một", "--phone", "12345"]),
    ("letters in phone", ["member", "add", "Lê Văn Cường", "--team", "Xóm Một", "--phone", "09123abcde"]),
    ("empty name", ["member", "add", "   ", "--team", "Xóm Một"]),
    ("control characters", ["member", "add", "Lê\x07Văn\x1bCường", "--team", "Xóm Một"]),
    ("newline in name", ["hamlet", "add", "Xóm\nBa", "--kind", "xóm"]),
    ("second leader", ["member", "add", "Lê Văn Cường", "--team", "Xóm Một", "--role", "tổ trưởng"]),
    ("unknown role", ["member", "add", "Lê Văn Cường", "--team", "Xóm Một", "--role", "chủ tịch"]),
    ("bad gender", ["member", "add", "Lê Văn Cường", "--team", "Xóm Một", "--gender", "x"]),
    ("birth year", ["member", "add", "Lê Văn Cường", "--team", "Xóm Một", "--birth-year", "3000"]),
    ("unknown member", ["member", "edit", "Không Ai Cả", "--phone", "0912345678"]),
    ("unknown kind", ["hamlet", "add", "Xóm Ba", "--kind", "thành phố"]),
    ("negative households", ["hamlet", "add", "Xóm Ba", "--kind", "xóm", "--households", "-5"]),
    ("duplicate hamlet", ["hamlet", "add", "XÓM MỘT", "--kind", "xóm"]),
    ("duplicate hamlet, tone placed elsewhere", ["hamlet", "add", "Xóm Hoà", "--kind", "xóm"]),
    ("training bad date", ["training", "add", "Kỹ năng số", "--date", "32/13/2026"]),
    ("training unknown mode", ["training", "add", "Kỹ năng số", "--date", "01/09/2026", "--mode", "bay"]),
    ("attend unknown training", ["training", "attend", "Không có lớp", "--member", "Hoàng Văn An"]),
    ("unknown visit ref", ["visit", "remove", "abcd1234"]),
    ("bad month", ["visit", "list", "--month", "2026-13"]),
    ("bad setting", ["settings", "set", "team_max_members", "-1"]),
    ("bad service code", ["service", "add", "!!", "--name", "X"]),
    ("existing service alias", ["service", "add", "vneid2", "--name", "VNeID"]),
    ("unknown option", ["member", "add", "Lê Văn Cường", "--team", "Xóm Một", "--nickname", "C"]),
    ("missing required option", ["visit", "log", "--team", "Xóm Một", "--people", "1", "--service", "dvc"]),
    ("unknown command", ["househld", "list"]),
    ("init over existing file", ["init", "--commune", "05767"]),
    ("unknown commune", ["init", "--commune", "99999"]),
    ("fractional people", ["visit", "log", "--team", "Xóm Một", "--household", "H1", "--people", "2.5",
                           "--service", "dvc"]),
    ("fractional households", ["hamlet", "add", "Xóm Ba", "--kind", "xóm", "--households", "80.5"]),
    ("birth year with a dot", ["hamlet", "add", "Xóm Ba", "--kind", "xóm", "--working-age", "1e2"]),
    ("zero-width space", ["hamlet", "add", "Xóm\u200bBa", "--kind", "xóm"]),
    ("right-to-left override", ["hamlet", "add", "Xóm\u202eBa", "--kind", "xóm"]),
    ("future training", ["training", "add", "Kỹ năng số nâng cao", "--date", FUTURE]),
    ("unknown setting", ["settings", "set", "foo", "3"]),
    ("setting not a number", ["settings", "set", "team_max_members", "abc"]),
    ("remove without confirmation", ["member", "remove", "Vũ Văn Em"]),
    ("unknown format", ["member", "list", "--format", "xml"]),
    ("fractional count target", ["target", "set", "people_helped", "--year", "2026", "--value", "2.5"]),
    ("negative target", ["target", "set", "people_helped", "--year", "2026", "--value", "-5"]),
    ("visit by a member who left", ["visit", "log", "--team", "Xóm Một", "--household", "H1", "--people", "1",
                                    "--service", "dvc", "--date", "01/10/2026", "--member", "Lê Thị Bình"]),
]


@pytest.fixture
def full_team(cdt, commune):
    """Xóm Một with a full team of five active members (a leader among them, one more who left);
    Xóm Hai with one member; Xóm Hòa without a team; a training."""
    for name in ("Xóm Một", "Xóm Hai"):
        assert cdt("hamlet", "add", name, "--kind", "xóm").exit_code == 0
        assert cdt("team", "add", "--hamlet", name, "--decided-on", "01/06/2022").exit_code == 0
    assert cdt("member", "add", "Hoàng Văn An", "--team", "Xóm Một", "--role", "leader").exit_code == 0
    for name in ("Lê Thị Bình", "Trần Văn Chung", "Phạm Thị Dung", "Vũ Văn Em"):
        assert cdt("member", "add", name, "--team", "Xóm Một").exit_code == 0
    assert cdt("member", "add", "Người Xóm Hai", "--team", "Xóm Hai").exit_code == 0
    assert cdt("training", "add", "Kỹ năng số", "--date", "01/09/2026").exit_code == 0
    assert cdt("member", "leave", "Lê Thị Bình", "--date", "20/09/2026").exit_code == 0
    assert cdt("member", "add", "Đặng Văn Phú", "--team", "Xóm Một").exit_code == 0  # five active again
    assert cdt("hamlet", "add", "Xóm Hòa", "--kind", "xóm").exit_code == 0
    return commune


def test_sixth_member_is_refused(cdt, full_team):
    before = full_team.read_bytes()
    result = cdt("member", "add", "Lê Văn Cường", "--team", "Xóm Một")
    assert result.exit_code == 1
    assert "đã đủ 5 thành viên" in result.stderr
    assert full_team.read_bytes() == before


@pytest.mark.parametrize("case, args", BAD_INPUTS, ids=[c for c, _ in BAD_INPUTS])
def test_bad_input_changes_nothing(cdt, full_team, case, args):
    before = full_team.read_bytes()
    result = cdt(*args)
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("Lỗi: "), result.stderr
    assert len(lines) == 1 and len(lines[0]) < 400, lines
    assert "ngoài dự kiến" not in lines[0], "an internal error reached the user: " + lines[0]
    # Vietnamese: the message carries Vietnamese letters beyond the "Lỗi" prefix
    assert any(ch in lines[0][5:] for ch in "àáảãạăâđèéêìíòóôơùúưỳýạếềểễệốồổỗộớờởỡợứừửữự"), lines[0]
    assert full_team.read_bytes() == before, case


def test_unexpected_errors_become_one_line_and_a_log(cdt, commune, monkeypatch, tmp_path):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("cdt.register.records.list_hamlets", explode)
    result = cdt("hamlet", "list")
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "cdt-errors.log" in result.stderr
    assert "RuntimeError: boom" in (tmp_path / "cdt-errors.log").read_text(encoding="utf-8")


def test_not_a_cdt_file_is_refused(cdt, tmp_path):
    other = tmp_path / "khác.db"
    import sqlite3

    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    result = cdt("--db", other, "info")
    assert result.exit_code == 1 and "không phải tệp dữ liệu của cdt" in result.stderr


def test_newer_schema_is_refused_with_update_hint(cdt, commune):
    import sqlite3

    con = sqlite3.connect(commune)
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    result = cdt("info")
    assert result.exit_code == 1 and "cập nhật cdt" in result.stderr


def test_older_schema_is_migrated_after_a_copy(cdt, tmp_path):
    from cdt.store import SCHEMA_VERSION, Store

    old = tmp_path / "cũ v1.db"
    Store.create(old, level="commune", structure="legacy", commune=("05761", "Thị trấn Hùng Sơn"),
                 schema_version=1).close()
    result = cdt("--db", old, "info", "--format", "json")
    assert result.exit_code == 0, result.output
    assert f'"schema_version": {SCHEMA_VERSION}' in result.stdout
    assert (tmp_path / "cũ v1.db.v1.bak").exists()
    # Said on stderr (a large district file takes seconds), with where the old file is kept;
    # stdout stays the JSON alone.
    assert "đang nâng cấp tệp dữ liệu" in result.stderr and f"1 → {SCHEMA_VERSION}" in result.stderr
    assert "cũ v1.db.v1.bak" in result.stderr
    again = cdt("--db", old, "info", "--format", "json")
    assert again.exit_code == 0 and "nâng cấp" not in again.stderr


def _run_process(args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "cdt", *args], capture_output=True, env=env, timeout=60)


def test_help_is_translated_in_both_languages():
    """Every command group and command has help text, in Vietnamese and in English."""
    from cdt.cli import app as cli

    groups = ["init", "info", "units", "hamlet", "team", "member", "training", "visit", "service", "settings"]
    for lang in ("vi", "en"):
        out = _run_process(["--help"], {"CDT_LANG": lang}).stdout.decode("utf-8")
        for group in groups:
            assert group in out
        if lang == "vi":
            assert "Lệnh" in out and "Tùy chọn" in out
        else:
            assert "Commands" in out and "Tùy chọn" not in out
    import json

    vi = json.loads((Path(cli.__file__).parents[1] / "locale" / "vi" / "core.json").read_text(encoding="utf-8"))
    en = json.loads((Path(cli.__file__).parents[1] / "locale" / "en" / "core.json").read_text(encoding="utf-8"))
    assert set(vi) == set(en)


def test_every_command_has_help_in_the_current_language():
    from cdt.cli.app import build_app
    import typer

    command = typer.main.get_command(build_app())

    def walk(cmd, path):
        yield path, cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, path + [name])

    for path, cmd in walk(command, ["cdt"]):
        assert (cmd.help or "").strip(), " ".join(path)
        assert "." not in (cmd.help or "").split()[0] or " " in cmd.help, f"untranslated key in {path}"
        for param in cmd.params:
            if getattr(param, "help", None) is not None:
                assert not param.help.startswith(("opt.", "member.", "team.", "visit.")), (path, param.help)


def test_help_does_not_import_heavy_modules():
    code = ("import sys; from cdt.cli import app as cli; sys.argv=['cdt','--help'];\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
            "heavy=[m for m in ('openpyxl','sqlite_utils','cdt.domain.models','cdt.store','cdt.exchange.merge','cdt.reports.report',"
            "'cdt.intake.importer','cdt.export','cdt.domain.units') if m in sys.modules]\n"
            "sys.stderr.write('HEAVY=' + ','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert b"HEAVY=" in out.stderr
    assert out.stderr.decode().split("HEAVY=")[-1].strip() == ""


def test_legacy_code_page_output_does_not_crash(tmp_path):
    """A Windows console on cp1252 cannot encode Vietnamese: output is forced to UTF-8 instead."""
    result = _run_process(["--db", str(tmp_path / "a.db"), "init", "--commune", "05761"],
                          {"PYTHONIOENCODING": "cp1252"})
    assert result.returncode == 0, result.stderr
    assert "Hùng Sơn".encode("utf-8") in result.stdout


# -- a byte that is not UTF-8, a control character ------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="bytes in argv are a POSIX matter")
def test_a_non_utf8_byte_is_not_called_a_control_character(commune):
    done = subprocess.run([sys.executable, "-m", "cdt", "hamlet", "add", b"X\xffm", "--kind", "xóm".encode()],
                          capture_output=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"}, timeout=60)
    assert done.returncode == 1
    assert done.stderr.decode("utf-8") == ("Lỗi: tên: có byte không phải UTF-8 (gõ bằng bảng mã cũ?); "
                                           "hãy gõ lại bằng bảng mã Unicode\n")


def test_a_control_character_keeps_its_message(cdt, commune):
    result = cdt("hamlet", "add", "X\x01m", "--kind", "xóm")
    assert result.stderr == "Lỗi: tên: có ký tự điều khiển không hợp lệ\n"


def test_a_bad_number_option_is_explained_in_vietnamese(cdt, tmp_path):
    ok(cdt("init", "--commune", "05761", "--structure", "legacy"))
    low = cdt("history", "--limit", "0")
    assert low.exit_code == 2 and "giá trị không hợp lệ cho --limit: phải từ 1 trở lên" in low.stderr
    word = cdt("undo", "--to", "abc")
    assert word.exit_code == 2 and "giá trị không hợp lệ cho --to: phải là một số nguyên" in word.stderr
    assert "Input should" not in low.stderr + word.stderr
