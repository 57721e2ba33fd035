"""The monthly report as an .xlsx workbook in the Vietnamese administrative layout.

The layout follows Nghị định 30/2020/NĐ-CP: issuing body under its superior (top left), national
motto (top right), number, place and date, title and subject, the tables, then "Nơi nhận" and
the signature block. The input is the plain dict of ``docs/report-shape.md``; nothing here
queries the database.

Two rules hold for every cell:
- numbers and dates are written as numbers and dates, with a display format;
- text goes through ``_put_text`` only, so a hamlet named ``=1+1`` stays text, never a formula.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, Reference, Series
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import (
    CharacterProperties,
    Font as DrawingFont,
    Paragraph,
    ParagraphProperties,
    RegularTextRun,
)
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break

from cdt.errors import CdtError, os_reason
from cdt.i18n import t
from cdt.text import nfc

FONT = "Times New Roman"
# Format codes in an .xlsx file are always written in the invariant (en-US) syntax: "," means
# "group thousands" and "." means "decimal point". Excel and LibreOffice then display them with
# the viewer's locale, so a Vietnamese machine shows 12.345 and 24,6 %. Writing "#.##0" instead
# would not give Vietnamese separators: it would be read as a decimal number format everywhere.
NUMBER = "#,##0"
PERCENT = "0.0%"
DATE = "dd/mm/yyyy"

# openpyxl makes a formula of any string starting with "="; Excel and LibreOffice may also treat
# "+", "-" and "@" as the start of a formula when a user edits the cell. Such text gets a quote
# prefix as well as the string type.
_FORMULA_START = ("=", "+", "-", "@")
# Beyond openpyxl's list: characters XML 1.0 cannot carry at all (lone surrogates, U+FFFE/U+FFFF).
_XML_ILLEGAL = re.compile("[\ud800-\udfff\ufffe\uffff]")
_MAX_CELL_TEXT = 32767  # Excel's limit per cell
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")

# Type words that start a unit's name, longest first: "Thị trấn Hùng Sơn" -> "Hùng Sơn".
_TYPE_WORDS = ("thành phố", "thị trấn", "thị xã", "đặc khu", "phường", "huyện", "quận", "tỉnh", "xã")

_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_MISSING_FILL = PatternFill("solid", fgColor="FDE2E1")

# Sizes in points: Nghị định 30 asks 12-13 for the issuing body, 13-14 for the motto and title.
_SIZE_HEAD = 13
_SIZE_TITLE = 14
_SIZE_BODY = 12
_SIZE_TABLE = 11
# Drawn as text: a cell border would run the full width of the merged block.
_RULE_SHORT = "\u2015" * 8
_RULE_LONG = "\u2015" * 14

# (indicator key, measure key, format); stocks are counted at the end of the month.
_STOCKS = (
    ("teams", "teams", NUMBER),
    ("teams_with_decision", "teams", NUMBER),
    ("hamlets", "hamlets", NUMBER),
    ("hamlets_covered", "hamlets", NUMBER),
    ("hamlets_covered_pct", "percent", PERCENT),
    ("members", "people", NUMBER),
    ("members_trained", "people", NUMBER),
    ("members_trained_pct", "percent", PERCENT),
    ("households", "households", NUMBER),
    ("working_age", "people", NUMBER),
)
# Flows have a month, a year-to-date and a since-the-start value.
_FLOWS = (
    ("visits", "visits", NUMBER),
    ("households_reached", "households", NUMBER),
    ("households_reached_pct", "percent", PERCENT),
    ("people_helped", "people", NUMBER),
)
# Flows report.py may add (keys are only ever added to the report): shown when present.
_OPTIONAL_FLOWS = (("digital_citizens", "people", NUMBER),)
_PERCENT_KEYS = {key for key, _, fmt in _STOCKS + _FLOWS if fmt == PERCENT}


def write_report_xlsx(
    report: dict,
    path: Path,
    *,
    number: str | None = None,
    place: str | None = None,
    signer: str | None = None,
    preparer: str | None = None,
) -> Path:
    """Write the monthly report dict as an .xlsx workbook at path and return the path."""
    path = Path(path)
    ctx = _Context(report, number=number, place=place, signer=signer, preparer=preparer)
    wb = openpyxl.Workbook()
    _use_times_new_roman(wb)
    wb.properties.creator = "cdt"
    wb.properties.title = _clean(t("xlsx_report.subject", month=ctx.month_text, year=ctx.year))

    summary = wb.active
    summary.title = _sheet_name(t("xlsx_report.sheet_summary"))
    units = wb.create_sheet(_sheet_name(t("xlsx_report.sheet_units")))
    communes = None
    if ctx.level == "province" and ctx.commune_rows and ctx.row_level != "commune":
        communes = wb.create_sheet(_sheet_name(t("xlsx_report.sheet_communes")))
    services = wb.create_sheet(_sheet_name(t("xlsx_report.sheet_services")))
    completeness = wb.create_sheet(_sheet_name(t("xlsx_report.sheet_completeness")))

    chart_source = _write_units_sheet(units, ctx, ctx.rows, ctx.row_level, t("xlsx_report.units_title"))
    if communes is not None:
        _write_units_sheet(communes, ctx, ctx.commune_rows, "commune", t("xlsx_report.communes_title"))
    _write_services_sheet(services, ctx)
    _write_completeness_sheet(completeness, ctx)
    _write_summary_sheet(summary, ctx, chart_source)

    # Save beside the target and rename, so a failed save never leaves half a workbook behind.
    partial = path.with_name(path.name + ".part")
    try:
        wb.save(partial)
        partial.replace(path)
    except OSError as exc:
        if partial.exists():
            try:
                partial.unlink()
            except OSError:
                pass
        raise CdtError("xlsx_report.cannot_write", path=str(path), reason=os_reason(exc)) from exc
    return path


# ---------------------------------------------------------------------------------------------
# The report, read once


class _Context:
    """What every sheet needs from the report, parsed once and tolerant of missing keys."""

    def __init__(self, report: dict, *, number, place, signer, preparer):
        self.level = str(report.get("level") or "commune")
        self.unit = report.get("unit") or {}
        self.parent = report.get("parent") or None
        self.province = report.get("province") or None
        self.unit_name = _clean(self.unit.get("name") or "")
        self.structure_2025 = str(self.unit.get("structure") or "legacy") != "legacy"
        self.year, self.month = _parse_month(report.get("month"), report.get("period"))
        self.month_text = _nd30_number(self.month, self.month <= 2)
        period = report.get("period") or {}
        self.start = _parse_date(period.get("start")) or date(self.year, self.month, 1)
        self.end = _parse_date(period.get("end")) or _month_end(self.year, self.month)
        self.generated = _parse_date(report.get("generated_at")) or date.today()
        self.row_level = str(report.get("row_level") or "hamlet")
        self.rows = list(report.get("rows") or [])
        self.commune_rows = list(report.get("commune_rows") or [])
        self.total = report.get("total") or {}
        self.flows = _FLOWS + tuple(f for f in _OPTIONAL_FLOWS if isinstance(self.total.get(f[0]), dict))
        self.services = list(report.get("services") or [])
        self.completeness = list(report.get("completeness") or [])
        self.targets = list(report.get("targets") or [])
        self.notes = [note for note in (report.get("notes") or []) if note]
        self.number = number
        self.place = place if place else _strip_type(self.unit_name)
        self.signer = signer
        self.preparer = preparer

    def col_month(self) -> str:
        return t("xlsx_report.col_month", month=f"{self.month:02d}", year=self.year)

    def col_ytd(self) -> str:
        return t("xlsx_report.col_ytd", year=self.year)

    def subtitle(self) -> str:
        return t("xlsx_report.sheet_subtitle", unit=self.unit_name, month=self.month_text, year=self.year)

    def level_label(self, row_level: str) -> str:
        if row_level == "commune" and self.structure_2025:
            return t("xlsx_report.row_level.commune_2025")
        key = f"xlsx_report.row_level.{row_level}"
        label = t(key)
        return t("xlsx_report.col_unit") if label == key else label


def _parse_month(value, period) -> tuple[int, int]:
    text = str(value or "")
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
    if match and 1 <= int(match.group(2)) <= 12:
        return int(match.group(1)), int(match.group(2))
    start = _parse_date((period or {}).get("start"))
    if start:
        return start.year, start.month
    today = date.today()
    return today.year, today.month


def _parse_date(value) -> date | None:
    """A date from an ISO date or timestamp string (or a date); None when absent or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _month_end(year: int, month: int) -> date:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def _nd30_number(value: int, pad: bool) -> str:
    """Nghị định 30 writes days below 10 and the months 1 and 2 with a leading zero."""
    return f"{value:02d}" if pad else str(value)


def _split_type(name: str) -> tuple[str, str]:
    """('Thị trấn', 'Hùng Sơn') for 'Thị trấn Hùng Sơn'; ('', name) when no type word leads."""
    folded = name.casefold()
    for word in _TYPE_WORDS:
        if folded.startswith(word + " ") and len(name) > len(word) + 1:
            return name[: len(word)], name[len(word) + 1 :].strip()
    return "", name


def _strip_type(name: str) -> str:
    return _split_type(name)[1]


def _in_sentence(name: str) -> str:
    """A unit name inside a sentence: the type word in lower case ('UBND huyện Đại Từ')."""
    kind, rest = _split_type(name)
    return f"{kind.lower()} {rest}" if kind else name


def _upper(name: str) -> str:
    # str.upper is right for Vietnamese once the text is composed (NFC): ư -> Ư, đ -> Đ.
    return nfc(name).upper()


# ---------------------------------------------------------------------------------------------
# Cells


def _clean(value) -> str:
    """Text as a cell may hold it: NFC, without characters that XML or Excel reject."""
    text = nfc(str(value))
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    text = _XML_ILLEGAL.sub("", text)
    return text[:_MAX_CELL_TEXT]


def _put_text(cell, value) -> None:
    """The one way text reaches a cell: cleaned and always stored as a string, never a formula."""
    text = _clean(value)
    if not text:
        cell.value = None  # an empty string would be written as an empty text cell
        return
    cell.value = text
    # openpyxl has just turned "=..." into a formula; a name from the database never is one.
    cell.data_type = "s"
    if text.startswith(_FORMULA_START):
        cell.quotePrefix = True


def _put(ws, row: int, col: int, value, *, fmt: str | None = None, **style):
    """Write value to a cell: text through _put_text, numbers and dates as themselves."""
    cell = ws.cell(row=row, column=col)
    if value is None:
        pass
    elif isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        cell.value = value
        if fmt:
            cell.number_format = fmt
    elif isinstance(value, (date, datetime)):
        cell.value = value.date() if isinstance(value, datetime) else value
        cell.number_format = DATE
    else:
        _put_text(cell, value)
    if value is None and fmt:
        cell.number_format = fmt
    _style(cell, **style)
    return cell


def _style(
    cell,
    *,
    size: int = _SIZE_TABLE,
    bold: bool = False,
    italic: bool = False,
    h: str | None = None,
    wrap: bool = False,
    box: bool = False,
    indent: int = 0,
    fill=None,
) -> None:
    cell.font = _font(size, bold, italic)
    cell.alignment = _alignment(h, wrap, indent)
    if box:
        cell.border = _BOX
    if fill is not None:
        cell.fill = fill


@lru_cache(maxsize=None)
def _font(size: int, bold: bool, italic: bool) -> Font:
    return Font(name=FONT, size=size, bold=bold, italic=italic)


@lru_cache(maxsize=None)
def _alignment(h: str | None, wrap: bool, indent: int) -> Alignment:
    return Alignment(horizontal=h, vertical="center", wrap_text=wrap, indent=indent)


def _merge(ws, row: int, first: int, last: int, value, *, last_row: int | None = None, **style):
    """Write value into a merged block; borders, when asked, go on every cell of the block."""
    last_row = last_row or row
    cell = _put(ws, row, first, value, **style)
    if style.get("box"):
        for r in range(row, last_row + 1):
            for c in range(first, last + 1):
                ws.cell(row=r, column=c).border = _BOX
    if last > first or last_row > row:
        ws.merge_cells(start_row=row, start_column=first, end_row=last_row, end_column=last)
    return cell


def _lines(text: str, width: float, size: int) -> int:
    """How many lines text takes when wrapped in a column of the given width (an estimate)."""
    # A column width counts characters of the default font at 11 pt; bigger text needs more.
    per_line = max(1.0, width * 11 / size / 1.05)
    total = 0
    for part in str(text).split("\n"):
        total += max(1, math.ceil(len(part) / per_line))
    return total


def _height(lines: int, size: int) -> float:
    return round(lines * size * 1.25 + 3, 1)


def _sheet_name(name: str) -> str:
    return _SHEET_NAME_BAD.sub(" ", _clean(name)).strip()[:31] or "Sheet"


def _use_times_new_roman(wb) -> None:
    """Make Times New Roman the workbook's default font, for cells a clerk types in later too."""
    # openpyxl has no public setting for the default font: replace font 0 (used by unstyled
    # cells) and the "Normal" style's font. If a future openpyxl moves these, every written cell
    # still carries its own Times New Roman font, so only blank cells would differ.
    base = Font(name=FONT, size=_SIZE_BODY, family=1)
    try:
        wb._fonts = IndexedList([base])  # noqa: SLF001  (nothing is styled yet)
        wb._named_styles["Normal"].font = base  # noqa: SLF001
    except (AttributeError, IndexError, KeyError, TypeError):
        pass


def _page_setup(ws, *, title_rows: str | None = None) -> None:
    """A4 landscape, fit to the page width, Nghị định 30 margins and page numbers from page 2."""
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
    # Inches: 25 mm left (binding), 15 mm right, 20 mm top and bottom.
    ws.page_margins = PageMargins(left=0.98, right=0.59, top=0.79, bottom=0.79, header=0.3, footer=0.3)
    ws.print_options.horizontalCentered = True
    if title_rows:
        ws.print_title_rows = title_rows
    # Nghị định 30: the page number at the top centre, not on the first page.
    ws.HeaderFooter.differentFirst = True
    ws.oddHeader.center.text = "&P"
    ws.oddHeader.center.font = f"{FONT},Regular"
    ws.oddHeader.center.size = _SIZE_BODY


# ---------------------------------------------------------------------------------------------
# Values of a row


def _stock(row: dict, key: str):
    value = row.get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _flow(row: dict, key: str, part: str):
    value = row.get(key)
    if isinstance(value, dict):
        value = value.get(part)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return None


def _service(row: dict, code: str, part: str):
    by_service = row.get("people_by_service")
    if not isinstance(by_service, dict):
        return None
    entry = by_service.get(code)
    if entry is None:
        return 0  # a service nobody in this unit was helped with
    return _flow(by_service, code, part)


def _unit_name(row: dict) -> str:
    unit = row.get("unit") or {}
    return str(unit.get("name") or unit.get("code") or "")


# ---------------------------------------------------------------------------------------------
# Table sheets


@dataclass
class _Col:
    head: str
    sub: str | None = None
    width: float = 10
    fmt: str | None = NUMBER


_TITLE_ROW, _SUBTITLE_ROW, _HEAD_ROW, _SUB_ROW, _FIRST_DATA_ROW = 1, 2, 4, 5, 6


def _table_head(ws, ctx: _Context, title: str, cols: list[_Col]) -> None:
    """Title, subtitle and the two header rows of a table sheet, with widths and heights."""
    last = len(cols)
    _merge(ws, _TITLE_ROW, 1, last, title, size=_SIZE_HEAD, bold=True, h="center", wrap=True)
    _merge(ws, _SUBTITLE_ROW, 1, last, ctx.subtitle(), size=_SIZE_BODY, italic=True, h="center")
    total_width = sum(col.width for col in cols)
    ws.row_dimensions[_TITLE_ROW].height = _height(_lines(title, total_width, _SIZE_HEAD), _SIZE_HEAD)
    ws.row_dimensions[_SUBTITLE_ROW].height = _height(1, _SIZE_BODY)
    head_lines, sub_lines = 1, 1
    index = 0
    while index < last:
        col = cols[index]
        if col.sub is None:
            _merge(ws, _HEAD_ROW, index + 1, index + 1, col.head, last_row=_SUB_ROW,
                   bold=True, h="center", wrap=True, box=True)
            # Spread over two rows: half the lines each.
            head_lines = max(head_lines, math.ceil(_lines(col.head, col.width, _SIZE_TABLE) / 2))
            index += 1
            continue
        end = index
        while end + 1 < last and cols[end + 1].sub is not None and cols[end + 1].head == col.head:
            end += 1
        width = sum(c.width for c in cols[index : end + 1])
        _merge(ws, _HEAD_ROW, index + 1, end + 1, col.head, bold=True, h="center", wrap=True, box=True)
        head_lines = max(head_lines, _lines(col.head, width, _SIZE_TABLE))
        for c in range(index, end + 1):
            _put(ws, _SUB_ROW, c + 1, cols[c].sub, bold=True, h="center", wrap=True, box=True)
            sub_lines = max(sub_lines, _lines(cols[c].sub, cols[c].width, _SIZE_TABLE))
        index = end + 1
    for number, col in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(number)].width = col.width
    ws.row_dimensions[_HEAD_ROW].height = _height(head_lines, _SIZE_TABLE)
    ws.row_dimensions[_SUB_ROW].height = _height(sub_lines, _SIZE_TABLE)
    ws.freeze_panes = ws.cell(row=_FIRST_DATA_ROW, column=3)
    _page_setup(ws, title_rows=f"{_HEAD_ROW}:{_SUB_ROW}")


def _table_row(ws, row: int, values: list, cols: list[_Col], *, bold: bool = False, fill=None) -> None:
    for number, (value, col) in enumerate(zip(values, cols), start=1):
        text_like = col.fmt is None
        _put(ws, row, number, value, fmt=col.fmt, bold=bold, box=True, fill=fill,
             h=("center" if number == 1 else None) if text_like else None, wrap=text_like)


def _name_width(names, minimum: float = 22, maximum: float = 40) -> float:
    longest = max((len(name) for name in names), default=0)
    return max(minimum, min(maximum, longest + 3))


class _ChartSource(NamedTuple):
    """Where the chart finds its figures: unit names and people helped on the units sheet."""

    sheet: object
    name_col: int
    value_col: int
    first_row: int
    last_row: int
    level_label: str


def _write_units_sheet(ws, ctx: _Context, rows: list[dict], row_level: str, title: str) -> _ChartSource | None:
    """One row per unit and a total row; returns what the summary chart needs (or None)."""
    names = [_unit_name(row) for row in rows]
    cols = [
        _Col(t("xlsx_report.col_no"), width=5, fmt=None),
        _Col(ctx.level_label(row_level), width=_name_width(names), fmt=None),
    ]
    cols += [_Col(t(f"xlsx_report.ind.{key}"), width=10, fmt=fmt) for key, _, fmt in _STOCKS]
    for key, _, fmt in ctx.flows:
        head = t(f"xlsx_report.ind.{key}")
        cols.append(_Col(head, ctx.col_month(), width=9.5, fmt=fmt))
        cols.append(_Col(head, ctx.col_ytd(), width=9.5, fmt=fmt))
    _table_head(ws, ctx, title, cols)

    def values(row: dict) -> list:
        out = [_stock(row, key) for key, _, _ in _STOCKS]
        for key, _, _ in ctx.flows:
            out += [_flow(row, key, "month"), _flow(row, key, "ytd")]
        return out

    line = _FIRST_DATA_ROW
    for number, (row, name) in enumerate(zip(rows, names), start=1):
        _table_row(ws, line, [number, name] + values(row), cols)
        line += 1
    _table_row(ws, line, ["", t("xlsx_report.total_row")] + values(ctx.total), cols, bold=True)
    if not rows:
        return None
    people_month = 2 + len(_STOCKS) + 2 * [key for key, _, _ in ctx.flows].index("people_helped") + 1
    last = _FIRST_DATA_ROW + len(rows) - 1
    return _ChartSource(ws, 2, people_month, _FIRST_DATA_ROW, last, ctx.level_label(row_level))


def _write_services_sheet(ws, ctx: _Context) -> None:
    """People helped per service, month and year to date, per unit and in total."""
    names = [_unit_name(row) for row in ctx.rows]
    cols = [
        _Col(t("xlsx_report.col_no"), width=5, fmt=None),
        _Col(ctx.level_label(ctx.row_level), width=_name_width(names), fmt=None),
        _Col(t("xlsx_report.col_people_total"), ctx.col_month(), width=11),
        _Col(t("xlsx_report.col_people_total"), ctx.col_ytd(), width=11),
    ]
    codes = []
    for service in ctx.services:
        code = str(service.get("code") or "")
        head = _clean(service.get("name") or code)
        codes.append(code)
        cols.append(_Col(head, ctx.col_month(), width=max(10, min(14, len(head) / 2 + 2))))
        cols.append(_Col(head, ctx.col_ytd(), width=max(10, min(14, len(head) / 2 + 2))))
    _table_head(ws, ctx, t("xlsx_report.services_title"), cols)

    def values(row: dict) -> list:
        out = [_flow(row, "people_helped", "month"), _flow(row, "people_helped", "ytd")]
        for code in codes:
            out += [_service(row, code, "month"), _service(row, code, "ytd")]
        return out

    line = _FIRST_DATA_ROW
    for number, (row, name) in enumerate(zip(ctx.rows, names), start=1):
        _table_row(ws, line, [number, name] + values(row), cols)
        line += 1
    _table_row(ws, line, ["", t("xlsx_report.total_row")] + values(ctx.total), cols, bold=True)
    line += 2
    note = t("xlsx_report.services_note") if codes else t("xlsx_report.no_services")
    _merge(ws, line, 1, len(cols), note, italic=True, wrap=True)
    lines = _lines(note, sum(c.width for c in cols), _SIZE_TABLE)
    ws.row_dimensions[line].height = _height(lines, _SIZE_TABLE)


def _completeness_counts(ctx: _Context) -> tuple[int, int, list[str]]:
    sent = sum(1 for entry in ctx.completeness if entry.get("reported"))
    missing = [_unit_name(entry) for entry in ctx.completeness if not entry.get("reported")]
    return len(ctx.completeness), sent, missing


def _write_completeness_sheet(ws, ctx: _Context) -> None:
    """Each expected unit: sent or not, when packed and when merged; then the counts."""
    names = [_unit_name(entry) for entry in ctx.completeness]
    cols = [
        _Col(t("xlsx_report.col_no"), width=5, fmt=None),
        _Col(t("xlsx_report.col_unit"), width=_name_width(names, minimum=28), fmt=None),
        _Col(t("xlsx_report.col_code"), width=11, fmt=None),
        _Col(t("xlsx_report.col_status"), width=13, fmt=None),
        _Col(t("xlsx_report.col_packed"), width=15, fmt=DATE),
        _Col(t("xlsx_report.col_merged"), width=15, fmt=DATE),
    ]
    if ctx.level == "commune":
        last = len(cols)
        title = t("xlsx_report.completeness_title")
        _merge(ws, _TITLE_ROW, 1, last, title, size=_SIZE_HEAD, bold=True, h="center", wrap=True)
        _merge(ws, _SUBTITLE_ROW, 1, last, ctx.subtitle(), size=_SIZE_BODY, italic=True, h="center")
        for number, col in enumerate(cols, start=1):
            ws.column_dimensions[get_column_letter(number)].width = col.width
        width = sum(col.width for col in cols)
        ws.row_dimensions[_TITLE_ROW].height = _height(_lines(title, width, _SIZE_HEAD), _SIZE_HEAD)
        text = t("xlsx_report.not_applicable")
        _merge(ws, _HEAD_ROW, 1, last, text, size=_SIZE_BODY, italic=True, wrap=True)
        ws.row_dimensions[_HEAD_ROW].height = _height(_lines(text, width, _SIZE_BODY), _SIZE_BODY)
        _page_setup(ws)
        return
    _table_head(ws, ctx, t("xlsx_report.completeness_title"), cols)
    line = _FIRST_DATA_ROW
    for number, (entry, name) in enumerate(zip(ctx.completeness, names), start=1):
        reported = bool(entry.get("reported"))
        status = t("xlsx_report.status_sent") if reported else t("xlsx_report.status_missing")
        code = str((entry.get("unit") or {}).get("code") or "")
        packed, merged = _parse_date(entry.get("packed_at")), _parse_date(entry.get("merged_at"))
        values = [number, name, code, status, packed, merged]
        _table_row(ws, line, values, cols, bold=not reported, fill=None if reported else _MISSING_FILL)
        line += 1
    expected, sent, missing = _completeness_counts(ctx)
    line += 1
    for key, value in (("count_expected", expected), ("count_sent", sent), ("count_missing", len(missing))):
        _merge(ws, line, 2, 3, t(f"xlsx_report.{key}"), bold=True, box=True)
        _put(ws, line, 4, value, fmt=NUMBER, bold=True, box=True)
        line += 1


# ---------------------------------------------------------------------------------------------
# The summary: the document itself

# Columns of the summary sheet: STT, indicator, measure, month, year to date, since the start.
_SUMMARY_WIDTHS = (6, 46, 13, 16, 16, 16)


def _write_summary_sheet(ws, ctx: _Context, chart_source) -> None:
    ws.sheet_view.showGridLines = False
    for number, width in enumerate(_SUMMARY_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(number)].width = width
    _page_setup(ws)
    keep: list[tuple[int, int]] = []  # row ranges a page break must not split
    line = _write_document_head(ws, ctx)
    sections = iter(("I", "II", "III", "IV", "V"))

    start = line
    line = _section(ws, line, next(sections), t("xlsx_report.section_indicators"))
    keep.append((start, line + 1))  # the title with the table's head and first row
    line = _write_indicators(ws, ctx, line) + 1

    start = line
    line = _section(ws, line, next(sections), t("xlsx_report.section_targets"))
    keep.append((start, line + 1))
    line = _write_targets(ws, ctx, line) + 1

    start = line
    line = _section(ws, line, next(sections), t("xlsx_report.section_chart"))
    if chart_source is None:
        _merge(ws, line, 1, 6, t("xlsx_report.no_rows"), size=_SIZE_BODY, italic=True)
        ws.row_dimensions[line].height = _height(1, _SIZE_BODY)
        line += 2
    else:
        line = _add_chart(ws, ctx, line, chart_source)
        keep.append((start, line - 1))
        line += 1

    notes = [str(note) for note in ctx.notes]
    if ctx.level != "commune":
        expected, sent, missing = _completeness_counts(ctx)
        if expected and missing:
            missing_names = ", ".join(missing)
            notes.append(t("xlsx_report.completeness_some", sent=sent, expected=expected, missing=missing_names))
        elif expected:
            notes.append(t("xlsx_report.completeness_all", expected=expected))
    last_text = None
    if notes:
        start = line
        line = _section(ws, line, next(sections), t("xlsx_report.section_notes"))
        keep.append((start, line))
        width = sum(_SUMMARY_WIDTHS)
        for note in notes:
            _merge(ws, line, 1, 6, note, size=_SIZE_BODY, wrap=True)
            ws.row_dimensions[line].height = _height(_lines(note, width, _SIZE_BODY), _SIZE_BODY)
            last_text = line
            line += 1
    end = _write_signature(ws, ctx, line + 1)
    # Nghị định 30: the signature page carries some of the text too, so the last note goes with it.
    keep.append((last_text or line + 1, end))
    _paginate(ws, keep, end)


# Printable height of a landscape A4 page in points: 210 mm less the 20 mm margins, with slack
# for rounding. The summary is narrower than the page, so fitting to width does not shrink it.
_PAGE_HEIGHT = 470.0
_BLANK_ROW = 10.0  # spacer rows between sections


def _paginate(ws, keep: list[tuple[int, int]], last_row: int) -> None:
    """Add page breaks so that no kept block (a table's head, the chart, the signature) splits.

    Every row of the summary gets an explicit height, so the pages fall where computed here in
    Excel and in LibreOffice alike.
    """
    for row in range(1, last_row + 1):
        if ws.row_dimensions[row].height is None:
            ws.row_dimensions[row].height = _BLANK_ROW
    blocks: dict[int, int] = {}
    merged: list[list[int]] = []
    for first, last in sorted(keep):
        if merged and first <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], last)  # overlapping blocks stay together as one
        else:
            merged.append([first, last])
    for first, last in merged:
        blocks[first] = last
    used = 0.0
    for row in range(1, last_row + 1):
        if row in blocks:
            block = sum(ws.row_dimensions[r].height for r in range(row, blocks[row] + 1))
            if used and used + block > _PAGE_HEIGHT and block <= _PAGE_HEIGHT:
                ws.row_breaks.append(Break(id=row - 1))
                used = 0.0
        height = ws.row_dimensions[row].height
        if used + height > _PAGE_HEIGHT:
            used = 0.0  # the printer breaks here by itself
        used += height


def _write_document_head(ws, ctx: _Context) -> int:
    """Issuing body, motto, number, place and date, title and subject; returns the next row."""
    superior_name = None
    if ctx.level == "commune":
        superior_name = (ctx.parent or {}).get("name") or (ctx.province or {}).get("name")
    elif ctx.level == "district":
        superior_name = (ctx.province or {}).get("name")
    unit_upper = _upper(ctx.unit_name)
    if superior_name:
        top = t("xlsx_report.superior", unit=_upper(_clean(superior_name)))
        body = t("xlsx_report.body", unit=unit_upper)
        top_bold = False
    else:
        # A province has no superior body: its own name goes on two lines, both bold.
        top, body = t("xlsx_report.body_top"), t("xlsx_report.body_top_unit", unit=unit_upper)
        top_bold = True
    _merge(ws, 1, 1, 2, top, size=_SIZE_HEAD, bold=top_bold, h="center", wrap=True)
    _merge(ws, 2, 1, 2, body, size=_SIZE_HEAD, bold=True, h="center", wrap=True)
    _merge(ws, 1, 3, 6, t("xlsx_report.motto_1"), size=_SIZE_HEAD, bold=True, h="center")
    _merge(ws, 2, 3, 6, t("xlsx_report.motto_2"), size=_SIZE_TITLE, bold=True, h="center")
    left = sum(_SUMMARY_WIDTHS[:2])
    for row, text in ((1, top), (2, body)):
        ws.row_dimensions[row].height = _height(_lines(text, left, _SIZE_HEAD), _SIZE_TITLE)
    # The short rules under the body's name and under the motto (Nghị định 30).
    _merge(ws, 3, 1, 2, _RULE_SHORT, size=_SIZE_BODY, h="center")
    _merge(ws, 3, 3, 6, _RULE_LONG, size=_SIZE_BODY, h="center")
    ws.row_dimensions[3].height = 10
    number = ctx.number
    if number and "/" not in number:
        number = f"{number}{t('xlsx_report.number_suffix')}"
    if not number:
        number = "\u2002\u2002\u2002\u2002\u2002" + t("xlsx_report.number_suffix")
    _merge(ws, 4, 1, 2, t("xlsx_report.number", number=number), size=_SIZE_HEAD, h="center")
    day = ctx.generated
    place_date = t(
        "xlsx_report.place_date",
        place=ctx.place,
        day=_nd30_number(day.day, day.day < 10),
        month=_nd30_number(day.month, day.month <= 2),
        year=day.year,
    )
    _merge(ws, 4, 3, 6, place_date, size=_SIZE_HEAD, italic=True, h="center")
    ws.row_dimensions[4].height = _height(1, _SIZE_HEAD)
    _merge(ws, 6, 1, 6, t("xlsx_report.title"), size=_SIZE_TITLE, bold=True, h="center")
    subject = t("xlsx_report.subject", month=ctx.month_text, year=ctx.year)
    _merge(ws, 7, 1, 6, subject, size=_SIZE_TITLE, bold=True, h="center", wrap=True)
    period = t("xlsx_report.period", start=ctx.start.strftime("%d/%m/%Y"), end=ctx.end.strftime("%d/%m/%Y"))
    _merge(ws, 8, 1, 6, period, size=_SIZE_BODY, italic=True, h="center")
    for row in (6, 7):
        ws.row_dimensions[row].height = _height(1, _SIZE_TITLE)
    ws.row_dimensions[8].height = _height(1, _SIZE_BODY)
    return 10


def _section(ws, line: int, numeral: str, title: str) -> int:
    _merge(ws, line, 1, 6, f"{numeral}. {title}", size=_SIZE_BODY, bold=True)
    ws.row_dimensions[line].height = _height(1, _SIZE_BODY)
    return line + 1


def _write_indicators(ws, ctx: _Context, line: int) -> int:
    heads = [
        t("xlsx_report.col_no"),
        t("xlsx_report.col_indicator"),
        t("xlsx_report.col_measure"),
        ctx.col_month(),
        ctx.col_ytd(),
        t("xlsx_report.col_total"),
    ]
    for col, head in enumerate(heads, start=1):
        _put(ws, line, col, head, size=_SIZE_BODY, bold=True, h="center", wrap=True, box=True)
    ws.row_dimensions[line].height = _height(2, _SIZE_BODY)
    line += 1
    total = ctx.total
    number = 0

    def label_row(label: str, measure: str, *, italic: bool = False, indent: int = 0, counted: bool = True):
        nonlocal number
        if counted:
            number += 1
        _put(ws, line, 1, number if counted else None, size=_SIZE_BODY, h="center", box=True)
        _put(ws, line, 2, label, size=_SIZE_BODY, italic=italic, indent=indent, wrap=True, box=True)
        _put(ws, line, 3, measure, size=_SIZE_BODY, h="center", box=True)
        ws.row_dimensions[line].height = _height(_lines(label, _SUMMARY_WIDTHS[1], _SIZE_BODY), _SIZE_BODY)

    for key, measure, fmt in _STOCKS:
        label_row(t(f"xlsx_report.ind.{key}"), t(f"xlsx_report.measure.{measure}"))
        # A stock is one figure at the end of the month: spread over the three period columns.
        _merge(ws, line, 4, 6, _stock(total, key), fmt=fmt, size=_SIZE_BODY, h="center", box=True)
        line += 1
    for key, measure, fmt in ctx.flows:
        label_row(t(f"xlsx_report.ind.{key}"), t(f"xlsx_report.measure.{measure}"))
        for col, part in ((4, "month"), (5, "ytd"), (6, "total")):
            _put(ws, line, col, _flow(total, key, part), fmt=fmt, size=_SIZE_BODY, box=True)
        line += 1
    if ctx.services:
        label_row(t("xlsx_report.by_service"), "", italic=True, counted=False)
        for col in (4, 5, 6):
            _put(ws, line, col, None, box=True)
        line += 1
        for service in ctx.services:
            code = str(service.get("code") or "")
            name = service.get("name") or code
            label_row(name, t("xlsx_report.measure.people"), italic=True, indent=2, counted=False)
            for col, part in ((4, "month"), (5, "ytd"), (6, "total")):
                value = _service(total, code, part)
                _put(ws, line, col, value, fmt=NUMBER, size=_SIZE_BODY, italic=True, box=True)
            line += 1
    return line


def _write_targets(ws, ctx: _Context, line: int) -> int:
    if not ctx.targets:
        _merge(ws, line, 1, 6, t("xlsx_report.no_targets"), size=_SIZE_BODY, italic=True)
        ws.row_dimensions[line].height = _height(1, _SIZE_BODY)
        return line + 1
    heads = [
        t("xlsx_report.col_no"),
        t("xlsx_report.col_indicator"),
        t("xlsx_report.col_year"),
        t("xlsx_report.col_plan"),
        t("xlsx_report.col_actual"),
        t("xlsx_report.col_progress"),
    ]
    for col, head in enumerate(heads, start=1):
        _put(ws, line, col, head, size=_SIZE_BODY, bold=True, h="center", wrap=True, box=True)
    ws.row_dimensions[line].height = _height(1, _SIZE_BODY)
    line += 1
    for number, target in enumerate(ctx.targets, start=1):
        indicator = str(target.get("indicator") or "")
        label = t(f"xlsx_report.ind.{indicator}")
        if label == f"xlsx_report.ind.{indicator}":
            label = indicator  # an indicator this version has no name for: show its key
        base = str(target.get("base") or "")
        if target.get("percent") and base:
            base_label = t(f"xlsx_report.ind.{base}")
            if base_label != f"xlsx_report.ind.{base}":
                base_label = base_label[:1].lower() + base_label[1:]
            label = t("xlsx_report.target_share", indicator=label, base=base_label)
        # A percent target is a fraction like every percentage in the report (0.7 = 70 %).
        fmt = PERCENT if target.get("percent") or indicator in _PERCENT_KEYS else NUMBER
        year = target.get("year")
        _put(ws, line, 1, number, size=_SIZE_BODY, h="center", box=True)
        _put(ws, line, 2, label, size=_SIZE_BODY, wrap=True, box=True)
        ws.row_dimensions[line].height = _height(_lines(label, _SUMMARY_WIDTHS[1], _SIZE_BODY), _SIZE_BODY)
        year = year if isinstance(year, int) else _clean(year or "")
        _put(ws, line, 3, year, size=_SIZE_BODY, h="center", box=True)
        _put(ws, line, 4, _number_or_none(target.get("value")), fmt=fmt, size=_SIZE_BODY, box=True)
        _put(ws, line, 5, _number_or_none(target.get("actual")), fmt=fmt, size=_SIZE_BODY, box=True)
        _put(ws, line, 6, _number_or_none(target.get("progress")), fmt=PERCENT, size=_SIZE_BODY, box=True)
        line += 1
    return line


def _number_or_none(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _chart_text(size: int, bold: bool = False) -> CharacterProperties:
    return CharacterProperties(latin=DrawingFont(typeface=FONT), sz=size * 100, b=bold)


def _rich(size: int, bold: bool = False) -> RichText:
    props = _chart_text(size, bold)
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=props), endParaRPr=props)])


def _title(text: str, size: int, bold: bool = True) -> Title:
    props = _chart_text(size, bold)
    run = RegularTextRun(rPr=props, t=_clean(text))
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=props), r=[run])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


_ROW_CM = 15 * 2.54 / 72  # one 15 pt row in centimetres


def _add_chart(ws, ctx: _Context, line: int, source: _ChartSource) -> int:
    """A horizontal bar chart of people helped this month per unit; returns the row below it."""
    sheet, name_col, value_col, first, last, level_label = source  # a _ChartSource
    count = last - first + 1
    chart = BarChart()
    chart.type = "bar"  # horizontal: long Vietnamese names read along the axis
    chart.style = 10
    chart.title = _title(t("xlsx_report.chart_title", month=f"{ctx.month:02d}", year=ctx.year), _SIZE_BODY)
    values = Reference(sheet, min_col=value_col, min_row=first, max_row=last)
    series = Series(values, title=_clean(t("xlsx_report.chart_series")))
    chart.series.append(series)
    chart.set_categories(Reference(sheet, min_col=name_col, min_row=first, max_row=last))
    chart.x_axis.title = _title(level_label, _SIZE_TABLE)
    chart.y_axis.title = _title(t("xlsx_report.chart_axis_value"), _SIZE_TABLE)
    chart.x_axis.txPr = _rich(10)
    chart.y_axis.txPr = _rich(10)
    chart.y_axis.number_format = NUMBER
    chart.y_axis.scaling.min = 0  # bars start at zero, or small differences look huge
    # openpyxl 3.1 marks axes deleted unless told otherwise; Excel then draws no labels.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    # Units in table order from the top; the value axis stays at the bottom.
    chart.x_axis.scaling.orientation = "maxMin"
    chart.y_axis.crosses = "max"
    chart.legend = None
    if count <= 40:
        # Only the value: LibreOffice otherwise adds the category and series names too.
        chart.dataLabels = DataLabelList(showVal=True, showCatName=False, showSerName=False,
                                         showLegendKey=False, showPercent=False)
        chart.dataLabels.txPr = _rich(9)
    chart.width = 22
    # At most 15 cm: with its section title it must fit on one landscape page (see _paginate).
    chart.height = max(6.5, min(15.0, 2.5 + 0.6 * count))
    ws.add_chart(chart, f"A{line}")
    rows = math.ceil(chart.height / _ROW_CM)
    for row in range(line, line + rows):
        ws.row_dimensions[row].height = 15
    return line + rows


def _write_signature(ws, ctx: _Context, line: int) -> int:
    """'Nơi nhận' bottom left, 'Người lập biểu' in the middle, the chair's block bottom right.

    Returns the last row written.
    """
    recipients = [t("xlsx_report.recipients")]
    if ctx.level == "province":
        recipients.append(t("xlsx_report.recipient_ministry"))
    else:
        superior = (ctx.parent or {}).get("name") if ctx.level == "commune" else None
        superior = superior or (ctx.province or {}).get("name")
        if superior:
            recipients.append(t("xlsx_report.recipient_superior", unit=_in_sentence(_clean(superior))))
    recipients.append(t("xlsx_report.recipient_archive"))
    for offset, text in enumerate(recipients):
        first = offset == 0
        size = _SIZE_BODY if first else _SIZE_TABLE
        _merge(ws, line + offset, 1, 2, text, size=size, bold=first, italic=first)
        ws.row_dimensions[line + offset].height = _height(1, _SIZE_HEAD)
    _merge(ws, line, 3, 4, t("xlsx_report.preparer_title"), size=_SIZE_HEAD, bold=True, h="center")
    _merge(ws, line + 1, 3, 4, t("xlsx_report.sign_hint"), size=_SIZE_BODY, italic=True, h="center")
    _merge(ws, line, 5, 6, t("xlsx_report.sign_on_behalf"), size=_SIZE_HEAD, bold=True, h="center")
    _merge(ws, line + 1, 5, 6, t("xlsx_report.sign_title"), size=_SIZE_HEAD, bold=True, h="center")
    for row in range(line, line + 2):
        ws.row_dimensions[row].height = _height(1, _SIZE_HEAD)
    # Room for the signatures and the seal, then the names (left blank to be written by hand).
    names = line + max(len(recipients), 2) + 3
    for row in range(line + 2, names):
        if ws.row_dimensions[row].height is None:
            ws.row_dimensions[row].height = 22
    _merge(ws, names, 3, 4, ctx.preparer or "", size=_SIZE_HEAD, bold=True, h="center")
    _merge(ws, names, 5, 6, ctx.signer or "", size=_SIZE_HEAD, bold=True, h="center")
    ws.row_dimensions[names].height = _height(1, _SIZE_HEAD)
    return names
