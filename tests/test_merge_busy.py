"""A target held by another process: one clear "in use" message, nothing blamed on the packs."""

from __future__ import annotations

import sqlite3

import pytest

pytestmark = pytest.mark.durable  # a lock held by another connection: SQLite's full sync, as clerks run it

IN_USE = "đang được một chương trình khác sử dụng"


def test_an_exclusive_lock_reads_as_in_use_for_merge_and_status(cdt, tmp_path, district):
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


def test_a_target_in_use_stops_the_batch_once_and_refuses_no_pack(cdt, district, good_pack, other_pack):
    holder = sqlite3.connect(district, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = cdt("--db", district, "merge", good_pack, other_pack)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1
    assert "đang được một chương trình khác sử dụng" in result.stderr
    assert "TỪ CHỐI" not in result.output and "ngoài dự kiến" not in result.output
