"""A 2025 commune's file made from the files of the legacy communes that formed it (``cdt init --from``).

Since 1 July 2025 many communes are the merger of older ones. Their clerks kept one cdt file each;
the new commune starts from all of them:

1. Each old file is opened and locked (``BEGIN IMMEDIATE``: no one writes to it meanwhile), copied
   to a private folder, migrated there if older, packed (``VACUUM INTO``, integrity check) and merged
   into a scratch legacy province file with ``merge.merge_file``: every check a district runs on a
   pack (schema allow-list, row hashes, the rules of the commands, history chains, area) runs on
   it. A file retired by an earlier ``init --from`` is refused.
2. Each old commune must be, in the bundled old→new map (``data/commune_map.csv``), a predecessor
   of the new commune; the same file twice is refused.
3. The new file is created in the 2025 structure and, in one transaction, receives the old files
   **as a merge would**: every row (tombstones included) with its id, ``origin``, ``rev`` and
   ``hash`` unchanged, each old file's history chain, its ``origin`` row, a ``merge_log`` row, and
   a ``replacement`` decision ``old file → new file`` with ``switch_clock`` = the old file's clock.
   So the old files' rows are the same rows wherever they travel (a province counts them once),
   and a province holds any row an old file writes after the switch (replacements.py's rule).
4. The new file may change the rows of the files it absorbed (``Store.changeable_origins``): a
   changed row becomes the new file's row (its origin moves, with a rev of the new file), and a
   merge takes that version over the old file's, whatever order the packs arrive in.
5. Household codes are one commune's register (report.py counts distinct households per commune).
   Two old communes often used the same codes ("HH-001"): such a code is given, in the new file's
   first write, a prefix naming its old commune ("HP-HH-001", "HK-HH-001"), so that the new
   commune's register tells them apart; the clerk is shown each change.
6. Only then is each old file marked retired into the new one (a setting, committed in the lock
   taken in step 1): it takes no more writes and no more packs, with one line saying which file
   replaced it.

A commune pack carrying absorbed files passes the province's checks through ``incoming.absorbed_in_pack``:
only legacy communes that formed it by the bundled map, each with its replacement decision.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from contextlib import ExitStack
from pathlib import Path
from typing import Callable, Optional

from cdt import __version__, _testing
from cdt.core import files
from cdt.core.errors import Ambiguous, CdtError, InvalidInput, NotFound, StoreError, os_reason
from cdt.core.text import clean, fold, match_names
from cdt.domain import units
from cdt.domain.parsers import parse_household
from cdt.exchange import keys
from cdt.exchange.merge import merge_file
from cdt.exchange.pack import make_pack
from cdt.register.site import create_file
from cdt.core.schema import DATA_COLUMNS, ROW_COLUMNS
from cdt.store import RETIRED_SETTING, Store
from cdt.core.rows import chain_link, now, part_file_id, part_row_id, ref_of, row_hash

ORIGIN_COLUMNS = ("db_id", "level", "structure", "province_code", "district_code", "commune_code", "unit_name",
                  "clock", "packed_at", "merged_at", "part_of")
TYPE_WORDS = ("thi tran ", "xa ", "phuong ", "dac khu ")


# -- reading the old files ---------------------------------------------------------------------------


def _open_copy(path: Path, work: Path) -> Store:
    """The old file, copied (with a journal beside it) into work and opened there."""
    copy = work / "old.db"
    try:
        shutil.copy2(path, copy)
        for suffix in ("-wal", "-journal"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                shutil.copy2(side, copy.with_name(copy.name + suffix))
    except OSError as error:
        raise StoreError("regroup.cannot_read", path=str(path), reason=os_reason(error)) from error
    return Store.open(copy)


def _checked(path: Path, new_code: str) -> dict:
    """The old file after every merge check: its site, all its rows, history and origin row, and
    its merge_log entry."""
    work = files.make("regroup")  # a full copy of the old file: cdt's private folder, never the system temp
    try:
        old = _open_copy(path, work)
        _testing.pause("regroup_copied")
        try:
            site = old.site
            if site.level != "commune" or site.structure != units.LEGACY:
                raise InvalidInput("regroup.not_legacy_commune", path=str(path), name=site.unit_name or "?")
            successors = {u.code for u in units.successors(site.commune_code)}
            if new_code not in successors:
                became = ", ".join(f"{u.name} ({u.code})" for u in units.successors(site.commune_code)) or "?"
                raise InvalidInput("regroup.not_predecessor", name=site.unit_name or "?", code=site.commune_code,
                                   became=became)
            if old.retired_into() is not None:
                # A divided file another new commune took its part of (_open_old_files let it through):
                # this private copy is packed as the old file was, before that.
                with old.local_write():
                    old.conn.execute("DELETE FROM setting WHERE key = ?", (RETIRED_SETTING,))
            packed = make_pack(old, work / "pack")
        finally:
            old.close()
        unit = units.get(site.commune_code, level="commune", structure=units.LEGACY)
        scratch = Store.create(work / "scratch.db", level="province", structure=units.LEGACY,
                               province=(unit.province_code, unit.province_name),
                               district=(None, None), commune=(None, None))
        try:
            result = merge_file(scratch, packed.path)
            if not result.ok:
                raise InvalidInput("regroup.refused", path=str(path), reason=result.reason)
            rows = {table: scratch.conn.execute(
                f"SELECT {', '.join(ROW_COLUMNS[table])} FROM {table} ORDER BY id").fetchall()
                for table in DATA_COLUMNS}
            history = scratch.conn.execute("SELECT origin, rev, chain FROM history ORDER BY origin, rev").fetchall()
            origin = scratch.query(f"SELECT {', '.join(ORIGIN_COLUMNS)} FROM origin WHERE db_id = ?", (site.db_id,))
        finally:
            scratch.close()
        log = {"file_name": path.name, "sha256": packed.sha256, "db_id": site.db_id, "level": "commune",
               "unit_code": site.commune_code, "unit_name": site.unit_name, "packed_at": packed.packed_at,
               "clock": site.clock, "schema_version": site.schema_version}
        divided = [f"{u.name} ({u.code})" for u in units.successors(site.commune_code) if u.code != new_code]
        return {"db_id": site.db_id, "code": site.commune_code, "name": site.unit_name, "clock": site.clock,
                "divided": divided, "part_of": None, "hamlets": [],
                "rows": rows, "history": history, "origin": origin[0], "log": log}
    finally:
        files.remove(work)


# -- an old commune divided between new communes ------------------------------------------------------
#
# A legacy commune split between several 2025 communes (the map lists more than one successor) goes
# to each in part: its clerk names the hamlets that come to this commune, and this commune takes the
# old file's rows of those hamlets (their teams, members, visits and attendance, and the trainings
# those members attended) as a part of the old file with an identity of its own: the part's origin is
# derived from the old file and this commune, so two successors' parts are two files that a province
# counts each under its own commune, whatever order their packs arrive in. The hamlets, teams,
# members, visits and attendance keep ids derived from the old file alone: if two successors claim
# one hamlet, their parts carry the same rows under two origins and the province refuses the second
# (a row of one unit pointing at another's). Trainings and services are per part (both sides keep
# theirs).

def _part(old: dict, hamlet_ids: set[str], new_code: str) -> dict:
    """The part of a checked old file (``_checked``) that holds the given hamlets, re-identified."""
    origin = part_file_id(old["db_id"], new_code)
    stable = lambda row_id: part_row_id(old["db_id"], row_id)  # noqa: E731
    own = lambda row_id: part_row_id(origin, row_id)  # noqa: E731
    rows = {table: [dict(zip(ROW_COLUMNS[table], row)) for row in old["rows"][table]] for table in DATA_COLUMNS}
    teams = {r["id"] for r in rows["team"] if r["hamlet_id"] in hamlet_ids}
    members = {r["id"] for r in rows["member"] if r["team_id"] in teams}
    attendance = [r for r in rows["training_attendance"] if r["member_id"] in members]
    trainings = {r["training_id"] for r in attendance}
    kept = {
        "hamlet": [dict(r, id=stable(r["id"])) for r in rows["hamlet"] if r["id"] in hamlet_ids],
        "team": [dict(r, id=stable(r["id"]), hamlet_id=stable(r["hamlet_id"])) for r in rows["team"]
                 if r["id"] in teams],
        "member": [dict(r, id=stable(r["id"]), team_id=stable(r["team_id"])) for r in rows["member"]
                   if r["id"] in members],
        "visit": [dict(r, id=stable(r["id"]), team_id=stable(r["team_id"]),
                       members=json.dumps(sorted(stable(m) for m in json.loads(r["members"]) if m in members)))
                  for r in rows["visit"] if r["team_id"] in teams],
        "training_attendance": [dict(r, id=stable(r["id"]), member_id=stable(r["member_id"]),
                                     training_id=own(r["training_id"])) for r in attendance],
        "training": [dict(r, id=own(r["id"])) for r in rows["training"] if r["id"] in trainings],
        "service": [dict(r, id=own(r["id"])) for r in rows["service"]],
        "target": [],
    }
    by_rev: dict[int, list[tuple[str, str, str]]] = {}
    for table, found in kept.items():
        for row in found:
            row["origin"] = origin
            row["hash"] = row_hash(table, row)
            by_rev.setdefault(row["rev"], []).append((table, row["id"], row["hash"]))
    history, link = [], ""
    for rev in range(1, old["clock"] + 1):
        link = chain_link(link, rev, sorted(by_rev.get(rev, [])))
        history.append((origin, rev, link))
    part = dict(old, db_id=origin, part_of=old["db_id"], history=history,
                rows={table: [tuple(row[c] for c in ROW_COLUMNS[table]) for row in found]
                      for table, found in kept.items()},
                origin=dict(old["origin"], db_id=origin, part_of=old["db_id"]),
                log=dict(old["log"], db_id=origin))
    return part


def _hamlet_choices(collected: list[dict], names: list[str] | None, new_code: str) -> list[dict]:
    """Each old file whole, or, for one divided between new communes, the part holding the hamlets
    named (NotFound / Ambiguous for a name, InvalidInput when a divided file gets none)."""
    def live_hamlets(old: dict) -> list[dict]:
        rows = [dict(zip(ROW_COLUMNS["hamlet"], row)) for row in old["rows"]["hamlet"]]
        return [h for h in rows if not h["deleted"]]

    # An old file without a hamlet has nothing to divide: its (empty) part comes whole.
    divided = [old for old in collected if old["divided"] and live_hamlets(old)]
    if not divided:
        return [_part(old, set(), new_code) if old["divided"] else old for old in collected]
    if not names:
        first = divided[0]
        live = [dict(zip(ROW_COLUMNS["hamlet"], row)) for row in first["rows"]["hamlet"]]
        raise InvalidInput("regroup.divided_choose", name=first["name"] or "?", code=first["code"],
                           others=", ".join(first["divided"]),
                           hamlets=", ".join(h["name"] for h in live if not h["deleted"]) or "—")
    chosen: dict[str, set[str]] = {old["db_id"]: set() for old in divided}
    for name in names:
        found = []
        for old in divided:
            live = [dict(zip(ROW_COLUMNS["hamlet"], row)) for row in old["rows"]["hamlet"]]
            found += [(old, h) for h in match_names(clean(name), [h for h in live if not h["deleted"]],
                                                    lambda h: h["name"])]
        if not found:
            raise NotFound("regroup.hamlet_unknown", name=clean(name),
                           communes=", ".join(f"{o['name']} ({o['code']})" for o in divided))
        if len(found) > 1:
            raise Ambiguous("hamlet.ambiguous", [(h["id"], f"{h['name']} ({o['name']})") for o, h in found],
                            name=clean(name), count=len(found))
        old, hamlet = found[0]
        chosen[old["db_id"]].add(hamlet["id"])
    result = []
    for old in collected:
        if not old["divided"]:
            result.append(old)
            continue
        if old["db_id"] not in chosen:  # divided, but no hamlet to divide
            result.append(_part(old, set(), new_code))
            continue
        if not chosen[old["db_id"]]:
            raise InvalidInput("regroup.divided_none", name=old["name"] or "?", code=old["code"])
        live = {dict(zip(ROW_COLUMNS["hamlet"], row))["id"]: dict(zip(ROW_COLUMNS["hamlet"], row))["name"]
                for row in old["rows"]["hamlet"]}
        part = _part(old, chosen[old["db_id"]], new_code)
        part["hamlets"] = sorted(live[h] for h in chosen[old["db_id"]])
        result.append(part)
    return result


def _open_old_files(old_files: list[Path], new_code: str) -> list[Store]:
    """Open each old file, refusing a missing or retired one or one given twice. A file divided between
    new communes stays open to those that have not taken their part of it yet."""
    opened: list[Store] = []
    seen: dict[str, Path] = {}
    try:
        for old in old_files:
            path = Path(old)
            if not path.is_file():
                raise InvalidInput("regroup.missing", path=str(path))
            store = Store.open(path)
            opened.append(store)
            into = store.retired_into()
            if not (into and into.get("divided") and new_code not in into.get("taken_by", [])):
                store.refuse_if_retired()
            if store.site.db_id in seen:
                raise InvalidInput("regroup.twice", path=str(path), other=str(seen[store.site.db_id]))
            seen[store.site.db_id] = path
    except BaseException:
        for store in opened:
            store.close()
        raise
    return opened


def _locked(old: Store, locks: ExitStack) -> None:
    """Hold an old file's write lock until the regroup ends: no one writes to it meanwhile, and it is
    retired in the same transaction (rolled back with everything else if the regroup fails)."""
    try:
        locks.enter_context(old.local_write())
    except StoreError as error:
        if error.key == "store.read_only_file":
            raise StoreError("regroup.read_only", path=str(old.path)) from error
        raise


# -- the new file ------------------------------------------------------------------------------------


def regroup(path: Path, new_code: str, old_files: list[Path],
            progress: Optional[Callable[[int, int, str], None]] = None, hamlets: list[str] | None = None) -> dict:
    """Create the 2025 commune new_code's file at path from the files of the old communes that formed it.
    ``hamlets``: for an old commune divided between new communes, the names of its hamlets that come here."""
    new_unit = units.get(str(new_code), level="commune", structure=units.NEW)
    if new_unit is None:
        found = [u for u in units.search(str(new_code), structure=units.NEW, level="commune")]
        if len(found) != 1:
            raise InvalidInput("regroup.unknown_commune", query=str(new_code))
        new_unit = found[0]
    if Path(path).exists():
        raise StoreError("regroup.exists", path=str(path))
    opened = _open_old_files(list(old_files), new_unit.code)
    try:
        with ExitStack() as locks:
            for old in opened:
                _locked(old, locks)
            collected = []
            for index, old in enumerate(opened):
                if progress:
                    progress(index, len(opened), old.path.name)
                collected.append(_checked(old.path, new_unit.code))
            if progress:
                progress(len(opened), len(opened), "")
            collected = _hamlet_choices(collected, hamlets, new_unit.code)
            store = create_file(path, "commune", new_unit.code, units.NEW, on_create=keys.insert_new_keys)
            try:
                counts, recoded = _bring_in(store, collected)
                same_names = _hamlets_of_one_name(store, collected)
                site = store.site
            except BaseException:
                store.close()
                Path(path).unlink(missing_ok=True)
                raise
            store.close()
            divided = {c["part_of"] for c in collected if c["part_of"]}
            for old in opened:
                earlier = old.retired_into() or {}
                retired = {"db_id": site.db_id, "code": site.unit_code, "name": site.unit_name,
                           "path": str(Path(path).resolve()), "at": now()}
                if old.site.db_id in divided:
                    retired.update(divided=True, taken_by=sorted({*earlier.get("taken_by", []), site.unit_code}))
                old.put_setting(RETIRED_SETTING, json.dumps(retired, ensure_ascii=False))
    finally:
        for old in opened:
            old.close()
    return {"path": str(path), "db_id": site.db_id, "commune": {"code": site.unit_code, "name": site.unit_name},
            "from": [{"code": c["code"], "name": c["name"], "db_id": c["db_id"], "clock": c["clock"],
                      "divided": c["divided"], "part_of": c["part_of"], "hamlets": c["hamlets"]} for c in collected],
            "rows": counts, "recoded": recoded, "same_names": same_names}


def _hamlets_of_one_name(store: Store, collected: list[dict]) -> list[dict]:
    """Hamlets of different old communes that have exactly the same name ("Thôn 1" in both): they
    stay two hamlets, but every list and report of the new commune would show two equal names, and
    a command naming one would ask "which one?"; the clerk is told so, to rename one."""
    communes = {c["db_id"]: f"{c['name']} ({c['code']})" for c in collected}
    by_name: dict[str, list[str]] = {}
    for name, origin, row_id in store.conn.execute(
            "SELECT name, origin, id FROM hamlet WHERE deleted = 0 ORDER BY name, origin"):
        by_name.setdefault(name, []).append(f"{communes.get(origin, '?')} [{ref_of(row_id)}]")
    return [{"name": name, "communes": found} for name, found in by_name.items() if len(found) > 1]


def _bring_in(store: Store, collected: list[dict]) -> tuple[dict[str, int], list[dict]]:
    """Every old file into the new one as a merge would bring it, in one transaction; then the new
    file's first write gives colliding household codes their old commune's prefix."""
    conn = store.conn
    totals = {table: 0 for table in DATA_COLUMNS}
    recoded: list[dict] = []
    with store.local_write():
        for old in collected:
            counts = {}
            for table in DATA_COLUMNS:
                columns = ROW_COLUMNS[table]
                try:
                    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)})"
                                     f" VALUES ({', '.join('?' for _ in columns)})", old["rows"][table])
                except sqlite3.IntegrityError as error:
                    raise InvalidInput("regroup.shared_row", name=old["name"] or "?", code=old["code"]) from error
                live = sum(1 for row in old["rows"][table] if not row[3])
                counts[table] = {"inserted": len(old["rows"][table]), "updated": 0, "unchanged": 0, "older": 0,
                                 "conflicts": 0}
                totals[table] += live
            conn.executemany("INSERT INTO history (origin, rev, chain) VALUES (?, ?, ?)", old["history"])
            origin = dict(old["origin"], merged_at=now())
            conn.execute(f"INSERT INTO origin ({', '.join(ORIGIN_COLUMNS)})"
                         f" VALUES ({', '.join(':' + c for c in ORIGIN_COLUMNS)})", origin)
            conn.execute("INSERT INTO replacement (old_db_id, new_db_id, level, unit_code, switch_clock, decided_at)"
                         " VALUES (?, ?, 'commune', ?, ?, ?)",
                         (old["db_id"], store.site.db_id, old["code"], old["clock"], now()))
            log = old["log"]
            conn.execute(
                "INSERT INTO merge_log (file_name, sha256, db_id, level, unit_code, unit_name, packed_at, clock,"
                " schema_version, counts, outcome, reason, merged_at, cdt_version)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'regrouped', NULL, ?, ?)",
                (log["file_name"], log["sha256"], log["db_id"], log["level"], log["unit_code"], log["unit_name"],
                 log["packed_at"], log["clock"], log["schema_version"], json.dumps(counts), now(), __version__),
            )
        store.refresh()  # the replacement decisions make the old files' rows changeable here
        changes = _household_changes(store, collected)
        if any(changes.values()):
            with store.write() as tx:
                tx.describe("regroup.history_recode", count=sum(1 for code in changes.values() if code))
                for visit_id, new_code in changes.items():
                    if new_code:
                        tx.update("visit", visit_id, {"household": new_code})
        if changes:
            recoded = _summarise(store, collected, changes)
    return totals, recoded


def _prefixes(collected: list[dict]) -> dict[str, str]:
    """A short letter prefix per old file from its commune's name ('Xã Hòa Phú' → 'HP'), unique."""
    taken: set[str] = set()
    found = {}
    for old in collected:
        name = fold(old["name"] or "")
        for word in TYPE_WORDS:
            if name.startswith(word):
                name = name[len(word):]
                break
        base = "".join(w[0] for w in re.split(r"[^a-z0-9]+", name) if w and w[0].isalpha()).upper() or "X"
        prefix, letter = base, 0
        while prefix in taken:
            prefix = base + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[letter % 26] * (1 + letter // 26)
            letter += 1
        taken.add(prefix)
        found[old["db_id"]] = prefix
    return found


def _household_changes(store: Store, collected: list[dict]) -> dict[str, str]:
    """visit id → its new household code (None when none fits), for codes two or more old files use."""
    used: dict[str, set[str]] = {}
    for row in store.query("SELECT origin, household FROM visit WHERE deleted = 0"):
        used.setdefault(row["household"], set()).add(row["origin"])
    shared = {code for code, origins in used.items() if len(origins) > 1}
    if not shared:
        return {}
    prefixes = _prefixes(collected)
    changes = {}
    for row in store.query("SELECT id, origin, household FROM visit WHERE deleted = 0 ORDER BY id"):
        if row["household"] not in shared:
            continue
        candidate = f"{prefixes[row['origin']]}-{row['household']}"
        try:
            candidate = parse_household(candidate)
        except ValueError:
            candidate = None  # too long: left as it was, and the clerk is told (see _summarise)
        if candidate in used:
            candidate = None
        changes[row["id"]] = candidate
    return changes


def _summarise(store: Store, collected: list[dict], changes: dict[str, str]) -> list[dict]:
    """One entry per (old commune, old code → new code), for the clerk."""
    names = {old["db_id"]: old for old in collected}
    seen: dict[tuple, dict] = {}
    for visit_id, new_code in changes.items():
        previous = store.conn.execute(
            "SELECT previous FROM undo_journal WHERE table_name = 'visit' AND row_id = ? ORDER BY rev LIMIT 1",
            (visit_id,)).fetchone() if new_code else None
        before = json.loads(previous[0]) if previous and previous[0] else store.get("visit", visit_id)
        old = names.get(before.get("origin"), {})
        key = (before.get("origin"), before.get("household"), new_code)
        entry = seen.setdefault(key, {"code": old.get("code"), "name": old.get("name"),
                                      "household": before.get("household"), "new": new_code, "visits": 0})
        entry["visits"] += 1
    return sorted(seen.values(), key=lambda e: (e["code"] or "", e["household"] or ""))


__all__ = ["regroup", "CdtError"]
