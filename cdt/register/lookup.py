"""Finding a row from what a person typed, and the labels that name rows and what uses them.

People name things the way they speak (a team by its hamlet, a member by name without diacritics,
a training by topic or short reference); a name that matches several rows raises ``Ambiguous``
with a label for each candidate that tells them apart, so the caller can ask which one.
"""

from __future__ import annotations

import re
from typing import Callable

from cdt.core.errors import Ambiguous, InvalidInput, NotFound
from cdt.core.i18n import t
from cdt.core.text import clean, display_date, match_names
from cdt.domain.services import resolve_service
from cdt.store import Store
from cdt.core.rows import ref_of


# -- finding rows by what people type ---------------------------------------------------------------


def _looks_like_ref(text: str) -> bool:
    # Any hex text may be a reference: ids without a digit in their first 8 (about 2% of them) are
    # refs too. A name that is all hex letters ("Cafe") falls back to the name when no id matches.
    return bool(re.fullmatch(r"[0-9a-fA-F-]{4,36}", text))


def _pick(found: list[dict], what: str, text: str, describe: Callable[[dict], str]) -> dict:
    if not found:
        raise NotFound(f"{what}.not_found", name=text)
    if len(found) > 1:
        raise Ambiguous(
            f"{what}.ambiguous", [(row["id"], describe(row)) for row in found], name=text, count=len(found)
        )
    return found[0]


def _by_ref(store: Store, table: str, text: str) -> list[dict]:
    return store.ids_starting(table, text) if _looks_like_ref(text) else []


def find_hamlet(store: Store, text: str) -> dict:
    """The hamlet named text (diacritics and case optional)."""
    text = clean(text)
    found = _by_ref(store, "hamlet", text) or match_names(text, store.rows("hamlet"), lambda h: h["name"])
    return _pick(found, "hamlet", text, lambda h: label(store, "hamlet", h))


def hamlet_names(store: Store) -> dict[str, str]:
    """Every hamlet's name by its id, removed hamlets included (to name the team of an old row)."""
    return {h["id"]: h["name"] for h in store.rows("hamlet", include_deleted=True)}


def find_team(store: Store, text: str, *, active_only: bool = True) -> dict:
    """The team serving the hamlet named text (its active team; a reference picks any team)."""
    text = clean(text)
    found = _by_ref(store, "team", text)
    if not found:
        names = hamlet_names(store)
        teams = [t for t in store.rows("team") if not active_only or t["status"] == "active"]
        found = match_names(text, teams, lambda t: names.get(t["hamlet_id"], ""))
        if not found and active_only:
            gone = match_names(text, [t for t in store.rows("team") if t["status"] != "active"],
                               lambda t: names.get(t["hamlet_id"], ""))
            if gone:
                raise NotFound("team.dissolved_not_active", name=names.get(gone[0]["hamlet_id"], text),
                               on=display_date(gone[0]["dissolved_on"]) or "?")
    return _pick(found, "team", text, lambda t: label(store, "team", t))


def find_member(store: Store, text: str, *, team_id: str | None = None) -> dict:
    """The member named text, within one team when given."""
    text = clean(text)
    found = _by_ref(store, "member", text)
    if not found:
        members = store.rows("member", team_id=team_id) if team_id else store.rows("member")
        found = match_names(text, members, lambda m: m["full_name"])
    if not found and team_id:
        elsewhere = match_names(text, store.rows("member"), lambda m: m["full_name"])
        if elsewhere:
            names = hamlet_names(store)
            teams = {t["id"]: t for t in store.rows("team", include_deleted=True)}
            other, this = teams.get(elsewhere[0]["team_id"]), teams.get(team_id)
            raise NotFound("member.in_other_team", name=elsewhere[0]["full_name"],
                           other=names.get(other["hamlet_id"], "?") if other else "?",
                           team=names.get(this["hamlet_id"], "?") if this else "?")
    return _pick(found, "member", text, lambda m: label(store, "member", m))


def find_training(store: Store, text: str) -> dict:
    """The training with this short reference, or whose topic matches text."""
    text = clean(text)
    found = _by_ref(store, "training", text) or match_names(text, store.rows("training"), lambda r: r["topic"])
    return _pick(found, "training", text, lambda r: label(store, "training", r))


def find_visit(store: Store, ref: str) -> dict:
    """A visit by the short reference shown in ``visit list``."""
    ref = clean(ref)
    found = store.ids_starting("visit", ref) if re.fullmatch(r"[0-9a-fA-F-]{4,36}", ref) else []
    return _pick(found, "visit", ref, lambda v: label(store, "visit", v))


def find_service_row(store: Store, text: str) -> dict:
    """The service row (a provincial service: national ones are not rows) named by code, name or alias."""
    code = resolve_service(store, text)
    rows = [r for r in store.rows("service", code=code)]
    if not rows:
        raise InvalidInput("service.national_locked", code=code)
    own = [r for r in rows if r["origin"] == store.site.db_id]
    return (own or rows)[0]


# -- "which one?": labels that tell candidates apart -------------------------------------------------


def label(store: Store, table: str, row: dict) -> str:
    """A one-line label naming a record with what tells it apart from look-alikes, and its reference."""
    ref = ref_of(row["id"])
    parts: list[str] = []
    if table == "hamlet":
        parts.append(f"{row['name']} ({row['kind']})")
        if row.get("households") is not None:
            parts.append(t("label.households", count=row["households"]))
    elif table == "team":
        hamlet = store.get("hamlet", row["hamlet_id"])
        parts.append(hamlet["name"] if hamlet else "?")
        if row.get("decision_number"):
            parts.append(t("label.decision", number=row["decision_number"]))
        if row.get("founded_on"):
            parts.append(t("label.founded", date=display_date(row["founded_on"])))
        parts.append(t(f"status.{row['status']}"))
    elif table == "member":
        parts.append(row["full_name"] or "?")
        parts.append(team_name(store, row["team_id"]))
        if row.get("birth_year"):
            parts.append(t("label.born", year=row["birth_year"]))
        if row.get("phone"):
            parts.append(t("label.phone", end=row["phone"][-3:]))
        if row.get("joined_on"):
            parts.append(t("label.joined", date=display_date(row["joined_on"])))
        if row.get("left_on"):
            parts.append(t("label.left", date=display_date(row["left_on"])))
    elif table == "training":
        parts.append(row["topic"])
        parts.append(display_date(row["date"]))
        if row.get("organiser"):
            parts.append(row["organiser"])
    elif table == "training_attendance":
        member = store.get("member", row["member_id"])
        training = store.get("training", row["training_id"])
        parts.append(f"{(member or {}).get('full_name') or '?'} — {(training or {}).get('topic', '?')}")
    elif table == "visit":
        parts.append(t("label.household", code=row["household"]))
        parts.append(display_date(row["date"]))
        parts.append(team_name(store, row["team_id"]))
        parts.append(t("label.people", count=row["people"]))
    elif table == "service":
        parts.append(f"{row['code']} — {row['name']}")
    return f"{' · '.join(p for p in parts if p)} [{ref}]"


def team_name(store: Store, team_id: str) -> str:
    """A team named by its hamlet ('?' when either is unknown)."""
    team = store.get("team", team_id)
    hamlet = store.get("hamlet", team["hamlet_id"]) if team else None
    return hamlet["name"] if hamlet else "?"


def describe_uses(counts: dict[str, int]) -> str:
    """'3 lượt hỗ trợ, 2 thành viên': what uses a record, in the user's language."""
    return ", ".join(t(f"uses.{table}", count=count) for table, count in counts.items())
