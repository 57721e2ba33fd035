"""Every rare path counts each row once, at every level: random histories with forks resolved both ways
at the district, files replaced, packs in random orders and batches, a district's packs carried to its
province; and 2025 communes made from old communes' files, divided ones included. After every delivery
each level's report equals a recount from its live rows, and the levels agree on every commune."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import tempfile
from collections import defaultdict
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from cdt.exchange import conflicts, keys
from cdt.exchange.batch import merge_batch
from cdt.exchange.merge import merge_file
from cdt.exchange.regroup import regroup
from cdt.reports.report import build_report
from cdt.store import Store
from kits.mergekit import fast, seal_key, snapshot, unit_file
from kits.profiles import examples

MONTH = (2026, 10)


def _team(store: Store) -> str:
    found = store.conn.execute("SELECT id FROM team WHERE deleted = 0 ORDER BY id LIMIT 1").fetchone()
    if found:
        return found[0]
    with store.write() as tx:
        hamlet = tx.insert("hamlet", {"name": "Xóm Một", "kind": "xóm", "households": 30, "working_age": 60})
        return tx.insert("team", {"hamlet_id": hamlet["id"], "status": "active"})["id"]


def _visit(store: Store, day: int, people: int, household: str, team: str | None = None) -> None:
    team = team or _team(store)
    with store.write() as tx:
        tx.insert("visit", {"date": f"2026-{9 + day % 2:02d}-{1 + day % 28:02d}", "team_id": team,
                            "household": household, "people": 1 + people % 9, "services": '["vneid"]',
                            "members": "[]"})


def _live(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT id FROM visit WHERE deleted = 0 ORDER BY id")]


# -- the independent recount -------------------------------------------------------------------------------


def _commune_of(conn: sqlite3.Connection) -> dict[str, str]:
    """origin → commune code, from the file's own bookkeeping (not from cdt's report code)."""
    site = dict(conn.execute("SELECT * FROM site").fetchone())
    found, structure = {}, {}
    for row in conn.execute("SELECT db_id, level, structure, commune_code FROM origin"):
        structure[row[0]] = row[2]
        if row[1] == "commune" and row[3]:
            found[row[0]] = row[3]
    if site["level"] == "commune":
        found[site["db_id"]], structure[site["db_id"]] = site["commune_code"], site["structure"]
    for old, new in conn.execute("SELECT old_db_id, new_db_id FROM replacement"):
        if structure.get(old) == "legacy" and structure.get(new) == "2025" and new in found:
            found[old] = found[new]
    return found


def recount(path: Path) -> dict[str, tuple]:
    """Per commune: visits, people and distinct households of the month and of the year, from live rows."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        commune = _commune_of(conn)
        counts: dict[str, list] = defaultdict(lambda: [0, 0, set(), 0, 0, set()])
        for origin, date, household, people in conn.execute(
                "SELECT origin, date, household, people FROM visit WHERE deleted = 0"):
            if not date.startswith("2026-") or date > "2026-10-31":
                continue
            row = counts[commune.get(origin, "")]
            row[3] += 1
            row[4] += people
            row[5].add(household)
            if date.startswith("2026-10"):
                row[0] += 1
                row[1] += people
                row[2].add(household)
        return {code: (v[0], v[1], len(v[2]), v[3], v[4], len(v[5])) for code, v in counts.items() if code}
    finally:
        conn.close()


def reported(store: Store, level: str) -> dict[str, tuple]:
    report = build_report(store, year=MONTH[0], month=MONTH[1], level=level)
    rows = report["commune_rows"] if report["level"] == "province" else report["rows"]
    return {r["unit"]["code"]: (r["visits"]["month"], r["people_helped"]["month"], r["households_reached"]["month"],
                                r["visits"]["ytd"], r["people_helped"]["ytd"], r["households_reached"]["ytd"])
            for r in rows if r["unit"].get("level") == "commune" and r["visits"]["ytd"]}


def registers(store: Store, level: str) -> dict[str, tuple]:
    report = build_report(store, year=MONTH[0], month=MONTH[1], level=level)
    rows = report["commune_rows"] if report["level"] == "province" else report["rows"]
    return {r["unit"]["code"]: (r["hamlets"], r["teams"], r["households"]) for r in rows
            if r["unit"].get("level") == "commune" and (r["hamlets"] or r["teams"])}


def _equal_to_its_recount(store: Store, level: str) -> None:
    assert reported(store, level) == recount(store.path), level


# -- forks, replacements, resolutions, arrival orders: a district and its province -------------------------

LEGACY_OPS = st.lists(
    st.tuples(st.sampled_from(["visit", "visit", "visit", "edit", "delete", "pack", "pack", "fork", "replace",
                               "resolve", "deliver", "deliver"]),
              st.integers(0, 7), st.integers(0, 1000)),
    min_size=4, max_size=18)


@examples(thorough=300)
@given(ops=LEGACY_OPS, seed=st.integers(0, 2 ** 16))
def test_a_district_and_its_province_count_every_rare_path_once_and_agree(ops, seed):
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        district = unit_file(folder / "district.db", "district", "171")
        province = unit_file(folder / "province.db", "province", "19")
        files: dict[str, list[Store]] = {code: [unit_file(folder / f"{code}-0.db", "commune", code)]
                                         for code in ("05761", "05767")}
        merged_once: set[str] = set()
        pending: list[Path] = []
        number = 0

        def deliver(take_all: bool = False) -> None:
            nonlocal pending
            chosen = list(pending) if take_all else [p for p in pending if rng.random() < 0.7]
            rng.shuffle(chosen)
            pending = [p for p in pending if p not in chosen]
            while chosen:
                size = rng.randint(1, 3)
                batch, chosen = chosen[:size], chosen[size:]
                for result in merge_batch(district, batch).results:
                    if result.ok:
                        merged_once.add(result.db_id)
            _equal_to_its_recount(district, "district")
            carried = snapshot(district, folder / f"district-{rng.random():.12f}.cdt")
            result = merge_file(province, carried)
            assert result.ok, result.reason
            _equal_to_its_recount(province, "province")
            assert reported(province, "province") == reported(district, "district")
            assert registers(province, "province") == registers(district, "district")

        for op, pick, value in ops:
            number += 1
            code = sorted(files)[pick % len(files)]
            laptops = files[code]
            store = laptops[pick % len(laptops)]
            live = _live(store)
            if op == "visit" or (op in ("edit", "delete") and not live):
                _visit(store, value, value, f"HH-{value % 7}")
            elif op == "edit":
                with store.write() as tx:
                    tx.update("visit", live[value % len(live)], {"people": 1 + value % 9})
            elif op == "delete":
                with store.write() as tx:
                    tx.delete("visit", live[value % len(live)])
            elif op == "pack":
                pending.append(snapshot(store, folder / f"p{number}.cdt"))
            elif op == "fork" and len(laptops) == 1:
                twin = folder / f"{code}-twin.db"
                store.conn.execute("VACUUM INTO ?", (str(twin),))
                laptops.append(fast(Store.open(twin)))
            elif op == "replace" and laptops[0].site.db_id in merged_once and not code.endswith("r"):
                new = unit_file(folder / f"{code}-new.db", "commune", code)
                _visit(new, value, value, f"HN-{value % 5}")
                result = merge_file(district, snapshot(new, folder / f"new{number}.cdt"),
                                    replaces=laptops[0].site.db_id)
                assert result.ok, result.reason
                files[code + "r"] = [new]
                _equal_to_its_recount(district, "district")
            elif op == "resolve":
                opened = conflicts.list_conflicts(district)
                forks = [c for c in opened if c["kind"] == "fork"]
                if forks:
                    conflicts.resolve_conflict(district, forks[0]["id"], rng.choice(["ours", "theirs"]))
                    _equal_to_its_recount(district, "district")
            elif op == "deliver":
                deliver()
        for laptops in files.values():
            for store in laptops:
                pending.append(snapshot(store, folder / f"last-{store.site.db_id}-{len(pending)}.cdt"))
        deliver(take_all=True)
        for laptops in files.values():
            for store in laptops:
                store.close()
        district.close()
        province.close()


# -- 2025 communes from old communes' files, divided ones included --------------------------------------------

REGROUP_OPS = st.lists(st.tuples(st.sampled_from(["old", "old", "copy", "new", "new", "pack"]),
                                 st.integers(0, 5), st.integers(0, 1000)), min_size=2, max_size=12)


def _old_file(folder: Path, code: str, hamlets: tuple[str, ...]) -> Store:
    store = unit_file(folder / f"old-{code}.db", "commune", code)
    with store.write() as tx:
        for name in hamlets:
            hamlet = tx.insert("hamlet", {"name": name, "kind": "thôn", "households": 20, "working_age": 40})
            tx.insert("team", {"hamlet_id": hamlet["id"], "status": "active"})
    return store


def _teams(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT id FROM team WHERE deleted = 0 ORDER BY id")]


@examples(thorough=300)
@given(ops=REGROUP_OPS, split=st.integers(0, 1), seed=st.integers(0, 2 ** 16))
def test_a_2025_province_counts_regrouped_and_divided_communes_once_in_any_order(ops, split, seed):
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        divided = _old_file(folder, "00007", ("Thôn Một", "Thôn Hai"))
        whole = _old_file(folder, "24172", ("Thôn Ba",))
        olds = {"00007": divided, "24172": whole}
        copies: dict[str, Path] = {}
        for op, pick, value in ops:
            code = sorted(olds)[pick % 2]
            store = olds[code]
            if op == "old":
                teams = _teams(store)
                _visit(store, value, value, f"{code[-2:]}-{value % 6}", teams[value % len(teams)])
            elif op == "copy" and code == "00007" and "00025" not in copies:
                copies["00025"] = folder / f"copy-{value}.db"
                store.conn.execute("VACUUM INTO ?", (str(copies["00025"]),))
        copies.setdefault("00025", folder / "copy-last.db")
        if not copies["00025"].exists():
            divided.conn.execute("VACUUM INTO ?", (str(copies["00025"]),))
        for store in olds.values():
            store.close()
        # The successors: 00008 takes one hamlet of 00007 (which one, the split says), 00025 the other
        # from its copy; 24175 takes 24172 whole.
        hamlets = ["Thôn Một", "Thôn Hai"]
        mine = hamlets[split]
        made = {}
        made["00008"] = regroup(folder / "n-00008.db", "00008", [divided.path], hamlets=[mine])
        made["00025"] = regroup(folder / "n-00025.db", "00025", [copies["00025"]], hamlets=[hamlets[1 - split]])
        made["24175"] = regroup(folder / "n-24175.db", "24175", [whole.path])
        news = {code: fast(Store.open(Path(done["path"]))) for code, done in made.items()}
        for store in news.values():
            keys.own_keys(store)
        packs = []
        for op, pick, value in ops:
            code = sorted(news)[pick % 3]
            store = news[code]
            teams = _teams(store)
            if op == "new" and teams:
                _visit(store, value, value, f"N{value % 5}", teams[value % len(teams)])
            elif op == "pack":
                packs.append(snapshot(store, folder / f"p-{code}-{len(packs)}.cdt", sealed=False))
        for code, store in news.items():
            packs.append(snapshot(store, folder / f"last-{code}.cdt", sealed=False))
        order = list(packs)
        rng.shuffle(order)
        province = fast(Store.create(folder / "province.db", level="province", structure="2025",
                                     province=("01", "Thành phố Hà Nội"), on_create=keys.insert_new_keys))
        province_66 = fast(Store.create(folder / "province-66.db", level="province", structure="2025",
                                        province=("66", "Tỉnh Đắk Lắk"), on_create=keys.insert_new_keys))
        secret, public = seal_key()
        for target in (province, province_66):
            target.conn.execute("UPDATE own_key SET secret = ?, public = ? WHERE kind = 'seal'", (secret, public))
        while order:
            size = rng.randint(1, 3)
            batch, order = order[:size], order[size:]
            for target in (province, province_66):
                wanted = [p for p in batch if (target is province) == ("24175" not in p.name)]
                if wanted:
                    for result in merge_batch(target, wanted).results:
                        assert result.ok, result.reason
            _equal_to_its_recount(province, "province")
            _equal_to_its_recount(province_66, "province")
        for code, store in news.items():
            total = build_report(store, year=MONTH[0], month=MONTH[1])["total"]
            own = (total["visits"]["month"], total["people_helped"]["month"], total["households_reached"]["month"],
                   total["visits"]["ytd"], total["people_helped"]["ytd"], total["households_reached"]["ytd"])
            target = province_66 if code == "24175" else province
            assert reported(target, "province").get(code, (0,) * 6) == own, code
            store.close()
        province.close()
        province_66.close()
