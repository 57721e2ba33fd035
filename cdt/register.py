"""The commune register: hamlets, teams, members, trainings, visits, services and settings.

One function per user action, taking the store first. People name things the way they speak
(a team by its hamlet, a member by name without diacritics, a training by topic or short
reference); a name that matches several rows raises ``Ambiguous`` with the candidates so the
caller can ask which one. Every write goes through ``Store.write`` (one transaction, one tick).
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any, Callable

from cdt.errors import Ambiguous, InvalidInput, NotFound
from cdt.models import (
    HamletIn, MemberIn, ServiceIn, TeamIn, TrainingIn, VisitIn, parse_date, validate,
)
from cdt.store import Store
from cdt.text import clean, fold, match_names, name_key, person_key, vi_key

REF_LENGTH = 8

SETTING_DEFAULTS: dict[str, str] = {
    "team_min_members": "2",
    "team_max_members": "5",
    # Services whose help counts a person towards "digital citizen" progress; no official list exists.
    "digital_citizen_services": "dvc,vneid,payment",
}

# The national catalogue every file knows; provinces add their own rows to ``service``.
DEFAULT_SERVICES: list[dict[str, Any]] = [
    {"code": "dvc", "name": "Dịch vụ công trực tuyến",
     "aliases": ["DVCTT", "Cổng dịch vụ công", "dịch vụ công", "public services"]},
    {"code": "vneid", "name": "Định danh điện tử VNeID", "aliases": ["VNeID", "định danh điện tử"]},
    {"code": "payment", "name": "Thanh toán không dùng tiền mặt",
     "aliases": ["thanh toán điện tử", "ví điện tử", "QR", "cashless"]},
    {"code": "ecommerce", "name": "Thương mại điện tử", "aliases": ["TMĐT", "sàn thương mại điện tử", "mua bán trực tuyến"]},
    {"code": "ehealth", "name": "Sổ sức khỏe điện tử", "aliases": ["y tế số", "sức khỏe điện tử"]},
    {"code": "esign", "name": "Chữ ký số", "aliases": ["chữ ký điện tử", "digital signature"]},
    {"code": "elearning", "name": "Học trực tuyến", "aliases": ["giáo dục trực tuyến", "online learning"]},
    {"code": "cybersafety", "name": "An toàn trên không gian mạng",
     "aliases": ["an toàn thông tin", "phòng chống lừa đảo", "an ninh mạng"]},
    {"code": "bdhvs", "name": "Bình dân học vụ số", "aliases": ["Binh dan hoc vu so"]},
]


# -- settings ---------------------------------------------------------------------------------


def settings(store: Store) -> dict[str, str]:
    """Every setting with its value in this file (defaults where none was set)."""
    return {**SETTING_DEFAULTS, **{k: v for k, v in store.settings().items() if k in SETTING_DEFAULTS}}


def _int_setting(store: Store, key: str) -> int:
    return int(settings(store)[key])


def set_setting(store: Store, key: str, value: str) -> str:
    """Change one setting after checking its value; returns the stored value."""
    key = clean(key)
    if key not in SETTING_DEFAULTS:
        raise InvalidInput("settings.unknown", key=key, keys=", ".join(SETTING_DEFAULTS))
    value = clean(value)
    current = settings(store)
    if key in ("team_min_members", "team_max_members"):
        if not value.isdigit() or not 1 <= int(value) <= 100:
            raise InvalidInput("settings.bad_number", key=key, value=value)
        low = int(value) if key == "team_min_members" else int(current["team_min_members"])
        high = int(value) if key == "team_max_members" else int(current["team_max_members"])
        if low > high:
            raise InvalidInput("settings.min_over_max", low=low, high=high)
        value = str(int(value))
    elif key == "digital_citizen_services":
        codes = [resolve_service(store, part) for part in value.split(",") if part.strip()]
        if not codes:
            raise InvalidInput("input.no_service")
        value = ",".join(dict.fromkeys(codes))
    store.put_setting(key, value)
    return value


# -- finding rows by what people type ---------------------------------------------------------------


def _looks_like_ref(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F-]{4,36}", text)) and any(c.isdigit() for c in text)


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
    return _pick(found, "hamlet", text, lambda h: f"{h['name']} ({h['kind']})")


def _hamlet_names(store: Store) -> dict[str, str]:
    return {h["id"]: h["name"] for h in store.rows("hamlet", include_deleted=True)}


def find_team(store: Store, text: str, *, active_only: bool = True) -> dict:
    """The team serving the hamlet named text (its active team; a reference picks any team)."""
    text = clean(text)
    found = _by_ref(store, "team", text)
    if not found:
        names = _hamlet_names(store)
        teams = [t for t in store.rows("team") if not active_only or t["status"] == "active"]
        found = match_names(text, teams, lambda t: names.get(t["hamlet_id"], ""))
        if not found and active_only:
            gone = match_names(text, [t for t in store.rows("team") if t["status"] != "active"],
                               lambda t: names.get(t["hamlet_id"], ""))
            if gone:
                raise NotFound("team.dissolved_not_active", name=names.get(gone[0]["hamlet_id"], text),
                               on=_display_date(gone[0]["dissolved_on"]) or "?")
    names = _hamlet_names(store)
    return _pick(found, "team", text, lambda t: f"{names.get(t['hamlet_id'], '?')} [{t['id'][:REF_LENGTH]}]")


def find_member(store: Store, text: str, *, team_id: str | None = None) -> dict:
    """The member named text, within one team when given."""
    text = clean(text)
    found = _by_ref(store, "member", text)
    if not found:
        members = store.rows("member", team_id=team_id) if team_id else store.rows("member")
        found = match_names(text, members, lambda m: m["full_name"])
    names = _hamlet_names(store)
    teams = {t["id"]: t for t in store.rows("team", include_deleted=True)}
    if not found and team_id:
        elsewhere = match_names(text, store.rows("member"), lambda m: m["full_name"])
        if elsewhere:
            other, this = teams.get(elsewhere[0]["team_id"]), teams.get(team_id)
            raise NotFound("member.in_other_team", name=elsewhere[0]["full_name"],
                           other=names.get(other["hamlet_id"], "?") if other else "?",
                           team=names.get(this["hamlet_id"], "?") if this else "?")

    def describe(m: dict) -> str:
        team = teams.get(m["team_id"])
        return f"{m['full_name']} — {names.get(team['hamlet_id'], '?') if team else '?'}"

    return _pick(found, "member", text, describe)


def find_training(store: Store, text: str) -> dict:
    """The training with this short reference, or whose topic matches text."""
    text = clean(text)
    found = _by_ref(store, "training", text) or match_names(text, store.rows("training"), lambda r: r["topic"])
    return _pick(found, "training", text, lambda r: f"{r['topic']} ({_display_date(r['date'])})")


def find_visit(store: Store, ref: str) -> dict:
    """A visit by the short reference shown in ``visit list``."""
    ref = clean(ref)
    found = store.ids_starting("visit", ref) if re.fullmatch(r"[0-9a-fA-F-]{4,36}", ref) else []
    return _pick(found, "visit", ref, lambda v: f"{v['household']} {_display_date(v['date'])}")


def _display_date(iso: str | None) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else ""


def _require_commune(store: Store) -> None:
    if store.site.level != "commune":
        raise InvalidInput("register.commune_only", level=t_level(store.site.level))


# -- hamlets -------------------------------------------------------------------------------------


def add_hamlet(store: Store, name: str, kind: str, households: Any = None, working_age: Any = None) -> dict:
    """Record a hamlet (thôn, xóm, bản, …) of this commune."""
    _require_commune(store)
    data = validate(HamletIn, name=name, kind=kind, households=households, working_age=working_age)
    if any(name_key(h["name"]) == name_key(data.name) for h in store.rows("hamlet")):
        raise InvalidInput("hamlet.exists", name=data.name)
    with store.write() as tx:
        return tx.insert("hamlet", data.model_dump())


def edit_hamlet(store: Store, text: str, **changes: Any) -> dict:
    """Change a hamlet's name, kind, households or working-age population."""
    hamlet = find_hamlet(store, text)
    merged = {k: hamlet[k] for k in ("name", "kind", "households", "working_age")}
    merged.update({k: v for k, v in changes.items() if v is not None})
    data = validate(HamletIn, **merged)
    if name_key(data.name) != name_key(hamlet["name"]) and any(
        name_key(h["name"]) == name_key(data.name) for h in store.rows("hamlet")
    ):
        raise InvalidInput("hamlet.exists", name=data.name)
    with store.write() as tx:
        return tx.update("hamlet", hamlet["id"], data.model_dump())


def list_hamlets(store: Store) -> list[dict]:
    """Hamlets in Vietnamese order, with whether each has an active team."""
    active = {t["hamlet_id"] for t in store.rows("team") if t["status"] == "active"}
    rows = [
        {"id": h["id"], "ref": h["id"][:REF_LENGTH], "name": h["name"], "kind": h["kind"],
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
    _require_commune(store)
    place = find_hamlet(store, hamlet)
    data = validate(
        TeamIn, hamlet_id=place["id"], decision_number=decision_number, decision_date=decision_date,
        founded_on=founded_on,
    )
    if any(t["status"] == "active" for t in store.rows("team", hamlet_id=place["id"])):
        raise InvalidInput("team.hamlet_has_team", hamlet=place["name"])
    values = new_team_values(data)
    with store.write() as tx:
        return tx.insert("team", values)


def edit_team(store: Store, text: str, **changes: Any) -> dict:
    """Change a team's founding decision (number, date) or founding date."""
    team = find_team(store, text, active_only=False)
    current = {k: team[k] for k in ("hamlet_id", "decision_number", "decision_date", "founded_on")}
    current.update({k: v for k, v in changes.items() if v is not None})
    data = validate(TeamIn, **current)
    first, _ = _visit_span(store, team["id"])
    if data.founded_on and first and first < data.founded_on:
        raise InvalidInput("team.founded_after_visits", date=_display_date(data.founded_on),
                           first=_display_date(first))
    with store.write() as tx:
        return tx.update("team", team["id"], data.model_dump())


def _visit_span(store: Store, team_id: str) -> tuple[str | None, str | None]:
    dates = sorted(v["date"] for v in store.rows("visit", team_id=team_id))
    return (dates[0], dates[-1]) if dates else (None, None)


def dissolve_team(store: Store, text: str, on: Any = None) -> dict:
    """Mark a team dissolved (its hamlet may then found a new one)."""
    team = find_team(store, text)
    when = _parse(lambda: parse_date(on, not_future=True)) or date.today().isoformat()
    if team["founded_on"] and when < team["founded_on"]:
        raise InvalidInput("team.dissolved_before_founded", date=_display_date(when))
    _, last = _visit_span(store, team["id"])
    if last and last > when:
        raise InvalidInput("team.dissolved_before_visits", date=_display_date(when), last=_display_date(last))
    with store.write() as tx:
        return tx.update("team", team["id"], {"status": "dissolved", "dissolved_on": when})


def _parse(function: Callable[[], Any]) -> Any:
    """Run a parser from models.py, turning its ValueError into the user-facing error."""
    try:
        return function()
    except ValueError as error:
        raise InvalidInput("input.plain", detail=str(error)) from None


def list_teams(store: Store, *, include_dissolved: bool = True) -> list[dict]:
    """Teams with their hamlet, size and whether the size is below the minimum."""
    names = _hamlet_names(store)
    low, high = _int_setting(store, "team_min_members"), _int_setting(store, "team_max_members")
    members = store.rows("member")
    trained = _trained_member_ids(store)
    rows = []
    for team in store.rows("team"):
        if not include_dissolved and team["status"] != "active":
            continue
        active = [m for m in members if m["team_id"] == team["id"] and not m["left_on"]]
        leader = next((m["full_name"] for m in active if m["role"] == "leader"), None)
        rows.append({
            "id": team["id"], "ref": team["id"][:REF_LENGTH], "hamlet": names.get(team["hamlet_id"], ""),
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
    summary = next(r for r in list_teams(store) if r["id"] == team["id"])
    summary["member_list"] = [m for m in list_members(store, include_left=True) if m["team_id"] == team["id"]]
    summary["visits"] = len(store.rows("visit", team_id=team["id"]))
    summary["min_members"] = _int_setting(store, "team_min_members")
    summary["max_members"] = _int_setting(store, "team_max_members")
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


def check_team_rules(store: Store, team: dict, role: str, member_id: str | None = None) -> None:
    """Raise InvalidInput if adding (or changing) a member breaks the team's size or one-leader rule."""
    _check_team_rules(store, team, role, member_id)


def _check_team_rules(store: Store, team: dict, role: str, member_id: str | None = None) -> None:
    active = [m for m in _active_members(store, team["id"]) if m["id"] != member_id]
    if member_id is None:
        high = _int_setting(store, "team_max_members")
        if len(active) >= high:
            raise InvalidInput("member.team_full", hamlet=_hamlet_names(store).get(team["hamlet_id"]), max=high)
    if role == "leader":
        leader = next((m for m in active if m["role"] == "leader"), None)
        if leader:
            raise InvalidInput("member.second_leader", leader=leader["full_name"])


def add_member(store: Store, full_name: str, team: str, **fields: Any) -> dict:
    """Add a member to the active team of a hamlet, enforcing size and one-leader rules."""
    _require_commune(store)
    target = find_team(store, team)
    data = validate(MemberIn, team_id=target["id"], full_name=full_name, **fields)
    values = new_member_values(data)
    _check_team_rules(store, target, values["role"])
    with store.write() as tx:
        return tx.insert("member", values)


def edit_member(store: Store, text: str, *, team: str | None = None, **changes: Any) -> dict:
    """Change a member's details, role or team (rules re-checked)."""
    member = find_member(store, text)
    current = {k: member[k] for k in MemberIn.model_fields}
    if team is not None:
        current["team_id"] = find_team(store, team)["id"]
    current.update({k: v for k, v in changes.items() if v is not None})
    data = validate(MemberIn, **current)
    moved = data.team_id != member["team_id"]
    target = store.get("team", data.team_id)
    if not data.left_on:
        _check_team_rules(store, target, data.role if (moved or data.role != member["role"]) else "",
                          None if moved else member["id"])
    with store.write() as tx:
        return tx.update("member", member["id"], data.model_dump())


def member_leave(store: Store, text: str, on: Any = None) -> dict:
    """Record that a member left the team (kept for history, no longer counted)."""
    member = find_member(store, text)
    if member["left_on"]:
        raise InvalidInput("member.already_left", name=member["full_name"], date=_display_date(member["left_on"]))
    when = _parse(lambda: parse_date(on, not_future=True)) or date.today().isoformat()
    if member["joined_on"] and when < member["joined_on"]:
        raise InvalidInput("member.left_before_joined", date=_display_date(when))
    with store.write() as tx:
        return tx.update("member", member["id"], {"left_on": when})


def remove_member(store: Store, text: str) -> dict:
    """Erase a member: the row becomes a tombstone with its personal fields cleared."""
    member = find_member(store, text)
    with store.write() as tx:
        tx.delete("member", member["id"])
    return member


def _trained_member_ids(store: Store) -> set[str]:
    live_trainings = {r["id"] for r in store.rows("training")}
    return {a["member_id"] for a in store.rows("training_attendance") if a["training_id"] in live_trainings}


def list_members(store: Store, *, team: str | None = None, include_left: bool = False) -> list[dict]:
    """Members sorted the Vietnamese way (given name, then full name)."""
    names = _hamlet_names(store)
    teams = {t["id"]: t for t in store.rows("team", include_deleted=True)}
    team_id = find_team(store, team, active_only=False)["id"] if team else None
    trained = _trained_member_ids(store)
    rows = []
    for m in store.rows("member"):
        if team_id and m["team_id"] != team_id:
            continue
        if m["left_on"] and not include_left:
            continue
        owner = teams.get(m["team_id"])
        rows.append({
            "id": m["id"], "ref": m["id"][:REF_LENGTH], "full_name": m["full_name"],
            "team": names.get(owner["hamlet_id"], "") if owner else "", "team_id": m["team_id"],
            "role": m["role"], "gender": m["gender"], "birth_year": m["birth_year"], "phone": m["phone"],
            "affiliation": m["affiliation"], "joined_on": m["joined_on"], "left_on": m["left_on"],
            "trained": m["id"] in trained, "origin": m["origin"],
        })
    return sorted(rows, key=lambda r: person_key(r["full_name"]))


# -- trainings -----------------------------------------------------------------------------------


def add_training(store: Store, topic: str, when: Any, organiser: Any = None, mode: Any = None) -> dict:
    """Record a training session (tập huấn); returns it with its short reference."""
    data = validate(TrainingIn, topic=topic, date=when, organiser=organiser, mode=mode)
    with store.write() as tx:
        row = tx.insert("training", data.model_dump())
    return {**row, "ref": row["id"][:REF_LENGTH]}


def attend(store: Store, training: str, members: list[str]) -> tuple[dict, list[dict]]:
    """Record which members attended a training; already-recorded attendances are kept once."""
    session = find_training(store, training)
    if not members:
        raise InvalidInput("training.no_member")
    chosen = {}
    for name in members:
        member = find_member(store, name)
        chosen[member["id"]] = member
    present = {a["member_id"] for a in store.rows("training_attendance", training_id=session["id"])}
    new = [m for m in chosen.values() if m["id"] not in present]
    if new:
        with store.write() as tx:
            for member in new:
                tx.insert("training_attendance", {"training_id": session["id"], "member_id": member["id"]})
    return session, new


def list_trainings(store: Store) -> list[dict]:
    """Trainings, newest first, with attendee names."""
    members = {m["id"]: m["full_name"] for m in store.rows("member", include_deleted=True)}
    attendance = store.rows("training_attendance")
    rows = []
    for r in store.rows("training"):
        names = sorted((members.get(a["member_id"], "") for a in attendance if a["training_id"] == r["id"]),
                       key=person_key)
        rows.append({
            "id": r["id"], "ref": r["id"][:REF_LENGTH], "topic": r["topic"], "date": r["date"],
            "organiser": r["organiser"], "mode": r["mode"], "attendees": len(names), "attendee_names": names,
            "origin": r["origin"],
        })
    return sorted(rows, key=lambda r: (r["date"], vi_key(r["topic"])), reverse=True)


# -- services ------------------------------------------------------------------------------------


def service_catalogue(store: Store) -> list[dict]:
    """National services then the ones this file (or merged communes) added, one per code."""
    catalogue = {s["code"]: {**s, "national": True} for s in DEFAULT_SERVICES}
    for row in sorted(store.rows("service"), key=lambda r: (r["origin"], r["id"])):
        if row["code"] not in catalogue:
            catalogue[row["code"]] = {
                "code": row["code"], "name": row["name"], "aliases": json.loads(row["aliases"]), "national": False,
            }
    return list(catalogue.values())


def resolve_service(store: Store, text: str) -> str:
    """A service code from its code, name or any alias (case and diacritics optional)."""
    wanted = fold(text)
    catalogue = service_catalogue(store)
    for service in catalogue:
        if wanted in {fold(service["code"]), fold(service["name"]), *(fold(a) for a in service["aliases"])}:
            return service["code"]
    codes = ", ".join(s["code"] for s in catalogue)
    close = _close_services(wanted, catalogue)
    if len(close) == 1:
        raise NotFound("service.not_found_suggest", name=clean(text), code=close[0]["code"],
                       service=close[0]["name"], codes=codes)
    raise NotFound("service.not_found", name=clean(text), codes=codes)


def _close_services(wanted: str, catalogue: list[dict]) -> list[dict]:
    """Services a mistyped or partial name most likely meant: every word typed is in one of its
    names (diacritics optional), else a close spelling of its code, name or an alias."""
    import difflib

    words = set(wanted.split())
    found = []
    for service in catalogue:
        names = [fold(n) for n in (service["code"], service["name"], *service["aliases"])]
        if words and any(words <= set(n.split()) for n in names):
            found.append(service)
    if found:
        return found
    for service in catalogue:
        names = [fold(n) for n in (service["code"], service["name"], *service["aliases"])]
        if any(difflib.get_close_matches(wanted, [n], n=1, cutoff=0.75) for n in names):
            found.append(service)
    return found


def add_service(store: Store, code: str, name: str, aliases: list[str] | None = None) -> dict:
    """Add a provincial service (e.g. C-Thái Nguyên) with aliases people use."""
    data = validate(ServiceIn, code=code, name=name, aliases=aliases or [])
    taken = {fold(a) for s in service_catalogue(store) for a in (s["code"], s["name"], *s["aliases"])}
    clash = [a for a in (data.code, data.name, *data.aliases) if fold(a) in taken]
    if clash:
        raise InvalidInput("service.exists", name=clash[0])
    with store.write() as tx:
        row = tx.insert("service", {"code": data.code, "name": data.name,
                                    "aliases": json.dumps(data.aliases, ensure_ascii=False)})
    return {"code": row["code"], "name": row["name"], "aliases": data.aliases, "national": False}


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
        raise InvalidInput("visit.before_team", date=_display_date(when), founded=_display_date(team["founded_on"]))
    if team["dissolved_on"] and when > team["dissolved_on"]:
        raise InvalidInput("visit.after_dissolved", date=_display_date(when),
                           dissolved=_display_date(team["dissolved_on"]))
    for member_id in json.loads(values["members"]):
        member = store.get("member", member_id)
        if member["joined_on"] and when < member["joined_on"]:
            raise InvalidInput("visit.member_not_yet", name=member["full_name"],
                               joined=_display_date(member["joined_on"]))
        if member["left_on"] and when > member["left_on"]:
            raise InvalidInput("visit.member_had_left", name=member["full_name"],
                               left=_display_date(member["left_on"]))


def log_visit(
    store: Store, team: str, household: Any, people: Any, services: list[str],
    when: Any = None, members: list[str] | None = None, notes: Any = None,
) -> dict:
    """Record a household visit by a team: who went, how many people were helped, with what."""
    _require_commune(store)
    target = find_team(store, team)
    values = new_visit_values(store, target, {
        "date": when, "household": household, "people": people, "services": services,
        "members": members, "notes": notes,
    })
    with store.write() as tx:
        return tx.insert("visit", values)


def edit_visit(store: Store, ref: str, **changes: Any) -> dict:
    """Change a visit; members are re-checked against its team."""
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
    with store.write() as tx:
        return tx.update("visit", visit["id"], values)


def remove_visit(store: Store, ref: str) -> dict:
    """Delete a visit entered by mistake (a tombstone that travels upward)."""
    visit = find_visit(store, ref)
    with store.write() as tx:
        return tx.delete("visit", visit["id"])


def list_visits(store: Store, *, month: tuple[int, int] | None = None, team: str | None = None) -> list[dict]:
    """Visits, newest first, with team and member names."""
    names = _hamlet_names(store)
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
            "id": v["id"], "ref": v["id"][:REF_LENGTH], "date": v["date"],
            "team": names.get(owner["hamlet_id"], "") if owner else "", "team_id": v["team_id"],
            "household": v["household"], "people": v["people"], "services": json.loads(v["services"]),
            "members": sorted((members.get(i, "") for i in json.loads(v["members"])), key=person_key),
            "notes": v["notes"], "origin": v["origin"],
        })
    return sorted(rows, key=lambda r: (r["date"], r["id"]), reverse=True)


# -- the file as a whole ---------------------------------------------------------------------------


def info(store: Store) -> dict:
    """What the file is: path, unit, level, schema version, clock and live rows per table."""
    site = store.site
    return {
        "path": str(store.path), "db_id": site.db_id, "level": site.level, "structure": site.structure,
        "unit": {"code": site.unit_code, "name": site.unit_name},
        "commune": {"code": site.commune_code, "name": site.commune_name},
        "district": {"code": site.district_code, "name": site.district_name},
        "province": {"code": site.province_code, "name": site.province_name},
        "schema_version": site.schema_version, "clock": site.clock, "created_at": site.created_at,
        "counts": {table: store.count(table) for table in
                   ("hamlet", "team", "member", "training", "training_attendance", "visit", "service", "target")},
    }


def _same_unit_both_structures(found: list) -> bool:
    """True when the matches are one unit that kept its code and name through the 2025 reform."""
    return (len(found) == 2 and {u.structure for u in found} == {"legacy", "2025"}
            and len({u.code for u in found}) == 1 and len({fold(u.name) for u in found}) == 1)


def create_file(path, level: str, query: str, structure: str | None = None, *, prefer_legacy: bool = False):
    """Create the store for a commune, district or province named by code or name.

    A code or name that matches several units (the same code can name different communes in the
    two structures) raises Ambiguous; nothing is picked silently. The one exception, when the
    caller cannot ask (``prefer_legacy``): the same unit under the same code and name in both
    structures (province 19 Thái Nguyên) takes the pre-2025 structure, which district packs use,
    and the caller says so. ``query`` may also be the exact key ``structure:code`` that an answer
    to the question gives.
    """
    from cdt import units
    from cdt.store import Store

    query = clean(query)
    if structure not in (None, "legacy", "2025"):
        raise InvalidInput("init.bad_structure", value=structure)
    if re.fullmatch(r"(legacy|2025):\d+", query):
        structure, code = query.split(":")
        found = [u for u in [units.get(code, level=level, structure=structure)] if u]
    else:
        found = units.search(query, structure=structure, level=level)
        exact = [u for u in found if u.code == query or u.code.lstrip("0") == query.lstrip("0")]
        found = exact or found
    if not found:
        raise NotFound("init.unit_not_found", name=query, level=t_level(level))
    if len(found) > 1 and not (prefer_legacy and _same_unit_both_structures(found)):
        raise Ambiguous("init.ambiguous", [(f"{u.structure}:{u.code}", u.label()) for u in found[:20]],
                        name=query, count=len(found))
    unit = next(u for u in found if u.structure == "legacy") if len(found) > 1 else found[0]
    return Store.create(
        path, level=level, structure=unit.structure,
        province=(unit.province_code, unit.province_name),
        district=(unit.district_code, unit.district_name) if level != "province" else (None, None),
        commune=(unit.code, unit.name) if level == "commune" else (None, None),
    )


def t_level(level: str) -> str:
    from cdt.i18n import t

    return t(f"level.{level}")
