"""Defects found by the round's hostile reviews, each pinned by the rule that now holds."""

from __future__ import annotations

import json

from openpyxl import Workbook

from cdt.domain.parsers import personal_number
from cdt.core.text import fold, match_names


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def test_one_name_whichever_apostrophe_was_typed(cdt, tmp_path):
    ok(cdt("init", "--commune", "24169", "--structure", "legacy"))
    ok(cdt("hamlet", "add", "Buôn Ko Siêr", "--kind", "buon"))
    ok(cdt("team", "add", "--hamlet", "buon ko sier"))
    ok(cdt("member", "add", "Y B'him Niê", "--team", "buon ko sier"))
    again = cdt("member", "add", "Y B\u2019him Niê", "--team", "buon ko sier")
    assert again.exit_code == 1 and "--allow-duplicate" in again.stderr
    ok(cdt("member", "add", "Y Bhim Niê", "--team", "buon ko sier"))  # no apostrophe: another name
    names = [m["full_name"] for m in json.loads(ok(cdt("member", "list", "--format", "json")).stdout)]
    assert sorted(names) == ["Y B'him Niê", "Y Bhim Niê"]


def test_numbers_written_with_slashes_or_brackets_are_personal():
    assert personal_number("0912/345/678") == "phone"
    assert personal_number("dt:(0912)345678") == "phone"
    assert personal_number("ngày 05/10/2026, 3 người") is None
    assert personal_number("DT-014") is None


def test_b_with_stroke_folds_for_search():
    assert fold("Y Bŭt Ƀuôn Ya") == "y but buon ya"
    assert match_names("y but buon ya", [{"n": "Y Bŭt Ƀuôn Ya"}], lambda r: r["n"])


def test_a_member_list_naming_no_hamlet_is_refused_even_with_one_team(cdt, tmp_path):
    ok(cdt("init", "--commune", "05761", "--structure", "legacy"))
    ok(cdt("hamlet", "add", "Thôn A", "--kind", "thon"))
    ok(cdt("team", "add", "--hamlet", "thon a"))
    book = Workbook()
    book.active.append(["STT", "Họ và tên", "Năm sinh", "Điện thoại"])
    book.active.append([1, "Lê Văn Nam", 1990, "0912345678"])
    book.save(tmp_path / "ds.xlsx")
    result = cdt("import", tmp_path / "ds.xlsx")
    assert result.exit_code == 1
    assert "'Họ và tên'" in result.stderr + result.stdout
    assert json.loads(ok(cdt("member", "list", "--format", "json")).stdout) == []


def test_the_summary_repeats_section_one_head_row_on_later_pages(cdt, tmp_path):
    from openpyxl import load_workbook

    ok(cdt("init", "--commune", "05761", "--structure", "legacy"))
    ok(cdt("report", "--month", "2026-10", "--xlsx", tmp_path / "r.xlsx"))
    summary = load_workbook(tmp_path / "r.xlsx").worksheets[0]
    assert summary.print_title_rows, "the summary sheet prints section I's head row on every page"
    head = int(summary.print_title_rows.split(":")[0].lstrip("$"))
    assert summary.cell(head, 2).value  # a heading cell ("Chỉ tiêu"), not an empty row


def test_a_bad_number_option_is_explained_in_vietnamese(cdt, tmp_path):
    ok(cdt("init", "--commune", "05761", "--structure", "legacy"))
    low = cdt("history", "--limit", "0")
    assert low.exit_code == 2 and "giá trị không hợp lệ cho --limit: phải từ 1 trở lên" in low.stderr
    word = cdt("undo", "--to", "abc")
    assert word.exit_code == 2 and "giá trị không hợp lệ cho --to: phải là một số nguyên" in word.stderr
    assert "Input should" not in low.stderr + word.stderr


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
