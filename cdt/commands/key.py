"""cdt key: this file's key fingerprint, the district's key for sealing packs, accepting a new key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cdt.commands import common
from cdt.core.i18n import t

ORDER = 73
app = typer.Typer(help=t("key.help"), no_args_is_help=True)


@app.command("show", help=t("key.show.help"))
def show(
    ctx: typer.Context,
    format: Annotated[common.Format, typer.Option("--format", help=t("opt.format"))] = common.Format.table,
) -> None:
    from cdt.exchange import keys

    data = keys.show(common.store(ctx))
    if format is common.Format.json:
        common.print_json(data)
        return
    unit = data["unit"]
    common.say(t("key.show.own", level=t(f"level.{unit['level']}"), name=unit["name"], code=unit["code"],
                 fingerprint=data["fingerprint"]))
    up = data["upstream"]
    if up:
        common.say(t("key.show.upstream", level=t(f"level.{up['level']}"), name=up["name"], code=up["code"],
                     fingerprint=up["fingerprint"]))
    elif unit["level"] != "province":
        common.say(t("key.show.no_upstream"))
    for pinned in data["pinned"]:
        common.say(t("key.show.pinned", level=t(f"level.{pinned['level']}"), name=pinned["unit_name"] or "?",
                     code=pinned["unit_code"], fingerprint=pinned["fingerprint"]))


@app.command("export", help=t("key.export.help"))
def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help=t("key.opt.out"), show_default=False)],
) -> None:
    from cdt.exchange import keys

    done = keys.export_file(common.store(ctx), out)
    common.say(t("key.export.done", path=done["path"], fingerprint=done["fingerprint"]))


@app.command("trust", help=t("key.trust.help"))
def trust(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help=t("key.arg.file"), metavar=t("key.metavar.file"), show_default=False)],
    yes: Annotated[bool, typer.Option("--yes", "-y", help=t("opt.yes"))] = False,
) -> None:
    from cdt.exchange import keys

    store = common.store(ctx)
    info = keys.read_key_file(file)
    keys.check_trust(store, info)
    level = t(f"level.{info['level']}")
    common.say(t("key.trust.shows", level=level, name=info["unit_name"], code=info["unit_code"],
                 fingerprint=info["fingerprint"]))
    if not _agreed(yes, t("key.trust.ask", level=level)):
        common.say(t("key.kept"))
        return
    keys.trust(store, info)
    common.say(t("key.trust.done", level=level, name=info["unit_name"]))


@app.command("accept", help=t("key.accept.help"))
def accept(
    ctx: typer.Context,
    pack: Annotated[Path, typer.Argument(help=t("key.arg.pack"), metavar=t("key.metavar.pack"), show_default=False)],
    yes: Annotated[bool, typer.Option("--yes", "-y", help=t("opt.yes"))] = False,
) -> None:
    from cdt.exchange import keys
    from cdt.core.errors import InvalidInput

    store = common.store(ctx)
    if store.site.level == "commune":
        raise InvalidInput("merge.commune_target")
    seen = keys.describe(keys.read_pack(pack))
    level = t(f"level.{seen['level']}")
    common.say(t("key.accept.shows", level=level, name=seen["name"] or "?", code=seen["code"] or "?",
                 fingerprint=seen["fingerprint"]))
    if not _agreed(yes, t("key.accept.ask")):
        common.say(t("key.kept"))
        return
    keys.accept(store, pack)
    common.say(t("key.accept.done", level=level, name=seen["name"] or "?", fingerprint=seen["fingerprint"]))


def _agreed(yes: bool, question: str) -> bool:
    if yes:
        return True
    if not common.interactive():
        from cdt.core.errors import InvalidInput

        raise InvalidInput("key.needs_yes")
    return common.confirm(question)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="key")
