"""cdt pack: a verified snapshot, named after the unit and date, consistent even in WAL mode."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import date
from pathlib import Path

from kits import packkit
from kits.mergekit import add_hamlet


def test_pack_prints_size_hash_and_path_last(cdt, commune, tmp_path):
    assert cdt("hamlet", "add", "Xóm Một", "--kind", "xóm").exit_code == 0
    result = cdt("pack", "--out", tmp_path / "USB")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    path = Path(lines[-1])
    assert path.name == f"cdt-05761-Hung-Son-{date.today().isoformat()}.cdt"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest in result.stdout
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no .part left behind
    inner = packkit.unwrap(path, tmp_path / "inner.sqlite")
    conn = sqlite3.connect(inner)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT packed_at FROM site").fetchone()[0]
    assert conn.execute("SELECT name FROM hamlet").fetchall() == [("Xóm Một",)]
    header = inner.read_bytes()[:100]
    assert header[18:20] == b"\x01\x01"
    second = Path(cdt("pack", "--out", tmp_path / "USB").stdout.strip().splitlines()[-1])
    assert second != path and second.exists() and path.exists()


def test_pack_of_a_wal_database_holds_every_commit(cdt, commune, tmp_path):
    from cdt.store import Store

    writer = Store.open(commune)
    writer.conn.execute("PRAGMA journal_mode = WAL")
    writer.conn.execute("PRAGMA wal_autocheckpoint = 0")
    for i in range(30):
        add_hamlet(writer, f"Xóm {i}")
    assert Path(str(commune) + "-wal").stat().st_size > 0
    result = cdt("pack", "--out", tmp_path / "out")
    writer.close()
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip().splitlines()[-1])
    inner = packkit.unwrap(path, tmp_path / "inner.sqlite")
    assert sqlite3.connect(inner).execute("SELECT count(*) FROM hamlet").fetchone()[0] == 30
    assert inner.read_bytes()[18:20] == b"\x01\x01"


def test_pack_to_an_unwritable_place_is_one_line(cdt, commune, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cdt("pack", "--out", blocker / "sub")
    assert result.exit_code == 1 and result.stderr.startswith("Lỗi:")
    assert "Traceback" not in result.output
