"""Vietnamese text: NFC normalisation, diacritic folding for search, and alphabetical sort keys."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
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


def has_control_chars(text: str) -> bool:
    """True when text holds control characters (tabs and newlines included are not allowed in names)."""
    return bool(_CONTROL.search(text)) or "\t" in text or "\n" in text


def fold(text: str) -> str:
    """Lower-case, diacritic-free form for search: 'Nguyễn Văn Đức' -> 'nguyen van duc'."""
    decomposed = unicodedata.normalize("NFD", nfc(text))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare.replace("đ", "d").replace("Đ", "D").casefold()).strip()


def _letters_and_tones(word: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    letters: list[int] = []
    tones: list[int] = []
    for ch in unicodedata.normalize("NFC", word.casefold()):
        parts = unicodedata.normalize("NFD", ch)
        base, marks = parts[0], parts[1:]
        letter = unicodedata.normalize("NFC", base + "".join(m for m in marks if m in _LETTER_MARKS))
        if letter == "đ" or base == "đ":
            letter = "đ"
        tone = max((_TONE_ORDER.get(m, 0) for m in marks), default=0)
        letters.append(_LETTER_RANK.get(letter, 100 + ord(letter[0])))
        tones.append(tone)
    return tuple(letters), tuple(tones)


def vi_key(text: str) -> tuple:
    """Sort key in Vietnamese alphabetical order (a ă â b c d đ …), tones breaking ties."""
    words = clean(text).split(" ")
    letters = tuple(_letters_and_tones(w)[0] for w in words)
    tones = tuple(_letters_and_tones(w)[1] for w in words)
    return letters, tones


def person_key(full_name: str) -> tuple:
    """Sort key for people: given name (the last word) first, then the full name."""
    words = clean(full_name).split(" ")
    return vi_key(words[-1]), vi_key(full_name)


def match_names(query: str, items: list, key) -> list:
    """Items whose name matches query, ignoring case and diacritics; best tier only.

    Tiers: the whole name equals the query; every query word is a word of the name;
    the query is a substring of the name.
    """
    wanted = fold(query)
    if not wanted:
        return []
    words = wanted.split(" ")
    folded = [(item, fold(key(item))) for item in items]
    exact = [item for item, name in folded if name == wanted]
    if exact:
        return exact
    whole_words = [item for item, name in folded if all(w in name.split(" ") for w in words)]
    if whole_words:
        return whole_words
    return [item for item, name in folded if wanted in name]
