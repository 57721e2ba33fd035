"""cdt merge: bring packs into a district or province file, and show exactly what happened."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List

import typer

from cdt.commands import common
from cdt.core.i18n import t
from cdt.core.text import display_date

ORDER = 71


def merge(
    ctx: typer.Context,
    paths: Annotated[List[Path], typer.Argument(help=t("merge.arg.paths"), show_default=False,
                                                metavar=t("merge.arg.metavar"))],
    dry_run: Annotated[bool, typer.Option("--dry-run", help=t("merge.opt.dry_run"))] = False,
    format: Annotated[common.Format, typer.Option("--format", help=t("opt.format"))] = common.Format.table,
    detail: Annotated[bool, typer.Option("--detail", help=t("merge.opt.detail"))] = False,
    replaces: Annotated[str | None, typer.Option("--replaces", help=t("merge.opt.replaces"),
                                                 metavar=t("metavar.db_id"))] = None,
) -> None:
    from cdt.exchange import batch as library

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
        for result in refused:
            _say_refused(result)
    else:
        _render(results, dry_run, open_conflicts, detail, receiver=target.site.level)
    if refused:
        from cdt.core.errors import FileRefused

        # A CdtError, so the CLI prints one line on stderr and exits 1.
        if len(refused) == len(results):
            raise FileRefused("merge.none_merged", total=len(results))
        raise FileRefused("merge.some_refused", count=len(refused), total=len(results))


def _say_refused(result) -> None:
    """A refused pack: on stderr (once), where a script or a redirected run looks for what went wrong."""
    typer.echo(t("merge.refused_line", name=result.name, reason=result.reason), err=True)


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

        seen: list[str] = []  # names in the order the library took them; all before the last are done

        def progress(done: int, total: int, name: str) -> None:
            if name and (not seen or seen[-1] != name):
                seen.append(name)
            bar.update(task, total=total, completed=done,
                       description=f"{t('merge.progress')} {common.escape(name)}")

        try:
            return library.merge_batch(target, paths, dry_run=dry_run, progress=progress, replaces=replaces)
        except KeyboardInterrupt:
            bar.stop()
            _interrupted(seen, dry_run)


def _interrupted(seen: list[str], dry_run: bool) -> None:
    """Ctrl-C: each pack is merged all or nothing, so say which ones are in and stop with 130."""
    finished, current = seen[:-1], (seen[-1] if seen else "")
    if dry_run:
        typer.echo(t("merge.interrupted_dry"), err=True)
    else:
        typer.echo(t("merge.interrupted", count=len(finished), names=", ".join(finished) or "-",
                     current=current or "-"), err=True)
    raise typer.Exit(130)


_COUNTS = ("inserted", "updated", "unchanged", "older", "conflicts")


def _counts_text(counts: dict) -> str:
    return " · ".join(f"{t(f'merge.col.{k}')} {common.number(counts.get(k, 0))}" for k in _COUNTS)


def _say_key(result, receiver: str) -> None:
    """Who signed the pack (its key's fingerprint, new or pinned) and whether it came sealed."""
    if result.signer:
        sealed = t("merge.key_sealed") if result.sealed else \
            t("merge.key_not_sealed", sender=_levels([result.level]), receiver=_levels([receiver]))
        common.say(t("merge.key_line", fingerprint=result.signer,
                     new=t("merge.key_new") if result.new_key else "", sealed=sealed))


def _levels(levels) -> str:
    """The levels that sent unsealed packs, in words ("xã", or "xã/huyện" for a mixed batch)."""
    shown = [level for level in ("commune", "district", "province") if level in set(levels)]
    return "/".join(t(f"level.{level}") for level in shown or ["commune"])


def _render(results, dry_run: bool, open_conflicts: int, detail: bool = False,
            receiver: str = "district") -> None:
    """One line per pack and a total; with detail, each pack's table of counts per table."""
    columns = [("table", t("merge.col.table"))] + [(k, t(f"merge.col.{k}")) for k in _COUNTS]
    render = {k: common.number for k, _ in columns[1:]}
    total = {k: 0 for k in _COUNTS}
    for result in results:
        if not result.ok:
            _say_refused(result)
            continue
        totals = result.totals()
        for k in _COUNTS:
            total[k] += totals.get(k, 0)
        if not detail:
            line = t("merge.pack_line", name=result.name, level=t(f"level.{result.level}"),
                     unit=result.unit_name, code=result.unit_code,
                     packed=display_date(result.packed_at), counts=_counts_text(totals))
            if result.signer and not result.already_merged:
                line += " · " + t("merge.key_short", fingerprint=result.signer,
                                  new=t("merge.key_new_short") if result.new_key else "",
                                  sealed=t("merge.key_sealed_short" if result.sealed else "merge.key_not_sealed_short"))
            common.say(line)
            if result.already_merged:
                common.say("  " + t("merge.already_merged", date=display_date(result.already_merged)))
            for note in result.notes:
                common.say("  " + note.message)
            continue
        common.say(t("merge.unit_line", level=t(f"level.{result.level}"), name=result.unit_name,
                     code=result.unit_code, clock=result.clock, packed=display_date(result.packed_at),
                     sha=(result.sha256 or "")[:16]))
        if result.already_merged:
            common.say(t("merge.already_merged", date=display_date(result.already_merged)))
        else:
            _say_key(result, receiver)
        for note in result.notes:
            common.say(note.message)
        rows = [{"table": t(f"table.{table}"), **counts} for table, counts in result.counts.items()
                if any(counts.values())]
        totals = result.totals()
        rows.append({"table": "Σ", **totals})
        title = t("merge.title_dry" if dry_run else "merge.title", name=result.name)
        common.print_table(title, columns, rows, render=render)
    ok = sum(1 for r in results if r.ok)
    if not ok:  # every pack refused: nothing to total; the error line says so
        return
    # Whose key the senders must trust: this file's level (a 2025 province's communes send to the
    # province; there is no district).
    unsealed = [r.level for r in results if r.ok and r.signer and not r.sealed and not r.already_merged]
    if unsealed and not detail:
        common.say(t("merge.unsealed_hint", count=len(unsealed), sender=_levels(unsealed),
                     receiver=_levels([receiver])))
    if ok > 1 or not detail:
        common.say(t("merge.total_line", counts=_counts_text(total)))
    common.say(t("merge.summary_dry" if dry_run else "merge.summary", ok=ok, total=len(results),
                 refused=len(results) - ok))
    if open_conflicts:
        common.say(t("merge.conflicts_hint", count=open_conflicts))


def register(app: typer.Typer) -> None:
    app.command("merge", help=t("merge.help"))(merge)
