"""The clerk's actions on hamlets, teams, members, trainings, visits and provincial services.

One function per user action, taking the store first; each reads, checks and writes inside one
``Store.write`` (one transaction, one tick). Rows are found from what people type by
register.lookup; a duplicate is refused by domain.sameness's rule for that record.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Callable

from cdt import _testing
from cdt.core.errors import Duplicate, InvalidInput
from cdt.core.text import display_date, fold, person_key, vi_key
from cdt.domain.models import HamletIn, MemberIn, ServiceIn, TeamIn, TrainingIn, VisitIn, validate
from cdt.domain.parsers import parse_date
from cdt.domain.sameness import HamletIndex, hamlet_keys, same_attendance, same_member, same_training, same_visit
from cdt.domain.rules import (
    check_member_dates, check_team_dates, refuse_second_active_team, refuse_second_leader, require_commune,
)
from cdt.domain.services import resolve_service, service_catalogue
from cdt.register.corrections import own
from cdt.register.lookup import find_hamlet, find_member, find_service_row, find_team, find_training, find_visit, hamlet_names, team_name
from cdt.register.settings import int_setting
from cdt.store import Store
from cdt.core.rows import ref_of


def refuse_same_member(store: Store, values: dict) -> None:
    """Raise Duplicate when a member with these values is already in the team (rule: same_member)."""
    existing = same_member(store, values["team_id"], values["full_name"], values.get("birth_year"), values.get("phone"))
    if existing:
        details = ", ".join(str(v) for v in (existing["birth_year"], existing["phone"]) if v)
        raise Duplicate("duplicate.member", existing, name=existing["full_name"],
                        hamlet=team_name(store, existing["team_id"]), ref=ref_of(existing["id"]),
                        details=f", {details}" if details else "")


# -- hamlets -------------------------------------------------------------------------------------


def add_hamlet(store: Store, name: str, kind: str, households: Any = None, working_age: Any = None, *,
               hamlets: HamletIndex | None = None) -> dict:
    """Record a hamlet (thôn, xóm, bản, …) of this commune. ``hamlets``: the caller's index of the live
    hamlets, kept up to date inside its transaction (the import adds a thousand hamlets in one)."""
    require_commune(store)
    data = validate(HamletIn, name=name, kind=kind, households=households, working_age=working_age)
    with store.write() as tx:
        existing = (hamlets or HamletIndex(store)).same(data.name)
        if existing:
            raise Duplicate("hamlet.exists", existing, name=existing["name"])
        return tx.insert("hamlet", data.model_dump())


def edit_hamlet(store: Store, text: str, **changes: Any) -> dict:
    """Change a hamlet's name, kind, households or working-age population."""
    with store.write() as tx:
        hamlet = find_hamlet(store, text)
        merged = {k: hamlet[k] for k in ("name", "kind", "households", "working_age")}
        merged.update({k: v for k, v in changes.items() if v is not None})
        data = validate(HamletIn, **merged)
        if hamlet_keys(data.name)[0] != hamlet_keys(hamlet["name"])[0]:
            others = HamletIndex(store)
            others.discard(hamlet)
            existing = others.same(data.name)
            if existing:
                raise Duplicate("hamlet.exists", existing, name=existing["name"])
        return tx.update("hamlet", hamlet["id"], data.model_dump())


def list_hamlets(store: Store) -> list[dict]:
    """Hamlets in Vietnamese order, with whether each has an active team."""
    active = {t["hamlet_id"] for t in store.rows("team") if t["status"] == "active"}
    rows = [
        {"id": h["id"], "ref": ref_of(h["id"]), "name": h["name"], "kind": h["kind"],
         "households": h["households"], "working_age": h["working_age"], "has_team": h["id"] in active,
         "origin": h["origin"]}
        for h in store.rows("hamlet")
    ]
    return sorted(rows, key=lambda r: vi_key(r["name"]))


# -- teams ---------------------------------------------------------------------------------------


def _active_members(store: Store, team_id: str) -> list[dict]:
    return [m for m in store.rows("member", team_id=team_id) if not m["left_on"]]


def add_team(
    store: Store, hamlet: str, decision_number: Any = None, decision_date: Any = None, founded_on: Any = None
) -> dict:
    """Found a team for a hamlet (at most one active team a hamlet)."""
    require_commune(store)
    with store.write() as tx:
        place = hamlet if isinstance(hamlet, dict) else find_hamlet(store, hamlet)
        data = validate(
            TeamIn, hamlet_id=place["id"], decision_number=decision_number, decision_date=decision_date,
            founded_on=founded_on,
        )
        refuse_second_active_team(store, place)
        _testing.pause("add_team")
        return tx.insert("team", new_team_values(data))


def edit_team(store: Store, text: str, **changes: Any) -> dict:
    """Change a team's founding decision (number, date) or founding date."""
    with store.write() as tx:
        team = text if isinstance(text, dict) else find_team(store, text, active_only=False)
        current = {k: team[k] for k in ("hamlet_id", "decision_number", "decision_date", "founded_on")}
        current.update({k: v for k, v in changes.items() if v is not None})
        data = validate(TeamIn, **current)
        check_team_dates(data.founded_on, team["dissolved_on"])
        first, _ = _visit_span(store, team["id"])
        if data.founded_on and first and first < data.founded_on:
            raise InvalidInput("team.founded_after_visits", date=display_date(data.founded_on),
                               first=display_date(first))
        return tx.update("team", team["id"], data.model_dump())


def _visit_span(store: Store, team_id: str) -> tuple[str | None, str | None]:
    dates = sorted(v["date"] for v in store.rows("visit", team_id=team_id))
    return (dates[0], dates[-1]) if dates else (None, None)


def dissolve_team(store: Store, text: str, on: Any = None) -> dict:
    """Mark a team dissolved (its hamlet may then found a new one)."""
    with store.write() as tx:
        team = find_team(store, text)
        when = _parse(lambda: parse_date(on, not_future=True)) or date.today().isoformat()
        check_team_dates(team["founded_on"], when)
        _, last = _visit_span(store, team["id"])
        if last and last > when:
            raise InvalidInput("team.dissolved_before_visits", date=display_date(when),
                               last=display_date(last))
        return tx.update("team", team["id"], {"status": "dissolved", "dissolved_on": when})


def _parse(function: Callable[[], Any]) -> Any:
    """Run a parser from models.py, turning its ValueError into the user-facing error."""
    try:
        return function()
    except ValueError as error:
        raise InvalidInput("input.plain", detail=str(error)) from None


def list_teams(store: Store, *, include_dissolved: bool = True, team_id: str | None = None) -> list[dict]:
    """Teams with their hamlet, size and whether the size is below the minimum."""
    names = hamlet_names(store)
    low, high = int_setting(store, "team_min_members"), int_setting(store, "team_max_members")
    # Active members grouped once by team: a scan of every member per team is quadratic.
    by_team: dict[str, list[dict]] = {}
    for member in (store.rows("member", team_id=team_id) if team_id else store.rows("member")):
        if not member["left_on"]:
            by_team.setdefault(member["team_id"], []).append(member)
    trained = _trained_member_ids(store)
    rows = []
    for team in ([store.get("team", team_id)] if team_id else store.rows("team")):
        if not include_dissolved and team["status"] != "active":
            continue
        active = by_team.get(team["id"], [])
        leader = next((m["full_name"] for m in active if m["role"] == "leader"), None)
        rows.append({
            "id": team["id"], "ref": ref_of(team["id"]), "hamlet": names.get(team["hamlet_id"], ""),
            "hamlet_id": team["hamlet_id"], "decision_number": team["decision_number"],
            "decision_date": team["decision_date"], "founded_on": team["founded_on"],
            "status": team["status"], "dissolved_on": team["dissolved_on"],
            "members": len(active), "trained": sum(1 for m in active if m["id"] in trained),
            "leader": leader,
            "below_minimum": team["status"] == "active" and len(active) < low,
            "above_maximum": len(active) > high, "origin": team["origin"],
        })
    return sorted(rows, key=lambda r: (r["status"] != "active", vi_key(r["hamlet"])))


def team_detail(store: Store, text: str) -> dict:
    """One team with its members (active first) and its visit count."""
    team = find_team(store, text, active_only=False)
    summary = list_teams(store, team_id=team["id"])[0]
    summary["member_list"] = list_members(store, include_left=True, team_id=team["id"])
    summary["visits"] = len(store.rows("visit", team_id=team["id"]))
    summary["min_members"] = int_setting(store, "team_min_members")
    summary["max_members"] = int_setting(store, "team_max_members")
    return summary


# -- members -------------------------------------------------------------------------------------


def new_team_values(data: TeamIn) -> dict:
    """The row of a newly founded team: active, founded on its decision date unless told otherwise.

    With neither date known the founding date stays unknown (NULL: the team existed before it was
    recorded); 'today' would refuse its earlier visits and drop it from earlier months' reports."""
    values = data.model_dump()
    values["founded_on"] = values["founded_on"] or values["decision_date"]
    values["status"] = "active"
    return values


def new_member_values(data: MemberIn) -> dict:
    """The row of a new member. An unknown joining date stays unknown (NULL: a member since the team
    began); defaulting to today would drop members recorded late from every earlier month's report."""
    return data.model_dump()


def _check_team_rules(store: Store, team: dict, role: str, member_id: str | None = None) -> None:
    active = [m for m in _active_members(store, team["id"]) if m["id"] != member_id]
    if member_id is None:
        high = int_setting(store, "team_max_members")
        if len(active) >= high:
            raise InvalidInput("member.team_full", hamlet=hamlet_names(store).get(team["hamlet_id"]), max=high)
    if role == "leader":
        refuse_second_leader(store, team["id"], member_id=member_id)


def add_member(store: Store, full_name: str, team: str | dict, *, allow_duplicate: bool = False,
               **fields: Any) -> dict:
    """Add a member to the active team of a hamlet (or a team row), enforcing size, one-leader and sameness rules."""
    require_commune(store)
    with store.write() as tx:
        target = team if isinstance(team, dict) else find_team(store, team)
        data = validate(MemberIn, team_id=target["id"], full_name=full_name, **fields)
        values = new_member_values(data)
        check_member_dates(values["joined_on"], values["left_on"])
        if not allow_duplicate:
            refuse_same_member(store, values)
        _check_team_rules(store, target, values["role"])
        return tx.insert("member", values)


def edit_member(store: Store, text: str, *, team: str | None = None, **changes: Any) -> dict:
    """Change a member's details, role or team (rules re-checked)."""
    with store.write() as tx:
        member = text if isinstance(text, dict) else find_member(store, text)
        current = {k: member[k] for k in MemberIn.model_fields}
        if team is not None:
            current["team_id"] = find_team(store, team)["id"]
        current.update({k: v for k, v in changes.items() if v is not None})
        data = validate(MemberIn, **current)
        check_member_dates(data.joined_on, data.left_on)
        moved = data.team_id != member["team_id"]
        target = store.get("team", data.team_id)
        if not data.left_on:
            _check_team_rules(store, target, data.role if (moved or data.role != member["role"]) else "",
                              None if moved else member["id"])
        return tx.update("member", member["id"], data.model_dump())


def member_leave(store: Store, text: str, on: Any = None) -> dict:
    """Record that a member left the team (kept for history, no longer counted)."""
    with store.write() as tx:
        member = find_member(store, text)
        if member["left_on"]:
            raise InvalidInput("member.already_left", name=member["full_name"],
                               date=display_date(member["left_on"]))
        when = _parse(lambda: parse_date(on, not_future=True)) or date.today().isoformat()
        check_member_dates(member["joined_on"], when)
        return tx.update("member", member["id"], {"left_on": when})


def _trained_member_ids(store: Store) -> set[str]:
    live_trainings = {r["id"] for r in store.rows("training")}
    return {a["member_id"] for a in store.rows("training_attendance") if a["training_id"] in live_trainings}


def list_members(store: Store, *, team: str | None = None, include_left: bool = False,
                 team_id: str | None = None) -> list[dict]:
    """Members sorted the Vietnamese way (given name, then full name)."""
    names = hamlet_names(store)
    teams = {t["id"]: t for t in store.rows("team", include_deleted=True)}
    team_id = find_team(store, team, active_only=False)["id"] if team else team_id
    trained = _trained_member_ids(store)
    rows = []
    for m in (store.rows("member", team_id=team_id) if team_id else store.rows("member")):
        if team_id and m["team_id"] != team_id:
            continue
        if m["left_on"] and not include_left:
            continue
        owner = teams.get(m["team_id"])
        rows.append({
            "id": m["id"], "ref": ref_of(m["id"]), "full_name": m["full_name"],
            "team": names.get(owner["hamlet_id"], "") if owner else "", "team_id": m["team_id"],
            "role": m["role"], "gender": m["gender"], "birth_year": m["birth_year"], "phone": m["phone"],
            "affiliation": m["affiliation"], "joined_on": m["joined_on"], "left_on": m["left_on"],
            "trained": m["id"] in trained, "origin": m["origin"],
        })
    return sorted(rows, key=lambda r: person_key(r["full_name"]))


# -- trainings -----------------------------------------------------------------------------------


def add_training(store: Store, topic: str, when: Any, organiser: Any = None, mode: Any = None, *,
                 allow_duplicate: bool = False) -> dict:
    """Record a training session (tập huấn); returns it with its short reference."""
    data = validate(TrainingIn, topic=topic, date=when, organiser=organiser, mode=mode)
    with store.write() as tx:
        if not allow_duplicate:
            existing = same_training(store, data.topic, data.date)
            if existing:
                raise Duplicate("duplicate.training", existing, topic=existing["topic"],
                                date=display_date(existing["date"]), ref=ref_of(existing["id"]))
        row = tx.insert("training", data.model_dump())
    return {**row, "ref": ref_of(row["id"])}


def attend(store: Store, training: str | dict, members: list[str | dict]) -> tuple[dict, list[dict]]:
    """Record which members attended a training. Members already recorded are named, not added twice;
    when every one of them is, the attendance is a duplicate and refused."""
    if not members:
        raise InvalidInput("training.no_member")
    with store.write() as tx:
        session = training if isinstance(training, dict) else find_training(store, training)
        chosen = {}
        for name in members:
            member = name if isinstance(name, dict) else find_member(store, name)
            chosen[member["id"]] = member
        new = [m for m in chosen.values() if not same_attendance(store, session["id"], m["id"])]
        if not new:
            member = next(iter(chosen.values()))
            raise Duplicate("duplicate.attendance", same_attendance(store, session["id"], member["id"]),
                            name=member["full_name"], topic=session["topic"],
                            date=display_date(session["date"]), ref=ref_of(session["id"]))
        for member in new:
            tx.insert("training_attendance", {"training_id": session["id"], "member_id": member["id"]})
    return session, new


def list_trainings(store: Store) -> list[dict]:
    """Trainings, newest first, with attendee names."""
    members = {m["id"]: m["full_name"] for m in store.rows("member", include_deleted=True)}
    attending: dict[str, list[str]] = {}  # grouped once: a scan per training was quadratic
    for a in store.rows("training_attendance"):
        attending.setdefault(a["training_id"], []).append(members.get(a["member_id"], ""))
    rows = []
    for r in store.rows("training"):
        names = sorted(attending.get(r["id"], []), key=person_key)
        rows.append({
            "id": r["id"], "ref": ref_of(r["id"]), "topic": r["topic"], "date": r["date"],
            "organiser": r["organiser"], "mode": r["mode"], "attendees": len(names), "attendee_names": names,
            "origin": r["origin"],
        })
    return sorted(rows, key=lambda r: (r["date"], vi_key(r["topic"])), reverse=True)


def edit_training(store: Store, text: str, *, title: Any = None, when: Any = None, organiser: Any = None,
                  mode: Any = None) -> dict:
    """Change a training's title, date, organiser or mode."""
    with store.write() as tx:
        session = find_training(store, text)
        own(store, "training", session)
        current = {"topic": session["topic"], "date": session["date"], "organiser": session["organiser"],
                   "mode": session["mode"]}
        current.update({k: v for k, v in {"topic": title, "date": when, "organiser": organiser,
                                          "mode": mode}.items() if v is not None})
        data = validate(TrainingIn, **current)
        row = tx.update("training", session["id"], data.model_dump())
    return {**row, "ref": ref_of(row["id"])}


# -- services ------------------------------------------------------------------------------------


def add_service(store: Store, code: str, name: str, aliases: list[str] | None = None) -> dict:
    """Add a provincial service (e.g. C-Thái Nguyên) with aliases people use."""
    data = validate(ServiceIn, code=code, name=name, aliases=aliases or [])
    with store.write() as tx:
        taken = {fold(a) for s in service_catalogue(store) for a in (s["code"], s["name"], *s["aliases"])}
        clash = [a for a in (data.code, data.name, *data.aliases) if fold(a) in taken]
        if clash:
            raise InvalidInput("service.exists", name=clash[0])
        row = tx.insert("service", {"code": data.code, "name": data.name,
                                    "aliases": json.dumps(data.aliases, ensure_ascii=False)})
    return {"code": row["code"], "name": row["name"], "aliases": data.aliases, "national": False}


def edit_service(store: Store, text: str, *, name: Any = None, aliases: list[str] | None = None) -> dict:
    """Change a provincial service's name or aliases (its code stays: visits record it)."""
    with store.write() as tx:
        row = find_service_row(store, text)
        own(store, "service", row)
        data = validate(ServiceIn, code=row["code"], name=name if name is not None else row["name"],
                        aliases=aliases if aliases else json.loads(row["aliases"]))
        taken = {fold(a) for s in service_catalogue(store) if s["code"] != row["code"]
                 for a in (s["code"], s["name"], *s["aliases"])}
        clash = [a for a in (data.name, *data.aliases) if fold(a) in taken]
        if clash:
            raise InvalidInput("service.exists", name=clash[0])
        tx.update("service", row["id"], {"name": data.name, "aliases": json.dumps(data.aliases, ensure_ascii=False)})
    return {"code": row["code"], "name": data.name, "aliases": data.aliases, "national": False}


# -- visits --------------------------------------------------------------------------------------


def _visit_values(store: Store, team_id: str, fields: dict) -> dict:
    services = [resolve_service(store, s) for s in fields.pop("services") or []]
    names = fields.pop("members") or []
    member_ids = list(dict.fromkeys(find_member(store, n, team_id=team_id)["id"] for n in names))
    data = validate(VisitIn, team_id=team_id, services=services, members=member_ids, **fields)
    values = data.model_dump()
    values["services"] = json.dumps(values["services"])
    values["members"] = json.dumps(sorted(values["members"]))
    return values


def new_visit_values(store: Store, target: dict, fields: dict) -> dict:
    """The row of a new visit by team target: validated, services and members resolved, not before the team."""
    values = _visit_values(store, target["id"], dict(fields))
    _check_visit_dates(store, target, values)
    return values


def _check_visit_dates(store: Store, team: dict, values: dict) -> None:
    """A visit falls within its team's life and each member present was in the team that day."""
    when = values["date"]
    if team["founded_on"] and when < team["founded_on"]:
        raise InvalidInput("visit.before_team", date=display_date(when), founded=display_date(team["founded_on"]))
    if team["dissolved_on"] and when > team["dissolved_on"]:
        raise InvalidInput("visit.after_dissolved", date=display_date(when),
                           dissolved=display_date(team["dissolved_on"]))
    for member_id in json.loads(values["members"]):
        member = store.get("member", member_id)
        if member["joined_on"] and when < member["joined_on"]:
            raise InvalidInput("visit.member_not_yet", name=member["full_name"],
                               joined=display_date(member["joined_on"]))
        if member["left_on"] and when > member["left_on"]:
            raise InvalidInput("visit.member_had_left", name=member["full_name"],
                               left=display_date(member["left_on"]))


def log_visit(
    store: Store, team: str | dict, household: Any, people: Any, services: list[str],
    when: Any = None, members: list[str] | None = None, notes: Any = None, *, allow_duplicate: bool = False,
) -> dict:
    """Record a household visit by a team: who went, how many people were helped, with what."""
    require_commune(store)
    with store.write():
        target = team if isinstance(team, dict) else find_team(store, team)
        values = new_visit_values(store, target, {
            "date": when, "household": household, "people": people, "services": services,
            "members": members, "notes": notes,
        })
        return record_visit(store, values, allow_duplicate=allow_duplicate)


def record_visit(store: Store, values: dict, *, allow_duplicate: bool = False) -> dict:
    """The write half of log_visit: store a visit's checked values (new_visit_values) unless the same
    visit is already there (same_visit). The import checks each row once and calls this."""
    with store.write() as tx:
        if not allow_duplicate:
            existing = same_visit(store, values)
            if existing:
                raise Duplicate("duplicate.visit", existing, household=existing["household"],
                                date=display_date(existing["date"]), hamlet=team_name(store, existing["team_id"]),
                                ref=ref_of(existing["id"]))
        return tx.insert("visit", values)


def edit_visit(store: Store, ref: str, **changes: Any) -> dict:
    """Change a visit; members are re-checked against its team."""
    with store.write() as tx:
        visit = find_visit(store, ref)
        team_id = find_team(store, changes.pop("team"))["id"] if changes.get("team") else visit["team_id"]
        changes.pop("team", None)
        members_by_id = {m["id"]: m["full_name"] for m in store.rows("member")}
        fields = {
            "date": visit["date"], "household": visit["household"], "people": visit["people"],
            "services": json.loads(visit["services"]), "notes": visit["notes"],
            "members": [mid for mid in json.loads(visit["members"]) if mid in members_by_id],
        }
        fields.update({k: v for k, v in changes.items() if v not in (None, [])})
        values = _visit_values(store, team_id, fields)
        _check_visit_dates(store, store.get("team", team_id), values)
        return tx.update("visit", visit["id"], values)


def list_visits(store: Store, *, month: tuple[int, int] | None = None, team: str | None = None) -> list[dict]:
    """Visits, newest first, with team and member names."""
    names = hamlet_names(store)
    teams = {t["id"]: t for t in store.rows("team", include_deleted=True)}
    members = {m["id"]: m["full_name"] for m in store.rows("member", include_deleted=True)}
    team_id = find_team(store, team, active_only=False)["id"] if team else None
    prefix = f"{month[0]:04d}-{month[1]:02d}-" if month else ""
    rows = []
    for v in store.rows("visit"):
        if (team_id and v["team_id"] != team_id) or not v["date"].startswith(prefix):
            continue
        owner = teams.get(v["team_id"])
        rows.append({
            "id": v["id"], "ref": ref_of(v["id"]), "date": v["date"],
            "team": names.get(owner["hamlet_id"], "") if owner else "", "team_id": v["team_id"],
            "household": v["household"], "people": v["people"], "services": json.loads(v["services"]),
            "members": sorted((members.get(i, "") for i in json.loads(v["members"])), key=person_key),
            "notes": v["notes"], "origin": v["origin"],
        })
    return sorted(rows, key=lambda r: (r["date"], r["id"]), reverse=True)
