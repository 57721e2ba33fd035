"""cdt history and cdt undo: this file's last writes, and reversing them as a new write."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from cdt.commands import common
from cdt.core.i18n import t

ORDER = 65


def history(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help=t("history.opt.limit"))] = 20,
    format: Annotated[common.Format, typer.Option("--format", help=t("opt.format"))] = common.Format.table,
) -> None:
    from cdt.register import undo as library

    rows = library.history(common.store(ctx), limit)
    if format is common.Format.json:
        common.print_json(rows)
        return
    shown = [{**r, "at": (r["at"] or "").replace("T", " ")} for r in rows]
    common.print_table(
        t("history.title"),
        [("rev", t("history.col.rev")), ("at", t("history.col.at")), ("description", t("history.col.what")),
         ("rows", t("history.col.rows"))],
        shown, render={"rows": common.number}, empty=t("history.none"),
    )


def undo(
    ctx: typer.Context,
    to: Annotated[Optional[int], typer.Option("--to", min=0, help=t("undo.opt.to"), show_default=False)] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=t("undo.opt.yes"))] = False,
) -> None:
    from cdt.register import undo as library
    from cdt.core.errors import InvalidInput

    store = common.store(ctx)
    plan = library.plan_undo(store, to)
    if not yes:
        if not common.interactive():
            raise InvalidInput("undo.needs_yes")
        common.say(t("undo.head", count=len(plan["revs"])))
        for rev, line in plan["lines"]:
            common.say(f"  #{rev} {line}")
        if not common.confirm(t("undo.confirm")):
            common.say(t("undo.kept"))
            return
    done = library.undo(store, to)
    for rev, line in done["lines"]:
        common.say(t("undo.line", rev=rev, what=line))
    common.say(t("undo.done", rev=done["rev"], rows=done["rows"]))


def register(app: typer.Typer) -> None:
    app.command("history", help=t("history.help"))(history)
    app.command("undo", help=t("undo.help"))(undo)
