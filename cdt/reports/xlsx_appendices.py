"""The xlsx report's appendix sheets: one table each, at 11 pt, never wider than the page.

Each appendix ("Phụ lục I", "Phụ lục II"…) is a sheet with its own title and its own page numbers,
its header rows repeated on every printed page; the charts' appendix holds the bar chart of the
month and the 12-month trend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cdt.core.i18n import t
from cdt.domain.indicators import TREND_KEYS
from cdt.reports.document import (DATE, NUMBER, PERCENT, STOCK_ROWS, Document, flow_value, month_label,
                                  number_or_none, parse_date, printable, sentence_case, service_value,
                                  stock_value, target_label, unit_name)
from cdt.reports.xlsx_sheet import (FONT, SIZE_BODY, SIZE_HEAD, SIZE_TABLE, Book, Sheet, row_height,
                                    wrapped_lines)

# Widest a table sheet may be, in column-width units, to print unshrunk on A4 landscape with the
# Nghị định 30 margins (257 mm of paper across; one unit of Times New Roman 12 is about 2.3 mm).
_MAX_TABLE_WIDTH = 108
_MISSING_FILL = "#FDE2E1"
_ROW_PT = 15.0


@dataclass
class _Col:
    head: str
    sub: str | None = None
    width: float = 8
    fmt: str | None = NUMBER


_LABEL_ROW, _TITLE_ROW, _SUBTITLE_ROW, _HEAD_ROW, _SUB_ROW, _FIRST_DATA_ROW = 1, 2, 3, 5, 6, 7


def _appendix_top(ws: Sheet, ctx: Document, numeral: str, title: str, last: int, width: float) -> None:
    """'Phụ lục I' (bold, centred), the appendix's title and the unit and month under it."""
    ws.merge(_LABEL_ROW, 1, last, t("xlsx_report.appendix", numeral=numeral), size=SIZE_HEAD, bold=True,
             h="center")
    ws.height(_LABEL_ROW, row_height(1, SIZE_HEAD))
    ws.merge(_TITLE_ROW, 1, last, title, size=SIZE_HEAD, bold=True, h="center", wrap=True)
    ws.height(_TITLE_ROW, row_height(wrapped_lines(title, width, SIZE_HEAD), SIZE_HEAD))
    ws.merge(_SUBTITLE_ROW, 1, last, ctx.subtitle(), size=SIZE_BODY, italic=True, h="center")
    ws.height(_SUBTITLE_ROW, row_height(1, SIZE_BODY))
    ws.height(_SUBTITLE_ROW + 1, 8)


def _fit(cols: list[_Col], name_index: int = 1) -> None:
    """Narrow the name column so the table stays within one page width (no shrinking under 10 pt)."""
    excess = sum(col.width for col in cols) - _MAX_TABLE_WIDTH
    if excess > 0:
        cols[name_index].width = max(16, cols[name_index].width - excess)


def _table_head(ws: Sheet, ctx: Document, numeral: str, title: str, cols: list[_Col]) -> None:
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
            head_lines = max(head_lines, math.ceil(wrapped_lines(col.head, col.width, SIZE_TABLE) / 2))
            index += 1
            continue
        end = index
        while end + 1 < last and cols[end + 1].sub is not None and cols[end + 1].head == col.head:
            end += 1
        width = sum(c.width for c in cols[index : end + 1])
        ws.merge(_HEAD_ROW, index + 1, end + 1, col.head, bold=True, h="center", wrap=True, box=True)
        head_lines = max(head_lines, wrapped_lines(col.head, width, SIZE_TABLE))
        for c in range(index, end + 1):
            ws.put(_SUB_ROW, c + 1, cols[c].sub, bold=True, h="center", wrap=True, box=True)
            sub_lines = max(sub_lines, wrapped_lines(cols[c].sub, cols[c].width, SIZE_TABLE))
        index = end + 1
    for number, col in enumerate(cols, start=1):
        ws.width(number, col.width)
    ws.height(_HEAD_ROW, row_height(head_lines, SIZE_TABLE))
    ws.height(_SUB_ROW, row_height(sub_lines, SIZE_TABLE))
    ws.ws.freeze_panes(_FIRST_DATA_ROW - 1, 2)
    ws.page_setup(repeat=(_HEAD_ROW, _SUB_ROW))


def _table_row(ws: Sheet, row: int, values: list, cols: list[_Col], *, bold: bool = False,
               fill: str | None = None) -> None:
    for number, (value, col) in enumerate(zip(values, cols), start=1):
        text_like = col.fmt is None
        ws.put(row, number, value, fmt=col.fmt, bold=bold, box=True, fill=fill,
               h=("center" if number == 1 else None) if text_like else None, wrap=text_like)


def _name_width(names, minimum: float = 20, maximum: float = 28) -> float:
    longest = max((len(name) for name in names), default=0)
    return max(minimum, min(maximum, longest * 0.9 + 2))


@dataclass
class ChartSource:
    """Where the summary chart finds its figures: unit names and people helped this month."""

    sheet: str
    name_col: int
    value_col: int
    first_row: int
    last_row: int
    level_label: str
    empty: bool


def _unit_cols(ctx: Document, names: list[str], row_level: str) -> list[_Col]:
    return [_Col(t("xlsx_report.col_no"), width=4.5, fmt=None),
            _Col(ctx.level_label(row_level), width=_name_width(names), fmt=None)]


def _write_rows(ws: Sheet, ctx: Document, rows: list[dict], names: list[str], cols: list[_Col], values) -> int:
    line = _FIRST_DATA_ROW
    for number, (row, name) in enumerate(zip(rows, names), start=1):
        _table_row(ws, line, [number, name] + values(row), cols)
        line += 1
    _table_row(ws, line, ["", t("xlsx_report.total_row")] + values(ctx.total), cols, bold=True)
    return line


def write_register_sheet(ws: Sheet, ctx: Document, rows: list[dict], row_level: str, title: str,
                         numeral: str) -> None:
    """Teams, hamlets, members and training per unit (stocks at the month's end) and the total."""
    names = [unit_name(row) for row in rows]
    cols = _unit_cols(ctx, names, row_level)
    cols += [_Col(t(f"xlsx_report.ind.{key}"), width=8, fmt=fmt) for key, _, fmt in STOCK_ROWS]
    _table_head(ws, ctx, numeral, title, cols)
    _write_rows(ws, ctx, rows, names, cols, lambda row: [stock_value(row, key) for key, _, _ in STOCK_ROWS])


def write_activity_sheet(ws: Sheet, ctx: Document, rows: list[dict], row_level: str, title: str,
                         numeral: str) -> ChartSource | None:
    """Visits, households, people and digital citizens per unit, month and year to date."""
    names = [unit_name(row) for row in rows]
    cols = _unit_cols(ctx, names, row_level)
    for key, _, fmt in ctx.flows:
        head = t(f"xlsx_report.ind.{key}")
        cols.append(_Col(head, ctx.col_month(), width=8, fmt=fmt))
        cols.append(_Col(head, ctx.col_ytd(), width=8, fmt=fmt))
    _table_head(ws, ctx, numeral, title, cols)

    def values(row: dict) -> list:
        out = []
        for key, _, _ in ctx.flows:
            out += [flow_value(row, key, "month"), flow_value(row, key, "ytd")]
        return out

    _write_rows(ws, ctx, rows, names, cols, values)
    if not rows:
        return None
    people_month = 2 + 2 * [key for key, _, _ in ctx.flows].index("people_helped") + 1
    empty = not any(flow_value(row, "people_helped", "month") for row in rows)
    return ChartSource(ws.name, 2, people_month, _FIRST_DATA_ROW, _FIRST_DATA_ROW + len(rows) - 1,
                       ctx.level_label(row_level), empty)


def write_services_sheet(ws: Sheet, ctx: Document, services: list[dict], title: str, numeral: str,
                         *, last: bool) -> None:
    """People helped per service (up to four a sheet), month and year to date, per unit and in total."""
    names = [unit_name(row) for row in ctx.rows]
    cols = _unit_cols(ctx, names, ctx.row_level)
    cols += [_Col(t("xlsx_report.col_people_total"), ctx.col_month()),
             _Col(t("xlsx_report.col_people_total"), ctx.col_ytd())]
    codes = []
    for service in services:
        code = str(service.get("code") or "")
        head = printable(service.get("name") or code)
        codes.append(code)
        cols += [_Col(head, ctx.col_month()), _Col(head, ctx.col_ytd())]
    _table_head(ws, ctx, numeral, title, cols)

    def values(row: dict) -> list:
        out = [flow_value(row, "people_helped", "month"), flow_value(row, "people_helped", "ytd")]
        for code in codes:
            out += [service_value(row, code, "month"), service_value(row, code, "ytd")]
        return out

    line = _write_rows(ws, ctx, ctx.rows, names, cols, values) + 2
    if last:
        note = t("xlsx_report.services_note") if codes else t("xlsx_report.no_services")
        ws.merge(line, 1, len(cols), note, italic=True, wrap=True)
        ws.height(line, row_height(wrapped_lines(note, sum(c.width for c in cols), SIZE_TABLE), SIZE_TABLE))


def write_trend_sheet(book: Book, ws: Sheet, ctx: Document, title: str, numeral: str,
                      chart_source: ChartSource | None) -> None:
    """People helped this month per unit (a bar chart, or a line saying there is nothing to show),
    then the last 12 months of the four main flows (a table and a line chart) and each target's
    path; people helped per unit and month follow in their own appendix (a table that spans pages)."""
    _appendix_top(ws, ctx, numeral, title, 14, 108)
    ws.page_setup(repeat=None)
    # Narrow month columns for the paths; the first five columns carry the trend table.
    for number, value in enumerate([12, 16, 16, 16, 16] + [7.5] * 9, start=1):
        ws.width(number, value)
    line = _HEAD_ROW
    ws.merge(line, 1, 14, f"1. {sentence_case(t('xlsx_report.section_chart'))}", size=SIZE_BODY, bold=True)
    ws.height(line, row_height(1, SIZE_BODY))
    line += 1
    if chart_source is None:
        ws.merge(line, 1, 14, t("xlsx_report.no_rows"), size=SIZE_BODY, italic=True)
        ws.height(line, row_height(1, SIZE_BODY))
        line += 2
    elif chart_source.empty:
        # A chart of zeros draws a broken axis ("0 1 1"): say there is nothing to show instead.
        ws.merge(line, 1, 14, t("xlsx_report.empty_chart", month=f"{ctx.month:02d}", year=ctx.year),
                 size=SIZE_BODY, italic=True)
        ws.height(line, row_height(1, SIZE_BODY))
        line += 2
    else:
        line = _add_chart(book, ws, ctx, line, chart_source) + 1
    trends = ctx.trends
    if not trends:
        return
    ws.breaks.append(line - 1)  # the trend on a page of its own
    ws.merge(line, 1, 14, f"2. {sentence_case(t('xlsx_report.trend_title'))}", size=SIZE_BODY, bold=True)
    ws.height(line, row_height(1, SIZE_BODY))
    line += 1
    months = [str(m) for m in trends.get("months") or []]
    keys = [k for k in TREND_KEYS if isinstance((trends.get("total") or {}).get(k), list)]
    cols = [_Col(t("xlsx_report.col_months"), width=12, fmt=None)]
    cols += [_Col(t(f"xlsx_report.ind.{key}"), width=16) for key in keys]
    head_row = line
    for number, col in enumerate(cols, start=1):
        ws.put(line, number, col.head, bold=True, h="center", wrap=True, box=True)
    ws.height(line, row_height(max(wrapped_lines(c.head, c.width, SIZE_TABLE) for c in cols), SIZE_TABLE))
    first = line + 1
    for index, month in enumerate(months):
        line += 1
        values = [trends["total"][key][index] if index < len(trends["total"][key]) else None for key in keys]
        _table_row(ws, line, [month_label(month)] + values, cols)
        ws.height(line, row_height(1, SIZE_TABLE))
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
        chart.set_title({"name": printable(t("xlsx_report.trend_chart_title", month=f"{ctx.month:02d}",
                                             year=ctx.year)),
                         "name_font": {"name": FONT, "size": SIZE_BODY, "bold": True}})
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
        ws.merge(line, 1, 14, t("xlsx_report.trend_targets_title", year=year), size=SIZE_BODY, bold=True)
        ws.height(line, row_height(1, SIZE_BODY))
        line += 1
        path_months = sorted({point["month"] for p in paths for point in p["path"]})
        heads = [t("xlsx_report.col_indicator"), ""] + [month_label(m) for m in path_months]
        ws.merge(line, 1, 2, heads[0], bold=True, h="center", wrap=True, box=True)
        for col, head in enumerate(heads[2:], start=3):
            ws.put(line, col, head, bold=True, h="center", wrap=True, box=True)
        ws.height(line, row_height(1, SIZE_TABLE))
        line += 1
        for target in paths:
            by_month = {point["month"]: point for point in target["path"]}
            fmt = PERCENT if target.get("percent") else NUMBER
            label = target_label(target)
            parts = [("actual", t("xlsx_report.col_actual"), fmt), ("progress", t("xlsx_report.col_progress"), PERCENT)]
            if any(point.get("line") is not None for point in target["path"]):
                parts.insert(1, ("line", t("xlsx_report.col_line"), fmt))
            top = line
            for part, part_label, part_fmt in parts:
                ws.put(line, 2, part_label, italic=True, wrap=True, box=True)
                for col, month in enumerate(path_months, start=3):
                    point = by_month.get(month) or {}
                    ws.put(line, col, number_or_none(point.get(part)), fmt=part_fmt, box=True)
                ws.height(line, row_height(wrapped_lines(part_label, 16, SIZE_TABLE), SIZE_TABLE))
                line += 1
            ws.merge(top, 1, 1, label, last_row=line - 1, wrap=True, box=True, bold=True)


def write_trend_units_sheet(ws: Sheet, ctx: Document, title: str, numeral: str) -> None:
    """People helped per unit in each of the last 12 months, and the 12-month sum."""
    trends = ctx.trends
    months = [str(m) for m in trends.get("months") or []]
    rows = list(trends.get("rows") or [])
    names = [unit_name(row) for row in rows]
    cols = _unit_cols(ctx, names, ctx.row_level)
    head = t("xlsx_report.ind.people_helped")
    cols += [_Col(head, month_label(m), width=6.5) for m in months]
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


def write_completeness_sheet(ws: Sheet, ctx: Document, title: str, numeral: str) -> None:
    """Each expected unit: sent or not, when packed and when merged; then the counts."""
    names = [unit_name(entry) for entry in ctx.completeness]
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
        packed, merged = parse_date(entry.get("packed_at")), parse_date(entry.get("merged_at"))
        values = [number, name, code, status, packed, merged]
        _table_row(ws, line, values, cols, bold=not reported, fill=None if reported else _MISSING_FILL)
        line += 1
    expected, sent, missing = ctx.completeness_counts()
    line += 1
    for key, value in (("count_expected", expected), ("count_sent", sent), ("count_missing", len(missing))):
        ws.merge(line, 2, 3, t(f"xlsx_report.{key}"), bold=True, box=True)
        ws.put(line, 4, value, fmt=NUMBER, bold=True, box=True)
        line += 1


def _add_chart(book: Book, ws: Sheet, ctx: Document, line: int, source: ChartSource) -> int:
    """A horizontal bar chart of people helped this month per unit; returns the row below it."""
    count = source.last_row - source.first_row + 1
    chart = book.book.add_chart({"type": "bar"})  # horizontal: long Vietnamese names read along the axis
    series = {
        "name": printable(t("xlsx_report.chart_series")),
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
    chart.set_title({"name": printable(t("xlsx_report.chart_title", month=f"{ctx.month:02d}", year=ctx.year)),
                     "name_font": {"name": FONT, "size": SIZE_BODY, "bold": True}})
    # In a bar chart the x axis is the value axis; units in table order from the top.
    chart.set_x_axis({"name": printable(t("xlsx_report.chart_axis_value")), "min": 0, "num_format": NUMBER,
                      "num_font": font, "name_font": {"name": FONT, "size": SIZE_TABLE}})
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
