"""An XlsxWriter workbook and its sheets, addressed as the layout code thinks: cells, formats, pages.

Two rules hold for every cell:
- numbers and dates are written as numbers and dates, with a display format;
- text goes through ``Sheet.put`` as ``write_string`` only, so a hamlet named ``=1+1`` stays
  text, never a formula (and gets Excel's quote prefix, so editing the cell keeps it text).

One cached format per distinct style keeps the export at the writer's speed.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime

from cdt.core.i18n import t
from cdt.reports.document import DATE, printable

FONT = "Times New Roman"

# Excel and LibreOffice may treat text starting with these as a formula when a user edits the
# cell: such text gets the quote prefix as well as the string type.
_FORMULA_START = ("=", "+", "-", "@")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")

# Sizes in points: Nghị định 30 asks 12-13 for the issuing body, 13-14 for the motto and title.
# Tables print at 11 pt; the appendices' widths keep every sheet within one A4 landscape page
# width so "fit to width" never shrinks them under 10 pt.
SIZE_HEAD = 13
SIZE_TITLE = 14
SIZE_BODY = 12
SIZE_TABLE = 11
SIZE_FOOTER = 10


def sheet_name(name: str) -> str:
    """A name Excel accepts for a sheet: no []:*?/\\, at most 31 characters."""
    return _SHEET_NAME_BAD.sub(" ", printable(name)).strip().strip("'")[:31] or "Sheet"


class Book:
    """The XlsxWriter workbook with one cached format per distinct style."""

    def __init__(self, book):
        self.book = book
        self.sheets: list[Sheet] = []
        self._formats: dict[tuple, object] = {}
        self._names: set[str] = set()

    def sheet(self, name: str, *, appendix: str | None = None, raw_name: bool = False) -> "Sheet":
        name = name if raw_name else sheet_name(name)
        base, n = name, 2
        while name.casefold() in self._names:  # Excel refuses two sheets of the same name
            suffix = f" ({n})"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        self._names.add(name.casefold())
        sheet = Sheet(self, self.book.add_worksheet(name), name, appendix)
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


class Sheet:
    """One worksheet, addressed 1-based like the layout code thinks (row 1 = Excel's row 1)."""

    def __init__(self, book: Book, ws, name: str, appendix: str | None):
        self.book, self.ws, self.name, self.appendix = book, ws, name, appendix
        self.heights: dict[int, float] = {}
        self.widths: dict[int, float] = {}
        self.breaks: list[int] = []

    # -- values
    def put(self, row: int, col: int, value, *, fmt: str | None = None, size: int = SIZE_TABLE,
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
            text = printable(value) if value is not None else ""
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
            text = printable(value) if isinstance(value, str) else ""
            quote = text.startswith(_FORMULA_START)
            block = self._fmt(style.get("size", SIZE_TABLE), style.get("bold", False), style.get("italic", False),
                              style.get("h"), style.get("wrap", False), style.get("box", False),
                              style.get("indent", 0), style.get("fill"), fmt, quote)
            self.ws.merge_range(row - 1, first - 1, last_row - 1, last - 1, None, block)
        self.put(row, first, value, **style)

    def rich(self, row: int, first: int, last: int, parts: list[tuple[str, bool]], *, size: int = SIZE_TABLE) -> None:
        """Text in runs, some bold (a section's title and what follows it on one line), merged across."""
        block = self._fmt(size, False, False, None, True, False, 0, None, None)
        runs: list = []
        for text, bold in parts:
            text = printable(text)
            if text:
                runs += [self._fmt(size, bold, False, None, False, False, 0, None, None), text]
        if last > first:
            self.ws.merge_range(row - 1, first - 1, row - 1, last - 1, None, block)
        self.ws.write_rich_string(row - 1, first - 1, *runs, block)

    def _fmt(self, size, bold, italic, h, wrap, box, indent, fill, num, quote=False):
        return self.book.fmt((size, bold, italic, h, wrap, box, indent, fill, num, quote))

    # -- layout
    def height(self, row: int, points: float) -> None:
        self.heights[row] = points

    def width(self, col: int, units: float) -> None:
        self.widths[col] = units

    def page_setup(self, *, footer: str, repeat: tuple[int, int] | None = None, portrait: bool = False) -> None:
        """A4 (the summary portrait, the appendices landscape), fit to the page width, Nghị định 30
        margins; the unit and "Trang x/y" at the foot of every page, numbered through the workbook."""
        ws = self.ws
        if portrait:
            ws.set_portrait()
        else:
            ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)  # as many pages down as the rows need
        # Inches: 25 mm left (binding), 15 mm right, 20 mm top and bottom; the footer 8 mm from the edge.
        ws.set_margins(left=0.98, right=0.59, top=0.79, bottom=0.79)
        ws.center_horizontally()
        font = f'&"{FONT},Regular"&{SIZE_FOOTER}'
        text = printable(footer).replace("&", "&&")
        page = t("xlsx_report.page_of", page="&P", pages="&N")
        ws.set_footer(f"&L{font}{text}&R{font}{page}", {"margin": 0.31})
        if repeat:
            ws.repeat_rows(repeat[0] - 1, repeat[1] - 1)

    def finish(self) -> None:
        for col, units in self.widths.items():
            self.ws.set_column(col - 1, col - 1, units)
        for row, points in self.heights.items():
            self.ws.set_row(row - 1, points)
        if self.breaks:
            self.ws.set_h_pagebreaks(sorted(set(self.breaks)))


def wrapped_lines(text: str, width: float, size: int, *, char: float = 1.05) -> int:
    """How many lines text takes when wrapped in a column of the given width (an estimate).

    char: the width of an average character against a digit's: 1.05 is safe for any text (a
    row never clips), 0.85 is measured for running Vietnamese text in Times New Roman."""
    # A column width counts characters of the default font (Times New Roman 12); smaller text fits more.
    per_line = max(1.0, width * SIZE_BODY / size / char)
    total = 0
    for part in str(text).split("\n"):
        total += max(1, math.ceil(len(part) / per_line))
    return total


def row_height(lines: int, size: int) -> float:
    """The height in points of a row of that many lines of text at that size."""
    return round(lines * size * 1.25 + 3, 1)
