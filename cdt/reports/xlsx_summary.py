"""The workbook's first sheet: the report itself on A4 portrait, heading to signature, on one page where it can be.

Nghị định 30/2020 lays the report out: the issuing body under the body above it and the national
motto, number, place and date, title and subject, then the text (here: I. the key figures, II. the
targets, III. the appendices, IV. notes), "Nơi nhận" and the signature block. Every row gets an
explicit height and the page breaks are computed here, so Excel and LibreOffice break the same
way and the signature block always shares its page with the last rows of figures.
"""

from __future__ import annotations

from cdt.core.i18n import t
from cdt.reports.document import NUMBER, PERCENT, PERCENT_KEYS, Document, appendix_line, number_or_none, \
    printable, target_label
from cdt.reports.xlsx_sheet import SIZE_BODY, SIZE_TABLE, SIZE_TITLE, Sheet, row_height, wrapped_lines

# Columns: STT, the indicator (two columns, so that the heading's two blocks can be as wide as
# Nghị định 30 draws them), the measure, month, year to date, since the start. 73 units of width
# print within the 170 mm between the margins of an A4 portrait page.
_WIDTHS = (5, 26, 9, 9, 8, 8, 8)
_LEFT = sum(_WIDTHS[:2])  # the issuing body's block
_RIGHT = sum(_WIDTHS[2:])  # the motto's block
_LABEL = sum(_WIDTHS[1:3])
_ALL = sum(_WIDTHS)
_LAST = len(_WIDTHS)
# Printable height of an A4 portrait page in points (297 mm less the 20 mm margins: 728), less a little.
PAGE_HEIGHT = 726.0
_BLANK = 6.0
SIZE_HEAD = 12  # the heading at 12 pt keeps the motto on one line in the right block

# Running text (labels, notes) measured as it prints: see wrapped_lines.
_TEXT = 0.86

# Drawn as text: a cell border would run the full width of the merged block.
_RULE_SHORT = "\u2015" * 7
_RULE_LONG = "\u2015" * 12


def write_summary_sheet(ws: Sheet, ctx: Document, appendices: list[tuple[str, str]]) -> None:
    """The report's text: heading, sections I–IV, recipients and signature, paginated."""
    ws.ws.hide_gridlines(2)
    for number, width in enumerate(_WIDTHS, start=1):
        ws.width(number, width)
    ws.page_setup(footer=ctx.footer(), portrait=True)
    keep: list[tuple[int, int]] = []  # row ranges a page break must not split
    line = _write_heading(ws, ctx)
    numerals = iter(("I", "II", "III", "IV", "V"))

    start = line
    line = _section(ws, line, next(numerals), t("xlsx_report.section_indicators"))
    head = line
    keep.append((start, line + 1))  # the title with the table's head and first row
    line = _write_indicators(ws, ctx, line, keep)
    last_figures = line - 1
    if ctx.targets:
        line += 1
        start = line
        line = _section(ws, line, next(numerals), t("xlsx_report.section_targets"))
        keep.append((start, line + 1))
        line = _write_targets(ws, ctx, line)
        last_figures = line - 1
    else:
        line += 1
        ws.rich(line, 1, _LAST, [(f"{next(numerals)}. {t('xlsx_report.section_targets')}: ", True),
                                 (t("xlsx_report.no_targets"), False)], size=SIZE_BODY)
        ws.height(line, row_height(1, SIZE_BODY))
        line += 1

    if appendices:
        line += 1
        line = _section(ws, line, next(numerals), t("xlsx_report.section_appendices"))
        # "Phụ lục I: …; II: …": the titles themselves head each appendix.
        listed = "; ".join(appendix_line(numeral, title) if index == 0 else f"{numeral}: {title}"
                           for index, (numeral, title) in enumerate(appendices)) + "."
        line = _paragraph(ws, line, listed, size=SIZE_TABLE)
    notes = ctx.summary_notes(completeness_numeral=appendices[-2][0] if ctx.level != "commune" and
                              len(appendices) > 1 else "")
    if notes:
        line += 1
        line = _section(ws, line, next(numerals), t("xlsx_report.section_notes"))
        for note in notes:
            line = _paragraph(ws, line, note)
    end = _write_signature(ws, ctx, line + 1)
    # Nghị định 30: the signature never stands alone; it keeps the last rows of figures with it
    # when everything after them fits on one page, else at least the text just above it.
    tail = (max(last_figures - 2, head + 1), end)
    if sum(ws.heights.get(row, _BLANK) for row in range(tail[0], end + 1)) <= PAGE_HEIGHT * 0.8:
        keep.append(tail)
    else:
        keep.append((line - 1, end))
    paginate(ws, keep, end)


def _paragraph(ws: Sheet, line: int, text: str, *, bold: bool = False, italic: bool = False,
               size: int = SIZE_BODY) -> int:
    ws.merge(line, 1, _LAST, text, size=size, bold=bold, italic=italic, wrap=True)
    ws.height(line, row_height(wrapped_lines(text, _ALL, size, char=_TEXT), size))
    return line + 1


def paginate(ws: Sheet, keep: list[tuple[int, int]], last_row: int, page_height: float = PAGE_HEIGHT) -> None:
    """Add page breaks so that no kept block (a table's head, the signature with its figures) splits.

    Every row of the sheet gets an explicit height, so the pages fall where computed here in
    Excel and in LibreOffice alike.
    """
    for row in range(1, last_row + 1):
        if row not in ws.heights:
            ws.height(row, _BLANK)
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
            if used and used + block > page_height and block <= page_height:
                ws.breaks.append(row - 1)  # a break before this row (XlsxWriter counts rows from 0)
                used = 0.0
        height = ws.heights[row]
        if used + height > page_height:
            used = 0.0  # the printer breaks here by itself
        used += height


def _write_heading(ws: Sheet, ctx: Document) -> int:
    """Issuing body, motto, number, place and date, title and subject; returns the next row."""
    top, body, top_bold = ctx.heading()
    ws.merge(1, 1, 2, top, size=SIZE_HEAD, bold=top_bold, h="center", wrap=True)
    ws.merge(2, 1, 2, body, size=SIZE_HEAD, bold=True, h="center", wrap=True)
    ws.merge(1, 3, _LAST, t("xlsx_report.motto_1"), size=SIZE_HEAD, bold=True, h="center")
    ws.merge(2, 3, _LAST, t("xlsx_report.motto_2"), size=SIZE_TITLE - 1, bold=True, h="center", wrap=True)
    for row, text in ((1, top), (2, body)):
        # Capitals, often bold: wider than running text.
        ws.height(row, row_height(wrapped_lines(text, _LEFT * 0.95, SIZE_HEAD, char=1.3), SIZE_HEAD))
    # The short rules under the body's name and under the motto (Nghị định 30).
    ws.merge(3, 1, 2, _RULE_SHORT, size=SIZE_TABLE, h="center")
    ws.merge(3, 3, _LAST, _RULE_LONG, size=SIZE_TABLE, h="center")
    ws.height(3, 8)
    ws.merge(4, 1, 2, ctx.number_line(), size=SIZE_HEAD, h="center")
    place = ctx.place_date()
    ws.merge(4, 3, _LAST, place, size=SIZE_HEAD, italic=True, h="center", wrap=True)
    ws.height(4, row_height(max(1, wrapped_lines(place, _RIGHT, SIZE_HEAD)), SIZE_HEAD))
    ws.height(5, 6)
    ws.merge(6, 1, _LAST, t("xlsx_report.title"), size=SIZE_TITLE, bold=True, h="center")
    subject = ctx.subject()
    ws.merge(7, 1, _LAST, subject, size=SIZE_TITLE, bold=True, h="center", wrap=True)
    ws.merge(8, 1, _LAST, ctx.period_line(), size=SIZE_TABLE, italic=True, h="center")
    ws.height(6, row_height(1, SIZE_TITLE))
    ws.height(7, row_height(wrapped_lines(subject, _ALL * 0.95, SIZE_TITLE, char=_TEXT), SIZE_TITLE))
    ws.height(8, row_height(1, SIZE_TABLE))
    return 10


def _section(ws: Sheet, line: int, numeral: str, title: str) -> int:
    ws.merge(line, 1, _LAST, f"{numeral}. {title}", size=SIZE_BODY, bold=True)
    ws.height(line, row_height(1, SIZE_BODY))
    return line + 1


def _label(ws: Sheet, line: int, label: str, *, italic: bool = False, bold: bool = False) -> None:
    ws.merge(line, 2, 3, label, size=SIZE_TABLE, italic=italic, bold=bold, wrap=True, box=True)
    ws.height(line, _row(wrapped_lines(label, _LABEL, SIZE_TABLE, char=_TEXT)))


def _row(lines: int) -> float:
    """A table row of that many lines at 11 pt: Times New Roman's 1.15 line and a little air."""
    return round(lines * SIZE_TABLE * 1.17 + 2.5, 1)


def _write_indicators(ws: Sheet, ctx: Document, line: int, keep: list[tuple[int, int]]) -> int:
    heads = [(1, 1, t("xlsx_report.col_no")), (2, 3, t("xlsx_report.col_indicator")),
             (4, 4, t("xlsx_report.col_measure")), (5, 5, ctx.col_month()), (6, 6, ctx.col_ytd()),
             (7, 7, t("xlsx_report.col_total"))]
    for first, last, head in heads:
        ws.merge(line, first, last, head, size=SIZE_TABLE, bold=True, h="center", wrap=True, box=True)
    ws.height(line, row_height(2, SIZE_TABLE))
    line += 1
    for number, row in enumerate(ctx.summary_rows(), start=1):
        ws.put(line, 1, number, size=SIZE_TABLE, h="center", box=True)
        _label(ws, line, row.label)
        ws.put(line, 4, row.measure, size=SIZE_TABLE, h="center", box=True, wrap=True)
        ws.height(line, max(ws.heights[line], _row(wrapped_lines(row.measure, _WIDTHS[3], SIZE_TABLE, char=0.95))))
        if row.missing:
            # No rate: fewer than half of the units recorded its base.
            ws.merge(line, 5, 7, t("xlsx_report.no_rate"), size=SIZE_TABLE, italic=True, h="center", box=True)
        elif row.stock:
            # A stock is one figure at the end of the month: spread over the three period columns.
            ws.merge(line, 5, 7, row.values[0], fmt=row.fmt, size=SIZE_TABLE, h="center", box=True)
        else:
            for col, value in zip((5, 6, 7), row.values):
                ws.put(line, col, value, fmt=row.fmt, size=SIZE_TABLE, box=True)
        line += 1
        if row.note:
            ws.put(line, 1, None, size=SIZE_TABLE, box=True)
            ws.merge(line, 2, _LAST, row.note, size=SIZE_TABLE, italic=True, box=True, wrap=True)
            ws.height(line, _row(wrapped_lines(row.note, _ALL - _WIDTHS[0], SIZE_TABLE, char=_TEXT)))
            keep.append((line - 1, line))  # what a rate stands on stays under it
            line += 1
    return line


def _write_targets(ws: Sheet, ctx: Document, line: int) -> int:
    heads = [(1, 1, t("xlsx_report.col_no")), (2, 3, t("xlsx_report.col_indicator")),
             (4, 4, t("xlsx_report.col_year")), (5, 5, t("xlsx_report.col_plan")),
             (6, 6, t("xlsx_report.col_actual")), (7, 7, t("xlsx_report.col_progress"))]
    for first, last, head in heads:
        ws.merge(line, first, last, head, size=SIZE_TABLE, bold=True, h="center", wrap=True, box=True)
    ws.height(line, row_height(2, SIZE_TABLE))
    line += 1
    for number, target in enumerate(ctx.targets, start=1):
        indicator = str(target.get("indicator") or "")
        # A percent target is a fraction like every percentage in the report (0.7 = 70 %).
        fmt = PERCENT if target.get("percent") or indicator in PERCENT_KEYS else NUMBER
        year = target.get("year")
        ws.put(line, 1, number, size=SIZE_TABLE, h="center", box=True)
        _label(ws, line, target_label(target))
        year = year if isinstance(year, int) and not isinstance(year, bool) else printable(year or "")
        ws.put(line, 4, year, size=SIZE_TABLE, h="center", box=True)
        ws.put(line, 5, number_or_none(target.get("value")), fmt=fmt, size=SIZE_TABLE, box=True)
        missing, note = ctx.target_note(target)
        if missing:
            ws.merge(line, 6, 7, t("xlsx_report.no_rate"), size=SIZE_TABLE, italic=True, h="center", box=True)
        else:
            ws.put(line, 6, number_or_none(target.get("actual")), fmt=fmt, size=SIZE_TABLE, box=True)
            ws.put(line, 7, number_or_none(target.get("progress")), fmt=PERCENT, size=SIZE_TABLE, box=True)
        line += 1
        if note:
            ws.put(line, 1, None, size=SIZE_TABLE, box=True)
            ws.merge(line, 2, _LAST, note, size=SIZE_TABLE, italic=True, box=True, wrap=True)
            ws.height(line, _row(1))
            line += 1
    return line


def _write_signature(ws: Sheet, ctx: Document, line: int) -> int:
    """'Nơi nhận' bottom left, 'Người lập biểu' in the middle, the signer's block bottom right.

    Returns the last row written.
    """
    recipients = ctx.recipients()
    for offset, text in enumerate(recipients):
        first = offset == 0
        ws.merge(line + offset, 1, 2, text, size=SIZE_BODY if first else SIZE_TABLE - 1, bold=first, italic=first,
                 wrap=True)
        ws.height(line + offset, row_height(wrapped_lines(text, _LEFT, SIZE_TABLE - 1), SIZE_TABLE - 1))
    preparer = t("xlsx_report.preparer_title")
    ws.merge(line, 3, 4, preparer, size=SIZE_TABLE, bold=True, h="center", wrap=True)
    ws.height(line, max(ws.heights[line], row_height(wrapped_lines(preparer, sum(_WIDTHS[2:4]), SIZE_TABLE,
                                                                   char=1.2), SIZE_BODY)))
    ws.merge(line + 1, 3, 4, t("xlsx_report.sign_hint"), size=SIZE_TABLE - 1, italic=True, h="center", wrap=True)
    signs = ctx.sign_lines()
    for offset, text in enumerate(signs):
        # Capitals in bold: wider than running text.
        ws.merge(line + offset, 5, _LAST, text, size=SIZE_BODY, bold=True, h="center", wrap=True)
        ws.height(line + offset, max(ws.heights.get(line + offset, 0), row_height(
            wrapped_lines(text, sum(_WIDTHS[4:]), SIZE_BODY, char=1.2), SIZE_BODY)))
    # Room for the signatures and the seal, then the names (left blank to be written by hand).
    names = line + max(len(recipients), len(signs), 2) + 2
    for row in range(line + 2, names):
        if row not in ws.heights:
            ws.height(row, 18)
    ws.merge(names, 3, 4, ctx.preparer or "", size=SIZE_BODY, bold=True, h="center", wrap=True)
    ws.merge(names, 5, _LAST, ctx.signer or "", size=SIZE_BODY, bold=True, h="center", wrap=True)
    ws.height(names, row_height(1, SIZE_BODY))
    return names
