"""cdt history and cdt undo: undo restores the file's own data as it was, as a
new write that travels upward through a pack; packs never carry the local journal."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from kits import packkit
from cdt.core.i18n import t
from cdt.core.schema import DATA_COLUMNS
from cdt.core.rows import ref_of
from kits.cli import ok, pack, rows
from kits.templates import TEMPLATES

def live_dump(db: Path) -> dict:
    """The file's own rows as data: data columns of every live row (rev and hash left out)."""
    conn = sqlite3.connect(db)
    try:
        (origin,) = conn.execute("SELECT db_id FROM site").fetchone()
        return {table: sorted(conn.execute(
            f"SELECT id, {', '.join(columns)} FROM {table} WHERE deleted = 0 AND origin = ?", (origin,)))
            for table, columns in DATA_COLUMNS.items()}
    finally:
        conn.close()


@pytest.fixture
def village(cdt, commune):
    def build(_path):
        for args in (
            ("hamlet", "add", "Xóm Đồng Tiến", "--kind", "xóm", "--households", "120"),
            ("hamlet", "add", "Xóm Hai", "--kind", "xóm", "--households", "80"),
            ("team", "add", "--hamlet", "Xóm Đồng Tiến", "--decided-on", "01/06/2022"),
            ("member", "add", "Lê Thị Bình", "--team", "Xóm Đồng Tiến", "--role", "tổ trưởng", "--birth-year", "1990",
             "--phone", "0912345678", "--joined-on", "01/06/2022"),
            ("member", "add", "Trần Văn Cường", "--team", "Xóm Đồng Tiến"),
            ("training", "add", "VNeID mức 2", "--date", "01/03/2026"),
            ("training", "attend", "VNeID", "--member", "Lê Thị Bình"),
            ("service", "add", "ctn", "--name", "C-Thái Nguyên"),
            ("visit", "log", "--team", "Xóm Đồng Tiến", "--household", "DT-014", "--people", "3",
             "--service", "vneid", "--date", "05/10/2026", "--member", "Lê Thị Bình", "--notes", "cài VNeID"),
        ):
            ok(cdt(*args))

    return TEMPLATES.copy("undo-village", commune, build)


def visit_ref(db):
    return ref_of(rows(db, "SELECT id FROM visit WHERE deleted = 0")[0][0])


# Every kind of write a clerk makes (a callable gets the database path for the visit reference).
WRITES = {
    "hamlet add": ("hamlet", "add", "Xóm Ba", "--kind", "xóm"),
    "hamlet edit": ("hamlet", "edit", "Xóm Hai", "--households", "95"),
    "hamlet remove": ("hamlet", "remove", "Xóm Hai", "--yes"),
    "hamlet remove cascade": ("hamlet", "remove", "Xóm Đồng Tiến", "--yes", "--cascade"),
    "team add": ("team", "add", "--hamlet", "Xóm Hai"),
    "team edit": ("team", "edit", "Xóm Đồng Tiến", "--decision", "12/QĐ-UBND"),
    "team dissolve": ("team", "dissolve", "Xóm Đồng Tiến", "--date", "01/11/2026"),
    "team remove cascade": ("team", "remove", "Xóm Đồng Tiến", "--yes", "--cascade"),
    "member add": ("member", "add", "Lê Thị Bình", "--team", "Xóm Đồng Tiến", "--birth-year", "1985"),
    "member edit": ("member", "edit", "Trần Văn Cường", "--phone", "0987654321"),
    "member leave": ("member", "leave", "Trần Văn Cường", "--date", "01/11/2026"),
    "member remove": ("member", "remove", "Trần Văn Cường", "--yes"),
    "member remove cascade": ("member", "remove", "Lê Thị Bình", "--yes", "--cascade"),
    "training add": ("training", "add", "Chữ ký số", "--date", "02/03/2026"),
    "training edit": ("training", "edit", "VNeID", "--title", "VNeID", "--organiser", "VNPT"),
    "training attend": ("training", "attend", "VNeID", "--member", "Trần Văn Cường"),
    "training unattend": ("training", "unattend", "VNeID", "--member", "Lê Thị Bình"),
    "training remove cascade": ("training", "remove", "VNeID", "--yes", "--cascade"),
    "visit log": ("visit", "log", "--team", "Xóm Đồng Tiến", "--household", "DT-015", "--people", "2",
                  "--service", "dvc", "--date", "06/10/2026"),
    "visit edit": lambda db: ("visit", "edit", visit_ref(db), "--people", "4"),
    "visit remove": lambda db: ("visit", "remove", visit_ref(db)),
    "service add": ("service", "add", "tnid", "--name", "Thái Nguyên ID"),
    "service edit": ("service", "edit", "ctn", "--name", "C-Thái Nguyên 2"),
    "service remove": ("service", "remove", "ctn", "--yes"),
    "target set": ("target", "set", "visits", "--year", "2026", "--value", "100"),
}


@pytest.mark.parametrize("name", list(WRITES))
def test_undo_after_each_kind_of_write_restores_the_data(cdt, village, name):
    args = WRITES[name]
    args = args(village) if callable(args) else args
    before = live_dump(village)
    ok(cdt(*args))
    after = live_dump(village)
    assert after != before, name
    (clock,) = rows(village, "SELECT clock FROM site")[0]
    result = ok(cdt("undo", "--yes"))
    assert re.fullmatch(t("undo.done", rev=clock + 1, rows=r"\d+").replace("(", r"\(").replace(")", r"\)"),
                        result.stdout.splitlines()[-1])
    assert live_dump(village) == before, name
    assert rows(village, "SELECT clock FROM site") == [(clock + 1,)]  # a new write, history kept
    assert rows(village, "SELECT count(*) FROM history") == [(clock + 1,)]
    # Undoing the undo redoes the write.
    ok(cdt("undo", "--yes"))
    assert live_dump(village) == after, name


def test_history_lists_writes_with_descriptions(cdt, village):
    ok(cdt("visit", "log", "--team", "Xóm Đồng Tiến", "--household", "DT-015", "--people", "3",
           "--service", "dvc", "--date", "06/10/2026"))
    ok(cdt("hamlet", "remove", "Xóm Đồng Tiến", "--yes", "--cascade"))
    data = json.loads(ok(cdt("history", "--limit", "3", "--format", "json")).stdout)
    assert [(d["rev"], d["description"], d["rows"]) for d in data] == [
        (11, "xóa thôn Xóm Đồng Tiến cùng 1 tổ, 2 thành viên, 1 lượt dự tập huấn, 2 lượt hỗ trợ", 7),
        (10, "thêm lượt hỗ trợ DT-015, 3 người", 1),
        (9, "thêm lượt hỗ trợ DT-014, 3 người", 1),
    ]
    assert all(d["at"] for d in data)
    ok(cdt("undo", "--yes"))
    first = json.loads(cdt("history", "--limit", "1", "--format", "json").stdout)[0]
    assert (first["rev"], first["description"]) == (12, "hoàn tác #11")
    english = json.loads(cdt("--lang", "en", "history", "--format", "json").stdout)
    assert english[-1]["description"] == "added hamlet Xóm Đồng Tiến"
    table = ok(cdt("history"))
    assert "hoàn tác #11" in table.stdout


def test_undo_to_reverses_everything_after(cdt, village):
    start = live_dump(village)
    (clock,) = rows(village, "SELECT clock FROM site")[0]
    ok(cdt("hamlet", "add", "Xóm Ba", "--kind", "xóm"))
    ok(cdt("member", "edit", "Trần Văn Cường", "--phone", "0987654321"))
    ok(cdt("visit", "remove", visit_ref(village)))
    result = ok(cdt("undo", "--to", str(clock), "--yes"))
    assert result.stdout.splitlines()[0] == t("undo.line", rev=clock + 3, what="xóa lượt hỗ trợ DT-014")
    assert live_dump(village) == start


def test_undo_asks_first_and_refuses_without_yes_in_scripts(cdt, village, monkeypatch):
    before = live_dump(village)
    ok(cdt("hamlet", "add", "Xóm Ba", "--kind", "xóm"))
    result = cdt("undo")
    assert result.exit_code == 1 and t("undo.needs_yes") in result.stderr
    monkeypatch.setattr("cdt.commands.common.interactive", lambda: True)
    kept = ok(cdt("undo", input="k\n"))
    assert "#10 thêm thôn Xóm Ba" in kept.stdout and t("undo.kept") in kept.stdout
    ok(cdt("undo", input="c\n"))
    assert live_dump(village) == before


def test_undo_bad_to_and_empty_file(cdt, commune):
    result = cdt("undo", "--yes")
    assert result.exit_code == 1 and t("undo.nothing") in result.stderr
    ok(cdt("hamlet", "add", "Xóm Ba", "--kind", "xóm"))
    result = cdt("undo", "--to", "5", "--yes")
    assert result.exit_code == 1 and t("undo.bad_to", rev=5, clock=1) in result.stderr


def test_pack_carries_no_journal_and_erases_personal_data_kept_for_undo(cdt, village, tmp_path):
    ok(cdt("member", "remove", "Lê Thị Bình", "--yes", "--cascade"))
    # Before the pack, the journal still holds the removed member (undo can bring her back).
    assert rows(village, "SELECT count(*) FROM undo_journal WHERE previous LIKE '%0912345678%'") != [(0,)]
    packed = pack(cdt, village, tmp_path / "packs")
    data = packed.read_bytes()
    assert b"0912345678" not in data and "Lê Thị Bình".encode() not in data
    inner = packkit.unwrap(packed, tmp_path / "inner.db")
    assert b"0912345678" not in inner.read_bytes() and "Lê Thị Bình".encode() not in inner.read_bytes()
    assert rows(inner, "SELECT count(*) FROM write_log UNION ALL SELECT count(*) FROM undo_journal") == [(0,), (0,)]
    # After the pack the erased personal fields are gone from the journal too, so undo refuses.
    assert rows(village, "SELECT count(*) FROM undo_journal WHERE previous LIKE '%0912345678%'") == [(0,)]
    result = cdt("undo", "--yes")
    assert result.exit_code == 1 and "thông tin cá nhân" in result.stderr
    ok(cdt("history"))


def test_undo_travels_to_the_district(cdt, village, tmp_path):
    district = tmp_path / "district.db"
    ok(cdt("--db", district, "init", "--district", "171"))

    def report():
        ok(cdt("--db", district, "merge", pack(cdt, village, tmp_path / "packs")))
        data = json.loads(ok(cdt("--db", district, "report", "--district", "--month", "2026-10",
                                 "--format", "json")).stdout)["total"]
        return {**{k: data[k] for k in ("teams", "hamlets", "members")},
                **{k: data[k]["month"] for k in ("visits", "people_helped")}}

    good = report()
    assert good == {"teams": 1, "hamlets": 2, "members": 2, "visits": 1, "people_helped": 3}
    ok(cdt("visit", "log", "--team", "Xóm Đồng Tiến", "--household", "DT-015", "--people", "30",
           "--service", "vneid", "--date", "05/10/2026"))
    assert report()["people_helped"] == 33
    ok(cdt("undo", "--yes"))
    assert report() == good


def test_district_rows_are_read_only_and_undo_has_nothing_of_theirs(cdt, village, tmp_path):
    district = tmp_path / "district.db"
    ok(cdt("--db", district, "init", "--district", "171"))
    ok(cdt("--db", district, "merge", pack(cdt, village, tmp_path / "packs")))
    result = cdt("--db", district, "hamlet", "remove", "Xóm Hai", "--yes")
    assert result.exit_code == 1 and t("store.read_only") in result.stderr
    result = cdt("--db", district, "training", "edit", "VNeID", "--organiser", "VNPT")
    assert result.exit_code == 1 and t("store.read_only") in result.stderr
    result = cdt("--db", district, "undo", "--yes")
    assert result.exit_code == 1 and t("undo.nothing") in result.stderr


def test_undo_to_zero_empties_the_file_and_undoing_that_brings_everything_back(cdt, village):
    full = live_dump(village)
    ok(cdt("undo", "--to", "0", "--yes"))
    assert all(rows == [] for rows in live_dump(village).values())
    ok(cdt("undo", "--yes"))
    assert live_dump(village) == full
