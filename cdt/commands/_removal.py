"""The one way every ``remove`` command asks before it removes.

A record nobody uses: removed after a yes (the question, or ``--yes`` in scripts). A record that
others use (a hamlet with its team, a training with its attendance, …): the clerk sees the list of
what would go with it and answers one question. In scripts ``--yes`` alone never removes more than
the record named: the command is refused with what uses it, and ``--cascade`` (with ``--yes``) is
the explicit word for "remove them together". A script that removes a duplicate hamlet should not
silently take a team and its visits with it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cdt.commands import common
from cdt.core.i18n import t

Yes = Annotated[bool, typer.Option("--yes", "-y", help=t("remove.opt.yes"))]
Cascade = Annotated[bool, typer.Option("--cascade", help=t("remove.opt.cascade"))]


def remove(ctx: typer.Context, kind: str, text: str, yes: bool, cascade: bool) -> None:
    """Show what a removal takes with it, ask, remove, and say what was removed."""
    from cdt.register import corrections, lookup
    from cdt.core.errors import InvalidInput

    store = common.store(ctx)
    plan = common.run(corrections.plan_removal, store, kind, text)
    if plan.used and not cascade:
        uses = lookup.describe_uses(plan.counts)
        if yes or not common.interactive():
            raise InvalidInput("remove.in_use", what=plan.label, uses=uses)
        common.say(t("remove.uses_head", what=plan.label, uses=uses))
        for line in corrections.use_labels(store, plan):
            common.say(f"  - {line}")
        if not common.confirm(t("remove.confirm_cascade", what=plan.label)):
            common.say(t("remove.kept", what=plan.label))
            return
        cascade = True
    elif not yes:
        if not common.interactive():
            raise InvalidInput("remove.needs_yes", what=plan.label)
        if plan.used:
            common.say(t("remove.uses_head", what=plan.label, uses=lookup.describe_uses(plan.counts)))
            for line in corrections.use_labels(store, plan):
                common.say(f"  - {line}")
        if not common.confirm(t("remove.confirm", what=plan.label)):
            common.say(t("remove.kept", what=plan.label))
            return
    done = corrections.remove_record(store, kind, plan.row["id"] if kind != "service" else plan.row["code"],
                                     cascade=cascade)
    if done.used:
        common.say(t("remove.done_with", what=done.label, uses=lookup.describe_uses(done.counts)))
    else:
        common.say(t("remove.done", what=done.label))
