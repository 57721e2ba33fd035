"""Regressions found in review of merge, pack, conflicts and extract (one test per defect)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from test_merge import make_commune, pack


@pytest.fixture
def district(cdt, tmp_path) -> Path:
    path = tmp_path / "district.db"
    assert cdt("--db", path, "init", "--district", "171").exit_code == 0
    return path


@pytest.fixture
def good_pack(cdt, tmp_path) -> Path:
    return pack(cdt, make_commune(cdt, tmp_path / "hungson.db", "05761"), tmp_path / "packs")


def altered(good: Path, target: Path, *statements: str) -> Path:
    shutil.copyfile(good, target)
    conn = sqlite3.connect(target)
    conn.executescript(";".join(statements))
    conn.close()
    return target


def test_a_changed_rev_inside_a_pack_is_caught_by_the_row_hash(cdt, tmp_path, district, good_pack):
    rev = sqlite3.connect(good_pack).execute("SELECT rev FROM member").fetchone()[0]
    assert rev > 1
    bad = altered(good_pack, tmp_path / "rev.cdt", f"UPDATE member SET rev = {rev - 1}")
    before = district.read_bytes()
    result = cdt("--db", district, "merge", bad)
    assert result.exit_code == 1 and "mã kiểm tra" in result.stdout
    assert district.read_bytes() == before
