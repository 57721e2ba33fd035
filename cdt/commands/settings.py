"""cdt settings: the file's own settings (team size limits, digital-citizen services)."""

from __future__ import annotations

from typing import Annotated

import typer

from cdt.commands import common
from cdt.core.i18n import t

ORDER = 90
app = typer.Typer(help=t("settings.help"), no_args_is_help=True)


@app.command("list", help=t("settings.list.help"))
def list_(
    ctx: typer.Context,
    format: Annotated[common.Format, typer.Option("--format", help=t("opt.format"))] = common.Format.table,
) -> None:
    from cdt.register import settings

    values = settings.settings(common.store(ctx))
    if format is common.Format.json:
        common.print_json(values)
        return
    rows = [{"key": k, "value": v, "about": t(f"settings.about.{k}")} for k, v in values.items()]
    common.print_table(t("settings.title"), [("key", t("col.key")), ("value", t("col.value")),
                                            ("about", t("col.about"))], rows)


@app.command("set", help=t("settings.set.help"))
def set_(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help=t("settings.arg.key"), metavar=t("metavar.key"), show_default=False)],
    value: Annotated[str, typer.Argument(help=t("settings.arg.value"), metavar=t("metavar.value"), show_default=False)],
) -> None:
    from cdt.register import settings

    stored = settings.set_setting(common.store(ctx), key, value)
    common.say(t("settings.done", key=key.strip(), value=stored))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="settings")
