"""The monthly report as an .xlsx workbook in the Vietnamese administrative layout, written with XlsxWriter.

The layout follows Nghị định 30/2020/NĐ-CP: issuing body under its superior (top left), national
motto (top right), number, place and date, title and subject, the tables, then "Nơi nhận" and
the signature block. The detail tables are appendices ("Phụ lục I", "Phụ lục II"…), each on its
own sheet with its own title and its own page numbers, split so that every table prints at 10 pt
or more on A4 landscape with its header rows repeated on every page. The input is the plain dict
of ``docs/report-shape.md``; nothing here queries the database.

Two rules hold for every cell:
- numbers and dates are written as numbers and dates, with a display format;
- text goes through ``_Sheet.put`` as ``write_string`` only, so a hamlet named ``=1+1`` stays
  text, never a formula (and gets Excel's quote prefix, so editing the cell keeps it text).

XlsxWriter writes; openpyxl stays for reading untrusted workbooks (and the tests read this one back).
One cached format per distinct style keeps the export at the writer's speed (issue 12).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from cdt.core.errors import CdtError, os_reason
from cdt.core.i18n import t
from cdt.core.text import nfc

FONT = "Times New Roman"
# Format codes in an .xlsx file are always written in the invariant (en-US) syntax: "," means
# "group thousands" and "." means "decimal point". Excel and LibreOffice then display them with
# the viewer's locale, so a Vietnamese machine shows 12.345 and 24,6 %.
NUMBER = "#,##0"
PERCENT = "0.0%"
DATE = "dd/mm/yyyy"

# Excel and LibreOffice may treat text starting with these as a formula when a user edits the
# cell: such text gets the quote prefix as well as the string type.
_FORMULA_START = ("=", "+", "-", "@")
# Control characters XML 1.0 cannot carry, lone surrogates and U+FFFE/U+FFFF.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MAX_CELL_TEXT = 32767  # Excel's limit per cell
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_NUMERALS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV")

# Type words that start a unit's name, longest first: "Thị trấn Hùng Sơn" -> "Hùng Sơn".
_TYPE_WORDS = ("thành phố", "thị trấn", "thị xã", "đặc khu", "phường", "huyện", "quận", "tỉnh", "xã")

_MISSING_FILL = "#FDE2E1"

# Sizes in points: Nghị định 30 asks 12-13 for the issuing body, 13-14 for the motto and title.
# Tables print at 11 pt; the widths below keep every sheet within one A4 landscape page width so
# "fit to width" never shrinks them under 10 pt.
_SIZE_HEAD = 13
_SIZE_TITLE = 14
_SIZE_BODY = 12
_SIZE_TABLE = 11
# Widest a table sheet may be, in column-width units, to print unshrunk on A4 landscape with the
# Nghị định 30 margins (257 mm of paper across; one unit of Times New Roman 12 is about 2.3 mm).
_MAX_TABLE_WIDTH = 108
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
_TREND_KEYS = ("visits", "households_reached", "people_helped", "digital_citizens")
_SERVICES_PER_SHEET = 4


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
    import xlsxwriter

    path = Path(path)
    ctx = _Context(report, number=number, place=place, signer=signer, preparer=preparer)
    # Save beside the target and rename, so a failed save never leaves half a workbook behind.
    partial = path.with_name(path.name + ".part")
    book = xlsxwriter.Workbook(str(partial), {
        "default_format_properties": {"font_name": FONT, "font_size": _SIZE_BODY},
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        # Parts assembled in memory: a temporary file per part (and deleting them) cost a third
        # of the export's time. A report's workbook is small.
        "in_memory": True,
    })
    try:
        book.set_properties({"title": _clean(t("xlsx_report.subject", month=ctx.month_text, year=ctx.year)),
                             "author": "cdt", "creator": "cdt"})
        _write_workbook(_Book(book), ctx)
        book.close()
        partial.replace(path)
    except OSError as exc:
        if partial.exists():
            try:
                partial.unlink()
            except OSError:
                pass
        raise CdtError("xlsx_report.cannot_write", path=str(path), reason=os_reason(exc)) from exc
    except Exception as exc:
        # XlsxWriter reports a file it cannot create as its own error, wrapping the OSError.
        reason = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else None
        if partial.exists():
            try:
                partial.unlink()
            except OSError:
                pass
        if reason is not None:
            raise CdtError("xlsx_report.cannot_write", path=str(path), reason=os_reason(reason)) from exc
        raise
    return path


def _write_workbook(book: "_Book", ctx: "_Context") -> None:
    """The summary first, then one appendix sheet per table, numbered I, II, III…"""
    summary = book.sheet(t("xlsx_report.sheet_summary"))
    appendices: list[tuple[str, str]] = []  # (numeral, title) for the list on the summary
    numerals = iter(_NUMERALS)

    def appendix(sheet_key: str, title: str) -> tuple["_Sheet", str]:
        numeral = next(numerals)
        sheet = book.sheet(t(sheet_key, numeral=numeral), appendix=numeral)
        appendices.append((numeral, title))
        return sheet, numeral

    chart_source = None
    sheet, numeral = appendix("xlsx_report.sheet_pl_register", t("xlsx_report.register_title"))
    _write_register_sheet(sheet, ctx, ctx.rows, ctx.row_level, t("xlsx_report.register_title"), numeral)
    sheet, numeral = appendix("xlsx_report.sheet_pl_activity", t("xlsx_report.activity_title"))
    chart_source = _write_activity_sheet(sheet, ctx, ctx.rows, ctx.row_level, t("xlsx_report.activity_title"),
                                         numeral)
    if ctx.level == "province" and ctx.commune_rows and ctx.row_level != "commune":
        title = t("xlsx_report.communes_register_title")
        sheet, numeral = appendix("xlsx_report.sheet_pl_communes_register", title)
        _write_register_sheet(sheet, ctx, ctx.commune_rows, "commune", title, numeral)
        title = t("xlsx_report.communes_activity_title")
        sheet, numeral = appendix("xlsx_report.sheet_pl_communes_activity", title)
        _write_activity_sheet(sheet, ctx, ctx.commune_rows, "commune", title, numeral)
    codes = [str(s.get("code") or "") for s in ctx.services]
    chunks = [ctx.services[i:i + _SERVICES_PER_SHEET] for i in range(0, len(codes), _SERVICES_PER_SHEET)] or [[]]
    first_numeral = None
    for index, chunk in enumerate(chunks):
        title = t("xlsx_report.services_title")
        if index:
            assert first_numeral is not None
            # One appendix in several sheets: the same numeral, "(tiếp theo)" in the title.
            name = _sheet_name(t("xlsx_report.sheet_pl_services", numeral=first_numeral) + f" ({index + 1})")
            sheet = book.sheet(name, appendix=first_numeral, raw_name=True)
            _write_services_sheet(sheet, ctx, chunk, t("xlsx_report.continued", title=title), first_numeral,
                                  last=index == len(chunks) - 1)
        else:
            sheet, first_numeral = appendix("xlsx_report.sheet_pl_services", title)
            _write_services_sheet(sheet, ctx, chunk, title, first_numeral, last=len(chunks) == 1)
    # The charts have an appendix of their own: on the summary a tall chart pushed the
    # signature onto a page of its own; on a table sheet the repeated header rows would print above it.
    title = t("xlsx_report.charts_title") if ctx.trends else t("xlsx_report.section_chart")
    sheet, numeral = appendix("xlsx_report.sheet_pl_charts", title)
    _write_trend_sheet(book, sheet, ctx, title, numeral, chart_source)
    if ctx.trends:
        title = t("xlsx_report.trend_units_title")
        sheet, numeral = appendix("xlsx_report.sheet_pl_trend_units", title)
        _write_trend_units_sheet(sheet, ctx, title, numeral)
    if ctx.level != "commune":
        title = t("xlsx_report.completeness_title")
        sheet, numeral = appendix("xlsx_report.sheet_pl_completeness", title)
        _write_completeness_sheet(sheet, ctx, title, numeral)
    _write_summary_sheet(summary, ctx, appendices)
    for sheet in book.sheets:
        sheet.finish()


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
        trends = report.get("trends")
        self.trends = trends if isinstance(trends, dict) and trends.get("months") else None
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
    text = _ILLEGAL.sub("", nfc(str(value)))
    return text[:_MAX_CELL_TEXT]


def _sheet_name(name: str) -> str:
    return _SHEET_NAME_BAD.sub(" ", _clean(name)).strip().strip("'")[:31] or "Sheet"


class _Book:
    """The XlsxWriter workbook with one cached format per distinct style."""

    def __init__(self, book):
        self.book = book
        self.sheets: list[_Sheet] = []
        self._formats: dict[tuple, object] = {}
        self._names: set[str] = set()

    def sheet(self, name: str, *, appendix: str | None = None, raw_name: bool = False) -> "_Sheet":
        name = name if raw_name else _sheet_name(name)
        base, n = name, 2
        while name.casefold() in self._names:  # Excel refuses two sheets of the same name
            suffix = f" ({n})"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        self._names.add(name.casefold())
        sheet = _Sheet(self, self.book.add_worksheet(name, worksheet_class=_NdWorksheet), name, appendix)
        self.sheets.append(sheet)
        return sheet

    def fmt(self, key: tuple):
        found = self._formats.get(key)
        if found is None:
            size, bold, italic, h, wrap, box, indent, fill, num, quote = key
            props = {"font_name": FONT, "font_size": size, "valign": "vcenter"}
            if bold:
                props["bold"] = True
            if italic:
                props["italic"] = True
            if h:
                props["align"] = h
            if wrap:
                props["text_wrap"] = True
            if box:
                props["border"] = 1
            if indent:
                props["indent"] = indent
            if fill:
                props["bg_color"] = fill
                props["pattern"] = 1
            if num:
                props["num_format"] = num
            if quote:
                props["quote_prefix"] = True
            found = self._formats[key] = self.book.add_format(props)
        return found


def _nd_worksheet_class():
    from xlsxwriter.worksheet import Worksheet

    class NdWorksheet(Worksheet):
        """A worksheet whose page header is left off the first page (Nghị định 30: no number on page 1)."""

        different_first = False

        def _write_header_footer(self) -> None:  # XlsxWriter has no option for a different first page
            if not (self.different_first and self.header_footer_changed):
                super()._write_header_footer()
                return
            attributes = [("differentFirst", 1)]
            if not self.header_footer_scales:
                attributes.append(("scaleWithDoc", 0))
            if not self.header_footer_aligns:
                attributes.append(("alignWithMargins", 0))
            self._xml_start_tag("headerFooter", attributes)
            if self.header:
                self._write_odd_header()
            if self.footer:
                self._write_odd_footer()
            self._xml_end_tag("headerFooter")

    return NdWorksheet


class _LazyClass:
    """Resolve the worksheet class on first use: xlsxwriter is imported lazily (cdt --help stays fast)."""

    _cls = None

    def __call__(self, *args, **kwargs):
        if _LazyClass._cls is None:
            _LazyClass._cls = _nd_worksheet_class()
        return _LazyClass._cls(*args, **kwargs)


_NdWorksheet = _LazyClass()


class _Sheet:
    """One worksheet, addressed 1-based like the layout code thinks (row 1 = Excel's row 1)."""

    def __init__(self, book: _Book, ws, name: str, appendix: str | None):
        self.book, self.ws, self.name, self.appendix = book, ws, name, appendix
        self.heights: dict[int, float] = {}
        self.widths: dict[int, float] = {}
        self.breaks: list[int] = []

    # -- values
    def put(self, row: int, col: int, value, *, fmt: str | None = None, size: int = _SIZE_TABLE,
            bold: bool = False, italic: bool = False, h: str | None = None, wrap: bool = False,
            box: bool = False, indent: int = 0, fill: str | None = None) -> None:
        """Write value: text as a string (never a formula), numbers and dates as themselves."""
        r, c = row - 1, col - 1
        if isinstance(value, bool):
            value = None
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        if isinstance(value, (int, float)):
            self.ws.write_number(r, c, value, self._fmt(size, bold, italic, h, wrap, box, indent, fill, fmt))
        elif isinstance(value, (date, datetime)):
            day = value.date() if isinstance(value, datetime) else value
            self.ws.write_datetime(r, c, datetime(day.year, day.month, day.day),
                                   self._fmt(size, bold, italic, h, wrap, box, indent, fill, DATE))
        else:
            text = _clean(value) if value is not None else ""
            quote = text.startswith(_FORMULA_START)
            style = self._fmt(size, bold, italic, h, wrap, box, indent, fill, None if text else fmt, quote)
            if text:
                self.ws.write_string(r, c, text, style)
            else:
                self.ws.write_blank(r, c, None, style)

    def merge(self, row: int, first: int, last: int, value, *, last_row: int | None = None, **style) -> None:
        """Write value into a merged block (borders, when asked, on every cell of the block)."""
        last_row = last_row or row
        if last > first or last_row > row:
            fmt = style.get("fmt")
            text = _clean(value) if isinstance(value, str) else ""
            quote = text.startswith(_FORMULA_START)
            block = self._fmt(style.get("size", _SIZE_TABLE), style.get("bold", False), style.get("italic", False),
                              style.get("h"), style.get("wrap", False), style.get("box", False),
                              style.get("indent", 0), style.get("fill"), fmt, quote)
            self.ws.merge_range(row - 1, first - 1, last_row - 1, last - 1, None, block)
        self.put(row, first, value, **style)

    def _fmt(self, size, bold, italic, h, wrap, box, indent, fill, num, quote=False):
        return self.book.fmt((size, bold, italic, h, wrap, box, indent, fill, num, quote))

    # -- layout
    def height(self, row: int, points: float) -> None:
        self.heights[row] = points

    def width(self, col: int, units: float) -> None:
        self.widths[col] = units

    def page_setup(self, *, repeat: tuple[int, int] | None = None) -> None:
        """A4 landscape, fit to the page width, Nghị định 30 margins, page numbers at the top centre.

        The summary's numbers start on page 2; an appendix numbers its own pages from 1 and says
        which appendix it is in the page header.
        """
        ws = self.ws
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)  # as many pages down as the rows need
        # Inches: 25 mm left (binding), 15 mm right, 20 mm top and bottom.
        ws.set_margins(left=0.98, right=0.59, top=0.79, bottom=0.79)
        ws.center_horizontally()
        font = f'&"{FONT},Regular"&{_SIZE_BODY}'
        if self.appendix:
            label = t("xlsx_report.appendix_page", numeral=self.appendix).replace("&", "&&")
            ws.set_header(f"&C{font}{label} &P", {"margin": 0.3})
            ws.set_start_page(1)
        else:
            ws.set_header(f"&C{font}&P", {"margin": 0.3})
            ws.different_first = True
        if repeat:
            ws.repeat_rows(repeat[0] - 1, repeat[1] - 1)

    def finish(self) -> None:
        for col, units in self.widths.items():
            self.ws.set_column(col - 1, col - 1, units)
        for row, points in self.heights.items():
            self.ws.set_row(row - 1, points)
        if self.breaks:
            self.ws.set_h_pagebreaks(sorted(set(self.breaks)))


def _lines(text: str, width: float, size: int) -> int:
    """How many lines text takes when wrapped in a column of the given width (an estimate)."""
    # A column width counts characters of the default font (Times New Roman 12); smaller text fits more.
    per_line = max(1.0, width * _SIZE_BODY / size / 1.05)
    total = 0
    for part in str(text).split("\n"):
        total += max(1, math.ceil(len(part) / per_line))
    return total


def _height(lines: int, size: int) -> float:
    return round(lines * size * 1.25 + 3, 1)


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
# Appendix sheets: one table each, at 11 pt, never wider than the page


@dataclass
class _Col:
    head: str
    sub: str | None = None
    width: float = 8
    fmt: str | None = NUMBER


_LABEL_ROW, _TITLE_ROW, _SUBTITLE_ROW, _HEAD_ROW, _SUB_ROW, _FIRST_DATA_ROW = 1, 2, 3, 5, 6, 7


def _appendix_top(ws: _Sheet, ctx: _Context, numeral: str, title: str, last: int, width: float) -> None:
    """'Phụ lục I' (bold, centred), the appendix's title and the unit and month under it."""
    ws.merge(_LABEL_ROW, 1, last, t("xlsx_report.appendix", numeral=numeral), size=_SIZE_HEAD, bold=True,
             h="center")
    ws.height(_LABEL_ROW, _height(1, _SIZE_HEAD))
    ws.merge(_TITLE_ROW, 1, last, title, size=_SIZE_HEAD, bold=True, h="center", wrap=True)
    ws.height(_TITLE_ROW, _height(_lines(title, width, _SIZE_HEAD), _SIZE_HEAD))
    ws.merge(_SUBTITLE_ROW, 1, last, ctx.subtitle(), size=_SIZE_BODY, italic=True, h="center")
    ws.height(_SUBTITLE_ROW, _height(1, _SIZE_BODY))
    ws.height(_SUBTITLE_ROW + 1, 8)


def _fit(cols: list[_Col], name_index: int = 1) -> None:
    """Narrow the name column so the table stays within one page width (no shrinking under 10 pt)."""
    excess = sum(col.width for col in cols) - _MAX_TABLE_WIDTH
    if excess > 0:
        cols[name_index].width = max(16, cols[name_index].width - excess)


def _table_head(ws: _Sheet, ctx: _Context, numeral: str, title: str, cols: list[_Col]) -> None:
    """Appendix label, title, subtitle and the two header rows, repeated on every printed page."""
    _fit(cols)
    last = len(cols)
    total_width = sum(col.width for col in cols)
    _appendix_top(ws, ctx, numeral, title, last, total_width)
    head_lines, sub_lines = 1, 1
    index = 0
    while index < last:
        col = cols[index]
        if col.sub is None:
            ws.merge(_HEAD_ROW, index + 1, index + 1, col.head, last_row=_SUB_ROW,
                     bold=True, h="center", wrap=True, box=True)
            head_lines = max(head_lines, math.ceil(_lines(col.head, col.width, _SIZE_TABLE) / 2))
            index += 1
            continue
        end = index
        while end + 1 < last and cols[end + 1].sub is not None and cols[end + 1].head == col.head:
            end += 1
        width = sum(c.width for c in cols[index : end + 1])
        ws.merge(_HEAD_ROW, index + 1, end + 1, col.head, bold=True, h="center", wrap=True, box=True)
        head_lines = max(head_lines, _lines(col.head, width, _SIZE_TABLE))
        for c in range(index, end + 1):
            ws.put(_SUB_ROW, c + 1, cols[c].sub, bold=True, h="center", wrap=True, box=True)
            sub_lines = max(sub_lines, _lines(cols[c].sub, cols[c].width, _SIZE_TABLE))
        index = end + 1
    for number, col in enumerate(cols, start=1):
        ws.width(number, col.width)
    ws.height(_HEAD_ROW, _height(head_lines, _SIZE_TABLE))
    ws.height(_SUB_ROW, _height(sub_lines, _SIZE_TABLE))
    ws.ws.freeze_panes(_FIRST_DATA_ROW - 1, 2)
    ws.page_setup(repeat=(_HEAD_ROW, _SUB_ROW))


def _table_row(ws: _Sheet, row: int, values: list, cols: list[_Col], *, bold: bool = False,
               fill: str | None = None) -> None:
    for number, (value, col) in enumerate(zip(values, cols), start=1):
        text_like = col.fmt is None
        ws.put(row, number, value, fmt=col.fmt, bold=bold, box=True, fill=fill,
               h=("center" if number == 1 else None) if text_like else None, wrap=text_like)


def _name_width(names, minimum: float = 20, maximum: float = 28) -> float:
    longest = max((len(name) for name in names), default=0)
    return max(minimum, min(maximum, longest * 0.9 + 2))


@dataclass
class _ChartSource:
    """Where the summary chart finds its figures: unit names and people helped this month."""

    sheet: str
    name_col: int
    value_col: int
    first_row: int
    last_row: int
    level_label: str
    empty: bool


def _unit_cols(ctx: _Context, names: list[str], row_level: str) -> list[_Col]:
    return [_Col(t("xlsx_report.col_no"), width=4.5, fmt=None),
            _Col(ctx.level_label(row_level), width=_name_width(names), fmt=None)]


def _write_rows(ws: _Sheet, ctx: _Context, rows: list[dict], names: list[str], cols: list[_Col], values) -> int:
    line = _FIRST_DATA_ROW
    for number, (row, name) in enumerate(zip(rows, names), start=1):
        _table_row(ws, line, [number, name] + values(row), cols)
        line += 1
    _table_row(ws, line, ["", t("xlsx_report.total_row")] + values(ctx.total), cols, bold=True)
    return line


def _write_register_sheet(ws: _Sheet, ctx: _Context, rows: list[dict], row_level: str, title: str,
                          numeral: str) -> None:
    """Teams, hamlets, members and training per unit (stocks at the month's end) and the total."""
    names = [_unit_name(row) for row in rows]
    cols = _unit_cols(ctx, names, row_level)
    cols += [_Col(t(f"xlsx_report.ind.{key}"), width=8, fmt=fmt) for key, _, fmt in _STOCKS]
    _table_head(ws, ctx, numeral, title, cols)
    _write_rows(ws, ctx, rows, names, cols, lambda row: [_stock(row, key) for key, _, _ in _STOCKS])


def _write_activity_sheet(ws: _Sheet, ctx: _Context, rows: list[dict], row_level: str, title: str,
                          numeral: str) -> _ChartSource | None:
    """Visits, households, people and digital citizens per unit, month and year to date."""
    names = [_unit_name(row) for row in rows]
    cols = _unit_cols(ctx, names, row_level)
    for key, _, fmt in ctx.flows:
        head = t(f"xlsx_report.ind.{key}")
        cols.append(_Col(head, ctx.col_month(), width=8, fmt=fmt))
        cols.append(_Col(head, ctx.col_ytd(), width=8, fmt=fmt))
    _table_head(ws, ctx, numeral, title, cols)

    def values(row: dict) -> list:
        out = []
        for key, _, _ in ctx.flows:
            out += [_flow(row, key, "month"), _flow(row, key, "ytd")]
        return out

    _write_rows(ws, ctx, rows, names, cols, values)
    if not rows:
        return None
    people_month = 2 + 2 * [key for key, _, _ in ctx.flows].index("people_helped") + 1
    empty = not any(_flow(row, "people_helped", "month") for row in rows)
    return _ChartSource(ws.name, 2, people_month, _FIRST_DATA_ROW, _FIRST_DATA_ROW + len(rows) - 1,
                        ctx.level_label(row_level), empty)


def _write_services_sheet(ws: _Sheet, ctx: _Context, services: list[dict], title: str, numeral: str,
                          *, last: bool) -> None:
    """People helped per service (up to four a sheet), month and year to date, per unit and in total."""
    names = [_unit_name(row) for row in ctx.rows]
    cols = _unit_cols(ctx, names, ctx.row_level)
    cols += [_Col(t("xlsx_report.col_people_total"), ctx.col_month()),
             _Col(t("xlsx_report.col_people_total"), ctx.col_ytd())]
    codes = []
    for service in services:
        code = str(service.get("code") or "")
        head = _clean(service.get("name") or code)
        codes.append(code)
        cols += [_Col(head, ctx.col_month()), _Col(head, ctx.col_ytd())]
    _table_head(ws, ctx, numeral, title, cols)

    def values(row: dict) -> list:
        out = [_flow(row, "people_helped", "month"), _flow(row, "people_helped", "ytd")]
        for code in codes:
            out += [_service(row, code, "month"), _service(row, code, "ytd")]
        return out

    line = _write_rows(ws, ctx, ctx.rows, names, cols, values) + 2
    if last:
        note = t("xlsx_report.services_note") if codes else t("xlsx_report.no_services")
        ws.merge(line, 1, len(cols), note, italic=True, wrap=True)
        ws.height(line, _height(_lines(note, sum(c.width for c in cols), _SIZE_TABLE), _SIZE_TABLE))


def _month_label(ym: str) -> str:
    return f"{ym[5:7]}/{ym[:4]}" if len(ym) >= 7 else ym


def _write_trend_sheet(book: _Book, ws: _Sheet, ctx: _Context, title: str, numeral: str,
                       chart_source: _ChartSource | None) -> None:
    """People helped this month per unit (a bar chart, or a line saying there is nothing to show),
    then the last 12 months of the four main flows (a table and a line chart) and each target's
    path; people helped per unit and month follow in their own appendix (a table that spans pages)."""
    _appendix_top(ws, ctx, numeral, title, 14, 108)
    ws.page_setup(repeat=None)
    # Narrow month columns for the paths; the first five columns carry the trend table.
    for number, value in enumerate([12, 16, 16, 16, 16] + [7.5] * 9, start=1):
        ws.width(number, value)
    line = _HEAD_ROW
    ws.merge(line, 1, 14, f"1. {_sentence_case(t('xlsx_report.section_chart'))}", size=_SIZE_BODY, bold=True)
    ws.height(line, _height(1, _SIZE_BODY))
    line += 1
    if chart_source is None:
        ws.merge(line, 1, 14, t("xlsx_report.no_rows"), size=_SIZE_BODY, italic=True)
        ws.height(line, _height(1, _SIZE_BODY))
        line += 2
    elif chart_source.empty:
        # A chart of zeros draws a broken axis ("0 1 1"): say there is nothing to show instead.
        ws.merge(line, 1, 14, t("xlsx_report.empty_chart", month=f"{ctx.month:02d}", year=ctx.year),
                 size=_SIZE_BODY, italic=True)
        ws.height(line, _height(1, _SIZE_BODY))
        line += 2
    else:
        line = _add_chart(book, ws, ctx, line, chart_source) + 1
    trends = ctx.trends
    if not trends:
        return
    ws.breaks.append(line - 1)  # the trend on a page of its own
    ws.merge(line, 1, 14, f"2. {_sentence_case(t('xlsx_report.trend_title'))}", size=_SIZE_BODY, bold=True)
    ws.height(line, _height(1, _SIZE_BODY))
    line += 1
    months = [str(m) for m in trends.get("months") or []]
    keys = [k for k in _TREND_KEYS if isinstance((trends.get("total") or {}).get(k), list)]
    cols = [_Col(t("xlsx_report.col_months"), width=12, fmt=None)]
    cols += [_Col(t(f"xlsx_report.ind.{key}"), width=16) for key in keys]
    head_row = line
    for number, col in enumerate(cols, start=1):
        ws.put(line, number, col.head, bold=True, h="center", wrap=True, box=True)
    ws.height(line, _height(max(_lines(c.head, c.width, _SIZE_TABLE) for c in cols), _SIZE_TABLE))
    first = line + 1
    for index, month in enumerate(months):
        line += 1
        values = [trends["total"][key][index] if index < len(trends["total"][key]) else None for key in keys]
        _table_row(ws, line, [_month_label(month)] + values, cols)
        ws.height(line, _height(1, _SIZE_TABLE))
    line += 2
    if months and keys:
        chart = book.book.add_chart({"type": "line"})
        for offset, key in enumerate(keys, start=2):
            chart.add_series({
                "name": [ws.name, head_row - 1, offset - 1],
                "categories": [ws.name, first - 1, 0, first + len(months) - 2, 0],
                "values": [ws.name, first - 1, offset - 1, first + len(months) - 2, offset - 1],
                "marker": {"type": "circle", "size": 4},
            })
        chart.set_title({"name": _clean(t("xlsx_report.trend_chart_title", month=f"{ctx.month:02d}",
                                          year=ctx.year)),
                         "name_font": {"name": FONT, "size": _SIZE_BODY, "bold": True}})
        chart.set_x_axis({"num_font": {"name": FONT, "size": 10}})
        chart.set_y_axis({"num_font": {"name": FONT, "size": 10}, "num_format": NUMBER, "min": 0})
        chart.set_legend({"position": "bottom", "font": {"name": FONT, "size": 10}})
        chart.set_size({"width": 900, "height": 280})
        ws.ws.insert_chart(line - 1, 0, chart)
        for row in range(line, line + 14):
            ws.height(row, 15)
        line += 15
    paths = [p for p in trends.get("targets") or [] if p.get("path")]
    if paths:
        ws.breaks.append(line - 1)
        year = paths[0].get("year")
        ws.merge(line, 1, 14, t("xlsx_report.trend_targets_title", year=year), size=_SIZE_BODY, bold=True)
        ws.height(line, _height(1, _SIZE_BODY))
        line += 1
        path_months = sorted({point["month"] for p in paths for point in p["path"]})
        heads = [t("xlsx_report.col_indicator"), ""] + [_month_label(m) for m in path_months]
        ws.merge(line, 1, 2, heads[0], bold=True, h="center", wrap=True, box=True)
        for col, head in enumerate(heads[2:], start=3):
            ws.put(line, col, head, bold=True, h="center", wrap=True, box=True)
        ws.height(line, _height(1, _SIZE_TABLE))
        line += 1
        for target in paths:
            by_month = {point["month"]: point for point in target["path"]}
            fmt = PERCENT if target.get("percent") else NUMBER
            label = _target_label(target)
            parts = [("actual", t("xlsx_report.col_actual"), fmt), ("progress", t("xlsx_report.col_progress"), PERCENT)]
            if any(point.get("line") is not None for point in target["path"]):
                parts.insert(1, ("line", t("xlsx_report.col_line"), fmt))
            top = line
            for part, part_label, part_fmt in parts:
                ws.put(line, 2, part_label, italic=True, wrap=True, box=True)
                for col, month in enumerate(path_months, start=3):
                    point = by_month.get(month) or {}
                    ws.put(line, col, _number_or_none(point.get(part)), fmt=part_fmt, box=True)
                ws.height(line, _height(_lines(part_label, 16, _SIZE_TABLE), _SIZE_TABLE))
                line += 1
            ws.merge(top, 1, 1, label, last_row=line - 1, wrap=True, box=True, bold=True)


def _write_trend_units_sheet(ws: _Sheet, ctx: _Context, title: str, numeral: str) -> None:
    """People helped per unit in each of the last 12 months, and the 12-month sum."""
    trends = ctx.trends
    months = [str(m) for m in trends.get("months") or []]
    rows = list(trends.get("rows") or [])
    names = [_unit_name(row) for row in rows]
    cols = _unit_cols(ctx, names, ctx.row_level)
    head = t("xlsx_report.ind.people_helped")
    cols += [_Col(head, _month_label(m), width=6.5) for m in months]
    cols.append(_Col(t("xlsx_report.col_sum"), width=8))
    _table_head(ws, ctx, numeral, title, cols)
    line = _FIRST_DATA_ROW

    def values(series) -> list:
        series = [v if isinstance(v, (int, float)) and not isinstance(v, bool) else None for v in series or []]
        return series + [None] * (len(months) - len(series)) + [sum(v or 0 for v in series)]

    for number, (row, name) in enumerate(zip(rows, names), start=1):
        _table_row(ws, line, [number, name] + values(row.get("people_helped")), cols)
        line += 1
    _table_row(ws, line, ["", t("xlsx_report.total_row")] + values((trends.get("total") or {}).get("people_helped")),
               cols, bold=True)


def _completeness_counts(ctx: _Context) -> tuple[int, int, list[str]]:
    sent = sum(1 for entry in ctx.completeness if entry.get("reported"))
    missing = [_unit_name(entry) for entry in ctx.completeness if not entry.get("reported")]
    return len(ctx.completeness), sent, missing


def _write_completeness_sheet(ws: _Sheet, ctx: _Context, title: str, numeral: str) -> None:
    """Each expected unit: sent or not, when packed and when merged; then the counts."""
    names = [_unit_name(entry) for entry in ctx.completeness]
    cols = [
        _Col(t("xlsx_report.col_no"), width=5, fmt=None),
        _Col(t("xlsx_report.col_unit"), width=_name_width(names, minimum=28, maximum=40), fmt=None),
        _Col(t("xlsx_report.col_code"), width=11, fmt=None),
        _Col(t("xlsx_report.col_status"), width=13, fmt=None),
        _Col(t("xlsx_report.col_packed"), width=15, fmt=DATE),
        _Col(t("xlsx_report.col_merged"), width=15, fmt=DATE),
    ]
    _table_head(ws, ctx, numeral, title, cols)
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
        ws.merge(line, 2, 3, t(f"xlsx_report.{key}"), bold=True, box=True)
        ws.put(line, 4, value, fmt=NUMBER, bold=True, box=True)
        line += 1


# ---------------------------------------------------------------------------------------------
# The summary: the document itself

# Columns of the summary sheet: STT, indicator, measure, month, year to date, since the start.
_SUMMARY_WIDTHS = (6, 44, 12, 15, 15, 15)


def _write_summary_sheet(ws: _Sheet, ctx: _Context, appendices: list[tuple[str, str]]) -> None:
    ws.ws.hide_gridlines(2)
    for number, width in enumerate(_SUMMARY_WIDTHS, start=1):
        ws.width(number, width)
    ws.page_setup()
    keep: list[tuple[int, int]] = []  # row ranges a page break must not split
    line = _write_document_head(ws, ctx)
    sections = iter(("I", "II", "III", "IV", "V", "VI"))

    start = line
    line = _section(ws, line, next(sections), t("xlsx_report.section_indicators"))
    keep.append((start, line + 1))  # the title with the table's head and first row
    # Section I is the long table: where it runs onto the next page, its head row is printed again.
    ws.ws.repeat_rows(line - 1, line - 1)
    line = _write_indicators(ws, ctx, line) + 1

    start = line
    line = _section(ws, line, next(sections), t("xlsx_report.section_targets"))
    keep.append((start, line + 1))
    line = _write_targets(ws, ctx, line) + 1

    if appendices:
        start = line
        line = _section(ws, line, next(sections), t("xlsx_report.section_appendices"))
        keep.append((start, line))
        for numeral, title in appendices:
            text = t("xlsx_report.appendix_line", numeral=numeral, title=_sentence_case(title))
            ws.merge(line, 1, 6, text, size=_SIZE_BODY)
            ws.height(line, _height(_lines(text, sum(_SUMMARY_WIDTHS), _SIZE_BODY), _SIZE_BODY))
            line += 1
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
        line = _section(ws, line, next(sections), t("xlsx_report.section_notes"))
        width = sum(_SUMMARY_WIDTHS)
        for note in notes:
            ws.merge(line, 1, 6, note, size=_SIZE_BODY, wrap=True)
            ws.height(line, _height(_lines(note, width, _SIZE_BODY), _SIZE_BODY))
            last_text = line
            line += 1
    end = _write_signature(ws, ctx, line + 1)
    # Nghị định 30: the signature page carries some of the text too, so the last line goes with it.
    keep.append((last_text or line - 1, end))
    _paginate(ws, keep, end)


def _sentence_case(title: str) -> str:
    """'KẾT QUẢ HỖ TRỢ' -> 'Kết quả hỗ trợ' for a line of running text."""
    title = nfc(title)
    return title[:1] + title[1:].lower() if title.isupper() else title


# Printable height of a landscape A4 page in points: 210 mm less the 20 mm margins, with slack
# for rounding. The summary is narrower than the page, so fitting to width does not shrink it.
_PAGE_HEIGHT = 470.0
_BLANK_ROW = 10.0  # spacer rows between sections


def _paginate(ws: _Sheet, keep: list[tuple[int, int]], last_row: int) -> None:
    """Add page breaks so that no kept block (a table's head, the chart, the signature) splits.

    Every row of the summary gets an explicit height, so the pages fall where computed here in
    Excel and in LibreOffice alike.
    """
    for row in range(1, last_row + 1):
        if row not in ws.heights:
            ws.height(row, _BLANK_ROW)
    merged: list[list[int]] = []
    for first, last in sorted(keep):
        if merged and first <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], last)  # overlapping blocks stay together as one
        else:
            merged.append([first, last])
    blocks = {first: last for first, last in merged}
    used = 0.0
    for row in range(1, last_row + 1):
        if row in blocks:
            block = sum(ws.heights[r] for r in range(row, blocks[row] + 1))
            if used and used + block > _PAGE_HEIGHT and block <= _PAGE_HEIGHT:
                ws.breaks.append(row - 1)  # a break before this row (XlsxWriter counts rows from 0)
                used = 0.0
        height = ws.heights[row]
        if used + height > _PAGE_HEIGHT:
            used = 0.0  # the printer breaks here by itself
        used += height


def _write_document_head(ws: _Sheet, ctx: _Context) -> int:
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
    ws.merge(1, 1, 2, top, size=_SIZE_HEAD, bold=top_bold, h="center", wrap=True)
    ws.merge(2, 1, 2, body, size=_SIZE_HEAD, bold=True, h="center", wrap=True)
    ws.merge(1, 3, 6, t("xlsx_report.motto_1"), size=_SIZE_HEAD, bold=True, h="center")
    ws.merge(2, 3, 6, t("xlsx_report.motto_2"), size=_SIZE_TITLE, bold=True, h="center")
    left = sum(_SUMMARY_WIDTHS[:2])
    for row, text in ((1, top), (2, body)):
        ws.height(row, _height(_lines(text, left, _SIZE_HEAD), _SIZE_TITLE))
    # The short rules under the body's name and under the motto (Nghị định 30).
    ws.merge(3, 1, 2, _RULE_SHORT, size=_SIZE_BODY, h="center")
    ws.merge(3, 3, 6, _RULE_LONG, size=_SIZE_BODY, h="center")
    ws.height(3, 10)
    number = ctx.number
    if number and "/" not in number:
        number = f"{number}{t('xlsx_report.number_suffix')}"
    if not number:
        number = "\u2002\u2002\u2002\u2002\u2002" + t("xlsx_report.number_suffix")
    ws.merge(4, 1, 2, t("xlsx_report.number", number=number), size=_SIZE_HEAD, h="center")
    day = ctx.generated
    place_date = t(
        "xlsx_report.place_date",
        place=ctx.place,
        day=_nd30_number(day.day, day.day < 10),
        month=_nd30_number(day.month, day.month <= 2),
        year=day.year,
    )
    ws.merge(4, 3, 6, place_date, size=_SIZE_HEAD, italic=True, h="center")
    ws.height(4, _height(1, _SIZE_HEAD))
    ws.merge(6, 1, 6, t("xlsx_report.title"), size=_SIZE_TITLE, bold=True, h="center")
    subject = t("xlsx_report.subject", month=ctx.month_text, year=ctx.year)
    ws.merge(7, 1, 6, subject, size=_SIZE_TITLE, bold=True, h="center", wrap=True)
    period = t("xlsx_report.period", start=ctx.start.strftime("%d/%m/%Y"), end=ctx.end.strftime("%d/%m/%Y"))
    ws.merge(8, 1, 6, period, size=_SIZE_BODY, italic=True, h="center")
    for row in (6, 7):
        ws.height(row, _height(1, _SIZE_TITLE))
    ws.height(8, _height(1, _SIZE_BODY))
    return 10


def _section(ws: _Sheet, line: int, numeral: str, title: str) -> int:
    ws.merge(line, 1, 6, f"{numeral}. {title}", size=_SIZE_BODY, bold=True)
    ws.height(line, _height(1, _SIZE_BODY))
    return line + 1


def _write_indicators(ws: _Sheet, ctx: _Context, line: int) -> int:
    heads = [
        t("xlsx_report.col_no"),
        t("xlsx_report.col_indicator"),
        t("xlsx_report.col_measure"),
        ctx.col_month(),
        ctx.col_ytd(),
        t("xlsx_report.col_total"),
    ]
    for col, head in enumerate(heads, start=1):
        ws.put(line, col, head, size=_SIZE_BODY, bold=True, h="center", wrap=True, box=True)
    ws.height(line, _height(2, _SIZE_BODY))
    line += 1
    total = ctx.total
    number = 0

    def label_row(label: str, measure: str, *, italic: bool = False, indent: int = 0, counted: bool = True):
        nonlocal number
        if counted:
            number += 1
        ws.put(line, 1, number if counted else None, size=_SIZE_BODY, h="center", box=True)
        ws.put(line, 2, label, size=_SIZE_BODY, italic=italic, indent=indent, wrap=True, box=True)
        ws.put(line, 3, measure, size=_SIZE_BODY, h="center", box=True)
        ws.height(line, _height(_lines(label, _SUMMARY_WIDTHS[1], _SIZE_BODY), _SIZE_BODY))

    for key, measure, fmt in _STOCKS:
        label_row(t(f"xlsx_report.ind.{key}"), t(f"xlsx_report.measure.{measure}"))
        # A stock is one figure at the end of the month: spread over the three period columns.
        ws.merge(line, 4, 6, _stock(total, key), fmt=fmt, size=_SIZE_BODY, h="center", box=True)
        line += 1
    for key, measure, fmt in ctx.flows:
        label_row(t(f"xlsx_report.ind.{key}"), t(f"xlsx_report.measure.{measure}"))
        for col, part in ((4, "month"), (5, "ytd"), (6, "total")):
            ws.put(line, col, _flow(total, key, part), fmt=fmt, size=_SIZE_BODY, box=True)
        line += 1
    if ctx.services:
        label_row(t("xlsx_report.by_service"), "", italic=True, counted=False)
        for col in (4, 5, 6):
            ws.put(line, col, None, size=_SIZE_BODY, box=True)
        line += 1
        for service in ctx.services:
            code = str(service.get("code") or "")
            name = service.get("name") or code
            label_row(name, t("xlsx_report.measure.people"), italic=True, indent=2, counted=False)
            for col, part in ((4, "month"), (5, "ytd"), (6, "total")):
                ws.put(line, col, _service(total, code, part), fmt=NUMBER, size=_SIZE_BODY, italic=True, box=True)
            line += 1
    return line


def _target_label(target: dict) -> str:
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
    return label


def _write_targets(ws: _Sheet, ctx: _Context, line: int) -> int:
    if not ctx.targets:
        ws.merge(line, 1, 6, t("xlsx_report.no_targets"), size=_SIZE_BODY, italic=True)
        ws.height(line, _height(1, _SIZE_BODY))
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
        ws.put(line, col, head, size=_SIZE_BODY, bold=True, h="center", wrap=True, box=True)
    ws.height(line, _height(1, _SIZE_BODY))
    line += 1
    for number, target in enumerate(ctx.targets, start=1):
        indicator = str(target.get("indicator") or "")
        label = _target_label(target)
        # A percent target is a fraction like every percentage in the report (0.7 = 70 %).
        fmt = PERCENT if target.get("percent") or indicator in _PERCENT_KEYS else NUMBER
        year = target.get("year")
        ws.put(line, 1, number, size=_SIZE_BODY, h="center", box=True)
        ws.put(line, 2, label, size=_SIZE_BODY, wrap=True, box=True)
        ws.height(line, _height(_lines(label, _SUMMARY_WIDTHS[1], _SIZE_BODY), _SIZE_BODY))
        year = year if isinstance(year, int) and not isinstance(year, bool) else _clean(year or "")
        ws.put(line, 3, year, size=_SIZE_BODY, h="center", box=True)
        ws.put(line, 4, _number_or_none(target.get("value")), fmt=fmt, size=_SIZE_BODY, box=True)
        ws.put(line, 5, _number_or_none(target.get("actual")), fmt=fmt, size=_SIZE_BODY, box=True)
        ws.put(line, 6, _number_or_none(target.get("progress")), fmt=PERCENT, size=_SIZE_BODY, box=True)
        line += 1
    return line


def _number_or_none(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


_ROW_PT = 15.0


def _add_chart(book: _Book, ws: _Sheet, ctx: _Context, line: int, source: _ChartSource) -> int:
    """A horizontal bar chart of people helped this month per unit; returns the row below it."""
    count = source.last_row - source.first_row + 1
    chart = book.book.add_chart({"type": "bar"})  # horizontal: long Vietnamese names read along the axis
    series = {
        "name": _clean(t("xlsx_report.chart_series")),
        "categories": [source.sheet, source.first_row - 1, source.name_col - 1, source.last_row - 1,
                       source.name_col - 1],
        "values": [source.sheet, source.first_row - 1, source.value_col - 1, source.last_row - 1,
                   source.value_col - 1],
        "fill": {"color": "#2F5597"},
    }
    if count <= 40:
        series["data_labels"] = {"value": True, "num_format": NUMBER, "font": {"name": FONT, "size": 10}}
    chart.add_series(series)
    font = {"name": FONT, "size": 10}
    chart.set_title({"name": _clean(t("xlsx_report.chart_title", month=f"{ctx.month:02d}", year=ctx.year)),
                     "name_font": {"name": FONT, "size": _SIZE_BODY, "bold": True}})
    # In a bar chart the x axis is the value axis; units in table order from the top.
    chart.set_x_axis({"name": _clean(t("xlsx_report.chart_axis_value")), "min": 0, "num_format": NUMBER,
                      "num_font": font, "name_font": {"name": FONT, "size": _SIZE_TABLE}})
    # The unit names speak for themselves: no rotated axis title (it printed as tiny sideways text).
    chart.set_y_axis({"reverse": True, "num_font": font, "interval_unit": 1})  # every unit named
    chart.set_legend({"none": True})
    # At most 14 cm: with the appendix's title it fits on one landscape page, about half a
    # centimetre a unit so that every name prints at 10 pt.
    height_cm = max(6.0, min(14.0, 2.5 + 0.5 * count))
    chart.set_size({"width": round(20 / 2.54 * 96), "height": round(height_cm / 2.54 * 96)})
    ws.ws.insert_chart(line - 1, 0, chart, {"x_offset": 20, "object_position": 1})
    rows = math.ceil(height_cm / 2.54 * 72 / _ROW_PT)
    for row in range(line, line + rows):
        ws.height(row, _ROW_PT)
    return line + rows


def _write_signature(ws: _Sheet, ctx: _Context, line: int) -> int:
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
        ws.merge(line + offset, 1, 2, text, size=size, bold=first, italic=first)
        ws.height(line + offset, _height(1, _SIZE_HEAD))
    ws.merge(line, 3, 4, t("xlsx_report.preparer_title"), size=_SIZE_HEAD, bold=True, h="center")
    ws.merge(line + 1, 3, 4, t("xlsx_report.sign_hint"), size=_SIZE_BODY, italic=True, h="center")
    ws.merge(line, 5, 6, t("xlsx_report.sign_on_behalf"), size=_SIZE_HEAD, bold=True, h="center")
    ws.merge(line + 1, 5, 6, t("xlsx_report.sign_title"), size=_SIZE_HEAD, bold=True, h="center")
    for row in range(line, line + 2):
        ws.height(row, _height(1, _SIZE_HEAD))
    # Room for the signatures and the seal, then the names (left blank to be written by hand).
    names = line + max(len(recipients), 2) + 3
    for row in range(line + 2, names):
        if row not in ws.heights:
            ws.height(row, 22)
    ws.merge(names, 3, 4, ctx.preparer or "", size=_SIZE_HEAD, bold=True, h="center")
    ws.merge(names, 5, 6, ctx.signer or "", size=_SIZE_HEAD, bold=True, h="center")
    ws.height(names, _height(1, _SIZE_HEAD))
    return names
