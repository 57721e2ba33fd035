"""cdt units search: find administrative units by code or name."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from cdt.commands import common
from cdt.core.i18n import t

ORDER = 15
app = typer.Typer(help=t("units.help"), no_args_is_help=True)


@app.command("search", help=t("units.search.help"))
def search(
    text: Annotated[str, typer.Argument(help=t("units.arg.text"), metavar=t("metavar.text"), show_default=False)],
    structure: Annotated[Optional[str], typer.Option("--structure", help=t("init.opt.structure"), show_default=False)] = None,
    level: Annotated[Optional[str], typer.Option("--level", help=t("units.opt.level"), show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", help=t("units.opt.limit"))] = 50,
    format: Annotated[common.Format, typer.Option("--format", help=t("opt.format"))] = common.Format.table,
) -> None:
    from dataclasses import asdict

    from cdt.domain import units

    if structure not in (None, "legacy", "2025"):
        raise typer.BadParameter(t("init.bad_structure", value=structure), param_hint="--structure")
    if level not in (None, "province", "district", "commune"):
        raise typer.BadParameter(t("units.bad_level", value=level), param_hint="--level")
    found = units.search(text, structure=structure, level=level)[: max(limit, 1)]
    if format is common.Format.json:
        common.print_json([asdict(u) for u in found])
        return
    rows = [{**asdict(u), "structure": t(f"structure.{u.structure}"), "level": t(f"level.{u.level}")} for u in found]
    common.print_table(
        t("units.title", text=text),
        [("code", t("col.code")), ("name", t("col.name")), ("level", t("col.level")),
         ("district_name", t("col.district")), ("province_name", t("col.province")),
         ("structure", t("col.structure"))],
        rows, empty=t("units.none", text=text),
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="units")
