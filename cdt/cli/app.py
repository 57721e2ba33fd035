"""The ``cdt`` command: global options, the command tree, and errors turned into messages.

The language is chosen before the command tree is built, so help texts are in it too.
Library errors (``CdtError``) become one line on stderr and exit 1; usage errors exit 2; any
other exception is written to a log file and the user sees one line saying where.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from cdt.cli import help as clihelp
from cdt.cli.state import State
from cdt.core.i18n import LANGUAGES, printable, set_language, t


def _configure_streams() -> None:
    """UTF-8 output even on a legacy Windows code page; never crash on an unencodable letter."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8", errors="replace")
        except (AttributeError, ValueError, OSError):
            pass


def _language_from_argv(argv: list[str]) -> str | None:
    for index, arg in enumerate(argv):
        if arg == "--lang" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
        if arg == "--":
            break
    return None


_GLOBAL_OPTIONS_WITH_VALUE = ("--db", "--lang")


def _positionals(argv: list[str]) -> list[str]:
    """The command words of argv (global options and their values skipped)."""
    words, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _GLOBAL_OPTIONS_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            words.append(arg)
    return words


def build_app(argv: list[str] | None = None) -> typer.Typer:
    """The Typer app with every command group, help texts in the current language.

    Given the command line, only what it can use is built in full: Typer turns every command's
    signature into click objects up front, which for all groups costs more than the command
    itself. The others keep their name and help (for ``cdt --help``) from commands.TOP_LEVEL,
    without importing their modules. ``argv=None`` builds everything (the help walk, completion).
    """
    words = _positionals(argv) if argv is not None else None
    if words is None or _help_may_show(words, argv):
        _translate_typer_panels()  # imports Typer's rich help renderer: only when help may show
    app = typer.Typer(
        name="cdt",
        help=t("app.help"),
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def root(
        ctx: typer.Context,
        db: Annotated[Optional[Path], typer.Option("--db", help=t("opt.db"), show_default=False)] = None,
        lang: Annotated[Optional[str], typer.Option("--lang", help=t("opt.lang"), show_default=False)] = None,
        no_input: Annotated[bool, typer.Option("--no-input", help=t("opt.no_input"), show_default=False)] = False,
        version: Annotated[bool, typer.Option("--version", help=t("opt.version"), is_eager=True,
                                              callback=_print_version, show_default=False)] = False,
    ) -> None:
        if lang is not None:
            if lang.strip().lower()[:2] not in LANGUAGES:
                raise typer.BadParameter(t("opt.lang_bad", value=lang), param_hint="--lang")
            set_language(lang)
        ctx.obj = State(db=db, no_input=no_input)

    from cdt.commands import register_all

    register_all(app, "*" if words is None else (words[0] if words else None))
    return app


def _help_may_show(words: list[str], argv: list[str]) -> bool:
    """Whether the line can end in a help page: asked for, no command, or a group named alone
    (it lists its commands). A top-level command with its words (``cdt info``) never does."""
    if not words or "-h" in argv or "--help" in argv:
        return True
    from cdt.commands import top_level_kind

    return len(words) == 1 and top_level_kind(words[0]) != "command"


def _print_version(value: bool) -> None:
    if value:
        from cdt import __version__

        typer.echo(f"cdt {__version__}")
        raise typer.Exit(0)


def _translate_typer_panels() -> None:
    """Typer's rich help prints panel titles in English; give them the current language."""
    if clihelp.load_rich_utils() is None:  # typer without rich: plain help, nothing to translate
        return
    clihelp.install()
    _translate_help_option()


def _translate_help_option() -> None:
    """The --help line is hard-coded English in Typer's click; relabel it once per process."""
    command = clihelp.click_core.Command
    original = getattr(command.get_help_option, "__wrapped__", command.get_help_option)

    def get_help_option(self, ctx):
        option = original(self, ctx)
        if option is not None:
            option.help = t("help.help_option")
        return option

    get_help_option.__wrapped__ = original
    command.get_help_option = get_help_option


def _help_only(argv: list[str]) -> bool:
    """A line that can only show help (or the version): no housekeeping before it."""
    return not argv or any(arg in ("-h", "--help", "--version") for arg in argv)


def run(argv: list[str]) -> int:
    """Run the command line and return the exit code (no sys.exit: usable from tests)."""
    from cdt.core.errors import CdtError

    exceptions = clihelp.click_exceptions
    no_args_is_help = getattr(exceptions, "NoArgsIsHelpError", ())

    set_language(_language_from_argv(argv))
    if not _help_only(argv):
        _clean_scratch()
    # Shell completion (Tab) reads the words from the environment, not argv: it needs every command.
    app = build_app(None if os.environ.get("_CDT_COMPLETE") else argv)
    command = typer.main.get_command(app)
    for param in command.params:  # Typer's own completion options have English help
        if param.name in ("install_completion", "show_completion"):
            param.help = t(f"opt.{param.name}")
    try:
        # Without standalone mode click returns (not raises) the code of a typer.Exit.
        code = command.main(args=argv, prog_name="cdt", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except CdtError as error:
        _error_line(error.message)
        return 1
    except no_args_is_help:
        return 2  # Typer has printed the help already
    except exceptions.UsageError as error:
        message = clihelp.usage_message(error)
        if message:
            command_path = error.ctx.command_path if error.ctx else "cdt"
            _error_line(f"{message} ({t('usage.hint', command=command_path)})")
        return 2
    except typer.Exit as done:
        return done.exit_code
    except SystemExit as done:  # Typer exits by itself on a closed pipe
        return done.code if isinstance(done.code, int) else 1
    except typer.Abort:
        _error_line(t("error.aborted"))
        return 1
    except KeyboardInterrupt:
        _error_line(t("error.aborted"))
        return 130
    except BrokenPipeError:
        return 0
    except OSError as error:  # the disk or folder failed where no library check expected it
        from cdt.core.errors import os_reason

        where = printable(str(error.filename)) if error.filename else ""
        _error_line(t("os.failed_at", file=where, reason=os_reason(error)) if where else
                    t("os.failed", reason=os_reason(error)))
        return 1
    except exceptions.ClickException as error:
        _error_line(t("usage.generic", detail=error.format_message()))
        return error.exit_code
    except Exception as error:  # noqa: BLE001 — the last line of defence: never show a traceback
        if os.environ.get("CDT_DEBUG"):
            raise
        reason = _sqlite_disk_reason(error)
        if reason:
            _error_line(t("os.failed", reason=reason))
            return 1
        from cdt.core.errors import log_unexpected

        log = log_unexpected("cdt " + " ".join(argv))
        _error_line(t("error.unexpected", log=str(log) if log else "-"))
        return 1


def _sqlite_disk_reason(error: BaseException) -> str | None:
    """SQLite's own disk errors (full, read-only, I/O) in the user's words; None for anything else.

    SQLite rolls the transaction back on these, so the database is as it was."""
    import sqlite3

    if not isinstance(error, sqlite3.Error):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(error).lower()
    if primary == 13 or "disk is full" in text:  # SQLITE_FULL
        return t("os.disk_full")
    if primary == 8 or "readonly" in text:  # SQLITE_READONLY
        return t("os.read_only")
    if primary == 10 or "disk i/o" in text:  # SQLITE_IOERR
        return t("os.io_error")
    if primary == 14 or "unable to open" in text:  # SQLITE_CANTOPEN
        return t("os.no_folder")
    return None
def _clean_scratch() -> None:
    """Remove what killed cdt processes left in the private scratch folder (personal data) and the
    .part files they had begun: one directory listing when there is nothing to do."""
    from cdt.core import files as scratch

    try:
        scratch.clean_stale()
    except Exception:  # noqa: BLE001 — housekeeping must never stop a command
        pass


def _error_line(message: str) -> None:
    typer.echo(f"{t('error.prefix')}: {message}", err=True)


def _quiet_unraisable(unraisable) -> None:
    """An error in a finaliser (a zip file closed after a failed write) goes to the log, not the screen."""
    from cdt.core.errors import log_unexpected

    try:
        raise unraisable.exc_value
    except BaseException:  # noqa: BLE001 — logged, never shown
        log_unexpected("unraisable")


def main() -> None:
    """Console entry point (``cdt`` and ``python -m cdt``)."""
    _configure_streams()
    sys.unraisablehook = _quiet_unraisable
    sys.exit(run(sys.argv[1:]))
