"""cdt service: the catalogue of platforms people are helped with (national + provincial)."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from cdt.commands import _removal, common
from cdt.core.i18n import t

ORDER = 70
app = typer.Typer(help=t("service.help"), no_args_is_help=True)


@app.command("list", help=t("service.list.help"))
def list_(
    ctx: typer.Context,
    format: Annotated[common.Format, typer.Option("--format", help=t("opt.format"))] = common.Format.table,
) -> None:
    from cdt.domain import services

    rows = services.service_catalogue(common.store(ctx))
    if format is common.Format.json:
        common.print_json(rows)
        return
    shown = [{**r, "aliases": ", ".join(r["aliases"]),
              "scope": t("service.national") if r["national"] else t("service.local")} for r in rows]
    common.print_table(t("service.title"), [("code", t("col.code")), ("name", t("col.name")),
                                           ("aliases", t("col.aliases")), ("scope", t("col.scope"))], shown)


@app.command("add", help=t("service.add.help"))
def add(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help=t("service.arg.code"), metavar=t("metavar.code"), show_default=False)],
    name: Annotated[str, typer.Option("--name", help=t("service.opt.name"), show_default=False)],
    alias: Annotated[Optional[List[str]], typer.Option("--alias", help=t("service.opt.alias"), show_default=False)] = None,
) -> None:
    from cdt.register import records

    row = records.add_service(common.store(ctx), code, name, alias or [])
    common.say(t("service.added", code=row["code"], name=row["name"]))


@app.command("edit", help=t("service.edit.help"))
def edit(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help=t("service.arg.code"), metavar=t("metavar.code"), show_default=False)],
    name: Annotated[Optional[str], typer.Option("--name", help=t("service.opt.name"), show_default=False)] = None,
    alias: Annotated[Optional[List[str]], typer.Option("--alias", help=t("service.opt.alias_replace"), show_default=False)] = None,
) -> None:
    from cdt.register import records

    row = records.edit_service(common.store(ctx), code, name=name, aliases=alias or None)
    common.say(t("service.edited", code=row["code"], name=row["name"]))


@app.command("remove", help=t("service.remove.help"))
def remove(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help=t("service.arg.code"), metavar=t("metavar.code"), show_default=False)],
    yes: _removal.Yes = False,
    cascade: _removal.Cascade = False,
) -> None:
    _removal.remove(ctx, "service", code, yes, cascade)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="service")
