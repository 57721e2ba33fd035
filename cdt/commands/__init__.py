"""Command groups. Each module here defines ``register(app)`` and an ``ORDER`` for the help list."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer


_built_in: dict[str, str] = {}  # module name -> language its help texts were made in


def register_all(app: typer.Typer) -> None:
    """Add every command module of this package to the app, in ORDER.

    Help texts are made when a module is imported; a process that changes language (tests run
    both in one process) re-imports the modules made in the other one."""
    from cdt.i18n import language

    lang = language()
    modules = []
    infos = sorted(pkgutil.iter_modules(__path__), key=lambda i: not i.name.startswith("_"))
    for info in infos:
        if info.name.startswith("_") and info.name != "__init__":
            # Shared option types (``_removal``) hold help texts too: rebuilt before the commands using them.
            name = f"{__name__}.{info.name}"
            if name in sys.modules and _built_in.get(name, lang) != lang:
                importlib.reload(sys.modules[name])
                _built_in[name] = lang
            continue
        if info.name == "common":
            continue
        name = f"{__name__}.{info.name}"
        module = importlib.import_module(name)
        if _built_in.setdefault(name, lang) != lang:
            module = importlib.reload(module)
            _built_in[name] = lang
        if hasattr(module, "register"):
            modules.append(module)
    for info in infos:  # helpers the commands imported just now were made in this language
        name = f"{__name__}.{info.name}"
        if info.name.startswith("_") and name in sys.modules:
            _built_in.setdefault(name, lang)
    for module in sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__)):
        module.register(app)
