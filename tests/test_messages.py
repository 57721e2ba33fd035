"""Messages that once misled clerks, each now saying what is wrong and what to do."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kits.templates import TEMPLATES


@pytest.fixture
def two_teams(cdt, commune):
    def build(_path):
        for name in ("La Cút", "Xóm Hai"):
            assert cdt("hamlet", "add", name, "--kind", "xóm").exit_code == 0
            assert cdt("team", "add", "--hamlet", name).exit_code == 0
        assert cdt("member", "add", "Nguyễn Thị Lan", "--team", "la cut").exit_code == 0
        assert cdt("member", "add", "Lò Văn Pao", "--team", "xom hai").exit_code == 0

    return TEMPLATES.copy("messages-two-teams", commune, build)


def _visit(cdt, *extra):
    return cdt("visit", "log", "--team", "la cut", "--household", "LC-004", "--people", "2", *extra)


def test_a_day_the_month_lacks(cdt, two_teams):
    result = cdt("team", "edit", "la cut", "--decided-on", "31/9/2026")
    assert result.exit_code == 1
    assert result.stderr == ("Lỗi: ngày quyết định: ngày '31/9/2026' không có: tháng 9/2026 chỉ có 30 ngày; "
                             "sửa lại ngày (dd/mm/yyyy)\n")
    english = cdt("--lang", "en", "team", "edit", "la cut", "--decided-on", "31/9/2026")
    assert "9/2026 has only 30 days" in english.stderr


def test_a_thirteenth_month(cdt, two_teams):
    result = cdt("team", "edit", "la cut", "--decided-on", "1/13/2026")
    assert result.stderr == ("Lỗi: ngày quyết định: ngày '1/13/2026' không hợp lệ: không có tháng 13 "
                             "(tháng từ 1 đến 12); viết dd/mm/yyyy\n")


def test_a_member_of_another_team(cdt, two_teams):
    result = _visit(cdt, "--service", "vneid", "--member", "lo van pao")
    assert result.exit_code == 1
    assert result.stderr == ("Lỗi: Lò Văn Pao là thành viên tổ Xóm Hai, không phải tổ La Cút; chọn thành viên "
                             "của tổ La Cút (xem: cdt member list --team \"La Cút\")\n")


def test_a_dissolved_team(cdt, two_teams):
    assert cdt("team", "dissolve", "xom hai", "--date", "01/11/2026").exit_code == 0
    result = cdt("visit", "log", "--team", "xom hai", "--household", "A1", "--people", "1", "--service", "dvc")
    assert result.exit_code == 1
    assert result.stderr == ("Lỗi: tổ của thôn 'Xóm Hai' đã giải thể ngày 01/11/2026; ghi cho tổ đang hoạt động "
                             "(xem: cdt team list)\n")


def test_a_service_named_by_its_words_gets_a_suggestion(cdt, two_teams):
    result = _visit(cdt, "--service", "định danh")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Lỗi: không có dịch vụ 'định danh'; có phải vneid (Định danh điện tử VNeID)? Các mã: dvc, vneid,")
    assert _visit(cdt, "--service", "vneld").stderr.startswith(
        "Lỗi: không có dịch vụ 'vneld'; có phải vneid (Định danh điện tử VNeID)?")


def test_template_suggests_a_quoted_command(cdt, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cdt("template", "--out", "mẫu nhập liệu.xlsx")
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith('rồi chạy: cdt import "mẫu nhập liệu.xlsx"')
    plain = cdt("template", "--out", "mau.xlsx")
    assert plain.stdout.rstrip().endswith("rồi chạy: cdt import mau.xlsx")


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_pack_into_a_folder_that_takes_no_files(cdt, commune):
    result = cdt("pack", "--out", "/proc")
    assert result.exit_code == 1
    assert result.stderr == ("Lỗi: không ghi được vào /proc: thư mục này không cho tạo tệp; "
                             "hãy chọn thư mục khác (ví dụ ổ USB)\n")


@pytest.mark.skipif(sys.platform == "win32", reason="bytes in argv are a POSIX matter")
def test_a_byte_that_is_not_utf8_in_an_argument(commune):
    done = subprocess.run([sys.executable, "-m", "cdt", "team", "show", b"\xffabc"], capture_output=True,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"}, timeout=60)
    assert done.returncode == 1
    assert done.stderr.decode("utf-8") == "Lỗi: không tìm thấy tổ của thôn '\ufffdabc'; xem: cdt team list\n"


def test_control_characters_are_never_echoed(cdt, two_teams):
    result = cdt("team", "show", "\x1b[31mred\x07")
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert result.stderr == "Lỗi: không tìm thấy tổ của thôn '?[31mred?'; xem: cdt team list\n"
    unknown = cdt("visit", "l\x1bg")
    assert "\x1b" not in unknown.output
