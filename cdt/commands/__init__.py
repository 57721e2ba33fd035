"""Command groups. Each module here defines ``register(app)`` and an ``ORDER`` for the help list."""

from __future__ import annotations

import importlib
import pkgutil

import typer


_built_in: dict[str, str] = {}  # module name -> language its help texts were made in


def register_all(app: typer.Typer) -> None:
    """Add every command module of this package to the app, in ORDER.

    Help texts are made when a module is imported; a process that changes language (tests run
    both in one process) re-imports the modules made in the other one."""
    from cdt.i18n import language

    lang = language()
    modules = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "common":
            continue
        name = f"{__name__}.{info.name}"
        module = importlib.import_module(name)
        if _built_in.setdefault(name, lang) != lang:
            module = importlib.reload(module)
            _built_in[name] = lang
        if hasattr(module, "register"):
            modules.append(module)
    for module in sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__)):
        module.register(app)
