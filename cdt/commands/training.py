"""cdt training: trainings (tập huấn) and who attended them."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from cdt.commands import _removal, common
from cdt.core.i18n import t
from cdt.core.text import display_date

ORDER = 50
app = typer.Typer(help=t("training.help"), no_args_is_help=True)


@app.command("add", help=t("training.add.help"))
def add(
    ctx: typer.Context,
    topic: Annotated[Optional[str], typer.Argument(help=common.required_help(t("training.arg.topic")),
                                                   metavar=t("metavar.topic"), show_default=False)] = None,
    date: Annotated[Optional[str], typer.Option("--date", help=common.required_help(t("training.opt.date")),
                                                show_default=False)] = None,
    organiser: Annotated[Optional[str], typer.Option("--organiser", help=t("training.opt.organiser"), show_default=False)] = None,
    mode: Annotated[Optional[str], typer.Option("--mode", help=t("training.opt.mode"), show_default=False)] = None,
    allow_duplicate: Annotated[bool, typer.Option("--allow-duplicate", help=t("opt.allow_duplicate"))] = False,
) -> None:
    from cdt.register import records

    if common.asking(ctx, topic=topic, date=date):
        # a clerk at a terminal: ask for what is missing, in order
        topic = common.ask_text(ctx, "topic", t("prompt.training.topic"), topic)
        date = common.ask_text(ctx, "date", t("prompt.date"), date, default=common.today())
    row = common.run(records.add_training, common.store(ctx), topic, date, organiser, mode,
                     allow_duplicate=allow_duplicate)
    common.say(t("training.added", topic=row["topic"], date=display_date(row["date"])))
    common.say(row["ref"])


@app.command("attend", help=t("training.attend.help"))
def attend(
    ctx: typer.Context,
    training: Annotated[Optional[str], typer.Argument(help=common.required_help(t("training.arg.training")),
                                                      metavar=t("metavar.training"), show_default=False)] = None,
    member: Annotated[Optional[List[str]], typer.Option("--member", help=common.required_help(t("training.opt.member")),
                                                        show_default=False)] = None,
) -> None:
    from cdt.register import lookup, records

    if common.asking(ctx, training=training, member=member):
        # a clerk at a terminal: ask for what is missing, in order
        db = common.store(ctx)
        trainings = [(r["id"], f"{display_date(r['date'])} {r['topic']}") for r in records.list_trainings(db)]
        training = common.ask_choice(ctx, "training", t("prompt.training.which"), training, trainings,
                                     check=lambda v: lookup.find_training(db, v))
        member = common.ask_choice(ctx, "member", t("prompt.training.members"), member, common.member_choices(db),
                                   many=True, check=lambda v: lookup.find_member(db, v))
    session, new = common.run(records.attend, common.store(ctx), training, member)
    common.say(t("training.attended", count=len(new), topic=session["topic"],
                 already=len(set(member)) - len(new) if len(member) > len(new) else 0))


@app.command("edit", help=t("training.edit.help"))
def edit(
    ctx: typer.Context,
    training: Annotated[str, typer.Argument(help=t("training.arg.training"), metavar=t("metavar.training"), show_default=False)],
    title: Annotated[Optional[str], typer.Option("--title", help=t("training.opt.title"), show_default=False)] = None,
    date: Annotated[Optional[str], typer.Option("--date", help=t("training.opt.date"), show_default=False)] = None,
    organiser: Annotated[Optional[str], typer.Option("--organiser", help=t("training.opt.organiser"), show_default=False)] = None,
    mode: Annotated[Optional[str], typer.Option("--mode", help=t("training.opt.mode"), show_default=False)] = None,
) -> None:
    from cdt.register import records

    row = common.run(records.edit_training, common.store(ctx), training, title=title, when=date,
                     organiser=organiser, mode=mode)
    common.say(t("training.edited", topic=row["topic"], date=display_date(row["date"]), ref=row["ref"]))


@app.command("remove", help=t("training.remove.help"))
def remove(
    ctx: typer.Context,
    training: Annotated[str, typer.Argument(help=t("training.arg.training"), metavar=t("metavar.training"), show_default=False)],
    yes: _removal.Yes = False,
    cascade: _removal.Cascade = False,
) -> None:
    _removal.remove(ctx, "training", training, yes, cascade)


@app.command("unattend", help=t("training.unattend.help"))
def unattend(
    ctx: typer.Context,
    training: Annotated[str, typer.Argument(help=t("training.arg.training"), metavar=t("metavar.training"), show_default=False)],
    member: Annotated[List[str], typer.Option("--member", help=t("training.opt.member"), show_default=False)],
) -> None:
    from cdt.register import corrections

    session, removed = common.run(corrections.unattend, common.store(ctx), training, member)
    common.say(t("training.unattended", count=len(removed), topic=session["topic"]))


@app.command("list", help=t("training.list.help"))
def list_(
    ctx: typer.Context,
    format: Annotated[common.ListFormat, typer.Option("--format", help=t("opt.list_format"))] = common.ListFormat.table,
) -> None:
    from cdt.register import records
    from cdt.domain.models import choice_label

    rows = records.list_trainings(common.store(ctx))
    if format is common.ListFormat.json:
        common.print_json(rows)
        return
    shown = [{**r, "mode": choice_label("mode", r["mode"]), "names": ", ".join(r["attendee_names"])} for r in rows]
    common.print_table(
        t("training.title"),
        [("ref", t("col.ref")), ("date", t("col.date")), ("topic", t("col.topic")),
         ("organiser", t("col.organiser")), ("mode", t("col.mode")), ("attendees", t("col.attendees")),
         ("names", t("col.names"))],
        shown, render={"date": display_date, "attendees": common.number}, empty=t("training.none"),
        as_csv=format is common.ListFormat.csv,
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="training")
