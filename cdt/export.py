"""The monthly report as an .xlsx workbook in the Vietnamese administrative layout, written with XlsxWriter.

The layout follows Nghị định 30/2020/NĐ-CP (``cdt/reports/document.py``): issuing body under its
superior (top left), national motto (top right), number, place and date, title and subject, the
tables, then "Nơi nhận" and the signature block. The detail tables are appendices ("Phụ lục I",
"Phụ lục II"…, ``cdt/reports/xlsx_appendices.py``), each on its own sheet with its own title and
its own page numbers, split so that every table prints at 10 pt or more on A4 landscape with its
header rows repeated on every page. The input is the plain dict of ``docs/report-shape.md``;
nothing here queries the database. Every cell is written through ``cdt/reports/xlsx_sheet.py``
(numbers as numbers, text never a formula).

XlsxWriter writes; openpyxl stays for reading untrusted workbooks (and the tests read this one back).
"""

from __future__ import annotations

from pathlib import Path

from cdt.core.errors import CdtError, os_reason
from cdt.core.files import written_whole
from cdt.core.i18n import t
from cdt.reports.document import (NUMBER, NUMERALS, PERCENT, PERCENT_KEYS, SERVICES_PER_SHEET, STOCK_ROWS, Document,
                                  appendix_line, flow_value, number_or_none, printable, service_value, stock_value,
                                  target_label)
from cdt.reports.xlsx_appendices import (write_activity_sheet, write_completeness_sheet, write_register_sheet,
                                         write_services_sheet, write_trend_sheet, write_trend_units_sheet)
from cdt.reports.xlsx_sheet import (FONT, SIZE_BODY, SIZE_HEAD, SIZE_TABLE, SIZE_TITLE, Book, Sheet, row_height,
                                    sheet_name, wrapped_lines)

# Drawn as text: a cell border would run the full width of the merged block.
_RULE_SHORT = "\u2015" * 8
_RULE_LONG = "\u2015" * 14


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
    ctx = Document(report, number=number, place=place, signer=signer, preparer=preparer)
    try:
        # Written whole or not at all: a failed save never leaves half a workbook under the name.
        with written_whole(path) as partial:
            book = xlsxwriter.Workbook(str(partial), {
                "default_format_properties": {"font_name": FONT, "font_size": SIZE_BODY},
                "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
                # Parts assembled in memory: a temporary file per part (and deleting them) cost a
                # third of the export's time. A report's workbook is small.
                "in_memory": True,
            })
            book.set_properties({"title": printable(ctx.subject()), "author": "cdt", "creator": "cdt"})
            _write_workbook(Book(book), ctx)
            book.close()
    except OSError as exc:
        raise CdtError("xlsx_report.cannot_write", path=str(path), reason=os_reason(exc)) from exc
    except Exception as exc:
        # XlsxWriter reports a file it cannot create as its own error, wrapping the OSError.
        reason = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else None
        if reason is not None:
            raise CdtError("xlsx_report.cannot_write", path=str(path), reason=os_reason(reason)) from exc
        raise
    return path


def _write_workbook(book: "Book", ctx: "Document") -> None:
    """The summary first, then one appendix sheet per table, numbered I, II, III…"""
    summary = book.sheet(t("xlsx_report.sheet_summary"))
    appendices: list[tuple[str, str]] = []  # (numeral, title) for the list on the summary
    numerals = iter(NUMERALS)

    def appendix(sheet_key: str, title: str) -> tuple["Sheet", str]:
        numeral = next(numerals)
        sheet = book.sheet(t(sheet_key, numeral=numeral), appendix=numeral)
        appendices.append((numeral, title))
        return sheet, numeral

    chart_source = None
    sheet, numeral = appendix("xlsx_report.sheet_pl_register", t("xlsx_report.register_title"))
    write_register_sheet(sheet, ctx, ctx.rows, ctx.row_level, t("xlsx_report.register_title"), numeral)
    sheet, numeral = appendix("xlsx_report.sheet_pl_activity", t("xlsx_report.activity_title"))
    chart_source = write_activity_sheet(sheet, ctx, ctx.rows, ctx.row_level, t("xlsx_report.activity_title"),
                                        numeral)
    if ctx.level == "province" and ctx.commune_rows and ctx.row_level != "commune":
        title = t("xlsx_report.communes_register_title")
        sheet, numeral = appendix("xlsx_report.sheet_pl_communes_register", title)
        write_register_sheet(sheet, ctx, ctx.commune_rows, "commune", title, numeral)
        title = t("xlsx_report.communes_activity_title")
        sheet, numeral = appendix("xlsx_report.sheet_pl_communes_activity", title)
        write_activity_sheet(sheet, ctx, ctx.commune_rows, "commune", title, numeral)
    codes = [str(s.get("code") or "") for s in ctx.services]
    chunks = [ctx.services[i:i + SERVICES_PER_SHEET] for i in range(0, len(codes), SERVICES_PER_SHEET)] or [[]]
    first_numeral = None
    for index, chunk in enumerate(chunks):
        title = t("xlsx_report.services_title")
        if index:
            assert first_numeral is not None
            # One appendix in several sheets: the same numeral, "(tiếp theo)" in the title.
            name = sheet_name(t("xlsx_report.sheet_pl_services", numeral=first_numeral) + f" ({index + 1})")
            sheet = book.sheet(name, appendix=first_numeral, raw_name=True)
            write_services_sheet(sheet, ctx, chunk, t("xlsx_report.continued", title=title), first_numeral,
                                 last=index == len(chunks) - 1)
        else:
            sheet, first_numeral = appendix("xlsx_report.sheet_pl_services", title)
            write_services_sheet(sheet, ctx, chunk, title, first_numeral, last=len(chunks) == 1)
    # The charts have an appendix of their own: on the summary a tall chart pushed the
    # signature onto a page of its own; on a table sheet the repeated header rows would print above it.
    title = t("xlsx_report.charts_title") if ctx.trends else t("xlsx_report.section_chart")
    sheet, numeral = appendix("xlsx_report.sheet_pl_charts", title)
    write_trend_sheet(book, sheet, ctx, title, numeral, chart_source)
    if ctx.trends:
        title = t("xlsx_report.trend_units_title")
        sheet, numeral = appendix("xlsx_report.sheet_pl_trend_units", title)
        write_trend_units_sheet(sheet, ctx, title, numeral)
    if ctx.level != "commune":
        title = t("xlsx_report.completeness_title")
        sheet, numeral = appendix("xlsx_report.sheet_pl_completeness", title)
        write_completeness_sheet(sheet, ctx, title, numeral)
    _write_summary_sheet(summary, ctx, appendices)
    for sheet in book.sheets:
        sheet.finish()


# Columns of the summary sheet: STT, indicator, measure, month, year to date, since the start.
_SUMMARY_WIDTHS = (6, 44, 12, 15, 15, 15)


def _write_summary_sheet(ws: Sheet, ctx: Document, appendices: list[tuple[str, str]]) -> None:
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
            text = appendix_line(numeral, title)
            ws.merge(line, 1, 6, text, size=SIZE_BODY)
            ws.height(line, row_height(wrapped_lines(text, sum(_SUMMARY_WIDTHS), SIZE_BODY), SIZE_BODY))
            line += 1
        line += 1

    notes = ctx.summary_notes()
    last_text = None
    if notes:
        line = _section(ws, line, next(sections), t("xlsx_report.section_notes"))
        width = sum(_SUMMARY_WIDTHS)
        for note in notes:
            ws.merge(line, 1, 6, note, size=SIZE_BODY, wrap=True)
            ws.height(line, row_height(wrapped_lines(note, width, SIZE_BODY), SIZE_BODY))
            last_text = line
            line += 1
    end = _write_signature(ws, ctx, line + 1)
    # Nghị định 30: the signature page carries some of the text too, so the last line goes with it.
    keep.append((last_text or line - 1, end))
    _paginate(ws, keep, end)


# Printable height of a landscape A4 page in points: 210 mm less the 20 mm margins, with slack
# for rounding. The summary is narrower than the page, so fitting to width does not shrink it.
_PAGE_HEIGHT = 470.0
_BLANK_ROW = 10.0  # spacer rows between sections


def _paginate(ws: Sheet, keep: list[tuple[int, int]], last_row: int) -> None:
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


def _write_document_head(ws: Sheet, ctx: Document) -> int:
    """Issuing body, motto, number, place and date, title and subject; returns the next row."""
    top, body, top_bold = ctx.heading()
    ws.merge(1, 1, 2, top, size=SIZE_HEAD, bold=top_bold, h="center", wrap=True)
    ws.merge(2, 1, 2, body, size=SIZE_HEAD, bold=True, h="center", wrap=True)
    ws.merge(1, 3, 6, t("xlsx_report.motto_1"), size=SIZE_HEAD, bold=True, h="center")
    ws.merge(2, 3, 6, t("xlsx_report.motto_2"), size=SIZE_TITLE, bold=True, h="center")
    left = sum(_SUMMARY_WIDTHS[:2])
    for row, text in ((1, top), (2, body)):
        ws.height(row, row_height(wrapped_lines(text, left, SIZE_HEAD), SIZE_TITLE))
    # The short rules under the body's name and under the motto (Nghị định 30).
    ws.merge(3, 1, 2, _RULE_SHORT, size=SIZE_BODY, h="center")
    ws.merge(3, 3, 6, _RULE_LONG, size=SIZE_BODY, h="center")
    ws.height(3, 10)
    ws.merge(4, 1, 2, ctx.number_line(), size=SIZE_HEAD, h="center")
    ws.merge(4, 3, 6, ctx.place_date(), size=SIZE_HEAD, italic=True, h="center")
    ws.height(4, row_height(1, SIZE_HEAD))
    ws.merge(6, 1, 6, t("xlsx_report.title"), size=SIZE_TITLE, bold=True, h="center")
    ws.merge(7, 1, 6, ctx.subject(), size=SIZE_TITLE, bold=True, h="center", wrap=True)
    ws.merge(8, 1, 6, ctx.period_line(), size=SIZE_BODY, italic=True, h="center")
    for row in (6, 7):
        ws.height(row, row_height(1, SIZE_TITLE))
    ws.height(8, row_height(1, SIZE_BODY))
    return 10


def _section(ws: Sheet, line: int, numeral: str, title: str) -> int:
    ws.merge(line, 1, 6, f"{numeral}. {title}", size=SIZE_BODY, bold=True)
    ws.height(line, row_height(1, SIZE_BODY))
    return line + 1


def _write_indicators(ws: Sheet, ctx: Document, line: int) -> int:
    heads = [
        t("xlsx_report.col_no"),
        t("xlsx_report.col_indicator"),
        t("xlsx_report.col_measure"),
        ctx.col_month(),
        ctx.col_ytd(),
        t("xlsx_report.col_total"),
    ]
    for col, head in enumerate(heads, start=1):
        ws.put(line, col, head, size=SIZE_BODY, bold=True, h="center", wrap=True, box=True)
    ws.height(line, row_height(2, SIZE_BODY))
    line += 1
    total = ctx.total
    number = 0

    def label_row(label: str, measure: str, *, italic: bool = False, indent: int = 0, counted: bool = True):
        nonlocal number
        if counted:
            number += 1
        ws.put(line, 1, number if counted else None, size=SIZE_BODY, h="center", box=True)
        ws.put(line, 2, label, size=SIZE_BODY, italic=italic, indent=indent, wrap=True, box=True)
        ws.put(line, 3, measure, size=SIZE_BODY, h="center", box=True)
        ws.height(line, row_height(wrapped_lines(label, _SUMMARY_WIDTHS[1], SIZE_BODY), SIZE_BODY))

    for key, measure, fmt in STOCK_ROWS:
        label_row(t(f"xlsx_report.ind.{key}"), t(f"xlsx_report.measure.{measure}"))
        # A stock is one figure at the end of the month: spread over the three period columns.
        ws.merge(line, 4, 6, stock_value(total, key), fmt=fmt, size=SIZE_BODY, h="center", box=True)
        line += 1
    for key, measure, fmt in ctx.flows:
        label_row(t(f"xlsx_report.ind.{key}"), t(f"xlsx_report.measure.{measure}"))
        for col, part in ((4, "month"), (5, "ytd"), (6, "total")):
            ws.put(line, col, flow_value(total, key, part), fmt=fmt, size=SIZE_BODY, box=True)
        line += 1
    if ctx.services:
        label_row(t("xlsx_report.by_service"), "", italic=True, counted=False)
        for col in (4, 5, 6):
            ws.put(line, col, None, size=SIZE_BODY, box=True)
        line += 1
        for service in ctx.services:
            code = str(service.get("code") or "")
            name = service.get("name") or code
            label_row(name, t("xlsx_report.measure.people"), italic=True, indent=2, counted=False)
            for col, part in ((4, "month"), (5, "ytd"), (6, "total")):
                ws.put(line, col, service_value(total, code, part), fmt=NUMBER, size=SIZE_BODY, italic=True, box=True)
            line += 1
    return line


def _write_targets(ws: Sheet, ctx: Document, line: int) -> int:
    if not ctx.targets:
        ws.merge(line, 1, 6, t("xlsx_report.no_targets"), size=SIZE_BODY, italic=True)
        ws.height(line, row_height(1, SIZE_BODY))
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
        ws.put(line, col, head, size=SIZE_BODY, bold=True, h="center", wrap=True, box=True)
    ws.height(line, row_height(1, SIZE_BODY))
    line += 1
    for number, target in enumerate(ctx.targets, start=1):
        indicator = str(target.get("indicator") or "")
        label = target_label(target)
        # A percent target is a fraction like every percentage in the report (0.7 = 70 %).
        fmt = PERCENT if target.get("percent") or indicator in PERCENT_KEYS else NUMBER
        year = target.get("year")
        ws.put(line, 1, number, size=SIZE_BODY, h="center", box=True)
        ws.put(line, 2, label, size=SIZE_BODY, wrap=True, box=True)
        ws.height(line, row_height(wrapped_lines(label, _SUMMARY_WIDTHS[1], SIZE_BODY), SIZE_BODY))
        year = year if isinstance(year, int) and not isinstance(year, bool) else printable(year or "")
        ws.put(line, 3, year, size=SIZE_BODY, h="center", box=True)
        ws.put(line, 4, number_or_none(target.get("value")), fmt=fmt, size=SIZE_BODY, box=True)
        ws.put(line, 5, number_or_none(target.get("actual")), fmt=fmt, size=SIZE_BODY, box=True)
        ws.put(line, 6, number_or_none(target.get("progress")), fmt=PERCENT, size=SIZE_BODY, box=True)
        line += 1
    return line


def _write_signature(ws: Sheet, ctx: Document, line: int) -> int:
    """'Nơi nhận' bottom left, 'Người lập biểu' in the middle, the chair's block bottom right.

    Returns the last row written.
    """
    recipients = ctx.recipients()
    for offset, text in enumerate(recipients):
        first = offset == 0
        size = SIZE_BODY if first else SIZE_TABLE
        ws.merge(line + offset, 1, 2, text, size=size, bold=first, italic=first)
        ws.height(line + offset, row_height(1, SIZE_HEAD))
    ws.merge(line, 3, 4, t("xlsx_report.preparer_title"), size=SIZE_HEAD, bold=True, h="center")
    ws.merge(line + 1, 3, 4, t("xlsx_report.sign_hint"), size=SIZE_BODY, italic=True, h="center")
    ws.merge(line, 5, 6, t("xlsx_report.sign_on_behalf"), size=SIZE_HEAD, bold=True, h="center")
    ws.merge(line + 1, 5, 6, t("xlsx_report.sign_title"), size=SIZE_HEAD, bold=True, h="center")
    for row in range(line, line + 2):
        ws.height(row, row_height(1, SIZE_HEAD))
    # Room for the signatures and the seal, then the names (left blank to be written by hand).
    names = line + max(len(recipients), 2) + 3
    for row in range(line + 2, names):
        if row not in ws.heights:
            ws.height(row, 22)
    ws.merge(names, 3, 4, ctx.preparer or "", size=SIZE_HEAD, bold=True, h="center")
    ws.merge(names, 5, 6, ctx.signer or "", size=SIZE_HEAD, bold=True, h="center")
    ws.height(names, row_height(1, SIZE_HEAD))
    return names
