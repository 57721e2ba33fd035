"""Removing a record entered by mistake: the removal plan (what uses it) and the cascade.

A removal is a tombstone (Transaction.delete: personal fields and notes cleared, rev bumped) that
travels upward. A record that others use is refused with what uses it, unless the caller asks for
the cascade: then the users are removed (or, for a visit that only names a removed member or
service, edited) in the same write transaction. Only this file's own rows can be removed.
"""

from __future__ import annotations

import json

from cdt.core.errors import InvalidInput, ReadOnlyRow
from cdt.core.i18n import t
from cdt.register.lookup import (describe_uses, find_hamlet, find_member, find_service_row, find_team,
                                 find_training, find_visit, label)
from cdt.register.undo import row_name
from cdt.store import Store

# What a removal of each kind takes with it, in the order the tables are listed to the clerk.
USE_TABLES = ("team", "member", "training_attendance", "visit", "visit_edit", "visit_edit_service")


class Removal:
    """A record about to be removed and everything that uses it (what a confirmation lists)."""

    def __init__(self, kind: str, row: dict, label: str):
        self.kind = kind
        self.row = row
        self.label = label
        self.uses: dict[str, list[dict]] = {}  # table -> rows removed together with the record
        self.edits: list[dict] = []  # visits kept, with a member or service taken out of them

    def add(self, table: str, rows: list[dict]) -> None:
        known = {r["id"] for r in self.uses.get(table, [])}
        self.uses.setdefault(table, []).extend(r for r in rows if r["id"] not in known)

    @property
    def counts(self) -> dict[str, int]:
        """Users per table ('visit_edit': visits kept but changed), only the non-zero ones."""
        counts = {table: len(rows) for table, rows in self.uses.items() if rows}
        if self.edits:
            counts["visit_edit_service" if self.kind == "service" else "visit_edit"] = len(self.edits)
        return {table: counts[table] for table in USE_TABLES if table in counts}

    @property
    def used(self) -> bool:
        return bool(self.counts)


def use_labels(store: Store, plan: Removal, limit: int = 10) -> list[str]:
    """One line per record removed or changed with the plan (at most ``limit`` per kind)."""
    lines = []
    for table in USE_TABLES:
        edit = table.startswith("visit_edit")
        rows = (plan.edits if table in plan.counts else []) if edit else plan.uses.get(table, [])
        for row in rows[:limit]:
            lines.append(t(f"uses.line.{'visit_edit' if edit else table}",
                           label=label(store, "visit" if edit else table, row)))
        if len(rows) > limit:
            lines.append(t("uses.more", count=len(rows) - limit))
    return lines


def own(store: Store, table: str, row: dict) -> None:
    """Raise ReadOnlyRow unless this file may change the row (it is one of its own)."""
    if not store.may_change(row["origin"]):
        raise ReadOnlyRow("store.read_only")


def _team_users(store: Store, plan: Removal, team_ids: list[str]) -> None:
    for team_id in team_ids:
        members = store.rows("member", team_id=team_id)
        plan.add("member", members)
        for member in members:
            plan.add("training_attendance", store.rows("training_attendance", member_id=member["id"]))
        plan.add("visit", store.rows("visit", team_id=team_id))


def plan_removal(store: Store, kind: str, text: str) -> Removal:
    """Find the record to remove and list what uses it (nothing is written)."""
    if kind == "hamlet":
        row = find_hamlet(store, text)
        plan = Removal(kind, row, label(store, "hamlet", row))
        teams = store.rows("team", hamlet_id=row["id"])
        plan.add("team", teams)
        _team_users(store, plan, [t["id"] for t in teams])
    elif kind == "team":
        row = find_team(store, text, active_only=False)
        plan = Removal(kind, row, label(store, "team", row))
        _team_users(store, plan, [row["id"]])
    elif kind == "member":
        row = find_member(store, text)
        plan = Removal(kind, row, label(store, "member", row))
        plan.add("training_attendance", store.rows("training_attendance", member_id=row["id"]))
        for visit in store.rows("visit", team_id=row["team_id"]):
            present = json.loads(visit["members"])
            if row["id"] in present:
                plan.edits.append({**visit, "members": json.dumps([m for m in present if m != row["id"]])})
    elif kind == "training":
        row = find_training(store, text)
        plan = Removal(kind, row, label(store, "training", row))
        plan.add("training_attendance", store.rows("training_attendance", training_id=row["id"]))
    elif kind == "visit":
        row = find_visit(store, text)
        plan = Removal(kind, row, label(store, "visit", row))
    elif kind == "service":
        row = find_service_row(store, text)
        plan = Removal(kind, row, label(store, "service", row))
        for visit in store.rows("visit"):
            codes = json.loads(visit["services"])
            if row["code"] in codes:
                rest = [c for c in codes if c != row["code"]]
                if rest:
                    plan.edits.append({**visit, "services": json.dumps(rest)})
                else:
                    plan.add("visit", [visit])
    else:
        raise ValueError(f"not a removable kind: {kind}")
    own(store, plan.kind, plan.row)
    return plan


def remove_record(store: Store, kind: str, text: str, *, cascade: bool = False) -> Removal:
    """Remove one record; with cascade, also what uses it (one write). Refused while used otherwise.

    The plan is made again inside the write transaction, so what is removed is exactly what uses
    the record at that moment (another process may have added a visit since it was shown)."""
    with store.write() as tx:
        plan = plan_removal(store, kind, text)
        if plan.used and not cascade:
            raise InvalidInput("remove.in_use", what=plan.label, uses=describe_uses(plan.counts))
        for table in ("training_attendance", "visit", "member", "team"):
            for row in plan.uses.get(table, []):
                own(store, table, row)
                tx.delete(table, row["id"])
        for visit in plan.edits:
            own(store, "visit", visit)
            tx.update("visit", visit["id"], {"members": visit["members"], "services": visit["services"]})
        tx.delete(plan.kind, plan.row["id"])
        tx.describe(f"history.remove.{kind}", **row_name(store, kind, plan.row), uses=plan.counts)
    return plan


def remove_hamlet(store: Store, text: str, *, cascade: bool = False) -> Removal:
    """Remove a hamlet entered by mistake (and, with cascade, its teams and what they recorded)."""
    return remove_record(store, "hamlet", text, cascade=cascade)


def remove_team(store: Store, text: str, *, cascade: bool = False) -> Removal:
    """Remove a team entered by mistake (a real dissolution is dissolve_team)."""
    return remove_record(store, "team", text, cascade=cascade)


def remove_member(store: Store, text: str, *, cascade: bool = False) -> dict:
    """Erase a member: the row becomes a tombstone with its personal fields cleared.

    A member with recorded attendance or named in visits is refused unless cascade: then the
    attendance goes too and the visits are kept without the member's name (remove_record)."""
    return remove_record(store, "member", text, cascade=cascade).row


def remove_training(store: Store, text: str, *, cascade: bool = False) -> Removal:
    """Remove a training entered by mistake (with cascade, its attendance too)."""
    return remove_record(store, "training", text, cascade=cascade)


def remove_visit(store: Store, ref: str) -> dict:
    """Delete a visit entered by mistake (a tombstone that travels upward)."""
    with store.write() as tx:
        visit = find_visit(store, ref)
        return tx.delete("visit", visit["id"])


def remove_service(store: Store, text: str, *, cascade: bool = False) -> Removal:
    """Remove a provincial service this file added (with cascade, it is taken out of its visits)."""
    return remove_record(store, "service", text, cascade=cascade)


def unattend(store: Store, training: str, members: list[str]) -> tuple[dict, list[dict]]:
    """Take members off a training's attendance (an attendance recorded by mistake)."""
    if not members:
        raise InvalidInput("training.no_member")
    with store.write() as tx:
        session = find_training(store, training)
        present = {a["member_id"]: a for a in store.rows("training_attendance", training_id=session["id"])}
        removed = []
        for name in members:
            member = find_member(store, name)
            if member["id"] not in present:
                raise InvalidInput("training.not_attended", name=member["full_name"], topic=session["topic"])
            if member["id"] not in {m["id"] for m in removed}:
                own(store, "training_attendance", present[member["id"]])
                tx.delete("training_attendance", present[member["id"]]["id"])
                removed.append(member)
    return session, removed
