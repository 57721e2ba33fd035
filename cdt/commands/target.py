"""cdt target: yearly targets (count or percent) of this file, shown with progress in the report."""

from __future__ import annotations

from typing import Annotated

import typer

from cdt.commands import common
from cdt.core.i18n import t

ORDER = 76
app = typer.Typer(help=t("target.help"), no_args_is_help=True)


def _value(target: dict) -> str:
    return f"{common.number(target['value'])}%" if target["percent"] else common.number(target["value"])


@app.command("set", help=t("target.set.help"))
def set_(
    ctx: typer.Context,
    indicator: Annotated[str, typer.Argument(help=t("target.arg.indicator"), metavar=t("metavar.indicator"), show_default=False)],
    year: Annotated[str, typer.Option("--year", help=t("target.opt.year"), show_default=False)],
    value: Annotated[str, typer.Option("--value", help=t("target.opt.value"), show_default=False)],
    percent: Annotated[bool, typer.Option("--percent", help=t("target.opt.percent"))] = False,
) -> None:
    from cdt.register.targets import set_target

    row = set_target(common.store(ctx), indicator, year, value, percent)
    common.say(t("target.done", indicator=t(f"report.ind.{row['indicator']}"), year=row["year"], value=_value(row)))


@app.command("list", help=t("target.list.help"))
def list_(
    ctx: typer.Context,
    format: Annotated[common.Format, typer.Option("--format", help=t("opt.format"))] = common.Format.table,
) -> None:
    from cdt.register.targets import list_targets

    rows = list_targets(common.store(ctx))
    if format is common.Format.json:
        common.print_json(rows)
        return
    shown = [{**r, "name": t(f"report.ind.{r['indicator']}"), "shown": _value(r),
              "base": t(f"report.base.{r['base']}") if r["base"] else ""} for r in rows]
    common.print_table(t("target.title"), [("year", t("report.col.year")), ("indicator", t("col.code")),
                                           ("name", t("report.col.indicator")), ("shown", t("report.col.target")),
                                           ("base", t("target.col.base"))],
                       shown, empty=t("target.none"))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="target")
