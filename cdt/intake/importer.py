"""Clerks' spreadsheets in: the import template, and reading hamlets, teams, members and trainings.

A workbook is untrusted (DESIGN.md §7): ``check_xlsx`` looks at the zip before openpyxl reads a byte,
then openpyxl opens it read-only with row and column caps. Each sheet's header row is found below
any title rows and its columns are mapped by name (Vietnamese variants, with or without diacritics,
any order); legacy TCVN3/VNI text is converted column by column. Every row is validated with the
models and team rules the commands use, inside one write transaction that is rolled back unless
every row is valid (or the clerk asked for the valid rows only): all or nothing, and a re-import
matches what is already there instead of adding it twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from pydantic import ValidationError

from cdt.intake import old_encodings as legacy
from cdt.register import records as register
from cdt.core.errors import Ambiguous, CdtError, FileRefused, InvalidInput, NotFound, os_reason
from cdt.core.i18n import t
from cdt.domain.kinds import kind_pattern
from cdt.domain.kinds import HAMLET_KINDS
from cdt.domain.models import HamletIn, MemberIn, TeamIn, TrainingIn, problems
from cdt.domain.parsers import parse_kind, parse_role
from cdt.store import Store, ref_of
from cdt.core.text import clean, fold

MAX_ROWS = 20_000
MAX_COLUMNS = 100
_HEADER_SCAN = 30  # title rows above the header: a clerk's form rarely has more than a handful

HAMLET, TEAM, MEMBER, TRAINING, VISIT = "hamlet", "team", "member", "training", "visit"
# A visit model's fields → the visits sheet's columns, to point at each problem's cell.
_VISIT_COLUMNS = {"members": "visitors"}
KINDS = (HAMLET, TEAM, MEMBER, TRAINING, VISIT)

# The template's sheets (also what the instructions name).
SHEET_TITLES = {HAMLET: "Thôn xóm", TEAM: "Tổ CNSCĐ", MEMBER: "Thành viên", TRAINING: "Tập huấn",
                VISIT: "Lượt hỗ trợ"}
_SKIPPED_SHEETS = {"huong dan", "danh muc", "instructions", "lists"}

# Header words (folded, punctuation as spaces) → field. "position" is a generic "Chức vụ":
# a team role when it reads as one, else the member's affiliation (clerks write "Trưởng thôn").
_HEADERS: dict[str, tuple[str, ...]] = {
    "hamlet": (
        "thon", "xom", "ban", "ap", "lang", "thon xom", "ten thon", "ten xom", "ten thon xom", "ten ban",
        "thon ban", "thon xom ban", "thon to dan pho", "thon xom to dan pho", "ten thon to dan pho",
        "to dan pho", "ten to dan pho", "khu pho", "dia ban", "dia ban thon", "thuoc thon", "thuoc thon xom",
        "hamlet", "hamlet name", "to cnscd", "to cnscd thon", "to cnscd thon xom", "ten to", "to",
        "to cong nghe so cong dong", "thon noi o", "dia chi", "dia chi thon xom", "noi o",
    ),
    "kind": ("loai", "loai thon", "loai dia ban", "phan loai", "kind", "hamlet kind"),
    "households": ("so ho", "tong so ho", "so ho dan", "so ho gia dinh", "households"),
    "working_age": (
        "so nguoi trong do tuoi lao dong", "dan so trong do tuoi lao dong", "do tuoi lao dong",
        "so nguoi do tuoi lao dong", "nguoi trong do tuoi lao dong", "so nguoi tuoi lao dong", "working age",
        "dan so do tuoi lao dong", "lao dong",
    ),
    "decision_number": (
        "so quyet dinh", "quyet dinh so", "so qd", "qd so", "so quyet dinh thanh lap", "quyet dinh thanh lap",
        "qd thanh lap", "so qd thanh lap", "so qd thanh lap to", "so quyet dinh thanh lap to", "decision",
        "decision number",
    ),
    "decision_date": (
        "ngay quyet dinh", "ngay qd", "ngay ky quyet dinh", "ngay ky qd", "ngay ban hanh", "ngay ban hanh qd",
        "ngay quyet dinh thanh lap", "ngay qd thanh lap", "decision date", "decided on",
    ),
    "founded_on": ("ngay thanh lap", "ngay thanh lap to", "thanh lap ngay", "founded", "founded on"),
    "surname": ("ho", "ho dem", "ho va ten dem", "ho va dem", "ho va chu dem", "ho chu dem", "ho lot"),
    "full_name": (
        "ho va ten", "ho ten", "ho va ten thanh vien", "ho ten thanh vien", "ten thanh vien", "full name",
        "name", "thanh vien", "ho va ten thanh vien to", "ho ten thanh vien to", "ten",
    ),
    "role": (
        "chuc vu trong to", "vai tro", "vai tro trong to", "nhiem vu", "nhiem vu trong to", "chuc danh trong to",
        "role", "chuc vu trong to cnscd", "vi tri trong to",
    ),
    "position": ("chuc vu", "chuc danh", "chuc vu chuc danh"),
    "gender": ("gioi tinh", "gioi", "gender", "sex", "nam nu"),
    "birth_year": ("nam sinh", "ngay sinh", "ngay thang nam sinh", "birth year", "year of birth", "sinh nam"),
    "phone": (
        "so dien thoai", "dien thoai", "so dt", "sdt", "dt", "phone", "dien thoai lien he", "so dien thoai lien he",
        "dtdd", "so dtdd", "di dong", "so di dong", "dien thoai di dong",
    ),
    "affiliation": (
        "don vi cong tac", "don vi", "co quan", "co quan don vi", "noi cong tac", "to chuc", "doan the",
        "affiliation", "thanh phan", "chuc vu don vi cong tac", "co quan cong tac", "nghe nghiep",
        "chuc vu tai dia phuong", "chuc vu o thon",
    ),
    "joined_on": ("ngay tham gia", "ngay vao to", "tham gia tu ngay", "joined", "joined on", "ngay tham gia to"),
    "topic": (
        "noi dung tap huan", "chu de", "chu de tap huan", "ten lop tap huan", "lop tap huan", "noi dung", "topic",
        "ten lop", "khoa tap huan", "ten khoa tap huan", "noi dung boi duong",
    ),
    "date": ("ngay tap huan", "ngay", "ngay ho tro", "ngay thang", "thoi gian", "thoi gian tap huan", "date", "ngay to chuc", "ngay hoc"),
    "organiser": ("don vi to chuc", "to chuc boi", "organiser", "organizer", "co quan to chuc", "don vi chu tri"),
    "mode": ("hinh thuc", "hinh thuc tap huan", "mode", "hinh thuc to chuc"),
    "attendees": (
        "nguoi tham du", "thanh vien tham du", "danh sach tham du", "attendees", "nguoi tham gia",
        "thanh vien tham gia", "nguoi du", "hoc vien",
    ),
    "household": ("ma ho", "ma ho gia dinh", "ma so ho", "so ho khau", "ma ho dan", "household", "ho so"),
    "people": ("so nguoi", "so nguoi duoc ho tro", "so nguoi ho tro", "so luot nguoi", "people", "so nguoi duoc huong dan"),
    "services": ("dich vu", "dich vu ho tro", "noi dung ho tro", "dich vu nen tang", "nen tang", "ung dung",
                 "services", "service", "noi dung huong dan", "dich vu duoc ho tro"),
    "visitors": ("thanh vien ho tro", "nguoi ho tro", "thanh vien di ho tro", "thanh vien thuc hien", "members",
                 "nguoi thuc hien", "can bo ho tro"),
    "notes": ("ghi chu", "note", "notes"),
    "_skip": ("stt", "tt", "so tt", "so thu tu", "email"),
}
_HEADER_MAP = {variant: name for name, variants in _HEADERS.items() for variant in variants}
_PREFIXES = sorted((v for v in _HEADER_MAP if len(v) >= 5), key=len, reverse=True)

# The label each field carries in the template (and in problems when the sheet had no header for it).
TEMPLATE_COLUMNS: dict[str, list[tuple[str, str, int]]] = {
    HAMLET: [("hamlet", "Tên thôn/xóm", 24), ("kind", "Loại", 14), ("households", "Số hộ", 10),
             ("working_age", "Số người trong độ tuổi lao động", 18)],
    TEAM: [("hamlet", "Thôn/xóm", 24), ("decision_number", "Số quyết định thành lập", 22),
           ("decision_date", "Ngày quyết định", 16), ("founded_on", "Ngày thành lập", 16)],
    MEMBER: [("hamlet", "Thôn/xóm", 22), ("full_name", "Họ và tên", 26), ("role", "Chức vụ trong tổ", 16),
             ("gender", "Giới tính", 10), ("birth_year", "Năm sinh", 10), ("phone", "Số điện thoại", 15),
             ("affiliation", "Đơn vị công tác", 24), ("joined_on", "Ngày tham gia", 14)],
    TRAINING: [("topic", "Nội dung tập huấn", 36), ("date", "Ngày tập huấn", 14), ("organiser", "Đơn vị tổ chức", 24),
               ("mode", "Hình thức", 14), ("attendees", "Người tham dự", 48)],
    VISIT: [("date", "Ngày hỗ trợ", 14), ("hamlet", "Tổ (thôn/xóm)", 22), ("household", "Mã hộ", 12),
            ("people", "Số người được hỗ trợ", 12), ("services", "Dịch vụ", 36),
            ("visitors", "Thành viên hỗ trợ", 36), ("notes", "Ghi chú", 30)],
}

AFFILIATIONS = (
    "Trưởng thôn/xóm", "Bí thư chi bộ", "Đoàn Thanh niên", "Hội Phụ nữ", "Hội Nông dân", "Hội Cựu chiến binh",
    "Công an xã", "Viettel", "VNPT", "Tình nguyện viên", "Giáo viên",
)
_ROLE_CHOICES = ("Tổ trưởng", "Tổ phó", "Thành viên")
_GENDER_CHOICES = ("Nam", "Nữ")
_MODE_CHOICES = ("Trực tiếp", "Trực tuyến", "OneTouch", "Bình dân học vụ số")
_ROLE_PREFIXES = (("to truong", "leader"), ("truong to", "leader"), ("to pho", "deputy"), ("pho to", "deputy"),
                  ("to vien", "member"), ("thanh vien", "member"), ("uy vien", "member"))
_FOOTER = ("tong cong", "tong so", "cong", "nguoi lap", "nguoi lap bieu", "xac nhan", "ky ten", "tm ",
           "chu tich", "truong ban", "thu truong", "can bo", "ngay thang")
_COLUMN_NUMBERS = re.compile(r"^\(?[0-9]{1,2}\)?$|^\([a-z0-9]{1,2}\)$")
_NAME_SPLIT = re.compile(r"[;\n,]+")
# Hamlet kinds as words in titles and group rows, built from models.HAMLET_KINDS (every region's
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


# -- headers ---------------------------------------------------------------------------------------


def _header_words(value: Any) -> str:
    text = re.sub(r"\([^)]*\)", " ", str(value))  # "Số ĐT (10 số)" → "Số ĐT"
    text = fold(text).replace("&", " ")
    text = re.sub(r"[^0-9a-z]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def header_field(value: Any) -> str | None:
    """The field a header cell names ('Họ và tên', 'HO TEN', 'Số ĐT' …), or None."""
    return _header_match(value)[0]


def _kind_header_words() -> tuple[str, ...]:
    # Keyed by the tuple: models.HAMLET_KINDS is the one list (other regions' kinds are added there).
    return _kind_header_words_of(HAMLET_KINDS)


@lru_cache(maxsize=4)
def _kind_header_words_of(kinds: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({_header_words(k) for k in kinds} | {"tdp"}, key=len, reverse=True))


_KIND_HEADER_LEAD = ("ten", "thuoc", "dia ban", "to cnscd", "don vi", "danh sach")


def _is_kind_header(words: str) -> bool:
    """A header made of hamlet kinds alone, one or several: 'Thôn/Buôn', 'Khóm/Ấp', 'Bản',
    'Tên thôn, buôn, tổ dân phố', 'Thôn hoặc làng' (folded, punctuation as spaces)."""
    for lead in _KIND_HEADER_LEAD:
        if words.startswith(lead + " "):
            words = words[len(lead) + 1:]
            break
    kinds = _kind_header_words()
    rest, found = words, 0
    while rest:
        for kind in kinds:
            if rest == kind or rest.startswith(kind + " "):
                rest, found = rest[len(kind):].strip(), found + 1
                break
        else:
            if rest.split(" ")[0] in ("va", "hoac"):
                rest = rest.partition(" ")[2]
                continue
            return False
    return found > 0


def _header_match(value: Any) -> tuple[str | None, str]:
    """(field, the header as Unicode text) for a header cell, legacy-encoded headers included."""
    if not isinstance(value, str) or not value.strip() or len(value) > 80:
        return None, ""
    for text in _header_candidates(value):
        words = _header_words(text)
        if not words:
            continue
        if words in _HEADER_MAP:
            return _HEADER_MAP[words], clean(text)
        if _is_kind_header(words):
            return "hamlet", clean(text)
        for prefix in _PREFIXES:
            if words.startswith(prefix + " ") and len(words.split()) - len(prefix.split()) <= 4:
                return _HEADER_MAP[prefix], clean(text)
    return None, ""


def _header_candidates(value: str) -> list[str]:
    found = [value]
    if not value.isascii():
        for encoding in legacy.ENCODINGS:
            try:
                found.append(legacy.convert(value, encoding))
            except ValueError:
                pass
    return found


def _sheet_kind(fields: set[str]) -> str | None:
    if "household" in fields and fields & {"people", "services"}:
        return VISIT
    if "topic" in fields and ("date" in fields or "attendees" in fields or "full_name" in fields):
        return TRAINING
    if "full_name" in fields:
        return MEMBER
    if "hamlet" in fields and fields & {"decision_number", "decision_date", "founded_on"}:
        return TEAM
    if "hamlet" in fields and fields & {"kind", "households", "working_age"}:
        return HAMLET
    return None


@dataclass
class _Sheet:
    title: str
    kind: str
    header_row: int  # 1-based
    columns: dict[str, int]  # field → 0-based column index
    headers: dict[str, str]  # field → header text as written
    rows: list[tuple[int, tuple]]  # (1-based row number, values)
    titles: list[str]  # text of the rows above the header
    header_texts: list[str] = field(default_factory=list)  # every cell of the header row, as written


_MEMBER_FIELDS = {"surname", "role", "position", "gender", "birth_year", "phone", "affiliation", "joined_on"}


def _bare_name_is_hamlet(columns: dict[str, int], headers: dict[str, str]) -> None:
    """A bare 'Tên' beside 'Loại' and 'Số hộ' (and nothing about people) names the hamlet."""
    if ("full_name" in columns and "hamlet" not in columns and _header_words(headers["full_name"]) in ("ten", "name")
            and not set(columns) & _MEMBER_FIELDS and set(columns) & {"kind", "households", "working_age"}):
        columns["hamlet"] = columns.pop("full_name")
        headers["hamlet"] = headers.pop("full_name")


def _gender_subheader(row: tuple, columns: dict[str, int], headers: dict[str, str]) -> int:
    """Under 'Năm sinh' (or 'Giới tính'), sub-columns 'Nam' | 'Nữ' hold the year (or an x) in the person's column.

    Returns how many rows to skip (1 when this sub-header row is there, else 0).
    """
    found = {fold(str(v)).strip(): col for col, v in enumerate(row) if isinstance(v, str)}
    if "nam" not in found or "nu" not in found:
        return 0
    for name in ("birth_year", "gender"):
        if columns.get(name) in (found["nam"], found["nu"]):
            columns.pop(name)
            headers.pop(name, None)
    columns["_male"], columns["_female"] = found["nam"], found["nu"]
    headers["_male"], headers["_female"] = "Nam", "Nữ"
    return 1


def _split_gender(values: dict) -> None:
    """Fold the 'Nam' | 'Nữ' sub-columns into gender and, when they hold one, the birth year."""
    male, female = values.pop("_male", None), values.pop("_female", None)
    for cell, gender in ((male, "male"), (female, "female")):
        if _blank(cell):
            continue
        values.setdefault("gender", gender)
        if _blank(values.get("gender")):
            values["gender"] = gender
        text = str(cell).strip()
        if not isinstance(cell, str) or re.search(r"\d{4}", text):
            if _blank(values.get("birth_year")):
                values["birth_year"] = cell


def _find_header(rows: list[tuple]) -> tuple[int, dict[str, int], dict[str, str]] | None:
    best = None
    for index, row in enumerate(rows[:_HEADER_SCAN]):
        columns: dict[str, int] = {}
        headers: dict[str, str] = {}
        for col, value in enumerate(row):
            name, text = _header_match(value)
            if name and name not in columns:
                columns[name] = col
                headers[name] = text
        _bare_name_is_hamlet(columns, headers)
        if "hamlet" not in columns and "affiliation" in columns and _header_words(headers["affiliation"]) == "don vi":
            # A bare "Đơn vị" beside names and no other hamlet column is the unit (đơn vị cấp thôn).
            columns["hamlet"] = columns.pop("affiliation")
            headers["hamlet"] = headers.pop("affiliation")
        real = {k for k in columns if k != "_skip"}
        kind = _sheet_kind(real)
        if kind and (best is None or len(real) > len(best[1]) - ("_skip" in best[1])):
            best = (index, columns, headers)
    return best


# -- reading the workbook --------------------------------------------------------------------------


def _cap_refused(path: Path, key: str, **params) -> FileRefused:
    return FileRefused(f"import.{key}", file=path.name, **params)


def read_sheets(path: str | Path) -> tuple[list[_Sheet], list[str], list[str]]:
    """The sheets of a workbook that hold a known table, after the safety checks; and the skipped titles."""
    from cdt.intake.xlsx_safety import check_xlsx

    path = Path(path)
    # Columns past MAX_COLUMNS are never read, so a wide <dimension> (whole rows formatted) is harmless.
    check_xlsx(path, max_rows=MAX_ROWS, max_columns=16384)
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, EOFError) as exc:
        raise FileRefused("import.unreadable", file=path.name) from exc
    except Exception as exc:  # openpyxl raises many kinds on a damaged file; the clerk needs one line
        raise FileRefused("import.unreadable", file=path.name) from exc
    sheets: list[_Sheet] = []
    skipped: list[str] = []
    converted: list[str] = []
    try:
        for ws in book.worksheets:
            title = clean(legacy.fix(ws.title))
            if _header_words(title) in _SKIPPED_SHEETS or getattr(ws, "sheet_state", "visible") != "visible":
                skipped.append(title)
                continue
            rows = _read_rows(ws, path)
            found = _find_header(rows)
            if not found:
                if any(any(v not in (None, "") for v in r) for r in rows):
                    skipped.append(title)
                continue
            index, columns, headers = found
            real = {k for k in columns if k != "_skip"}
            skip = _gender_subheader(rows[index + 1] if index + 1 < len(rows) else (), columns, headers)
            data = [(index + 2 + i, r) for i, r in enumerate(rows[index + 1:])][skip:]
            data, notes = _fix_legacy(data, columns, headers, title)
            converted.extend(notes)
            titles = [clean(legacy.fix(str(v))) for r in rows[:index] for v in r if isinstance(v, str) and v.strip()]
            header_texts = [clean(legacy.fix(str(v))) for v in rows[index] if not _blank(v)]
            sheets.append(_Sheet(title, _sheet_kind(real), index + 1, columns, headers, data, titles, header_texts))
    except (CdtError, MemoryError):
        raise
    except Exception as exc:
        raise FileRefused("import.unreadable", file=path.name) from exc
    finally:
        book.close()
    order = {kind: i for i, kind in enumerate(KINDS)}
    sheets.sort(key=lambda s: order[s.kind])
    return sheets, skipped, converted


def _read_rows(ws, path: Path) -> list[tuple]:
    rows: list[tuple] = []
    last = 0
    # The sheet's own <dimension> may understate it: read to the real end, refusing data past the cap.
    ws.reset_dimensions()
    padding = None  # openpyxl yields one shared tuple for each missing row: skip it cheaply
    for number, row in enumerate(ws.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True), 1):
        if row is padding:
            if number <= MAX_ROWS:
                rows.append(row)
            continue
        if any(v not in (None, "") for v in row):
            if number > MAX_ROWS:
                raise _cap_refused(path, "too_many_rows", sheet=ws.title, limit=f"{MAX_ROWS:,}".replace(",", "."))
            last = number
        elif padding is None and isinstance(row, tuple) and all(v is None for v in row):
            padding = row
        if number <= MAX_ROWS:
            # Without the empty cells openpyxl pads each row with up to MAX_COLUMNS: every later
            # step (legacy detection, header matching, blank tests) then costs per cell, not per value.
            end = len(row)
            while end and row[end - 1] in (None, ""):
                end -= 1
            rows.append(tuple(row[:end]))
    return rows[:last]


def _fix_legacy(data, columns, headers, title):
    """Convert TCVN3/VNI text column by column (the encoding is decided on the whole column)."""
    notes = []
    width = max((len(r) for _, r in data), default=0)
    fixed = [list(r) for _, r in data]
    names = {col: headers.get(name, "") for name, col in columns.items()}
    for col in range(width):
        values = [r[col] if col < len(r) else None for r in fixed]
        encoding = legacy.detect_many(values)
        new = legacy.fix_many(values)
        for r, v in zip(fixed, new):
            if col < len(r):
                r[col] = v
        if encoding:
            notes.append(f"{title}: {names.get(col) or _letter(col)} ({encoding.upper()})")
    return [(n, tuple(r)) for (n, _), r in zip(data, fixed)], notes


def _letter(col: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(col + 1)


# -- values ----------------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


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
    if _blank(value):
        return None, None
    words = fold(str(value))
    for prefix, code in _ROLE_PREFIXES:
        if words.startswith(prefix):
            return code, None
    return value, None


def _position(value: Any) -> tuple[Any, Any]:
    if _blank(value):
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


def _hamlet_key(name: str) -> str:
    words = fold(name)
    for kind in sorted((fold(k) for k in HAMLET_KINDS), key=len, reverse=True):
        if words.startswith(kind + " ") and len(words) > len(kind) + 1:
            return words[len(kind) + 1:]
    return words


def _kind_from_name(name: str) -> str | None:
    words = fold(name)
    for kind in sorted(HAMLET_KINDS, key=len, reverse=True):
        if words == fold(kind) or words.startswith(fold(kind) + " "):
            return kind
    return None


def _is_footer(values: dict[str, Any]) -> bool:
    texts = [str(v) for v in values.values() if not _blank(v)]
    if len(texts) != 1:
        return False
    words = fold(texts[0])
    return any(words.startswith(f) for f in _FOOTER)


def _column_numbers(row: tuple) -> bool:
    cells = [str(v).strip() for v in row if not _blank(v)]
    return bool(cells) and all(_COLUMN_NUMBERS.match(c.lower()) or (isinstance(v, (int, float)))
                               for c, v in zip(cells, [v for v in row if not _blank(v)])) and len(cells) >= 3


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
        self.hamlets = register.HamletIndex(store)
        self.row_created: dict[str, int] = {}
        self.row_updated: dict[str, int] = {}
        self.row_hamlets: list[dict] = []
        self.row_present: list[str] = []

    # problems --------------------------------------------------------------------------------------

    def problem(self, sheet: _Sheet, row: int, name: str | None, message: str) -> None:
        col = sheet.columns.get(name) if name else None
        header = sheet.headers.get(name, "") if name else ""
        if name and not header:
            header = next((label for f, label, _ in TEMPLATE_COLUMNS.get(sheet.kind, []) if f == name), "")
        self.result.problems.append(Problem(sheet.title, row, _letter(col) if col is not None else "", header, message))

    def fail(self, sheet: _Sheet, row: int, name: str | None, message: str):
        self.problem(sheet, row, name, message)
        raise _RowFailed()

    def validation(self, sheet: _Sheet, row: int, error: ValidationError, fields: dict[str, str]):
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

    def find_hamlet(self, sheet: _Sheet, row: int, name: str) -> dict | None:
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
            self.fail(sheet, row, "hamlet", t("import2.hamlet_spelling", name=clean(name), other=alike[0]["name"]))
        return None

    def hamlet(self, sheet: _Sheet, row: int, values: dict) -> tuple[dict, str]:
        """The row's hamlet, created when new: (hamlet, new | present | updated)."""
        name = values.get("hamlet")
        if _blank(name):
            self.fail(sheet, row, "hamlet", t("import.no_hamlet"))
        found = self.find_hamlet(sheet, row, str(name))
        kind = values.get("kind")
        if found:
            changes = {}
            if sheet.kind == HAMLET:
                given = {"kind": None if _blank(kind) else kind, "households": values.get("households"),
                         "working_age": values.get("working_age")}
                data = self.check(sheet, row, HamletIn, {"name": "hamlet"}, name=found["name"],
                                  **{k: (v if not _blank(v) else found[k]) for k, v in given.items()})
                changes = {k: getattr(data, k) for k, v in given.items()
                           if not _blank(v) and getattr(data, k) != found[k]}
            if not changes:
                return found, PRESENT
            edited = self.call(sheet, row, register.edit_hamlet, self.store, found["id"], **changes)
            self.hamlets.discard(found)
            self.hamlets.add(edited)
            self.updated("hamlet")
            return edited, UPDATED
        if _blank(kind):
            kind = _kind_from_name(str(name)) or "thôn"
        data = self.check(sheet, row, HamletIn, {"name": "hamlet"}, name=name, kind=kind,
                          households=values.get("households"), working_age=values.get("working_age"))
        made = self.call(sheet, row, register.add_hamlet, self.store, data.name, data.kind, data.households,
                         data.working_age, hamlets=self.hamlets)
        self.hamlets.add(made)
        self.row_hamlets.append(made)
        self.created("hamlet")
        return made, NEW

    def team(self, sheet: _Sheet, row: int, hamlet: dict, values: dict) -> tuple[dict, str]:
        """The hamlet's active team, founded when there is none: (team, new | present | updated)."""
        given = {"decision_number": values.get("decision_number"),
                 "decision_date": _excel_date(values.get("decision_date")),
                 "founded_on": _excel_date(values.get("founded_on"))}
        data = self.check(sheet, row, TeamIn, {}, hamlet_id=hamlet["id"], **given)
        active = [t_ for t_ in self.store.rows("team", hamlet_id=hamlet["id"]) if t_["status"] == "active"]
        if active:
            team = active[0]
            changes = {k: getattr(data, k) for k, v in given.items()
                       if sheet.kind == TEAM and not _blank(v) and getattr(data, k) != team[k]}
            if not changes:
                return team, PRESENT
            edited = self.call(sheet, row, register.edit_team, self.store, team, **changes)
            self.updated("team")
            return edited, UPDATED
        made = self.call(sheet, row, register.add_team, self.store, hamlet, data.decision_number,
                         data.decision_date, data.founded_on)
        self.created("team")
        return made, NEW

    def check(self, sheet: _Sheet, row: int, model, where: dict[str, str], **fields):
        """Validate fields with the commands' model; each wrong cell becomes a problem."""
        try:
            return model(**fields)
        except ValidationError as error:
            self.validation(sheet, row, error, where)

    def call(self, sheet: _Sheet, row: int, function: Callable, *args, column: Callable[[CdtError], str | None]
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

    def hamlet_row(self, sheet: _Sheet, row: int, values: dict) -> str:
        kind = values.get("kind") or _kind_from_name(str(values.get("hamlet") or "")) or "thôn"
        # checked even when the hamlet exists, so a wrong cell is reported either way
        self.check(sheet, row, HamletIn, {"name": "hamlet"}, name=values.get("hamlet"), kind=kind,
                   households=values.get("households"), working_age=values.get("working_age"))
        hamlet, outcome = self.hamlet(sheet, row, values)
        if outcome == PRESENT:
            self.present("hamlet", hamlet, hamlet["name"])
        return outcome

    def team_row(self, sheet: _Sheet, row: int, values: dict) -> str:
        self.check(sheet, row, TeamIn, {}, hamlet_id="-", decision_number=values.get("decision_number"),
                   decision_date=_excel_date(values.get("decision_date")),
                   founded_on=_excel_date(values.get("founded_on")))
        hamlet, _ = self.hamlet(sheet, row, values)
        team, outcome = self.team(sheet, row, hamlet, values)
        if outcome == PRESENT:
            self.present("team", team, hamlet["name"])
        return outcome

    def member_row(self, sheet: _Sheet, row: int, values: dict) -> str:
        role, affiliation = _role(values.get("role"))
        if "position" in values:
            p_role, p_affiliation = _position(values.get("position"))
            role = role or p_role
            affiliation = affiliation or p_affiliation
        fields = {
            "full_name": values.get("full_name"), "role": role, "gender": values.get("gender"),
            "birth_year": _birth_year(values.get("birth_year")), "phone": values.get("phone"),
            "affiliation": values.get("affiliation") if not _blank(values.get("affiliation")) else affiliation,
            "joined_on": _excel_date(values.get("joined_on")),
        }
        where = {"role": "role" if "role" in sheet.columns else "position",
                 "affiliation": "affiliation" if "affiliation" in sheet.columns else "position"}
        data = self.check(sheet, row, MemberIn, where, team_id="-", **fields)
        if _blank(values.get("hamlet")):
            # A list without any hamlet, in a commune with a single team, is that team's list.
            active = [t_ for t_ in self.store.rows("team") if t_["status"] == "active"]
            if len(active) == 1:
                values["hamlet"] = self.store.get("hamlet", active[0]["hamlet_id"])["name"]
        hamlet, _ = self.hamlet(sheet, row, values)
        team, _ = self.team(sheet, row, hamlet, values)
        given = [k for k in ("gender", "birth_year", "phone", "role", "affiliation", "joined_on") if not _blank(fields[k])]
        column = lambda error: where["role"] if error.key == "member.second_leader" else "full_name"
        existing = register.same_member(self.store, team["id"], data.full_name, data.birth_year, data.phone)
        if existing:
            changes = {k: getattr(data, k) for k in given if getattr(data, k) != existing[k]}
            if not changes:
                self.present("member", existing, f"{existing['full_name']} — {hamlet['name']}")
                return PRESENT
            self.call(sheet, row, register.edit_member, self.store, existing, column=column, **changes)
            self.updated("member")
            return UPDATED
        self.call(sheet, row, register.add_member, self.store, data.full_name, team, column=column,
                  **{k: getattr(data, k) for k in given})
        self.created("member")
        return NEW

    def find_member(self, text: str) -> tuple[dict | None, str | None]:
        """An attendee as the commands find one (register.find_member), within the hamlet in brackets."""
        text = clean(text)
        team_id = None
        match = re.fullmatch(r"(.+?)\s*(?:\((.+)\)|[-–—]\s*(.+))", text)
        if match:
            text, hamlet_name = match.group(1), match.group(2) or match.group(3)
            try:
                hamlet = self.hamlets.same(hamlet_name) or register.find_hamlet(self.store, hamlet_name)
                teams = self.store.rows("team", hamlet_id=hamlet["id"])
                team_id = next((t_["id"] for t_ in teams if t_["status"] == "active"), teams[0]["id"] if teams else "-")
            except CdtError:
                team_id = "-"
        try:
            return register.find_member(self.store, text, team_id=team_id), None
        except Ambiguous as error:
            return None, t("import.attendee_ambiguous", name=text, count=len(error.candidates))
        except NotFound:
            return None, t("import.attendee_not_found", name=text)

    def training_row(self, sheet: _Sheet, row: int, values: dict) -> str:
        data = self.check(sheet, row, TrainingIn, {}, topic=values.get("topic"), date=_excel_date(values.get("date")),
                          organiser=values.get("organiser"), mode=values.get("mode"))
        names: list[str] = []
        column = "attendees"
        if not _blank(values.get("attendees")):
            names = [n for n in (clean(p) for p in _NAME_SPLIT.split(str(values["attendees"]))) if n]
        elif not _blank(values.get("full_name")):
            column = "full_name"
            name = clean(str(values["full_name"]))
            names = [f"{name} ({clean(str(values['hamlet']))})" if not _blank(values.get("hamlet")) else name]
        members = []
        for name in names:
            member, message = self.find_member(name)
            if message:
                self.problem(sheet, row, column, message)
            else:
                members.append(member)
        if len(members) < len(names):
            raise _RowFailed()
        session = register.same_training(self.store, data.topic, data.date)
        outcome = PRESENT
        if session is None:
            session = self.call(sheet, row, register.add_training, self.store, data.topic, data.date, data.organiser,
                                data.mode)
            self.created("training")
            outcome = NEW
        else:
            changes = {k: getattr(data, k) for k in ("organiser", "mode")
                       if not _blank(values.get(k)) and getattr(data, k) != session[k]}
            # Training edits go through the register's edit_training (issue 11 item 1, another branch);
            # without it a changed organiser or mode leaves the training as it is.
            edit = getattr(register, "edit_training", None)
            if changes and edit is not None:
                if True:
                    session = self.call(sheet, row, edit, self.store, session["id"], **changes)
                    self.updated("training")
                    outcome = UPDATED
        new = [m for m in members if not register.same_attendance(self.store, session["id"], m["id"])]
        if new:
            self.call(sheet, row, register.attend, self.store, session, new, column=lambda e: column)
            self.row_created["training_attendance"] = self.row_created.get("training_attendance", 0) + len(new)
            if outcome == PRESENT:
                outcome = NEW
        if outcome == PRESENT:
            self.present("training", session, f"{session['topic']} ({_display(session['date'])})")
        return outcome

    def visit_row(self, sheet: _Sheet, row: int, values: dict) -> str:
        name = values.get("hamlet")
        hamlet = None if _blank(name) else self.find_hamlet(sheet, row, str(name))
        teams = [t_ for t_ in self.store.rows("team", hamlet_id=hamlet["id"]) if t_["status"] == "active"] if hamlet else []
        if not teams:
            self.fail(sheet, row, "hamlet", t("import.no_hamlet") if _blank(name)
                      else t("import.team_not_found", name=clean(str(name))))
        split = lambda v: [] if _blank(v) else [n for n in (clean(p) for p in _NAME_SPLIT.split(str(v))) if n]
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

        values_ = self.call(sheet, row, register.new_visit_values, self.store, teams[0],
                            {**{k: v for k, v in fields.items() if k != "when"}, "date": fields["when"]},
                            column=column)
        existing = register.same_visit(self.store, values_)
        if existing is None:
            self.call(sheet, row, register.record_visit, self.store, values_, column=column)
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
            self.present("visit", existing, f"{existing['household']} {_display(existing['date'])}")
            return PRESENT
        self.call(sheet, row, register.edit_visit, self.store, existing["id"], column=column, **changes)
        self.updated("visit")
        return UPDATED

    # sheets -----------------------------------------------------------------------------------------

    def row(self, sheet: _Sheet, handler: Callable, number: int, values: dict, count: "SheetCount") -> None:
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

    def sheet(self, sheet: _Sheet) -> None:
        count = SheetCount(sheet.title, sheet.kind, sheet.header_row)
        self.result.sheets.append(count)
        handler: Callable = {HAMLET: self.hamlet_row, TEAM: self.team_row, MEMBER: self.member_row,
                             TRAINING: self.training_row, VISIT: self.visit_row}[sheet.kind]
        fallback_hamlet = _title_hamlet(sheet)
        if _no_hamlet_column(self.store, sheet):
            # One problem for the sheet, naming the headers read; every row counts as a problem.
            self.result.problems.append(Problem(sheet.title, sheet.header_row, "", "", t(
                "import2.no_hamlet_column", sheet=sheet.title, headers=_headers_read(sheet))))
            count.rows = count.problems = sum(
                1 for _, row in sheet.rows if not all(_blank(v) for v in row) and not _column_numbers(row))
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
        header = _header_words(sheet.headers.get("hamlet", ""))
        # A column headed "Tổ" names the team (tổ CNSCĐ) far more often than the kind "tổ": never the kind.
        column_kind = next((k for k in HAMLET_KINDS if fold(k) == header and k != "tổ"), None)
        address = header in ("dia chi", "noi o", "thon noi o", "dia chi thon xom")
        for number, row in sheet.rows:
            values = {name: (row[col] if col < len(row) else None) for name, col in sheet.columns.items()
                      if name != "_skip"}
            group = _group_hamlet(row) if sheet.kind == MEMBER else None
            if group and all(_blank(values.get(f)) for f in ("phone", "role", "position", "birth_year", "gender",
                                                             "affiliation")):
                # A group row ("II. XÓM ĐỒNG KIM" across the table) names the hamlet of the rows below it.
                carried["hamlet"] = group
                continue
            if all(_blank(v) for v in values.values()) or _column_numbers(row) or _is_footer(values):
                continue
            if "_male" in values:
                _split_gender(values)
            if not _blank(values.get("surname")) and not _blank(values.get("full_name")):
                values["full_name"] = f"{clean(str(values['surname']))} {clean(str(values['full_name']))}"
            if sheet.kind == MEMBER and _blank(values.get("full_name")) and not any(
                    not _blank(values.get(f)) for f in ("phone", "role", "position", "birth_year", "gender")):
                # A group row ("Thôn Na Mao" across the table) names the hamlet of the rows below it.
                if not _blank(values.get("hamlet")):
                    carried["hamlet"] = values["hamlet"]
                continue
            for name in carry:
                if name in values and not _blank(values[name]):
                    carried[name] = values[name]
                elif name in carried and (name in sheet.columns or name == "hamlet"):
                    values[name] = carried[name]
            if address and isinstance(values.get("hamlet"), str):
                values["hamlet"] = re.split(r"[,;]|\s-\s", values["hamlet"])[0]  # "Xóm Đồng Kim, xã Minh Tiến"
            if not _blank(values.get("hamlet")) and column_kind and not _kind_from_name(str(values["hamlet"])):
                # Under a header "Xóm", a cell "Đồng Kim" is Xóm Đồng Kim.
                values["hamlet"] = f"{column_kind[0].upper()}{column_kind[1:]} {clean(str(values['hamlet']))}"
                values.setdefault("kind", column_kind)
            if sheet.kind == MEMBER and _blank(values.get("hamlet")) and fallback_hamlet:
                values["hamlet"] = fallback_hamlet
            if decision and _blank(values.get("decision_number")) and _blank(values.get("decision_date")):
                values["decision_number"], values["decision_date"] = decision
            count.rows += 1
            self.row(sheet, handler, number, values, count)


def _display(iso: str | None) -> str:
    return register._display_date(iso)


_TITLE_DECISION = re.compile(
    r"quyết định\s*(?:số)?\s*:?\s*([0-9][0-9A-Za-zĐđ/.\-]*)\s*,?\s*ngày\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})",
    re.IGNORECASE,
)


def _title_decision(sheet: _Sheet) -> tuple[str, str] | None:
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
    texts = [v for v in row if not _blank(v)]
    if len(texts) != 1 or not isinstance(texts[0], str):
        return None
    text = re.sub(r"\([^)]*\)\s*$", "", clean(legacy.fix(texts[0]))).strip(" :")
    match = _GROUP.match(text)
    return _hamlet_name(match.group(1), match.group(2)) if match else None


def _title_hamlet(sheet: _Sheet) -> str | None:
    """The hamlet named in a title row ('DANH SÁCH THÀNH VIÊN TỔ CNSCĐ THÔN NA MAO') or by the sheet."""
    for text in sheet.titles:
        match = _TITLE_HAMLET.search(text)
        if match:
            name = clean(match.group(2))
            if name and len(name) <= 60:
                return _hamlet_name(match.group(1), name)
    if sheet.kind == MEMBER and sheet.title and _kind_from_name(sheet.title):
        return sheet.title
    return None


def _headers_read(sheet: _Sheet) -> str:
    return ", ".join(f"'{text}'" for text in sheet.header_texts)


def _no_hamlet_column(store: Store, sheet: _Sheet) -> bool:
    """True when a sheet's rows need a hamlet and nothing names one: no hamlet column, no hamlet in a
    title or a group row. (Even in a commune with a single team: a list that names no hamlet may be
    another commune's, and issue 15 asks for one line listing the headers read. Blank cells under a
    hamlet or address column of a single-team commune still go to that team.)"""
    if sheet.kind not in (MEMBER, TEAM, VISIT) or "hamlet" in sheet.columns or _title_hamlet(sheet):
        return False
    if any(_group_hamlet(row) for _, row in sheet.rows):
        return False
    return True


def import_workbook(store: Store, path: str | Path, *, dry_run: bool = False, only_valid: bool = False) -> ImportResult:
    """Read a clerk's workbook into this commune's file: all rows or none (or only the valid ones)."""
    if store.site.level != "commune":
        raise InvalidInput("register.commune_only", level=store.site.level)
    path = Path(path)
    sheets, skipped, converted = read_sheets(path)
    if not sheets:
        raise FileRefused("import.no_table", file=path.name)
    result = ImportResult(str(path), dry_run, only_valid, skipped_sheets=skipped, converted=converted)
    lost = [sheet for sheet in sheets if _no_hamlet_column(store, sheet)]
    if lost and len(lost) == len(sheets):
        # One line for the file, naming the headers read; its rows are not blamed one by one.
        raise FileRefused("import2.no_hamlet_column", sheet=lost[0].title, headers=_headers_read(lost[0]))
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


# -- the template ------------------------------------------------------------------------------------


def write_template(path: str | Path) -> Path:
    """Write the empty import workbook: a sheet per table with drop-downs, and the instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    path = Path(path)
    if path.exists():
        raise InvalidInput("template.exists", file=str(path))
    book = Workbook()
    guide = book.active
    guide.title = "Hướng dẫn"
    lists = book.create_sheet("Danh mục")
    choices = {"kind": HAMLET_KINDS, "role": _ROLE_CHOICES, "gender": _GENDER_CHOICES,
               "affiliation": AFFILIATIONS, "mode": _MODE_CHOICES}
    ranges = {}
    for col, (name, values) in enumerate(choices.items(), 1):
        letter = _letter(col - 1)
        for i, value in enumerate(values, 1):
            lists.cell(row=i, column=col, value=value)
        ranges[name] = f"'Danh mục'!${letter}$1:${letter}${len(values)}"
    lists.sheet_state = "hidden"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for kind in KINDS:
        ws = book.create_sheet(SHEET_TITLES[kind])
        for col, (name, label, width) in enumerate(TEMPLATE_COLUMNS[kind], 1):
            cell = ws.cell(row=1, column=col, value=label)
            cell.font = bold
            cell.fill = fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            letter = _letter(col - 1)
            ws.column_dimensions[letter].width = width
            if name in ("phone", "decision_number"):
                for r in range(2, 502):
                    ws.cell(row=r, column=col).number_format = "@"  # keep the leading 0 of phone numbers
            if name in choices and not (kind == TRAINING and name != "mode"):
                strict = name != "affiliation"
                dv = DataValidation(type="list", formula1=ranges[name], allow_blank=True,
                                    showErrorMessage=strict, errorTitle="Giá trị không hợp lệ",
                                    error="Chọn một giá trị trong danh sách.")
                dv.add(f"{letter}2:{letter}500")
                ws.add_data_validation(dv)
        ws.freeze_panes = "A2"
    guide.column_dimensions["A"].width = 110
    lines = [
        ("MẪU NHẬP LIỆU TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG (cdt)", True),
        ("", False),
        ("Điền các trang theo thứ tự, mỗi dòng một thôn/xóm, một tổ, một thành viên hoặc một buổi tập huấn; "
         "giữ nguyên dòng tiêu đề (dòng 1).", False),
        (f"• {SHEET_TITLES[HAMLET]}: tên thôn/xóm/tổ dân phố, loại (chọn trong danh sách), số hộ, "
         "số người trong độ tuổi lao động.", False),
        (f"• {SHEET_TITLES[TEAM]}: thôn/xóm của tổ, số và ngày quyết định thành lập (dd/mm/yyyy), ngày thành lập.",
         False),
        (f"• {SHEET_TITLES[MEMBER]}: thôn/xóm của tổ, họ và tên, chức vụ trong tổ (tổ trưởng, tổ phó, thành viên), "
         "giới tính, năm sinh, số điện thoại (10 số, bắt đầu bằng 0), đơn vị công tác, ngày tham gia. "
         "Thôn và tổ chưa có sẽ được tạo.", False),
        (f"• {SHEET_TITLES[TRAINING]}: nội dung, ngày tập huấn, đơn vị tổ chức, hình thức; người tham dự ghi họ tên "
         "cách nhau bằng dấu chấm phẩy (;), thêm thôn trong ngoặc nếu trùng tên, ví dụ: Nguyễn Văn An (Xóm Đồng Tâm).",
         False),
        (f"• {SHEET_TITLES[VISIT]} (nếu có): ngày, tổ (tên thôn/xóm), mã hộ trong sổ của xã (không ghi tên người), "
         "số người được hỗ trợ, dịch vụ (ví dụ: VNeID; dịch vụ công; C-Thái Nguyên), thành viên đi hỗ trợ.", False),
        ("", False),
        ("Mỗi tổ tối đa số thành viên theo cài đặt (mặc định 5) và chỉ một tổ trưởng.", False),
        ("Nhập: cdt import <tệp>.xlsx --dry-run để xem trước; cdt import <tệp>.xlsx để nhập. "
         "Nếu có dòng lỗi, không dòng nào được ghi (trừ khi dùng --only-valid). Nhập lại cùng tệp không tạo bản ghi trùng.",
         False),
    ]
    for i, (text, strong) in enumerate(lines, 1):
        cell = guide.cell(row=i, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True)
        if strong:
            cell.font = Font(bold=True, size=13)
    book.active = 0
    if path.exists():
        raise InvalidInput("template.exists", file=str(path))
    # Saved under a temporary name and renamed: a full disk never leaves half a workbook behind.
    partial = path.with_name(path.name + ".part")
    try:
        book.save(partial)
        if path.exists():
            raise FileExistsError(str(path))
        partial.replace(path)
    except FileExistsError:
        partial.unlink(missing_ok=True)
        raise InvalidInput("template.exists", file=str(path)) from None
    except OSError as exc:
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass
        raise InvalidInput("template.cannot_write", file=str(path), reason=os_reason(exc)) from exc
    return path


__all__ = ["ImportResult", "Problem", "SheetCount", "import_workbook", "write_template", "header_field",
           "read_sheets", "KIND_LABELS", "SHEET_TITLES", "TEMPLATE_COLUMNS", "AFFILIATIONS"]
