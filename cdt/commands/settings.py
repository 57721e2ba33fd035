"""cdt settings: the file's own settings (team size limits, digital-citizen services, the report's issuer and signer)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from cdt.commands import common
from cdt.core.i18n import t

ORDER = 90
app = typer.Typer(help=t("settings.help"), no_args_is_help=True)


@app.command("list", help=t("settings.list.help"))
def list_(
    ctx: typer.Context,
    format: Annotated[common.ListFormat, typer.Option("--format", help=t("opt.format"))] = common.ListFormat.table,
) -> None:
    from cdt.register import settings

    db = common.store(ctx)
    values = settings.settings(db)
    if format is common.ListFormat.json:
        common.print_json(values)
        return
    defaults = {**settings.SETTING_DEFAULTS, **settings.document_defaults(db)}
    rows = [{"key": k, "value": v, "default": defaults.get(k, ""), "about": t(f"settings.about.{k}")}
            for k, v in values.items()]
    common.print_table(t("settings.title"), [("key", t("col.key")), ("value", t("col.value")),
                                            ("default", t("settings.col.default")), ("about", t("col.about"))], rows,
                       as_csv=format is common.ListFormat.csv)


@app.command("set", help=t("settings.set.help"))
def set_(
    ctx: typer.Context,
    key: Annotated[Optional[str], typer.Argument(help=t("settings.arg.key"), metavar=t("metavar.key"),
                                                 show_default=False)] = None,
    value: Annotated[Optional[str], typer.Argument(help=t("settings.arg.value"), metavar=t("metavar.value"),
                                                   show_default=False)] = None,
) -> None:
    from cdt.domain import letterhead
    from cdt.register import settings

    if value is not None and key is not None:
        db = common.store(ctx)
        stored = settings.set_setting(db, key, value)
        _say_done(db, key.strip(), stored)
        return
    # Left out: asked at a terminal (every document setting in turn when no key is given).
    common.asking(ctx, **({"key": key} if key is None else {"value": value}))
    db = common.store(ctx)
    for name in (letterhead.KEYS if key is None else (key.strip(),)):
        _ask_and_set(db, name)


def _ask_and_set(db, key: str) -> None:
    """Ask for one setting's value (Enter keeps what is there) until the library takes it."""
    from cdt.core.errors import CdtError
    from cdt.register import settings

    if key not in settings.SETTING_DEFAULTS:
        settings.set_setting(db, key, "")  # the library's message for an unknown key
    current = settings.settings(db).get(key, "")
    default = settings.document_defaults(db).get(key, settings.SETTING_DEFAULTS.get(key, ""))
    shown = current or default
    typer.echo(f"{key}: {t(f'settings.about.{key}')}")
    while True:
        answer = typer.prompt(t("settings.prompt"), default=shown, show_default=bool(shown))
        if answer.strip() == shown.strip():
            answer = current  # Enter: unchanged (a default stays a default)
        try:
            stored = settings.set_setting(db, key, answer)
        except CdtError as error:
            typer.echo(f"{t('error.prefix')}: {error.message}", err=True)
            continue
        _say_done(db, key, stored)
        return


def _say_done(db, key: str, stored: str) -> None:
    from cdt.register import settings

    if stored == "" and key in settings.document_defaults(db):
        shown = settings.document_defaults(db)[key]
        common.say(t("settings.done_default", key=key, value=shown) if key != "signer_authority"
                   else t("settings.done_none", key=key))
        return
    common.say(t("settings.done", key=key, value=stored))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="settings")
