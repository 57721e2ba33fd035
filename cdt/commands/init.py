"""cdt init, cdt info: create the unit's file and say which file is in use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from cdt.commands import common
from cdt.core.errors import InvalidInput
from cdt.core.i18n import t

ORDER = 10


def init(
    ctx: typer.Context,
    commune: Annotated[Optional[str], typer.Option("--commune", help=t("init.opt.commune"), show_default=False)] = None,
    district: Annotated[Optional[str], typer.Option("--district", help=t("init.opt.district"), show_default=False)] = None,
    province: Annotated[Optional[str], typer.Option("--province", help=t("init.opt.province"), show_default=False)] = None,
    structure: Annotated[Optional[str], typer.Option("--structure", help=t("init.opt.structure"), show_default=False)] = None,
    from_: Annotated[Optional[List[Path]], typer.Option("--from", help=t("init.opt.from"), show_default=False,
                                                        metavar=t("metavar.file"))] = None,
    hamlet: Annotated[Optional[List[str]], typer.Option("--hamlet", help=t("regroup.opt.hamlet"), show_default=False,
                                                        metavar=t("metavar.name"))] = None,
) -> None:
    if from_:
        _regroup(ctx, commune, district, province, structure, from_, list(hamlet or []))
        return
    chosen = [(level, value) for level, value in
              (("commune", commune), ("district", district), ("province", province)) if value]
    if len(chosen) != 1:
        raise typer.BadParameter(t("init.one_level"), param_hint="--commune/--district/--province")
    level, query = chosen[0]
    if structure is not None and structure not in ("legacy", "2025"):
        raise typer.BadParameter(t("init.bad_structure", value=structure), param_hint="--structure")
    if level == "district" and structure == "2025":
        raise typer.BadParameter(t("init.no_district_2025"), param_hint="--structure")
    from cdt.exchange.keys import insert_new_keys
    from cdt.register.site import create_file

    path = common.db_path(ctx)
    created = common.run(create_file, path, level, query, structure,
                         prefer_legacy=not common.interactive(), on_create=insert_new_keys)
    site = created.site
    created.close()
    if structure is None and site.structure == "legacy" and not common.interactive():
        from cdt.domain import units

        if units.get(site.unit_code, level=level, structure="2025"):
            typer.echo(t("init.chose_legacy", code=site.unit_code), err=True)
    common.say(t("init.done", level=t(f"level.{level}"), name=site.unit_name, code=site.unit_code,
                 structure=t(f"structure.{site.structure}"), path=str(path)))


def _regroup(ctx: typer.Context, commune, district, province, structure, old_files, hamlets: list[str]) -> None:
    """cdt init --commune NEW --from OLD.db ...: the 2025 commune's file from its old communes' files."""
    if not commune or district or province:
        raise typer.BadParameter(t("regroup.commune_only"), param_hint="--commune")
    if structure not in (None, "2025"):
        raise typer.BadParameter(t("regroup.structure_2025"), param_hint="--structure")
    from cdt.exchange.regroup import regroup

    path = common.db_path(ctx)
    list_old = list(old_files)
    try:
        with common.working(t("progress.regroup")) as progress:
            done = regroup(path, commune, list_old, progress=progress, hamlets=hamlets or None)
    except InvalidInput as error:
        if error.key != "regroup.divided_choose" or hamlets or not common.interactive():
            raise
        # At a terminal: the clerk picks the hamlets of the divided old commune by number.
        choices = [h.strip() for h in error.params["hamlets"].split(",") if h.strip()]
        picked = common.ask_choice(ctx, "hamlet", t("regroup.ask_hamlets", **{k: error.params[k] for k in
                                                                          ("name", "code", "others")}),
                                   None, [(name, name) for name in choices], many=True)
        with common.working(t("progress.regroup")) as progress:
            done = regroup(path, commune, list_old, progress=progress, hamlets=picked)
    for old in done["from"]:
        common.say(t("regroup.from_line", name=old["name"], code=old["code"], db_id=old["db_id"][:8]))
        if old["divided"]:
            common.say(t("regroup.divided_line", name=old["name"], code=old["code"], others=", ".join(old["divided"]),
                         hamlets=", ".join(old["hamlets"]) or "—"))
    for change in done["recoded"]:
        common.say(t("regroup.recoded_line" if change["new"] else "regroup.recode_kept_line",
                     household=change["household"], name=change["name"], code=change["code"], new=change["new"],
                     visits=common.number(change["visits"])))
    for same in done["same_names"]:
        common.say(t("regroup.same_hamlet_line", name=same["name"], communes=", ".join(same["communes"])))
    rows = done["rows"]
    common.say(t("regroup.done", name=done["commune"]["name"], code=done["commune"]["code"], path=done["path"],
                 hamlets=common.number(rows["hamlet"]), teams=common.number(rows["team"]),
                 members=common.number(rows["member"]), visits=common.number(rows["visit"]),
                 trainings=common.number(rows["training"])))
    for old in list_old:
        common.say(t("regroup.retired_line", path=str(old)))


def info(
    ctx: typer.Context,
    format: Annotated[common.Format, typer.Option("--format", help=t("opt.format"))] = common.Format.table,
) -> None:
    from cdt.register import site

    data = site.info(common.store(ctx))
    if format is common.Format.json:
        common.print_json(data)
        return
    rows = [
        (t("info.path"), data["path"]),
        (t("info.unit"), f"{data['unit']['name']} ({data['unit']['code']})"),
        (t("info.level"), t(f"level.{data['level']}")),
        (t("info.structure"), t(f"structure.{data['structure']}")),
        (t("info.district"), f"{data['district']['name'] or '—'}"),
        (t("info.province"), f"{data['province']['name'] or '—'}"),
        (t("info.schema"), str(data["schema_version"])),
        (t("info.clock"), str(data["clock"])),
        (t("info.db_id"), data["db_id"]),
    ]
    rows += [(t(f"table.{name}"), common.number(count)) for name, count in data["counts"].items()]
    common.print_table(t("info.title"), [("k", ""), ("v", "")], [{"k": k, "v": v} for k, v in rows],
                       show_header=False)


def register(app: typer.Typer) -> None:
    app.command("init", help=t("init.help"))(init)
    app.command("info", help=t("info.help"))(info)
