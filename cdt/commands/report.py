"""cdt report: the monthly report as a terminal table, JSON, CSV and an Excel workbook."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from cdt.commands import common
from cdt.core.i18n import t
from cdt.core.text import display_date

ORDER = 75


class ReportFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def report(
    ctx: typer.Context,
    month: Annotated[Optional[str], typer.Option("--month", help=t("report.opt.month"), show_default=False)] = None,
    district: Annotated[bool, typer.Option("--district", help=t("report.opt.district"))] = False,
    province: Annotated[bool, typer.Option("--province", help=t("report.opt.province"))] = False,
    format: Annotated[ReportFormat, typer.Option("--format", help=t("report.opt.format"))] = ReportFormat.table,
    xlsx: Annotated[Optional[Path], typer.Option("--xlsx", help=t("report.opt.xlsx"), show_default=False)] = None,
    html: Annotated[Optional[Path], typer.Option("--html", help=t("report.opt.html"), show_default=False)] = None,
    number: Annotated[Optional[str], typer.Option("--number", help=t("report.opt.number"), show_default=False)] = None,
    place: Annotated[Optional[str], typer.Option("--place", help=t("report.opt.place"), show_default=False)] = None,
    signer: Annotated[Optional[str], typer.Option("--signer", help=t("report.opt.signer"), show_default=False)] = None,
    preparer: Annotated[Optional[str], typer.Option("--preparer", help=t("report.opt.preparer"),
                                                    show_default=False)] = None,
    all_units: Annotated[bool, typer.Option("--all-units", help=t("report.opt.all_units"))] = False,
) -> None:
    from cdt.core.errors import InvalidInput
    from cdt.domain.parsers import parse_month
    from cdt.reports.report import build_report

    if district and province:
        raise InvalidInput("report.both_levels")
    year, mon = parse_month(month) if month else (None, None)
    level = "district" if district else "province" if province else None
    data = build_report(common.store(ctx), year=year, month=mon, level=level)
    if format is ReportFormat.json:
        common.print_json(data)
    elif format is ReportFormat.csv:
        write_csv(data)
    else:
        print_report(data)
    if xlsx is not None:
        from cdt.export import write_report_xlsx

        with common.working(t("progress.xlsx")):
            written = write_report_xlsx(data, xlsx, number=number, place=place, signer=signer, preparer=preparer,
                                        all_units=all_units)
        # Keep stdout clean for JSON/CSV: the confirmation goes to stderr then.
        message = t("report.xlsx_written", path=str(Path(written).resolve()))
        typer.echo(message, err=format is not ReportFormat.table)
    if html is not None:
        from cdt.reports.html import write_report_html

        written = write_report_html(data, html, number=number, place=place, signer=signer, preparer=preparer,
                                    all_units=all_units)
        typer.echo(t("report.html_written", path=str(Path(written).resolve())), err=format is not ReportFormat.table)


# -- CSV ------------------------------------------------------------------------------------------

_STOCK_COLUMNS = ("teams", "teams_with_decision", "hamlets", "hamlets_covered", "hamlets_covered_pct",
                  "members", "members_trained", "members_trained_pct", "households", "working_age")
_FLOW_COLUMNS = ("visits", "households_reached", "people_helped", "digital_citizens")
_PARTS = ("month", "ytd", "total")


def csv_rows(data: dict) -> list[list[str]]:
    """Header, one line per unit below, then the total."""
    codes = [s["code"] for s in data["services"]]
    header = ["unit_code", "unit_name", "unit_level", *_STOCK_COLUMNS]
    header += [f"{key}_{part}" for key in _FLOW_COLUMNS for part in _PARTS]
    header += [f"households_reached_pct_{part}" for part in _PARTS]
    header += [f"service_{code}_{part}" for code in codes for part in _PARTS]

    def line(unit: dict, values: dict) -> list[str]:
        cells = [unit.get("code"), unit.get("name"), unit.get("level")]
        cells += [values.get(key) for key in _STOCK_COLUMNS]
        cells += [values[key][part] for key in _FLOW_COLUMNS for part in _PARTS]
        cells += [values["households_reached_pct"][part] for part in _PARTS]
        cells += [values["people_by_service"][code][part] for code in codes for part in _PARTS]
        return [common.csv_safe(c) for c in cells]

    body = [line(row["unit"], row) for row in data["rows"]]
    total_unit = {"code": data["unit"]["code"], "name": t("report.total"), "level": data["level"]}
    return [header, *body, line(total_unit, data["total"])]


def write_csv(data: dict) -> None:
    common.print_csv(csv_rows(data))  # UTF-8 with a BOM, for Excel


# -- the terminal table ---------------------------------------------------------------------------


def _pct(value) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.1f}".replace(".", ",") + "%"


def print_report(data: dict) -> None:
    """Rich tables that fit 80 columns: units, totals by period, completeness, targets."""
    from rich.table import Table

    out = common.console()
    year, month = data["month"].split("-")
    out.print(common.escape(t("report.title", month=month, year=year, unit=data["unit"]["name"] or "")),
              style="bold")
    total = data["total"]
    out.print(common.escape(t("report.summary", teams=common.number(total["teams"]),
                              decided=common.number(total["teams_with_decision"]),
                              covered=common.number(total["hamlets_covered"]),
                              hamlets=common.number(total["hamlets"]),
                              members=common.number(total["members"]),
                              trained=common.number(total["members_trained"]))))
    for note in data.get("notes") or []:
        out.print(common.escape(note), style="italic")

    units = Table(title=t("report.units_title"), header_style="bold", show_footer=True)
    units.add_column(t("report.col.unit"), footer=t("report.total"), overflow="fold", max_width=22)
    cells = [("teams", "report.col.teams"), ("hamlets_covered", "report.col.covered"),
             ("members", "report.col.members"), ("members_trained", "report.col.trained")]
    flows = [("visits", "report.col.visits"), ("households_reached", "report.col.households"),
             ("people_helped", "report.col.people")]
    for key, head in cells:
        units.add_column(t(head), justify="right", footer=common.number(total[key]))
    for key, head in flows:
        units.add_column(t(head), justify="right", footer=common.number(total[key]["month"]))
    for row in data["rows"]:
        units.add_row(common.escape(str(row["unit"].get("name") or row["unit"].get("code") or "")),
                      *[common.number(row[key]) for key, _ in cells],
                      *[common.number(row[key]["month"]) for key, _ in flows])
    out.print(units)

    periods = Table(title=t("report.flows_title"), header_style="bold")
    periods.add_column(t("report.col.indicator"), overflow="fold", max_width=40)
    for part in ("month", "ytd", "total"):
        periods.add_column(t(f"report.col.{part}"), justify="right")
    for key in ("visits", "households_reached", "people_helped", "digital_citizens"):
        periods.add_row(t(f"report.ind.{key}"), *[common.number(total[key][p]) for p in ("month", "ytd", "total")])
    for service in data["services"]:
        flow = total["people_by_service"][service["code"]]
        periods.add_row("  " + common.escape(str(service["name"])),
                        *[common.number(flow[p]) for p in ("month", "ytd", "total")])
    out.print(periods)
    print_rates(data)
    print_trend(data)

    if data["completeness"]:
        sent = sum(1 for entry in data["completeness"] if entry["reported"])
        done = Table(title=t("report.completeness_title", sent=sent, total=len(data["completeness"])),
                     header_style="bold")
        done.add_column(t("report.col.unit"), overflow="fold", max_width=30)
        done.add_column(t("report.col.reported"))
        done.add_column(t("report.col.packed_at"), no_wrap=True)
        done.add_column(t("report.col.merged_at"), no_wrap=True)
        for entry in data["completeness"]:
            done.add_row(common.escape(str(entry["unit"].get("name") or "")),
                         (t("report.yes") if entry["reported"] else t("report.no"))
                         + (" · " + t("valid.report.col.second_file") if entry.get("second_file") else ""),
                         display_date(entry.get("packed_at")), display_date(entry.get("merged_at")))
        out.print(done)

    if data["targets"]:
        goals = Table(title=t("report.targets_title"), header_style="bold")
        goals.add_column(t("report.col.indicator"), overflow="fold", max_width=30)
        goals.add_column(t("report.col.year"))
        goals.add_column(t("report.col.target"), justify="right")
        goals.add_column(t("report.col.actual"), justify="right")
        goals.add_column(t("report.col.progress"), justify="right")
        for target in data["targets"]:
            show = _pct if target["percent"] else common.number
            goals.add_row(t(f"report.ind.{target['indicator']}"), str(target["year"]), show(target["value"]),
                          show(target["actual"]), _pct(target["progress"]))
        out.print(goals)


def print_rates(data: dict) -> None:
    """Each rate with what it stands on ('tính trên 1/5 xã có số hộ'), or 'chưa đủ số liệu'."""
    from rich.table import Table

    from cdt.reports.document import Document, PERCENT

    document = Document(data)
    table = Table(title=t("report.rates_title"), header_style="bold")
    table.add_column(t("report.col.indicator"), overflow="fold", max_width=30)
    for part in ("month", "ytd"):
        table.add_column(t(f"report.col.{part}"), justify="right")
    table.add_column(t("report.col.rate_base"), overflow="fold", max_width=30)
    rates = data["total"].get("rates") or {}
    for row in document.summary_rows():
        if row.fmt != PERCENT:
            continue
        _, basis = document.rate_note(rates.get(row.key), always=True)
        if row.missing:
            cells = [t("xlsx_report.no_rate"), ""]
        elif row.stock:
            cells = [_pct(row.values[0]), ""]
        else:
            cells = [_pct(row.values[0]), _pct(row.values[1])]
        table.add_row(row.label, *cells, common.escape(basis or ""))
    common.console().print(table)


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list) -> str:
    """Twelve numbers as twelve block characters, the highest full; all zero: a flat line."""
    top = max((v or 0 for v in values), default=0)
    if not top:
        return _BARS[0] * len(values)
    return "".join(_BARS[min(7, round((v or 0) / top * 7))] for v in values)


def print_trend(data: dict) -> None:
    """The last 12 months of the main indicators for the whole unit, one line each."""
    from rich.table import Table

    trends = data.get("trends")
    if not trends or not trends.get("months"):
        return
    months = [f"{m[5:7]}/{m[:4]}" for m in trends["months"]]
    table = Table(title=t("report.trend_title", first=months[0], last=months[-1]), header_style="bold")
    table.add_column(t("report.col.indicator"), overflow="fold", max_width=30)
    table.add_column(t("report.trend_col_chart"), no_wrap=True)
    table.add_column(t("report.trend_col_first", month=months[0]), justify="right")
    table.add_column(t("report.trend_col_last", month=months[-1]), justify="right")
    for key in trends["indicators"]:
        series = trends["total"][key]
        table.add_row(t(f"report.ind.{key}"), sparkline(series), common.number(series[0]),
                      common.number(series[-1]))
    common.console().print(table)


def register(app: typer.Typer) -> None:
    app.command("report", help=t("report.help"))(report)
