"""merge_files checks the next packs in a worker thread and lets checked packs share a transaction;
every outcome must equal merging the same files one after another with merge_file (the one path):
the data, each file's result (counts, refusals, keys), a fork, a unit's second file, the same bytes
twice, a pack that is not a pack. A pack that fails while applied sinks no other pack."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from cdt.exchange import batch as batching
from cdt.exchange import merge
from cdt.store import Store  # noqa: F401
from kits.mergekit import DAI_TU, add_hamlet, add_member, copy_store, dump, edit_hamlet, snapshot, unit_file


def _outcome(results) -> list[tuple]:
    return [(r.name, r.ok, r.error.key if r.error else None, r.counts, r.already_merged is not None, r.new_key)
            for r in results]


def _in_turn(target: Store, packs: list[Path]) -> list:
    return [merge.merge_file(target, pack) for pack in packs]


@pytest.fixture(scope="module")
def packs(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("batch")
    made = []
    communes = [unit_file(folder / f"c{i}.db", "commune", code) for i, code in enumerate(DAI_TU)]
    for number, commune in enumerate(communes):
        for i in range(12):
            add_hamlet(commune, f"Xóm {i}")
        add_member(commune, f"Người {number}")
        made.append(snapshot(commune, folder / f"a{number}.cdt"))
    first = communes[0]
    # The same commune again, later (same unit: checked in turn after the first is in) ...
    hamlet = add_hamlet(first, "Xóm mới")
    edit_hamlet(first, hamlet, 42)
    made.append(snapshot(first, folder / "a0-later.cdt"))
    # ... a copy of it used on a second laptop (a fork) ...
    twin = copy_store(first, folder / "twin.db")
    add_hamlet(twin, "Xóm của máy kia")
    made.append(snapshot(twin, folder / "a0-twin.cdt"))
    # ... the same bytes twice, and a file that is no pack.
    made.append(Path(shutil.copyfile(made[1], folder / "a1-again.cdt")))
    junk = folder / "junk.cdt"
    junk.write_bytes(b"not a pack at all" * 100)
    made.append(junk)
    for commune in communes:
        commune.close()
    twin.close()
    return [made[0], made[1], made[3], made[2], made[4], made[5], made[6]]


def _full_batches_only(monkeypatch) -> list[int]:
    """Apply only full batches (or at the end): the checked files then share transactions
    whatever the timing. Returns the size of each batch applied."""
    sizes: list[int] = []
    real = batching._apply_batch
    monkeypatch.setattr(batching, "_apply_now", lambda batch, ready: len(batch) >= batching.GROUP_FILES)
    monkeypatch.setattr(batching, "_apply_batch", lambda target, batch, *a, **k: (
        sizes.append(sum(1 for p in batch if p.checked is not None)), real(target, batch, *a, **k))[1])
    return sizes


@pytest.mark.parametrize("grouping", ["as checked", "full batches"])
def test_batched_merge_equals_merging_one_after_another(packs, tmp_path, monkeypatch, grouping):
    if grouping == "full batches":
        _full_batches_only(monkeypatch)
    batched = unit_file(tmp_path / "batched.db", "district", "171")
    in_turn = unit_file(tmp_path / "in_turn.db", "district", "171")
    got = batching.merge_files(batched, packs)
    want = _in_turn(in_turn, packs)
    assert _outcome(got) == _outcome(want)
    assert dump(batched) == dump(in_turn)
    assert [r["n"] for r in batched.query("SELECT count(*) AS n FROM conflict")] == \
        [r["n"] for r in in_turn.query("SELECT count(*) AS n FROM conflict")]
    assert sorted(tuple(r) for r in batched.conn.execute("SELECT level, unit_code, public_key FROM pinned_key")) == \
        sorted(tuple(r) for r in in_turn.conn.execute("SELECT level, unit_code, public_key FROM pinned_key"))
    assert [r.ok for r in got] == [True, True, True, True, True, True, False]
    # A dry run gives the real run's summary.
    dry = unit_file(tmp_path / "dry.db", "district", "171")
    assert _outcome(batching.merge_batch(dry, packs, dry_run=True).results) == _outcome(got)
    assert dump(dry)["hamlet"] == []


def test_a_pack_failing_in_a_shared_transaction_sinks_no_other(packs, tmp_path, monkeypatch):
    good = [packs[0], packs[1], packs[3]]  # three communes: one shared transaction
    target = unit_file(tmp_path / "t.db", "district", "171")
    expected = unit_file(tmp_path / "e.db", "district", "171")
    _in_turn(expected, [packs[0], packs[3]])
    real = merge._record_origins

    def failing(run, target_store, checked, params):
        if checked.site["commune_code"] == DAI_TU[1]:
            raise sqlite3.OperationalError("disk I/O error")
        return real(run, target_store, checked, params)

    monkeypatch.setattr(merge, "_record_origins", failing)
    sizes = _full_batches_only(monkeypatch)
    results = batching.merge_files(target, good)
    assert sizes == [3]
    assert [r.ok for r in results] == [True, False, True], [r.reason for r in results]
    assert results[1].error.key == "merge.failed"
    assert dump(target) == dump(expected)


def test_an_id_already_used_by_another_commune_leaves_the_fast_path(tmp_path):
    """A new commune's pack is all new but for one row whose id another commune's row has here
    (a forged copy): the plain insert meets the id, the transaction is rolled back and the full
    merge holds that row as a conflict, as it always did; the other rows come in."""
    from cdt.core.rows import row_hash

    first = unit_file(tmp_path / "a.db", "commune", DAI_TU[0])
    taken = add_hamlet(first, "Xóm A")
    other = unit_file(tmp_path / "b.db", "commune", DAI_TU[1])
    mine = add_hamlet(other, "Xóm B")
    add_hamlet(other, "Xóm C")
    row = dict(other.conn.execute("SELECT * FROM hamlet WHERE id = ?", (mine,)).fetchone())
    row["id"] = taken
    other.conn.execute("UPDATE hamlet SET id = ?, hash = ? WHERE id = ?", (taken, row_hash("hamlet", row), mine))
    district = unit_file(tmp_path / "d.db", "district", "171")
    packs = [snapshot(first, tmp_path / "a.cdt"), snapshot(other, tmp_path / "b.cdt")]
    results = batching.merge_files(district, packs)
    assert [r.ok for r in results] == [True, True], [r.reason for r in results]
    assert results[1].counts["hamlet"]["conflicts"] == 1 and results[1].counts["hamlet"]["inserted"] == 1
    assert district.conn.execute("SELECT origin FROM hamlet WHERE id = ?", (taken,)).fetchone()[0] == first.site.db_id
    alone = unit_file(tmp_path / "e.db", "district", "171")
    assert _outcome([merge.merge_file(alone, p) for p in packs]) == _outcome(results)
    assert dump(alone) == dump(district)
