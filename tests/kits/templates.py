"""Files built once per test session and copied into each test that wants one.

A copy is the same file byte for byte: the same db_id, the same keys. Use a template only where a
test does not need two files to be different units or different files of one unit (a fork, a
replacement, a stolen laptop build their second file for real).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable


class Templates:
    """Built files, by name, in one folder of the session (set by conftest.py)."""

    def __init__(self) -> None:
        self.folder: Path | None = None

    def copy(self, name: str, path: Path, build: Callable[[Path], object]) -> Path:
        """The file ``name`` at ``path``: copied from the template, else built there by
        ``build(path)`` and kept as the template."""
        path = Path(path)
        if self.folder is None:  # outside a session (a kit used by a script): build every time
            build(path)
            return path
        kept = self.folder / f"{name}.db"
        if kept.exists():
            shutil.copyfile(kept, path)
        else:
            build(path)
            shutil.copyfile(path, kept)
        return path


TEMPLATES = Templates()
