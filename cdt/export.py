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
from cdt.reports.document import NUMERALS, SERVICES_PER_SHEET, Document, printable
from cdt.reports.xlsx_appendices import (write_activity_sheet, write_completeness_sheet, write_method_sheet,
                                         write_register_sheet, write_services_sheet, write_trend_units_sheet)
from cdt.reports.xlsx_charts import write_charts_sheet
from cdt.reports.xlsx_sheet import FONT, SIZE_BODY, Book, sheet_name
from cdt.reports.xlsx_summary import write_summary_sheet


def write_report_xlsx(
    report: dict,
    path: Path,
    *,
    number: str | None = None,
    place: str | None = None,
    signer: str | None = None,
    preparer: str | None = None,
    all_units: bool = False,
) -> Path:
    """Write the monthly report dict as an .xlsx workbook at path and return the path (all_units: no
    unit folded away in the appendices)."""
    import xlsxwriter

    path = Path(path)
    ctx = Document(report, number=number, place=place, signer=signer, preparer=preparer, all_units=all_units)
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
        appendices.append((numeral, t(sheet_key.replace(".sheet_pl_", ".short."))))
        return sheet, numeral

    sheet, numeral = appendix("xlsx_report.sheet_pl_register", t("xlsx_report.register_title"))
    write_register_sheet(sheet, ctx, ctx.rows, ctx.row_level, t("xlsx_report.register_title"), numeral)
    sheet, numeral = appendix("xlsx_report.sheet_pl_activity", t("xlsx_report.activity_title"))
    write_activity_sheet(sheet, ctx, ctx.rows, ctx.row_level, t("xlsx_report.activity_title"), numeral)
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
    write_charts_sheet(book, sheet, ctx, title, numeral)
    if ctx.trends:
        title = t("xlsx_report.trend_units_title")
        sheet, numeral = appendix("xlsx_report.sheet_pl_trend_units", title)
        write_trend_units_sheet(sheet, ctx, title, numeral)
    if ctx.level != "commune":
        title = t("xlsx_report.completeness_title")
        sheet, numeral = appendix("xlsx_report.sheet_pl_completeness", title)
        write_completeness_sheet(sheet, ctx, title, numeral)
    # The document ends with how each indicator it shows is counted.
    title = t("xlsx_report.method_title")
    sheet, numeral = appendix("xlsx_report.sheet_pl_method", title)
    write_method_sheet(sheet, ctx, title, numeral)
    write_summary_sheet(summary, ctx, appendices)
    for sheet in book.sheets:
        sheet.finish()


