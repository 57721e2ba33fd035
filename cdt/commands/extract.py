"""cdt extract: rebuild a commune's own file from the district or province file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cdt.commands import common
from cdt.core.i18n import t

ORDER = 74


def extract(
    ctx: typer.Context,
    commune: Annotated[str, typer.Option("--commune", help=t("extract.opt.commune"), show_default=False)],
    out: Annotated[Path, typer.Option("--out", help=t("extract.opt.out"), show_default=False)],
) -> None:
    from cdt.exchange.extract import extract_commune

    with common.working(t("progress.extract")):
        done = extract_commune(common.store(ctx), commune, out)
    common.say(t("extract.done", name=done["commune"]["name"], code=done["commune"]["code"], path=done["path"],
                 rows=common.number(sum(done["rows"].values())), clock=done["clock"]))
    common.say(t("extract.new_key", fingerprint=done["fingerprint"]))


def register(app: typer.Typer) -> None:
    app.command("extract", help=t("extract.help"))(extract)
