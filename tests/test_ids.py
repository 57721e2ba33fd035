"""Row ids are time-ordered (schema 7 on: a month's rows sit together in every id index, so a
district's merge of a month's packs does not touch pages all over its file); their short
references stay 32 random bits: the last 8 hex digits of a time-ordered id, the first 8 of a
random one (every row made before). Lists show them, and commands find rows by them."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid

from cdt.store import Store
from cdt.core.rows import new_file_id, new_id, ref_of


def test_new_ids_are_time_ordered_uuid7_with_random_tails():
    first = [new_id() for _ in range(200)]
    time.sleep(0.002)
    later = new_id()
    parsed = [uuid.UUID(i) for i in first]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert all(len(i) == 36 and i == i.lower() for i in first)
    assert later > max(first)  # a later millisecond sorts after
    assert len({ref_of(i) for i in first}) == 200  # one millisecond, 200 different references
    assert uuid.UUID(new_file_id()).version == 4  # a file's id stays random (shown by its first 8)


def test_reference_is_the_random_part_of_either_kind_of_id():
    old = str(uuid.uuid4())
    assert ref_of(old) == old[:8]
    young = new_id()
    assert ref_of(young) == young[-8:] and young[:8] != ref_of(young)


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_rows_made_in_one_minute_get_their_own_references(cdt, commune):
    for name in ("Thôn Một", "Thôn Hai", "Thôn Ba"):
        assert cdt("hamlet", "add", name, "--kind", "thôn").exit_code == 0
    hamlets = _json(cdt("hamlet", "list", "--format", "json"))
    refs = {h["name"]: h["ref"] for h in hamlets}
    assert len(set(refs.values())) == 3
    for h in hamlets:
        assert h["ref"] == h["id"][-8:]
    # The clock digits a time-ordered id starts with name no row; the whole id does.
    clock = hamlets[0]["id"][:8]
    assert cdt("hamlet", "edit", clock, "--name", "X").exit_code == 1
    whole = cdt("hamlet", "edit", hamlets[0]["id"], "--kind", "xóm")
    assert whole.exit_code == 0, whole.output
    edited = cdt("hamlet", "edit", refs["Thôn Hai"], "--name", "Thôn Hai Mới")
    assert edited.exit_code == 0, edited.output
    assert {h["name"] for h in _json(cdt("hamlet", "list", "--format", "json"))} == {"Thôn Một", "Thôn Hai Mới", "Thôn Ba"}


def test_rows_of_older_files_keep_their_references(cdt, commune):
    """A row made before time-ordered ids (a random id) is still found by its first 8 digits."""
    assert cdt("hamlet", "add", "Thôn Cũ", "--kind", "thôn").exit_code == 0
    old_id = str(uuid.uuid4())
    with sqlite3.connect(commune) as conn:  # as an older cdt wrote it (the hash is not read here)
        conn.execute("UPDATE hamlet SET id = ?", (old_id,))
    listed = _json(cdt("hamlet", "list", "--format", "json"))
    assert listed[0]["ref"] == old_id[:8]
    assert cdt("hamlet", "edit", old_id[:8], "--name", "Thôn Cũ Hơn").exit_code == 0
    with Store.open(commune) as store:
        assert store.ids_starting("hamlet", old_id[:8])[0]["name"] == "Thôn Cũ Hơn"
        assert store.ids_starting("hamlet", old_id[-8:]) == []  # the tail of a random id is no reference


def test_a_reference_without_digits_finds_its_member(cdt, tmp_path, monkeypatch):
    """About 2% of ids have no digit in their first 8 hex: such a reference must still be a reference."""
    import uuid

    from cdt import store

    db = str(tmp_path / "x.db")
    assert cdt("--db", db, "init", "--commune", "24175", "--structure", "2025").exit_code == 0
    assert cdt("--db", db, "hamlet", "add", "Thôn 1", "--kind", "thôn").exit_code == 0
    assert cdt("--db", db, "team", "add", "--hamlet", "Thôn 1").exit_code == 0
    made = iter(["ceaadadd-0000-4000-8000-000000000001"])
    monkeypatch.setattr(store, "new_id", lambda: next(made, None) or str(uuid.uuid4()))
    assert cdt("--db", db, "member", "add", "Lê Thị Bình", "--team", "Thôn 1").exit_code == 0
    monkeypatch.undo()
    assert cdt("--db", db, "training", "add", "VNeID", "--date", "01/03/2026").exit_code == 0
    result = cdt("--db", db, "training", "attend", "VNeID", "--member", "ceaadadd")
    assert result.exit_code == 0, result.output
