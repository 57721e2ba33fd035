"""The totals kept per origin and month (cdt/totals.py, migration 6) equal a full recount.

Three kinds of history:
- raw SQL on ``visit`` (inserts, the merge's upsert, edits of any counted column, tombstones,
  revivals, physical deletes, all-new packs counted set-based under ``paused``): whatever any code
  path may do to a visit; 300 histories in the thorough hypothesis profile;
- the library's own paths: commune files edited and undone, copied to a second laptop (a fork),
  replaced by a new file (``--replaces``), packed and merged into a district in random order,
  forks held back and resolved either way. After every step the totals equal a recount from the
  live visits, and the district report and its trends (which read the totals) equal the same
  report computed by scanning every visit;
- ``totals.paused`` and ``totals.add_all_new`` on a real pack made by ``cdt pack``.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cdt.core import totals
from cdt.core.errors import CdtError
from cdt.core.schema import SCHEMA_VERSION, TOTALS_VERSION, apply_migrations
from cdt.store import Store
from kits.mergekit import DAI_TU, copy_store, merge_ok, snapshot, unit_file
from kits.profiles import examples

# Examples per test from the hypothesis profile (kits/profiles.py); the library histories are slower.
RAW = settings(suppress_health_check=list(HealthCheck))
LIB = settings(examples(thorough=40), suppress_health_check=list(HealthCheck))

MONTHS = ["2024-11", "2024-12", "2025-01", "2025-02", "2025-10"]
SERVICES = ['["dvc"]', '["vneid"]', '["dvc","payment"]', '["ecommerce"]']
COLUMNS = "id, origin, rev, deleted, hash, date, team_id, household, people, services, members"


def assert_exact(conn: sqlite3.Connection) -> None:
    assert totals.kept(conn) == totals.recount(conn)


# -- raw SQL histories ------------------------------------------------------------------------------

RAW_OPS = st.lists(st.tuples(
    st.sampled_from(["insert", "insert", "upsert", "edit", "edit", "tombstone", "revive", "delete", "pack"]),
    st.integers(0, 20), st.sampled_from(["o1", "o2", "o3"]), st.sampled_from(["H1", "H2", "H3"]),
    st.sampled_from(MONTHS), st.integers(1, 28), st.integers(1, 6), st.sampled_from(SERVICES),
    st.sampled_from(["date", "household", "people", "services", "origin", "all", "rev"]),
), min_size=1, max_size=30)


def memory_store() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("BEGIN")
    apply_migrations(conn, 0)
    conn.execute("COMMIT")
    conn.execute("ATTACH ':memory:' AS inc")
    conn.execute("CREATE TABLE inc.visit AS SELECT * FROM main.visit WHERE 0")
    return conn


@RAW
@given(ops=RAW_OPS)
def test_totals_equal_a_recount_after_any_sql_on_visits(ops):
    conn = memory_store()
    fresh = 0
    for op, pick, origin, household, month, day, people, services, column in ops:
        row_id = f"v{pick}"
        date = f"{month}-{day:02d}"
        values = (row_id, origin, 1, 0, "h", date, "t", household, people, services, "[]")
        if op == "insert":
            conn.execute(f"INSERT OR IGNORE INTO visit ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", values)
        elif op == "upsert":  # the merge's statement: a newer rev replaces every column
            conn.execute(f"INSERT INTO visit ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE"
                         " SET origin = excluded.origin, rev = excluded.rev, date = excluded.date,"
                         " household = excluded.household, people = excluded.people,"
                         " services = excluded.services, deleted = excluded.deleted", values)
        elif op == "edit":
            changes = {"date": date, "household": household, "people": people, "services": services,
                       "origin": origin, "rev": pick + 2}
            chosen = changes if column == "all" else {column: changes[column]}
            sets = ", ".join(f"{k} = ?" for k in chosen)
            conn.execute(f"UPDATE visit SET {sets} WHERE id = ?", (*chosen.values(), row_id))
        elif op == "tombstone":
            conn.execute("UPDATE visit SET deleted = 1 WHERE id = ?", (row_id,))
        elif op == "revive":
            conn.execute("UPDATE visit SET deleted = 0 WHERE id = ?", (row_id,))
        elif op == "delete":  # a row held as a conflict, or a replaced file's later rows, leave the table
            conn.execute("DELETE FROM visit WHERE id = ?", (row_id,))
        else:  # an all-new pack: new ids, counted set-based with the triggers paused (the merge's fast path)
            conn.execute("DELETE FROM inc.visit")
            for n in range(pick % 5 + 1):
                fresh += 1
                conn.execute(f"INSERT INTO inc.visit ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                             (f"new{fresh}", origin, 1, int(n == 3), "h", f"{MONTHS[(pick + n) % 5]}-{day:02d}",
                              "t", f"H{(pick + n) % 4}", people, services, "[]"))
            conn.execute("BEGIN")
            with totals.paused(conn):
                conn.execute("INSERT INTO main.visit SELECT * FROM inc.visit")
                totals.add_all_new(conn, "inc")
            conn.execute("COMMIT")
            assert conn.execute("SELECT count(*) FROM total_pause").fetchone()[0] == 0
    assert_exact(conn)
    conn.close()


# -- the library's own paths -----------------------------------------------------------------------

LIB_OPS = st.lists(st.tuples(
    st.sampled_from(["add", "add", "add", "edit", "edit", "delete", "undo", "pack"]),
    st.integers(0, 3), st.integers(0, 10_000)), min_size=1, max_size=14)


def team_of(store: Store) -> str:
    found = store.conn.execute("SELECT id FROM team WHERE deleted = 0 LIMIT 1").fetchone()
    if found:
        return found[0]
    with store.write() as tx:
        hamlet = tx.insert("hamlet", {"name": "Xóm Một", "kind": "xóm", "households": 40, "working_age": 80})
        return tx.insert("team", {"hamlet_id": hamlet["id"], "status": "active"})["id"]


def visit_values(rng: random.Random, team: str) -> dict:
    return {"date": f"{rng.choice(MONTHS)}-{rng.randrange(1, 29):02d}", "team_id": team,
            "household": f"HGD-{rng.randrange(5)}", "people": rng.randrange(1, 6),
            "services": rng.choice(SERVICES), "members": "[]", "notes": None}


def edit_values(rng: random.Random) -> dict:
    changes = {"date": f"{rng.choice(MONTHS)}-15", "household": f"HGD-{rng.randrange(5)}",
               "people": rng.randrange(1, 9), "services": rng.choice(SERVICES)}
    keys = rng.sample(sorted(changes), rng.randrange(1, 5))
    return {k: changes[k] for k in keys}


def scan_report(store: Store, year: int, month: int) -> tuple[dict, dict]:
    """The district report's visit figures per unit and its trends, recounted by scanning every
    visit (report.py's and trends.py's scans, with the bucket tables build_report just loaded)."""
    from cdt.reports import figures, trends

    dates = figures.period(year, month)
    params = {"start": dates["start"], "end": dates["end"], "year_start": dates["year_start"]}
    out: dict[str, dict] = {}
    dc = {"dvc", "vneid", "payment"}
    figures.measure_visits_by_scan(store, False, params, dc,
                                   lambda key: out.setdefault(key, figures.empty_figures()))
    months = trends.month_list(year, month)
    by_month = {ym: {"units": {}, "total": trends._zero()} for ym in months}
    first, last = min(months), max(months)
    trends._from_visits(store, by_month, {f"{y:04d}-{m:02d}": (y, m) for y, m in months},
                        {"start": figures.period(*first)["start"], "end": figures.period(*last)["end"]}, False, dc)
    return out, by_month


def assert_report_exact(store: Store) -> None:
    from cdt.reports import figures, report, trends

    keys = ("visits", "people_helped", "digital_citizens", "households_reached")
    for year, month in ((2025, 1), (2025, 2), (2025, 10), (2024, 12)):
        built = report.build_report(store, year=year, month=month, level="district")
        scanned, by_month = scan_report(store, year, month)
        total = figures.sum_figures(scanned.values())
        for key in keys:
            assert built["total"][key] == total[key], (year, month, key)
        for row in built["rows"]:
            want = scanned.get(row["unit"]["code"], figures.empty_figures())
            for key in keys:
                assert row[key] == want[key], (year, month, row["unit"]["code"], key)
            for code, flow in row["people_by_service"].items():
                assert flow == want["people_by_service"].get(code, figures.new_flow(0, 0, 0))
        kept = trends.figures_by_month(store, trends.month_list(year, month), by_hamlet=False,
                                       dc_codes=["dvc", "vneid", "payment"])
        assert kept == by_month, (year, month)
        ytd = trends._households_ytd(store, year, month)
        assert ytd[-1] == built["total"]["households_reached"]["ytd"]
        assert ytd == [_households_ytd_by_scan(store, year, m) for m in range(1, month + 1)]


def _households_ytd_by_scan(store: Store, year: int, month: int) -> int:
    from cdt.reports.figures import period

    return store.conn.execute(
        "SELECT count(*) FROM (SELECT DISTINCT coalesce(o.commune, v.origin), v.household FROM visit v"
        " LEFT JOIN temp.report_origin o ON o.origin = v.origin WHERE v.deleted = 0 AND v.date >= ?"
        " AND v.date <= ?)", (f"{year:04d}-01-01", period(year, month)["end"])).fetchone()[0]


@LIB
@given(ops=LIB_OPS, seed=st.integers(0, 10_000), fork=st.booleans(), replace=st.booleans())
def test_totals_and_report_exact_through_edits_undo_merges_conflicts_and_replacement(ops, seed, fork, replace,
                                                                                        tmp_path_factory):
    from cdt.exchange.conflicts import list_conflicts, resolve_conflict
    from cdt.exchange.merge import merge_file
    from cdt.register.undo import undo

    folder = tmp_path_factory.mktemp("totals")
    rng = random.Random(seed)
    stores = {name: unit_file(folder / f"{name}.db", "commune", code)
              for name, code in (("a", DAI_TU[0]), ("b", DAI_TU[1]))}
    live: dict[str, list[str]] = {name: [] for name in stores}
    packs: list[tuple[str, Path]] = []
    try:
        if replace:  # a new file for commune b (a lost laptop): the district merges it with --replaces
            stores["new"] = unit_file(folder / "new.db", "commune", DAI_TU[1])
            live["new"] = []
        for number, (op, pick, value) in enumerate(ops):
            if fork and number == len(ops) // 2:
                op = "fork"
            name = "a" if op == "fork" else sorted(stores)[pick % len(stores)]
            store, rows = stores[name], live[name]
            if op == "add" or (op in ("edit", "delete") and not rows) or (op == "fork" and "a2" in stores):
                team = team_of(store)
                with store.write() as tx:
                    rows.append(tx.insert("visit", visit_values(rng, team))["id"])
            elif op == "edit":
                with store.write() as tx:
                    tx.update("visit", rows[value % len(rows)], edit_values(rng))
            elif op == "delete":
                with store.write() as tx:
                    tx.delete("visit", rows.pop(value % len(rows)))
            elif op == "undo":
                try:
                    undo(store)
                except CdtError:  # nothing to undo, or nothing it would change
                    pass
                live[name] = [r["id"] for r in store.rows("visit")]
            elif op == "pack":
                packs.append((name, snapshot(store, folder / f"p{number}.cdt")))
            elif op == "fork" and "a2" not in stores and name == "a":
                stores["a2"] = copy_store(store, folder / "a2.db")  # the same file on a second laptop
                live["a2"] = list(rows)
                for twin in ("a", "a2"):  # both copies used: a fork the district holds back
                    with stores[twin].write() as tx:
                        live[twin].append(tx.insert("visit", visit_values(rng, team_of(stores[twin])))["id"])
            assert_exact(store.conn)
        for name, store in sorted(stores.items()):
            packs.append((name, snapshot(store, folder / f"final-{name}.cdt")))
    finally:
        for store in stores.values():
            store.close()
    rng.shuffle(packs)
    district = unit_file(folder / "district.db", "district", "171")
    try:
        for name, pack in packs:
            if name != "new":
                merge_ok(district, pack)
                assert_exact(district.conn)
        if "new" in stores:
            old_id = stores["b"].site.db_id
            replaces: str | None = old_id
            for name, pack in packs:
                if name == "new":  # the first of its packs says it replaces b; the others follow it
                    result = merge_file(district, pack, skip_known=False, replaces=replaces)
                    assert result.ok, result.reason
                    replaces = None
                    assert_exact(district.conn)
            # The replaced file goes on being used: its later rows are held, never counted.
            with Store.open(folder / "b.db") as old:
                with old.write() as tx:
                    tx.insert("visit", visit_values(rng, team_of(old)))
                late = snapshot(old, folder / "late-b.cdt")
            merge_ok(district, late)
            assert_exact(district.conn)
        assert_report_exact(district)
        held = list_conflicts(district)
        event(f"conflicts held: {bool(held)}; replaced: {'new' in stores}; undo: {any(o[0] == 'undo' for o in ops)}")
        for conflict in held:
            resolve_conflict(district, conflict["id"], rng.choice(["ours", "theirs"]))
            assert_exact(district.conn)
        for conflict in list_conflicts(district, include_resolved=True):
            if rng.random() < 0.5:
                resolve_conflict(district, conflict["id"], "theirs")
                assert_exact(district.conn)
        assert_report_exact(district)
    finally:
        district.close()


def test_an_older_file_gets_its_totals_when_migrated(tmp_path):
    """A file of schema 5 with visits in it: opening it migrates and counts them (set-based)."""
    store = unit_file(tmp_path / "old.db", "commune", DAI_TU[0], schema_version=TOTALS_VERSION - 1)
    rng = random.Random(7)
    team = team_of(store)
    with store.write() as tx:
        ids = [tx.insert("visit", visit_values(rng, team))["id"] for _ in range(40)]
    with store.write() as tx:
        tx.delete("visit", ids[0])
    store.close()
    reopened = Store.open(tmp_path / "old.db")
    try:
        assert reopened.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert totals.kept(reopened.conn)["total_reach"]
        assert_exact(reopened.conn)
    finally:
        reopened.close()


# -- the merge's all-new fast path: paused + add_all_new on a real pack ---------------------------------


def _commune_with_visits(cdt, path: Path, code: str, count: int, seed: int) -> Path:
    store = unit_file(path, "commune", code)
    rng = random.Random(seed)
    team = team_of(store)
    with store.write() as tx:
        ids = [tx.insert("visit", visit_values(rng, team))["id"] for _ in range(count)]
    with store.write() as tx:
        tx.delete("visit", ids[0])  # a tombstone travels in the pack: never counted
    store.close()
    return path


def _plain_pack(cdt, db: Path, out: Path, work: Path) -> Path:
    """A pack made by ``cdt pack`` (in clear: no district key trusted), opened to its SQLite content."""
    from cdt.exchange import packfile

    result = cdt("--db", str(db), "pack", "--out", str(out))
    assert result.exit_code == 0, result.output
    made = Path(result.stdout.strip().splitlines()[-1])
    plain = work / (made.name + ".sqlite")
    packfile.extract_content(made, packfile.read_verified(made), plain, None)
    return plain


def _add_pack_fast(district: Store, plain: Path) -> None:
    conn = district.conn
    conn.execute("ATTACH DATABASE ? AS inc", (str(plain),))
    try:
        conn.execute("BEGIN IMMEDIATE")
        with totals.paused(conn):
            columns = ", ".join(r[1] for r in conn.execute("PRAGMA inc.table_info(visit)"))
            conn.execute(f"INSERT INTO main.visit ({columns}) SELECT {columns} FROM inc.visit")
            totals.add_all_new(conn, "inc")
        conn.execute("COMMIT")
    finally:
        conn.execute("DETACH DATABASE inc")


def test_add_all_new_counts_a_real_pack_exactly(cdt, tmp_path):
    packs = []
    for number, code in enumerate(DAI_TU):
        db = _commune_with_visits(cdt, tmp_path / f"{code}.db", code, 60, number)
        packs.append(_plain_pack(cdt, db, tmp_path / "out", tmp_path))
    district = unit_file(tmp_path / "district.db", "district", "171")
    try:
        for plain in packs:
            _add_pack_fast(district, plain)
            assert_exact(district.conn)
        assert district.conn.execute("SELECT count(*) FROM total_pause").fetchone()[0] == 0
        # Outside the pause the triggers count again: a later edit through SQL keeps them exact.
        district.conn.execute("UPDATE visit SET date = '2025-10-01' WHERE rowid IN (SELECT rowid FROM visit LIMIT 7)")
        district.conn.execute("DELETE FROM visit WHERE rowid IN (SELECT rowid FROM visit LIMIT 5)")
        assert_exact(district.conn)
    finally:
        district.close()


def test_add_all_new_is_exact_when_the_origin_already_has_visits(cdt, tmp_path):
    """A second pack of the same commune whose visits are all new here (the first pack's rows
    removed from the district, as a held branch would be): the reach marks are recounted."""
    db = _commune_with_visits(cdt, tmp_path / "a.db", DAI_TU[0], 40, 1)
    first = _plain_pack(cdt, db, tmp_path / "out1", tmp_path)
    district = unit_file(tmp_path / "district.db", "district", "171")
    try:
        _add_pack_fast(district, first)
        kept_ids = [r[0] for r in district.conn.execute("SELECT id FROM visit ORDER BY id LIMIT 20")]
        district.conn.execute(f"DELETE FROM visit WHERE id NOT IN ({','.join('?' * len(kept_ids))})", kept_ids)
        second = tmp_path / "second.sqlite"
        conn = sqlite3.connect(second)
        conn.execute("ATTACH DATABASE ? AS p", (str(first),))
        conn.execute("CREATE TABLE visit AS SELECT * FROM p.visit")
        conn.execute(f"DELETE FROM visit WHERE id IN ({','.join('?' * len(kept_ids))})", kept_ids)
        conn.commit()
        conn.close()
        _add_pack_fast(district, second)
        assert_exact(district.conn)
    finally:
        district.close()


def test_a_pack_keeps_the_same_totals_as_its_file(cdt, tmp_path):
    """The totals travel in a pack as the file has them, and the merge never reads them: a
    district counts its own (a hostile pack could carry any numbers there)."""
    db = _commune_with_visits(cdt, tmp_path / "a.db", DAI_TU[0], 30, 5)
    plain = _plain_pack(cdt, db, tmp_path / "out", tmp_path)
    conn = sqlite3.connect(plain)
    try:
        assert_exact(conn)
    finally:
        conn.close()


def test_rebuild_counts_again_what_the_triggers_missed():
    conn = memory_store()
    conn.execute("BEGIN")
    with totals.paused(conn):
        for n in range(30):
            conn.execute(f"INSERT INTO visit ({COLUMNS}) VALUES (?,?,1,?,'h',?,'t',?,2,?,'[]')",
                         (f"v{n}", f"o{n % 3}", int(n % 7 == 0), f"{MONTHS[n % 5]}-0{n % 9 + 1}", f"H{n % 4}",
                          SERVICES[n % 4]))
    totals.rebuild(conn)
    conn.execute("COMMIT")
    assert totals.kept(conn)["total_visit"] and conn.execute("SELECT count(*) FROM total_pause").fetchone()[0] == 0
    assert_exact(conn)


def test_paused_needs_a_transaction():
    import pytest

    conn = memory_store()
    with pytest.raises(RuntimeError):
        with totals.paused(conn):
            pass
    assert conn.execute("SELECT count(*) FROM total_pause").fetchone()[0] == 0
