"""cdt member: team members, their roles and affiliations."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from cdt.commands import common
from cdt.core.i18n import t
from cdt.core.text import display_date

ORDER = 40
app = typer.Typer(help=t("member.help"), no_args_is_help=True)

Role = Annotated[Optional[str], typer.Option("--role", help=t("member.opt.role"), show_default=False)]
Affiliation = Annotated[Optional[str], typer.Option("--affiliation", help=t("member.opt.affiliation"), show_default=False)]
Phone = Annotated[Optional[str], typer.Option("--phone", help=t("member.opt.phone"), show_default=False)]
Gender = Annotated[Optional[str], typer.Option("--gender", help=t("member.opt.gender"), show_default=False)]
BirthYear = Annotated[Optional[str], typer.Option("--birth-year", help=t("member.opt.birth_year"), show_default=False)]
Joined = Annotated[Optional[str], typer.Option("--joined-on", help=t("member.opt.joined_on"), show_default=False)]


@app.command("add", help=t("member.add.help"))
def add(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Argument(help=common.required_help(t("member.arg.name")),
                                                  metavar=t("metavar.full_name"), show_default=False)] = None,
    team: Annotated[Optional[str], typer.Option("--team", help=common.required_help(t("member.opt.team")),
                                                show_default=False)] = None,
    role: Role = None, affiliation: Affiliation = None, phone: Phone = None, gender: Gender = None,
    birth_year: BirthYear = None, joined_on: Joined = None,
    allow_duplicate: Annotated[bool, typer.Option("--allow-duplicate", help=t("opt.allow_duplicate"))] = False,
) -> None:
    from cdt.register import lookup, records
    from cdt.domain.parsers import ROLES, parse_role
    from cdt.domain.models import choice_label

    if common.asking(ctx, name=name, team=team):
        # a clerk at a terminal: ask for what is missing, in order (Enter at the role: thành viên)
        db = common.store(ctx)
        name = common.ask_text(ctx, "name", t("prompt.member.name"), name)
        team = common.ask_choice(ctx, "team", t("prompt.member.team"), team, common.team_choices(db),
                                 check=lambda v: lookup.find_team(db, v))
        roles = [(role_, choice_label("role", role_)) for role_ in ROLES]
        role = common.ask_choice(ctx, "role", t("prompt.member.role"), role, roles, optional=True,
                                 check=parse_role)
    row = common.run(records.add_member, common.store(ctx), name, team, role=role, affiliation=affiliation,
                     phone=phone, gender=gender, birth_year=birth_year, joined_on=joined_on,
                     allow_duplicate=allow_duplicate)
    common.say(t("member.added", name=row["full_name"], role=choice_label("role", row["role"])))


@app.command("edit", help=t("member.edit.help"))
def edit(
    ctx: typer.Context,
    member: Annotated[str, typer.Argument(help=t("member.arg.member"), metavar=t("metavar.member"), show_default=False)],
    name: Annotated[Optional[str], typer.Option("--name", help=t("member.opt.new_name"), show_default=False)] = None,
    team: Annotated[Optional[str], typer.Option("--team", help=t("member.opt.move_team"), show_default=False)] = None,
    role: Role = None, affiliation: Affiliation = None, phone: Phone = None, gender: Gender = None,
    birth_year: BirthYear = None, joined_on: Joined = None,
) -> None:
    from cdt.register import records

    row = common.run(records.edit_member, common.store(ctx), member, team=team, full_name=name, role=role,
                     affiliation=affiliation, phone=phone, gender=gender, birth_year=birth_year,
                     joined_on=joined_on)
    common.say(t("member.edited", name=row["full_name"]))


# A member named on the command line, or asked for at a terminal when left out.
Named = Annotated[Optional[str], typer.Argument(help=common.required_help(t("member.arg.member")),
                                                metavar=t("metavar.member"), show_default=False)]


@app.command("leave", help=t("member.leave.help"))
def leave(
    ctx: typer.Context,
    member: Named = None,
    on: Annotated[Optional[str], typer.Option("--date", help=t("member.opt.left_on"), show_default=False)] = None,
) -> None:
    from cdt.register import records

    member = common.ask_member(ctx, "member", member)
    row = common.run(records.member_leave, common.store(ctx), member, on)
    common.say(t("member.left", name=row["full_name"], date=display_date(row["left_on"])))


@app.command("remove", help=t("member.remove.help"))
def remove(
    ctx: typer.Context,
    member: Named = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=t("opt.yes"))] = False,
    cascade: Annotated[bool, typer.Option("--cascade", help=t("remove.opt.cascade"))] = False,
) -> None:
    from cdt.register import corrections, lookup

    from cdt.core.errors import InvalidInput

    from cdt.commands import _removal

    member = common.ask_member(ctx, "member", member)
    store = common.store(ctx)
    target = common.run(lookup.find_member, store, member)
    if cascade or corrections.plan_removal(store, "member", target["id"]).used:
        _removal.remove(ctx, "member", target["id"], yes, cascade)
        return
    if not yes:
        if not common.interactive():
            raise InvalidInput("member.remove_needs_yes", name=target["full_name"])
        if not common.confirm(t("member.remove_confirm", name=target["full_name"])):
            common.say(t("member.remove_kept", name=target["full_name"]))
            return
    removed = corrections.remove_member(store, target["id"])
    common.say(t("member.removed", name=removed["full_name"]))


@app.command("list", help=t("member.list.help"))
def list_(
    ctx: typer.Context,
    team: Annotated[Optional[str], typer.Option("--team", help=t("member.opt.filter_team"), show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help=t("member.opt.all"))] = False,
    format: Annotated[common.ListFormat, typer.Option("--format", help=t("opt.list_format"))] = common.ListFormat.table,
) -> None:
    from cdt.register import records
    from cdt.domain.models import choice_label

    # JSON is for machines: every live row, members who left included (their left_on says so).
    json_out = format is common.ListFormat.json
    rows = common.run(records.list_members, common.store(ctx), team=team, include_left=all_ or json_out)
    if json_out:
        common.print_json(rows)
        return
    shown = [{**r, "role": choice_label("role", r["role"]), "gender": choice_label("gender", r["gender"]),
              "trained": t("word.yes") if r["trained"] else "", "left_on": display_date(r["left_on"])}
             for r in rows]
    columns = [("ref", t("col.ref")), ("full_name", t("col.full_name")), ("team", t("col.team")),
               ("role", t("col.role")), ("affiliation", t("col.affiliation")), ("phone", t("col.phone")),
               ("trained", t("col.trained"))]
    if all_:
        columns.append(("left_on", t("col.left_on")))
    common.print_table(t("member.title"), columns, shown, empty=t("member.none"),
                       as_csv=format is common.ListFormat.csv)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="member")
