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
from functools import lru_cache
from typing import Any, Callable

from cdt.core.errors import Ambiguous, Duplicate, InvalidInput, NotFound
from cdt.domain.models import HamletIn, MemberIn, ServiceIn, TeamIn, TrainingIn, VisitIn, validate
from cdt.domain.parsers import parse_date
from cdt.domain.services import DEFAULT_SERVICES
from cdt.store import Store, ref_of
from cdt.core.text import clean, fold, match_names, name_key, one_apostrophe, person_key, vi_key


SETTING_DEFAULTS: dict[str, str] = {
    "team_min_members": "2",
    "team_max_members": "5",
    # Services whose help counts a person towards "digital citizen" progress; no official list exists.
    "digital_citizen_services": "dvc,vneid,payment",
    # At a district or province: refuse packs that are signed but not sealed (cdt/keys.py).
    "require_sealed": "false",
}

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
    elif key == "require_sealed":
        value = {"true": "true", "false": "false", "có": "true", "không": "false"}.get(value.casefold(), "")
        if not value:
            raise InvalidInput("settings.bad_bool", key=key)
    elif key == "digital_citizen_services":
        codes = [resolve_service(store, part) for part in value.split(",") if part.strip()]
        if not codes:
            raise InvalidInput("input.no_service")
        value = ",".join(dict.fromkeys(codes))
    store.put_setting(key, value)
    return value


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
    return _pick(found, "hamlet", text, lambda h: _label(store, "hamlet", h))


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
    return _pick(found, "team", text, lambda t: _label(store, "team", t))


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
            names = _hamlet_names(store)
            teams = {t["id"]: t for t in store.rows("team", include_deleted=True)}
            other, this = teams.get(elsewhere[0]["team_id"]), teams.get(team_id)
            raise NotFound("member.in_other_team", name=elsewhere[0]["full_name"],
                           other=names.get(other["hamlet_id"], "?") if other else "?",
                           team=names.get(this["hamlet_id"], "?") if this else "?")
    return _pick(found, "member", text, lambda m: _label(store, "member", m))


def find_training(store: Store, text: str) -> dict:
    """The training with this short reference, or whose topic matches text."""
    text = clean(text)
    found = _by_ref(store, "training", text) or match_names(text, store.rows("training"), lambda r: r["topic"])
    return _pick(found, "training", text, lambda r: _label(store, "training", r))


def find_visit(store: Store, ref: str) -> dict:
    """A visit by the short reference shown in ``visit list``."""
    ref = clean(ref)
    found = store.ids_starting("visit", ref) if re.fullmatch(r"[0-9a-fA-F-]{4,36}", ref) else []
    return _pick(found, "visit", ref, lambda v: _label(store, "visit", v))


def _display_date(iso: str | None) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else ""


def _require_commune(store: Store) -> None:
    if store.site.level != "commune":
        raise InvalidInput("register.commune_only", level=t_level(store.site.level))


# -- sameness: when two records are one ----------------------------------------------------------
#
# One explicit rule per record, used by the commands (refusing a duplicate unless --allow-duplicate)
# and by the import (a row is "already present" only by these rules). Names are compared exactly as
# stored: NFC, diacritics and case included ("Lê Thị Hà" and "Lê Thị Hạ" are two people). Folding
# diacritics is for search (find_*), never for identity.


@lru_cache(maxsize=4)
def _kind_keys(kinds: tuple[str, ...], folded: bool) -> tuple[str, ...]:
    return tuple(sorted(((fold if folded else name_key)(k) for k in kinds), key=len, reverse=True))


def hamlet_keys(name: str) -> tuple[str, str, bool]:
    """(the name's key, the key without a leading kind word, whether it had one). Keys keep diacritics
    and drop case and tone placement (text.name_key): 'Xóm Đồng Tiến' and 'Xom Dong Tien' differ."""
    from cdt.domain.kinds import HAMLET_KINDS

    key = name_key(name)
    for kind in _kind_keys(HAMLET_KINDS, False):
        if key.startswith(kind + " ") and len(key) > len(kind) + 1:
            return key, key[len(kind) + 1:], True
    return key, key, False


def _folded_hamlet(name: str) -> str:
    """A hamlet name folded (search form) without its kind word: only to spot spellings alike."""
    from cdt.domain.kinds import HAMLET_KINDS

    words = fold(name)
    for kind in _kind_keys(HAMLET_KINDS, True):
        if words.startswith(kind + " ") and len(words) > len(kind) + 1:
            return words[len(kind) + 1:]
    return words


class HamletIndex:
    """The live hamlets by their sameness keys, for many look-ups inside one write (the import).

    Same hamlet: the same name (case aside, diacritics kept), or the same name once its kind word
    is left off one side ('Na Mao' is the hamlet 'Thôn Na Mao'). Names that are equal only once
    diacritics are folded are NOT the same hamlet: ``spelled_alike`` finds them, so the caller can
    ask the clerk which one is meant instead of joining two places silently.
    """

    def __init__(self, store: Store):
        self.by_key: dict[str, list[dict]] = {}
        self.by_bare: dict[str, list[dict]] = {}  # hamlets written with a kind word, by the rest
        self.by_fold: dict[str, list[dict]] = {}
        for hamlet in store.rows("hamlet"):
            self.add(hamlet)

    def add(self, hamlet: dict) -> None:
        key, bare, kinded = hamlet_keys(hamlet["name"])
        self.by_key.setdefault(key, []).append(hamlet)
        if kinded:
            self.by_bare.setdefault(bare, []).append(hamlet)
        self.by_fold.setdefault(_folded_hamlet(hamlet["name"]), []).append(hamlet)

    def discard(self, hamlet: dict) -> None:
        for table in (self.by_key, self.by_bare, self.by_fold):
            for rows in table.values():
                if hamlet in rows:
                    rows.remove(hamlet)

    def same(self, name: str) -> dict | None:
        """The hamlet that is the one named (rule above), or None; Ambiguous when several are."""
        key, bare, kinded = hamlet_keys(name)
        found = self.by_key.get(key) or (self.by_key.get(bare) if kinded else self.by_bare.get(key)) or []
        if len(found) > 1:
            raise Ambiguous("hamlet.ambiguous", [(h["id"], f"{h['name']} ({h['kind']})") for h in found],
                            name=clean(name), count=len(found))
        return found[0] if found else None

    def spelled_alike(self, name: str) -> list[dict]:
        """Hamlets whose names equal this one only once diacritics are folded (another place, or a typo)."""
        return list(self.by_fold.get(_folded_hamlet(name), []))


def same_hamlet(store: Store, name: str) -> dict | None:
    """The live hamlet that is the one named, by HamletIndex's rule; None when there is none."""
    return HamletIndex(store).same(name)


def same_member(store: Store, team_id: str, full_name: str, birth_year: Any = None, phone: Any = None) -> dict | None:
    """The live member of the team who is the same person, or None.

    Same person: the same NFC name (whichever apostrophe was typed: ' and ’ are one name typed on two
    laptops) in the same team and, where both records give them, the same
    birth year or the same phone (either one agreeing is enough: a phone changes, a birth year
    mistyped is corrected). When neither can be compared (missing on one side or both), the same
    name in the same team is taken as the same person: the command refuses it as a duplicate
    (--allow-duplicate records a namesake) and the import counts it as already present.
    """
    spelled = one_apostrophe(clean(full_name))
    for member in (m for m in store.rows("member", team_id=team_id) if one_apostrophe(m["full_name"]) == spelled):
        compared = [a == b for a, b in ((member["birth_year"], birth_year), (member["phone"], phone))
                    if a not in (None, "") and b not in (None, "")]
        if not compared or any(compared):
            return member
    return None


def refuse_same_member(store: Store, values: dict) -> None:
    """Raise Duplicate when a member with these values is already in the team (rule: same_member)."""
    existing = same_member(store, values["team_id"], values["full_name"], values.get("birth_year"), values.get("phone"))
    if existing:
        details = ", ".join(str(v) for v in (existing["birth_year"], existing["phone"]) if v)
        raise Duplicate("duplicate.member", existing, name=existing["full_name"],
                        hamlet=_team_hamlet(store, existing["team_id"]), ref=ref_of(existing["id"]),
                        details=f", {details}" if details else "")


def same_training(store: Store, topic: str, when: str) -> dict | None:
    """The live training with the same title (exact NFC text) on the same date, or None."""
    found = store.rows("training", topic=clean(topic), date=when)
    return found[0] if found else None


def same_attendance(store: Store, training_id: str, member_id: str) -> dict | None:
    """The attendance of this member at this training, when already recorded."""
    found = store.rows("training_attendance", training_id=training_id, member_id=member_id)
    return found[0] if found else None


def same_visit(store: Store, values: dict) -> dict | None:
    """The live visit of the same team to the same household on the same date with the same services."""
    services = sorted(json.loads(values["services"]) if isinstance(values["services"], str) else values["services"])
    for visit in store.rows("visit", team_id=values["team_id"], date=values["date"], household=values["household"]):
        if sorted(json.loads(visit["services"])) == services:
            return visit
    return None


def _team_hamlet(store: Store, team_id: str) -> str:
    team = store.get("team", team_id)
    hamlet = store.get("hamlet", team["hamlet_id"]) if team else None
    return hamlet["name"] if hamlet else "?"


# -- hamlets -------------------------------------------------------------------------------------


def add_hamlet(store: Store, name: str, kind: str, households: Any = None, working_age: Any = None, *,
               hamlets: HamletIndex | None = None) -> dict:
    """Record a hamlet (thôn, xóm, bản, …) of this commune. ``hamlets``: the caller's index of the live
    hamlets, kept up to date inside its transaction (the import adds a thousand hamlets in one)."""
    _require_commune(store)
    data = validate(HamletIn, name=name, kind=kind, households=households, working_age=working_age)
    with store.write() as tx:
        existing = (hamlets or HamletIndex(store)).by_key.get(hamlet_keys(data.name)[0])
        if existing:
            raise Duplicate("hamlet.exists", existing[0], name=data.name)
        return tx.insert("hamlet", data.model_dump())


def edit_hamlet(store: Store, text: str, **changes: Any) -> dict:
    """Change a hamlet's name, kind, households or working-age population."""
    with store.write() as tx:
        hamlet = find_hamlet(store, text)
        merged = {k: hamlet[k] for k in ("name", "kind", "households", "working_age")}
        merged.update({k: v for k, v in changes.items() if v is not None})
        data = validate(HamletIn, **merged)
        if name_key(data.name) != name_key(hamlet["name"]) and any(
            name_key(h["name"]) == name_key(data.name) for h in store.rows("hamlet")
        ):
            raise InvalidInput("hamlet.exists", name=data.name)
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
    _require_commune(store)
    with store.write() as tx:
        place = hamlet if isinstance(hamlet, dict) else find_hamlet(store, hamlet)
        data = validate(
            TeamIn, hamlet_id=place["id"], decision_number=decision_number, decision_date=decision_date,
            founded_on=founded_on,
        )
        if any(t["status"] == "active" for t in store.rows("team", hamlet_id=place["id"])):
            raise InvalidInput("team.hamlet_has_team", hamlet=place["name"])
        _test_pause("add_team")
        return tx.insert("team", new_team_values(data))


def edit_team(store: Store, text: str, **changes: Any) -> dict:
    """Change a team's founding decision (number, date) or founding date."""
    with store.write() as tx:
        team = text if isinstance(text, dict) else find_team(store, text, active_only=False)
        current = {k: team[k] for k in ("hamlet_id", "decision_number", "decision_date", "founded_on")}
        current.update({k: v for k, v in changes.items() if v is not None})
        data = validate(TeamIn, **current)
        first, _ = _visit_span(store, team["id"])
        if data.founded_on and first and first < data.founded_on:
            raise InvalidInput("team.founded_after_visits", date=_display_date(data.founded_on),
                               first=_display_date(first))
        return tx.update("team", team["id"], data.model_dump())


def _visit_span(store: Store, team_id: str) -> tuple[str | None, str | None]:
    dates = sorted(v["date"] for v in store.rows("visit", team_id=team_id))
    return (dates[0], dates[-1]) if dates else (None, None)


def dissolve_team(store: Store, text: str, on: Any = None) -> dict:
    """Mark a team dissolved (its hamlet may then found a new one)."""
    with store.write() as tx:
        team = find_team(store, text)
        when = _parse(lambda: parse_date(on, not_future=True)) or date.today().isoformat()
        if team["founded_on"] and when < team["founded_on"]:
            raise InvalidInput("team.dissolved_before_founded", date=_display_date(when))
        _, last = _visit_span(store, team["id"])
        if last and last > when:
            raise InvalidInput("team.dissolved_before_visits", date=_display_date(when),
                               last=_display_date(last))
        return tx.update("team", team["id"], {"status": "dissolved", "dissolved_on": when})


def _test_pause(point: str) -> None:
    """Tests only: wait at a named point inside a write (CDT_TEST_PAUSE=point:seconds), to race two processes."""
    import os
    import time

    wanted = os.environ.get("CDT_TEST_PAUSE", "")
    if wanted.startswith(point + ":"):
        time.sleep(float(wanted.split(":", 1)[1]))


def _parse(function: Callable[[], Any]) -> Any:
    """Run a parser from models.py, turning its ValueError into the user-facing error."""
    try:
        return function()
    except ValueError as error:
        raise InvalidInput("input.plain", detail=str(error)) from None


def list_teams(store: Store, *, include_dissolved: bool = True, team_id: str | None = None) -> list[dict]:
    """Teams with their hamlet, size and whether the size is below the minimum."""
    names = _hamlet_names(store)
    low, high = _int_setting(store, "team_min_members"), _int_setting(store, "team_max_members")
    # Active members grouped once by team: a scan of every member per team was quadratic
    # (12.5 s for 2,000 teams and 10,000 members).
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


def add_member(store: Store, full_name: str, team: str | dict, *, allow_duplicate: bool = False,
               **fields: Any) -> dict:
    """Add a member to the active team of a hamlet (or a team row), enforcing size, one-leader and sameness rules."""
    _require_commune(store)
    with store.write() as tx:
        target = team if isinstance(team, dict) else find_team(store, team)
        data = validate(MemberIn, team_id=target["id"], full_name=full_name, **fields)
        values = new_member_values(data)
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
                               date=_display_date(member["left_on"]))
        when = _parse(lambda: parse_date(on, not_future=True)) or date.today().isoformat()
        if member["joined_on"] and when < member["joined_on"]:
            raise InvalidInput("member.left_before_joined", date=_display_date(when))
        return tx.update("member", member["id"], {"left_on": when})


def remove_member(store: Store, text: str, *, cascade: bool = False) -> dict:
    """Erase a member: the row becomes a tombstone with its personal fields cleared.

    A member with recorded attendance or named in visits is refused unless cascade: then the
    attendance goes too and the visits are kept without the member's name (remove_record)."""
    return remove_record(store, "member", text, cascade=cascade).row


def _trained_member_ids(store: Store) -> set[str]:
    live_trainings = {r["id"] for r in store.rows("training")}
    return {a["member_id"] for a in store.rows("training_attendance") if a["training_id"] in live_trainings}


def list_members(store: Store, *, team: str | None = None, include_left: bool = False,
                 team_id: str | None = None) -> list[dict]:
    """Members sorted the Vietnamese way (given name, then full name)."""
    names = _hamlet_names(store)
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
                                date=_display_date(existing["date"]), ref=ref_of(existing["id"]))
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
                            date=_display_date(session["date"]), ref=ref_of(session["id"]))
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


_SERVICE_WORDS: dict[tuple, tuple[dict[str, str], str]] = {}


def _service_words(store: Store) -> tuple[dict[str, str], str]:
    """Folded code, name and aliases → code, in catalogue order (first wins), and the codes listed.

    Kept per file and per state of its service rows (their hashes): an import resolves services on
    15,000 rows, and folding the catalogue for each one was a third of its time."""
    state = (str(store.path), store.conn.execute("SELECT group_concat(hash, '') FROM service").fetchone()[0])
    if state not in _SERVICE_WORDS:
        catalogue = service_catalogue(store)
        words: dict[str, str] = {}
        for service in catalogue:
            for text in (service["code"], service["name"], *service["aliases"]):
                words.setdefault(fold(text), service["code"])
        _SERVICE_WORDS.clear()
        _SERVICE_WORDS[state] = (words, ", ".join(s["code"] for s in catalogue))
    return _SERVICE_WORDS[state]


def resolve_service(store: Store, text: str) -> str:
    """A service code from its code, name or any alias (case and diacritics optional)."""
    words, codes = _service_words(store)
    wanted = fold(text)
    code = words.get(wanted)
    if code is not None:
        return code
    close = _close_services(wanted, service_catalogue(store))
    if len(close) == 1:
        raise NotFound("service.not_found_suggest", name=clean(text), code=close[0]["code"],
                       service=close[0]["name"], codes=codes)
    raise NotFound("service.not_found", name=clean(text), codes=codes)


def service_from_words(store: Store, text: str) -> str:
    """resolve_service, and also the words of one service's name or alias when no other service has
    them all ('dinh danh' → vneid): for a prompt, where the clerk sees the choice named back.
    Options and imports stay exact (resolve_service), so a script never gets a guess."""
    try:
        return resolve_service(store, text)
    except NotFound:
        found = _services_with_words(fold(text), service_catalogue(store))
        if len(found) == 1:
            return found[0]["code"]
        raise


def _services_with_words(wanted: str, catalogue: list[dict]) -> list[dict]:
    """Services with every word typed in one of their names (diacritics optional)."""
    words = set(wanted.split())
    found = []
    for service in catalogue:
        names = [fold(n) for n in (service["code"], service["name"], *service["aliases"])]
        if words and any(words <= set(n.split()) for n in names):
            found.append(service)
    return found


def _close_services(wanted: str, catalogue: list[dict]) -> list[dict]:
    """Services a mistyped or partial name most likely meant: every word typed is in one of its
    names (diacritics optional), else a close spelling of its code, name or an alias."""
    import difflib

    found = _services_with_words(wanted, catalogue)
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
    with store.write() as tx:
        taken = {fold(a) for s in service_catalogue(store) for a in (s["code"], s["name"], *s["aliases"])}
        clash = [a for a in (data.code, data.name, *data.aliases) if fold(a) in taken]
        if clash:
            raise InvalidInput("service.exists", name=clash[0])
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
    store: Store, team: str | dict, household: Any, people: Any, services: list[str],
    when: Any = None, members: list[str] | None = None, notes: Any = None, *, allow_duplicate: bool = False,
) -> dict:
    """Record a household visit by a team: who went, how many people were helped, with what."""
    _require_commune(store)
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
                                date=_display_date(existing["date"]), hamlet=_team_hamlet(store, existing["team_id"]),
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
            "id": v["id"], "ref": ref_of(v["id"]), "date": v["date"],
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
    from cdt.domain import units
    from cdt.store import Store, ref_of

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
    from cdt.core.i18n import t

    return t(f"level.{level}")


# -- corrections: removing and editing any record (issue 11, items 1 and 3) ---------------------------
#
# A removal is a tombstone (Transaction.delete: personal fields and notes cleared, rev bumped) that
# travels upward. A record that others use is refused with what uses it, unless the caller asks for
# the cascade: then the users are removed (or, for a visit that only names a removed member or
# service, edited) in the same write transaction. Only this file's own rows can be removed.

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


def describe_uses(counts: dict[str, int]) -> str:
    """'3 lượt hỗ trợ, 2 thành viên': what uses a record, in the user's language."""
    from cdt.core.i18n import t

    return ", ".join(t(f"uses.{table}", count=count) for table, count in counts.items())


def use_labels(store: Store, plan: Removal, limit: int = 10) -> list[str]:
    """One line per record removed or changed with the plan (at most ``limit`` per kind)."""
    from cdt.core.i18n import t

    lines = []
    for table in USE_TABLES:
        edit = table.startswith("visit_edit")
        rows = (plan.edits if table in plan.counts else []) if edit else plan.uses.get(table, [])
        for row in rows[:limit]:
            lines.append(t(f"uses.line.{'visit_edit' if edit else table}",
                           label=_label(store, "visit" if edit else table, row)))
        if len(rows) > limit:
            lines.append(t("uses.more", count=len(rows) - limit))
    return lines


def _own(store: Store, table: str, row: dict) -> None:
    if not store.may_change(row["origin"]):
        from cdt.core.errors import ReadOnlyRow

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
        plan = Removal(kind, row, _label(store, "hamlet", row))
        teams = store.rows("team", hamlet_id=row["id"])
        plan.add("team", teams)
        _team_users(store, plan, [t["id"] for t in teams])
    elif kind == "team":
        row = find_team(store, text, active_only=False)
        plan = Removal(kind, row, _label(store, "team", row))
        _team_users(store, plan, [row["id"]])
    elif kind == "member":
        row = find_member(store, text)
        plan = Removal(kind, row, _label(store, "member", row))
        plan.add("training_attendance", store.rows("training_attendance", member_id=row["id"]))
        for visit in store.rows("visit", team_id=row["team_id"]):
            present = json.loads(visit["members"])
            if row["id"] in present:
                plan.edits.append({**visit, "members": json.dumps([m for m in present if m != row["id"]])})
    elif kind == "training":
        row = find_training(store, text)
        plan = Removal(kind, row, _label(store, "training", row))
        plan.add("training_attendance", store.rows("training_attendance", training_id=row["id"]))
    elif kind == "visit":
        row = find_visit(store, text)
        plan = Removal(kind, row, _label(store, "visit", row))
    elif kind == "service":
        row = find_service_row(store, text)
        plan = Removal(kind, row, _label(store, "service", row))
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
    _own(store, plan.kind, plan.row)
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
                _own(store, table, row)
                tx.delete(table, row["id"])
        for visit in plan.edits:
            _own(store, "visit", visit)
            tx.update("visit", visit["id"], {"members": visit["members"], "services": visit["services"]})
        tx.delete(plan.kind, plan.row["id"])
        from cdt.register.undo import row_name

        tx.describe(f"history.remove.{kind}", **row_name(store, kind, plan.row), uses=plan.counts)
    return plan


def remove_hamlet(store: Store, text: str, *, cascade: bool = False) -> Removal:
    """Remove a hamlet entered by mistake (and, with cascade, its teams and what they recorded)."""
    return remove_record(store, "hamlet", text, cascade=cascade)


def remove_team(store: Store, text: str, *, cascade: bool = False) -> Removal:
    """Remove a team entered by mistake (a real dissolution is dissolve_team)."""
    return remove_record(store, "team", text, cascade=cascade)


def remove_training(store: Store, text: str, *, cascade: bool = False) -> Removal:
    """Remove a training entered by mistake (with cascade, its attendance too)."""
    return remove_record(store, "training", text, cascade=cascade)


def remove_service(store: Store, text: str, *, cascade: bool = False) -> Removal:
    """Remove a provincial service this file added (with cascade, it is taken out of its visits)."""
    return remove_record(store, "service", text, cascade=cascade)


def unattend(store: Store, training: str, members: list[str]) -> tuple[dict, list[dict]]:
    """Take members off a training's attendance (an attendance recorded by mistake)."""
    session = find_training(store, training)
    if not members:
        raise InvalidInput("training.no_member")
    with store.write() as tx:
        present = {a["member_id"]: a for a in store.rows("training_attendance", training_id=session["id"])}
        removed = []
        for name in members:
            member = find_member(store, name)
            if member["id"] not in present:
                raise InvalidInput("training.not_attended", name=member["full_name"], topic=session["topic"])
            if member["id"] not in {m["id"] for m in removed}:
                _own(store, "training_attendance", present[member["id"]])
                tx.delete("training_attendance", present[member["id"]]["id"])
                removed.append(member)
    return session, removed


def edit_training(store: Store, text: str, *, title: Any = None, when: Any = None, organiser: Any = None,
                  mode: Any = None) -> dict:
    """Change a training's title, date, organiser or mode."""
    session = find_training(store, text)
    current = {"topic": session["topic"], "date": session["date"], "organiser": session["organiser"],
               "mode": session["mode"]}
    current.update({k: v for k, v in {"topic": title, "date": when, "organiser": organiser,
                                      "mode": mode}.items() if v is not None})
    data = validate(TrainingIn, **current)
    with store.write() as tx:
        _own(store, "training", session)
        row = tx.update("training", session["id"], data.model_dump())
    return {**row, "ref": ref_of(row["id"])}


def find_service_row(store: Store, text: str) -> dict:
    """The service row (a provincial service: national ones are not rows) named by code, name or alias."""
    code = resolve_service(store, text)
    rows = [r for r in store.rows("service", code=code)]
    if not rows:
        raise InvalidInput("service.national_locked", code=code)
    own = [r for r in rows if r["origin"] == store.site.db_id]
    return (own or rows)[0]


def edit_service(store: Store, text: str, *, name: Any = None, aliases: list[str] | None = None) -> dict:
    """Change a provincial service's name or aliases (its code stays: visits record it)."""
    row = find_service_row(store, text)
    _own(store, "service", row)
    data = validate(ServiceIn, code=row["code"], name=name if name is not None else row["name"],
                    aliases=aliases if aliases else json.loads(row["aliases"]))
    taken = {fold(a) for s in service_catalogue(store) if s["code"] != row["code"]
             for a in (s["code"], s["name"], *s["aliases"])}
    clash = [a for a in (data.name, *data.aliases) if fold(a) in taken]
    if clash:
        raise InvalidInput("service.exists", name=clash[0])
    with store.write() as tx:
        tx.update("service", row["id"], {"name": data.name,
                                         "aliases": json.dumps(data.aliases, ensure_ascii=False)})
    return {"code": row["code"], "name": data.name, "aliases": data.aliases, "national": False}


# -- "which one?": labels that tell candidates apart (issue 11, item 3) ------------------------------


def _label(store: Store, table: str, row: dict) -> str:
    """A one-line label naming a record with what tells it apart from look-alikes, and its reference."""
    from cdt.core.i18n import t

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
            parts.append(t("label.founded", date=_display_date(row["founded_on"])))
        parts.append(t(f"status.{row['status']}"))
    elif table == "member":
        parts.append(row["full_name"] or "?")
        parts.append(_team_name(store, row["team_id"]))
        if row.get("birth_year"):
            parts.append(t("label.born", year=row["birth_year"]))
        if row.get("phone"):
            parts.append(t("label.phone", end=row["phone"][-3:]))
        if row.get("joined_on"):
            parts.append(t("label.joined", date=_display_date(row["joined_on"])))
        if row.get("left_on"):
            parts.append(t("label.left", date=_display_date(row["left_on"])))
    elif table == "training":
        parts.append(row["topic"])
        parts.append(_display_date(row["date"]))
        if row.get("organiser"):
            parts.append(row["organiser"])
    elif table == "training_attendance":
        member = store.get("member", row["member_id"])
        training = store.get("training", row["training_id"])
        parts.append(f"{(member or {}).get('full_name') or '?'} — {(training or {}).get('topic', '?')}")
    elif table == "visit":
        parts.append(t("label.household", code=row["household"]))
        parts.append(_display_date(row["date"]))
        parts.append(_team_name(store, row["team_id"]))
        parts.append(t("label.people", count=row["people"]))
    elif table == "service":
        parts.append(f"{row['code']} — {row['name']}")
    return f"{' · '.join(p for p in parts if p)} [{ref}]"


def _team_name(store: Store, team_id: str) -> str:
    team = store.get("team", team_id)
    hamlet = store.get("hamlet", team["hamlet_id"]) if team else None
    return hamlet["name"] if hamlet else "?"
