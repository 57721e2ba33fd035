"""cdt team: teams (Tổ CNSCĐ), one active team a hamlet, with their founding decisions."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from cdt.commands import _removal, common
from cdt.core.i18n import t
from cdt.core.text import display_date

ORDER = 30
app = typer.Typer(help=t("team.help"), no_args_is_help=True)


@app.command("add", help=t("team.add.help"))
def add(
    ctx: typer.Context,
    hamlet: Annotated[Optional[str], typer.Option("--hamlet", help=common.required_help(t("team.opt.hamlet")),
                                                  show_default=False)] = None,
    decision: Annotated[Optional[str], typer.Option("--decision", help=t("team.opt.decision"), show_default=False)] = None,
    decided_on: Annotated[Optional[str], typer.Option("--decided-on", help=t("team.opt.decided_on"), show_default=False)] = None,
    founded_on: Annotated[Optional[str], typer.Option("--founded-on", help=t("team.opt.founded_on"), show_default=False)] = None,
) -> None:
    from cdt.register import lookup, records
    from cdt.core.rows import ref_of

    if common.asking(ctx, hamlet=hamlet):
        # a clerk at a terminal: ask for what is missing, in order (the decision may come later)
        db = common.store(ctx)
        hamlets = [(h["id"], h["name"]) for h in records.list_hamlets(db) if not h["has_team"]]
        hamlet = common.ask_choice(ctx, "hamlet", t("prompt.team.hamlet"), hamlet, hamlets,
                                   check=lambda v: lookup.find_hamlet(db, v))
        decision = common.ask_text(ctx, "decision", t("prompt.team.decision"), decision, default="") or None
        decided_on = common.ask_text(ctx, "decided_on", t("prompt.team.decided_on"), decided_on, default="") or None
    store = common.store(ctx)
    row = common.run(records.add_team, store, hamlet, decision, decided_on, founded_on)
    name = lookup.find_hamlet(store, row["hamlet_id"])["name"]
    common.say(t("team.added", hamlet=name, ref=ref_of(row["id"])))


@app.command("edit", help=t("team.edit.help"))
def edit(
    ctx: typer.Context,
    team: Annotated[str, typer.Argument(help=t("team.arg.team"), metavar=t("metavar.team"), show_default=False)],
    decision: Annotated[Optional[str], typer.Option("--decision", help=t("team.opt.decision"), show_default=False)] = None,
    decided_on: Annotated[Optional[str], typer.Option("--decided-on", help=t("team.opt.decided_on"), show_default=False)] = None,
    founded_on: Annotated[Optional[str], typer.Option("--founded-on", help=t("team.opt.founded_on"), show_default=False)] = None,
) -> None:
    from cdt.register import records

    common.run(records.edit_team, common.store(ctx), team, decision_number=decision,
               decision_date=decided_on, founded_on=founded_on)
    common.say(t("team.edited"))


@app.command("dissolve", help=t("team.dissolve.help"))
def dissolve(
    ctx: typer.Context,
    team: Annotated[str, typer.Argument(help=t("team.arg.team"), metavar=t("metavar.team"), show_default=False)],
    on: Annotated[Optional[str], typer.Option("--date", help=t("team.opt.dissolved_on"), show_default=False)] = None,
) -> None:
    from cdt.register import records

    row = common.run(records.dissolve_team, common.store(ctx), team, on)
    common.say(t("team.dissolved", date=display_date(row["dissolved_on"])))


def _size(row: dict) -> str:
    flag = " ⚠" if row["below_minimum"] or row["above_maximum"] else ""
    return f"{row['members']}{flag}"


@app.command("list", help=t("team.list.help"))
def list_(
    ctx: typer.Context,
    format: Annotated[common.ListFormat, typer.Option("--format", help=t("opt.list_format"))] = common.ListFormat.table,
) -> None:
    from cdt.register import records, settings as register_settings

    store = common.store(ctx)
    rows = records.list_teams(store)
    if format is common.ListFormat.json:
        common.print_json(rows)
        return
    for row in rows:
        row["size"] = _size(row)
        row["status_label"] = t(f"status.{row['status']}")
    common.print_table(
        t("team.title"),
        [("ref", t("col.ref")), ("hamlet", t("col.hamlet")), ("decision_number", t("col.decision")),
         ("decision_date", t("col.decided_on")), ("size", t("col.members")), ("trained", t("col.trained")),
         ("leader", t("col.leader")), ("status_label", t("col.status"))],
        rows, render={"decision_date": display_date}, empty=t("team.none"),
        as_csv=format is common.ListFormat.csv,
    )
    if format is common.ListFormat.csv:
        return
    settings = register_settings.settings(store)
    if any(r["below_minimum"] for r in rows):
        common.say(t("team.below_minimum_note", min=settings["team_min_members"]))


@app.command("show", help=t("team.show.help"))
def show(
    ctx: typer.Context,
    team: Annotated[str, typer.Argument(help=t("team.arg.team"), metavar=t("metavar.team"), show_default=False)],
    format: Annotated[common.Format, typer.Option("--format", help=t("opt.format"))] = common.Format.table,
) -> None:
    from cdt.register import records
    from cdt.domain.models import choice_label

    detail = common.run(records.team_detail, common.store(ctx), team)
    if format is common.Format.json:
        common.print_json(detail)
        return
    common.say(t("team.show_head", hamlet=detail["hamlet"], ref=detail["ref"],
                 status=t(f"status.{detail['status']}")))
    common.say(t("team.show_decision", number=detail["decision_number"] or "—",
                 date=display_date(detail["decision_date"]) or "—",
                 founded=display_date(detail["founded_on"]) or "—"))
    common.say(t("team.show_size", members=detail["members"], min=detail["min_members"],
                 max=detail["max_members"], trained=detail["trained"], visits=detail["visits"]))
    if detail["below_minimum"]:
        common.say(t("team.below_minimum", members=detail["members"], min=detail["min_members"]))
    rows = [{**m, "role": choice_label("role", m["role"]), "left_on": display_date(m["left_on"]),
             "trained": t("word.yes") if m["trained"] else ""} for m in detail["member_list"]]
    common.print_table(
        t("member.title"),
        [("full_name", t("col.full_name")), ("role", t("col.role")), ("affiliation", t("col.affiliation")),
         ("phone", t("col.phone")), ("trained", t("col.trained")), ("left_on", t("col.left_on"))],
        rows, empty=t("member.none"),
    )


@app.command("remove", help=t("team.remove.help"))
def remove(
    ctx: typer.Context,
    team: Annotated[str, typer.Argument(help=t("team.arg.team"), metavar=t("metavar.team"), show_default=False)],
    yes: _removal.Yes = False,
    cascade: _removal.Cascade = False,
) -> None:
    _removal.remove(ctx, "team", team, yes, cascade)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="team")
