"""What every command shares: the open store, output in table/JSON/CSV, and asking which one."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import typer

from cdt.i18n import t


class Format(str, Enum):
    table = "table"
    json = "json"


@dataclass
class State:
    """Global options, carried on the Typer context."""

    db: Optional[Path] = None
    _store: Any = field(default=None, repr=False)


def db_path(ctx: typer.Context) -> Path:
    """The database path chosen by --db, CDT_DB or the per-user default."""
    from cdt.store import resolve_db_path

    return resolve_db_path(ctx.obj.db if ctx.obj else None)


def store(ctx: typer.Context):
    """The open store of this invocation (opened once, closed when the command ends)."""
    state: State = ctx.obj
    if state._store is None:
        from cdt.store import Store

        state._store = Store.open(db_path(ctx))
        ctx.call_on_close(state._store.close)
    return state._store


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


def display_date(iso: Optional[str]) -> str:
    """ISO date → dd/mm/yyyy, the way Vietnamese documents write it."""
    if not iso:
        return ""
    try:
        return date.fromisoformat(iso[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return iso


def number(value: Any) -> str:
    """An integer with the Vietnamese thousands separator: 17.000."""
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{int(value):,}".replace(",", ".")


# Columns whose cells read wrongly when wrapped (a phone split over two lines is two numbers).
_NO_WRAP = {"ref", "code", "date", "decision_date", "phone", "household", "left_on", "joined_on", "people",
            "members", "size", "households", "working_age", "attendees"}


def print_table(title: str, columns: list[tuple[str, str]], rows: Iterable[dict],
                render: Optional[dict[str, Callable[[Any], str]]] = None, empty: str = "",
                show_header: bool = True) -> None:
    """A rich table: columns are (key, heading); render maps a key to a formatter."""
    from rich.table import Table

    rows = list(rows)
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
# read by scrolling, searching or piping, where one line per row is what helps (issue 11 item 6).
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
    """True when a person can answer a question on this terminal."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def run(action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a library action; when a name is ambiguous, ask which one (or explain, if no one can answer)."""
    from cdt.errors import Ambiguous, InvalidInput

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
            chosen = error.candidates[_ask_number(len(error.candidates)) - 1][0]
            wanted = error.params.get("name")
            args = tuple(_swap(a, wanted, chosen) for a in args)
            kwargs = {k: _swap(v, wanted, chosen) for k, v in kwargs.items()}
    raise InvalidInput("choice.too_many")


def confirm(question: str) -> bool:
    """Ask a yes/no question in the user's language (c/có/y/yes mean yes; the default is no)."""
    answer = typer.prompt(f"{question} [{t('confirm.choices')}]", default="", show_default=False)
    return answer.strip().casefold() in {"c", "có", "co", "y", "yes"}


def _ask_number(count: int) -> int:
    while True:
        answer = typer.prompt(t("choice.prompt")).strip()
        if answer.isdigit() and 1 <= int(answer) <= count:
            return int(answer)
        typer.echo(t("choice.out_of_range", count=count), err=True)


def _swap(value: Any, wanted: Any, chosen: str) -> Any:
    from cdt.text import clean

    if isinstance(value, str) and clean(value) == wanted:
        return chosen
    if isinstance(value, list):
        return [_swap(v, wanted, chosen) for v in value]
    return value
