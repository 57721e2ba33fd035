"""The input models: what a clerk may type for each record, each field checked by its rule in ``rules.py``.

Commands and the spreadsheet import validate through these models alone; every field's check is
the Python form of the rule the merge runs as SQL on incoming rows, so both refuse the same values.
Messages are Vietnamese by default.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from cdt.core.errors import InvalidInput
from cdt.core.i18n import t
from cdt.domain.parsers import parse_date, parse_role
from cdt.domain.rules import check_target, value_check


def label(field: str) -> str:
    """The field's name as a clerk reads it ('households' -> 'số hộ')."""
    return t(f"field.{field}")


def choice_label(kind: str, code: str | None) -> str:
    """A stored code shown in the current language ('leader' -> 'tổ trưởng')."""
    return t(f"{kind}.{code}") if code else ""


def _field(table: str, column: str, *fields: str):
    """A pydantic 'before' validator running the rule of table.column on the field(s)."""
    return field_validator(*(fields or (column,)), mode="before")(value_check(table, column))


class Record(BaseModel):
    """Base of input models: unknown fields are refused, values are parsed before typing."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class HamletIn(Record):
    name: str
    kind: str
    households: Optional[int] = None
    working_age: Optional[int] = None

    _name = _field("hamlet", "name")
    _kind = _field("hamlet", "kind")
    _households = _field("hamlet", "households")
    _working = _field("hamlet", "working_age")


class TeamIn(Record):
    hamlet_id: str
    decision_number: Optional[str] = None
    decision_date: Optional[str] = None
    founded_on: Optional[str] = None

    _number = _field("team", "decision_number")
    _decided = _field("team", "decision_date")
    _founded = _field("team", "founded_on")


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

    _name = _field("member", "full_name")
    # An empty role is a plain member; a typed one goes through the role rule.
    _role = field_validator("role", mode="before")(lambda v: parse_role(v) or "member")
    _gender = _field("member", "gender")
    _birth = _field("member", "birth_year")
    _phone = _field("member", "phone")
    _affiliation = _field("member", "affiliation")
    _joined = _field("member", "joined_on")
    _left = _field("member", "left_on")


class TrainingIn(Record):
    topic: str
    date: str
    organiser: Optional[str] = None
    mode: Optional[str] = None

    _topic = _field("training", "topic")
    _date = _field("training", "date")
    _organiser = _field("training", "organiser")
    _mode = _field("training", "mode")


class VisitIn(Record):
    date: str
    team_id: str
    household: str
    people: int
    services: list[str]
    members: list[str] = []
    notes: Optional[str] = None

    # A visit typed without a date happened today.
    _date = field_validator("date", mode="before")(
        lambda v: parse_date(v, not_future=True) or date.today().isoformat())
    _household = _field("visit", "household")
    _people = _field("visit", "people")
    _notes = _field("visit", "notes")
    _services = field_validator("services")(value_check("visit", "services"))


class ServiceIn(Record):
    code: str
    name: str
    aliases: list[str] = []

    _code = _field("service", "code")
    _name = _field("service", "name")
    _aliases = _field("service", "aliases")


class TargetIn(Record):
    indicator: str
    year: int
    value: float
    percent: bool = False

    _indicator = _field("target", "indicator")
    _year = _field("target", "year")
    _value = _field("target", "value")

    @model_validator(mode="after")
    def _whole_target(self) -> "TargetIn":
        check_target(self.indicator, self.value, self.percent)
        return self


# Which table each input model writes (the rules' table names): a test walks every field of every
# model and finds its rule there.
MODEL_TABLES: dict[type[Record], str] = {
    HamletIn: "hamlet", TeamIn: "team", MemberIn: "member", TrainingIn: "training", VisitIn: "visit",
    ServiceIn: "service", TargetIn: "target",
}


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
    point at the column of each problem. A rule across the record's fields (a target's percent)
    raises its own InvalidInput, which passes through as it is."""
    try:
        return model(**data)
    except ValidationError as error:
        found = problems(error)
        detail = "; ".join(f"{field}: {message}" if field else message for field, message in found)
        invalid = InvalidInput("input.invalid", detail=detail)
        invalid.fields = [(str(item["loc"][0]) if item.get("loc") else "", message)
                          for item, (_, message) in zip(error.errors(), found)]
        raise invalid from None
