"""The monthly report as one self-contained HTML file (Nghị định 30 layout, inline SVG charts).

The file opens offline in any current browser and prints as the official report on A4: styles
are inline, fonts fall back to what the machine has (Times New Roman, Liberation Serif, Tinos,
DejaVu Serif), charts are inline SVG (``cdt/reports/svg.py``), there is no script, and a Content
Security Policy in the page forbids every network request. Text is escaped by Jinja2's autoescape.

The content is the workbook's (``cdt/export.py``), both read from ``cdt/reports/document.py``: the
same texts (``xlsx_report.*`` messages), the same figures, the same appendices, plus the trend
charts. The input is the plain dict of ``docs/report-shape.md``; nothing here queries the database.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from cdt.core.errors import CdtError, os_reason
from cdt.core.files import written_whole
from cdt.core.i18n import language, t
from cdt.domain.indicators import TREND_KEYS
from cdt.reports import svg
from cdt.reports.document import (NUMERALS, PERCENT, PERCENT_KEYS, SERVICES_PER_SHEET, STOCK_ROWS, Document,
                                  appendix_line, flow_value, month_label, parse_date, sentence_case, service_value,
                                  stock_value, target_label, unit_name)


def _number(value: Any) -> str:
    """12.345 in Vietnamese, 12,345 in English; empty for a missing value."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if language() == "vi":
        text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return text


def _percent(value: Any) -> str:
    """0.246 -> 24,6% (Vietnamese) or 24.6% (English)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return ""
    text = f"{value * 100:.1f}"
    return (text.replace(".", ",") if language() == "vi" else text) + "%"


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("cdt", "templates"), autoescape=select_autoescape(("html", "j2")),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["t"] = t
    env.filters["number"] = _number
    env.filters["percent"] = _percent
    env.filters["month"] = month_label
    return env


def build_view(report: dict, *, number: str | None = None, place: str | None = None, signer: str | None = None,
               preparer: str | None = None) -> dict:
    """What the template shows, computed once from the report dict (texts and figures as the workbook's)."""
    from markupsafe import Markup  # noqa: F401  (charts are trusted markup built by cdt.svg)

    ctx = Document(report, number=number, place=place, signer=signer, preparer=preparer)
    top, body, top_bold = ctx.heading()

    total = ctx.total
    stocks = [{"label": t(f"xlsx_report.ind.{key}"), "measure": t(f"xlsx_report.measure.{measure}"),
               "value": _percent(stock_value(total, key)) if fmt == PERCENT else _number(stock_value(total, key))}
              for key, measure, fmt in STOCK_ROWS]
    flows = []
    for key, measure, fmt in ctx.flows:
        show = _percent if fmt == PERCENT else _number
        flows.append({"label": t(f"xlsx_report.ind.{key}"), "measure": t(f"xlsx_report.measure.{measure}"),
                      "values": [show(flow_value(total, key, part)) for part in ("month", "ytd", "total")]})
    services = [{"name": s.get("name") or s.get("code"),
                 "values": [_number(service_value(total, str(s.get("code") or ""), p))
                            for p in ("month", "ytd", "total")]}
                for s in ctx.services]

    targets = []
    for target in ctx.targets:
        show = _percent if target.get("percent") or target.get("indicator") in PERCENT_KEYS else _number
        targets.append({"label": target_label(target), "year": target.get("year"),
                        "value": show(target.get("value")), "actual": show(target.get("actual")),
                        "progress": _percent(target.get("progress"))})

    level_label = ctx.level_label(ctx.row_level)
    names = [unit_name(row) for row in ctx.rows]
    people_month = [flow_value(row, "people_helped", "month") or 0 for row in ctx.rows]
    chart_units = svg.bars(names, people_month, fmt=_number, row=22 if len(names) <= 12 else 17,
                           title=t("xlsx_report.chart_title", month=f"{ctx.month:02d}", year=ctx.year))

    def register(rows: list[dict]) -> list[list[str]]:
        out = []
        for row in rows:
            out.append([_percent(stock_value(row, k)) if f == PERCENT else _number(stock_value(row, k))
                        for k, _, f in STOCK_ROWS])
        return out

    def activity(rows: list[dict]) -> list[list[str]]:
        out = []
        for row in rows:
            cells = []
            for key, _, fmt in ctx.flows:
                show = _percent if fmt == PERCENT else _number
                cells += [show(flow_value(row, key, "month")), show(flow_value(row, key, "ytd"))]
            out.append(cells)
        return out

    def unit_table(rows: list[dict], row_level: str, kind: str) -> dict:
        make = register if kind == "register" else activity
        return {"level_label": ctx.level_label(row_level), "names": [unit_name(r) for r in rows],
                "rows": make(rows), "total": make([ctx.total])[0]}

    appendices: list[dict] = []

    def appendix(kind: str, title: str, **data) -> None:
        numeral = NUMERALS[len({a["numeral"] for a in appendices})]
        appendices.append({"kind": kind, "title": title, "numeral": numeral, **data})

    appendix("register", t("xlsx_report.register_title"), table=unit_table(ctx.rows, ctx.row_level, "register"),
             heads=[t(f"xlsx_report.ind.{k}") for k, _, _ in STOCK_ROWS])
    appendix("activity", t("xlsx_report.activity_title"), table=unit_table(ctx.rows, ctx.row_level, "activity"),
             heads=[t(f"xlsx_report.ind.{k}") for k, _, _ in ctx.flows])
    if ctx.level == "province" and ctx.commune_rows and ctx.row_level != "commune":
        appendix("register", t("xlsx_report.communes_register_title"),
                 table=unit_table(ctx.commune_rows, "commune", "register"),
                 heads=[t(f"xlsx_report.ind.{k}") for k, _, _ in STOCK_ROWS])
        appendix("activity", t("xlsx_report.communes_activity_title"),
                 table=unit_table(ctx.commune_rows, "commune", "activity"),
                 heads=[t(f"xlsx_report.ind.{k}") for k, _, _ in ctx.flows])
    codes = [str(s.get("code") or "") for s in ctx.services]
    for start in range(0, max(1, len(codes)), SERVICES_PER_SHEET):
        chunk = ctx.services[start:start + SERVICES_PER_SHEET]
        chunk_codes = codes[start:start + SERVICES_PER_SHEET]

        def service_cells(row: dict, chunk_codes=chunk_codes) -> list[str]:
            cells = [_number(flow_value(row, "people_helped", "month")),
                     _number(flow_value(row, "people_helped", "ytd"))]
            for code in chunk_codes:
                cells += [_number(service_value(row, code, "month")), _number(service_value(row, code, "ytd"))]
            return cells

        title = t("xlsx_report.services_title")
        data = {"heads": [t("xlsx_report.col_people_total")] + [s.get("name") or s.get("code") for s in chunk],
                "table": {"level_label": level_label, "names": names,
                          "rows": [service_cells(r) for r in ctx.rows], "total": service_cells(ctx.total)},
                "note": t("xlsx_report.services_note") if codes else t("xlsx_report.no_services")}
        if start:
            appendices.append({**appendices[-1], "title": t("xlsx_report.continued", title=title), **data})
        else:
            appendix("services", title, **data)

    trend = _trend_view(ctx, names)
    # As in the workbook: the charts in an appendix of their own, the summary text and tables only.
    appendix("charts", t("xlsx_report.charts_title") if trend else t("xlsx_report.section_chart"),
             chart_units=Markup(chart_units) if chart_units else None,
             chart_units_empty=t("xlsx_report.empty_chart", month=f"{ctx.month:02d}", year=ctx.year)
             if ctx.rows else t("xlsx_report.no_rows"),
             chart_units_title=sentence_case(t("xlsx_report.section_chart")),
             trend=trend, trend_title=sentence_case(t("xlsx_report.trend_title")))
    if trend:
        appendix("trend_units", t("xlsx_report.trend_units_title"), trend=trend)
    if ctx.level != "commune":
        rows = []
        for entry in ctx.completeness:
            reported = bool(entry.get("reported"))
            packed, merged = parse_date(entry.get("packed_at")), parse_date(entry.get("merged_at"))
            rows.append({"name": unit_name(entry), "code": str((entry.get("unit") or {}).get("code") or ""),
                         "reported": reported,
                         "status": t("xlsx_report.status_sent") if reported else t("xlsx_report.status_missing"),
                         "packed": packed.strftime("%d/%m/%Y") if packed else "",
                         "merged": merged.strftime("%d/%m/%Y") if merged else ""})
        expected, sent, missing = ctx.completeness_counts()
        appendix("completeness", t("xlsx_report.completeness_title"), rows=rows,
                 counts=[(t("xlsx_report.count_expected"), expected), (t("xlsx_report.count_sent"), sent),
                         (t("xlsx_report.count_missing"), len(missing))])

    notes = ctx.summary_notes()
    recipients = ctx.recipients()

    progress_items = []
    paths = {(p.get("indicator"), p.get("year")): p for p in (ctx.trends or {}).get("targets") or []}
    for target in ctx.targets:
        path = (paths.get((target.get("indicator"), target.get("year"))) or {}).get("path") or []
        pace = None
        if path and path[-1].get("line") is not None and target.get("value"):
            pace = path[-1]["line"] / target["value"]
        progress_items.append((target_label(target), target.get("progress"), pace))
    chart_targets = svg.progress(progress_items, fmt=_percent, title=t("xlsx_report.section_targets"))

    appendix_list, seen = [], set()
    for index, a in enumerate(appendices):
        a["anchor"] = f"pl-{a['numeral']}" if a["numeral"] not in seen else f"pl-{a['numeral']}-{index}"
        if a["numeral"] not in seen:
            seen.add(a["numeral"])
            appendix_list.append((a["numeral"], appendix_line(a["numeral"], a["title"])))
    return {
        "appendix_list": appendix_list,
        "lang": language(),
        "title": ctx.subject(),
        "top": top, "top_bold": top_bold, "body": body,
        "motto_1": t("xlsx_report.motto_1"), "motto_2": t("xlsx_report.motto_2"),
        "number": ctx.number_line(), "place_date": ctx.place_date(),
        "period": ctx.period_line(),
        "col_month": ctx.col_month(), "col_ytd": ctx.col_ytd(), "subtitle": ctx.subtitle(),
        "stocks": stocks, "flows": flows, "services": services, "targets": targets,
        "chart_targets": Markup(chart_targets) if chart_targets else None,
        "trend": trend, "appendices": appendices, "notes": notes, "recipients": recipients,
        "preparer": ctx.preparer or "", "signer": ctx.signer or "",
        "level": ctx.level,
    }


def _trend_view(ctx, names: list[str]) -> dict | None:
    from markupsafe import Markup

    trends = ctx.trends
    if not trends:
        return None
    months = [month_label(str(m)) for m in trends.get("months") or []]
    totals = trends.get("total") or {}
    keys = [k for k in TREND_KEYS if isinstance(totals.get(k), list)]
    series = [(t(f"xlsx_report.ind.{k}"), totals[k]) for k in keys]
    chart = svg.lines(months, series, fmt=_number,
                      title=t("xlsx_report.trend_chart_title", month=f"{ctx.month:02d}", year=ctx.year))
    rows = []
    for row in trends.get("rows") or []:
        values = [v if isinstance(v, (int, float)) else 0 for v in row.get("people_helped") or []]
        rows.append({"name": str((row.get("unit") or {}).get("name") or ""), "values": [_number(v) for v in values],
                     "sum": _number(sum(values)),
                     "spark": Markup(svg.spark(values, label=str((row.get("unit") or {}).get("name") or "")))})
    total_people = [v if isinstance(v, (int, float)) else 0 for v in totals.get("people_helped") or []]
    paths = []
    for target in trends.get("targets") or []:
        if not target.get("path"):
            continue
        show = _percent if target.get("percent") else _number
        paths.append({"label": target_label(target),
                      "months": [month_label(p["month"]) for p in target["path"]],
                      "actual": [show(p.get("actual")) for p in target["path"]],
                      "line": [show(p.get("line")) for p in target["path"]]
                      if any(p.get("line") is not None for p in target["path"]) else None,
                      "progress": [_percent(p.get("progress")) for p in target["path"]]})
    return {
        "months": months,
        "heads": [t(f"xlsx_report.ind.{k}") for k in keys],
        "table": [[months[i]] + [_number(totals[k][i]) if i < len(totals[k]) else "" for k in keys]
                  for i in range(len(months))],
        "chart": Markup(chart) if chart else None,
        "rows": rows,
        "total": {"values": [_number(v) for v in total_people], "sum": _number(sum(total_people))},
        "paths": paths,
    }


def render_html(report: dict, **options) -> str:
    """The report as one HTML document (a string)."""
    view = build_view(report, **options)
    return _environment().get_template("report.html.j2").render(**view)


def write_report_html(report: dict, path: Path, *, number: str | None = None, place: str | None = None,
                      signer: str | None = None, preparer: str | None = None) -> Path:
    """Write the report as a self-contained HTML file at path (through a temporary name) and return the path."""
    path = Path(path)
    text = render_html(report, number=number, place=place, signer=signer, preparer=preparer)
    try:
        with written_whole(path) as partial:
            partial.write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise CdtError("html_report.cannot_write", path=str(path), reason=os_reason(exc)) from exc
    return path
