"""Corrections through the CLI: every record can be corrected or removed, removals
that would orphan other records are refused or cascade after a listed confirmation, "which one?"
lists tell look-alikes apart, and free text refuses phone and ID numbers."""

from __future__ import annotations

import json

import pytest

from cdt.core.i18n import t
from cdt.domain.parsers import personal_number
from cdt.core.rows import ref_of
from kits.cli import ok, rows
from kits.templates import TEMPLATES


def fails(result, key, **params):
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == f"Lỗi: {t(key, **params)}" or t(key, **params) in result.stderr, result.stderr
    return result


@pytest.fixture
def village(cdt, commune):
    """One of each record: a hamlet with its team, two members, a training attended, a visit, a service."""
    def build(_path):
        for args in (
            ("hamlet", "add", "Xóm Đồng Tiến", "--kind", "xóm", "--households", "120"),
            ("hamlet", "add", "Xom Dong Tien", "--kind", "xóm"),  # the same hamlet typed again
            ("team", "add", "--hamlet", "Xóm Đồng Tiến", "--decided-on", "01/06/2022"),
            ("member", "add", "Lê Thị Bình", "--team", "Xóm Đồng Tiến", "--role", "tổ trưởng", "--birth-year", "1990",
             "--phone", "0912345678", "--joined-on", "01/06/2022"),
            ("member", "add", "Lê Thị Bình", "--team", "Xóm Đồng Tiến", "--birth-year", "1985"),
            ("training", "add", "VNeID mức 2", "--date", "01/03/2026", "--organiser", "Huyện Đại Từ"),
            ("service", "add", "ctn", "--name", "C-Thái Nguyên"),
        ):
            ok(cdt(*args))
        members = json.loads(ok(cdt("member", "list", "--format", "json")).stdout)
        ok(cdt("training", "attend", "VNeID", "--member", members[0]["ref"], "--member", members[1]["ref"]))
        ok(cdt("visit", "log", "--team", "Xóm Đồng Tiến", "--household", "DT-014", "--people", "3",
               "--service", "vneid", "--service", "ctn", "--date", "05/10/2026", "--member", members[0]["ref"],
               "--notes", "hướng dẫn cài đặt"))

    return TEMPLATES.copy("corrections-village", commune, build)


def hamlet_ref(cdt, name):
    return next(h["ref"] for h in json.loads(cdt("hamlet", "list", "--format", "json").stdout) if h["name"] == name)


def test_hamlet_typed_twice_is_removed_and_which_one_shows_refs(cdt, village):
    both = cdt("hamlet", "remove", "Xom Dong Tien", "--yes")
    assert both.exit_code == 1
    first, second = hamlet_ref(cdt, "Xóm Đồng Tiến"), hamlet_ref(cdt, "Xom Dong Tien")
    # The list tells them apart: reference codes (and households where known).
    assert f"[{first}]" in both.stderr and f"[{second}]" in both.stderr and "120 hộ" in both.stderr
    done = ok(cdt("hamlet", "remove", second, "--yes"))
    assert done.stdout.strip() == t("remove.done", what=f"Xom Dong Tien (xóm) [{second}]")
    deleted = rows(village, "SELECT deleted, name FROM hamlet WHERE id LIKE ?", ("%" + second,))
    assert deleted == [(1, "Xom Dong Tien")]
    assert [h["name"] for h in json.loads(cdt("hamlet", "list", "--format", "json").stdout)] == ["Xóm Đồng Tiến"]


def test_removing_a_used_hamlet_is_refused_with_what_uses_it(cdt, village):
    ref = hamlet_ref(cdt, "Xóm Đồng Tiến")
    before = rows(village, "SELECT count(*) FROM hamlet WHERE deleted = 0")
    result = cdt("hamlet", "remove", "Xóm Đồng Tiến", "--yes")
    fails(result, "remove.in_use", what=f"Xóm Đồng Tiến (xóm) · 120 hộ [{ref}]",
          uses="1 tổ, 2 thành viên, 2 lượt dự tập huấn, 1 lượt hỗ trợ")
    assert rows(village, "SELECT count(*) FROM hamlet WHERE deleted = 0") == before


def test_cascade_after_a_listed_confirmation(cdt, village, monkeypatch):
    monkeypatch.setattr("cdt.commands.common.interactive", lambda: True)
    kept = ok(cdt("hamlet", "remove", "Xóm Đồng Tiến", input="k\n"))
    assert "đang được dùng bởi 1 tổ, 2 thành viên, 2 lượt dự tập huấn, 1 lượt hỗ trợ:" in kept.stdout
    assert "  - lượt hỗ trợ hộ DT-014 · 05/10/2026 · Xóm Đồng Tiến · 3 người [" in kept.stdout
    assert rows(village, "SELECT count(*) FROM visit WHERE deleted = 0") == [(1,)]
    done = ok(cdt("hamlet", "remove", "Xóm Đồng Tiến", input="c\n"))
    assert "cùng 1 tổ, 2 thành viên, 2 lượt dự tập huấn, 1 lượt hỗ trợ" in done.stdout
    for table in ("team", "member", "training_attendance", "visit"):
        assert rows(village, f"SELECT count(*) FROM {table} WHERE deleted = 0") == [(0,)], table
    # Personal fields and notes are cleared on the tombstones (the erasure travels upward).
    assert rows(village, "SELECT DISTINCT full_name, phone, birth_year FROM member") == [("", None, None)]
    assert rows(village, "SELECT notes FROM visit") == [(None,)]
    # One write transaction: one tick of the clock for the whole cascade.
    (clock,) = rows(village, "SELECT clock FROM site")[0]
    revs = rows(village, "SELECT max(rev) FROM hamlet UNION SELECT rev FROM team UNION SELECT rev FROM member"
                         " UNION SELECT rev FROM visit UNION SELECT rev FROM training_attendance")
    assert revs == [(clock,)]


def test_script_cascade_needs_the_explicit_word(cdt, village):
    ok(cdt("team", "remove", "Xóm Đồng Tiến", "--yes", "--cascade"))
    assert rows(village, "SELECT count(*) FROM team WHERE deleted = 0") == [(0,)]
    assert rows(village, "SELECT count(*) FROM member WHERE deleted = 0") == [(0,)]
    # The hamlet is free now, and a new team may be founded.
    ok(cdt("team", "add", "--hamlet", "Xóm Đồng Tiến"))


def test_remove_without_yes_in_a_script(cdt, village):
    fails(cdt("hamlet", "remove", hamlet_ref(cdt, "Xom Dong Tien")), "remove.needs_yes",
          what=f"Xom Dong Tien (xóm) [{hamlet_ref(cdt, 'Xom Dong Tien')}]")


def test_training_edit_unattend_and_remove(cdt, village):
    ok(cdt("training", "edit", "VNeID", "--title", "Định danh VNeID", "--date", "02/03/2026", "--mode", "online"))
    assert rows(village, "SELECT topic, date, organiser, mode FROM training") == [
        ("Định danh VNeID", "2026-03-02", "Huyện Đại Từ", "online")]
    members = json.loads(cdt("member", "list", "--format", "json").stdout)
    result = ok(cdt("training", "unattend", "Định danh", "--member", members[1]["ref"]))
    assert result.stdout.strip() == t("training.unattended", count=1, topic="Định danh VNeID")
    again = cdt("training", "unattend", "Định danh", "--member", members[1]["ref"])
    fails(again, "training.not_attended", name="Lê Thị Bình", topic="Định danh VNeID")
    fails(cdt("training", "remove", "Định danh", "--yes"), "remove.in_use",
          what=_label_training(village), uses="1 lượt dự tập huấn")
    ok(cdt("training", "remove", "Định danh", "--yes", "--cascade"))
    assert rows(village, "SELECT count(*) FROM training_attendance WHERE deleted = 0") == [(0,)]
    listed = json.loads(cdt("training", "list", "--format", "json").stdout)
    assert listed == []


def _label_training(db):
    (row_id,) = rows(db, "SELECT id FROM training")[0]
    return f"Định danh VNeID · 02/03/2026 · Huyện Đại Từ [{ref_of(row_id)}]"


def test_member_removal_keeps_visits_without_the_name(cdt, village):
    members = json.loads(cdt("member", "list", "--format", "json").stdout)
    leader = next(m for m in members if m["role"] == "leader")
    fails(cdt("member", "remove", leader["ref"], "--yes"), "remove.in_use",
          what=f"Lê Thị Bình · Xóm Đồng Tiến · sinh 1990 · ĐT …678 · vào tổ 01/06/2022 [{leader['ref']}]",
          uses="1 lượt dự tập huấn, 1 lượt hỗ trợ được giữ nhưng bỏ tên này")
    ok(cdt("member", "remove", leader["ref"], "--yes", "--cascade"))
    assert rows(village, "SELECT members, people, deleted FROM visit") == [("[]", 3, 0)]
    assert rows(village, "SELECT count(*) FROM training_attendance WHERE deleted = 0") == [(1,)]


def test_service_edit_and_remove(cdt, village):
    ok(cdt("service", "edit", "ctn", "--name", "C-Thái Nguyên mới", "--alias", "CTN"))
    assert rows(village, "SELECT name, aliases FROM service") == [("C-Thái Nguyên mới", '["CTN"]')]
    fails(cdt("service", "remove", "dvc", "--yes"), "service.national_locked", code="dvc")
    result = cdt("service", "remove", "CTN", "--yes")
    assert result.exit_code == 1 and "1 lượt hỗ trợ bỏ dịch vụ này" in result.stderr
    ok(cdt("service", "remove", "CTN", "--yes", "--cascade"))
    assert rows(village, "SELECT services, deleted FROM visit") == [('["vneid"]', 0)]
    assert rows(village, "SELECT deleted FROM service") == [(1,)]


def test_visit_removal_clears_notes(cdt, village):
    (row_id,) = rows(village, "SELECT id FROM visit")[0]
    ok(cdt("visit", "remove", ref_of(row_id)))
    assert rows(village, "SELECT deleted, notes, household FROM visit") == [(1, None, "DT-014")]


def test_which_one_lists_tell_members_apart_and_accept_the_ref(cdt, village, monkeypatch):
    members = json.loads(cdt("member", "list", "--format", "json").stdout)
    refs = {m["birth_year"]: m["ref"] for m in members}
    listed = cdt("member", "edit", "Le Thi Binh", "--affiliation", "Hội Phụ nữ")
    assert listed.exit_code == 1
    assert f"Lê Thị Bình · Xóm Đồng Tiến · sinh 1990 · ĐT …678 · vào tổ 01/06/2022 [{refs[1990]}]" in listed.stderr
    assert f"Lê Thị Bình · Xóm Đồng Tiến · sinh 1985 [{refs[1985]}]" in listed.stderr
    monkeypatch.setattr("cdt.commands.common.interactive", lambda: True)
    ok(cdt("member", "edit", "Le Thi Binh", "--affiliation", "Hội Phụ nữ", input=f"{refs[1985]}\n"))
    assert rows(village, "SELECT birth_year FROM member WHERE affiliation = 'Hội Phụ nữ'") == [(1985,)]


def test_which_one_for_trainings_and_visits(cdt, village):
    ok(cdt("training", "add", "VNeID mức 2", "--date", "05/03/2026", "--organiser", "VNPT"))
    listed = cdt("training", "remove", "VNeID", "--yes")
    assert "VNeID mức 2 · 01/03/2026 · Huyện Đại Từ [" in listed.stderr
    assert "VNeID mức 2 · 05/03/2026 · VNPT [" in listed.stderr


@pytest.mark.parametrize("notes, key", [
    ("gọi 0912 345 678", "input.notes_has_phone"),
    ("SĐT: 0912.345.678", "input.notes_has_phone"),
    ("+84-912-345-678", "input.notes_has_phone"),
    ("CCCD 001234567890", "input.notes_has_id"),
    ("cmnd: 123 456 789", "input.notes_has_id"),
    ("số 001.234.567.890", "input.notes_has_id"),
    ("số 001-234-567-890", "input.notes_has_id"),
    ("gọi ０９１２３４５６７８", "input.notes_has_phone"),
    ("gọi ٠٩١٢٣٤٥٦٧٨", "input.notes_has_phone"),
    ("gọi 0912,345,678", "input.notes_has_phone"),
    ("gọi 0912_345_678", "input.notes_has_phone"),
    ("gọi 0912–345–678", "input.notes_has_phone"),
    ("gọi 0912‒345‒678", "input.notes_has_phone"),
    ("gọi 0912·345·678", "input.notes_has_phone"),
    ("gọi 0912'345'678", "input.notes_has_phone"),
    ("gọi 0912`345`678", "input.notes_has_phone"),
    ("số 001,203,004,567", "input.notes_has_id"),
    ("3 người, 0912 345 678", "input.notes_has_phone"),
])
def test_notes_refuse_personal_numbers(cdt, village, notes, key):
    before = rows(village, "SELECT count(*) FROM visit")
    result = cdt("visit", "log", "--team", "Xóm Đồng Tiến", "--household", "DT-015", "--people", "1",
                 "--service", "dvc", "--notes", notes)
    assert result.exit_code == 1 and t(key) in result.stderr, result.stderr
    assert rows(village, "SELECT count(*) FROM visit") == before


@pytest.mark.parametrize("household, key", [
    ("0912.345.678", "input.household_has_phone"),
    ("HS-0912-345-678", "input.household_has_phone"),
    ("001.234.567.890", "input.household_looks_like_id"),
    ("123-456-789", "input.household_looks_like_id"),
    ("CCCD001234567890", "input.household_looks_like_id"),
])
def test_household_refuses_phone_and_id(cdt, village, household, key):
    result = cdt("visit", "log", "--team", "Xóm Đồng Tiến", "--household", household, "--people", "1",
                 "--service", "dvc")
    assert result.exit_code == 1
    assert t(key, value=household) in result.stderr, result.stderr


def test_ordinary_notes_and_codes_still_pass(cdt, village):
    ok(cdt("visit", "log", "--team", "Xóm Đồng Tiến", "--household", "DT-0015", "--people", "2",
           "--service", "dvc", "--notes", "ngày 12.03.2026 hướng dẫn 2 người, 3 ứng dụng"))


def test_numbers_written_with_slashes_or_brackets_are_personal():
    assert personal_number("0912/345/678") == "phone"
    assert personal_number("dt:(0912)345678") == "phone"
    assert personal_number("ngày 05/10/2026, 3 người") is None
    assert personal_number("DT-014") is None
    assert personal_number("ngày 12.03.2026 hướng dẫn 2 người, 3 ứng dụng") is None
