"""The xlsx report's appendix tables: one sheet each, at 11 pt, never wider than the printable page.

Each appendix ("Phụ lục I", "Phụ lục II"…) is a sheet with its own title, its header rows
repeated on every printed page, the unit and "Trang x/y" at the foot of every page. Rows are units
in the official order; units with nothing to show in a table are folded into one line under it
(unless the report is asked with --all-units). The charts' appendix is ``xlsx_charts.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cdt.core.i18n import t
from cdt.reports.document import (DATE, NUMBER, STOCK_ROWS, Document, flow_value, month_label, parse_date, printable,
                                  service_value, shows_activity, shows_completeness, shows_register, shows_services,
                                  shows_trend, stock_value, unit_name)
from cdt.reports.xlsx_sheet import SIZE_BODY, SIZE_HEAD, SIZE_TABLE, Sheet, row_height, wrapped_lines

# Widest a table sheet may be, in column-width units, to print unshrunk on A4 landscape with the
# Nghị định 30 margins (257 mm of paper across; one unit of Times New Roman 12 is about 2.3 mm).
MAX_TABLE_WIDTH = 106
_MISSING_FILL = "#FDE2E1"


@dataclass
class Col:
    """A table column: its head (and the head under it, for two-row heads), width and number format."""

    head: str
    sub: str | None = None
    width: float = 8
    fmt: str | None = NUMBER


LABEL_ROW, TITLE_ROW, SUBTITLE_ROW, HEAD_ROW, SUB_ROW, FIRST_DATA_ROW = 1, 2, 3, 5, 6, 7


def appendix_top(ws: Sheet, ctx: Document, numeral: str, title: str, last: int, width: float) -> None:
    """'Phụ lục I' (bold, centred), the appendix's title and the unit and month under it."""
    ws.merge(LABEL_ROW, 1, last, t("xlsx_report.appendix", numeral=numeral), size=SIZE_HEAD, bold=True,
             h="center")
    ws.height(LABEL_ROW, row_height(1, SIZE_HEAD))
    ws.merge(TITLE_ROW, 1, last, title, size=SIZE_HEAD, bold=True, h="center", wrap=True)
    ws.height(TITLE_ROW, row_height(wrapped_lines(title, width, SIZE_HEAD), SIZE_HEAD))
    ws.merge(SUBTITLE_ROW, 1, last, ctx.subtitle(), size=SIZE_BODY, italic=True, h="center")
    ws.height(SUBTITLE_ROW, row_height(1, SIZE_BODY))
    ws.height(SUBTITLE_ROW + 1, 8)


def _fit(cols: list[Col], name_index: int = 1) -> None:
    """Narrow the name column so the table stays within one page width (no shrinking under 10 pt)."""
    excess = sum(col.width for col in cols) - MAX_TABLE_WIDTH
    if excess > 0:
        cols[name_index].width = max(16, cols[name_index].width - excess)


def table_head(ws: Sheet, ctx: Document, numeral: str, title: str, cols: list[Col]) -> None:
    """Appendix label, title, subtitle and the two header rows, repeated on every printed page."""
    _fit(cols)
    last = len(cols)
    total_width = sum(col.width for col in cols)
    appendix_top(ws, ctx, numeral, title, last, total_width)
    head_lines, sub_lines = 1, 1
    index = 0
    while index < last:
        col = cols[index]
        if col.sub is None:
            ws.merge(HEAD_ROW, index + 1, index + 1, col.head, last_row=SUB_ROW,
                     bold=True, h="center", wrap=True, box=True)
            head_lines = max(head_lines, math.ceil(wrapped_lines(col.head, col.width, SIZE_TABLE) / 2))
            index += 1
            continue
        end = index
        while end + 1 < last and cols[end + 1].sub is not None and cols[end + 1].head == col.head:
            end += 1
        width = sum(c.width for c in cols[index: end + 1])
        ws.merge(HEAD_ROW, index + 1, end + 1, col.head, bold=True, h="center", wrap=True, box=True)
        head_lines = max(head_lines, wrapped_lines(col.head, width, SIZE_TABLE))
        for c in range(index, end + 1):
            ws.put(SUB_ROW, c + 1, cols[c].sub, bold=True, h="center", wrap=True, box=True)
            sub_lines = max(sub_lines, wrapped_lines(cols[c].sub, cols[c].width, SIZE_TABLE))
        index = end + 1
    for number, col in enumerate(cols, start=1):
        ws.width(number, col.width)
    ws.height(HEAD_ROW, row_height(head_lines, SIZE_TABLE))
    ws.height(SUB_ROW, row_height(sub_lines, SIZE_TABLE))
    ws.ws.freeze_panes(FIRST_DATA_ROW - 1, 2)
    ws.page_setup(footer=ctx.footer(), repeat=(HEAD_ROW, SUB_ROW))


def table_row(ws: Sheet, row: int, values: list, cols: list[Col], *, bold: bool = False,
              fill: str | None = None) -> None:
    """One row of a table, each cell boxed; text wraps, numbers keep their format."""
    for number, (value, col) in enumerate(zip(values, cols), start=1):
        text_like = col.fmt is None
        ws.put(row, number, value, fmt=col.fmt, bold=bold, box=True, fill=fill,
               h=("center" if number == 1 else None) if text_like else None, wrap=text_like)
    lines = max((wrapped_lines(value, col.width * 0.95, SIZE_TABLE) for value, col in zip(values, cols)
                 if isinstance(value, str) and value), default=1)
    ws.height(row, row_height(lines, SIZE_TABLE))


def note_row(ws: Sheet, line: int, text: str, cols: list[Col], *, italic: bool = True) -> int:
    """A wrapped line of text across a table's width; returns the next free row."""
    ws.merge(line, 1, len(cols), text, italic=italic, wrap=True)
    ws.height(line, row_height(wrapped_lines(text, sum(c.width for c in cols) * 0.95, SIZE_TABLE), SIZE_TABLE))
    return line + 1


def _name_width(names, minimum: float = 20, maximum: float = 28) -> float:
    longest = max((len(name) for name in names), default=0)
    return max(minimum, min(maximum, longest * 0.9 + 2))


def _unit_cols(ctx: Document, rows: list[dict], row_level: str) -> list[Col]:
    return [Col(t("xlsx_report.col_no"), width=4.5, fmt=None),
            Col(ctx.level_label(row_level), width=_name_width(unit_name(row) for row in rows), fmt=None)]


def _write_rows(ws: Sheet, ctx: Document, rows: list[dict], cols: list[Col], values, *, fold: str, shows,
                row_level: str, total: list | None = None) -> int:
    """The units' rows (those with nothing to show folded into one line below), then the total;
    returns the next free row."""
    shown, folded = ctx.fold(rows, shows)
    line = FIRST_DATA_ROW
    for number, row in enumerate(shown, start=1):
        table_row(ws, line, [number, unit_name(row)] + values(row), cols)
        line += 1
    table_row(ws, line, ["", t("xlsx_report.total_row")] + (total if total is not None else values(ctx.total)),
              cols, bold=True)
    line += 1
    text = ctx.fold_line(fold, folded, row_level)
    if text:
        line = note_row(ws, line + 1, text, cols)
    return line


def write_register_sheet(ws: Sheet, ctx: Document, rows: list[dict], row_level: str, title: str,
                         numeral: str) -> None:
    """Teams, hamlets, members and training per unit (stocks at the month's end) and the total."""
    cols = _unit_cols(ctx, rows, row_level)
    cols += [Col(t(f"xlsx_report.ind.{key}"), width=8.5, fmt=fmt) for key, _, fmt in STOCK_ROWS]
    table_head(ws, ctx, numeral, title, cols)
    _write_rows(ws, ctx, rows, cols, lambda row: [stock_value(row, key) for key, _, _ in STOCK_ROWS],
                fold="register", shows=shows_register, row_level=row_level)


def write_activity_sheet(ws: Sheet, ctx: Document, rows: list[dict], row_level: str, title: str,
                         numeral: str) -> None:
    """Visits, households, people and digital citizens per unit, month and year to date."""
    cols = _unit_cols(ctx, rows, row_level)
    for key, _, fmt in ctx.flows:
        head = t(f"xlsx_report.ind.{key}")
        cols.append(Col(head, ctx.col_month(), width=8, fmt=fmt))
        cols.append(Col(head, ctx.col_ytd(), width=8, fmt=fmt))
    table_head(ws, ctx, numeral, title, cols)

    def values(row: dict) -> list:
        out = []
        for key, _, _ in ctx.flows:
            out += [flow_value(row, key, "month"), flow_value(row, key, "ytd")]
        return out

    _write_rows(ws, ctx, rows, cols, values, fold="activity", shows=shows_activity, row_level=row_level)


def write_services_sheet(ws: Sheet, ctx: Document, services: list[dict], title: str, numeral: str,
                         *, last: bool) -> None:
    """People helped per service (up to four a sheet), month and year to date, per unit and in total."""
    cols = _unit_cols(ctx, ctx.rows, ctx.row_level)
    cols += [Col(t("xlsx_report.col_people_total"), ctx.col_month()),
             Col(t("xlsx_report.col_people_total"), ctx.col_ytd())]
    codes = []
    for service in services:
        code = str(service.get("code") or "")
        head = printable(service.get("name") or code)
        codes.append(code)
        cols += [Col(head, ctx.col_month()), Col(head, ctx.col_ytd())]
    table_head(ws, ctx, numeral, title, cols)

    def values(row: dict) -> list:
        out = [flow_value(row, "people_helped", "month"), flow_value(row, "people_helped", "ytd")]
        for code in codes:
            out += [service_value(row, code, "month"), service_value(row, code, "ytd")]
        return out

    line = _write_rows(ws, ctx, ctx.rows, cols, values, fold="services", shows=shows_services,
                       row_level=ctx.row_level)
    if last:
        note_row(ws, line + 1, t("xlsx_report.services_note") if codes else t("xlsx_report.no_services"), cols)


def write_trend_units_sheet(ws: Sheet, ctx: Document, title: str, numeral: str) -> None:
    """People helped per unit in each of the last 12 months, and the 12-month sum."""
    trends = ctx.trends or {}
    months = [str(m) for m in trends.get("months") or []]
    rows = list(trends.get("rows") or [])
    cols = _unit_cols(ctx, rows, ctx.row_level)
    head = t("xlsx_report.ind.people_helped")
    cols += [Col(head, month_label(m), width=6.2) for m in months]
    cols.append(Col(t("xlsx_report.col_sum"), width=7.5))
    table_head(ws, ctx, numeral, title, cols)

    def values(series) -> list:
        series = [v if isinstance(v, (int, float)) and not isinstance(v, bool) else None for v in series or []]
        return series + [None] * (len(months) - len(series)) + [sum(v or 0 for v in series)]

    _write_rows(ws, ctx, rows, cols, lambda row: values(row.get("people_helped")), fold="trend", shows=shows_trend,
                row_level=ctx.row_level, total=values((trends.get("total") or {}).get("people_helped")))


def write_completeness_sheet(ws: Sheet, ctx: Document, title: str, numeral: str) -> None:
    """Each expected unit: sent or not, when packed and when merged, which base figures it has not
    recorded; units that never sent anything folded into one line; then the counts."""
    shown, folded = ctx.fold(ctx.completeness, shows_completeness)
    cols = [
        Col(t("xlsx_report.col_no"), width=4.5, fmt=None),
        Col(t("xlsx_report.col_unit"), width=_name_width((unit_name(e) for e in shown), minimum=22, maximum=30),
            fmt=None),
        Col(t("xlsx_report.col_code"), width=9, fmt=None),
        Col(t("xlsx_report.col_status"), width=11, fmt=None),
        Col(t("xlsx_report.col_packed"), width=12, fmt=DATE),
        Col(t("xlsx_report.col_merged"), width=12, fmt=DATE),
        Col(t("xlsx_report.col_missing_bases"), width=30, fmt=None),
    ]
    table_head(ws, ctx, numeral, title, cols)
    line = FIRST_DATA_ROW
    for number, entry in enumerate(shown, start=1):
        reported = bool(entry.get("reported"))
        status = t("xlsx_report.status_sent") if reported else t("xlsx_report.status_missing")
        code = str((entry.get("unit") or {}).get("code") or "")
        packed, merged = parse_date(entry.get("packed_at")), parse_date(entry.get("merged_at"))
        bases = ", ".join(t(f"xlsx_report.base_word.{base}") for base in entry.get("missing_bases") or [])
        values = [number, unit_name(entry), code, status, packed, merged, bases]
        table_row(ws, line, values, cols, bold=not reported, fill=None if reported else _MISSING_FILL)
        line += 1
    text = ctx.fold_line("completeness", folded, "commune")
    if text:
        line = note_row(ws, line + 1, text, cols, italic=False)
    expected, sent, missing = ctx.completeness_counts()
    line += 1
    for key, value in (("count_expected", expected), ("count_sent", sent), ("count_missing", len(missing))):
        ws.merge(line, 2, 3, t(f"xlsx_report.{key}"), bold=True, box=True)
        ws.put(line, 4, value, fmt=NUMBER, bold=True, box=True)
        ws.height(line, row_height(1, SIZE_TABLE))
        line += 1


def write_method_sheet(ws: Sheet, ctx: Document, title: str, numeral: str) -> None:
    """'Cách tính': one line for every indicator the document shows."""
    cols = [Col(t("xlsx_report.col_indicator"), width=33, fmt=None),
            Col(t("xlsx_report.method_section"), width=73, fmt=None)]
    appendix_top(ws, ctx, numeral, title, len(cols), sum(c.width for c in cols))
    for number, col in enumerate(cols, start=1):
        ws.width(number, col.width)
        ws.put(HEAD_ROW, number, col.head, bold=True, h="center", box=True)
    ws.height(HEAD_ROW, row_height(1, SIZE_TABLE))
    ws.page_setup(footer=ctx.footer(), repeat=(HEAD_ROW, HEAD_ROW))
    line = HEAD_ROW + 1
    for label, text in ctx.method_lines():
        ws.put(line, 1, label, bold=True, wrap=True, box=True)
        ws.put(line, 2, text, wrap=True, box=True)
        lines = max(wrapped_lines(label, cols[0].width, SIZE_TABLE, char=0.9),
                    wrapped_lines(text, cols[1].width, SIZE_TABLE, char=0.9))
        ws.height(line, row_height(lines, SIZE_TABLE))
        line += 1
