"""Vietnamese text: NFC normalisation, diacritic folding for search, and alphabetical sort keys."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

_SPACES = re.compile(r"\s+")

# Combining marks that make a different letter (ă â ê ô ơ ư) rather than a tone.
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}
# Tones in dictionary order: ngang (none), huyền, hỏi, ngã, sắc, nặng.
_TONE_ORDER = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_ALPHABET = "a ă â b c d đ e ê f g h i j k l m n o ô ơ p q r s t u ư v w x y z".split()
_LETTER_RANK = {letter: rank for rank, letter in enumerate(_ALPHABET)}


def nfc(text: str) -> str:
    """Return text in Unicode NFC (keyboards and Macs may send NFD)."""
    return unicodedata.normalize("NFC", text)


def clean(text: str) -> str:
    """NFC, no control characters, single spaces, trimmed: the form every stored text takes."""
    return _SPACES.sub(" ", nfc(text)).strip()


# Control, format (right-to-left overrides, zero-width spaces), private-use, surrogate and line
# separator characters: invisible in a table, they make two names look alike or reorder text.
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}


def has_control_chars(text: str) -> bool:
    """True when text holds control or invisible formatting characters (tabs and newlines included)."""
    return any(unicodedata.category(ch) in _HIDDEN_CATEGORIES for ch in text)


# Apostrophes as people type them in Ê Đê, Jrai, M'nông… names ("Y B'him", "H’Hen"): the ASCII one,
# the curly ones Word and phones put in, the modifier letter, the backtick and the acute accent.
APOSTROPHES = "'\u2019\u2018\u02bc\u02bb\u0060\u00b4\u2032"
_APOSTROPHE = re.compile(f"[{re.escape(APOSTROPHES)}]")


def one_apostrophe(text: str) -> str:
    """Every apostrophe written as ' ('Y B’him' -> "Y B'him"): the same name typed on two laptops.
    For sameness, unlike drop_apostrophes: "K'Mrốp" and "KMrốp" stay two names."""
    return _APOSTROPHE.sub("'", text)


def drop_apostrophes(text: str) -> str:
    """Text without apostrophes, for search: 'Y B’him' -> 'Y Bhim' (stored names keep theirs)."""
    return _APOSTROPHE.sub("", text)


def fold(text: str) -> str:
    """Lower-case, diacritic- and apostrophe-free form for search: 'Nguyễn Văn Đức' -> 'nguyen van duc',
    "Y B'him Niê" -> 'y bhim nie'. For search only: two names that fold alike are not the same name."""
    decomposed = unicodedata.normalize("NFD", drop_apostrophes(nfc(text)))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # đ and the Ê Đê / Jrai Ƀ are letters of their own, not a letter with a mark: fold them by hand.
    bare = bare.replace("đ", "d").replace("Đ", "D").replace("ƀ", "b").replace("Ƀ", "B")
    return _SPACES.sub(" ", bare.casefold()).strip()


def _clusters(word: str) -> list[str]:
    """The letters of a word, each with its marks ('ŏ́' is one letter with a breve and a tone)."""
    clusters: list[str] = []
    for ch in unicodedata.normalize("NFD", word):
        if clusters and unicodedata.combining(ch):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return clusters


@lru_cache(maxsize=65536)  # words repeat (Xóm, Thị, Văn…): sorting 2,000 teams spent 70% here
def _letters_and_tones(word: str) -> tuple[tuple[float, ...], tuple[int, ...]]:
    letters: list[float] = []
    tones: list[int] = []
    for cluster in _clusters(drop_apostrophes(word.casefold())):
        base, marks = cluster[0], cluster[1:]
        letter = unicodedata.normalize("NFC", base + "".join(m for m in marks if m in _LETTER_MARKS))
        if letter == "đ" or base == "đ":
            letter = "đ"
        tone = max((_TONE_ORDER.get(m, 0) for m in marks), default=0)
        rank = _LETTER_RANK.get(letter)
        if rank is None:
            # A letter outside the Vietnamese alphabet (ŭ, ĕ, ŏ of minority orthographies) sorts just
            # after its base letter; anything else after z.
            rank = _LETTER_RANK[base] + 0.5 if base in _LETTER_RANK else 100 + ord(base)
        letters.append(rank)
        tones.append(tone)
    return tuple(letters), tuple(tones)


def vi_key(text: str) -> tuple:
    """Sort key in Vietnamese alphabetical order (a ă â b c d đ …), tones breaking ties."""
    parts = [_letters_and_tones(w) for w in clean(text).split(" ")]
    return tuple(p[0] for p in parts), tuple(p[1] for p in parts)


def person_key(full_name: str) -> tuple:
    """Sort key for people: given name (the last word) first, then the full name."""
    words = clean(full_name).split(" ")
    return vi_key(words[-1]), vi_key(full_name)


def name_key(text: str) -> str:
    """Case-free form that keeps diacritics but not where the tone sits ('Hoà' == 'Hòa' != 'Hoa').

    Two names with the same key are the same name written two ways; 'Lan' and 'Lân' are not.
    """
    words = []
    for word in one_apostrophe(clean(text)).casefold().split(" "):
        decomposed = unicodedata.normalize("NFD", word)
        base = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        marks = "".join(sorted(ch for ch in decomposed if unicodedata.combining(ch)))
        words.append(f"{base}{marks}")
    return " ".join(words)


def _search_key(text: str) -> str:
    # name_key without apostrophes: 'Y B’him Niê' finds "Y B'him Niê" and "Y Bhim Niê" alike.
    return name_key(drop_apostrophes(text))


def has_diacritics(text: str) -> bool:
    """True when text carries any Vietnamese mark (or đ): the typist chose the exact spelling."""
    return fold(text) != drop_apostrophes(clean(text)).casefold()


def match_names(query: str, items: list, key) -> list:
    """Items whose name matches query, ignoring case (and diacritics, unless the query has some).

    Tiers, best first, only the best non-empty tier is returned: the whole name equals the query;
    every query word is a word of the name; the query is a substring of the name. A query typed
    with diacritics is matched with its diacritics first ('Lân' finds Lân, not Lan); one typed
    without them matches either ('lan' finds both, and the caller asks which).
    """
    if not fold(query):
        return []
    tiers = []
    if has_diacritics(query):
        tiers.append((_search_key(query), _search_key))
    tiers.append((fold(query), fold))
    for wanted, normal in tiers:
        words = wanted.split(" ")
        named = [(item, normal(key(item))) for item in items]
        for test in (lambda name: name == wanted,
                     lambda name: all(w in name.split(" ") for w in words),
                     lambda name: wanted in name):
            found = [item for item, name in named if test(name)]
            if found:
                return found
    return []


def clean_text(value: Any, limit: int = 200) -> str | None:
    """Text read from a pack, safe to print: control characters (a newline would forge an output
    line, an escape sequence would drive the terminal) become spaces, and it is cut to a length."""
    if value is None:
        return None
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in str(value))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
