"""What every command shares: the open store, output in table/JSON/CSV, and asking which one."""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import typer

from cdt.cli.help import click_exceptions
from cdt.cli.state import State, never_ask
from cdt.core.i18n import t


class Format(str, Enum):
    table = "table"
    json = "json"


class ListFormat(str, Enum):
    """Output of the list commands: csv is for Excel (UTF-8 with a BOM, formula-safe)."""

    table = "table"
    json = "json"
    csv = "csv"


def db_path(ctx: typer.Context) -> Path:
    """The database path chosen by --db, CDT_DB or the per-user default."""
    from cdt.store import resolve_db_path

    return resolve_db_path(ctx.obj.db if ctx.obj else None)


def store(ctx: typer.Context):
    """The open store of this invocation (opened once, closed when the command ends)."""
    state: State = ctx.obj
    if state._store is None:
        from cdt.store import Store

        state._store = Store.open(db_path(ctx), on_migrate=_say_migrating)
        ctx.call_on_close(state._store.close)
    return state._store


def _say_migrating(old: int, new: int, copy: Path) -> None:
    from cdt.core.i18n import t

    typer.echo(t("store.migrating", old=old, new=new, copy=str(copy)), err=True)


def console(stderr: bool = False):
    """A rich console on the current stdout/stderr (so test runners capture it)."""
    from rich.console import Console

    return Console(file=sys.stderr if stderr else sys.stdout, highlight=False, soft_wrap=False)


def say(message: str) -> None:
    """A confirmation line for the user."""
    typer.echo(message)


def print_json(data: Any) -> None:
    """Machine-readable output: UTF-8 JSON, indented, nothing else on stdout."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def shell_quote(text: str) -> str:
    """A file name as it must be typed in a command (spaces, accents): in double quotes, which
    bash, zsh, cmd.exe and PowerShell all read the same way for ordinary names."""
    import re

    if re.fullmatch(r"[\w./:\\+-]+", text, flags=re.ASCII):
        return text
    return '"' + text.replace('"', '\\"') + '"'


def number(value: Any) -> str:
    """An integer with the thousands separator of the language in use: 17.000 (vi), 17,000 (en)."""
    if value is None:
        return ""
    from cdt.core.i18n import language

    if language() == "en":
        if isinstance(value, float) and not value.is_integer():
            return f"{value:,.1f}"
        return f"{int(value):,}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{int(value):,}".replace(",", ".")


# Columns whose cells read wrongly when wrapped (a phone split over two lines is two numbers).
_NO_WRAP = {"ref", "code", "date", "decision_date", "phone", "household", "left_on", "joined_on", "people",
            "members", "size", "households", "working_age", "attendees"}


def csv_safe(value: Any) -> str:
    """A cell as text a spreadsheet will not run: text starting with = + - @ (or a tab) gets a quote prefix."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    from cdt.core.i18n import printable

    text = str(value)
    text = "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
    return printable(text) if any(ord(c) < 32 for c in text) else text


def print_csv(rows: Iterable[list[Any]]) -> None:
    """CSV on stdout that Excel on Windows opens with its Vietnamese intact: UTF-8 with a BOM."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_safe(c) for c in row])
    sys.stdout.write("\ufeff" + buffer.getvalue())
    sys.stdout.flush()


def print_table(title: str, columns: list[tuple[str, str]], rows: Iterable[dict],
                render: Optional[dict[str, Callable[[Any], str]]] = None, empty: str = "",
                show_header: bool = True, as_csv: bool = False) -> None:
    """A rich table: columns are (key, heading); render maps a key to a formatter.

    as_csv: the same columns as CSV for Excel (headings first; numbers stay numbers)."""
    rows = list(rows)
    if as_csv:
        def cell(key: str, value: Any) -> Any:
            formatter = (render or {}).get(key)
            return value if formatter is None or formatter is number else formatter(value)

        print_csv([[heading for _, heading in columns],
                   *([cell(key, row.get(key)) for key, _ in columns] for row in rows)])
        return
    from rich.table import Table

    if not rows:
        say(empty or t("list.empty"))
        return
    if len(rows) > LARGE_TABLE:
        _plain_table(title, columns, rows, render, show_header)
        return
    table = Table(title=title, show_lines=False, header_style="bold", show_header=show_header)
    for key, heading in columns:
        justify = "right" if render and render.get(key) is number else "left"
        table.add_column(heading, justify=justify, overflow="fold", no_wrap=key in _NO_WRAP)
    for row in rows:
        cells = []
        for key, _ in columns:
            value = row.get(key)
            formatter = (render or {}).get(key)
            cells.append(formatter(value) if formatter else ("" if value is None else str(value)))
        table.add_row(*(escape(c) for c in cells))
    console().print(table)


# Above this many rows a list is printed as plain aligned text: rich measures and renders every
# cell (12 s for 2,000 teams on a clerk's laptop, 100 s for 10,000 members); a list that long is
# read by scrolling, searching or piping, where one line per row is what helps.
LARGE_TABLE = 300


def _plain_table(title: str, columns: list[tuple[str, str]], rows: list[dict],
                 render: Optional[dict[str, Callable[[Any], str]]], show_header: bool) -> None:
    from rich.cells import cell_len

    right = {key for key, _ in columns if render and render.get(key) is number}
    cells = []
    for row in rows:
        line = []
        for key, _ in columns:
            value = row.get(key)
            formatter = (render or {}).get(key)
            text = formatter(value) if formatter else ("" if value is None else str(value))
            line.append(" ".join(text.split()))  # one line per row
        cells.append(line)
    headings = [heading for _, heading in columns]
    widths = [max([cell_len(h) if show_header else 0] + [cell_len(line[i]) for line in cells])
              for i, h in enumerate(headings)]

    def fit(text: str, i: int) -> str:
        pad = " " * (widths[i] - cell_len(text))
        return pad + text if columns[i][0] in right else text + pad

    out = [title] if title else []
    if show_header:
        out.append("  ".join(fit(h, i) for i, h in enumerate(headings)).rstrip())
        out.append("  ".join("─" * w for w in widths))
    out.extend("  ".join(fit(c, i) for i, c in enumerate(line)).rstrip() for line in cells)
    typer.echo("\n".join(out))


def escape(text: str) -> str:
    """Text from the database shown literally (no rich markup from a name like '[red]')."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def interactive() -> bool:
    """True when a person can answer a question on this terminal (and did not say --no-input)."""
    if never_ask():
        return False
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def run(action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a library action; when a name is ambiguous, ask which one (or explain, if no one can answer)."""
    from cdt.core.errors import Ambiguous, InvalidInput

    for _ in range(10):
        try:
            return action(*args, **kwargs)
        except Ambiguous as error:
            options = "; ".join(f"{i}) {label}" for i, (_, label) in enumerate(error.candidates, 1))
            if not interactive():
                raise InvalidInput("choice.ambiguous", message=error.message, options=options) from None
            typer.echo(error.message)
            for i, (_, label) in enumerate(error.candidates, 1):
                typer.echo(f"  {i}) {label}")
            chosen = error.candidates[_ask_number(len(error.candidates), error.candidates) - 1][0]
            wanted = error.params.get("name")
            args = tuple(_swap(a, wanted, chosen) for a in args)
            kwargs = {k: _swap(v, wanted, chosen) for k, v in kwargs.items()}
    raise InvalidInput("choice.too_many")


def confirm(question: str) -> bool:
    """Ask a yes/no question in the user's language (c/có/y/yes mean yes; the default is no)."""
    answer = typer.prompt(f"{question} [{t('confirm.choices')}]", default="", show_default=False)
    return answer.strip().casefold() in {"c", "có", "co", "y", "yes"}


def _ask_number(count: int, candidates: list | None = None) -> int:
    """The number of the chosen line; the reference code a line shows ([ab12cd34]) is an answer too."""
    while True:
        answer = typer.prompt(t("choice.prompt")).strip()
        if answer.isdigit() and 1 <= int(answer) <= count:
            return int(answer)
        if candidates and len(answer) >= 4:
            from cdt.core.rows import REF_LENGTH, ref_of

            wanted = answer.strip("[]").lower()
            by_ref = [i for i, (key, _) in enumerate(candidates, 1) if ref_of(str(key)).startswith(wanted)
                      or (len(wanted) > REF_LENGTH and str(key).lower().startswith(wanted))]
            if len(by_ref) == 1:
                return by_ref[0]
        typer.echo(t("choice.out_of_range", count=count), err=True)


def _swap(value: Any, wanted: Any, chosen: str) -> Any:
    from cdt.core.text import clean

    if isinstance(value, str) and clean(value) == wanted:
        return chosen
    if isinstance(value, list):
        return [_swap(v, wanted, chosen) for v in value]
    return value


# -- asking for what is missing ------------------------------------------------------------------


def missing(ctx: typer.Context, name: str):
    """The usage error for a required value left out (the one line a script sees, exit 2)."""
    param = next((p for p in ctx.command.params if p.name == name), None)
    return click_exceptions.MissingParameter(ctx=ctx, param=param)


def required_help(text: str) -> str:
    """The help of a value that is required but asked for at a terminal (an option, or an argument
    whose usage line still shows it required). The hint's bracket is escaped: rich help reads
    "[bắt buộc; …]" as markup and would drop it."""
    return f"{text} \\{t('prompt.required_hint')}"


def asking(ctx: typer.Context, **required: Any) -> bool:
    """Whether to ask at a terminal for the required values left out (keyword order is the order a
    script is told about them). Without a terminal: the usage error for the first one, at once,
    before the file is opened, as when the value was required outright."""
    left_out = [name for name, value in required.items() if value in (None, "", [])]
    if not left_out:
        return False
    if not interactive():
        raise missing(ctx, left_out[0])
    return True


def today() -> str:
    """Today as a clerk types it (the default of a date asked for)."""
    return date.today().strftime("%d/%m/%Y")


def team_choices(db) -> list[tuple[str, str]]:
    """The commune's active teams, offered by hamlet name."""
    from cdt.register import records

    return [(r["id"], r["hamlet"]) for r in records.list_teams(db, include_dissolved=False)]


def member_choices(db, team: Optional[str] = None) -> list[tuple[str, str]]:
    """The active members (of one team when given), offered by name (and team, when all are)."""
    from cdt.register import records

    rows = run(records.list_members, db, team=team)
    return [(m["id"], m["full_name"] if team else f"{m['full_name']} — {m['team']}") for m in rows]


def ask_member(ctx: typer.Context, name: str, value: Optional[str]) -> Optional[str]:
    """value if given; else the commune's active members offered at a terminal (a name typed is
    looked up at once); else the usage error."""
    if not asking(ctx, **{name: value}):
        return value
    from cdt.register import lookup

    db = store(ctx)
    return ask_choice(ctx, name, t("prompt.member.which"), value, member_choices(db),
                      check=lambda v: lookup.find_member(db, v))


def ask_text(ctx: typer.Context, name: str, label: str, value: Any = None, default: Optional[str] = None) -> Any:
    """value if given; else ask for it at a terminal (default on Enter); else the usage error."""
    if value not in (None, "", []):
        return value
    if not interactive():
        raise missing(ctx, name)
    while True:
        answer = typer.prompt(label, default=default if default is not None else "", show_default=bool(default))
        answer = answer.strip()
        if answer:
            return answer
        if default is not None:
            return default


def ask_choice(ctx: typer.Context, name: str, label: str, value: Any, choices: list[tuple[str, str]], *,
               many: bool = False, optional: bool = False, check: Optional[Callable[[str], Any]] = None,
               resolve: Optional[Callable[[str], Any]] = None) -> Any:
    """value if given; else offer the known choices (value, label) by number at a terminal.

    The answer is a number (several with commas when many), or words typed as the clerk likes them,
    diacritics optional: those go to the library, which matches names the same way as options do.
    optional: Enter chooses nothing. Without a terminal: the usage error (or nothing, if optional).
    check: a library look-up run on each typed word; its error is shown and the question asked again.
    resolve: like check, but what it returns is the answer (a code among the choices), named back to
    the clerk when the words typed were not that code."""
    from cdt.core.errors import CdtError

    if value not in (None, "", []):
        return value
    if not interactive():
        if optional:
            return [] if many else None
        raise missing(ctx, name)
    typer.echo(label)
    for number_, (_, shown) in enumerate(choices, 1):
        typer.echo(f"  {number_}) {shown}")
    default = "" if optional else ("1" if len(choices) == 1 else None)
    hint = t("prompt.pick_many" if many else "prompt.pick") if choices else t("prompt.type")
    while True:
        answer = typer.prompt(hint, default=default if default is not None else "",
                              show_default=bool(default)).strip()
        if not answer:
            if optional:
                return [] if many else None
            continue
        parts = [p.strip() for p in answer.replace(";", ",").split(",")] if many else [answer]
        picked = []
        for part in parts:
            if not part:
                continue
            if part.isdigit() and 1 <= int(part) <= len(choices):
                picked.append(choices[int(part) - 1][0])
            elif part.isdigit() and choices:
                typer.echo(t("choice.out_of_range", count=len(choices)), err=True)
                picked = None
                break
            else:
                look_up = resolve or check
                try:
                    found = look_up(part) if look_up is not None else part
                except (CdtError, ValueError) as error:  # ValueError: models' parse_* of a word
                    typer.echo(f"{t('error.prefix')}: {getattr(error, 'message', error)}", err=True)
                    picked = None
                    break
                if resolve is None:
                    found = part  # check only vets the words: the library reads them again
                elif found != part:  # the words named a choice: say which
                    typer.echo(t("prompt.picked", choice=dict(choices).get(found, found)))
                picked.append(found)
        if picked:
            return picked if many else picked[0]


# -- progress ------------------------------------------------------------------------------------


class working:
    """A progress bar on stderr while a long step runs, only when stderr is a terminal.

    Used as ``with common.working(t("...")) as progress: library_call(..., progress=progress)``
    where the library takes a ``progress(done, total, what)`` callback; a library call without
    one shows a moving bar with the time taken. Off in scripts, logs and tests."""

    def __init__(self, label: str):
        self.label = label
        self._bar = None
        self._task = None

    def __enter__(self):
        console_ = console(stderr=True)
        if console_.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=console_, transient=True)
            self._bar.start()
            self._task = self._bar.add_task(escape(self.label), total=None)
        return self

    def __call__(self, done: int, total: int | None = None, what: str = "") -> None:
        if self._bar is not None:
            description = escape(f"{self.label} {what}".strip())
            self._bar.update(self._task, completed=done, total=total, description=description)

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
        return None
