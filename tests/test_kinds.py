"""Hamlet kinds of every region: one list, typed with or without diacritics."""

from __future__ import annotations

import json

import openpyxl
import pytest

from cdt.core.i18n import catalogue, set_language
from cdt.domain.kinds import HAMLET_KINDS, kind_label, kind_pattern, split_kind
from cdt.domain.parsers import parse_kind
from cdt.core.text import fold

EVERY_REGION = ("thôn", "xóm", "làng", "bản", "buôn", "plei", "bon", "ấp", "khóm", "phum", "sóc",
                "khu phố", "khu", "tổ dân phố", "tổ", "khối phố")


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def test_the_one_list_holds_every_region():

    assert set(EVERY_REGION) == set(HAMLET_KINDS)
    assert len({fold(k) for k in HAMLET_KINDS}) == len(HAMLET_KINDS)  # no two kinds fold alike


@pytest.mark.parametrize("kind", EVERY_REGION)
def test_every_kind_is_accepted_with_and_without_diacritics(cdt, commune, kind):
    ok(cdt("hamlet", "add", f"Một {kind}", "--kind", kind))
    ok(cdt("hamlet", "add", f"Hai {kind}", "--kind", fold(kind).upper()))
    rows = json.loads(ok(cdt("hamlet", "list", "--format", "json")).stdout)
    assert sorted(r["kind"] for r in rows) == [kind, kind]


@pytest.mark.parametrize("typed", ["plơi", "Plơi", "ploi", "PLEI", "plei"])
def test_plei_and_ploi_are_one_kind_stored_as_plei(typed):
    assert parse_kind(typed) == "plei"


def test_an_unknown_kind_is_refused_listing_every_kind(cdt, commune):
    result = cdt("hamlet", "add", "Bản Phìn Hồ", "--kind", "hành tinh")
    assert result.exit_code == 1
    assert "loại 'hành tinh' không có; chọn: thôn, xóm, làng, bản, buôn, plei (plơi), bon, ấp, khóm, phum, sóc, " \
           "khu phố, khu, tổ dân phố, tổ, khối phố" in result.stderr
    assert json.loads(ok(cdt("hamlet", "list", "--format", "json")).stdout) == []


@pytest.mark.parametrize("name, kind, rest", [
    ("Tổ dân phố 5", "tổ dân phố", "5"), ("TO DAN PHO Số 2", "tổ dân phố", "Số 2"), ("Tổ 7", "tổ", "7"),
    ("Khu phố 3", "khu phố", "3"), ("khu pho Bắc", "khu phố", "Bắc"), ("Khu 3", "khu", "3"),
    ("Khối phố Tây", "khối phố", "Tây"), ("Buôn Ea Kmát", "buôn", "Ea Kmát"), ("Plơi Ốp", "plei", "Ốp"),
    ("Bon Bu Prăng", "bon", "Bu Prăng"), ("Phum Pô Thum", "phum", "Pô Thum"), ("Sóc Tà Ân", "sóc", "Tà Ân"),
    ("Ấp Bưng Cốc", "ấp", "Bưng Cốc"), ("Khóm 4", "khóm", "4"), ("Bản Phìn Hồ", "bản", "Phìn Hồ"),
    ("Đồng Tâm", None, "Đồng Tâm"), ("Khu", "khu", ""), ("Khuôn Lân", None, "Khuôn Lân"),
])
def test_split_kind_takes_the_longest_kind_first(name, kind, rest):
    assert split_kind(name) == (kind, rest)


@pytest.mark.parametrize("title, words", [
    ("TỔ DÂN PHỐ SỐ 5", ("TỔ DÂN PHỐ", "SỐ 5")), ("Khu phố 3", ("Khu phố", "3")), ("khu 3", ("khu", "3")),
    ("Tổ 7", ("Tổ", "7")), ("DANH SÁCH THÔN/BUÔN EA KMÁT", ("BUÔN", "EA KMÁT")), ("Plơi Ốp", ("Plơi", "Ốp")),
    ("DANH SÁCH THÀNH VIÊN TỔ CNSCĐ TỔ DÂN PHỐ SƠN TẬP", ("TỔ DÂN PHỐ", "SƠN TẬP")),
    ("DANH SÁCH TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG", None), ("tổ trưởng Tổ 5", ("Tổ", "5")),
    ("BAN CHỈ ĐẠO CHUYỂN ĐỔI SỐ", None), ("Bong Bóng", None),
])
def test_kind_pattern_finds_the_longest_kind_and_not_the_team(title, words):
    import re

    found = re.search(f"\\b({kind_pattern()})\\s+(\\S.*)", title, re.IGNORECASE)
    assert (found.groups() if found else None) == words


def test_kinds_are_shown_in_both_languages(cdt, commune):
    ok(cdt("hamlet", "add", "Buôn Ea Kmát", "--kind", "buon"))
    english = ok(cdt("--lang", "en", "hamlet", "list")).stdout
    assert "buôn (highland" in english
    assert "(highland" not in ok(cdt("hamlet", "list")).stdout
    for lang in ("vi", "en"):
        set_language(lang)
        for kind in HAMLET_KINDS:
            assert kind_label(kind) != f"kind.{fold(kind)}" and kind in kind_label(kind)
        assert all(f"kind.{fold(k).replace(' ', '_')}" in catalogue(lang) for k in HAMLET_KINDS)
    set_language(None)


def test_help_lists_every_kind(cdt):
    # the panel's borders out before the spaces are joined: a kind may wrap at a border ("khu │ phố")
    text = " ".join(ok(cdt("hamlet", "add", "--help")).stdout.replace("│", " ").split())
    for kind in HAMLET_KINDS:
        assert kind in text


def test_template_drop_down_offers_every_kind(cdt, tmp_path):
    path = tmp_path / "mẫu nhập.xlsx"
    ok(cdt("template", "--out", path))
    lists = openpyxl.load_workbook(path)["Danh mục"]
    offered = [row[0] for row in lists.iter_rows(values_only=True) if row[0]]
    assert tuple(offered) == HAMLET_KINDS


def test_report_groups_hamlets_without_northern_words():
    for key in ("report.ind.hamlets", "xlsx_report.ind.hamlets"):
        label = catalogue("vi")[key]
        assert "xóm" not in label and all(word in label for word in ("thôn", "buôn", "bản", "ấp"))
