"""cdt visit: household visits (lượt hỗ trợ) — who went, which household, how many people, what for."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from cdt.commands import common
from cdt.core.i18n import t
from cdt.core.text import display_date

ORDER = 60
app = typer.Typer(help=t("visit.help"), no_args_is_help=True)

Services = Annotated[Optional[List[str]], typer.Option("--service", help=t("visit.opt.service"), show_default=False)]
Members = Annotated[Optional[List[str]], typer.Option("--member", help=t("visit.opt.member"), show_default=False)]
# The newest visits offered when `visit remove` is not told which (older ones: by the reference
# `visit list` shows, typed at the same question).
RECENT = 20

Notes = Annotated[Optional[str], typer.Option("--notes", help=t("visit.opt.notes"), show_default=False)]


@app.command("log", help=t("visit.log.help"))
def log(
    ctx: typer.Context,
    team: Annotated[Optional[str], typer.Option("--team", help=common.required_help(t("visit.opt.team")),
                                                show_default=False)] = None,
    household: Annotated[Optional[str], typer.Option("--household", help=common.required_help(t("visit.opt.household")),
                                                     show_default=False)] = None,
    people: Annotated[Optional[str], typer.Option("--people", help=common.required_help(t("visit.opt.people")),
                                                  show_default=False)] = None,
    service: Services = None,
    date: Annotated[Optional[str], typer.Option("--date", help=t("visit.opt.date"), show_default=False)] = None,
    member: Members = None,
    notes: Notes = None,
    allow_duplicate: Annotated[bool, typer.Option("--allow-duplicate", help=t("opt.allow_duplicate"))] = False,
) -> None:
    from cdt.domain.services import service_catalogue, service_from_words
    from cdt.register import lookup, records
    from cdt.core.rows import ref_of

    if common.asking(ctx, team=team, household=household, people=people, service=service):
        # a clerk at a terminal: ask for what is missing, in order
        db = common.store(ctx)
        team = common.ask_choice(ctx, "team", t("prompt.visit.team"), team, common.team_choices(db),
                                 check=lambda v: lookup.find_team(db, v))
        household = common.ask_text(ctx, "household", t("prompt.visit.household"), household)
        people = common.ask_text(ctx, "people", t("prompt.visit.people"), people, default="1")
        services = [(s["code"], f"{s['name']} ({s['code']})") for s in service_catalogue(db)]
        service = common.ask_choice(ctx, "service", t("prompt.visit.service"), service, services, many=True,
                                    resolve=lambda v: service_from_words(db, v))
        date = common.ask_text(ctx, "date", t("prompt.date"), date, default=common.today())
        member = common.ask_choice(ctx, "member", t("prompt.visit.member"), member,
                                   common.member_choices(db, team), many=True, optional=True)
    row = common.run(records.log_visit, common.store(ctx), team, household, people, service, date,
                     member or [], notes, allow_duplicate=allow_duplicate)
    common.say(t("visit.logged", household=row["household"], date=display_date(row["date"]),
                 people=row["people"], ref=ref_of(row["id"])))


@app.command("edit", help=t("visit.edit.help"))
def edit(
    ctx: typer.Context,
    visit: Annotated[str, typer.Argument(help=t("visit.arg.ref"), metavar=t("metavar.ref"), show_default=False)],
    team: Annotated[Optional[str], typer.Option("--team", help=t("visit.opt.team"), show_default=False)] = None,
    household: Annotated[Optional[str], typer.Option("--household", help=t("visit.opt.household"), show_default=False)] = None,
    people: Annotated[Optional[str], typer.Option("--people", help=t("visit.opt.people"), show_default=False)] = None,
    date: Annotated[Optional[str], typer.Option("--date", help=t("visit.opt.date"), show_default=False)] = None,
    service: Services = None,
    member: Members = None,
    notes: Notes = None,
) -> None:
    from cdt.register import records
    from cdt.core.rows import ref_of

    row = common.run(records.edit_visit, common.store(ctx), visit, team=team, household=household,
                     people=people, date=date, services=service or [], members=member or [], notes=notes)
    common.say(t("visit.edited", ref=ref_of(row["id"])))


@app.command("remove", help=t("visit.remove.help"))
def remove(
    ctx: typer.Context,
    visit: Annotated[Optional[str], typer.Argument(help=common.required_help(t("visit.arg.ref")),
                                                   metavar=t("metavar.ref"), show_default=False)] = None,
) -> None:
    from cdt.register import corrections, lookup, records

    if common.asking(ctx, visit=visit):
        db = common.store(ctx)
        recent = records.list_visits(db)[:RECENT]
        visits = [(v["id"], f"{display_date(v['date'])} {v['household']} — {v['team']} [{v['ref']}]")
                  for v in recent]
        visit = common.ask_choice(ctx, "visit", t("prompt.visit.which"), visit, visits,
                                  check=lambda v: lookup.find_visit(db, v))
    row = common.run(corrections.remove_visit, common.store(ctx), visit)
    common.say(t("visit.removed", household=row["household"], date=display_date(row["date"])))


@app.command("list", help=t("visit.list.help"))
def list_(
    ctx: typer.Context,
    month: Annotated[Optional[str], typer.Option("--month", help=t("visit.opt.month"), show_default=False)] = None,
    team: Annotated[Optional[str], typer.Option("--team", help=t("member.opt.filter_team"), show_default=False)] = None,
    format: Annotated[common.ListFormat, typer.Option("--format", help=t("opt.list_format"))] = common.ListFormat.table,
) -> None:
    from cdt.register import records
    from cdt.domain.parsers import parse_month

    period = parse_month(month) if month else None
    rows = common.run(records.list_visits, common.store(ctx), month=period, team=team)
    if format is common.ListFormat.json:
        common.print_json(rows)
        return
    shown = [{**r, "services": ", ".join(r["services"]), "members": ", ".join(r["members"])} for r in rows]
    common.print_table(
        t("visit.title"),
        [("ref", t("col.ref")), ("date", t("col.date")), ("team", t("col.team")),
         ("household", t("col.household")), ("people", t("col.people")), ("services", t("col.services")),
         ("members", t("col.members_present"))],
        shown, render={"date": display_date, "people": common.number}, empty=t("visit.none"),
        as_csv=format is common.ListFormat.csv,
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="visit")
