"""A fork (one commune file copied to two laptops, both used) through the CLI: held, listed, resolved."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from kits import packkit
from kits.cli import district_file, forked_packs, pack
from kits.packkit import signer_of


def _hamlets(db: Path) -> dict:
    conn = sqlite3.connect(db)
    try:
        return {row[0]: row[1] for row in conn.execute("SELECT name, households FROM hamlet WHERE deleted = 0")}
    finally:
        conn.close()


def test_a_fork_is_held_listed_and_resolved_the_same_whatever_the_order(cdt, tmp_path):
    one, two = forked_packs(cdt, tmp_path)
    a, b = district_file(cdt, tmp_path / "a.db"), district_file(cdt, tmp_path / "b.db")
    assert cdt("--db", a, "merge", one, two).exit_code == 0
    result = cdt("--db", b, "merge", two, one)
    assert result.exit_code == 0 and "conflicts list" in result.stdout
    # Same branch kept whichever pack came first; the other is held, nothing overwritten.
    kept = _hamlets(a)
    assert kept == _hamlets(b)
    assert len(kept) == 2 and kept["Xóm Một"] in (60, 70)
    listed = json.loads(cdt("--db", a, "conflicts", "list", "--format", "json").stdout)
    assert len(listed) == 1 and listed[0]["kind"] == "fork" and listed[0]["rows"] == 2
    shown = cdt("--db", a, "conflicts", "show", str(listed[0]["id"]))
    assert shown.exit_code == 0
    loser_count = 70 if kept["Xóm Một"] == 60 else 60
    assert str(loser_count) in shown.stdout and str(kept["Xóm Một"]) in shown.stdout
    table = cdt("--db", a, "conflicts", "list")
    assert "rẽ nhánh" in table.stdout
    # Take theirs on both districts: the same result, the other branch now held.
    for db in (a, b):
        [entry] = json.loads(cdt("--db", db, "conflicts", "list", "--format", "json").stdout)
        done = cdt("--db", db, "conflicts", "resolve", str(entry["id"]), "--keep", "theirs")
        assert done.exit_code == 0, done.output
    switched = _hamlets(a)
    assert switched == _hamlets(b) and switched["Xóm Một"] == loser_count and switched != kept
    assert json.loads(cdt("--db", a, "conflicts", "list", "--format", "json").stdout) == []
    everything = json.loads(cdt("--db", a, "conflicts", "list", "--all", "--format", "json").stdout)
    # The taken branch keeps its number (marked taken); the branch set aside is listed as replaced.
    assert {e["resolution"] for e in everything} == {"theirs", "replaced"}
    assert [e["id"] for e in everything if e["resolution"] == "theirs"] == [entry["id"]]
    # Merging both packs again changes nothing: the choice sticks.
    again = cdt("--db", a, "merge", one, two)
    assert again.exit_code == 0 and _hamlets(a) == switched
    log = sqlite3.connect(a).execute("SELECT reason FROM merge_log WHERE outcome = 'resolved'").fetchall()
    assert log == [("fork keep theirs",)]


def test_keep_ours_settles_a_fork_and_later_packs_of_the_other_branch_stay_held(cdt, tmp_path):
    one, two = forked_packs(cdt, tmp_path)
    a = district_file(cdt, tmp_path / "a.db")
    assert cdt("--db", a, "merge", one, two).exit_code == 0
    before = _hamlets(a)
    [entry] = json.loads(cdt("--db", a, "conflicts", "list", "--format", "json").stdout)
    assert cdt("--db", a, "conflicts", "resolve", str(entry["id"]), "--keep", "ours").exit_code == 0
    assert json.loads(cdt("--db", a, "conflicts", "list", "--format", "json").stdout) == []
    assert _hamlets(a) == before
    # The set-aside laptop goes on working and packs again: still held, already decided.
    loser = tmp_path / ("laptop2.db" if before["Xóm Một"] == 60 else "laptop1.db")
    assert cdt("--db", loser, "hamlet", "add", "Xóm Muộn", "--kind", "xóm").exit_code == 0
    later = pack(cdt, loser, tmp_path / "stick3")
    result = json.loads(cdt("--db", a, "merge", later, "--format", "json").stdout)
    assert result["files"][0]["totals"]["conflicts"] >= 1
    assert _hamlets(a) == before
    assert json.loads(cdt("--db", a, "conflicts", "list", "--format", "json").stdout) == []


def test_unknown_conflict_and_bad_keep(cdt, tmp_path):
    a = district_file(cdt, tmp_path / "a.db")
    missing = cdt("--db", a, "conflicts", "show", "42")
    assert missing.exit_code == 1 and "42" in missing.stderr
    bad = cdt("--db", a, "conflicts", "resolve", "1", "--keep", "both")
    assert bad.exit_code == 2


def _stolen_id_pack(cdt, tmp_path, district, good_pack, other_pack) -> Path:
    """Phúc Lương's pack, altered so that one of its hamlets reuses Hùng Sơn's hamlet id (hash redone)."""
    from cdt.core.rows import row_hash

    assert cdt("--db", district, "merge", good_pack).exit_code == 0
    victim = sqlite3.connect(district).execute("SELECT id FROM hamlet").fetchone()[0]
    def edit(inner: Path) -> None:
        # A hamlet row of the pack's own file under the id of a hamlet the district holds from another
        # commune (nothing points at it: a row that pointed into the other unit would refuse the pack).
        conn = sqlite3.connect(inner)
        conn.row_factory = sqlite3.Row
        row = dict(conn.execute("SELECT * FROM hamlet").fetchone())
        row.update(id=victim, name="Xóm Giả")
        row["hash"] = row_hash("hamlet", row)
        conn.execute(f"INSERT INTO hamlet ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                     list(row.values()))
        conn.commit()
        conn.close()

    return packkit.rewrap(other_pack, tmp_path / "stolen.cdt", signer_of(other_pack), edit)


def test_a_row_claimed_by_another_origin_can_only_be_kept_and_show_names_both_units(
        cdt, tmp_path, district, good_pack, other_pack):
    bad = _stolen_id_pack(cdt, tmp_path, district, good_pack, other_pack)
    assert cdt("--db", district, "merge", bad).exit_code == 0
    [entry] = json.loads(cdt("--db", district, "conflicts", "list", "--format", "json").stdout)
    assert entry["kind"] == "row"
    shown = cdt("--db", district, "conflicts", "show", str(entry["id"]))
    assert shown.exit_code == 0 and "Phúc Lương" in shown.stdout and "Hùng Sơn" in shown.stdout
    taken = cdt("--db", district, "conflicts", "resolve", str(entry["id"]), "--keep", "theirs")
    assert taken.exit_code == 1 and "--keep dang-dung" in taken.stderr
    names = [r[0] for r in sqlite3.connect(district).execute("SELECT name FROM hamlet")]
    assert "Xóm Giả" not in names
    assert cdt("--db", district, "conflicts", "resolve", str(entry["id"]), "--keep", "ours").exit_code == 0
    again = cdt("--db", district, "conflicts", "resolve", str(entry["id"]), "--keep", "ours")
    assert again.exit_code == 0, again.output


def test_resolving_twice_is_a_no_op_and_numbers_stay(cdt, tmp_path, district):
    one, two = forked_packs(cdt, tmp_path)
    assert cdt("--db", district, "merge", one, two).exit_code == 0
    [entry] = json.loads(cdt("--db", district, "conflicts", "list", "--format", "json").stdout)
    number = str(entry["id"])
    assert cdt("--db", district, "conflicts", "resolve", number, "--keep", "theirs").exit_code == 0
    after = district.read_bytes()
    again = cdt("--db", district, "conflicts", "resolve", number, "--keep", "theirs")
    assert again.exit_code == 0, again.output
    assert "không thay đổi" in again.stdout
    assert cdt("--db", district, "conflicts", "show", number).exit_code == 0
    listed = json.loads(cdt("--db", district, "conflicts", "list", "--all", "--format", "json").stdout)
    assert entry["id"] in [e["id"] for e in listed]
    # Switching back and forth keeps both numbers.
    [other] = [e for e in listed if e["id"] != entry["id"]]
    assert cdt("--db", district, "conflicts", "resolve", str(other["id"]), "--keep", "theirs").exit_code == 0
    relisted = json.loads(cdt("--db", district, "conflicts", "list", "--all", "--format", "json").stdout)
    assert sorted(e["id"] for e in relisted) == sorted(e["id"] for e in listed)
    assert district.read_bytes() != after


def test_show_of_an_add_only_fork_row_says_ours_has_none(cdt, tmp_path, district):
    one, two = forked_packs(cdt, tmp_path)
    assert cdt("--db", district, "merge", one, two).exit_code == 0
    [entry] = json.loads(cdt("--db", district, "conflicts", "list", "--format", "json").stdout)
    shown = cdt("--db", district, "conflicts", "show", str(entry["id"]))
    assert "chỉ có ở bản kia" in shown.stdout


# -- conflicts resolve --keep: Vietnamese words, English ones still taken -------------------------


def test_keep_words_in_help_follow_the_language(cdt):
    vi = " ".join(cdt("conflicts", "resolve", "--help").stdout.replace("│", " ").split())
    assert "--keep dang-dung|ban-kia dang-dung: giữ bản đang dùng; ban-kia: lấy bản kia (nhận cả ours, theirs)" in vi
    assert "Xử lý: giữ bản đang dùng (--keep dang-dung) hoặc lấy bản kia (--keep ban-kia)" in vi
    en = " ".join(cdt("--lang", "en", "conflicts", "resolve", "--help").stdout.replace("│", " ").split())
    assert "--keep ours|theirs ours: keep the version in use; theirs: take the other" in en


def test_an_unknown_keep_word_names_the_words(cdt, commune):
    result = cdt("conflicts", "resolve", "1", "--keep", "cua-minh")
    assert result.exit_code == 2
    assert result.stderr == ('Lỗi: giá trị không hợp lệ cho --keep: phải là dang-dung (giữ bản đang dùng) hoặc '
                             'ban-kia (lấy bản kia), nhận được "cua-minh" (xem: cdt conflicts resolve --help)\n')
    english = cdt("--lang", "en", "conflicts", "resolve", "1", "--keep", "mine")
    assert english.stderr == ('Error: invalid value for --keep: must be ours (keep the version in use) or theirs '
                              '(take the other), got "mine" (see: cdt conflicts resolve --help)\n')


def test_keep_in_vietnamese_or_english_settles_the_fork_alike(cdt, tmp_path):
    one, two = forked_packs(cdt, tmp_path)
    settled = {}
    for name, word in (("a", "ban-kia"), ("b", "theirs"), ("c", "Bản kia")):
        db = district_file(cdt, tmp_path / f"{name}.db")
        assert cdt("--db", db, "merge", one, two).exit_code == 0
        [entry] = json.loads(cdt("--db", db, "conflicts", "list", "--format", "json").stdout)
        done = cdt("--db", db, "conflicts", "resolve", str(entry["id"]), "--keep", word)
        assert done.exit_code == 0, done.output
        assert done.stdout == f"Đã xử lý xung đột {entry['id']} (2 dòng): đã lấy bản kia\n"
        everything = json.loads(cdt("--db", db, "conflicts", "list", "--all", "--format", "json").stdout)
        settled[name] = sorted(e["resolution"] for e in everything)
    assert settled["a"] == settled["b"] == settled["c"] == ["replaced", "theirs"]
    again = cdt("--db", tmp_path / "a.db", "conflicts", "resolve", str(entry["id"]), "--keep", "dang-dung")
    assert again.exit_code == 0, again.output
