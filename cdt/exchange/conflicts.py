"""Conflicts a merge held: list them, show both versions of each row, resolve them (keep ours or take theirs)."""

from __future__ import annotations

import json

from cdt import __version__
from cdt.core.errors import InvalidInput, NotFound
from cdt.core.text import clean_text
from cdt.exchange.merge import json_row
from cdt.core.schema import DATA_COLUMNS, ROW_COLUMNS
from cdt.store import Store
from cdt.core.rows import now


def _groups(store: Store, include_resolved: bool) -> list[dict]:
    rows = store.query(
        "SELECT c.*, o.unit_name, o.commune_code, o.district_code FROM conflict c"
        " LEFT JOIN origin o ON o.db_id = c.origin ORDER BY c.id")
    groups: dict[tuple, dict] = {}
    for row in rows:
        key = (row["kind"], row["origin"], row["fork_rev"], row["branch"]) if row["kind"] == "fork" \
            else ("row", row["id"])
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "id": row["id"], "kind": row["kind"], "origin": row["origin"],
                "unit": {"code": clean_text(row["commune_code"] or row["district_code"]),
                         "name": clean_text(row["unit_name"])},
                "fork_rev": row["fork_rev"], "branch": row["branch"], "rows": 0, "tables": {},
                "source": row["source"], "detected_at": row["detected_at"], "resolved_at": row["resolved_at"],
                "resolution": row["resolution"], "members": [],
            }
        group["rows"] += 1
        group["tables"][row["table_name"]] = group["tables"].get(row["table_name"], 0) + 1
        group["members"].append(row["id"])
        if row["resolved_at"] is None:
            group["resolved_at"] = None
            group["resolution"] = None
    found = list(groups.values())
    return found if include_resolved else [g for g in found if g["resolved_at"] is None]


def list_conflicts(store: Store, *, include_resolved: bool = False) -> list[dict]:
    """Open conflicts (or all), one entry per held fork branch or per held row."""
    return [{k: v for k, v in g.items() if k != "members"} for g in _groups(store, include_resolved)]


def _group(store: Store, conflict_id: int) -> dict:
    for group in _groups(store, include_resolved=True):
        if conflict_id in group["members"]:
            return group
    raise NotFound("conflicts.not_found", id=conflict_id)


def show_conflict(store: Store, conflict_id: int) -> dict:
    """A conflict with both versions of each row side by side: ours (in the tables) and theirs (held)."""
    group = _group(store, conflict_id)
    marks = ",".join("?" * len(group["members"]))
    units = {row["db_id"]: row for row in store.query("SELECT db_id, level, commune_code, district_code,"
                                                       " unit_name FROM origin")}
    if store.site.db_id not in units:
        units[store.site.db_id] = {"commune_code": store.site.commune_code, "district_code": store.site.district_code,
                                   "unit_name": store.site.unit_name}

    def unit_of(db_id: str) -> dict:
        known = units.get(db_id) or {}
        return {"db_id": db_id, "code": clean_text(known.get("commune_code") or known.get("district_code")),
                "name": clean_text(known.get("unit_name"))}

    pairs = []
    for held in store.query(f"SELECT * FROM conflict WHERE id IN ({marks}) ORDER BY table_name, row_id",
                            tuple(group["members"])):
        ours = store.get(held["table_name"], held["row_id"])
        pairs.append({
            "table": held["table_name"], "row_id": held["row_id"],
            # Which file each side comes from: for a row that reuses another origin's id, that is the point.
            "theirs": {"rev": held["rev"], "deleted": bool(held["deleted"]), "origin": held["origin"],
                       **json.loads(held["row_data"])},
            "theirs_unit": unit_of(held["origin"]),
            "ours": None if ours is None else {
                "rev": ours["rev"], "deleted": bool(ours["deleted"]), "origin": ours["origin"],
                **{c: ours[c] for c in DATA_COLUMNS[held["table_name"]]}},
            "ours_unit": None if ours is None else unit_of(ours["origin"]),
        })
    ours_chain = store.conn.execute("SELECT chain FROM history WHERE origin = ? AND rev = ?",
                                    (group["origin"], group["fork_rev"])).fetchone()
    info = {k: v for k, v in group.items() if k != "members"}
    info["our_branch"] = ours_chain[0] if ours_chain and group["kind"] == "fork" else None
    info["pairs"] = pairs
    return info


# A held row of a file replaced by another (cdt merge --replaces) written after the switch stays held.
_NOT_AFTER_SWITCH = (" AND NOT EXISTS (SELECT 1 FROM main.replacement x WHERE x.old_db_id = {a}.origin"
                     " AND {a}.rev > x.switch_clock)")


def _take_held_branch(conn, origin: str, fork: int, ours: str, theirs: str, members: tuple, stamp: str) -> None:
    """Swap a held branch in: our branch's version of every row the two disagree on (the rows it wrote
    from the fork on, and its pre-fork version of the rows the held branch changed) goes into
    conflict, then the held branch's rows and history come back, except rows of a replaced file
    written after its switch, which stay held."""
    args = {"origin": origin, "fork": fork, "branch": ours, "theirs": theirs, "now": stamp, "force": 0}
    for table in DATA_COLUMNS:
        changed_by_theirs = (f"EXISTS (SELECT 1 FROM main.conflict c WHERE c.kind = 'fork' AND c.origin = :origin"
                             f" AND c.fork_rev = :fork AND c.branch = :theirs AND c.table_name = '{table}'"
                             " AND c.row_id = r.id AND c.rev >= :fork)")
        conn.execute(
            "INSERT INTO conflict (kind, origin, fork_rev, branch, table_name, row_id, rev, deleted,"
            " hash, row_data, source, detected_at, resolved_at, resolution)"
            f" SELECT 'fork', r.origin, :fork, :branch, '{table}', r.id, r.rev, r.deleted, r.hash,"
            f" {json_row(table, 'r')}, 'resolve', :now, :now, 'replaced' FROM main.{table} r"
            f" WHERE r.origin = :origin AND (r.rev >= :fork OR {changed_by_theirs})"
            " ON CONFLICT (kind, origin, fork_rev, branch, table_name, row_id) DO UPDATE SET"
            " rev = excluded.rev, deleted = excluded.deleted, hash = excluded.hash,"
            " row_data = excluded.row_data, resolved_at = excluded.resolved_at,"
            " resolution = excluded.resolution", args)
        conn.execute(f"DELETE FROM main.{table} WHERE origin = :origin AND rev >= :fork", args)
    conn.execute("INSERT OR IGNORE INTO held_history (origin, fork_rev, branch, rev, chain)"
                 " SELECT origin, :fork, :branch, rev, chain FROM history"
                 " WHERE origin = :origin AND rev >= :fork", args)
    conn.execute("DELETE FROM history WHERE origin = :origin AND rev >= :fork", args)
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS chosen (id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.chosen")
    marks = ",".join("?" * len(members))
    conn.execute(f"INSERT INTO temp.chosen SELECT id FROM conflict WHERE id IN ({marks})", members)
    for table in DATA_COLUMNS:
        conn.execute(_restore_sql(table), {"force": 0})
    conn.execute("INSERT OR IGNORE INTO history (origin, rev, chain) SELECT h.origin, h.rev, h.chain"
                 " FROM held_history h WHERE h.origin = ? AND h.fork_rev = ? AND h.branch = ?"
                 + _NOT_AFTER_SWITCH.format(a="h"), (origin, fork, theirs))
    conn.execute("DELETE FROM held_history WHERE origin = ? AND fork_rev = ? AND branch = ?", (origin, fork, theirs))


def _restore_sql(table: str) -> str:
    columns = ROW_COLUMNS[table]
    values = ["c.row_id", "c.origin", "c.rev", "c.deleted", "c.hash",
              *(f"json_extract(c.row_data, '$.{col}')" for col in DATA_COLUMNS[table])]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    return (f"INSERT INTO main.{table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM main.conflict c"
            f" WHERE c.table_name = '{table}' AND c.id IN (SELECT id FROM temp.chosen)" + _NOT_AFTER_SWITCH.format(a="c") +
            f" ON CONFLICT (id) DO UPDATE SET {updates} WHERE excluded.rev > {table}.rev OR :force")


def resolve_conflict(store: Store, conflict_id: int, keep: str) -> dict:
    """Settle a conflict: keep ours (the held version stays held) or take theirs (swap it in); logged."""
    if keep not in ("ours", "theirs"):
        raise InvalidInput("conflicts.bad_keep", value=keep)
    group = _group(store, conflict_id)
    conn = store.conn
    stamp = now()
    marks = ",".join("?" * len(group["members"]))
    members = tuple(group["members"])
    done = {"id": conflict_id, "kind": group["kind"], "keep": keep, "rows": group["rows"], "already": True}
    # Settled already: "ours" keeps what is in use, which is what a settled conflict shows (the
    # taken branch included), and taking again what was taken changes nothing. A no-op, not an error.
    if group["resolved_at"] is not None and (keep == "ours" or group["resolution"] == "theirs"):
        return done
    if group["kind"] == "row" and keep == "theirs":
        held = store.query("SELECT origin, table_name, row_id FROM conflict WHERE id = ?", (members[0],))[0]
        current = store.get(held["table_name"], held["row_id"])
        if current is not None and current["origin"] != held["origin"]:
            # Same id, another origin: a pack claiming a row another file created. Only the origin
            # may change a row (DESIGN.md §2), so that version is never applied (§3).
            raise InvalidInput("conflicts.theirs_other_origin", id=conflict_id)
    with store.local_write():
        if group["kind"] == "fork":
            origin, fork = group["origin"], group["fork_rev"]
            ours = conn.execute("SELECT chain FROM history WHERE origin = ? AND rev = ?", (origin, fork)).fetchone()
            ours_chain = ours[0] if ours else ""
            chosen = group["branch"] if keep == "theirs" else ours_chain
            conn.execute("INSERT INTO branch_choice (origin, fork_rev, chain, decided_at) VALUES (?, ?, ?, ?)"
                         " ON CONFLICT (origin, fork_rev) DO UPDATE SET chain = excluded.chain,"
                         " decided_at = excluded.decided_at", (origin, fork, chosen, stamp))
            if keep == "theirs":
                _take_held_branch(conn, origin, fork, ours_chain, group["branch"], members, stamp)
                # Kept as a record (its number must not change), marked as the version taken.
                conn.execute(f"UPDATE conflict SET resolved_at = ?, resolution = 'theirs' WHERE id IN ({marks})",
                             (stamp, *members))
            else:
                conn.execute(f"UPDATE conflict SET resolved_at = ?, resolution = 'ours' WHERE id IN ({marks})",
                             (stamp, *members))
        else:
            if keep == "theirs":
                held = store.query("SELECT * FROM conflict WHERE id = ?", (members[0],))[0]
                table = held["table_name"]
                current = store.get(table, held["row_id"])
                if current is not None:
                    conn.execute(
                        "INSERT INTO conflict (kind, origin, fork_rev, branch, table_name, row_id, rev, deleted,"
                        " hash, row_data, source, detected_at, resolved_at, resolution)"
                        f" SELECT 'row', r.origin, r.rev, r.hash, '{table}', r.id, r.rev, r.deleted, r.hash,"
                        f" {json_row(table, 'r')}, 'resolve', :now, :now, 'replaced' FROM main.{table} r"
                        " WHERE r.id = :id ON CONFLICT DO UPDATE SET resolved_at = excluded.resolved_at,"
                        " resolution = excluded.resolution", {"now": stamp, "id": held["row_id"]})
                conn.execute("CREATE TEMP TABLE IF NOT EXISTS chosen (id INTEGER PRIMARY KEY)")
                conn.execute("DELETE FROM temp.chosen")
                conn.execute("INSERT INTO temp.chosen VALUES (?)", (members[0],))
                conn.execute(_restore_sql(table), {"force": 1})
                conn.execute("UPDATE conflict SET resolved_at = ?, resolution = 'theirs' WHERE id = ?",
                             (stamp, members[0]))
            else:
                conn.execute("UPDATE conflict SET resolved_at = ?, resolution = 'ours' WHERE id = ?",
                             (stamp, members[0]))
        conn.execute(
            "INSERT INTO merge_log (file_name, db_id, counts, outcome, reason, merged_at, cdt_version)"
            " VALUES (?, ?, ?, 'resolved', ?, ?, ?)",
            (f"conflict #{conflict_id}", group["origin"], json.dumps({"rows": group["rows"]}),
             f"{group['kind']} keep {keep}", stamp, __version__))
    return {**done, "already": False}
