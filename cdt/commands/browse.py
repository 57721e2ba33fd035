"""cdt browse: explore this file in the web browser (Datasette), read-only, on this computer only."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from cdt.commands import common
from cdt.core.i18n import t

ORDER = 77


def browse(
    ctx: typer.Context,
    port: Annotated[Optional[int], typer.Option("--port", min=0, max=65535, help=t("browse.opt.port"),
                                                show_default=False)] = None,
    personal: Annotated[bool, typer.Option("--personal", help=t("browse.opt.personal"))] = False,
    no_open: Annotated[bool, typer.Option("--no-open", help=t("browse.opt.no_open"))] = False,
) -> None:
    from cdt.reports import browse as library

    library.check_installed()
    path = common.db_path(ctx)
    if personal:
        typer.echo(t("browse.personal_warning"), err=True)
    with common.working(t("browse.preparing")):
        copy = library.make_copy(path, personal=personal)

    def ready(url: str) -> None:
        common.say(t("browse.ready", unit=copy.unit_name, file=str(path)))
        # The address alone on its line: scripts and tests read it.
        common.say(url)
        common.say(t("browse.how_to_stop"))
        if not no_open:
            import webbrowser

            webbrowser.open(url)

    library.serve(copy, port=port, on_ready=ready)
    common.say(t("browse.stopped"))


def register(app: typer.Typer) -> None:
    app.command("browse", help=t("browse.help"))(browse)
