"""cdt merge: bring packs into a district or province file, and show exactly what happened."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List

import typer

from cdt.commands import common
from cdt.i18n import t

ORDER = 71


def merge(
    ctx: typer.Context,
    paths: Annotated[List[Path], typer.Argument(help=t("merge.arg.paths"), show_default=False,
                                                metavar=t("merge.arg.metavar"))],
    dry_run: Annotated[bool, typer.Option("--dry-run", help=t("merge.opt.dry_run"))] = False,
    format: Annotated[common.Format, typer.Option("--format", help=t("opt.format"))] = common.Format.table,
    replaces: Annotated[str | None, typer.Option("--replaces", help=t("merge.opt.replaces"),
                                                 metavar="DB_ID")] = None,
) -> None:
    from cdt import merge as library

    target = _dry_run_target(ctx) if dry_run else common.store(ctx)
    if format is common.Format.json:
        batch = library.merge_batch(target, paths, dry_run=dry_run, replaces=replaces)
    else:
        batch = _with_progress(library, target, paths, dry_run, replaces)
    results, open_conflicts = batch.results, batch.open_conflicts
    refused = [r for r in results if not r.ok]
    if format is common.Format.json:
        common.print_json({
            "dry_run": dry_run, "files": [r.as_dict() for r in results],
            "merged": len(results) - len(refused), "refused": len(refused), "open_conflicts": open_conflicts,
        })
    else:
        _render(results, dry_run, open_conflicts)
    for result in refused:
        # Also on stderr, where a script or a redirected run looks for what went wrong.
        typer.echo(t("merge.refused_line", name=result.name, reason=result.reason), err=True)
    if refused:
        from cdt.errors import FileRefused

        # A CdtError, so the CLI prints one line on stderr and exits 1.
        raise FileRefused("merge.some_refused", count=len(refused), total=len(results))


def _dry_run_target(ctx: typer.Context):
    """The target opened as it is: a dry run must not migrate an older file (the merge library
    migrates its scratch copy instead)."""
    from cdt.store import Store

    target = Store.open(common.db_path(ctx), migrate=False)
    ctx.call_on_close(target.close)
    return target


def _with_progress(library, target, paths, dry_run, replaces=None):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = common.console(stderr=True)
    # Not on a terminal (a script, a log file), the bar would leave a blank line on stderr.
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(t("merge.progress"), total=None)

        def progress(done: int, total: int, name: str) -> None:
            bar.update(task, total=total, completed=done,
                       description=f"{t('merge.progress')} {common.escape(name)}")

        return library.merge_batch(target, paths, dry_run=dry_run, progress=progress, replaces=replaces)


def _render(results, dry_run: bool, open_conflicts: int) -> None:
    columns = [("table", t("merge.col.table"))] + [(k, t(f"merge.col.{k}")) for k in
                                                    ("inserted", "updated", "unchanged", "older", "conflicts")]
    render = {k: common.number for k, _ in columns[1:]}
    for result in results:
        if not result.ok:
            common.say(t("merge.refused_line", name=result.name, reason=result.reason))
            continue
        common.say(t("merge.unit_line", level=t(f"level.{result.level}"), name=result.unit_name,
                     code=result.unit_code, clock=result.clock, packed=common.display_date(result.packed_at),
                     sha=(result.sha256 or "")[:16]))
        if result.already_merged:
            common.say(t("merge.already_merged", date=common.display_date(result.already_merged)))
        rows = [{"table": t(f"table.{table}"), **counts} for table, counts in result.counts.items()
                if any(counts.values())]
        totals = result.totals()
        rows.append({"table": "Σ", **totals})
        title = t("merge.title_dry" if dry_run else "merge.title", name=result.name)
        common.print_table(title, columns, rows, render=render)
    ok = sum(1 for r in results if r.ok)
    common.say(t("merge.summary_dry" if dry_run else "merge.summary", ok=ok, total=len(results),
                 refused=len(results) - ok))
    if open_conflicts:
        common.say(t("merge.conflicts_hint", count=open_conflicts))


def register(app: typer.Typer) -> None:
    app.command("merge", help=t("merge.help"))(merge)
