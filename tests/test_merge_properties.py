"""Merge algebra on random histories (DESIGN.md §3.4): idempotent, commutative, associative.

Each example builds commune files, runs a random history of adds, edits and deletes on them with
packs taken along the way (so some deletes and edits come after a pack), and sometimes copies a
commune file to a second laptop where both copies go on being used (a fork). The canonical dumps
of the domain tables are compared.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from kits.mergekit import (
    DAI_TU, TP_THAI_NGUYEN, add_hamlet, add_member, copy_store, delete_hamlet, dump, edit_hamlet, merge_ok,
    snapshot, unit_file,
)
from kits.profiles import examples

OPS = st.lists(
    st.tuples(st.sampled_from(["add", "add", "edit", "edit", "delete", "member", "pack", "fork"]),
              st.integers(0, 4), st.integers(0, 1000)),
    min_size=1, max_size=14,
)


def play(folder: Path, communes: tuple[str, ...], ops: list, *, forks: bool) -> list[Path]:
    """Run a history on commune files; return every pack taken (a final one of each file included)."""
    stores = {}
    for code in communes:
        stores[(code, 0)] = unit_file(folder / f"{code}-0.db", "commune", code)
    packs: list[Path] = []
    hamlets: dict[tuple, list[str]] = {key: [] for key in stores}
    for number, (op, pick, value) in enumerate(ops):
        key = sorted(stores)[pick % len(stores)]
        store = stores[key]
        live = hamlets[key]
        if op == "add" or (op in ("edit", "delete") and not live):
            live.append(add_hamlet(store, f"Xóm {number}", value))
        elif op == "edit":
            edit_hamlet(store, live[value % len(live)], value)
        elif op == "delete":
            delete_hamlet(store, live.pop(value % len(live)))
        elif op == "member":
            add_member(store, f"Người {value}")
        elif op == "pack":
            packs.append(snapshot(store, folder / f"pack-{number}.cdt"))
        elif op == "fork" and forks and key[1] == 0 and (key[0], 1) not in stores:
            twin = (key[0], 1)
            stores[twin] = copy_store(store, folder / f"{key[0]}-1.db")
            hamlets[twin] = list(live)
    for key, store in sorted(stores.items()):
        packs.append(snapshot(store, folder / f"final-{key[0]}-{key[1]}.cdt"))
        store.close()
    return packs


def merged(folder: Path, name: str, level: str, code: str, packs: list[Path]) -> dict:
    target = unit_file(folder / name, level, code)
    try:
        for pack in packs:
            merge_ok(target, pack)
        return dump(target)
    finally:
        target.close()


# Examples per test: the hypothesis profile's (kits/profiles.py; make test-thorough runs 300).


@given(ops=OPS)
def test_merging_a_pack_twice_equals_once(ops):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        packs = play(folder, DAI_TU[:2], ops, forks=True)
        target = unit_file(folder / "district.db", "district", "171")
        for pack in packs:
            merge_ok(target, pack)
        once = dump(target)
        conflicts = target.query("SELECT kind, origin, table_name, row_id, rev, hash FROM conflict ORDER BY 1,2,3,4")
        for pack in packs:
            counts = merge_ok(target, pack)
            assert all(c["inserted"] == 0 and c["updated"] == 0 for c in counts.values())
        assert dump(target) == once
        assert target.query("SELECT kind, origin, table_name, row_id, rev, hash FROM conflict"
                            " ORDER BY 1,2,3,4") == conflicts
        target.close()


@given(ops=OPS, seed=st.integers(0, 10_000))
def test_any_order_of_packs_gives_the_same_district(ops, seed):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        packs = play(folder, DAI_TU, ops, forks=True)
        shuffled = list(packs)
        random.Random(seed).shuffle(shuffled)
        assert merged(folder, "a.db", "district", "171", packs) == \
            merged(folder, "b.db", "district", "171", shuffled) == \
            merged(folder, "c.db", "district", "171", list(reversed(packs)))


@given(ops=OPS, seed=st.integers(0, 10_000))
def test_communes_then_districts_then_province_equals_communes_to_province(ops, seed):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        communes = DAI_TU[:2] + TP_THAI_NGUYEN[:1]
        packs = play(folder, communes, ops, forks=True)
        rng = random.Random(seed)
        direct = list(packs)
        rng.shuffle(direct)
        province_direct = merged(folder, "p1.db", "province", "19", direct)

        district_packs = []
        for code, prefix in (("171", DAI_TU), ("164", TP_THAI_NGUYEN)):
            district = unit_file(folder / f"d{code}.db", "district", code)
            mine = [p for p in packs if _commune_of(p) in prefix]
            rng.shuffle(mine)
            # Part of the district's month goes up early, the rest later: both district packs go up.
            half = len(mine) // 2
            for pack in mine[:half]:
                merge_ok(district, pack)
            district_packs.append(snapshot(district, folder / f"d{code}-early.cdt"))
            for pack in mine[half:]:
                merge_ok(district, pack)
            district_packs.append(snapshot(district, folder / f"d{code}-late.cdt"))
            district.close()
        rng.shuffle(district_packs)
        assert merged(folder, "p2.db", "province", "19", district_packs) == province_direct


def _commune_of(pack: Path) -> str:
    """The commune that signed a pack (its container's header names it)."""
    from cdt.exchange import packfile

    return packfile.read_verified(pack).unit_code


# -- one file per unit: a replacement keeps the algebra ----------------------------------------------

REPLACE_OPS = st.lists(st.tuples(st.sampled_from(["old", "new"]), st.sampled_from(["add", "member", "pack"]),
                                 st.integers(0, 1000)), min_size=1, max_size=10)


@examples(thorough=25)  # each example builds six files: fewer than the others
@given(ops=REPLACE_OPS, seed=st.integers(0, 10**6))
def test_a_replacement_keeps_the_province_idempotent_and_commutative(ops, seed):
    """A district decides that a new file replaces a commune's old one; the old laptop goes on
    being used. At the province, the district's pack (carrying the decision) and the old file's
    later packs give the same result in any order, and merging everything twice equals once."""
    from cdt.exchange.merge import merge_file

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        old = unit_file(folder / "old.db", "commune", DAI_TU[0])
        new = unit_file(folder / "new.db", "commune", DAI_TU[0])
        for store in (old, new):
            add_hamlet(store, "Xóm Một")
        first_old, first_new = snapshot(old, folder / "old-first.cdt"), snapshot(new, folder / "new-first.cdt")
        later = []
        for number, (who, op, value) in enumerate(ops):
            store = old if who == "old" else new
            if op == "add":
                add_hamlet(store, f"Xóm {number}", value)
            elif op == "member":
                add_member(store, f"Người {value}")
            elif who == "old":
                later.append(snapshot(store, folder / f"old-{number}.cdt"))
        later.append(snapshot(old, folder / "old-last.cdt"))
        district = unit_file(folder / "district.db", "district", "171")
        merge_ok(district, first_old)
        decided = merge_file(district, first_new, skip_known=False, replaces=old.site.db_id)
        assert decided.ok, decided.reason
        district_pack = snapshot(district, folder / "district.cdt")
        for store in (old, new, district):
            store.close()
        packs = [district_pack, *later]
        orders = [packs, list(reversed(packs)), random.Random(seed).sample(packs, len(packs))]
        dumps = []
        for number, order in enumerate(orders):
            province = unit_file(folder / f"province-{number}.db", "province", "19")
            for pack in order:
                merge_ok(province, pack)
            once = dump(province)
            for pack in order:
                merge_ok(province, pack)
            assert dump(province) == once
            dumps.append(once)
            province.close()
        assert dumps[0] == dumps[1] == dumps[2]
        assert dumps[0]["replacement"]
