"""Importing a clerk's workbook into the commune's file: every row through the register's own actions.

The workbook is read by intake.sheets (safety checks, header row, legacy text). Every row is
validated with the models and team rules the commands use, inside one write transaction that is
rolled back unless every row is valid (or the clerk asked for the valid rows only): all or nothing,
and a re-import matches what is already there (domain.sameness) instead of adding it twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from pydantic import ValidationError

from cdt.core.errors import Ambiguous, CdtError, FileRefused, NotFound
from cdt.core.i18n import t
from cdt.core.text import clean, display_date, fold
from cdt.domain import sameness
from cdt.domain.rules import active_team, require_commune
from cdt.domain.kinds import HAMLET_KINDS, kind_pattern, split_kind
from cdt.domain.models import HamletIn, MemberIn, TeamIn, TrainingIn, problems
from cdt.domain.parsers import parse_kind, parse_role
from cdt.intake import old_encodings as legacy
from cdt.intake.headers import HAMLET, MEMBER, TEAM, TRAINING, VISIT, header_words
from cdt.intake.sheets import Sheet, blank, column_letter, read_sheets
from cdt.intake.template import TEMPLATE_COLUMNS
from cdt.register import lookup, records
from cdt.store import Store
from cdt.core.rows import ref_of

# A visit model's fields → the visits sheet's columns, to point at each problem's cell.
_VISIT_COLUMNS = {"members": "visitors"}

_ROLE_PREFIXES = (("to truong", "leader"), ("truong to", "leader"), ("to pho", "deputy"), ("pho to", "deputy"),
                  ("to vien", "member"), ("thanh vien", "member"), ("uy vien", "member"))
_FOOTER = ("tong cong", "tong so", "cong", "nguoi lap", "nguoi lap bieu", "xac nhan", "ky ten", "tm ",
           "chu tich", "truong ban", "thu truong", "can bo", "ngay thang")
_COLUMN_NUMBERS = re.compile(r"^\(?[0-9]{1,2}\)?$|^\([a-z0-9]{1,2}\)$")
_NAME_SPLIT = re.compile(r"[;\n,]+")
# Hamlet kinds as words in titles and group rows, built from kinds.HAMLET_KINDS (every region's
# words: thôn, buôn, ấp, khóm, phum, sóc, tổ dân phố, …), longest first so "tổ dân phố" beats "tổ".
_KIND_WORDS = kind_pattern()
_TITLE_HAMLET = re.compile(rf"\b({_KIND_WORDS})\s+([^\s,;:()–—-][^,;:()–—]*)", re.IGNORECASE)

KIND_LABELS = {HAMLET: "import.kind.hamlet", TEAM: "import.kind.team", MEMBER: "import.kind.member",
               TRAINING: "import.kind.training", VISIT: "import.kind.visit"}


# -- results ---------------------------------------------------------------------------------------


@dataclass
class Problem:
    """One thing wrong in one cell (or row) of the workbook."""

    sheet: str
    row: int
    column: str  # the column letter ("" when the whole row is meant)
    header: str  # the header text the clerk wrote, or the template's label
    message: str

    def as_dict(self) -> dict:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "header": self.header,
                "message": self.message}


@dataclass
class SheetCount:
    """What became of one sheet's rows: every row read is exactly one of new, already present (by the
    register's sameness rule; the record is named), updated (a re-import with changed fields), or a problem."""

    sheet: str
    kind: str
    header_row: int
    rows: int = 0
    new: int = 0
    present: int = 0
    updated: int = 0
    problems: int = 0
    present_records: list[dict] = field(default_factory=list)  # {"row": n, "record": "name [ref]"}
    updated_rows: list[int] = field(default_factory=list)

    @property
    def adds_up(self) -> bool:
        return self.new + self.present + self.updated + self.problems == self.rows

    def as_dict(self) -> dict:
        return {"sheet": self.sheet, "kind": self.kind, "header_row": self.header_row, "rows": self.rows,
                "new": self.new, "present": self.present, "updated": self.updated, "problems": self.problems,
                "adds_up": self.adds_up, "present_records": self.present_records,
                "updated_rows": self.updated_rows}


@dataclass
class ImportResult:
    """The outcome of reading a workbook: counts per sheet, rows created per table, every problem."""

    path: str
    dry_run: bool
    only_valid: bool
    sheets: list[SheetCount] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=lambda: {
        "hamlet": 0, "team": 0, "member": 0, "training": 0, "training_attendance": 0, "visit": 0})
    updated: dict[str, int] = field(default_factory=lambda: {
        "hamlet": 0, "team": 0, "member": 0, "training": 0, "visit": 0})
    problems: list[Problem] = field(default_factory=list)
    skipped_sheets: list[str] = field(default_factory=list)
    converted: list[str] = field(default_factory=list)  # "sheet: column (tcvn3)"
    written: bool = False

    @property
    def blocked(self) -> bool:
        """True when problems stop the import (nothing is written unless --only-valid)."""
        return bool(self.problems) and not self.only_valid

    def totals(self) -> dict[str, int]:
        """Rows read in every sheet and what became of them (new + present + updated + problems = rows)."""
        return {name: sum(getattr(s, name) for s in self.sheets)
                for name in ("rows", "new", "present", "updated", "problems")}

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())

    def as_dict(self) -> dict:
        return {"file": self.path, "dry_run": self.dry_run, "only_valid": self.only_valid,
                "written": self.written, "blocked": self.blocked,
                "sheets": [s.as_dict() for s in self.sheets], "created": dict(self.created),
                "updated": dict(self.updated), "totals": self.totals(),
                "problems": [p.as_dict() for p in self.problems], "skipped_sheets": self.skipped_sheets,
                "converted": self.converted}


class _Rollback(Exception):
    """Raised inside the write transaction to undo it (dry run, or problems without --only-valid)."""


# -- values ----------------------------------------------------------------------------------------


def _excel_date(value: Any) -> Any:
    """A date Excel kept as a serial number (cell formatted as number) becomes a date."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 20000 <= value <= 80000:
        return (datetime(1899, 12, 30) + timedelta(days=int(value))).date()
    if isinstance(value, datetime):
        return value.date()
    return value


def _birth_year(value: Any) -> Any:
    value = _excel_date(value) if not (isinstance(value, (int, float)) and value < 3000) else value
    if isinstance(value, date):
        return value.year
    if isinstance(value, str):
        match = re.fullmatch(r"\s*\d{1,2}[/.-]\d{1,2}[/.-](\d{4})\s*", value)
        if match:
            return match.group(1)
    return value


def _role(value: Any) -> tuple[Any, Any]:
    """A role cell → (role, affiliation when the cell names a position rather than a team role)."""
    if blank(value):
        return None, None
    words = fold(str(value))
    for prefix, code in _ROLE_PREFIXES:
        if words.startswith(prefix):
            return code, None
    return value, None


def _position(value: Any) -> tuple[Any, Any]:
    if blank(value):
        return None, None
    role, _ = _role(value)
    if role in ("leader", "deputy", "member"):
        return role, None
    try:
        if parse_role(value):
            return value, None
    except ValueError:
        pass
    return None, value


def _is_footer(values: dict[str, Any]) -> bool:
    texts = [str(v) for v in values.values() if not blank(v)]
    if len(texts) != 1:
        return False
    words = fold(texts[0])
    return any(words.startswith(f) for f in _FOOTER)


def _column_numbers(row: tuple) -> bool:
    cells = [str(v).strip() for v in row if not blank(v)]
    return bool(cells) and all(_COLUMN_NUMBERS.match(c.lower()) or (isinstance(v, (int, float)))
                               for c, v in zip(cells, [v for v in row if not blank(v)])) and len(cells) >= 3


def _split_gender(values: dict) -> None:
    """Fold the 'Nam' | 'Nữ' sub-columns into gender and, when they hold one, the birth year."""
    male, female = values.pop("_male", None), values.pop("_female", None)
    for cell, gender in ((male, "male"), (female, "female")):
        if blank(cell):
            continue
        values.setdefault("gender", gender)
        if blank(values.get("gender")):
            values["gender"] = gender
        text = str(cell).strip()
        if not isinstance(cell, str) or re.search(r"\d{4}", text):
            if blank(values.get("birth_year")):
                values["birth_year"] = cell


# -- the import ------------------------------------------------------------------------------------


class _RowFailed(Exception):
    """A row broke a rule: its problems are recorded and its savepoint is rolled back."""


NEW, PRESENT, UPDATED = "new", "present", "updated"


class _Run:
    """One import inside the outer write transaction. Each row is written through the register's own
    functions (add_hamlet, add_team, add_member, add_training, attend, log_visit and their edit_*),
    each inside a nested write (a SAVEPOINT), so a row that breaks a rule leaves nothing behind and
    the rules and sameness tests are the commands' own, not a second copy."""

    def __init__(self, store: Store, result: ImportResult):
        self.store = store
        self.result = result
        self.hamlets = sameness.HamletIndex(store)
        self.row_created: dict[str, int] = {}
        self.row_updated: dict[str, int] = {}
        self.row_hamlets: list[dict] = []
        self.row_present: list[str] = []

    # problems --------------------------------------------------------------------------------------

    def problem(self, sheet: Sheet, row: int, name: str | None, message: str) -> None:
        col = sheet.columns.get(name) if name else None
        header = sheet.headers.get(name, "") if name else ""
        if name and not header:
            header = next((label for f, label, _ in TEMPLATE_COLUMNS.get(sheet.kind, []) if f == name), "")
        self.result.problems.append(Problem(sheet.title, row, column_letter(col) if col is not None else "", header, message))

    def fail(self, sheet: Sheet, row: int, name: str | None, message: str):
        self.problem(sheet, row, name, message)
        raise _RowFailed()

    def validation(self, sheet: Sheet, row: int, error: ValidationError, fields: dict[str, str]):
        for item, (label, message) in zip(error.errors(), problems(error)):
            model_field = str(item["loc"][0]) if item.get("loc") else ""
            self.problem(sheet, row, fields.get(model_field, model_field), message)
        raise _RowFailed()

    def created(self, table: str) -> None:
        self.row_created[table] = self.row_created.get(table, 0) + 1

    def updated(self, table: str) -> None:
        self.row_updated[table] = self.row_updated.get(table, 0) + 1

    def present(self, table: str, row: dict, label: str) -> None:
        self.row_present.append(f"{label} [{ref_of(row['id'])}]")

    # hamlets and teams -----------------------------------------------------------------------------

    def find_hamlet(self, sheet: Sheet, row: int, name: str) -> dict | None:
        """The hamlet named, by the register's sameness rule; a spelling that differs only by
        diacritics from a known hamlet is a problem that names both (never silently one place)."""
        try:
            found = self.hamlets.same(name)
        except Ambiguous as error:
            self.fail(sheet, row, "hamlet", error.message)
        if found:
            return found
        alike = self.hamlets.spelled_alike(name)
        if alike:
            self.fail(sheet, row, "hamlet", t("import.hamlet_spelling", name=clean(name), other=alike[0]["name"]))
        return None

    def hamlet(self, sheet: Sheet, row: int, values: dict) -> tuple[dict, str]:
        """The row's hamlet, created when new: (hamlet, new | present | updated)."""
        name = values.get("hamlet")
        if blank(name):
            self.fail(sheet, row, "hamlet", t("import.no_hamlet"))
        found = self.find_hamlet(sheet, row, str(name))
        kind = values.get("kind")
        if found:
            changes = {}
            if sheet.kind == HAMLET:
                given = {"kind": None if blank(kind) else kind, "households": values.get("households"),
                         "working_age": values.get("working_age")}
                data = self.check(sheet, row, HamletIn, {"name": "hamlet"}, name=found["name"],
                                  **{k: (v if not blank(v) else found[k]) for k, v in given.items()})
                changes = {k: getattr(data, k) for k, v in given.items()
                           if not blank(v) and getattr(data, k) != found[k]}
            if not changes:
                return found, PRESENT
            edited = self.call(sheet, row, records.edit_hamlet, self.store, found["id"], **changes)
            self.hamlets.discard(found)
            self.hamlets.add(edited)
            self.updated("hamlet")
            return edited, UPDATED
        if blank(kind):
            kind = split_kind(str(name))[0] or "thôn"
        data = self.check(sheet, row, HamletIn, {"name": "hamlet"}, name=name, kind=kind,
                          households=values.get("households"), working_age=values.get("working_age"))
        made = self.call(sheet, row, records.add_hamlet, self.store, data.name, data.kind, data.households,
                         data.working_age, hamlets=self.hamlets)
        self.hamlets.add(made)
        self.row_hamlets.append(made)
        self.created("hamlet")
        return made, NEW

    def team(self, sheet: Sheet, row: int, hamlet: dict, values: dict) -> tuple[dict, str]:
        """The hamlet's active team, founded when there is none: (team, new | present | updated)."""
        given = {"decision_number": values.get("decision_number"),
                 "decision_date": _excel_date(values.get("decision_date")),
                 "founded_on": _excel_date(values.get("founded_on"))}
        data = self.check(sheet, row, TeamIn, {}, hamlet_id=hamlet["id"], **given)
        team = active_team(self.store, hamlet["id"])
        if team is not None:
            changes = {k: getattr(data, k) for k, v in given.items()
                       if sheet.kind == TEAM and not blank(v) and getattr(data, k) != team[k]}
            if not changes:
                return team, PRESENT
            edited = self.call(sheet, row, records.edit_team, self.store, team, **changes)
            self.updated("team")
            return edited, UPDATED
        made = self.call(sheet, row, records.add_team, self.store, hamlet, data.decision_number,
                         data.decision_date, data.founded_on)
        self.created("team")
        return made, NEW

    def check(self, sheet: Sheet, row: int, model, where: dict[str, str], **fields):
        """Validate fields with the commands' model; each wrong cell becomes a problem."""
        try:
            return model(**fields)
        except ValidationError as error:
            self.validation(sheet, row, error, where)

    def call(self, sheet: Sheet, row: int, function: Callable, *args, column: Callable[[CdtError], str | None]
             = lambda error: None, **kwargs):
        """A register function (nested write); its refusal becomes a problem of this row."""
        try:
            return function(*args, **kwargs)
        except CdtError as error:
            for model_field, message in getattr(error, "fields", ()):  # one problem a column
                self.problem(sheet, row, _VISIT_COLUMNS.get(model_field, model_field or None), message)
            if not getattr(error, "fields", None):
                self.problem(sheet, row, column(error), error.message)
            raise _RowFailed() from None

    # rows -------------------------------------------------------------------------------------------

    def hamlet_row(self, sheet: Sheet, row: int, values: dict) -> str:
        kind = values.get("kind") or split_kind(str(values.get("hamlet") or ""))[0] or "thôn"
        # checked even when the hamlet exists, so a wrong cell is reported either way
        self.check(sheet, row, HamletIn, {"name": "hamlet"}, name=values.get("hamlet"), kind=kind,
                   households=values.get("households"), working_age=values.get("working_age"))
        hamlet, outcome = self.hamlet(sheet, row, values)
        if outcome == PRESENT:
            self.present("hamlet", hamlet, hamlet["name"])
        return outcome

    def team_row(self, sheet: Sheet, row: int, values: dict) -> str:
        self.check(sheet, row, TeamIn, {}, hamlet_id="-", decision_number=values.get("decision_number"),
                   decision_date=_excel_date(values.get("decision_date")),
                   founded_on=_excel_date(values.get("founded_on")))
        hamlet, _ = self.hamlet(sheet, row, values)
        team, outcome = self.team(sheet, row, hamlet, values)
        if outcome == PRESENT:
            self.present("team", team, hamlet["name"])
        return outcome

    def member_row(self, sheet: Sheet, row: int, values: dict) -> str:
        role, affiliation = _role(values.get("role"))
        if "position" in values:
            p_role, p_affiliation = _position(values.get("position"))
            role = role or p_role
            affiliation = affiliation or p_affiliation
        fields = {
            "full_name": values.get("full_name"), "role": role, "gender": values.get("gender"),
            "birth_year": _birth_year(values.get("birth_year")), "phone": values.get("phone"),
            "affiliation": values.get("affiliation") if not blank(values.get("affiliation")) else affiliation,
            "joined_on": _excel_date(values.get("joined_on")),
        }
        where = {"role": "role" if "role" in sheet.columns else "position",
                 "affiliation": "affiliation" if "affiliation" in sheet.columns else "position"}
        data = self.check(sheet, row, MemberIn, where, team_id="-", **fields)
        if blank(values.get("hamlet")):
            # A list without any hamlet, in a commune with a single team, is that team's list.
            active = [t_ for t_ in self.store.rows("team") if t_["status"] == "active"]
            if len(active) == 1:
                values["hamlet"] = self.store.get("hamlet", active[0]["hamlet_id"])["name"]
        hamlet, _ = self.hamlet(sheet, row, values)
        team, _ = self.team(sheet, row, hamlet, values)
        given = [k for k in ("gender", "birth_year", "phone", "role", "affiliation", "joined_on") if not blank(fields[k])]
        column = lambda error: where["role"] if error.key == "member.second_leader" else "full_name"
        existing = sameness.same_member(self.store, team["id"], data.full_name, data.birth_year, data.phone)
        if existing:
            changes = {k: getattr(data, k) for k in given if getattr(data, k) != existing[k]}
            if not changes:
                self.present("member", existing, f"{existing['full_name']} — {hamlet['name']}")
                return PRESENT
            self.call(sheet, row, records.edit_member, self.store, existing, column=column, **changes)
            self.updated("member")
            return UPDATED
        self.call(sheet, row, records.add_member, self.store, data.full_name, team, column=column,
                  **{k: getattr(data, k) for k in given})
        self.created("member")
        return NEW

    def find_member(self, text: str) -> tuple[dict | None, str | None]:
        """An attendee as the commands find one (lookup.find_member), within the hamlet in brackets."""
        text = clean(text)
        team_id = None
        match = re.fullmatch(r"(.+?)\s*(?:\((.+)\)|[-–—]\s*(.+))", text)
        if match:
            text, hamlet_name = match.group(1), match.group(2) or match.group(3)
            try:
                hamlet = self.hamlets.same(hamlet_name) or lookup.find_hamlet(self.store, hamlet_name)
                teams = self.store.rows("team", hamlet_id=hamlet["id"])
                team_id = next((t_["id"] for t_ in teams if t_["status"] == "active"), teams[0]["id"] if teams else "-")
            except CdtError:
                team_id = "-"
        try:
            return lookup.find_member(self.store, text, team_id=team_id), None
        except Ambiguous as error:
            return None, t("import.attendee_ambiguous", name=text, count=len(error.candidates))
        except NotFound:
            return None, t("import.attendee_not_found", name=text)

    def training_row(self, sheet: Sheet, row: int, values: dict) -> str:
        data = self.check(sheet, row, TrainingIn, {}, topic=values.get("topic"), date=_excel_date(values.get("date")),
                          organiser=values.get("organiser"), mode=values.get("mode"))
        names: list[str] = []
        column = "attendees"
        if not blank(values.get("attendees")):
            names = [n for n in (clean(p) for p in _NAME_SPLIT.split(str(values["attendees"]))) if n]
        elif not blank(values.get("full_name")):
            column = "full_name"
            name = clean(str(values["full_name"]))
            names = [f"{name} ({clean(str(values['hamlet']))})" if not blank(values.get("hamlet")) else name]
        members = []
        for name in names:
            member, message = self.find_member(name)
            if message:
                self.problem(sheet, row, column, message)
            else:
                members.append(member)
        if len(members) < len(names):
            raise _RowFailed()
        session = sameness.same_training(self.store, data.topic, data.date)
        outcome = PRESENT
        if session is None:
            session = self.call(sheet, row, records.add_training, self.store, data.topic, data.date, data.organiser,
                                data.mode)
            self.created("training")
            outcome = NEW
        else:
            changes = {k: getattr(data, k) for k in ("organiser", "mode")
                       if not blank(values.get(k)) and getattr(data, k) != session[k]}
            # A changed organiser or mode goes through the register's edit_training.
            if changes:
                session = self.call(sheet, row, records.edit_training, self.store, session["id"], **changes)
                self.updated("training")
                outcome = UPDATED
        new = [m for m in members if not sameness.same_attendance(self.store, session["id"], m["id"])]
        if new:
            self.call(sheet, row, records.attend, self.store, session, new, column=lambda e: column)
            self.row_created["training_attendance"] = self.row_created.get("training_attendance", 0) + len(new)
            if outcome == PRESENT:
                outcome = NEW
        if outcome == PRESENT:
            self.present("training", session, f"{session['topic']} ({display_date(session['date'])})")
        return outcome

    def visit_row(self, sheet: Sheet, row: int, values: dict) -> str:
        name = values.get("hamlet")
        hamlet = None if blank(name) else self.find_hamlet(sheet, row, str(name))
        teams = [team for team in [active_team(self.store, hamlet["id"])] if team] if hamlet else []
        if not teams:
            self.fail(sheet, row, "hamlet", t("import.no_hamlet") if blank(name)
                      else t("import.team_not_found", name=clean(str(name))))
        split = lambda v: [] if blank(v) else [n for n in (clean(p) for p in _NAME_SPLIT.split(str(v))) if n]
        fields = {"when": _excel_date(values.get("date")), "household": values.get("household"),
                  "people": values.get("people"), "services": split(values.get("services")),
                  "members": split(values.get("visitors")), "notes": values.get("notes")}
        if fields["when"] is None:
            self.fail(sheet, row, "date", t("input.empty"))

        def column(error: CdtError) -> str | None:
            key = getattr(error, "key", "")
            return ("services" if key.startswith("service.")
                    else "visitors" if key.startswith(("member.", "visit.member_"))
                    else "date" if key.startswith("visit.") and not key.startswith("visit.duplicate") else None)

        values_ = self.call(sheet, row, records.new_visit_values, self.store, teams[0],
                            {**{k: v for k, v in fields.items() if k != "when"}, "date": fields["when"]},
                            column=column)
        existing = sameness.same_visit(self.store, values_)
        if existing is None:
            self.call(sheet, row, records.record_visit, self.store, values_, column=column)
            self.created("visit")
            return NEW
        changes = {}
        if values_["people"] != existing["people"]:
            changes["people"] = values_["people"]
        if fields["notes"] is not None and values_["notes"] != existing["notes"]:
            changes["notes"] = values_["notes"]
        if fields["members"] and values_["members"] != existing["members"]:
            changes["members"] = fields["members"]
        if not changes:
            self.present("visit", existing, f"{existing['household']} {display_date(existing['date'])}")
            return PRESENT
        self.call(sheet, row, records.edit_visit, self.store, existing["id"], column=column, **changes)
        self.updated("visit")
        return UPDATED

    # sheets -----------------------------------------------------------------------------------------

    def row(self, sheet: Sheet, handler: Callable, number: int, values: dict, count: "SheetCount") -> None:
        """One row in its own savepoint: it ends as new, present, updated or a problem (exactly one)."""
        self.row_created, self.row_updated, self.row_hamlets, self.row_present = {}, {}, [], []
        try:
            with self.store.write():
                outcome = handler(sheet, number, values)
        except _RowFailed:
            outcome = None
        except CdtError as error:  # a rule the row breaks that the handler did not foresee
            self.problem(sheet, number, None, error.message)
            outcome = None
        if outcome is None:
            count.problems += 1
            for hamlet in self.row_hamlets:
                self.hamlets.discard(hamlet)
            return
        for table, n in self.row_created.items():
            self.result.created[table] = self.result.created.get(table, 0) + n
        for table, n in self.row_updated.items():
            self.result.updated[table] = self.result.updated.get(table, 0) + n
        setattr(count, outcome, getattr(count, outcome) + 1)
        if outcome == PRESENT:
            count.present_records.append({"row": number, "record": "; ".join(self.row_present)})
        elif outcome == UPDATED:
            count.updated_rows.append(number)

    def sheet(self, sheet: Sheet) -> None:
        count = SheetCount(sheet.title, sheet.kind, sheet.header_row)
        self.result.sheets.append(count)
        handler: Callable = {HAMLET: self.hamlet_row, TEAM: self.team_row, MEMBER: self.member_row,
                             TRAINING: self.training_row, VISIT: self.visit_row}[sheet.kind]
        fallback_hamlet = _title_hamlet(sheet)
        if _no_hamlet_column(self.store, sheet):
            # One problem for the sheet, naming the headers read; every row counts as a problem.
            self.result.problems.append(Problem(sheet.title, sheet.header_row, "", "", t(
                "import.no_hamlet_column", sheet=sheet.title, headers=_headers_read(sheet))))
            count.rows = count.problems = sum(
                1 for _, row in sheet.rows if not all(blank(v) for v in row) and not _column_numbers(row))
            return
        carried: dict[str, Any] = {}
        carry: tuple[str, ...] = ()
        if sheet.kind == MEMBER:
            carry = ("hamlet", "kind", "decision_number", "decision_date", "founded_on")
        elif sheet.kind == TRAINING and "full_name" in sheet.columns:
            carry = ("topic", "date", "organiser", "mode")
        elif sheet.kind == VISIT:
            carry = ("hamlet",)
        decision = _title_decision(sheet) if sheet.kind in (MEMBER, TEAM) else None
        header = header_words(sheet.headers.get("hamlet", ""))
        # A column headed "Tổ" names the team (tổ CNSCĐ) far more often than the kind "tổ": never the kind.
        column_kind = next((k for k in HAMLET_KINDS if fold(k) == header and k != "tổ"), None)
        address = header in ("dia chi", "noi o", "thon noi o", "dia chi thon xom")
        for number, row in sheet.rows:
            values = {name: (row[col] if col < len(row) else None) for name, col in sheet.columns.items()
                      if name != "_skip"}
            group = _group_hamlet(row) if sheet.kind == MEMBER else None
            if group and all(blank(values.get(f)) for f in ("phone", "role", "position", "birth_year", "gender",
                                                             "affiliation")):
                # A group row ("II. XÓM ĐỒNG KIM" across the table) names the hamlet of the rows below it.
                carried["hamlet"] = group
                continue
            if all(blank(v) for v in values.values()) or _column_numbers(row) or _is_footer(values):
                continue
            if "_male" in values:
                _split_gender(values)
            if not blank(values.get("surname")) and not blank(values.get("full_name")):
                values["full_name"] = f"{clean(str(values['surname']))} {clean(str(values['full_name']))}"
            if sheet.kind == MEMBER and blank(values.get("full_name")) and not any(
                    not blank(values.get(f)) for f in ("phone", "role", "position", "birth_year", "gender")):
                # A group row ("Thôn Na Mao" across the table) names the hamlet of the rows below it.
                if not blank(values.get("hamlet")):
                    carried["hamlet"] = values["hamlet"]
                continue
            for name in carry:
                if name in values and not blank(values[name]):
                    carried[name] = values[name]
                elif name in carried and (name in sheet.columns or name == "hamlet"):
                    values[name] = carried[name]
            if address and isinstance(values.get("hamlet"), str):
                values["hamlet"] = re.split(r"[,;]|\s-\s", values["hamlet"])[0]  # "Xóm Đồng Kim, xã Minh Tiến"
            if not blank(values.get("hamlet")) and column_kind and not split_kind(str(values["hamlet"]))[0]:
                # Under a header "Xóm", a cell "Đồng Kim" is Xóm Đồng Kim.
                values["hamlet"] = f"{column_kind[0].upper()}{column_kind[1:]} {clean(str(values['hamlet']))}"
                values.setdefault("kind", column_kind)
            if sheet.kind == MEMBER and blank(values.get("hamlet")) and fallback_hamlet:
                values["hamlet"] = fallback_hamlet
            if decision and blank(values.get("decision_number")) and blank(values.get("decision_date")):
                values["decision_number"], values["decision_date"] = decision
            count.rows += 1
            self.row(sheet, handler, number, values, count)


_TITLE_DECISION = re.compile(
    r"quyết định\s*(?:số)?\s*:?\s*([0-9][0-9A-Za-zĐđ/.\-]*)\s*,?\s*ngày\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})",
    re.IGNORECASE,
)


def _title_decision(sheet: Sheet) -> tuple[str, str] | None:
    """The founding decision a title row cites ('Kèm theo Quyết định số 45/QĐ-UBND ngày 10/6/2022')."""
    for text in sheet.titles:
        match = _TITLE_DECISION.search(text)
        if match:
            number, day, month, year = match.groups()
            return number.rstrip(".,"), f"{int(day):02d}/{int(month):02d}/{year}"
    return None


_GROUP = re.compile(r"^\s*(?:[IVXLC]+|\d{1,3}|[a-zA-Z])?\s*[.):\-]?\s*(?:tổ\s+cnscđ\s+)?"
                    rf"({_KIND_WORDS})\s+(\S.{{0,60}})$", re.IGNORECASE)


def _hamlet_name(kind: str, rest: str) -> str:
    """'XÓM', 'ĐỒNG KIM' → 'Xóm Đồng Kim': the kind spelled as in the list, a name in capitals title-cased."""
    canonical = parse_kind(kind) or kind.lower()
    rest = re.split(r"\s+[-–]?\s*(?:xã|phường|thị trấn|huyện|tỉnh|năm)\s", f"{clean(rest)} ", flags=re.IGNORECASE)[0]
    words = [w.capitalize() if w.isupper() and len(w) > 1 and not any(c.isdigit() for c in w) else w
             for w in clean(rest).split()]
    return f"{canonical[0].upper()}{canonical[1:]} {' '.join(words)}"


def _group_hamlet(row: tuple) -> str | None:
    """The hamlet a group row names: one text cell such as 'II. XÓM ĐỒNG KIM' or 'Thôn Na Mao (4 người)'."""
    texts = [v for v in row if not blank(v)]
    if len(texts) != 1 or not isinstance(texts[0], str):
        return None
    text = re.sub(r"\([^)]*\)\s*$", "", clean(legacy.fix(texts[0]))).strip(" :")
    match = _GROUP.match(text)
    return _hamlet_name(match.group(1), match.group(2)) if match else None


def _title_hamlet(sheet: Sheet) -> str | None:
    """The hamlet named in a title row ('DANH SÁCH THÀNH VIÊN TỔ CNSCĐ THÔN NA MAO') or by the sheet."""
    for text in sheet.titles:
        match = _TITLE_HAMLET.search(text)
        if match:
            name = clean(match.group(2))
            if name and len(name) <= 60:
                return _hamlet_name(match.group(1), name)
    if sheet.kind == MEMBER and sheet.title and split_kind(sheet.title)[0]:
        return sheet.title
    return None


def _headers_read(sheet: Sheet) -> str:
    return ", ".join(f"'{text}'" for text in sheet.header_texts)


def _no_hamlet_column(store: Store, sheet: Sheet) -> bool:
    """True when a sheet's rows need a hamlet and nothing names one: no hamlet column, no hamlet in a
    title or a group row. (Even in a commune with a single team: a list that names no hamlet may be
    another commune's, and the clerk gets one line listing the headers read. Blank cells under a
    hamlet or address column of a single-team commune still go to that team.)"""
    if sheet.kind not in (MEMBER, TEAM, VISIT) or "hamlet" in sheet.columns or _title_hamlet(sheet):
        return False
    if any(_group_hamlet(row) for _, row in sheet.rows):
        return False
    return True


def import_workbook(store: Store, path: str | Path, *, dry_run: bool = False, only_valid: bool = False) -> ImportResult:
    """Read a clerk's workbook into this commune's file: all rows or none (or only the valid ones)."""
    require_commune(store)
    path = Path(path)
    sheets, skipped, converted = read_sheets(path)
    if not sheets:
        raise FileRefused("import.no_table", file=path.name)
    result = ImportResult(str(path), dry_run, only_valid, skipped_sheets=skipped, converted=converted)
    lost = [sheet for sheet in sheets if _no_hamlet_column(store, sheet)]
    if lost and len(lost) == len(sheets):
        # One line for the file, naming the headers read; its rows are not blamed one by one.
        raise FileRefused("import.no_hamlet_column", sheet=lost[0].title, headers=_headers_read(lost[0]))
    try:
        with store.write():
            run = _Run(store, result)
            for sheet in sheets:
                run.sheet(sheet)
            if dry_run or result.blocked or not result.changed:
                raise _Rollback()
            result.written = True
    except _Rollback:
        result.written = False
    return result


__all__ = ["ImportResult", "Problem", "SheetCount", "import_workbook", "KIND_LABELS"]
