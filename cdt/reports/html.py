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
                                  appendix_line, flow_value, month_label, parse_date, printable, sentence_case,
                                  service_value, shows_activity, shows_completeness, shows_register, shows_services,
                                  shows_trend, stock_value, target_label, unit_name)


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


def css_string(text: str) -> str:
    """Text as a CSS string literal: letters and digits as they are, everything else escaped, so a
    unit's name cannot end the string or the style element."""
    out = []
    for ch in printable(text):
        out.append(ch if ch.isalnum() or ch in " ,.-/()" else f"\\{ord(ch):x} ")
    return '"' + "".join(out) + '"'


def build_view(report: dict, *, number: str | None = None, place: str | None = None, signer: str | None = None,
               preparer: str | None = None, all_units: bool = False) -> dict:
    """What the template shows, computed once from the report dict (texts and figures as the workbook's)."""
    from markupsafe import Markup  # noqa: F401  (charts are trusted markup built by cdt.svg)

    ctx = Document(report, number=number, place=place, signer=signer, preparer=preparer, all_units=all_units)
    top, body, top_bold = ctx.heading()

    summary = []
    for row in ctx.summary_rows():
        show = _percent if row.fmt == PERCENT else _number
        summary.append({"label": row.label, "measure": row.measure, "stock": row.stock, "missing": row.missing,
                        "values": [show(value) for value in row.values], "note": row.note})
    services = [{"name": s.get("name") or s.get("code"),
                 "values": [_number(service_value(ctx.total, str(s.get("code") or ""), p))
                            for p in ("month", "ytd", "total")]}
                for s in ctx.services]

    targets = []
    for target in ctx.targets:
        show = _percent if target.get("percent") or target.get("indicator") in PERCENT_KEYS else _number
        missing, note = ctx.target_note(target)
        targets.append({"label": target_label(target), "year": target.get("year"),
                        "value": show(target.get("value")), "actual": show(target.get("actual")),
                        "progress": _percent(target.get("progress")), "missing": missing, "note": note})

    def register(row: dict) -> list[str]:
        return [_percent(stock_value(row, k)) if f == PERCENT else _number(stock_value(row, k))
                for k, _, f in STOCK_ROWS]

    def activity(row: dict) -> list[str]:
        cells = []
        for key, _, fmt in ctx.flows:
            show = _percent if fmt == PERCENT else _number
            cells += [show(flow_value(row, key, "month")), show(flow_value(row, key, "ytd"))]
        return cells

    def unit_table(rows: list[dict], row_level: str, cells, fold: str, shows) -> dict:
        shown, folded = ctx.fold(rows, shows)
        return {"level_label": ctx.level_label(row_level), "names": [unit_name(r) for r in shown],
                "rows": [cells(r) for r in shown], "total": cells(ctx.total),
                "folded": ctx.fold_line(fold, folded, row_level)}

    appendices: list[dict] = []

    def appendix(kind: str, title: str, short: str, **data) -> None:
        numeral = NUMERALS[len({a["numeral"] for a in appendices})]
        appendices.append({"kind": kind, "title": title, "short": t(f"xlsx_report.short.{short}"),
                           "numeral": numeral, **data})

    stock_heads = [t(f"xlsx_report.ind.{k}") for k, _, _ in STOCK_ROWS]
    flow_heads = [t(f"xlsx_report.ind.{k}") for k, _, _ in ctx.flows]
    appendix("register", t("xlsx_report.register_title"), "register", heads=stock_heads,
             table=unit_table(ctx.rows, ctx.row_level, register, "register", shows_register))
    appendix("activity", t("xlsx_report.activity_title"), "activity", heads=flow_heads,
             table=unit_table(ctx.rows, ctx.row_level, activity, "activity", shows_activity))
    if ctx.level == "province" and ctx.commune_rows and ctx.row_level != "commune":
        appendix("register", t("xlsx_report.communes_register_title"), "communes_register", heads=stock_heads,
                 table=unit_table(ctx.commune_rows, "commune", register, "register", shows_register))
        appendix("activity", t("xlsx_report.communes_activity_title"), "communes_activity", heads=flow_heads,
                 table=unit_table(ctx.commune_rows, "commune", activity, "activity", shows_activity))
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
        last = start + SERVICES_PER_SHEET >= len(codes)
        data = {"heads": [t("xlsx_report.col_people_total")] + [s.get("name") or s.get("code") for s in chunk],
                "table": unit_table(ctx.rows, ctx.row_level, service_cells, "services", shows_services),
                "note": (t("xlsx_report.services_note") if codes else t("xlsx_report.no_services")) if last else None}
        if start:
            appendices.append({**appendices[-1], "title": t("xlsx_report.continued", title=title), **data})
        else:
            appendix("services", title, "services", **data)

    trend = _trend_view(ctx)
    appendix("charts", t("xlsx_report.charts_title") if trend else t("xlsx_report.section_chart"), "charts",
             month_chart=_month_chart(ctx), chart_units_title=sentence_case(t("xlsx_report.section_chart")),
             trend=trend, trend_title=sentence_case(t("xlsx_report.trend_title")))
    if trend:
        appendix("trend_units", t("xlsx_report.trend_units_title"), "trend_units", trend=trend)
    if ctx.level != "commune":
        shown, folded = ctx.fold(ctx.completeness, shows_completeness)
        rows = []
        for entry in shown:
            reported = bool(entry.get("reported"))
            packed, merged = parse_date(entry.get("packed_at")), parse_date(entry.get("merged_at"))
            rows.append({"name": unit_name(entry), "code": str((entry.get("unit") or {}).get("code") or ""),
                         "reported": reported,
                         "status": t("xlsx_report.status_sent") if reported else t("xlsx_report.status_missing"),
                         "packed": packed.strftime("%d/%m/%Y") if packed else "",
                         "merged": merged.strftime("%d/%m/%Y") if merged else "",
                         "bases": ", ".join(t(f"xlsx_report.base_word.{b}") for b in entry.get("missing_bases") or [])})
        expected, sent, missing = ctx.completeness_counts()
        appendix("completeness", t("xlsx_report.completeness_title"), "completeness", rows=rows,
                 folded=ctx.fold_line("completeness", folded, "commune"),
                 counts=[(t("xlsx_report.count_expected"), expected), (t("xlsx_report.count_sent"), sent),
                         (t("xlsx_report.count_missing"), len(missing))])
    appendix("method", t("xlsx_report.method_title"), "method", lines=ctx.method_lines())

    numerals = {a["kind"]: a["numeral"] for a in appendices}
    notes = ctx.summary_notes(completeness_numeral=numerals.get("completeness", ""))

    appendix_list, seen = [], set()
    for index, a in enumerate(appendices):
        a["anchor"] = f"pl-{a['numeral']}" if a["numeral"] not in seen else f"pl-{a['numeral']}-{index}"
        a["continued"] = a["numeral"] in seen
        if a["numeral"] not in seen:
            seen.add(a["numeral"])
            appendix_list.append((a["numeral"], appendix_line(a["numeral"], a["short"]) if not appendix_list
                                  else f"{a['numeral']}: {a['short']}"))
    return {
        "appendix_list": appendix_list,
        "lang": language(),
        "title": ctx.subject(),
        "top": top, "top_bold": top_bold, "body": body,
        "motto_1": t("xlsx_report.motto_1"), "motto_2": t("xlsx_report.motto_2"),
        "number": ctx.number_line(), "place_date": ctx.place_date(),
        "period": ctx.period_line(),
        "col_month": ctx.col_month(), "col_ytd": ctx.col_ytd(), "subtitle": ctx.subtitle(),
        "summary": summary, "services": services, "targets": targets,
        "appendices": appendices, "notes": notes, "recipients": ctx.recipients(),
        "sign_lines": ctx.sign_lines(), "preparer": ctx.preparer or "", "signer": ctx.signer or "",
        "level": ctx.level,
        "footer_css": Markup(css_string(ctx.footer())),
        "page_css": Markup(_page_counter_css()),
    }


def _page_counter_css() -> str:
    """'Trang x/y' as the content of a page-margin box: the message around the page counters."""
    text = t("xlsx_report.page_of", page="\u27e6P\u27e7", pages="\u27e6N\u27e7")
    before, _, rest = text.partition("\u27e6P\u27e7")
    middle, _, after = rest.partition("\u27e6N\u27e7")
    return f"{css_string(before)} counter(page) {css_string(middle)} counter(pages) {css_string(after)}"


def _month_chart(ctx: Document) -> dict:
    """The month's ranked bars (the first units by name, the rest as one bar) and the sentence naming
    the units with nobody helped; or the sentence saying there is nothing to draw."""
    from markupsafe import Markup

    if not ctx.rows:
        return {"svg": None, "empty": t("xlsx_report.no_rows"), "zeros": None}
    ranking = ctx.ranking(ctx.rows)
    bars = list(ranking.bars)
    if ranking.others:
        bars.append((ctx.others_label(ranking.others[0]), ranking.others[1]))
    chart = svg.bars([name for name, _ in bars], [value for _, value in bars], fmt=_number,
                     title=t("xlsx_report.chart_title", month=f"{ctx.month:02d}", year=ctx.year))
    return {"svg": Markup(chart) if chart else None,
            "empty": t("xlsx_report.empty_chart", month=f"{ctx.month:02d}", year=ctx.year),
            "ranked": t("xlsx_report.chart_ranked") if chart else None,
            "zeros": ctx.zeros_line(ranking.zeros) if chart else None}


def _trend_view(ctx) -> dict | None:
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
    shown, folded = ctx.fold(list(trends.get("rows") or []), shows_trend)
    for row in shown:
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
        "folded": ctx.fold_line("trend", folded),
        "total": {"values": [_number(v) for v in total_people], "sum": _number(sum(total_people))},
        "paths": paths,
    }


def render_html(report: dict, **options) -> str:
    """The report as one HTML document (a string)."""
    view = build_view(report, **options)
    return _environment().get_template("report.html.j2").render(**view)


def write_report_html(report: dict, path: Path, *, number: str | None = None, place: str | None = None,
                      signer: str | None = None, preparer: str | None = None, all_units: bool = False) -> Path:
    """Write the report as a self-contained HTML file at path (through a temporary name) and return the path."""
    path = Path(path)
    text = render_html(report, number=number, place=place, signer=signer, preparer=preparer, all_units=all_units)
    try:
        with written_whole(path) as partial:
            partial.write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise CdtError("html_report.cannot_write", path=str(path), reason=os_reason(exc)) from exc
    return path
