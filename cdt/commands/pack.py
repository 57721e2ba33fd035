"""cdt pack: a checked snapshot of this file for the USB stick."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cdt.commands import common
from cdt.core.i18n import t

ORDER = 70


def pack(
    ctx: typer.Context,
    out: Annotated[Optional[Path], typer.Option("--out", help=t("pack.opt.out"), show_default=False)] = None,
) -> None:
    from cdt.exchange.pack import make_pack

    from cdt.exchange import keys

    store = common.store(ctx)
    with common.working(t("progress.pack")):
        made = make_pack(store, out)
    common.say(t("pack.done", size=_size(made.size), sha=made.sha256))
    upstream = keys.upstream(store)
    if upstream:
        common.say(t("pack.sealed", name=upstream["unit_name"]))
    elif store.site.level != "province":
        common.say(t("pack.not_sealed"))
    # The last line is the pack's path alone: scripts read it.
    common.say(str(made.path))


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")
    return f"{common.number(round(size / 1024))} KB"


def register(app: typer.Typer) -> None:
    app.command("pack", help=t("pack.help"))(pack)
