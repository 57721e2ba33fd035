"""cdt hamlet: the commune's hamlet-level units (thôn, bản, buôn, ấp, phum, sóc, tổ dân phố, …: models.HAMLET_KINDS)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from cdt.commands import _removal, common
from cdt.core.i18n import t
from cdt.domain.kinds import kind_label, kinds_text

ORDER = 20
app = typer.Typer(help=t("hamlet.kinds.help"), no_args_is_help=True)


@app.command("add", help=t("hamlet.add.kinds_help"))
def add(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Argument(help=common.required_help(t("hamlet.arg.name")),
                                                  metavar=t("metavar.name"), show_default=False)] = None,
    kind: Annotated[Optional[str], typer.Option("--kind", help=common.required_help(t("hamlet.opt.kinds", kinds=kinds_text())),
                                                show_default=False)] = None,
    households: Annotated[Optional[str], typer.Option("--households", help=t("hamlet.opt.households"), show_default=False)] = None,
    working_age: Annotated[Optional[str], typer.Option("--working-age", help=t("hamlet.opt.working_age"), show_default=False)] = None,
) -> None:
    from cdt.register import records

    if common.asking(ctx, name=name, kind=kind):
        # a clerk at a terminal: ask for what is missing, in order
        from cdt.domain.kinds import HAMLET_KINDS
        from cdt.domain.parsers import parse_kind

        name = common.ask_text(ctx, "name", t("prompt.hamlet.name"), name)
        kinds = [(kind_, kind_label(kind_)) for kind_ in HAMLET_KINDS]
        kind = common.ask_choice(ctx, "kind", t("prompt.hamlet.kind"), kind, kinds, check=parse_kind)
    row = common.run(records.add_hamlet, common.store(ctx), name, kind, households, working_age)
    common.say(t("hamlet.added", name=row["name"], kind=row["kind"]))


@app.command("edit", help=t("hamlet.edit.help"))
def edit(
    ctx: typer.Context,
    hamlet: Annotated[str, typer.Argument(help=t("hamlet.arg.hamlet"), metavar=t("metavar.hamlet"), show_default=False)],
    name: Annotated[Optional[str], typer.Option("--name", help=t("hamlet.opt.new_name"), show_default=False)] = None,
    kind: Annotated[Optional[str], typer.Option("--kind", help=t("hamlet.opt.kinds", kinds=kinds_text()), show_default=False)] = None,
    households: Annotated[Optional[str], typer.Option("--households", help=t("hamlet.opt.households"), show_default=False)] = None,
    working_age: Annotated[Optional[str], typer.Option("--working-age", help=t("hamlet.opt.working_age"), show_default=False)] = None,
) -> None:
    from cdt.register import records

    row = common.run(records.edit_hamlet, common.store(ctx), hamlet, name=name, kind=kind,
                     households=households, working_age=working_age)
    common.say(t("hamlet.edited", name=row["name"]))


@app.command("list", help=t("hamlet.list.help"))
def list_(
    ctx: typer.Context,
    format: Annotated[common.ListFormat, typer.Option("--format", help=t("opt.list_format"))] = common.ListFormat.table,
) -> None:
    from cdt.register import records

    rows = records.list_hamlets(common.store(ctx))
    if format is common.ListFormat.json:
        common.print_json(rows)
        return
    yes_no = lambda v: t("word.yes") if v else t("word.no")  # noqa: E731
    common.print_table(
        t("hamlet.title"),
        [("ref", t("col.ref")), ("name", t("col.name")), ("kind", t("col.kind")),
         ("households", t("col.households")), ("working_age", t("col.working_age")), ("has_team", t("col.has_team"))],
        rows, render={"households": common.number, "working_age": common.number, "has_team": yes_no, "kind": kind_label},
        empty=t("hamlet.none"), as_csv=format is common.ListFormat.csv,
    )


@app.command("remove", help=t("hamlet.remove.help"))
def remove(
    ctx: typer.Context,
    hamlet: Annotated[str, typer.Argument(help=t("hamlet.arg.remove"), metavar=t("metavar.hamlet"), show_default=False)],
    yes: _removal.Yes = False,
    cascade: _removal.Cascade = False,
) -> None:
    _removal.remove(ctx, "hamlet", hamlet, yes, cascade)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="hamlet")
