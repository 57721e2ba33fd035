"""Issue 13's leftovers found by reviewers: each with the exact message a clerk now sees."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from test_conflicts import district, forked_packs
from test_merge import pack

CODES = "dvc, vneid, payment, ecommerce, ehealth, esign, elearning, cybersafety, bdhvs"


# -- conflicts resolve --keep: Vietnamese words, English ones still taken -------------------------


def test_keep_words_in_help_follow_the_language(cdt):
    vi = " ".join(cdt("conflicts", "resolve", "--help").stdout.replace("│", " ").split())
    assert "--keep dang-dung|ban-kia dang-dung: giữ bản đang dùng; ban-kia: lấy bản kia (nhận cả ours, theirs)" in vi
    assert "Xử lý: giữ bản đang dùng (--keep dang-dung) hoặc lấy bản kia (--keep ban-kia)" in vi
    en = " ".join(cdt("--lang", "en", "conflicts", "resolve", "--help").stdout.replace("│", " ").split())
    assert "--keep ours|theirs ours: keep the version in use; theirs: take the other" in en


def test_an_unknown_keep_word_names_the_words(cdt, commune):
    result = cdt("conflicts", "resolve", "1", "--keep", "cua-minh")
    assert result.exit_code == 2
    assert result.stderr == ('Lỗi: giá trị không hợp lệ cho --keep: phải là dang-dung (giữ bản đang dùng) hoặc '
                             'ban-kia (lấy bản kia), nhận được "cua-minh" (xem: cdt conflicts resolve --help)\n')
    english = cdt("--lang", "en", "conflicts", "resolve", "1", "--keep", "mine")
    assert english.stderr == ('Error: invalid value for --keep: must be ours (keep the version in use) or theirs '
                              '(take the other), got "mine" (see: cdt conflicts resolve --help)\n')


def test_keep_in_vietnamese_or_english_settles_the_fork_alike(cdt, tmp_path):
    one, two = forked_packs(cdt, tmp_path)
    settled = {}
    for name, word in (("a", "ban-kia"), ("b", "theirs"), ("c", "Bản kia")):
        db = district(cdt, tmp_path / f"{name}.db")
        assert cdt("--db", db, "merge", one, two).exit_code == 0
        [entry] = json.loads(cdt("--db", db, "conflicts", "list", "--format", "json").stdout)
        done = cdt("--db", db, "conflicts", "resolve", str(entry["id"]), "--keep", word)
        assert done.exit_code == 0, done.output
        assert done.stdout == f"Đã xử lý xung đột {entry['id']} (2 dòng): đã lấy bản kia\n"
        everything = json.loads(cdt("--db", db, "conflicts", "list", "--all", "--format", "json").stdout)
        settled[name] = sorted(e["resolution"] for e in everything)
    assert settled["a"] == settled["b"] == settled["c"] == ["replaced", "theirs"]
    again = cdt("--db", tmp_path / "a.db", "conflicts", "resolve", str(entry["id"]), "--keep", "dang-dung")
    assert again.exit_code == 0, again.output


def daitu_and_its_province(cdt, tmp_path):
    """A 2025 commune file (Đại Từ, one hamlet) and an empty file of its province (Thái Nguyên)."""
    commune, province = tmp_path / "daitu.db", tmp_path / "tinh.db"
    for args in (("init", "--commune", "05830", "--structure", "2025"),
                 ("hamlet", "add", "Xóm Một", "--kind", "xóm")):
        assert cdt("--db", commune, *args).exit_code == 0
    assert cdt("--db", province, "init", "--province", "19", "--structure", "2025").exit_code == 0
    return commune, province


# -- the unsealed hint names the level that receives ---------------------------------------------


def test_unsealed_hint_of_a_2025_province_says_province(cdt, tmp_path):
    commune, province = daitu_and_its_province(cdt, tmp_path)
    packed = pack(cdt, commune, tmp_path / "stick")
    result = cdt("--db", province, "merge", packed)
    assert result.exit_code == 0, result.output
    assert ("1 gói CHƯA niêm phong (xã chưa tin khóa của tỉnh): ở tỉnh chạy cdt key export, "
            "rồi ở xã cdt key trust") in result.stdout.splitlines()
    assert "huyện" not in result.stdout
    english = cdt("--lang", "en", "--db", tmp_path / "tinh2.db", "init", "--province", "19", "--structure", "2025")
    assert english.exit_code == 0
    detail = cdt("--lang", "en", "--db", tmp_path / "tinh2.db", "merge", packed, "--detail")
    assert ("NOT sealed (the commune has not trusted the province's key: cdt key export, then at the commune "
            "cdt key trust)") in detail.stdout


# -- a byte that is not UTF-8 --------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="bytes in argv are a POSIX matter")
def test_a_non_utf8_byte_is_not_called_a_control_character(commune):
    done = subprocess.run([sys.executable, "-m", "cdt", "hamlet", "add", b"X\xffm", "--kind", "xóm".encode()],
                          capture_output=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"}, timeout=60)
    assert done.returncode == 1
    assert done.stderr.decode("utf-8") == ("Lỗi: tên: có byte không phải UTF-8 (gõ bằng bảng mã cũ?); "
                                           "hãy gõ lại bằng bảng mã Unicode\n")


def test_a_control_character_keeps_its_message(cdt, commune):
    result = cdt("hamlet", "add", "X\x01m", "--kind", "xóm")
    assert result.stderr == "Lỗi: tên: có ký tự điều khiển không hợp lệ\n"


# -- every pack refused --------------------------------------------------------------------------


def test_when_every_pack_is_refused_it_says_none_was_merged(cdt, tmp_path):
    province = tmp_path / "tinh.db"
    assert cdt("--db", province, "init", "--province", "19", "--structure", "2025").exit_code == 0
    for name in ("a.cdt", "b.cdt"):
        (tmp_path / name).write_bytes(b"not a pack")
    result = cdt("--db", province, "merge", tmp_path / "a.cdt", tmp_path / "b.cdt")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "TỪ CHỐI a.cdt: không phải gói dữ liệu cdt",
        "TỪ CHỐI b.cdt: không phải gói dữ liệu cdt",
        "Lỗi: không gộp tệp nào: 2/2 tệp bị từ chối (lý do ở trên)",
    ]
    english = cdt("--lang", "en", "--db", province, "merge", tmp_path / "a.cdt")
    assert english.stderr.splitlines()[-1] == "Error: no file merged: 1/1 refused (reasons above)"


def test_a_refusal_among_merged_packs_is_shown_once(cdt, tmp_path):
    commune, province = daitu_and_its_province(cdt, tmp_path)
    packed = pack(cdt, commune, tmp_path / "stick")
    (tmp_path / "bad.cdt").write_bytes(b"not a pack")
    result = cdt("--db", province, "merge", tmp_path / "bad.cdt", packed)
    assert result.exit_code == 1
    assert result.output.count("TỪ CHỐI bad.cdt") == 1
    assert result.stderr.splitlines() == [
        "TỪ CHỐI bad.cdt: không phải gói dữ liệu cdt",
        "Lỗi: 1/2 tệp bị từ chối (lý do ở trên); các tệp khác đã được xử lý",
    ]
    assert result.stdout.splitlines()[-1] == "Đã gộp 1/2 tệp; từ chối 1."


# -- services typed at a prompt ------------------------------------------------------------------


def test_words_of_one_service_are_taken_at_a_prompt_only(cdt, commune):
    from cdt.domain import services
    from cdt.core.errors import NotFound
    from cdt.store import Store

    store = Store.open(commune)
    try:
        assert services.service_from_words(store, "dinh danh") == "vneid"
        assert services.service_from_words(store, "Định danh điện tử VNeID") == "vneid"
        with pytest.raises(NotFound):  # words of several services: no guess
            services.service_from_words(store, "dien tu")
        with pytest.raises(NotFound):  # an option stays exact
            services.resolve_service(store, "dinh danh")
    finally:
        store.close()
    assert cdt("hamlet", "add", "La Cút", "--kind", "xóm").exit_code == 0
    assert cdt("team", "add", "--hamlet", "la cut", "--decided-on", "01/02/2026").exit_code == 0
    result = cdt("visit", "log", "--team", "la cut", "--household", "H1", "--people", "1", "--service", "dinh danh")
    assert result.stderr == ("Lỗi: không có dịch vụ 'dinh danh'; có phải vneid (Định danh điện tử VNeID)? "
                             f"Các mã: {CODES}\n")


# -- number ranges in help -----------------------------------------------------------------------


def test_number_ranges_read_as_words(cdt):
    def flat(*args):
        return " ".join(cdt(*args, "--help").stdout.replace("│", " ").split())

    assert "--limit SỐ [từ 1 đến 10.000] Số lần ghi hiện ra" in flat("history")
    assert "--to SỐ [từ 0 trở lên] Hoàn tác mọi lần ghi sau số này" in flat("undo")
    assert "--limit NUMBER [1 to 10,000] How many writes to show" in flat("--lang", "en", "history")
    assert "--to NUMBER [0 or more]" in flat("--lang", "en", "undo")


# -- a 2025 commune seals its packs to its province ----------------------------------------------


def test_a_2025_commune_trusts_its_province_and_is_asked_about_the_province(cdt, tmp_path, monkeypatch):
    from cdt.commands import common

    commune, province = daitu_and_its_province(cdt, tmp_path)
    assert cdt("--db", province, "key", "export", "--out", tmp_path / "khoa.txt").exit_code == 0
    monkeypatch.setattr(common, "interactive", lambda: True)
    trusted = cdt("--db", commune, "key", "trust", tmp_path / "khoa.txt", input="c\n")
    assert trusted.exit_code == 0, trusted.output
    assert "Dấu vân tay có đúng như tỉnh đọc qua điện thoại không? [c/K]" in trusted.stdout
    assert trusted.stdout.rstrip().endswith("Đã tin khóa của Tỉnh Thái Nguyên: từ nay gói được niêm phong, "
                                            "chỉ tệp của Tỉnh Thái Nguyên mở được.")
    merged = cdt("--db", province, "merge", pack(cdt, commune, tmp_path / "stick"))
    assert merged.exit_code == 0, merged.output
    assert merged.stdout.splitlines()[0].endswith("· đã niêm phong")
