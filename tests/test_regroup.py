"""cdt init --commune NEW --from OLD.db ...: a 2025 commune's file from its legacy communes' files."""

from __future__ import annotations

import json
import sqlite3

import pytest

from cdt.exchange import conflicts
from cdt.store import Store, canonical_dump
from cdt.core.rows import ref_of
from kits.templates import TEMPLATES

# Legacy Xã Hòa Phú (24172) and Xã Hòa Khánh (24175) became the 2025 Xã Hòa Phú (24175), Đắk Lắk (66).
OLD = {"24172": ["Buôn Ea", "Buôn Ky"], "24175": ["Thôn Một"]}
MONTH = ("2026-10-01", "2026-10-31")


def _old_commune(cdt, path, code, hamlets):
    assert cdt("--db", path, "init", "--commune", code, "--structure", "legacy").exit_code == 0
    for n, hamlet in enumerate(hamlets, 1):
        for args in (("hamlet", "add", hamlet, "--kind", "buôn" if hamlet.startswith("Buôn") else "thôn"),
                     ("team", "add", "--hamlet", hamlet, "--decided-on", "01/03/2024"),
                     ("member", "add", f"Y Niê {code}{n}", "--team", hamlet, "--role", "tổ trưởng"),
                     ("member", "add", f"H Ben {code}{n}", "--team", hamlet),
                     ("visit", "log", "--team", hamlet, "--household", f"H{n}", "--people", str(n + 1),
                      "--service", "vneid", "--date", "05/10/2026", "--member", f"y nie {code}{n}"),
                     ("visit", "log", "--team", hamlet, "--household", f"K{n}", "--people", "4",
                      "--service", "dvc", "--service", "payment", "--date", "20/10/2026"),
                     # the same household twice in one commune: one household, two visits
                     ("visit", "log", "--team", hamlet, "--household", "HH-001", "--people", "1",
                      "--service", "vneid", "--date", "21/10/2026")):
            result = cdt("--db", path, *args)
            assert result.exit_code == 0, (args, result.output)
    # an edit and a removal: history that must come along, tombstone included
    first = hamlets[0]
    assert cdt("--db", path, "member", "add", "Người Sẽ Rời", "--team", first).exit_code == 0
    assert cdt("--db", path, "member", "remove", "Người Sẽ Rời", "--yes").exit_code == 0
    return path


@pytest.fixture
def old_files(cdt, tmp_path):
    """The two old communes' files (each built once per session, then copied)."""
    return [TEMPLATES.copy(f"regroup-old-{code}", tmp_path / f"xa-{code}.db",
                           lambda path, code=code, hamlets=hamlets: _old_commune(cdt, path, code, hamlets))
            for code, hamlets in OLD.items()]


def _independent_count(files):
    """Straight from the old files with SQL: a household is a code of one old commune's register."""
    visits = people = 0
    households = set()
    members = teams = hamlets = 0
    for index, path in enumerate(files):
        with sqlite3.connect(path) as conn:
            for household, n in conn.execute("SELECT household, people FROM visit WHERE deleted = 0"
                                             " AND date BETWEEN ? AND ?", MONTH):
                visits += 1
                people += n
                households.add((index, household))
            members += conn.execute("SELECT count(*) FROM member WHERE deleted = 0").fetchone()[0]
            teams += conn.execute("SELECT count(*) FROM team WHERE deleted = 0").fetchone()[0]
            hamlets += conn.execute("SELECT count(*) FROM hamlet WHERE deleted = 0").fetchone()[0]
    return {"visits": visits, "people": people, "households": len(households), "members": members,
            "teams": teams, "hamlets": hamlets}


def _rows(path, table):
    with sqlite3.connect(path) as conn:
        return {r[0]: r[1:] for r in conn.execute(f"SELECT id, origin, rev, deleted, hash FROM {table}")}


def _report(cdt, db, *level):
    result = cdt("--db", db, "report", *level, "--month", "2026-10", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _check_counts(total, expected):
    assert total["visits"]["month"] == expected["visits"]
    assert total["people_helped"]["month"] == expected["people"]
    assert total["households_reached"]["month"] == expected["households"]
    assert total["members"] == expected["members"]
    assert total["teams"] == expected["teams"]


def test_two_old_communes_make_the_new_one_and_the_province_counts_each_once(cdt, tmp_path, old_files):
    expected = _independent_count(old_files)
    # 3 hamlets × 3 visits; H1, K1 and HH-001 are codes of both old communes, yet other households
    assert expected == {"visits": 9, "people": 2 + 4 + 1 + 3 + 4 + 1 + 2 + 4 + 1, "households": 8,
                        "members": 6, "teams": 3, "hamlets": 3}
    old_rows = {table: {} for table in ("hamlet", "team", "member", "visit")}
    for path in old_files:
        for table in old_rows:
            old_rows[table].update(_rows(path, table))
    with sqlite3.connect(old_files[0]) as conn:
        old_chain = conn.execute("SELECT origin, rev, chain FROM history ORDER BY rev").fetchall()
    old_ids = [json.loads(cdt("--db", p, "info", "--format", "json").stdout)["db_id"] for p in old_files]

    # An old commune's own pack cannot reach a 2025 province (two structures): its rows arrive
    # only inside the new commune's packs, so they cannot be counted twice that way.
    old_stick = tmp_path / "old-stick"
    assert cdt("--db", old_files[0], "pack", "--out", old_stick).exit_code == 0
    new = tmp_path / "hoa-phu-2025.db"
    result = cdt("--db", new, "init", "--commune", "24175", "--from", old_files[0], "--from", old_files[1])
    assert result.exit_code == 0, result.output
    assert "Xã Hòa Phú (24175, danh mục từ 1/7/2025)" in result.stdout
    assert ("Mã hộ H1 của Xã Hòa Phú (24172) trùng với mã hộ của xã cũ khác: đổi thành HP-H1 (1 lượt)"
            in result.stdout)
    assert ("Mã hộ HH-001 của Xã Hòa Khánh (24175) trùng với mã hộ của xã cũ khác: đổi thành HK-HH-001 (1 lượt)"
            in result.stdout)
    assert f"Tệp cũ {old_files[1]} từ nay chỉ để xem: không ghi thêm, không đóng gói nữa" in result.stdout
    info = json.loads(cdt("--db", new, "info", "--format", "json").stdout)
    assert info["structure"] == "2025" and info["unit"]["code"] == "24175"

    # Provenance: every old row keeps its id, origin, rev and hash (only the recoded visits moved
    # to the new file, with a rev of its own); the old files' chains and origins came along.
    recoded = set()
    for table, rows in old_rows.items():
        here = _rows(new, table)
        assert set(here) == set(rows)
        for row_id, (origin, rev, deleted, digest) in here.items():
            if (origin, rev, deleted, digest) != rows[row_id]:
                assert table == "visit" and origin == info["db_id"] and rev == 1
                recoded.add(row_id)
    assert len(recoded) == 7  # H1, K1, HH-001 in each old commune (HH-001 twice in 24172)
    with sqlite3.connect(new) as conn:
        assert conn.execute("SELECT origin, rev, chain FROM history WHERE origin = ? ORDER BY rev",
                            (old_ids[0],)).fetchall() == old_chain
        assert {r[0]: r[1] for r in conn.execute("SELECT db_id, structure FROM origin")} == \
            {old_ids[0]: "legacy", old_ids[1]: "legacy"}
        assert {r[0] for r in conn.execute("SELECT old_db_id FROM replacement WHERE new_db_id = ?",
                                           (info["db_id"],))} == set(old_ids)
        assert {r[0] for r in conn.execute("SELECT db_id FROM merge_log WHERE outcome = 'regrouped'")} == set(old_ids)

    # The new commune's own report counts each household of each old commune once.
    _check_counts(_report(cdt, new)["total"], expected)

    stick1, stick2 = tmp_path / "stick1", tmp_path / "stick2"
    assert cdt("--db", new, "pack", "--out", stick1).exit_code == 0
    # the clerk goes on editing an inherited row: it becomes the new file's row
    member = next(m for m in json.loads(cdt("--db", new, "member", "list", "--format", "json").stdout)
                  if m["full_name"] == "Y Niê 241721")
    assert member["origin"] == old_ids[0]
    assert cdt("--db", new, "member", "edit", "y nie 241721", "--phone", "0912345678").exit_code == 0
    assert Store.open(new).get("member", member["id"])["origin"] == info["db_id"]
    assert cdt("--db", new, "member", "remove", "h ben 241751", "--yes").exit_code == 0  # a tombstone moves too
    after = dict(expected, members=expected["members"] - 1)
    assert cdt("--db", new, "pack", "--out", stick2).exit_code == 0
    (pack1,), (pack2,) = stick1.iterdir(), stick2.iterdir()

    dumps = []
    for order in ((pack1, pack2), (pack2, pack1)):
        province = tmp_path / f"dak-lak-{len(dumps)}.db"
        assert cdt("--db", province, "init", "--province", "66", "--structure", "2025").exit_code == 0
        for pack in (*order, order[0]):  # and twice is once
            merged = cdt("--db", province, "merge", pack)
            assert merged.exit_code == 0, merged.output
        legacy = cdt("--db", province, "merge", old_stick)
        assert legacy.exit_code == 1 and "hai danh mục khác nhau nên không gộp được" in legacy.output
        report = _report(cdt, province, "--province")
        _check_counts(report["total"], after)
        row = next(r for r in report["rows"] if r["unit"]["code"] == "24175")
        assert row["visits"]["month"] == after["visits"] and row["members"] == after["members"]
        assert not [r for r in report["rows"] if r["unit"]["code"] == "24172"]
        with Store.open(province) as store:
            assert conflicts.list_conflicts(store) == []
            assert store.get("member", member["id"])["phone"] == "0912345678"
            dumps.append(canonical_dump(store))
    assert dumps[0] == dumps[1]

    # A lost laptop: the province rebuilds the new commune's file, the old communes' rows included.
    rebuilt = tmp_path / "rebuilt.db"
    extracted = cdt("--db", province, "extract", "--commune", "24175", "--out", rebuilt)
    assert extracted.exit_code == 0, extracted.output
    _check_counts(_report(cdt, rebuilt)["total"], after)
    assert cdt("--db", rebuilt, "member", "edit", "h ben 241721", "--phone", "0987654321").exit_code == 0
    # an old commune's file is not rebuilt on its own: it lives on in the new commune's
    refused = cdt("--db", province, "extract", "--commune", "24172", "--out", tmp_path / "old-again.db")
    assert refused.exit_code == 1
    assert refused.stderr == ("Lỗi: tệp của Xã Hòa Phú (24172) đã được đưa vào tệp của Xã Hòa Phú (24175) theo "
                              "danh mục mới: lấy lại tệp của xã đó (cdt extract --commune 24175)\n")
    assert not (tmp_path / "old-again.db").exists()


def test_a_retired_old_file_takes_no_more_writes_nor_packs(cdt, tmp_path, old_files):
    long_code = "A" * 28  # shared, and too long for a prefix: kept, and the clerk is told
    for path, team in zip(old_files, ("Buôn Ea", "Thôn Một")):
        assert cdt("--db", path, "visit", "log", "--team", team, "--household", long_code, "--people", "1",
                   "--service", "vneid", "--date", "02/10/2026").exit_code == 0
    new = tmp_path / "new.db"
    made = cdt("--db", new, "init", "--commune", "24175", "--from", old_files[0], "--from", old_files[1])
    assert made.exit_code == 0, made.output
    assert (f"Lưu ý: mã hộ {long_code} của Xã Hòa Khánh (24175) trùng với mã hộ của xã cũ khác mà không thêm được"
            " tiền tố (mã quá dài): hãy sửa mã ở 1 lượt hỗ trợ đó") in made.stdout
    db_id = json.loads(cdt("--db", new, "info", "--format", "json").stdout)["db_id"]
    before = old_files[0].read_bytes()
    expected = (f"Lỗi: tệp {old_files[0]} đã được chuyển vào tệp của Xã Hòa Phú (24175, mã tệp {db_id[:8]}) ở "
                f"{new.resolve()}: tệp cũ chỉ còn để xem, hãy ghi và đóng gói ở tệp mới\n")
    for args in (("visit", "log", "--team", "Buôn Ea", "--household", "H9", "--people", "1", "--service", "vneid",
                  "--date", "01/11/2026"),
                 ("pack", "--out", tmp_path / "stick")):
        result = cdt("--db", old_files[0], *args)
        assert result.exit_code == 1 and result.stderr == expected, result.output
    assert old_files[0].read_bytes() == before
    assert not (tmp_path / "stick").exists() or not list((tmp_path / "stick").iterdir())
    again = cdt("--db", tmp_path / "other.db", "init", "--commune", "24175", "--from", old_files[0])
    assert again.exit_code == 1 and again.stderr == expected
    assert not (tmp_path / "other.db").exists()


def test_a_commune_pack_may_carry_only_the_files_it_absorbed(cdt, tmp_path, old_files):
    """A forged origin (another commune's file) in a regrouped commune's pack is refused."""
    new = tmp_path / "new.db"
    assert cdt("--db", new, "init", "--commune", "24175", "--from", old_files[0]).exit_code == 0
    with sqlite3.connect(new) as conn:
        conn.execute("UPDATE origin SET commune_code = '05761'")  # not a commune that formed Hòa Phú
    assert cdt("--db", new, "pack", "--out", tmp_path / "stick").exit_code == 0
    province = tmp_path / "p.db"
    assert cdt("--db", province, "init", "--province", "66", "--structure", "2025").exit_code == 0
    merged = cdt("--db", province, "merge", tmp_path / "stick")
    assert merged.exit_code == 1
    assert "gói của xã lại chứa danh sách đơn vị khác: tệp bị sửa đổi" in merged.output


def test_an_old_commune_that_did_not_form_the_new_one_is_refused(cdt, tmp_path, old_files):
    stranger = tmp_path / "hung-son.db"
    assert cdt("--db", stranger, "init", "--commune", "05761", "--structure", "legacy").exit_code == 0
    new = tmp_path / "new.db"
    before = [p.read_bytes() for p in (*old_files, stranger)]
    result = cdt("--db", new, "init", "--commune", "24175", "--from", old_files[0], "--from", stranger)
    assert result.exit_code == 1
    assert result.stderr.startswith("Lỗi: Thị trấn Hùng Sơn (05761) không hợp nhất vào xã này: theo danh mục, "
                                    "xã đó nay thuộc ")
    assert not new.exists()
    assert [p.read_bytes() for p in (*old_files, stranger)] == before  # nothing retired


def test_the_same_file_twice_is_refused(cdt, tmp_path, old_files):
    new = tmp_path / "new.db"
    result = cdt("--db", new, "init", "--commune", "24175", "--from", old_files[0], "--from", old_files[0])
    assert result.exit_code == 1 and "cùng một tệp dữ liệu" in result.stderr
    assert not new.exists()


def test_hamlets_of_one_name_in_two_old_communes_are_pointed_out_with_their_references(cdt, tmp_path):
    from cdt.core.i18n import t

    old = []
    for code in ("24172", "24175"):
        path = tmp_path / f"xa {code}.db"
        assert cdt("--db", path, "init", "--commune", code, "--structure", "legacy").exit_code == 0
        assert cdt("--db", path, "hamlet", "add", "Thôn 1", "--kind", "thôn").exit_code == 0
        old.append(path)
    new = tmp_path / "xã mới.db"
    done = cdt("--db", new, "init", "--commune", "24175", "--from", old[0], "--from", old[1])
    assert done.exit_code == 0, done.output
    refs = {ref_of(row[0]): row[1] for row in sqlite3.connect(new).execute("SELECT id, name FROM hamlet")}
    assert len(refs) == 2
    line = next(line for line in done.stdout.splitlines() if line.startswith(t("regroup.same_hamlet_line")[:7]))
    assert all(f"[{ref}]" in line for ref in refs) and "Xã Hòa Phú (24172)" in line and "Xã Hòa Khánh (24175)" in line
    first = next(iter(refs))
    assert cdt("--db", new, "hamlet", "edit", first, "--name", "Thôn 1 Hòa Phú").exit_code == 0
    assert sorted(refs.values()) == ["Thôn 1", "Thôn 1"]
    names = sorted(row[0] for row in sqlite3.connect(new).execute("SELECT name FROM hamlet WHERE deleted = 0"))
    assert names == ["Thôn 1", "Thôn 1 Hòa Phú"]
