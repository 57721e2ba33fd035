"""A target held by another process: one clear "in use" message, nothing blamed on the packs."""

from __future__ import annotations

import json
import sqlite3
import time

from test_merge import make_commune, pack

IN_USE = "đang được một chương trình khác sử dụng"


def _district(cdt, tmp_path):
    path = tmp_path / "district.db"
    assert cdt("--db", path, "init", "--district", "171").exit_code == 0
    return path


def test_an_exclusive_lock_reads_as_in_use_for_merge_and_status(cdt, tmp_path):
    district = _district(cdt, tmp_path)
    holder = sqlite3.connect(district, isolation_level=None, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        status = cdt("--db", district, "status")
        merged = cdt("--db", district, "merge", tmp_path / "x.cdt")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    for result in (status, merged):
        assert result.exit_code == 1
        assert IN_USE in result.stderr and "ngoài dự kiến" not in result.output
