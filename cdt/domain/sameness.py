"""When two hamlets, members, trainings, attendances or visits are one record.

One explicit rule per record, used by the commands (refusing a duplicate unless --allow-duplicate)
and by the import (a row is "already present" only by these rules). Names are compared exactly as
stored: NFC, diacritics and case included ("Lê Thị Hà" and "Lê Thị Hạ" are two people). Folding
diacritics is for search (register.lookup), never for identity.
"""

from __future__ import annotations

import json
from typing import Any

from cdt.core.errors import Ambiguous
from cdt.core.text import clean, name_key, one_apostrophe
from cdt.domain.kinds import without_kind
from cdt.store import Store


def hamlet_keys(name: str) -> tuple[str, str, bool]:
    """(the name's key, the key without a leading kind word, whether it had one). Keys keep diacritics
    and drop case and tone placement (text.name_key): 'Xóm Đồng Tiến' and 'Xom Dong Tien' differ."""
    bare, kinded = without_kind(name)
    return name_key(name), bare, kinded


def folded_hamlet(name: str) -> str:
    """A hamlet name folded (search form) without its kind word: only to spot spellings alike."""
    return without_kind(name, folded=True)[0]


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
        self.by_fold.setdefault(folded_hamlet(hamlet["name"]), []).append(hamlet)

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
        return list(self.by_fold.get(folded_hamlet(name), []))


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
