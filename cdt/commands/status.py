"""cdt status: which units' data this file holds, and which never sent anything."""

from __future__ import annotations

from typing import Annotated

import typer

from cdt.commands import common
from cdt.core.i18n import t
from cdt.core.text import display_date

ORDER = 72


def status(
    ctx: typer.Context,
    format: Annotated[common.Format, typer.Option("--format", help=t("opt.format"))] = common.Format.table,
) -> None:
    from cdt.exchange import status as library

    data = library.status(common.store(ctx))
    if format is common.Format.json:
        common.print_json(data)
        return
    rows = []
    for origin in data["origins"]:
        name = f"{origin['unit']['name'] or '?'} ({origin['unit']['code'] or '?'})"
        if origin.get("own"):
            name += " " + t("status.own")
        if origin.get("replaced_by"):
            name += " · " + t("valid.status.replaced", new=origin["replaced_by"]["db_id"][:8],
                              clock=origin["replaced_by"]["switch_clock"])
        for old in origin.get("replaces") or []:
            name += " · " + t("valid.status.replaces", old=old[:8])
        counts = ", ".join(f"{t('table.' + k)} {common.number(v)}" for k, v in origin["rows"].items() if v)
        rows.append({"unit": name, "db_id": origin["db_id"][:8], "packed": display_date(origin["packed_at"]),
                     "clock": origin["clock"], "merged": (origin["merged_at"] or "").replace("T", " "),
                     "rows": counts, "key": origin.get("key") or ""})
    common.print_table(
        t("status.title", name=data["unit"]["name"]),
        [("unit", t("status.col.unit")), ("db_id", t("status.col.db_id")), ("packed", t("status.col.packed")),
         ("clock", t("status.col.clock")), ("merged", t("status.col.merged")), ("rows", t("status.col.rows")),
         ("key", t("status.col.key"))],
        rows, render={"clock": common.number}, empty=t("status.none"))
    never = data["never_heard"]
    if never:
        common.say(t("status.never", count=len(never), names=", ".join(f"{u['name']} ({u['code']})" for u in never)))
    elif data["unit"]["level"] != "commune":
        common.say(t("status.all_heard"))
    if data.get("second_files"):
        common.say(t("valid.status.second_file", names=", ".join(
            f"{f['unit']['name'] or '?'} ({f['db_id'][:8]})" for f in data["second_files"])))
    if data["open_conflicts"]:
        common.say(t("status.conflicts", count=data["open_conflicts"]))


def register(app: typer.Typer) -> None:
    app.command("status", help=t("status.help"))(status)
