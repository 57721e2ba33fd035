"""One file per unit, and the files that replace another (``cdt merge --replaces``, ``cdt init --from``).

A pack for a unit whose data the target holds from another file is refused (and logged) unless one
file replaces the other: a ``--replaces`` decision made here, recorded with the old file's clock as
``switch_clock`` (rows the old file writes after that are held), or one the pack carries from
below. A 2025 commune made from its legacy communes' files (``cdt init --from``, regroup.py)
carries such a decision for each file it absorbed. The merge's SQL reads the decisions through
``REPLACED`` and ``TAKES_OVER``.
"""

from __future__ import annotations

import sqlite3
from typing import Callable

from cdt import __version__
from cdt.core.errors import FileRefused
from cdt.core.text import clean_text
from cdt.domain import units
from cdt.exchange.incoming import Checked
from cdt.core.schema import DATA_COLUMNS
from cdt.store import Store
from cdt.core.rows import now

# A file replaced by another for its unit (cdt merge --replaces): its rows after the switch are held.
REPLACED = ("EXISTS (SELECT 1 FROM main.replacement x WHERE x.old_db_id = {a}.origin"
            " AND {a}.rev > x.switch_clock)")
# A row of a file absorbed by a 2025 commune's file (cdt init --from, regroup.py) that the new
# file changed carries the new file's origin: that version takes the old one's place, and the old
# one never comes back over it, whatever order the packs arrive in. {old} and {new} are aliases.
TAKES_OVER = ("EXISTS (SELECT 1 FROM main.replacement x WHERE x.old_db_id = {old}.origin"
              " AND x.new_db_id = {new}.origin)")


def unit_key(row: dict) -> tuple | None:
    """(level, structure, unit code) of a site or origin row: what makes two files one unit's."""
    level = row.get("level")
    code = row.get("commune_code") if level == "commune" else row.get("district_code") if level == "district" \
        else row.get("province_code")
    return (level, row.get("structure"), str(code)) if code else None


def _log_refusal(target: Store, name: str, checked: Checked, second: dict, key: tuple, unit: str) -> None:
    """A refused second file is remembered, under that file's id and unit (a commune's, when a
    district pack carries it): the completeness table and status mark the unit until resolved."""
    with target.local_write():
        target.conn.execute(
            "INSERT INTO merge_log (file_name, sha256, db_id, level, unit_code, unit_name, packed_at, clock,"
            " schema_version, outcome, reason, merged_at, cdt_version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'refused', 'second_file', ?, ?)",
            (name, checked.sha256, second["db_id"], key[0], key[2], unit, checked.site["packed_at"],
             second.get("clock"), checked.version, now(), __version__))


def one_file_per_unit(target: Store, checked: Checked, name: str, replaces: str | None) -> dict | None:
    """Refuse a pack for a unit whose data the target holds from another file, unless one file
    replaces the other (a decision here, ``replaces``, or one the pack carries from below).

    Returns the new replacement decision to record with the merge (or None)."""
    site = checked.site
    conn = target.conn
    replaced = {row[0]: row[1] for row in conn.execute("SELECT old_db_id, new_db_id FROM replacement")}
    staged = sqlite3.connect(checked.path.as_uri() + "?mode=ro", uri=True)
    try:
        has_table = staged.execute("SELECT 1 FROM sqlite_schema WHERE name = 'replacement'").fetchone()
        carried = staged.execute("SELECT old_db_id, new_db_id FROM replacement").fetchall() if has_table else []
    finally:
        staged.close()
    replaced.update({old: new for old, new in carried if old not in replaced})
    decision = None
    if replaces is not None:
        wanted = str(replaces).strip().lower()
        found = [dict(row) for row in conn.execute("SELECT * FROM origin WHERE db_id LIKE ? ESCAPE '\\'",
                                                    (wanted.replace("%", "").replace("_", "\\_") + "%",))]
        old = found[0] if len(found) == 1 and len(wanted) >= 8 else None
        if old is None or old["db_id"] == site["db_id"] or unit_key(old) != unit_key(site):
            raise FileRefused("merge.replaces_unknown", db_id=clean_text(replaces, 40),
                              unit=clean_text(site.get(f"{site['level']}_name")) or "?")
        if site["db_id"] in replaced or old["db_id"] in replaced:
            # Switching back, or replacing a file already replaced, would leave the unit with no
            # current file (a cycle) or two: one decision per old file, made once.
            raise FileRefused("merge.replaces_again", db_id=old["db_id"][:8],
                              unit=clean_text(site.get(f"{site['level']}_name")) or "?")
        decision = {"old_db_id": old["db_id"], "new_db_id": site["db_id"], "level": site["level"],
                    "unit_code": unit_key(site)[2], "switch_clock": old["clock"], "decided_at": now()}
        replaced.setdefault(old["db_id"], site["db_id"])
    if site["level"] == "commune":
        # A 2025 commune's pack says which old files it absorbed: never one another unit took already.
        for origin in checked.origins:
            taken = conn.execute("SELECT r.new_db_id, o.unit_name, o.commune_code FROM replacement r"
                                 " LEFT JOIN origin o ON o.db_id = r.new_db_id WHERE r.old_db_id = ?",
                                 (origin["db_id"],)).fetchone()
            superseded = taken is not None and (
                (decision is not None and decision["old_db_id"] == taken[0])
                or conn.execute("SELECT 1 FROM replacement WHERE old_db_id = ? AND new_db_id = ?",
                                (taken[0], site["db_id"])).fetchone() is not None)
            if origin["db_id"] != site["db_id"] and taken is not None and taken[0] != site["db_id"] \
                    and not superseded:
                raise FileRefused("merge.absorbed_by_other", name=clean_text(origin.get("unit_name")) or "?",
                                  code=clean_text(origin.get("commune_code")) or "?",
                                  unit=clean_text(site.get("commune_name")) or "?",
                                  other=clean_text(taken[1]) or str(taken[0])[:8], other_code=clean_text(taken[2]) or "?")
    files = [site] + [o for o in checked.origins if o["db_id"] != site["db_id"]]
    for incoming in files:
        key = unit_key(incoming)
        if key is None or incoming["db_id"] in replaced:
            continue
        for other in conn.execute("SELECT * FROM origin WHERE level = ? AND structure = ? AND db_id <> ?",
                                  (key[0], key[1], incoming["db_id"])):
            other = dict(other)
            if unit_key(other) != key or other["db_id"] in replaced:
                continue
            unit = clean_text(incoming.get("unit_name") or incoming.get(f"{key[0]}_name")) or "?"
            _log_refusal(target, name, checked, incoming, key, unit)
            raise FileRefused("merge.second_file", unit=unit, code=key[2], ours=other["db_id"][:8],
                              theirs=str(incoming["db_id"])[:8])
    return decision


# Two decisions about one old file settle on the decision of the file that replaced the other's
# (a 2025 commune's file made again from the same old files, cdt merge --replaces), else on the
# earliest switch (then the lowest new id).
_KEEP_EARLIEST = (
    " ON CONFLICT (old_db_id) DO UPDATE SET new_db_id = excluded.new_db_id, level = excluded.level,"
    " unit_code = excluded.unit_code, switch_clock = excluded.switch_clock, decided_at = excluded.decided_at"
    " WHERE EXISTS (SELECT 1 FROM main.replacement y WHERE y.old_db_id = replacement.new_db_id"
    "  AND y.new_db_id = excluded.new_db_id)"
    " OR (NOT EXISTS (SELECT 1 FROM main.replacement y WHERE y.old_db_id = excluded.new_db_id"
    "  AND y.new_db_id = replacement.new_db_id)"
    "  AND (excluded.switch_clock < replacement.switch_clock OR (excluded.switch_clock = replacement.switch_clock"
    "  AND excluded.new_db_id < replacement.new_db_id)))")


def record_replacements(run: Callable, checked: Checked, name: str, params: dict) -> None:
    """Inside the merge transaction, before rows move: this pack's decision (logged) and the ones it
    carries from below. Two decisions about one old file (rare: two districts' clerks) settle on the
    earliest switch, whatever their order of arrival. Rows of a replaced file already here from
    after its switch leave the tables, so the result does not depend on which came first."""
    decision = checked.replacement
    if decision is not None:
        run("INSERT INTO main.replacement (old_db_id, new_db_id, level, unit_code, switch_clock, decided_at)"
            " VALUES (:old_db_id, :new_db_id, :level, :unit_code, :switch_clock, :decided_at)" + _KEEP_EARLIEST,
            decision)
        run("INSERT INTO main.merge_log (file_name, sha256, db_id, level, unit_code, packed_at, clock, outcome,"
            " reason, merged_at, cdt_version) VALUES (?, ?, ?, ?, ?, ?, ?, 'replaces', ?, ?, ?)",
            (name, checked.sha256, decision["new_db_id"], decision["level"], decision["unit_code"],
             checked.site["packed_at"], checked.site["clock"],
             f"{decision['old_db_id']} switch_clock={decision['switch_clock']}", params["now"], __version__))
    carried = run("INSERT INTO main.replacement (old_db_id, new_db_id, level, unit_code, switch_clock, decided_at)"
                  " SELECT old_db_id, new_db_id, level, unit_code, switch_clock, decided_at FROM inc.replacement"
                  " WHERE true" + _KEEP_EARLIEST).rowcount
    if decision is None and not carried:
        return
    for table in DATA_COLUMNS:
        run(f"DELETE FROM main.{table} WHERE {REPLACED.format(a=table)}")
    run(f"DELETE FROM main.history WHERE {REPLACED.format(a='history')}")


def absorbed_origins(store: Store) -> dict[str, str]:
    """old file db_id → the 2025 file that absorbed it (``init --from``), as this file knows them.

    A replacement decision between files of two structures can only come from ``init --from`` (a
    ``--replaces`` decision is about one unit, so one structure): such an old file's rows are the
    new commune's register and activity, reported under the new commune."""
    site = store.site
    found = {}
    for row in store.query(
            "SELECT r.old_db_id, r.new_db_id, o.structure AS old_structure, n.structure AS new_structure"
            " FROM replacement r LEFT JOIN origin o ON o.db_id = r.old_db_id"
            " LEFT JOIN origin n ON n.db_id = r.new_db_id"):
        new_structure = site.structure if row["new_db_id"] == site.db_id else row["new_structure"]
        if row["old_structure"] == units.LEGACY and new_structure == units.NEW:
            found[row["old_db_id"]] = row["new_db_id"]
    return found
