"""Command groups. Each module here defines ``register(app)`` and an ``ORDER`` for the help list."""

from __future__ import annotations

import importlib
import sys

import typer


_built_in: dict[str, str] = {}  # module name -> language its help texts were made in

# What each module puts on the top level (its ORDER, then its commands and groups with the key of
# their help text), so that ``cdt --help`` and a command line naming one command import only what
# they show: importing and building every module cost more than the help page itself.
# tests/test_cli_help.py checks this against what the modules really register; a module missing
# here still works (it is imported every time), it only makes start-up slower.
TOP_LEVEL: dict[str, tuple[int, tuple[tuple[str, str, str], ...]]] = {
    "init": (10, (("command", "init", "init.help"), ("command", "info", "info.help"))),
    "units": (15, (("group", "units", "units.help"),)),
    "hamlet": (20, (("group", "hamlet", "hamlet.kinds.help"),)),
    "team": (30, (("group", "team", "team.help"),)),
    "member": (40, (("group", "member", "member.help"),)),
    "training": (50, (("group", "training", "training.help"),)),
    "visit": (60, (("group", "visit", "visit.help"),)),
    "history": (65, (("command", "history", "history.help"), ("command", "undo", "undo.help"))),
    "pack": (70, (("command", "pack", "pack.help"),)),
    "service": (70, (("group", "service", "service.help"),)),
    "merge": (71, (("command", "merge", "merge.help"),)),
    "status": (72, (("command", "status", "status.help"),)),
    "conflicts": (73, (("group", "conflicts", "conflicts.help"),)),
    "key": (73, (("group", "key", "key.help"),)),
    "extract": (74, (("command", "extract", "extract.help"),)),
    "importer": (75, (("command", "import", "import.help"), ("command", "template", "template.help"))),
    "report": (75, (("command", "report", "report.help"),)),
    "target": (76, (("group", "target", "target.help"),)),
    "browse": (77, (("command", "browse", "browse.help"),)),
    "settings": (90, (("group", "settings", "settings.help"),)),
}


def top_level_kind(name: str) -> str | None:
    """"command" or "group" for a top-level word of TOP_LEVEL, None for any other."""
    for _order, entries in TOP_LEVEL.values():
        for kind, command, _key in entries:
            if command == name:
                return kind
    return None


def _module_names() -> list[str]:
    """The command modules of this package (files beside this one), without importing them."""
    import pkgutil

    return [info.name for info in pkgutil.iter_modules(__path__)]


def _import(name: str, lang: str):
    """Import a module of this package, re-made if its help texts were made in another language."""
    name = f"{__name__}.{name}"
    module = importlib.import_module(name)
    if _built_in.setdefault(name, lang) != lang:
        module = importlib.reload(module)
        _built_in[name] = lang
    return module


def _stub() -> None:
    """A command listed on the top-level help page but not built (the line names another one)."""


def register_all(app: typer.Typer, wanted: str | None = "*") -> None:
    """Add every command module of this package to the app, in ORDER.

    ``wanted`` is the top-level command the line invokes: only its module is imported and built;
    the others are listed by name and help text alone (TOP_LEVEL). ``"*"`` builds them all, None
    none (``cdt --help``).

    Help texts are made when a module is imported; a process that changes language (tests run
    both in one process) re-imports the modules made in the other one."""
    from cdt.core.i18n import language, t

    lang = language()
    names = sorted(_module_names(), key=lambda n: not n.startswith("_"))
    entries = []  # (order, module name, module or None)
    for name in names:
        if name.startswith("_"):
            # Shared option types (``_removal``) hold help texts too: rebuilt before the commands using them.
            full = f"{__name__}.{name}"
            if full in sys.modules and _built_in.get(full, lang) != lang:
                importlib.reload(sys.modules[full])
                _built_in[full] = lang
            continue
        if name == "common":
            continue
        known = TOP_LEVEL.get(name)
        if known is not None and wanted != "*" and all(entry[1] != wanted for entry in known[1]):
            entries.append((known[0], name, None))
            continue
        module = _import(name, lang)
        if hasattr(module, "register"):
            entries.append((getattr(module, "ORDER", 100), name, module))
    for name in names:  # helpers the commands imported just now were made in this language
        full = f"{__name__}.{name}"
        if name.startswith("_") and full in sys.modules:
            _built_in.setdefault(full, lang)
    for _order, name, module in sorted(entries, key=lambda e: (e[0], e[1])):
        if module is not None:
            module.register(app)
            continue
        for kind, command, key in TOP_LEVEL[name][1]:
            if kind == "group":
                app.add_typer(typer.Typer(help=t(key)), name=command)
            else:
                app.command(command, help=t(key))(_stub)
