"""The header row of a clerk's sheet: Vietnamese header variants, the field each names, the table a sheet holds.

Headers are matched by name (Vietnamese variants, with or without diacritics, any order; legacy
TCVN3/VNI text converted), below any title rows.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from cdt.core.text import clean, fold
from cdt.domain.kinds import HAMLET_KINDS
from cdt.intake import old_encodings as legacy

_HEADER_SCAN = 30  # title rows above the header: a clerk's form rarely has more than a handful

# The tables a sheet may hold, in the order they are imported.
HAMLET, TEAM, MEMBER, TRAINING, VISIT = "hamlet", "team", "member", "training", "visit"
KINDS = (HAMLET, TEAM, MEMBER, TRAINING, VISIT)

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


def header_words(value: Any) -> str:
    """A header's words, folded, without bracketed notes or punctuation: 'Số ĐT (10 số)' → 'so dt'."""
    text = re.sub(r"\([^)]*\)", " ", str(value))  # "Số ĐT (10 số)" → "Số ĐT"
    text = fold(text).replace("&", " ")
    text = re.sub(r"[^0-9a-z]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def header_field(value: Any) -> str | None:
    """The field a header cell names ('Họ và tên', 'HO TEN', 'Số ĐT' …), or None."""
    return _header_match(value)[0]


def _kind_header_words() -> tuple[str, ...]:
    # Keyed by the tuple: kinds.HAMLET_KINDS is the one list (other regions' kinds are added there).
    return _kind_header_words_of(HAMLET_KINDS)


@lru_cache(maxsize=4)
def _kind_header_words_of(kinds: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({header_words(k) for k in kinds} | {"tdp"}, key=len, reverse=True))


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
        words = header_words(text)
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


def sheet_kind(fields: set[str]) -> str | None:
    """The table a sheet holds, from the fields its header row names (None: no known table)."""
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


_MEMBER_FIELDS = {"surname", "role", "position", "gender", "birth_year", "phone", "affiliation", "joined_on"}


def _bare_name_is_hamlet(columns: dict[str, int], headers: dict[str, str]) -> None:
    """A bare 'Tên' beside 'Loại' and 'Số hộ' (and nothing about people) names the hamlet."""
    if ("full_name" in columns and "hamlet" not in columns and header_words(headers["full_name"]) in ("ten", "name")
            and not set(columns) & _MEMBER_FIELDS and set(columns) & {"kind", "households", "working_age"}):
        columns["hamlet"] = columns.pop("full_name")
        headers["hamlet"] = headers.pop("full_name")


def gender_subheader(row: tuple, columns: dict[str, int], headers: dict[str, str]) -> int:
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


def find_header(rows: list[tuple]) -> tuple[int, dict[str, int], dict[str, str]] | None:
    """The header row among the first rows: (its index, field → column, field → header as written), or None."""
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
        if "hamlet" not in columns and "affiliation" in columns and header_words(headers["affiliation"]) == "don vi":
            # A bare "Đơn vị" beside names and no other hamlet column is the unit (đơn vị cấp thôn).
            columns["hamlet"] = columns.pop("affiliation")
            headers["hamlet"] = headers.pop("affiliation")
        real = {k for k in columns if k != "_skip"}
        kind = sheet_kind(real)
        if kind and (best is None or len(real) > len(best[1]) - ("_skip" in best[1])):
            best = (index, columns, headers)
    return best
