"""Files and packs made through the real entry point (the ``cdt`` fixture), and results checked.

The commune files and districts come from the session's templates (kits/templates.py): the first
test that asks builds one, the others get a copy.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from kits.templates import TEMPLATES


def ok(result):
    """The result of a command that must succeed."""
    assert result.exit_code == 0, result.output
    return result


def rows(db, sql, params=()):
    """Rows of a query on a file, read with sqlite3 (not through cdt)."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def files_of(result) -> list[dict]:
    """The per-file entries of `cdt merge --format json`."""
    return json.loads(result.stdout)["files"]


def make_commune(cdt, path: Path, code: str, hamlet: str = "Xóm Một") -> Path:
    """A commune file (legacy structure) with one hamlet, its team, a leader and a visit in 10/2026."""

    def build(target: Path) -> None:
        for args in (
            ("init", "--commune", code, "--structure", "legacy"),
            ("hamlet", "add", hamlet, "--kind", "xóm", "--households", "50"),
            ("team", "add", "--hamlet", hamlet, "--decided-on", "01/06/2022"),
            ("member", "add", "Hoàng Văn An", "--team", hamlet, "--role", "tổ trưởng", "--phone", "0912345678"),
            ("visit", "log", "--team", hamlet, "--household", "H1", "--people", "2", "--service", "dvc",
             "--date", "05/10/2026"),
        ):
            result = cdt("--db", target, *args)
            assert result.exit_code == 0, result.output

    return TEMPLATES.copy(f"commune-{code}-{hamlet}", path, build)


def pack(cdt, db: Path, out: Path) -> Path:
    """`cdt pack` of a file into the folder ``out``; the pack's path."""
    result = cdt("--db", db, "pack", "--out", out)
    assert result.exit_code == 0, result.output
    return Path(result.stdout.strip().splitlines()[-1])


def district_file(cdt, path: Path) -> Path:
    """An empty district file of Đại Từ (171) at ``path``."""

    def build(target: Path) -> None:
        assert cdt("--db", target, "init", "--district", "171").exit_code == 0

    return TEMPLATES.copy("district-171", path, build)


def forked_packs(cdt, tmp_path) -> tuple[Path, Path]:
    """One commune file copied to two laptops, each edited its own way: a pack of each."""
    laptop1 = make_commune(cdt, tmp_path / "laptop1.db", "05761")
    laptop2 = tmp_path / "laptop2.db"
    shutil.copyfile(laptop1, laptop2)
    assert cdt("--db", laptop1, "hamlet", "edit", "Xóm Một", "--households", "60").exit_code == 0
    assert cdt("--db", laptop1, "hamlet", "add", "Xóm Máy Một", "--kind", "xóm").exit_code == 0
    assert cdt("--db", laptop2, "hamlet", "edit", "Xóm Một", "--households", "70").exit_code == 0
    assert cdt("--db", laptop2, "hamlet", "add", "Xóm Máy Hai", "--kind", "xóm").exit_code == 0
    return pack(cdt, laptop1, tmp_path / "stick1"), pack(cdt, laptop2, tmp_path / "stick2")


def daitu_and_its_province(cdt, tmp_path) -> tuple[Path, Path]:
    """A 2025 commune file (Đại Từ, one hamlet) and an empty file of its province (Thái Nguyên)."""
    commune, province = tmp_path / "daitu.db", tmp_path / "tinh.db"
    for args in (("init", "--commune", "05830", "--structure", "2025"),
                 ("hamlet", "add", "Xóm Một", "--kind", "xóm")):
        assert cdt("--db", commune, *args).exit_code == 0
    assert cdt("--db", province, "init", "--province", "19", "--structure", "2025").exit_code == 0
    return commune, province
