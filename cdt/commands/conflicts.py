"""cdt conflicts list|show|resolve: forks and clashing rows held back by a merge."""

from __future__ import annotations

from typing import Annotated

import typer

from cdt.commands import common
from cdt.core.i18n import t

ORDER = 73
app = typer.Typer(help=t("conflicts.help"), no_args_is_help=True)


def _state(entry: dict) -> str:
    if entry["resolved_at"] is None:
        return t("conflicts.state.open")
    return t(f"conflicts.state.{entry['resolution']}") if entry["resolution"] in ("ours", "replaced", "theirs") \
        else str(entry["resolution"])


def _kind(entry: dict) -> str:
    return t(f"conflicts.kind.{entry['kind']}", rev=entry["fork_rev"])


@app.command("list", help=t("conflicts.list.help"))
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help=t("conflicts.opt.all"))] = False,
    format: Annotated[common.Format, typer.Option("--format", help=t("opt.format"))] = common.Format.table,
) -> None:
    from cdt.exchange import conflicts as library

    found = library.list_conflicts(common.store(ctx), include_resolved=all_)
    if format is common.Format.json:
        common.print_json(found)
        return
    rows = [{"id": e["id"], "kind": _kind(e), "unit": f"{e['unit']['name'] or e['origin'][:8]}",
             "rows": e["rows"], "tables": ", ".join(f"{t('table.' + k)} {v}" for k, v in e["tables"].items()),
             "source": e["source"], "state": _state(e)} for e in found]
    common.print_table(t("conflicts.title"),
                       [("id", t("conflicts.col.id")), ("kind", t("conflicts.col.kind")),
                        ("unit", t("conflicts.col.unit")), ("rows", t("conflicts.col.rows")),
                        ("tables", t("conflicts.col.tables")), ("source", t("conflicts.col.source")),
                        ("state", t("conflicts.col.state"))],
                       rows, empty=t("conflicts.none"))


@app.command("show", help=t("conflicts.show.help"))
def show(
    ctx: typer.Context,
    conflict_id: Annotated[int, typer.Argument(help=t("conflicts.arg.id"), metavar=t("metavar.conflict"), show_default=False)],
    format: Annotated[common.Format, typer.Option("--format", help=t("opt.format"))] = common.Format.table,
) -> None:
    from cdt.exchange import conflicts as library
    from cdt.core.rows import ref_of

    info = library.show_conflict(common.store(ctx), conflict_id)
    if format is common.Format.json:
        common.print_json(info)
        return
    common.say(f"#{info['id']} · {_kind(info)} · {info['unit']['name'] or info['origin']} · {_state(info)}")
    for pair in info["pairs"]:
        theirs, ours = pair["theirs"], pair["ours"] or {}
        fields = [k for k in theirs if k != "origin"] + [k for k in ours if k not in theirs and k != "origin"]
        # Which unit's file each version comes from: for a row reusing another unit's id, that is the point.
        rows = [{"field": t("conflicts.col.origin"), "ours": _unit(pair["ours_unit"]) if pair["ours"] else
                 t("conflicts.absent"), "theirs": _unit(pair["theirs_unit"])}]
        rows += [{"field": k, "ours": "" if ours.get(k) is None else str(ours.get(k)),
                  "theirs": "" if theirs.get(k) is None else str(theirs.get(k))} for k in fields]
        title = t("conflicts.row_title", table=t(f"table.{pair['table']}"), id=ref_of(pair["row_id"]))
        if pair["ours"] is None:  # a row the other branch added: nothing to set beside it
            title += f" ({t('conflicts.only_theirs')})"
        common.print_table(title, [("field", t("conflicts.col.field")), ("ours", t("conflicts.col.ours")),
                                   ("theirs", t("conflicts.col.theirs"))], rows)


def _unit(unit: dict | None) -> str:
    if not unit:
        return ""
    name = unit.get("name") or "?"
    return f"{name} ({unit['code']}) · {unit['db_id'][:8]}" if unit.get("code") else f"{name} · {unit['db_id'][:8]}"


@app.command("resolve", help=t("conflicts.resolve.help"))
def resolve(
    ctx: typer.Context,
    conflict_id: Annotated[int, typer.Argument(help=t("conflicts.arg.id"), metavar=t("metavar.conflict"), show_default=False)],
    keep: Annotated[str, typer.Option("--keep", help=t("conflicts.opt.keep"), metavar=t("metavar.keep"),
                                      show_default=False)],
) -> None:
    from cdt.exchange import conflicts as library

    keep = _keep(keep)
    done = library.resolve_conflict(common.store(ctx), conflict_id, keep)
    if done.get("already"):
        common.say(t("conflicts.already", id=done["id"]))
        return
    what = t("conflicts.kept_ours" if keep == "ours" else "conflicts.took_theirs")
    common.say(t("conflicts.resolved", id=done["id"], rows=done["rows"], what=what))


# What --keep accepts: the Vietnamese words shown in help, typed without diacritics (or with
# them), and the English words scripts use (the documented interface), in any language.
_KEEP_WORDS = {"dang-dung": "ours", "ban-kia": "theirs", "ours": "ours", "theirs": "theirs"}


def _keep(value: str) -> str:
    from cdt.core.text import fold

    word = "-".join(fold(value).replace("_", " ").replace("-", " ").split())
    if word not in _KEEP_WORDS:
        raise typer.BadParameter(t("conflicts.bad_keep", value=value), param_hint="--keep")
    return _KEEP_WORDS[word]


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="conflicts")
