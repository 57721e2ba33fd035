"""Vietnamese text typed in the legacy 8-bit encodings TCVN3 (ABC) and VNI-Windows: detect and convert.

Old spreadsheets were typed with a Vietnamese keyboard in TCVN3 mode (".Vn" fonts such as .VnTime)
or VNI mode ("VNI-" fonts such as VNI-Times). Excel stores each legacy byte as the Windows-1252
character of that byte, so openpyxl hands us strings like "Hoµng V¨n An" (TCVN3) or
"Hoaøng Vaên An" (VNI) for "Hoàng Văn An".

Tables. TCVN3 is TCVN 5712:1993 "VN3": the lower-case letters and the seven bare capitals
(Ă Â Ê Ô Ơ Ư Đ) in 0xA1-0xFE, as in the upper half of glibc's TCVN5712-1 charmap and in the tcvn.h
table of xvnkb (Dao Hai Lam). VN3 has no capitals with tones: keyboards type them with the
lower-case codes, and the ".VnTimeH"-style fonts draw every letter as a capital. VNI-Windows writes
a base letter followed by a mark byte, as in the vni.h table of xvnkb and duydev/vietnamese-conversion.
Both tables are checked by round trips over all 134 letters in tests/test_legacy.py.

Detection is conservative: a word counts for an encoding only when it is not a Vietnamese
syllable as typed but becomes one once converted; text holding characters a legacy encoding cannot
produce (ư, ạ, ễ, …) is Unicode already and is never touched.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

TCVN3 = "tcvn3"
VNI = "vni"
ENCODINGS = (TCVN3, VNI)

# Tone marks in table order: none, sắc, huyền, hỏi, ngã, nặng.
_TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
_TONE_MARKS = frozenset(_TONES[1:])

# TCVN3 codes (the Latin-1 character of each byte) for the lower-case vowels, one row per vowel,
# columns in _TONES order.
_TCVN3_ROWS = {
    "a": "a\xb8\xb5\xb6\xb7\xb9",
    "ă": "\xa8\xbe\xbb\xbc\xbd\xc6",
    "â": "\xa9\xca\xc7\xc8\xc9\xcb",
    "e": "e\xd0\xcc\xce\xcf\xd1",
    "ê": "\xaa\xd5\xd2\xd3\xd4\xd6",
    "i": "i\xdd\xd7\xd8\xdc\xde",
    "o": "o\xe3\xdf\xe1\xe2\xe4",
    "ô": "\xab\xe8\xe5\xe6\xe7\xe9",
    "ơ": "\xac\xed\xea\xeb\xec\xee",
    "u": "u\xf3\xef\xf1\xf2\xf4",
    "ư": "\xad\xf8\xf5\xf6\xf7\xf9",
    "y": "y\xfd\xfa\xfb\xfc\xfe",
}
_TCVN3_LOWER_D = "\xae"
# The only capitals TCVN3 has codes for; their lower-case partners (0xA8-0xAE) prove lower case.
_TCVN3_CAPITALS = {"Ă": "\xa1", "Â": "\xa2", "Ê": "\xa3", "Ô": "\xa4", "Ơ": "\xa5", "Ư": "\xa6", "Đ": "\xa7"}

# VNI-Windows sequences for the lower-case vowels; capitals are the same sequences upper-cased.
_VNI_ROWS = {
    "a": ("a", "aù", "aø", "aû", "aõ", "aï"),
    "ă": ("aê", "aé", "aè", "aú", "aü", "aë"),
    "â": ("aâ", "aá", "aà", "aå", "aã", "aä"),
    "e": ("e", "eù", "eø", "eû", "eõ", "eï"),
    "ê": ("eâ", "eá", "eà", "eå", "eã", "eä"),
    "i": ("i", "í", "ì", "æ", "ó", "ò"),
    "o": ("o", "où", "oø", "oû", "oõ", "oï"),
    "ô": ("oâ", "oá", "oà", "oå", "oã", "oä"),
    "ơ": ("ô", "ôù", "ôø", "ôû", "ôõ", "ôï"),
    "u": ("u", "uù", "uø", "uû", "uõ", "uï"),
    "ư": ("ö", "öù", "öø", "öû", "öõ", "öï"),
    "y": ("y", "yù", "yø", "yû", "yõ", "î"),
}
_VNI_LOWER_D = "ñ"


def _letter(vowel: str, tone: int) -> str:
    return unicodedata.normalize("NFC", vowel + _TONES[tone])


def _build_tables() -> tuple[dict, dict, dict, dict]:
    tcvn3_encode: dict[str, str] = {"đ": _TCVN3_LOWER_D}
    vni_encode: dict[str, str] = {"đ": _VNI_LOWER_D, "Đ": _VNI_LOWER_D.upper()}
    for vowel, codes in _TCVN3_ROWS.items():
        for tone, code in enumerate(codes):
            lower = _letter(vowel, tone)
            tcvn3_encode[lower] = code
            # Capitals with a tone share the lower-case code (VN3 has none of their own).
            tcvn3_encode.setdefault(lower.upper(), code.upper() if code.isascii() else code)
    for capital, code in _TCVN3_CAPITALS.items():
        tcvn3_encode[capital] = code
    for vowel, sequences in _VNI_ROWS.items():
        for tone, sequence in enumerate(sequences):
            lower = _letter(vowel, tone)
            vni_encode[lower] = sequence
            vni_encode[lower.upper()] = sequence.upper()
    tcvn3_decode = {code: letter for letter, code in tcvn3_encode.items() if not code.isascii() and letter == letter.lower()}
    tcvn3_decode.update({code: capital for capital, code in _TCVN3_CAPITALS.items()})
    vni_decode = {seq: letter for letter, seq in vni_encode.items() if seq != letter}
    # Keyboards sometimes pair a capital base with a lower-case mark (or the reverse): the base decides.
    for seq, letter in list(vni_decode.items()):
        if len(seq) == 2:
            vni_decode.setdefault(seq[0] + seq[1].swapcase(), letter)
    return tcvn3_encode, tcvn3_decode, vni_encode, vni_decode


_TCVN3_ENCODE, _TCVN3_DECODE, _VNI_ENCODE, _VNI_DECODE = _build_tables()
_TCVN3_UPPER_CODES = frozenset(_TCVN3_CAPITALS.values())
_TCVN3_LOWER_CODES = frozenset(_TCVN3_ENCODE[c.lower()] for c in _TCVN3_CAPITALS)
# Characters whose presence means a VNI sequence or a TCVN3 code is there (identity mappings excluded).
_LEGACY_CHARS = {
    TCVN3: frozenset(code for code, letter in _TCVN3_DECODE.items() if code != letter),
    VNI: frozenset(ch for seq, letter in _VNI_DECODE.items() if seq != letter for ch in seq if not ch.isascii()),
}
_TOKEN = {
    enc: re.compile("(?:[^\\W\\d_]|[" + re.escape("".join(sorted(chars))) + "])+")
    for enc, chars in _LEGACY_CHARS.items()
}

# The characters Windows-1252 gives to bytes 0x80-0x9F; with Latin-1 they are all a byte can become.
_CP1252_HIGH = frozenset(bytes([b]).decode("cp1252", errors="ignore") for b in range(0x80, 0xA0)) - {""}
# Letters no legacy byte can become: their presence means the text is Unicode Vietnamese already.
_VIETNAMESE_UNICODE = re.compile("[ĂăĐđĨĩŨũƠơƯư\u1ea0-\u1ef9\u0300\u0301\u0303\u0309\u0323]")

_VOWELS = frozenset("aăâeêioôơuưy")
# Besides Kinh initials and finals, place and person names of the highland peoples bring clusters
# such as Kr-, Pl-, Đr-, J- and finals -k, -h, -l (Krông Búk, Đắk Lắk, Chư Păh, Đắk Mil).
_INITIALS = frozenset(
    "ngh ng nh ch gh gi kh ph qu th tr b c d đ f g h j k l m n p r s t v w x z".split()
    + [a + b for a in "bcdđgkpt" for b in "rl"]
)
_FINALS = frozenset("ch ng nh c m n p t k h l".split()) | {""}
# Vowel groups ending in a glide (mai, sao, mưa, tuổi, …) take no final consonant, and their tone
# never sits on the last vowel; the others may take a final.
_OPEN_NUCLEI = frozenset(
    "iêu yêu oai oao oay oeo uây uôi ươi ươu uya uyu ai ao au ay âu ây eo êu ia iu oi ôi ơi ua ui ưa ưi ưu".split()
)
_NUCLEI = frozenset("uyê iê yê uô ươ uơ oa oă oe oo uâ uê uy a ă â e ê i o ô ơ u ư y".split())
# In these the tone always sits on the last vowel (tiến, muốn, người, nguyễn, tuấn, hoặc, thuế, thuở).
_TONE_LAST = frozenset("uyê iê yê uô ươ uơ uâ oă uê".split())
# Finals -ch and -nh follow only these (sách, bệnh, tình, hoạch, huỳnh, huếch).
_BEFORE_CH_NH = frozenset("a ê i y oa uy uê".split())
# A syllable closed by a stop takes only the sắc or nặng tone (tốt, học, sách, họp).
_STOPS = frozenset("p t c ch".split())
_STOP_TONES = frozenset("\u0301\u0323")


@lru_cache(maxsize=65536)
def _is_syllable(word: str) -> bool:
    """True when word has the shape of one Vietnamese syllable (initial, vowels, final, one well-placed tone)."""
    bare: list[str] = []
    tone_at = None
    tone = ""
    for ch in unicodedata.normalize("NFC", word.lower()):
        parts = unicodedata.normalize("NFD", ch)
        marks = [mark for mark in parts if mark in _TONE_MARKS]
        if marks:
            if tone_at is not None or len(marks) > 1:
                return False
            tone_at, tone = len(bare), marks[0]
        letter = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS))
        if len(letter) != 1:
            return False
        bare.append(letter)
    start = 0
    while start < len(bare) and bare[start] not in _VOWELS:
        start += 1
    end = start
    while end < len(bare) and bare[end] in _VOWELS:
        end += 1
    initial, vowels, final = "".join(bare[:start]), "".join(bare[start:end]), "".join(bare[end:])
    if final not in _FINALS or (final in _STOPS and tone not in _STOP_TONES):
        return False
    candidates = [(initial, vowels, start)]
    # "gi" and "qu" are initials that end in a vowel letter: giữa = gi + ưa, quốc = qu + ô + c.
    if len(vowels) > 1 and (initial, vowels[0]) in (("g", "i"), ("q", "u")):
        candidates.append((initial + vowels[0], vowels[1:], start + 1))
    for init, nucleus, at in candidates:
        if init and init not in _INITIALS:
            continue
        last = at + len(nucleus) - 1
        if tone_at is not None and not at <= tone_at <= last:
            continue
        if nucleus in _OPEN_NUCLEI:
            if not final and tone_at != last:
                return True
        elif nucleus in _NUCLEI:
            if final in ("ch", "nh") and nucleus not in _BEFORE_CH_NH:
                continue
            if nucleus not in _TONE_LAST or tone_at in (None, last):
                return True
    return False


def _byte_like(text: str) -> bool:
    """True when every character could be a Windows-1252 (or raw Latin-1) byte."""
    return all(ord(ch) < 0x100 or ch in _CP1252_HIGH for ch in text)


def _decode_tcvn3(token: str) -> str:
    return "".join(_TCVN3_DECODE.get(ch, ch) for ch in token)


def _decode_vni(token: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(token):
        pair = _VNI_DECODE.get(token[i : i + 2]) if i + 1 < len(token) else None
        if pair is not None:
            out.append(pair)
            i += 2
        else:
            out.append(_VNI_DECODE.get(token[i], token[i]))
            i += 1
    return "".join(out)


_DECODERS = {TCVN3: _decode_tcvn3, VNI: _decode_vni}


@dataclass
class _Evidence:
    """What the words of a text say about one encoding."""

    positive: int = 0  # not Vietnamese as typed, a Vietnamese syllable of 3+ letters once converted
    weak: int = 0  # the same for a 2-letter word ("Tæ" -> "Tổ"), easily a coincidence ("µm")
    negative: int = 0  # holds legacy characters but is no Vietnamese syllable once converted
    neutral: int = 0  # a syllable either way (or a single letter)
    unicode: bool = False  # holds characters no legacy byte produces: Unicode already

    def add(self, other: _Evidence) -> None:
        self.positive += other.positive
        self.weak += other.weak
        self.negative += other.negative
        self.neutral += other.neutral


@lru_cache(maxsize=65536)
def _word_evidence(token: str, encoding: str) -> str:
    """'positive', 'weak', 'negative' or 'neutral': what one word says about encoding."""
    decoded = _DECODERS[encoding](token)
    if not _is_syllable(decoded):
        return "negative"
    if len(decoded) < 2 or not any(ch.isascii() for ch in token) or _is_syllable(token):
        return "neutral"
    return "positive" if len(decoded) >= 3 else "weak"


def _evidence(text: str, encoding: str) -> _Evidence:
    ev = _Evidence()
    if text.isascii():
        return ev
    if not _byte_like(text):
        ev.unicode = True
        return ev
    legacy = _LEGACY_CHARS[encoding]
    for match in _TOKEN[encoding].finditer(text):
        token = match.group()
        if any(ch in legacy for ch in token):
            kind = _word_evidence(token, encoding)
            setattr(ev, kind, getattr(ev, kind) + 1)
    return ev


def _decide(totals: dict[str, _Evidence]) -> str | None:
    # An encoding wins when most words it touches become Vietnamese and the other does worse.
    def score(ev: _Evidence) -> int:
        return ev.positive + ev.weak - ev.negative

    plausible = [
        enc
        for enc, ev in totals.items()
        if (ev.positive >= 1 or ev.weak >= 2) and ev.negative * 4 <= ev.positive + ev.weak
    ]
    if not plausible:
        return None
    plausible.sort(key=lambda enc: score(totals[enc]), reverse=True)
    if len(plausible) > 1 and score(totals[plausible[0]]) == score(totals[plausible[1]]):
        return None
    return plausible[0]


def detect(text: str) -> str | None:
    """The legacy encoding text was typed in ("tcvn3" or "vni"), or None for Unicode, ASCII or doubt."""
    if not isinstance(text, str):
        return None
    text = unicodedata.normalize("NFC", text)
    return _decide({enc: _evidence(text, enc) for enc in ENCODINGS})


def detect_many(texts: Iterable[object]) -> str | None:
    """The legacy encoding of a whole column or sheet (non-text cells are skipped), or None."""
    totals = {enc: _Evidence() for enc in ENCODINGS}
    for text in texts:
        if not isinstance(text, str) or text.isascii():
            continue
        text = unicodedata.normalize("NFC", text)
        for enc in ENCODINGS:
            totals[enc].add(_evidence(text, enc))
    return _decide(totals)


def _case_counts(token: str) -> tuple[int, int]:
    upper = sum(1 for ch in token if (ch.isascii() and ch.isupper()) or ch in _TCVN3_UPPER_CODES)
    lower = sum(1 for ch in token if (ch.isascii() and ch.islower()) or ch in _TCVN3_LOWER_CODES)
    return upper, lower


def _starts_with_tone_code(token: str) -> bool:
    """True when a TCVN3 word starts with a toned letter, whose case the encoding does not record."""
    first = token[0]
    return first in _TCVN3_DECODE and first not in _TCVN3_UPPER_CODES and first not in _TCVN3_LOWER_CODES


def convert(text: str, encoding: str, *, caps: bool = False) -> str:
    """Text typed in encoding ("tcvn3" or "vni") as Unicode NFC.

    Text holding characters the encoding cannot produce is Unicode already and comes back as it is
    (in NFC). TCVN3 has no capitals with tones, so their case is guessed: a word (or the whole text)
    written in capitals gets capitals, and a word starting with a toned letter gets a capital when
    its neighbour has one ("Hoµng ¸nh" -> "Hoàng Ánh"). caps=True forces capitals, for cells in a
    ".VnTimeH"-style font, which draws every letter as a capital.
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown legacy encoding: {encoding!r}")
    text = unicodedata.normalize("NFC", text)
    if text.isascii() or not _byte_like(text):
        return text
    decode = _DECODERS[encoding]
    tokens = [match.group() for match in _TOKEN[encoding].finditer(text)]
    words = [decode(token) for token in tokens]
    if encoding == TCVN3:
        words = _tcvn3_case(tokens, words, caps)
    replacements = iter(words)
    return unicodedata.normalize("NFC", _TOKEN[encoding].sub(lambda _match: next(replacements), text))


def _tcvn3_case(tokens: list[str], words: list[str], caps: bool) -> list[str]:
    """Decoded TCVN3 words with capitals put back where the encoding lost them."""
    counts = [_case_counts(token) for token in tokens]
    all_caps = caps or (
        sum(upper for upper, _lower in counts) >= 2
        and not any(lower for _upper, lower in counts)
        and any(upper >= 2 for upper, _lower in counts)
    )
    initials = [_case_counts(token[0]) for token in tokens]
    initials = [True if upper else False if lower else None for upper, lower in initials]
    result = []
    for i, (token, word, (upper, lower)) in enumerate(zip(tokens, words, counts)):
        if all_caps or (upper >= 2 and lower == 0):
            word = word.upper()
        elif _starts_with_tone_code(token):
            # Follow the next word that shows its case ("¸nh S¸ng" -> "Ánh Sáng"), else the previous.
            after = next((case for case in initials[i + 1 :] if case is not None), None)
            before = next((case for case in reversed(initials[:i]) if case is not None), None)
            if after if after is not None else before:
                word = word[:1].upper() + word[1:]
        result.append(word)
    return result


def fix(text: str) -> str:
    """Text in Unicode NFC: converted when it was clearly typed in TCVN3 or VNI, else unchanged."""
    encoding = detect(text)
    if encoding is None:
        return unicodedata.normalize("NFC", text)
    return convert(text, encoding)


def fix_many(texts: Iterable[object]) -> list:
    """A column's values with legacy text converted, the encoding decided on the whole column.

    Non-text values and Unicode cells pass through. A cell that reads as Vietnamese either way
    (such as "Tâm") is converted only when no cell of the column is plainly Unicode Vietnamese.
    """
    values = list(texts)
    encoding = detect_many(values)
    if encoding is None:
        return [unicodedata.normalize("NFC", v) if isinstance(v, str) else v for v in values]
    mixed = any(isinstance(v, str) and _VIETNAMESE_UNICODE.search(unicodedata.normalize("NFC", v)) for v in values)
    fixed = []
    for value in values:
        if not isinstance(value, str):
            fixed.append(value)
            continue
        ev = _evidence(unicodedata.normalize("NFC", value), encoding)
        # Odd words (a highland name such as "Cu«r KNia") follow their column; only a cell that
        # reads as Vietnamese as it stands, in a column that also holds Unicode, is left alone.
        if ev.unicode or (mixed and not (ev.positive or ev.weak or ev.negative)):
            fixed.append(unicodedata.normalize("NFC", value))
        else:
            fixed.append(convert(value, encoding))
    return fixed


def encode(text: str, encoding: str) -> str:
    """Unicode text as it would arrive typed in encoding (the inverse of convert, for tests and samples).

    TCVN3 loses the case of capitals with tones; characters the encoding lacks are kept as they are.
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown legacy encoding: {encoding!r}")
    table = _TCVN3_ENCODE if encoding == TCVN3 else _VNI_ENCODE
    return "".join(table.get(ch, ch) for ch in unicodedata.normalize("NFC", text))