"""Opening a file is read-only until a write: a stray -wal beside a store is
refused, and read-only commands never change a file's bytes."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path



def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _commune_with_data(cdt, db: Path) -> None:
    for args in (("hamlet", "add", "Xóm Một", "--kind", "xóm", "--households", "80"),
                 ("team", "add", "--hamlet", "Xóm Một", "--decided-on", "01/06/2022"),
                 ("visit", "log", "--team", "Xóm Một", "--household", "H1", "--people", "2", "--service", "dvc",
                  "--date", "05/10/2026")):
        assert cdt("--db", db, *args).exit_code == 0


def _wal_copy_beside(db: Path, tmp_path: Path) -> Path:
    """A copy of the file switched to WAL mode with an uncommitted-to-main change in its -wal (1,080
    households): the -wal then placed beside the original, where a stray one would sit."""
    copy = tmp_path / "copy" / db.name
    copy.parent.mkdir()
    shutil.copyfile(db, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("UPDATE hamlet SET households = 1080")
    wal = Path(str(copy) + "-wal")
    shutil.copyfile(wal, Path(str(db) + "-wal"))
    conn.close()
    return Path(str(db) + "-wal")


COMMANDS = (("hamlet", "list"), ("team", "list"), ("report", "--month", "2026-10"), ("info",), ("status",),
            ("hamlet", "add", "Xóm Hai", "--kind", "xóm"), ("pack", "--out", "packs"))


def test_a_stray_wal_is_refused_by_every_command_and_the_file_is_unchanged(cdt, commune, tmp_path):
    _commune_with_data(cdt, commune)
    wal = _wal_copy_beside(commune, tmp_path)
    before = sha(commune)
    for args in COMMANDS:
        result = cdt("--db", commune, *args)
        assert result.exit_code != 0, (args, result.output)
        assert "Traceback" not in result.output
        assert wal.name in result.stderr and len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
        assert sha(commune) == before, args
    # Moved away as the message says: the file opens with its own 80 households.
    wal.rename(tmp_path / "moved-wal")
    listed = cdt("--db", commune, "hamlet", "list")
    assert listed.exit_code == 0 and "1.080" not in listed.stdout and "80" in listed.stdout


def test_english_message(cdt, commune, tmp_path):
    _commune_with_data(cdt, commune)
    _wal_copy_beside(commune, tmp_path)
    result = cdt("--lang", "en", "--db", commune, "info")
    assert result.exit_code != 0 and "is not cdt's" in result.stderr


def test_read_only_commands_never_change_the_bytes(cdt, commune, tmp_path):
    _commune_with_data(cdt, commune)
    before = sha(commune)
    for args in (("hamlet", "list"), ("team", "list"), ("member", "list"), ("visit", "list"), ("training", "list"),
                 ("report", "--month", "2026-10"), ("report", "--month", "2026-10", "--format", "json"),
                 ("info",), ("status",), ("status", "--format", "json")):
        result = cdt("--db", commune, *args)
        assert result.exit_code == 0, (args, result.output)
        assert sha(commune) == before, args
    assert not Path(str(commune) + "-journal").exists() and not Path(str(commune) + "-wal").exists()


def test_read_only_commands_at_the_district_never_change_the_bytes(cdt, tmp_path):
    district = tmp_path / "district.db"
    assert cdt("--db", district, "init", "--district", "171").exit_code == 0
    before = sha(district)
    for args in (("report", "--district", "--month", "2026-10"), ("info",), ("status",), ("conflicts", "list")):
        result = cdt("--db", district, *args)
        assert result.exit_code == 0, (args, result.output)
        assert sha(district) == before, args
