"""Bad input: one Vietnamese line on stderr, a non-zero exit, no traceback, the database unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field as dataclass_field
from datetime import date, timedelta
from pathlib import Path

import pytest

from cdt.core.i18n import t
from kits.cli import ok
from kits.templates import TEMPLATES

FUTURE = (date.today() + timedelta(days=3)).strftime("%d/%m/%Y")
CODES = "dvc, vneid, payment, ecommerce, ehealth, esign, elearning, cybersafety, bdhvs"
KINDS = ("thôn, xóm, làng, bản, buôn, plei (plơi), bon, ấp, khóm, phum, sóc, khu phố, khu, tổ dân phố, tổ, "
         "khối phố")
DB = object()  # stands for the test's database path in a message's parameters


@dataclass(frozen=True)
class Bad:
    """A refused command line and the rule that refuses it: the message key and its parameters.

    ``field``: the rule belongs to an input model, so the message reads "label of field: message".
    ``usage``: Click refuses the line before cdt runs (exit 2); the hint names this command."""

    what: str
    args: list
    key: str
    params: dict = dataclass_field(default_factory=dict)
    field: str | None = None
    usage: str | None = None

    def message(self, db: Path) -> str:
        """The one line on stderr, exactly."""
        text = t(self.key, **{name: str(db) if value is DB else value for name, value in self.params.items()})
        if self.field:
            text = t("input.invalid", detail=f"{t(f'field.{self.field}')}: {text}")
        if self.usage:
            text = f"{text} ({t('usage.hint', command=self.usage)})"
        return f"{t('error.prefix')}: {text}"


VISIT = ["visit", "log", "--team", "Xóm Một", "--household", "H1", "--people", "1", "--service", "dvc"]
CUONG = ["member", "add", "Lê Văn Cường"]

BAD_INPUTS = [
    Bad("impossible date", VISIT + ["--date", "31/02/2026"], "input.bad_day",
        {"value": "31/02/2026", "month": 2, "year": 2026, "days": 28}, field="date"),
    Bad("future date", VISIT + ["--date", FUTURE], "input.date_future", {"value": FUTURE}, field="date"),
    Bad("garbage date", VISIT + ["--date", "hôm qua"], "input.bad_date", {"value": "hôm qua"}, field="date"),
    Bad("unknown team", ["visit", "log", "--team", "Xóm Không Có", "--household", "H1", "--people", "1",
                         "--service", "dvc"], "team.not_found", {"name": "Xóm Không Có"}),
    Bad("unknown service", ["visit", "log", "--team", "Xóm Một", "--household", "H1", "--people", "1",
                            "--service", "facebook"], "service.not_found", {"name": "facebook", "codes": CODES}),
    Bad("zero people", ["visit", "log", "--team", "Xóm Một", "--household", "H1", "--people", "0", "--service", "dvc"],
        "input.out_of_range", {"value": 0, "low": 1, "high": 200}, field="people"),
    Bad("people not a number", ["visit", "log", "--team", "Xóm Một", "--household", "H1", "--people", "ba",
                                "--service", "dvc"], "input.not_number", {"value": "ba"}, field="people"),
    Bad("citizen name as household", ["visit", "log", "--team", "Xóm Một", "--household", "Nguyễn Văn A",
                                      "--people", "1", "--service", "dvc"],
        "input.bad_household", {"value": "Nguyễn Văn A"}, field="household"),
    Bad("citizen ID as household", ["visit", "log", "--team", "Xóm Một", "--household", "001203004567",
                                    "--people", "1", "--service", "dvc"],
        "input.household_looks_like_id", {"value": "001203004567"}, field="household"),
    Bad("member of another team", VISIT + ["--member", "Người Xóm Hai"], "member.in_other_team",
        {"name": "Người Xóm Hai", "other": "Xóm Hai", "team": "Xóm Một"}),
    Bad("unknown hamlet", ["team", "add", "--hamlet", "Thôn Không Có"], "hamlet.not_found", {"name": "Thôn Không Có"}),
    Bad("second active team", ["team", "add", "--hamlet", "Xóm Một"], "team.hamlet_has_team", {"hamlet": "Xóm Một"}),
    Bad("future decision", ["team", "edit", "Xóm Một", "--decided-on", FUTURE], "input.date_future",
        {"value": FUTURE}, field="decision_date"),
    Bad("malformed phone", CUONG + ["--team", "Xóm Một", "--phone", "12345"], "input.bad_phone",
        {"value": "12345"}, field="phone"),
    Bad("letters in phone", CUONG + ["--team", "Xóm Một", "--phone", "09123abcde"], "input.bad_phone",
        {"value": "09123abcde"}, field="phone"),
    Bad("empty name", ["member", "add", "   ", "--team", "Xóm Một"], "input.empty", field="full_name"),
    Bad("control characters", ["member", "add", "Lê\x07Văn\x1bCường", "--team", "Xóm Một"], "input.control_chars",
        field="full_name"),
    Bad("newline in name", ["hamlet", "add", "Xóm\nBa", "--kind", "xóm"], "input.control_chars", field="name"),
    # Xóm Hai has room and a leader: the one-leader rule refuses, not the team's size.
    Bad("second leader", CUONG + ["--team", "Xóm Hai", "--role", "tổ trưởng"], "member.second_leader",
        {"leader": "Người Xóm Hai"}),
    Bad("unknown role", CUONG + ["--team", "Xóm Một", "--role", "chủ tịch"], "input.bad_role",
        {"value": "chủ tịch", "allowed": "tổ trưởng, tổ phó, thành viên"}, field="role"),
    Bad("bad gender", CUONG + ["--team", "Xóm Một", "--gender", "x"], "input.bad_gender",
        {"value": "x", "allowed": "nam, nữ"}, field="gender"),
    # The youngest member is ten this year.
    Bad("birth year", CUONG + ["--team", "Xóm Một", "--birth-year", "3000"], "input.out_of_range",
        {"value": 3000, "low": 1920, "high": date.today().year - 10}, field="birth_year"),
    Bad("unknown member", ["member", "edit", "Không Ai Cả", "--phone", "0912345678"], "member.not_found",
        {"name": "Không Ai Cả"}),
    Bad("unknown kind", ["hamlet", "add", "Xóm Ba", "--kind", "thành phố"], "input.bad_kind",
        {"value": "thành phố", "allowed": KINDS}, field="kind"),
    Bad("negative households", ["hamlet", "add", "Xóm Ba", "--kind", "xóm", "--households", "-5"],
        "input.out_of_range", {"value": -5, "low": 0, "high": 100000}, field="households"),
    # The refusal names the hamlet already there, as it is written in the file.
    Bad("duplicate hamlet", ["hamlet", "add", "XÓM MỘT", "--kind", "xóm"], "hamlet.exists", {"name": "Xóm Một"}),
    Bad("duplicate hamlet, tone placed elsewhere", ["hamlet", "add", "Xóm Hoà", "--kind", "xóm"], "hamlet.exists",
        {"name": "Xóm Hòa"}),
    Bad("training bad date", ["training", "add", "Kỹ năng số", "--date", "32/13/2026"], "input.bad_month_number",
        {"value": "32/13/2026", "month": 13}, field="date"),
    Bad("training unknown mode", ["training", "add", "Kỹ năng số", "--date", "01/09/2026", "--mode", "bay"],
        "input.bad_mode", {"value": "bay", "allowed": "trực tiếp, trực tuyến, OneTouch, Bình dân học vụ số"},
        field="mode"),
    Bad("attend unknown training", ["training", "attend", "Không có lớp", "--member", "Hoàng Văn An"],
        "training.not_found", {"name": "Không có lớp"}),
    Bad("unknown visit ref", ["visit", "remove", "abcd1234"], "visit.not_found", {"name": "abcd1234"}),
    Bad("bad month", ["visit", "list", "--month", "2026-13"], "input.bad_month", {"value": "2026-13"}),
    # After "--", -1 is the value, not an option: it reaches cdt's own check of the setting.
    Bad("bad setting", ["settings", "set", "team_max_members", "--", "-1"], "settings.bad_number",
        {"key": "team_max_members", "value": "-1"}),
    Bad("bad service code", ["service", "add", "!!", "--name", "X"], "input.bad_service_code", {"value": "!!"},
        field="code"),
    Bad("existing service alias", ["service", "add", "vneid2", "--name", "VNeID"], "service.exists", {"name": "VNeID"}),
    Bad("unknown option", CUONG + ["--team", "Xóm Một", "--nickname", "C"], "usage.no_such_option",
        {"name": "--nickname"}, usage="cdt member add"),
    Bad("missing required option", ["visit", "log", "--team", "Xóm Một", "--people", "1", "--service", "dvc"],
        "usage.missing", {"name": "--household"}, usage="cdt visit log"),
    Bad("unknown command", ["househld", "list"], "usage.no_such_command", {"detail": "househld"}, usage="cdt"),
    Bad("init over existing file", ["init", "--commune", "05767"], "store.exists", {"path": DB}),
    Bad("unknown commune", ["init", "--commune", "99999"], "init.unit_not_found", {"level": "xã", "name": "99999"}),
    Bad("fractional people", ["visit", "log", "--team", "Xóm Một", "--household", "H1", "--people", "2.5",
                              "--service", "dvc"], "input.not_whole", {"value": "2.5"}, field="people"),
    Bad("fractional households", ["hamlet", "add", "Xóm Ba", "--kind", "xóm", "--households", "80.5"],
        "input.not_whole", {"value": "80.5"}, field="households"),
    Bad("birth year with a dot", CUONG + ["--team", "Xóm Hai", "--birth-year", "1990.5"], "input.not_whole",
        {"value": "1990.5"}, field="birth_year"),
    Bad("working age in scientific notation", ["hamlet", "add", "Xóm Ba", "--kind", "xóm", "--working-age", "1e2"],
        "input.not_number", {"value": "1e2"}, field="working_age"),
    Bad("zero-width space", ["hamlet", "add", "Xóm\u200bBa", "--kind", "xóm"], "input.control_chars", field="name"),
    Bad("right-to-left override", ["hamlet", "add", "Xóm\u202eBa", "--kind", "xóm"], "input.control_chars",
        field="name"),
    Bad("future training", ["training", "add", "Kỹ năng số nâng cao", "--date", FUTURE], "input.date_future",
        {"value": FUTURE}, field="date"),
    Bad("unknown setting", ["settings", "set", "foo", "3"], "settings.unknown",
        {"key": "foo", "keys": "team_min_members, team_max_members, digital_citizen_services, require_sealed, "
                               "browse_member_names, issuer, issuer_parent, doc_symbol, signer_authority, "
                               "signer_title, signer_name, preparer, recipients"}),
    Bad("setting not a number", ["settings", "set", "team_max_members", "abc"], "settings.bad_number",
        {"key": "team_max_members", "value": "abc"}),
    Bad("remove without confirmation", ["member", "remove", "Vũ Văn Em"], "member.remove_needs_yes",
        {"name": "Vũ Văn Em"}),
    Bad("unknown format", ["member", "list", "--format", "xml"], "usage.not_one_of",
        {"name": "--format", "value": "xml", "choices": "'table', 'json', 'csv'"}, usage="cdt member list"),
    Bad("fractional count target", ["target", "set", "people_helped", "--year", "2026", "--value", "2.5"],
        "input.count_not_whole", {"value": "2,5"}),
    Bad("negative target", ["target", "set", "people_helped", "--year", "2026", "--value", "-5"], "input.negative",
        {"value": "-5"}, field="value"),
    Bad("visit by a member who left", VISIT + ["--date", "01/10/2026", "--member", "Lê Thị Bình"],
        "visit.member_had_left", {"name": "Lê Thị Bình", "left": "20/09/2026"}),
]


def _build_full_team(cdt, path: Path) -> None:
    def run(*args: str) -> None:
        result = cdt("--db", path, *args)
        assert result.exit_code == 0, result.output

    run("init", "--commune", "05761", "--structure", "legacy")
    for name in ("Xóm Một", "Xóm Hai"):
        run("hamlet", "add", name, "--kind", "xóm")
        run("team", "add", "--hamlet", name, "--decided-on", "01/06/2022")
    run("member", "add", "Hoàng Văn An", "--team", "Xóm Một", "--role", "leader")
    for name in ("Lê Thị Bình", "Trần Văn Chung", "Phạm Thị Dung", "Vũ Văn Em"):
        run("member", "add", name, "--team", "Xóm Một")
    run("member", "add", "Người Xóm Hai", "--team", "Xóm Hai", "--role", "leader")
    run("training", "add", "Kỹ năng số", "--date", "01/09/2026")
    run("member", "leave", "Lê Thị Bình", "--date", "20/09/2026")
    run("member", "add", "Đặng Văn Phú", "--team", "Xóm Một")  # five active again
    run("hamlet", "add", "Xóm Hòa", "--kind", "xóm")


@pytest.fixture
def full_team(cdt, db_path):
    """Xóm Một with a full team of five active members (a leader among them, one more who left);
    Xóm Hai with its leader alone; Xóm Hòa without a team; a training. Built once per session."""
    return TEMPLATES.copy("cli-errors-full-team", db_path, lambda path: _build_full_team(cdt, path))


def test_sixth_member_is_refused(cdt, full_team):
    before = full_team.read_bytes()
    result = cdt("member", "add", "Lê Văn Cường", "--team", "Xóm Một")
    assert result.exit_code == 1
    assert result.stderr == f"Lỗi: {t('member.team_full', hamlet='Xóm Một', max=5)}\n"
    assert full_team.read_bytes() == before


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=[f"{b.key}: {b.what}" for b in BAD_INPUTS])
def test_bad_input_changes_nothing(cdt, full_team, bad):
    """Each bad input is refused by its own rule: that rule's message, alone on stderr, in Vietnamese;
    exit 1 (2 for a line Click refuses); the file's bytes unchanged."""
    before = full_team.read_bytes()
    result = cdt(*bad.args)
    assert result.exit_code == (2 if bad.usage else 1), result.output
    assert result.stderr == bad.message(full_team) + "\n"
    assert result.stdout == ""
    assert full_team.read_bytes() == before


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
    from cdt.core.schema import SCHEMA_VERSION
    from cdt.store import Store

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
