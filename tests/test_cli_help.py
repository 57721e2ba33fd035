"""Every help page of the command tree, in both languages, reads as a clerk would need it."""

from __future__ import annotations

import re

import pytest
import typer

from cdt.cli import app as cli
from cdt.core.i18n import set_language


def _command_paths() -> list[list[str]]:
    set_language("vi")
    command = typer.main.get_command(cli.build_app(None))
    paths: list[list[str]] = []

    def walk(node, path):
        paths.append(path)
        for name, sub in sorted(getattr(node, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(command, [])
    set_language(None)
    return paths


PATHS = _command_paths()
CLICK_RANGE = re.compile(r"x\s*[<>]=|[<>]=\s*x\b")
VIETNAMESE = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]", re.I)
# Proper names and the domain words a clerk types as they are (kinds of hamlet, roles' own names).
from cdt.domain.kinds import HAMLET_KINDS, KIND_SPELLINGS  # noqa: E402

ALLOWED_IN_ENGLISH = [
    "Tổ CNSCĐ", "Hùng Sơn", "Hoà Phú", "Xóm Một", "QĐ-UBND", "C-Thái Nguyên", "Bình dân học vụ số",
    # The hamlet kinds are Vietnamese words in every language (their English glosses follow them).
    *HAMLET_KINDS, *KIND_SPELLINGS,
    "tổ trưởng", "tổ phó", "thành viên", "nam/nữ", "Nghị định", "Thái Nguyên", "Đại Từ",
]


def test_the_walk_sees_every_group_and_command():
    names = {" ".join(p) for p in PATHS}
    assert {"", "visit", "visit log", "member list", "conflicts resolve", "report", "merge"} <= names
    assert len(PATHS) > 40


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "cdt")
def test_vietnamese_help_page(cdt, path):
    result = cdt(*path, "--help")
    assert result.exit_code == 0, result.output
    page = result.stdout
    assert "Cách dùng: cdt" in page
    for internal in ("<str>", "<bool>", "<int>", "<path>", "list[", "[OPTIONS]", "COMMAND [ARGS]", "Usage:", "DB_ID"):
        assert internal not in page, (internal, page)
    assert not re.search(r"\{[^}]*\}", page), page
    assert not CLICK_RANGE.search(page), page  # "[1<=x<=10000]": a range reads "[từ 1 đến 10.000]"
    # --keep's words are Vietnamese (the English ones scripts use are only mentioned as accepted)
    flat = " ".join(page.replace("│", " ").split()).replace("nhận cả ours, theirs", "")
    assert not re.search(r"\b(ours|theirs)\b", flat), page
    # a default is always shown with its value: "[mặc định: table]", never "mặc định" alone at a line end
    for line in page.splitlines():
        body = line.strip("│ ").rstrip()
        assert not body.endswith("mặc định"), page
    for shown in re.findall(r"\[mặc định: ([^\]]*)\]", page):
        assert shown.strip()


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "cdt")
def test_english_help_page_has_no_vietnamese(cdt, path):
    result = cdt("--lang", "en", *path, "--help")
    assert result.exit_code == 0, result.output
    page = result.stdout
    assert "Usage: cdt" in page
    assert "<str>" not in page and "<bool>" not in page
    assert not CLICK_RANGE.search(page), page
    text = " ".join(page.replace("│", " ").split())  # help wraps lines: compare on single spaces
    for allowed in sorted(ALLOWED_IN_ENGLISH, key=len, reverse=True):
        text = text.replace(allowed, "")
    text = re.sub(r"\"[^\"]*\"", "", text)  # quoted examples of what a clerk types
    assert not VIETNAMESE.search(text), VIETNAMESE.findall(text)


def test_defaults_show_their_value(cdt):
    page = cdt("report", "--help").stdout
    assert "[mặc định: table]" in page
    assert "[default: table]" in cdt("--lang", "en", "report", "--help").stdout


def test_version(cdt):
    from cdt import __version__

    result = cdt("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"cdt {__version__}"


def test_completion_is_offered(cdt):
    page = cdt("--help").stdout
    assert "--install-completion" in page and "--show-completion" in page


@pytest.mark.parametrize("argv, message", [
    (["visit", "lgo"], "Lỗi: không có lệnh 'lgo'; có phải ý bạn là 'log'? (xem: cdt visit --help)"),
    (["vist"], "Lỗi: không có lệnh 'vist'; có phải ý bạn là 'visit'? (xem: cdt --help)"),
    (["visit", "log", "--servce", "x"],
     "Lỗi: không có tùy chọn --servce (có thể là: --service) (xem: cdt visit log --help)"),
])
def test_click_messages_in_vietnamese_with_suggestions(cdt, argv, message):
    result = cdt(*argv)
    assert result.exit_code == 2
    assert result.stderr.strip() == message


def test_english_numbers_use_english_separators():
    from cdt.commands.common import number

    set_language("en")
    assert number(17000) == "17,000"
    set_language("vi")
    assert number(17000) == "17.000"


def _top_level(app) -> list[tuple[str, str]]:
    command = typer.main.get_command(app)
    return [(name, sub.help) for name, sub in command.commands.items()]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_top_level_list_matches_the_modules(lang):
    """`cdt --help` lists the commands from commands.TOP_LEVEL without importing their modules: the
    same names, order and help texts as when every module is built (start-up stays fast)."""
    set_language(lang)
    try:
        full = _top_level(cli.build_app(None))
        listed = _top_level(cli.build_app(["--help"]))
        one = _top_level(cli.build_app(["visit", "log", "--help"]))
    finally:
        set_language(None)
    assert listed == full
    assert one == full


def test_help_imports_only_what_it_shows():
    """The root help page imports no command module and not rich's Markdown or Traceback (Typer
    imports them for features cdt turns off); the page is unchanged (the walk above)."""
    import subprocess
    import sys

    probe = ("import sys, io; from cdt.cli import app as cli; sys.stdout = io.StringIO(); code = cli.run(['--help']);"
             "sys.stdout = sys.__stdout__;"
             "print(code, sorted(m for m in sys.modules if m.startswith('cdt.commands.') or"
             " m in ('rich.markdown', 'markdown_it', 'rich.traceback', 'pygments')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.split(None, 1) == ["0", "[]\n"], done.stderr


def test_a_command_line_imports_no_help_renderer(tmp_path):
    """`cdt info` cannot end in a help page: Typer's rich help module is not imported at all."""
    import subprocess
    import sys

    probe = ("import sys, io; from cdt.cli import app as cli; sys.stdout = io.StringIO(); code = cli.run(['info']);"
             "sys.stdout = sys.__stdout__; print(code, 'typer.rich_utils' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          env={**__import__("os").environ, "CDT_DB": str(tmp_path / "none.db")})
    assert done.stdout.split() == ["1", "False"], done.stderr


def test_deferred_rich_classes_still_work():
    """Typer's Markdown and Traceback, deferred at start-up, are the real classes when used."""
    import subprocess
    import sys

    probe = ("from cdt.cli import help as clihelp; rich_utils = clihelp.load_rich_utils();"
             "from rich.markdown import Markdown; made = rich_utils.Markdown('*x*');"
             "assert isinstance(made, Markdown) and isinstance(made, rich_utils.Markdown);"
             "assert rich_utils.Traceback.from_exception.__self__.__module__ == 'rich.traceback'; print('ok')")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr


def test_shell_completion_offers_subcommands(monkeypatch, capsys):
    monkeypatch.setenv("_CDT_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "cdt visit ")
    monkeypatch.setenv("COMP_CWORD", "2")
    cli.run([])
    assert capsys.readouterr().out.split() == ["log", "edit", "remove", "list"]


def test_number_ranges_read_as_words(cdt):
    def flat(*args):
        return " ".join(cdt(*args, "--help").stdout.replace("│", " ").split())

    assert "--limit SỐ [từ 1 đến 10.000] Số lần ghi hiện ra" in flat("history")
    assert "--to SỐ [từ 0 trở lên] Hoàn tác mọi lần ghi sau số này" in flat("undo")
    assert "--limit NUMBER [1 to 10,000] How many writes to show" in flat("--lang", "en", "history")
    assert "--to NUMBER [0 or more]" in flat("--lang", "en", "undo")
