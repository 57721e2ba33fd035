"""Settings and keys are writes like any other: in cdt history, reversed by cdt undo, refused by a
retired file."""

from __future__ import annotations

import hashlib
import json

from cdt.core.i18n import t
from kits.cli import ok, rows


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _setting(db, key: str) -> str | None:
    found = rows(db, "SELECT value FROM setting WHERE key = ?", (key,))
    return found[0][0] if found else None


def test_a_setting_is_in_the_history_and_undo_reverses_it_alone(cdt, commune):
    ok(cdt("hamlet", "add", "Xóm Một", "--kind", "xóm"))
    ok(cdt("settings", "set", "team_max_members", "7"))
    history = json.loads(ok(cdt("history", "--format", "json")).stdout)
    assert history[0]["description"] == t("history.setting", setting="team_max_members", value="7")
    assert _setting(commune, "team_max_members") == "7"
    ok(cdt("undo", "--yes"))
    assert _setting(commune, "team_max_members") is None  # back to the default
    hamlets = json.loads(ok(cdt("hamlet", "list", "--format", "json")).stdout)
    assert [h["name"] for h in hamlets] == ["Xóm Một"]  # the write before it stays


def test_trusting_a_key_is_in_the_history_and_undo_takes_it_back(cdt, commune, tmp_path):
    district = tmp_path / "district.db"
    ok(cdt("--db", district, "init", "--district", "171"))
    ok(cdt("--db", district, "key", "export", "--out", tmp_path / "k.txt"))
    ok(cdt("key", "trust", tmp_path / "k.txt", "--yes"))
    history = json.loads(ok(cdt("history", "--format", "json")).stdout)
    assert history[0]["description"] == t("history.key_trust", name="Huyện Đại Từ", code="171")
    ok(cdt("undo", "--yes"))
    shown = json.loads(ok(cdt("key", "show", "--format", "json")).stdout)
    assert shown["upstream"] is None


def test_a_retired_file_refuses_settings_and_keys(cdt, tmp_path):
    old = tmp_path / "hp.db"
    ok(cdt("--db", old, "init", "--commune", "24172", "--structure", "legacy"))
    ok(cdt("--db", tmp_path / "new.db", "init", "--commune", "24175", "--from", old))
    district = tmp_path / "dd.db"
    ok(cdt("--db", district, "init", "--district", "643", "--structure", "legacy"))
    ok(cdt("--db", district, "key", "export", "--out", tmp_path / "kd.txt"))
    before = _sha(old)
    for args in (("settings", "set", "team_max_members", "9"), ("key", "trust", tmp_path / "kd.txt", "--yes")):
        result = cdt("--db", old, *args)
        assert result.exit_code == 1, args
        assert result.stderr.startswith("Lỗi: ") and "24175" in result.stderr, result.stderr
    assert _sha(old) == before
