"""The shape and rules of every record a clerk enters (commands and spreadsheet import alike).

Validators accept what people type — Vietnamese or English words, dd/mm/yyyy or ISO dates, phone
numbers with spaces or +84 — and store one canonical form. Messages are Vietnamese by default.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from cdt.core.errors import InvalidInput
from cdt.core.i18n import t
# The hamlet kinds live in the light module cdt.kinds (the CLI's help reads them without pydantic).
from cdt.domain.kinds import HAMLET_KINDS, KIND_SPELLINGS, KIND_WORDS, kind_label, kind_pattern, kinds_text, split_kind  # noqa: F401
from cdt.core.text import clean, fold, has_control_chars

MAX_NAME = 120
MAX_TEXT = 500

ROLES = ("leader", "deputy", "member")
GENDERS = ("male", "female")
TRAINING_MODES = ("in_person", "online", "onetouch", "bdhvs")
TEAM_STATUSES = ("active", "dissolved")

# What people type (folded: no case, no diacritics) → the stored code.
_ROLE_WORDS = {
    "leader": "leader", "to truong": "leader", "truong": "leader", "tt": "leader",
    "deputy": "deputy", "to pho": "deputy", "pho": "deputy", "tp": "deputy",
    "member": "member", "thanh vien": "member", "tv": "member",
}
_GENDER_WORDS = {"male": "male", "m": "male", "nam": "male", "female": "female", "f": "female", "nu": "female"}
_MODE_WORDS = {
    "in_person": "in_person", "in person": "in_person", "truc tiep": "in_person",
    "online": "online", "truc tuyen": "online",
    "onetouch": "onetouch", "one touch": "onetouch",
    "bdhvs": "bdhvs", "binh dan hoc vu so": "bdhvs",
}
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")
_HOUSEHOLD = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._/-]{0,29}$")
_PHONE_STRIP = re.compile(r"[\s.\-()]")


def label(field: str) -> str:
    """The field's name as a clerk reads it ('households' -> 'số hộ')."""
    return t(f"field.{field}")


def choice_label(kind: str, code: str | None) -> str:
    """A stored code shown in the current language ('leader' -> 'tổ trưởng')."""
    return t(f"{kind}.{code}") if code else ""


# -- parsing helpers (also used by the command layer for options like --date) ---------------------


def parse_date(value: Any, *, field: str = "date", not_future: bool = False) -> str | None:
    """A date typed as dd/mm/yyyy, yyyy-mm-dd (or an Excel date) → ISO text; None stays None."""
    if value is None or (isinstance(value, str) and not value.strip()):
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
    import calendar

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
            if 1 <= month <= 12 and 1945 <= year <= 9999:
                return year, month
    raise InvalidInput("input.bad_month", value=text)


def normalise_phone(value: Any) -> str | None:
    """A Vietnamese phone number → '0xxxxxxxxx'; accepts spaces, dots, +84, and Excel's lost 0."""
    if value is None or (isinstance(value, str) and not value.strip()):
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


def _word(value: Any, words: dict[str, str], message: str, allowed: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    code = words.get(fold(str(value)))
    if code is None:
        raise ValueError(t(message, value=clean(str(value)), allowed=allowed))
    return code


def parse_role(value: Any) -> str | None:
    return _word(value, _ROLE_WORDS, "input.bad_role", t("choices.role"))


def parse_gender(value: Any) -> str | None:
    return _word(value, _GENDER_WORDS, "input.bad_gender", t("choices.gender"))


def parse_mode(value: Any) -> str | None:
    return _word(value, _MODE_WORDS, "input.bad_mode", t("choices.mode"))


def parse_kind(value: Any) -> str | None:
    """A hamlet kind as typed ('buon', 'Plơi', 'TỔ DÂN PHỐ') → the stored kind ('buôn', 'plei', 'tổ dân phố')."""
    return _word(value, KIND_WORDS, "input.bad_kind", kinds_text())


def _text(value: Any, *, required: bool, limit: int = MAX_NAME) -> str | None:
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


def _int(value: Any, *, low: int, high: int, required: bool = False) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError(t("input.empty"))
        return None
    number = parse_whole(value)
    if not low <= number <= high:
        raise ValueError(t("input.out_of_range", value=number, low=low, high=high))
    return number


# Ranges of the numbers a clerk may enter. The validators below and the merge's checks of incoming
# rows (rules.py) read these same constants.
HOUSEHOLDS_RANGE = (0, 100_000)
WORKING_AGE_RANGE = (0, 500_000)
PEOPLE_RANGE = (1, 200)
BIRTH_YEAR_LOW = 1920
MIN_MEMBER_AGE = 10  # birth year at most this year - 10
TARGET_YEAR_RANGE = (2000, 2100)
EARLIEST_DATE_YEAR = 1945  # parse_date refuses earlier dates


class Record(BaseModel):
    """Base of input models: unknown fields are refused, values are parsed before typing."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class HamletIn(Record):
    name: str
    kind: str
    households: Optional[int] = None
    working_age: Optional[int] = None

    _name = field_validator("name", mode="before")(lambda v: _text(v, required=True))
    _kind = field_validator("kind", mode="before")(lambda v: parse_kind(v) or _text(v, required=True))
    _households = field_validator("households", mode="before")(lambda v: _int(v, low=HOUSEHOLDS_RANGE[0], high=HOUSEHOLDS_RANGE[1]))
    _working = field_validator("working_age", mode="before")(lambda v: _int(v, low=WORKING_AGE_RANGE[0], high=WORKING_AGE_RANGE[1]))


class TeamIn(Record):
    hamlet_id: str
    decision_number: Optional[str] = None
    decision_date: Optional[str] = None
    founded_on: Optional[str] = None

    _number = field_validator("decision_number", mode="before")(lambda v: _text(v, required=False, limit=60))
    _decided = field_validator("decision_date", mode="before")(
        lambda v: parse_date(v, field="decision_date", not_future=True)
    )
    _founded = field_validator("founded_on", mode="before")(lambda v: parse_date(v, not_future=True))


class MemberIn(Record):
    team_id: str
    full_name: str
    role: str = "member"
    gender: Optional[str] = None
    birth_year: Optional[int] = None
    phone: Optional[str] = None
    affiliation: Optional[str] = None
    joined_on: Optional[str] = None
    left_on: Optional[str] = None

    _name = field_validator("full_name", mode="before")(lambda v: _text(v, required=True))
    _role = field_validator("role", mode="before")(lambda v: parse_role(v) or "member")
    _gender = field_validator("gender", mode="before")(parse_gender)
    _birth = field_validator("birth_year", mode="before")(
        lambda v: _int(v, low=BIRTH_YEAR_LOW, high=date.today().year - MIN_MEMBER_AGE)
    )
    _phone = field_validator("phone", mode="before")(normalise_phone)
    _affiliation = field_validator("affiliation", mode="before")(lambda v: _text(v, required=False))
    _joined = field_validator("joined_on", mode="before")(lambda v: parse_date(v, not_future=True))
    _left = field_validator("left_on", mode="before")(lambda v: parse_date(v, not_future=True))


class TrainingIn(Record):
    topic: str
    date: str
    organiser: Optional[str] = None
    mode: Optional[str] = None

    _topic = field_validator("topic", mode="before")(lambda v: _text(v, required=True, limit=200))
    _date = field_validator("date", mode="before")(
        lambda v: parse_date(v, not_future=True) or _text(None, required=True)
    )
    _organiser = field_validator("organiser", mode="before")(lambda v: _text(v, required=False, limit=200))
    _mode = field_validator("mode", mode="before")(parse_mode)


# A run of digits as people write numbers: groups joined by one space, dot or dash ("0912 345 678",
# "001.234.567.890", "+84-912-345-678"). Dates written with "/" are not runs; 12.03.2026 is 8 digits.
# Digits in groups, as people write numbers: spaces, dots, dashes, slashes, brackets ("(0912) 345 678").
_DIGIT_RUN = re.compile(r"\+?\(?\d+\)?(?:[ .\-/]*\(?\d+\)?)*")
_ID_WORD = re.compile(r"\b(?:cccd|cmnd|cmt|can cuoc|chung minh)\W{0,3}\d", re.IGNORECASE)


def personal_number(text: str | None) -> str | None:
    """'phone' or 'id' when text holds a phone number or a 9- or 12-digit ID number, else None.

    Any common spelling counts: spaces, dots or dashes between groups, +84/84 for the leading 0,
    a CCCD/CMND prefix. Free text and household codes must never carry these (Law 91/2025)."""
    if not text:
        return None
    if _ID_WORD.search(fold(text)):
        return "id"
    for run in _DIGIT_RUN.findall(text):
        digits = re.sub(r"\D", "", run)
        if run.startswith("+84") or (digits.startswith("84") and len(digits) in (11, 12)):
            digits = "0" + digits[2:]
        if len(digits) == 10 and re.match(r"0[35789]", digits) or len(digits) == 11 and digits.startswith("02"):
            return "phone"
        if len(digits) in (9, 12):
            return "id"
    return None


def _no_personal_number(text: str | None, field: str) -> str | None:
    kind = personal_number(text)
    if kind:
        raise ValueError(t(f"input.{field}_has_{kind}", value=text))
    return text


def parse_household(value: Any) -> str:
    """A household register code; refuses names, phone numbers and numbers shaped like citizen IDs."""
    text = _text(value, required=True, limit=30)
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
    return _no_personal_number(_text(value, required=False, limit=MAX_TEXT), "notes")


class VisitIn(Record):
    date: str
    team_id: str
    household: str
    people: int
    services: list[str]
    members: list[str] = []
    notes: Optional[str] = None

    _date = field_validator("date", mode="before")(
        lambda v: parse_date(v, not_future=True) or date.today().isoformat()
    )
    _household = field_validator("household", mode="before")(parse_household)
    _people = field_validator("people", mode="before")(lambda v: _int(v, low=1, high=200, required=True))
    _notes = field_validator("notes", mode="before")(parse_notes)

    @field_validator("services")
    @classmethod
    def _services(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(t("input.no_service"))
        return sorted(set(value))


class ServiceIn(Record):
    code: str
    name: str
    aliases: list[str] = []

    @field_validator("code", mode="before")
    @classmethod
    def _code(cls, value: Any) -> str:
        text = fold(_text(value, required=True, limit=30)).replace(" ", "-")
        if not re.match(r"^[a-z0-9][a-z0-9_-]*$", text):
            raise ValueError(t("input.bad_service_code", value=value))
        return text

    _name = field_validator("name", mode="before")(lambda v: _text(v, required=True))

    @field_validator("aliases", mode="before")
    @classmethod
    def _aliases(cls, value: Any) -> list[str]:
        return [a for a in (_text(v, required=False) for v in (value or [])) if a]


class TargetIn(Record):
    indicator: str
    year: int
    value: float
    percent: bool = False

    _indicator = field_validator("indicator", mode="before")(lambda v: _text(v, required=True, limit=60))
    _year = field_validator("year", mode="before")(lambda v: _int(v, low=TARGET_YEAR_RANGE[0], high=TARGET_YEAR_RANGE[1], required=True))

    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, value: Any) -> float:
        try:
            number = float(str(value).replace(",", ".")) if value is not None else None
        except ValueError:
            number = None
        if number is None or number != number or number in (float("inf"), float("-inf")):
            raise ValueError(t("input.not_number", value=value))
        if number < 0:
            raise ValueError(t("input.negative", value=value))
        return number

    @model_validator(mode="after")
    def _whole_count(self) -> "TargetIn":
        if not self.percent and not self.value.is_integer():
            raise ValueError(t("input.count_not_whole", value=_plain_number(self.value)))
        return self


def _plain_number(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value).replace(".", ",")


def problems(error: ValidationError) -> list[tuple[str, str]]:
    """A pydantic error as (field label, Vietnamese message) pairs."""
    found = []
    for item in error.errors():
        field = str(item["loc"][0]) if item.get("loc") else ""
        original = (item.get("ctx") or {}).get("error")
        if isinstance(original, Exception):
            message = str(original)
        elif item.get("type") == "missing":
            message = t("input.empty")
        elif item.get("type") == "extra_forbidden":
            message = t("input.unknown_field")
        else:
            message = t("input.invalid_value")
        found.append((label(field) if field else "", message))
    return found


def validate(model: type[Record], **data: Any) -> Record:
    """Build a model or raise InvalidInput with one line: 'field: message; field: message'.

    The error also carries ``fields``: (model field, message) pairs, so a spreadsheet import can
    point at the column of each problem."""
    try:
        return model(**data)
    except ValidationError as error:
        found = problems(error)
        detail = "; ".join(f"{field}: {message}" if field else message for field, message in found)
        invalid = InvalidInput("input.invalid", detail=detail)
        invalid.fields = [(str(item["loc"][0]) if item.get("loc") else "", message)
                          for item, (_, message) in zip(error.errors(), found)]
        raise invalid from None
