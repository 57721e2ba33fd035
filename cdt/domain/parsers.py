"""How typed text becomes a stored value: dates, months, whole numbers, phones, words, codes, free text.

Each parser accepts what people type — Vietnamese or English words, dd/mm/yyyy or ISO dates, phone
numbers with spaces or +84, numbers as Excel gives them — and returns one canonical form, or raises
ValueError with a Vietnamese (or English) sentence that says what is wrong. The rules of
``rules.py`` are built from these parsers and the constants beside them; the merge calls the same
parsers as SQL functions, so a value the commands refuse is refused in a pack too.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, datetime
from typing import Any

from cdt.core.errors import InvalidInput
from cdt.core.i18n import t
from cdt.core.text import clean, fold, has_control_chars
from cdt.domain.kinds import KIND_WORDS, kinds_text

# Lengths of stored text: names and short texts, titles (a training's topic, its organiser), codes
# and numbers (a founding decision's number, a target's indicator), household codes, free text.
MAX_NAME = 120
MAX_TITLE = 200
MAX_CODE = 60
MAX_HOUSEHOLD = 30
MAX_SERVICE_CODE = 30
MAX_TEXT = 500
# No date before this year is accepted (typing 1026 for 2026 is the usual slip).
EARLIEST_DATE_YEAR = 1945

ROLES = ("leader", "deputy", "member")
GENDERS = ("male", "female")
TRAINING_MODES = ("in_person", "online", "onetouch", "bdhvs")
TEAM_STATUSES = ("active", "dissolved")

# What people type (folded: no case, no diacritics) → the stored code.
ROLE_WORDS = {
    "leader": "leader", "to truong": "leader", "truong": "leader", "tt": "leader",
    "deputy": "deputy", "to pho": "deputy", "pho": "deputy", "tp": "deputy",
    "member": "member", "thanh vien": "member", "tv": "member",
}
GENDER_WORDS = {"male": "male", "m": "male", "nam": "male", "female": "female", "f": "female", "nu": "female"}
MODE_WORDS = {
    "in_person": "in_person", "in person": "in_person", "truc tiep": "in_person",
    "online": "online", "truc tuyen": "online",
    "onetouch": "onetouch", "one touch": "onetouch",
    "bdhvs": "bdhvs", "binh dan hoc vu so": "bdhvs",
}
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")
_HOUSEHOLD = re.compile(rf"^[0-9A-Za-z][0-9A-Za-z._/-]{{0,{MAX_HOUSEHOLD - 1}}}$")
_PHONE_STRIP = re.compile(r"[\s.\-()]")
_SERVICE_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def blank(value: Any) -> bool:
    """None or text with nothing but spaces: a field left empty."""
    return value is None or (isinstance(value, str) and not value.strip())


# -- dates ------------------------------------------------------------------------------------------


def parse_date(value: Any, *, not_future: bool = False) -> str | None:
    """A date typed as dd/mm/yyyy, yyyy-mm-dd (or an Excel date) → ISO text; None stays None."""
    if blank(value):
        return None
    if isinstance(value, datetime):
        parsed = value.date()
    elif isinstance(value, date):
        parsed = value
    else:
        text = clean(str(value))
        parsed = None
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt).date()
                break
            except ValueError:
                continue
        if parsed is None:
            raise ValueError(_why_not_a_date(text))
    if parsed.year < EARLIEST_DATE_YEAR:
        raise ValueError(t("input.date_too_old", value=parsed.strftime("%d/%m/%Y")))
    if not_future and parsed > date.today():
        raise ValueError(t("input.date_future", value=parsed.strftime("%d/%m/%Y")))
    return parsed.isoformat()


def _why_not_a_date(text: str) -> str:
    """What is wrong with a date that does not parse: a day the month lacks, a 13th month, or the form."""
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text) or None
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
        if not match:
            return t("input.bad_date", value=text)
        year, month, day = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        return t("input.bad_month_number", value=text, month=month)
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        return t("input.bad_day", value=text, month=month, year=year, days=days)
    return t("input.bad_date", value=text)


def parse_month(value: str) -> tuple[int, int]:
    """'2026-10' or '10/2026' → (2026, 10)."""
    text = clean(value or "")
    for pattern in (r"^(\d{4})-(\d{1,2})$", r"^(\d{1,2})/(\d{4})$"):
        match = re.match(pattern, text)
        if match:
            a, b = match.groups()
            year, month = (int(a), int(b)) if len(a) == 4 else (int(b), int(a))
            if 1 <= month <= 12 and EARLIEST_DATE_YEAR <= year <= 9999:
                return year, month
    raise InvalidInput("input.bad_month", value=text)


def display_date(iso: str | None) -> str:
    """An ISO date as people read it: '2026-10-05' → '05/10/2026' ('' for none)."""
    return date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else ""


# -- numbers ----------------------------------------------------------------------------------------


_WHOLE = re.compile(r"[+-]?\d+")
_GROUPED = re.compile(r"\d{1,3}(?:[.,]\d{3})+")  # 1.200 is twelve hundred in Vietnamese writing
_DECIMAL = re.compile(r"[+-]?\d+[.,]\d+")


def parse_whole(value: Any) -> int:
    """A whole number as typed or read from Excel; '2.5' is refused, never read as 25."""
    if isinstance(value, bool):
        raise ValueError(t("input.not_number", value=value))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or not value.is_integer():
            raise ValueError(t("input.not_whole", value=value))
        return int(value)
    text = clean(str(value)).replace(" ", "")
    if _WHOLE.fullmatch(text):
        return int(text)
    if _GROUPED.fullmatch(text):
        return int(re.sub(r"[.,]", "", text))
    if _DECIMAL.fullmatch(text):
        number = float(text.replace(",", "."))
        if number.is_integer():
            return int(number)
        raise ValueError(t("input.not_whole", value=text))
    raise ValueError(t("input.not_number", value=text))


def parse_whole_in(value: Any, low: int, high: int, *, required: bool = False) -> int | None:
    """A whole number between low and high (both included); empty is None unless required."""
    if blank(value):
        if required:
            raise ValueError(t("input.empty"))
        return None
    number = parse_whole(value)
    if not low <= number <= high:
        raise ValueError(t("input.out_of_range", value=number, low=low, high=high))
    return number


def parse_amount(value: Any) -> float:
    """A non-negative number, whole or not ('12,5' is twelve and a half): a target's value."""
    try:
        number = float(str(value).replace(",", ".")) if value is not None else None
    except ValueError:
        number = None
    if number is None or number != number or number in (float("inf"), float("-inf")):
        raise ValueError(t("input.not_number", value=value))
    if number < 0:
        raise ValueError(t("input.negative", value=value))
    return number


def plain_number(value: float) -> str:
    """A number as a clerk writes it: 12 for 12.0, 12,5 for 12.5."""
    return str(int(value)) if float(value).is_integer() else str(value).replace(".", ",")


# -- text and words ---------------------------------------------------------------------------------


def parse_text(value: Any, *, required: bool, limit: int = MAX_NAME) -> str | None:
    """Text as stored: NFC, single spaces, trimmed, no control or invisible characters, at most limit."""
    if value is None:
        if required:
            raise ValueError(t("input.empty"))
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    raw = str(value)
    if any("\ud800" <= ch <= "\udfff" for ch in raw):
        # A byte the command line could not read as UTF-8 (Python keeps it as a lone surrogate):
        # text typed in an old encoding, not a control character.
        raise ValueError(t("input.not_utf8"))
    if has_control_chars(raw):
        raise ValueError(t("input.control_chars"))
    text = clean(raw)
    if not text:
        if required:
            raise ValueError(t("input.empty"))
        return None
    if len(text) > limit:
        raise ValueError(t("input.too_long", limit=limit))
    return text


def _word(value: Any, words: dict[str, str], message: str, allowed: str) -> str | None:
    if blank(value):
        return None
    code = words.get(fold(str(value)))
    if code is None:
        raise ValueError(t(message, value=clean(str(value)), allowed=allowed))
    return code


def parse_role(value: Any) -> str | None:
    """'tổ trưởng', 'TT', 'leader' → 'leader'."""
    return _word(value, ROLE_WORDS, "input.bad_role", t("choices.role"))


def parse_gender(value: Any) -> str | None:
    """'nữ', 'F', 'female' → 'female'."""
    return _word(value, GENDER_WORDS, "input.bad_gender", t("choices.gender"))


def parse_mode(value: Any) -> str | None:
    """'trực tuyến', 'online' → 'online'."""
    return _word(value, MODE_WORDS, "input.bad_mode", t("choices.mode"))


def parse_kind(value: Any) -> str | None:
    """A hamlet kind as typed ('buon', 'Plơi', 'TỔ DÂN PHỐ') → the stored kind ('buôn', 'plei', 'tổ dân phố')."""
    return _word(value, KIND_WORDS, "input.bad_kind", kinds_text())


def parse_service_code(value: Any) -> str:
    """A provincial service's code: lower-case letters, digits, '-' and '_' ('C-Thái Nguyên' → 'c-thai-nguyen')."""
    text = fold(parse_text(value, required=True, limit=MAX_SERVICE_CODE)).replace(" ", "-")
    if not _SERVICE_CODE.match(text):
        raise ValueError(t("input.bad_service_code", value=value))
    return text


# -- phones, household codes and personal numbers -----------------------------------------------------


def normalise_phone(value: Any) -> str | None:
    """A Vietnamese phone number → '0xxxxxxxxx'; accepts spaces, dots, +84, and Excel's lost 0."""
    if blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _PHONE_STRIP.sub("", clean(str(value)))
    if text.startswith("+84"):
        text = "0" + text[3:]
    elif text.startswith("84") and len(text) == 11:
        text = "0" + text[2:]
    elif text.isdigit() and len(text) == 9 and text[0] in "35789":
        text = "0" + text  # a number typed into Excel loses its leading zero
    mobile = len(text) == 10 and text[0] == "0" and text[1] in "35789"
    landline = len(text) == 11 and text.startswith("02")
    if not text.isdigit() or not (mobile or landline):
        raise ValueError(t("input.bad_phone", value=str(value)))
    return text


# A date written with / . or - between day, month and year: not a personal number (12/10/2026).
_DATE_LIKE = re.compile(r"(?<!\d)\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})(?!\d)")
_ID_WORD = re.compile(r"\b(?:cccd|cmnd|cmt|can cuoc|chung minh)\W{0,3}\d", re.IGNORECASE)


def _ascii_digits(text: str) -> str:
    """NFKC (full-width ０９１２ → 0912), then every decimal digit of any script as an ASCII digit."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)


def _digit_runs(text: str) -> list[list[str]]:
    """Runs of digit groups: digits joined by separators (any character that is no letter, no digit and
    no line break, at most three in a row). Each run is its list of groups."""
    runs: list[list[str]] = []
    groups: list[str] = []
    digits, gap = "", 0
    for ch in text + "\n":
        if ch.isdigit():
            if not digits and groups and gap > 3:
                runs.append(groups)
                groups = []
            digits += ch
            gap = 0
            continue
        if digits:
            groups.append(digits)
            digits = ""
        if ch.isalpha() or ch in "\n\r" or not groups:
            if groups:
                runs.append(groups)
            groups, gap = [], 0
        else:
            gap += 1
    return runs


def _number_kind(digits: str, plus: bool = False) -> str | None:
    if plus or (digits.startswith("84") and len(digits) in (11, 12)):
        digits = "0" + digits[2:]
    if len(digits) == 10 and re.match(r"0[35789]", digits) or len(digits) == 11 and digits.startswith("02"):
        return "phone"
    if len(digits) in (9, 12):
        return "id"
    return None


def personal_number(text: str | None) -> str | None:
    """'phone' or 'id' when text holds a phone number or a 9- or 12-digit ID number, else None.

    Digits of any script count (full-width, Arabic-Indic…), with any separators between groups of
    digits ("0912 345 678", "0912,345,678", "0912–345–678", "001.203.004.567"), +84/84 for the
    leading 0, a CCCD/CMND prefix. A whole run of groups is tested, and so is each stretch of
    neighbouring groups of two digits or more (a number written after another: "3, 0912 345 678").
    Dates (12/10/2026) are not numbers here. Free text and household codes must never carry these
    (Law 91/2025)."""
    if not text:
        return None
    if _ID_WORD.search(fold(text)):
        return "id"
    normal = _DATE_LIKE.sub(" ", _ascii_digits(text))
    for groups in _digit_runs(normal):
        whole = _number_kind("".join(groups), plus="+84" in normal and groups[0].startswith("84"))
        if whole:
            return whole
        for first in range(len(groups)):
            for last in range(first, len(groups)):
                if len(groups[last]) < 2:
                    break
                found = _number_kind("".join(groups[first:last + 1]))
                if found and not (first == 0 and last == len(groups) - 1):
                    return found
    return None


def parse_household(value: Any) -> str:
    """A household register code; refuses names, phone numbers and numbers shaped like citizen IDs."""
    text = parse_text(value, required=True, limit=MAX_HOUSEHOLD)
    if not _HOUSEHOLD.match(text):
        raise ValueError(t("input.bad_household", value=text))
    kind = personal_number(text)
    if kind == "id":
        raise ValueError(t("input.household_looks_like_id", value=text))
    if kind == "phone":
        raise ValueError(t("input.household_has_phone", value=text))
    return text.upper()


def parse_notes(value: Any) -> str | None:
    """Free-text notes of a visit: no phone or ID numbers in them (they travel upward)."""
    text = parse_text(value, required=False, limit=MAX_TEXT)
    kind = personal_number(text)
    if kind:
        raise ValueError(t(f"input.notes_has_{kind}", value=text))
    return text
