"""The workbook's charts appendix: the month ranked by unit (a bar chart beside its table), the 12-month trend, the targets' paths.

A bar chart of many units is easy to misread when its labels are thinned out, so the units are
ranked, each bar carries its own name and its value, more than CHART_MAX_BARS units are shown as
the first CHART_TOP and one bar for the rest, and units with nobody helped are named in a sentence
under the chart. The chart reads its figures from the ranked table beside it, so a reader (and a
test) can check each bar against its row. The trend's months are columns of one table, and its
chart shows every month's label.
"""

from __future__ import annotations

import math

from cdt.core.i18n import t
from cdt.domain.indicators import TREND_KEYS
from cdt.reports.document import NUMBER, PERCENT, Document, month_label, number_or_none, printable, sentence_case, \
    target_label
from cdt.reports.xlsx_appendices import HEAD_ROW, appendix_top
from cdt.reports.xlsx_sheet import FONT, SIZE_BODY, SIZE_TABLE, Book, Sheet, row_height, wrapped_lines
from cdt.reports.xlsx_summary import paginate

# Columns: A (rank, month), B (names, the indicator), then twelve month columns. 106 units of
# width print unshrunk on A4 landscape.
_WIDTHS = [7, 26] + [6.1] * 12
_LAST = len(_WIDTHS)
_ALL = sum(_WIDTHS)
# The ranked table beside the bar chart: rank in column I, the name over J:M, the figure in N.
_RANK_COL, _NAME_COL, _NAME_END, _VALUE_COL = 9, 10, 13, 14


def _pixels(widths) -> int:
    """Columns' width in the pixels XlsxWriter anchors a chart by (7 a unit, 5 of padding): a chart
    wider than its columns would widen the printed sheet, which the printer then shrinks."""
    return sum(int(width * 7 + 0.5) + 5 for width in widths)


_CHART_WIDTH_PX = _pixels(_WIDTHS[:_RANK_COL - 1]) - 10  # the bar chart over columns A to H
_TREND_WIDTH_PX = _pixels(_WIDTHS) - 10
_ROW_PT = 16.0
# Printable height of an A4 landscape page in points (210 mm less the 20 mm margins), with slack.
_PAGE_HEIGHT = 470.0


def write_charts_sheet(book: Book, ws: Sheet, ctx: Document, title: str, numeral: str) -> None:
    """People helped this month per unit (ranked), then the 12-month trend and each target's path."""
    appendix_top(ws, ctx, numeral, title, _LAST, _ALL)
    ws.page_setup(footer=ctx.footer())
    for number, width in enumerate(_WIDTHS, start=1):
        ws.width(number, width)
    keep: list[tuple[int, int]] = []
    line = HEAD_ROW
    ws.merge(line, 1, _LAST, f"1. {sentence_case(t('xlsx_report.section_chart'))}", size=SIZE_BODY, bold=True)
    ws.height(line, row_height(1, SIZE_BODY))
    line += 1
    line = _month_chart(book, ws, ctx, line)
    if ctx.trends:
        line += 1
        start = line
        line = _trend(book, ws, ctx, line)
        keep.append((start, line - 1))
        paths = [p for p in ctx.trends.get("targets") or [] if p.get("path")]
        if paths:
            line += 1
            start = line
            line = _paths(ws, ctx, line, paths)
            keep.append((start, min(line - 1, start + 6)))
    paginate(ws, keep, max(line - 1, 1), page_height=_PAGE_HEIGHT)


def _month_chart(book: Book, ws: Sheet, ctx: Document, line: int) -> int:
    """The ranked table (rank, unit, people) with the bar chart drawn from it on its left; the units
    with nobody helped in a sentence under both. Returns the next free row."""
    if not ctx.rows:
        return _text_row(ws, line, t("xlsx_report.no_rows")) + 1
    ranking = ctx.ranking(ctx.rows)
    bars = list(ranking.bars)
    if ranking.others:
        bars.append((ctx.others_label(ranking.others[0]), ranking.others[1]))
    if not bars:
        # A chart of zeros draws a broken axis ("0 1 1"): say there is nothing to show instead.
        text = t("xlsx_report.empty_chart", month=f"{ctx.month:02d}", year=ctx.year)
        return _text_row(ws, line, text) + 1
    head = line
    ws.put(head, _RANK_COL, t("xlsx_report.col_rank"), bold=True, h="center", wrap=True, box=True)
    ws.merge(head, _NAME_COL, _NAME_END, ctx.level_label(ctx.row_level), bold=True, h="center", wrap=True, box=True)
    ws.put(head, _VALUE_COL, t("xlsx_report.chart_axis_value"), bold=True, h="center", wrap=True, box=True)
    ws.height(head, row_height(2, SIZE_TABLE))
    first = head + 1
    for rank, (name, value) in enumerate(bars, start=1):
        row = head + rank
        others = ranking.others is not None and rank == len(bars)
        ws.put(row, _RANK_COL, None if others else rank, h="center", box=True)
        ws.merge(row, _NAME_COL, _NAME_END, name, italic=others, box=True, wrap=True)
        ws.put(row, _VALUE_COL, value, fmt=NUMBER, box=True)
        ws.height(row, _ROW_PT)
    last = head + len(bars)
    chart = book.book.add_chart({"type": "bar"})  # horizontal: long Vietnamese names read along the axis
    font = {"name": FONT, "size": 11}
    chart.add_series({
        "name": printable(t("xlsx_report.chart_series")),
        "categories": [ws.name, first - 1, _NAME_COL - 1, last - 1, _NAME_COL - 1],
        "values": [ws.name, first - 1, _VALUE_COL - 1, last - 1, _VALUE_COL - 1],
        "fill": {"color": "#2F5597"},
        "gap": 60,
        "data_labels": {"value": True, "num_format": NUMBER, "font": font, "position": "outside_end"},
    })
    chart.set_title({"name": printable(t("xlsx_report.chart_title", month=f"{ctx.month:02d}", year=ctx.year)),
                     "name_font": {"name": FONT, "size": SIZE_TABLE, "bold": True}})
    chart.set_x_axis({"min": 0, "num_format": NUMBER, "num_font": font, "major_gridlines": {"visible": False}})
    # The first rank at the top, every unit named beside its own bar.
    chart.set_y_axis({"reverse": True, "num_font": font, "interval_unit": 1, "interval_tick": 1})
    chart.set_legend({"none": True})
    height_cm = max(5.0, 2.2 + 0.62 * len(bars))
    chart.set_size({"width": _CHART_WIDTH_PX, "height": round(height_cm / 2.54 * 96)})
    ws.ws.insert_chart(head - 1, 0, chart, {"x_offset": 4, "y_offset": 2, "object_position": 1})
    rows = math.ceil(height_cm / 2.54 * 72 / _ROW_PT) + 1
    for row in range(head, head + rows):
        if row not in ws.heights:
            ws.height(row, _ROW_PT)
    line = max(head + rows, last + 1) + 1
    ws.merge(line, 1, _LAST, t("xlsx_report.chart_ranked"), italic=True, size=SIZE_TABLE)
    ws.height(line, row_height(1, SIZE_TABLE))
    line += 1
    zeros = ctx.zeros_line(ranking.zeros)
    if zeros:
        line = _text_row(ws, line, zeros, italic=False)
    return line


def _text_row(ws: Sheet, line: int, text: str, *, italic: bool = True) -> int:
    """A wrapped line of text across the sheet; returns the next free row."""
    ws.merge(line, 1, _LAST, text, italic=italic, wrap=True)
    ws.height(line, row_height(wrapped_lines(text, _ALL * 0.95, SIZE_TABLE), SIZE_TABLE))
    return line + 1


def _trend(book: Book, ws: Sheet, ctx: Document, line: int) -> int:
    """The four flows over the last 12 months: one row per indicator, one column per month, and
    the line chart drawn from that table."""
    trends = ctx.trends or {}
    ws.breaks.append(line - 1)  # the trend starts a page
    ws.merge(line, 1, _LAST, f"2. {sentence_case(t('xlsx_report.trend_title'))}", size=SIZE_BODY, bold=True)
    ws.height(line, row_height(1, SIZE_BODY))
    line += 1
    months = [str(m) for m in trends.get("months") or []][:12]
    keys = [k for k in TREND_KEYS if isinstance((trends.get("total") or {}).get(k), list)]
    head = line
    ws.merge(head, 1, 2, t("xlsx_report.col_indicator"), bold=True, h="center", box=True)
    for col, month in enumerate(months, start=3):
        ws.put(head, col, month_label(month), bold=True, h="center", box=True)
    ws.height(head, row_height(1, SIZE_TABLE))
    for offset, key in enumerate(keys, start=1):
        row = head + offset
        label = t(f"xlsx_report.ind.{key}")
        ws.merge(row, 1, 2, label, wrap=True, box=True)
        series = trends["total"][key]
        for col in range(len(months)):
            ws.put(row, col + 3, series[col] if col < len(series) else None, fmt=NUMBER, box=True)
        ws.height(row, row_height(wrapped_lines(label, 33 * 0.95, SIZE_TABLE), SIZE_TABLE))
    line = head + len(keys) + 2
    if months and keys:
        chart = book.book.add_chart({"type": "line"})
        for offset, key in enumerate(keys, start=1):
            row = head + offset - 1
            chart.add_series({
                "name": [ws.name, row, 0],
                "categories": [ws.name, head - 1, 2, head - 1, 2 + len(months) - 1],
                "values": [ws.name, row, 2, row, 2 + len(months) - 1],
                "marker": {"type": "circle", "size": 4},
            })
        chart.set_title({"name": printable(t("xlsx_report.trend_chart_title", month=f"{ctx.month:02d}",
                                             year=ctx.year)),
                         "name_font": {"name": FONT, "size": SIZE_TABLE, "bold": True}})
        # Every month labelled, level: twelve labels fit across the page.
        chart.set_x_axis({"num_font": {"name": FONT, "size": 11, "rotation": 0}, "interval_unit": 1})
        chart.set_y_axis({"num_font": {"name": FONT, "size": 11}, "num_format": NUMBER, "min": 0})
        chart.set_legend({"position": "bottom", "font": {"name": FONT, "size": 11}})
        chart.set_size({"width": _TREND_WIDTH_PX, "height": 300})
        ws.ws.insert_chart(line - 1, 0, chart, {"x_offset": 4})
        rows = math.ceil(300 / 96 * 72 / _ROW_PT) + 1
        for row in range(line, line + rows):
            ws.height(row, _ROW_PT)
        line += rows
    return line


def _paths(ws: Sheet, ctx: Document, line: int, paths: list[dict]) -> int:
    """Each target of the report's year month by month: actual, the even pace, progress."""
    year = paths[0].get("year")
    ws.merge(line, 1, _LAST, t("xlsx_report.trend_targets_title", year=year), size=SIZE_BODY, bold=True)
    ws.height(line, row_height(1, SIZE_BODY))
    line += 1
    path_months = sorted({point["month"] for p in paths for point in p["path"]})[:12]
    ws.merge(line, 1, 2, t("xlsx_report.col_indicator"), bold=True, h="center", wrap=True, box=True)
    for col, month in enumerate(path_months, start=3):
        ws.put(line, col, month_label(month), bold=True, h="center", wrap=True, box=True)
    ws.height(line, row_height(1, SIZE_TABLE))
    line += 1
    for target in paths:
        by_month = {point["month"]: point for point in target["path"]}
        fmt = PERCENT if target.get("percent") else NUMBER
        label = target_label(target)
        parts = [("actual", t("xlsx_report.col_actual"), fmt), ("progress", t("xlsx_report.col_progress"), PERCENT)]
        if any(point.get("line") is not None for point in target["path"]):
            parts.insert(1, ("line", t("xlsx_report.col_line"), fmt))
        ws.merge(line, 1, 2, label, bold=True, wrap=True, box=True)
        ws.height(line, row_height(wrapped_lines(label, 33 * 0.95, SIZE_TABLE), SIZE_TABLE))
        line += 1
        for part, part_label, part_fmt in parts:
            ws.put(line, 1, None, box=True)
            ws.put(line, 2, part_label, italic=True, wrap=True, box=True)
            for col, month in enumerate(path_months, start=3):
                point = by_month.get(month) or {}
                ws.put(line, col, number_or_none(point.get(part)), fmt=part_fmt, box=True)
            ws.height(line, row_height(1, SIZE_TABLE))
            line += 1
    return line
