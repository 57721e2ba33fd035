"""Kinds of hamlet-level unit (đơn vị cấp thôn) in every region, and how they are typed and shown.

Light on purpose (no pydantic): the CLI's help lists the kinds. ``cdt.models`` re-exports all of it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from cdt.core.i18n import t
from cdt.core.text import clean, fold, name_key

# Kinds of hamlet-level unit (đơn vị cấp thôn) in every region, the one list the commands, the import,
# the template's drop-down and the reports use: the North and Centre (thôn, xóm, làng, bản), the
# Central Highlands (buôn, plei, bon), the South and Khmer communities (ấp, khóm, phum, sóc), towns
# (khu phố, khu, tổ dân phố, tổ, khối phố). A hamlet's kind is what the clerk says.
HAMLET_KINDS = ("thôn", "xóm", "làng", "bản", "buôn", "plei", "bon", "ấp", "khóm", "phum", "sóc",
                "khu phố", "khu", "tổ dân phố", "tổ", "khối phố")
# Other spellings of a kind, stored as the kind they name (Jrai and Bahnar write plei or plơi).
KIND_SPELLINGS = {"plơi": "plei"}
# Vietnamese spellings of a kind, folded (so 'buon' and 'Buôn' both say buôn) → the stored kind.
_KIND_SPELLED = {fold(kind): kind for kind in HAMLET_KINDS}
_KIND_SPELLED.update({fold(word): kind for word, kind in KIND_SPELLINGS.items()})
KIND_WORDS = dict(_KIND_SPELLED)
KIND_WORDS.update({"hamlet": "thôn", "village": "làng", "tdp": "tổ dân phố", "residential group": "tổ dân phố",
                   "quarter": "khu phố"})
_KIND_MOST_WORDS = max(len(word.split(" ")) for word in _KIND_SPELLED)


def kinds_text() -> str:
    """Every kind as a clerk reads it in a list: 'thôn, xóm, …, plei (plơi), …'."""
    others = {kind: [word for word, to in KIND_SPELLINGS.items() if to == kind] for kind in HAMLET_KINDS}
    return ", ".join(f"{kind} ({', '.join(others[kind])})" if others[kind] else kind for kind in HAMLET_KINDS)


def kind_label(kind: str | None) -> str:
    """A stored kind shown in the current language ('buôn' → 'buôn', or 'buôn (highland village)' in English)."""
    if not kind:
        return ""
    key = f"kind.{fold(kind).replace(' ', '_')}"
    text = t(key)
    return kind if text == key else text


def split_kind(name: str) -> tuple[str | None, str]:
    """'Tổ dân phố 5' → ('tổ dân phố', '5'); 'Khu 3' → ('khu', '3'); 'Đồng Tâm' → (None, 'Đồng Tâm').

    The longest kind wins ('khu phố' before 'khu', 'tổ dân phố' before 'tổ'); case and diacritics do
    not matter ('BUON Ea Kmat'); a name that is only a kind word gives (kind, '')."""
    words = clean(name or "").split(" ")
    for count in range(min(_KIND_MOST_WORDS, len(words)), 0, -1):
        kind = _KIND_SPELLED.get(fold(" ".join(words[:count])))
        if kind:
            return kind, " ".join(words[count:])
    return None, clean(name or "")


@lru_cache(maxsize=4)
def _kind_keys(kinds: tuple[str, ...], folded: bool) -> tuple[str, ...]:
    return tuple(sorted(((fold if folded else name_key)(k) for k in kinds), key=len, reverse=True))


def without_kind(name: str, *, folded: bool = False) -> tuple[str, bool]:
    """(a hamlet name's key without its leading kind word, whether it had one): 'Thôn Na Mao' → 'na mao'.

    The key is text.name_key (diacritics kept: 'Thon Na Mao' has no kind word 'thôn'), or with
    ``folded`` text.fold (the search form: only to spot spellings alike). A kind word is taken off
    only when a name follows it; the longest kind wins ('tổ dân phố' before 'tổ'). Unlike split_kind,
    the kind's other spellings (plơi) are not kind words here."""
    key = (fold if folded else name_key)(name)
    for kind in _kind_keys(HAMLET_KINDS, folded):
        if key.startswith(kind + " ") and len(key) > len(kind) + 1:
            return key[len(kind) + 1:], True
    return key, False


# After "tổ", words that make it the team (Tổ CNSCĐ, tổ công nghệ số) or a role (tổ trưởng, tổ phó,
# tổ viên), not a residential group: a title "DANH SÁCH TỔ CNSCĐ TỔ DÂN PHỐ SƠN TẬP" names Tổ dân phố Sơn Tập.
_NOT_A_PLACE_AFTER_TO = r"(?!\s+(?:cnscđ|cnsc|cn\s*scđ|công\s+nghệ|trưởng|phó|viên)(?!\w))"


def kind_pattern() -> str:
    """A regular-expression alternation of the kind words as written in titles and group rows
    ('THÔN/BUÔN EA KMÁT', 'II. Tổ dân phố Cầu Thành'), longest first ('tổ dân phố' before 'tổ'), each a
    whole word, 'tổ' not when it is the team or a role; use with re.IGNORECASE. Only the spellings
    with diacritics: bare 'ban', 'to', 'ap' are too often other words (Ban chỉ đạo) in free text."""
    spellings = sorted(set(HAMLET_KINDS) | set(KIND_SPELLINGS), key=len, reverse=True)
    words = []
    for word in spellings:
        pattern = re.escape(word).replace(r"\ ", r"\s+") + r"(?!\w)"
        words.append(pattern + _NOT_A_PLACE_AFTER_TO if word == "tổ" else pattern)
    return "|".join(words)
