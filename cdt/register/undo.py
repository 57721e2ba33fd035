"""History and undo: this file's own writes, listed and reversed.

Undo is a new write (DESIGN.md §2): the rows a write changed get their previous values back in a
new transaction with a new rev, so the correction travels upward like any other and history is
never rewritten. The previous values come from the local undo journal that ``Transaction`` keeps
(store.py, migration 5); it never travels in a pack. Undoing an undo redoes the write.
"""

from __future__ import annotations

import json
from typing import Any

from cdt.core.errors import InvalidInput
from cdt.core.i18n import t
from cdt.register.lookup import describe_uses
from cdt.core.schema import DATA_COLUMNS, JOURNAL_VERSION
from cdt.store import LOCAL_KEYS, Store
from cdt.core.rows import ref_of


def _has_journal(store: Store) -> bool:
    return store.conn.execute("PRAGMA user_version").fetchone()[0] >= JOURNAL_VERSION


def _entries(store: Store, rev: int) -> list[dict]:
    return store.query("SELECT * FROM undo_journal WHERE rev = ? ORDER BY seq", (rev,))


def _after(store: Store, table: str, row_id: str, rev: int) -> dict | None:
    """The row as write rev left it: the next write's 'previous', else the row as it is now."""
    later = store.conn.execute(
        "SELECT previous FROM undo_journal WHERE table_name = ? AND row_id = ? AND rev > ? ORDER BY rev LIMIT 1",
        (table, row_id, rev),
    ).fetchone()
    if later is not None:
        return json.loads(later[0]) if later[0] else None
    return store.get(table, row_id)


def _action(previous: dict | None, after: dict | None) -> str:
    if previous is None:
        return "add"
    if after is None:
        return "edit"
    if after["deleted"] and not previous["deleted"]:
        return "remove"
    if previous["deleted"] and not after["deleted"]:
        return "restore"
    return "edit"


def row_name(store: Store, table: str, row: dict) -> dict[str, Any]:
    """What a description shows of a row (no personal field of a removed member: its reference)."""
    ref = ref_of(row["id"])
    if table == "hamlet":
        return {"name": row.get("name") or ref}
    if table == "team":
        hamlet = store.get("hamlet", row.get("hamlet_id") or "")
        return {"name": hamlet["name"] if hamlet else ref}
    if table == "member":
        current = store.get("member", row["id"])
        live = current is not None and not current["deleted"]
        return {"name": (current["full_name"] if live else "") or ref}
    if table == "training":
        return {"name": row.get("topic") or ref}
    if table == "training_attendance":
        training = store.get("training", row.get("training_id") or "")
        return {"name": training["topic"] if training else ref}
    if table == "visit":
        return {"name": row.get("household") or ref, "people": row.get("people") or 0}
    if table == "service":
        return {"name": row.get("code") or ref}
    if table == "target":
        return {"name": f"{row.get('indicator')} {row.get('year')}"}
    return {"name": ref}


def describe(store: Store, rev: int, stored: str | None = None) -> str:
    """One line saying what write rev did, in the user's language."""
    if stored:
        key, params = json.loads(stored)
        uses = params.pop("uses", None)
        if uses:
            return t(key, **params) + t("history.with", uses=describe_uses(uses))
        return t(key, **params)
    entries = _entries(store, rev)
    if not entries:
        return t("history.empty_write")
    first = entries[0]
    table = first["table_name"]
    previous = json.loads(first["previous"]) if first["previous"] else None
    after = _after(store, table, first["row_id"], rev)
    action = _action(previous, after)
    shown = (previous if action == "remove" else after) or previous or {"id": first["row_id"]}
    same = sum(1 for e in entries if e["table_name"] == table)
    text = t(f"history.{action}.{table}", count=same, **row_name(store, table, shown))
    others = len(entries) - same
    return text + (t("history.more", count=others) if others else "")


def history(store: Store, limit: int = 20) -> list[dict]:
    """This file's last write transactions, newest first: rev, local time, description, rows."""
    if not _has_journal(store):
        return []
    rows = store.query("SELECT rev, at, description FROM write_log ORDER BY rev DESC LIMIT ?", (max(1, limit),))
    counts = dict(store.conn.execute(
        "SELECT rev, count(*) FROM undo_journal WHERE rev >= ? GROUP BY rev", (rows[-1]["rev"] if rows else 0,)
    ).fetchall())
    return [{"rev": r["rev"], "at": r["at"], "description": describe(store, r["rev"], r["description"]),
             "rows": counts.get(r["rev"], 0)} for r in rows]


def _undo_local(store: Store, tx, table: str, row_id: str, entry: dict) -> int:
    """Give a setting or key row back its value from before (or remove it if it was new); 1 if changed."""
    keys = LOCAL_KEYS[table]
    key_values = json.loads(row_id)
    current = store.conn.execute(f"SELECT * FROM {table} WHERE {' AND '.join(k + ' = ?' for k in keys)}",
                                 key_values).fetchone()
    previous = json.loads(entry["previous"]) if entry["previous"] else None
    if previous is None:
        if current is None:
            return 0
        tx.delete_local(table, key_values)
        return 1
    if current is not None and dict(current) == previous:
        return 0
    tx.put_local(table, previous)
    return 1


def _revs_to_undo(store: Store, to: int | None) -> list[int]:
    clock = store.site.clock
    logged = [r[0] for r in store.conn.execute("SELECT rev FROM write_log ORDER BY rev")]
    if not logged:
        raise InvalidInput("undo.nothing")
    if to is None:
        if logged[-1] != clock:
            raise InvalidInput("undo.no_journal", rev=clock)
        return [clock]
    if to < 0 or to >= clock:
        raise InvalidInput("undo.bad_to", rev=to, clock=clock)
    wanted = list(range(to + 1, clock + 1))
    missing = sorted(set(wanted) - set(logged))
    if missing:
        raise InvalidInput("undo.no_journal", rev=missing[-1])
    return wanted


def plan_undo(store: Store, to: int | None = None) -> dict:
    """What an undo would reverse: the revs and their descriptions (nothing is written)."""
    if not _has_journal(store):
        raise InvalidInput("undo.nothing")
    revs = _revs_to_undo(store, to)
    logged = {r["rev"]: r["description"] for r in store.query("SELECT rev, description FROM write_log")}
    return {"revs": revs, "lines": [(rev, describe(store, rev, logged.get(rev))) for rev in reversed(revs)]}


def undo(store: Store, to: int | None = None) -> dict:
    """Reverse the last write (or every write after rev ``to``) as one new write; returns what it did.

    Each row the reversed writes touched gets back its values from before the first of them: a
    row they created becomes a tombstone, a row they removed or changed gets its values again.
    Only this file's own rows are in the journal; a removal whose personal fields a pack has
    since erased cannot be brought back (they are gone on purpose)."""
    with store.write() as tx:
        plan = plan_undo(store, to)
        revs = plan["revs"]
        marks = ",".join("?" * len(revs))
        first: dict[tuple[str, str], dict] = {}
        for entry in store.query(f"SELECT * FROM undo_journal WHERE rev IN ({marks}) ORDER BY rev, seq",
                                 tuple(revs)):
            first.setdefault((entry["table_name"], entry["row_id"]), entry)
        changed = 0
        for (table, row_id), entry in first.items():
            if table in LOCAL_KEYS:
                changed += _undo_local(store, tx, table, row_id, entry)
                continue
            current = store.get(table, row_id)
            if current is None or not store.may_change(current["origin"]):
                continue
            previous = json.loads(entry["previous"]) if entry["previous"] else None
            if previous is None:
                if not current["deleted"]:
                    tx.delete(table, row_id)
                    changed += 1
                continue
            if entry["erased"] and not previous["deleted"]:
                raise InvalidInput("undo.erased", rev=entry["rev"])
            columns = DATA_COLUMNS[table]
            if all(current[c] == previous[c] for c in columns) and bool(current["deleted"]) == bool(previous["deleted"]):
                continue
            tx.restore(table, row_id, previous, previous["deleted"])
            changed += 1
        span = str(revs[0]) if len(revs) == 1 else f"{revs[0]}–{revs[-1]}"
        tx.describe("history.undo", revs=span)
        new_rev = tx.rev
    if not changed:
        raise InvalidInput("undo.no_change")
    return {"revs": revs, "rev": new_rev, "rows": changed, "lines": plan["lines"]}
