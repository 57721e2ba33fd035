"""cdt import, cdt template: clerks' spreadsheets in, and the empty workbook to fill."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cdt.commands import common
from cdt.core.errors import InvalidInput
from cdt.core.i18n import t

ORDER = 75
DEFAULT_TEMPLATE = "mau-nhap-lieu-cdt.xlsx"
SHOWN_PROBLEMS = 200  # a terminal full of errors helps nobody; --format json lists them all


def _created(created: dict) -> str:
    return t("import.created", **created)


def _problem_line(problem) -> str:
    if not problem.column:
        return t("import.problem_row", sheet=problem.sheet, row=problem.row, message=problem.message)
    column = t("import.column", letter=problem.column, header=problem.header) if problem.header else problem.column
    return t("import.problem", sheet=problem.sheet, row=problem.row, column=column, message=problem.message)


def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help=t("import.arg.file"), metavar=t("metavar.file"), show_default=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help=t("import.opt.dry_run"))] = False,
    only_valid: Annotated[bool, typer.Option("--only-valid", help=t("import.opt.only_valid"))] = False,
    format: Annotated[common.Format, typer.Option("--format", help=t("opt.format"))] = common.Format.table,
) -> None:
    from cdt.intake.importer import KIND_LABELS, import_workbook

    with common.working(t("progress.import")):
        result = import_workbook(common.store(ctx), file, dry_run=dry_run, only_valid=only_valid)
    if format is common.Format.json:
        common.print_json(result.as_dict())
        if result.blocked:
            raise InvalidInput("import.blocked", count=len(result.problems))
        return
    rows = [{**s.as_dict(), "kind": t(KIND_LABELS[s.kind])} for s in result.sheets]
    common.print_table(
        t("import.title", file=file.name),
        [("sheet", t("import.col.sheet")), ("kind", t("import.col.kind")), ("header_row", t("import.col.header_row")),
         ("rows", t("import.col.rows")), ("new", t("import.col.new")), ("present", t("import.col.existing")),
         ("updated", t("import.col.updated")), ("problems", t("import.col.invalid"))],
        rows, render={k: common.number for k in ("header_row", "rows", "new", "present", "updated", "problems")},
    )
    common.say(t("import.rows_add_up", **result.totals()))
    updated = {k: v for k, v in result.updated.items() if v}
    if updated:
        common.say(t("import.updated", what=", ".join(f"{v} {t('import.table.' + k)}" for k, v in updated.items()),
                     rows="; ".join(f"{s.sheet}: {', '.join(map(str, s.updated_rows))}"
                                    for s in result.sheets if s.updated_rows)))
    if result.converted:
        common.say(t("import.converted", columns="; ".join(result.converted)))
    if result.problems:
        common.say(t("import.problems", count=len(result.problems)))
        for problem in result.problems[:SHOWN_PROBLEMS]:
            common.say("  " + _problem_line(problem))
        if len(result.problems) > SHOWN_PROBLEMS:
            common.say("  " + t("import.more_problems", count=len(result.problems) - SHOWN_PROBLEMS))
    if result.blocked:
        raise InvalidInput("import.blocked", count=len(result.problems))
    if not result.changed:
        common.say(t("import.nothing_new"))
    elif dry_run:
        common.say(t("import.would", created=_created(result.created)))
    elif result.problems:
        common.say(t("import.done_partial", created=_created(result.created)))
    else:
        common.say(t("import.done", created=_created(result.created)))


def template(
    out: Annotated[Optional[Path], typer.Option("--out", help=t("template.opt.out"), show_default=False)] = None,
) -> None:
    from cdt.intake.template import write_template

    path = write_template(out or Path.cwd() / DEFAULT_TEMPLATE)
    common.say(t("template.written_run", file=str(path), command=f"cdt import {common.shell_quote(str(path))}"))


def register(app: typer.Typer) -> None:
    app.command("import", help=t("import.help"))(import_)
    app.command("template", help=t("template.help"))(template)
