"""The import graph of cdt/ follows LAYOUT.md: no circle, no import up the layers, no hidden late import.

The graph is read from the source with ``ast`` (no cdt module is imported), counting every
``import`` and ``from … import`` of a cdt module, at the top of a module and inside functions.
Layers from the ground: core, domain, register, then intake and exchange (siblings that do not
import each other), reports, cli. A failure names the file and line of each import at fault.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cdt"

# (rank, name): a module imports only from its own rank or lower; intake and exchange share a rank
# and may not import each other.
CORE, DOMAIN, REGISTER, INTAKE, EXCHANGE, REPORTS, CLI = (
    (0, "core"), (1, "domain"), (2, "register"), (3, "intake"), (3, "exchange"), (4, "reports"), (5, "cli"))
LAYER_OF_TOP = {  # cdt.<top> -> its layer
    "__init__": CORE, "store": CORE, "_testing": CORE, "core": CORE,
    "domain": DOMAIN, "register": REGISTER, "intake": INTAKE, "exchange": EXCHANGE,
    "reports": REPORTS, "export": REPORTS,
    "cli": CLI, "commands": CLI, "__main__": CLI,
}
TERMINAL = ("typer", "rich", "click")  # the CLI layer's libraries: nothing in the library imports them
LATE_LIST = ("core", "lazy.py")  # where the heavy libraries that may be imported late are listed
MAX_LINES = 800


@dataclass(frozen=True)
class Import:
    """One import statement's cdt or third-party target, where it is written."""

    source: str  # the importing module, cdt.x.y
    path: str  # its file, relative to the checkout (cdt/x/y.py)
    line: int
    target: str  # a cdt module (cdt.x.y), or a third-party dotted name as written
    local: bool  # inside a function

    @property
    def at(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class Package:
    """The modules of a package read from source: their imports, docstrings and sizes."""

    root: Path
    modules: dict[str, Path]  # cdt.x.y -> file
    imports: list[Import]  # cdt modules, resolved
    third_party: list[Import]  # everything else that is not the standard library
    docstrings: dict[str, str | None]
    lines: dict[str, int]

    def rel(self, module: str) -> str:
        return self.modules[module].relative_to(self.root.parent).as_posix()


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(module: str) -> tuple[int, str] | None:
    parts = module.split(".")
    return LAYER_OF_TOP.get(parts[1] if len(parts) > 1 else "__init__")


def _imports_in(tree: ast.Module):
    """(node, inside a function) for every import statement of a module."""
    def walk(node: ast.AST, local: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, local
            yield from walk(child, local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    yield from walk(tree, False)


def _resolve(module: str, known: dict[str, Path]) -> str:
    """The longest prefix of a dotted name that is a module of the package."""
    parts = module.split(".")
    while parts and ".".join(parts) not in known:
        parts.pop()
    return ".".join(parts) if parts else module


def read_package(root: Path) -> Package:
    """Parse every module under root (the cdt/ folder) and list its imports."""
    modules = {module_name(root, p): p for p in sorted(root.rglob("*.py"))}
    package = Package(root, modules, [], [], {}, {})
    top = root.name
    for name, path in modules.items():
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
        package.docstrings[name] = ast.get_docstring(tree)
        package.lines[name] = len(text.splitlines())
        rel = package.rel(name)
        is_package = path.name == "__init__.py"
        for node, local in _imports_in(tree):
            if isinstance(node, ast.Import):
                candidates = [[alias.name] for alias in node.names]
            else:
                base = node.module or ""
                if node.level:  # relative: from the module's own package upward
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                # "from a import b": b may be a module (a.b) or a name in a
                candidates = [[f"{base}.{alias.name}", base] for alias in node.names]
            for options in candidates:
                first = options[0].split(".")[0]
                if first == top:
                    target = next((o for o in options if o in modules), _resolve(options[-1], modules))
                    if target != name:
                        package.imports.append(Import(name, rel, node.lineno, target, local))
                elif first not in sys.stdlib_module_names and first != "__future__":
                    package.third_party.append(Import(name, rel, node.lineno, options[0], local))
    return package


def heavy_list(root: Path) -> tuple[str, ...]:
    """The HEAVY tuple of core/lazy.py, read from its source."""
    tree = ast.parse(root.joinpath(*LATE_LIST).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "HEAVY" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise AssertionError(f"{'/'.join(LATE_LIST)} defines no HEAVY tuple")


# -- the checks: each returns its problems as "file:line: what" lines ------------------------------


def _once(lines) -> list[str]:
    """Each problem line once (``from x import a, b`` is one statement)."""
    return list(dict.fromkeys(lines))


def unplaced(package: Package) -> list[str]:
    return [f"{package.rel(m)}:1: {m} belongs to no layer of LAYOUT.md" for m in package.modules
            if layer(m) is None]


def circles(package: Package) -> list[str]:
    """Each strongly connected component of more than one module, with the imports that close it."""
    graph: dict[str, set[str]] = {m: set() for m in package.modules}
    for imp in package.imports:
        if imp.target in graph:
            graph[imp.source].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    problems = []
    for component in found:
        members = set(component)
        problems.append("circle: " + " <-> ".join(component))
        problems.extend(_once(f"  {imp.at}: {imp.source} imports {imp.target}" for imp in package.imports
                              if imp.source in members and imp.target in members))
    return problems


def upward(package: Package) -> list[str]:
    """Imports up LAYOUT's order, and between the sibling layers intake and exchange."""
    problems = []
    for imp in package.imports:
        mine, theirs = layer(imp.source), layer(imp.target)
        if mine is None or theirs is None:
            continue
        if theirs[0] > mine[0]:
            problems.append(f"{imp.at}: {imp.source} ({mine[1]}) imports {imp.target} ({theirs[1]}), up the layers")
        elif theirs[0] == mine[0] and theirs[1] != mine[1]:
            problems.append(f"{imp.at}: {imp.source} ({mine[1]}) imports {imp.target} ({theirs[1]}), its sibling")
    return _once(problems)


def library_local_imports(package: Package) -> list[str]:
    """Function-local imports of cdt modules outside the CLI's folders (a late import hides a circle)."""
    cli_folders = (f"{package.root.name}.cli", f"{package.root.name}.commands")
    return _once(f"{imp.at}: {imp.source} imports {imp.target} inside a function" for imp in package.imports
                 if imp.local and not imp.source.startswith(cli_folders))


def terminal_in_library(package: Package) -> list[str]:
    """typer, rich or click imported below the CLI layer."""
    return _once(f"{imp.at}: {imp.source} imports {imp.target.split('.')[0]}, a terminal library"
                 for imp in package.third_party if imp.target.split(".")[0] in TERMINAL and layer(imp.source) != CLI)


def unlisted_late_imports(package: Package, heavy: tuple[str, ...]) -> list[str]:
    """Function-local third-party imports not covered by core/lazy.py's HEAVY."""
    def covered(name: str) -> bool:
        return any(name == h or name.startswith(h + ".") for h in heavy)

    return _once(f"{imp.at}: {imp.source} imports {imp.target} inside a function, and it is not in HEAVY"
                 for imp in package.third_party if imp.local and not covered(imp.target))


def undescribed(package: Package) -> list[str]:
    return [f"{package.rel(m)}:1: {m} has no docstring saying its one job" for m, doc in package.docstrings.items()
            if not doc or not doc.splitlines()[0].strip()]


def too_long(package: Package) -> list[str]:
    return [f"{package.rel(m)}:{MAX_LINES + 1}: {m} has {n} lines (at most {MAX_LINES})"
            for m, n in package.lines.items() if n > MAX_LINES]


# -- the package ---------------------------------------------------------------------------------


@cache
def cdt() -> Package:
    return read_package(PACKAGE)


def _fail(problems: list[str]) -> None:
    assert not problems, "\n" + "\n".join(problems)


def test_every_module_has_a_layer():
    _fail(unplaced(cdt()))


def test_no_circles():
    _fail(circles(cdt()))


def test_imports_point_down_the_layers():
    _fail(upward(cdt()))


def test_no_function_local_cdt_import_outside_the_cli():
    _fail(library_local_imports(cdt()))


def test_the_library_imports_no_terminal_library():
    _fail(terminal_in_library(cdt()))


def test_late_third_party_imports_are_listed_in_one_place():
    _fail(unlisted_late_imports(cdt(), heavy_list(PACKAGE)))


def test_every_module_says_its_one_job():
    _fail(undescribed(cdt()))


def test_no_module_over_the_line_limit():
    _fail(too_long(cdt()))


def test_the_graph_sees_the_cli_layer_imports():
    """The walk finds imports inside functions and resolves ``from pkg import module``."""
    package = cdt()
    found = {(i.source, i.target, i.local) for i in package.imports}
    assert ("cdt.cli.app", "cdt.commands", True) in found
    assert ("cdt.cli.app", "cdt.cli.help", False) in found


# -- the checks themselves, on a small package made to break each rule --------------------------


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "cdt"


@pytest.fixture
def broken(tmp_path) -> Package:
    root = _write(tmp_path, {
        "cdt/__init__.py": '"""Top."""\n',
        "cdt/store.py": '"""Store."""\n\ndef create():\n    from cdt.exchange import keys\n',
        "cdt/core/__init__.py": '"""Core."""\n',
        "cdt/core/lazy.py": '"""Late."""\n\nHEAVY = ("openpyxl",)\n',
        "cdt/core/errors.py": '"""Errors."""\n\nfrom cdt.store import create\n',
        "cdt/domain/__init__.py": "",
        "cdt/domain/rules.py": '"""Rules."""\n\nimport rich\n\ndef f():\n    import openpyxl.styles\n    import yaml\n'
                               '    import json\n',
        "cdt/exchange/__init__.py": '"""Exchange."""\n',
        "cdt/exchange/keys.py": '"""Keys."""\n\nfrom cdt.core import errors\nfrom ..intake import headers\n',
        "cdt/intake/__init__.py": '"""Intake."""\n',
        "cdt/intake/headers.py": '"""Headers."""\n' + "x = 1\n" * MAX_LINES,
        "cdt/cli/__init__.py": '"""CLI."""\n',
        "cdt/cli/app.py": '"""App."""\n\nimport typer\n\ndef build():\n    from cdt.commands import common\n',
        "cdt/commands/__init__.py": '"""Commands."""\n',
        "cdt/commands/common.py": '"""Common."""\n\nfrom cdt.cli.app import build\n',
        "cdt/stray.py": '"""Nowhere."""\n',
    })
    return read_package(root)


def test_a_circle_is_named_with_its_lines(broken):
    problems = circles(broken)
    assert "circle: cdt.core.errors <-> cdt.exchange.keys <-> cdt.store" in problems
    assert "  cdt/store.py:4: cdt.store imports cdt.exchange.keys" in problems
    assert "circle: cdt.cli.app <-> cdt.commands.common" in problems


def test_an_upward_and_a_sibling_import_are_named(broken):
    assert upward(broken) == [
        "cdt/exchange/keys.py:4: cdt.exchange.keys (exchange) imports cdt.intake.headers (intake), its sibling",
        "cdt/store.py:4: cdt.store (core) imports cdt.exchange.keys (exchange), up the layers",
    ]


def test_a_late_cdt_import_counts_only_in_the_library(broken):
    assert library_local_imports(broken) == ["cdt/store.py:4: cdt.store imports cdt.exchange.keys inside a function"]


def test_terminal_and_unlisted_late_imports_are_named(broken):
    assert terminal_in_library(broken) == ["cdt/domain/rules.py:3: cdt.domain.rules imports rich, a terminal library"]
    assert unlisted_late_imports(broken, heavy_list(broken.root)) == [
        "cdt/domain/rules.py:7: cdt.domain.rules imports yaml inside a function, and it is not in HEAVY"]


def test_modules_without_a_job_or_a_layer_or_too_long(broken):
    assert undescribed(broken) == ["cdt/domain/__init__.py:1: cdt.domain has no docstring saying its one job"]
    assert unplaced(broken) == ["cdt/stray.py:1: cdt.stray belongs to no layer of LAYOUT.md"]
    assert too_long(broken) == [f"cdt/intake/headers.py:{MAX_LINES + 1}: cdt.intake.headers has {MAX_LINES + 1} lines"
                                f" (at most {MAX_LINES})"]
