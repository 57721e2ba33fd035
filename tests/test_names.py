"""Names as people write them: stored exactly as typed (NFC), apostrophes included;
found by searches typed without apostrophes, diacritics or case; sorted without failing."""

from __future__ import annotations

import json
import unicodedata

import openpyxl
import pytest
from hypothesis import given, strategies as st

from cdt.store import Store
from cdt.core.text import fold, match_names, person_key
from kits.cli import ok
from kits.profiles import examples
from kits.templates import TEMPLATES

# (hamlet, kind, full name as typed, a search typed without apostrophes or diacritics)
PEOPLE = [
    ("Buôn Ea Kmát", "buôn", "Y B'him Niê", "y bhim nie"),           # Ê Đê, ASCII apostrophe
    ("Buôn Ea Kmát", "buôn", "H’Hen Niê", "hhen nie"),               # Ê Đê, curly apostrophe
    ("Buôn Ea Kmát", "buôn", "Y Kŭ Mlô", "y ku mlo"),                # breve u of Ê Đê writing
    ("Plei Ốp", "plei", "Rơ Mah H’Bla", "ro mah hbla"),             # Jrai, curly
    ("Plei Ốp", "plei", "Ksor Y Phơn", "ksor y phon"),              # Jrai
    ("Plei Ốp", "plei", "Siu H'Ĕn", "siu hen"),                     # breve e
    ("Bon Bu Prăng", "bon", "Điểu K'Lẻ", "dieu kle"),               # M'nông, ASCII
    ("Bon Bu Prăng", "bon", "Thị Mŏ́t", "thi mot"),                  # breve o with a tone (no precomposed form)
    ("Phum Pô Thum", "phum", "Thạch Thị Sa Rươne", "thach thi sa ruone"),  # Khmer, four words
    ("Phum Pô Thum", "phum", "Danh Sơn", "danh son"),               # Khmer
    ("Phum Pô Thum", "phum", "Sơn Thị Ngọc Bích Kim", "son thi ngoc bich kim"),  # five words
    ("Bản Phìn Hồ", "bản", "Giàng A Páo", "giang a pao"),           # Hmông, clan name first
    ("Bản Phìn Hồ", "bản", "Vàng Thị Mỷ", "vang thi my"),          # Hmông
    ("Bản Phìn Hồ", "bản", "Nay", "nay"),                           # one word
    ("Bản Phìn Hồ", "bản", "Páo", "pao"),                           # one word
]


@pytest.fixture
def register(cdt, commune):
    """The commune with one team per hamlet of PEOPLE and every person added through `cdt member add`."""
    def build(_path):
        ok(cdt("settings", "set", "team_max_members", "10"))
        for hamlet, kind in dict.fromkeys((h, k) for h, k, _, _ in PEOPLE):
            ok(cdt("hamlet", "add", hamlet, "--kind", kind))
            ok(cdt("team", "add", "--hamlet", fold(hamlet)))
        for hamlet, _, name, _ in PEOPLE:
            ok(cdt("member", "add", name, "--team", fold(hamlet)))

    return TEMPLATES.copy("names-register", commune, build)


def _members(cdt) -> list[dict]:
    return json.loads(ok(cdt("member", "list", "--format", "json")).stdout)


def test_names_are_stored_exactly_as_typed(cdt, register):
    stored = {m["full_name"] for m in _members(cdt)}
    assert stored == {unicodedata.normalize("NFC", name) for _, _, name, _ in PEOPLE}
    assert "Y B'him Niê" in stored and "H’Hen Niê" in stored  # each keeps its own apostrophe


@pytest.mark.parametrize("hamlet, kind, name, query", PEOPLE)
def test_every_name_is_found_without_apostrophes_or_diacritics(cdt, register, hamlet, kind, name, query):
    ok(cdt("member", "edit", query, "--affiliation", "Hội Phụ nữ"))
    edited = [m["full_name"] for m in _members(cdt) if m["affiliation"] == "Hội Phụ nữ"]
    assert edited == [unicodedata.normalize("NFC", name)]


@pytest.mark.parametrize("query, name", [
    ("Y B’him Niê", "Y B'him Niê"), ("Y Bʼhim Niê", "Y B'him Niê"), ("Y B‘him Niê", "Y B'him Niê"),
    ("Y Bhim Niê", "Y B'him Niê"), ("H'Hen Niê", "H’Hen Niê"), ("HHen", "H’Hen Niê"),
    ("rơ mah h'bla", "Rơ Mah H’Bla"), ("Điểu K’Lẻ", "Điểu K'Lẻ"), ("K'Le", "Điểu K'Lẻ"),
])
def test_any_apostrophe_finds_any_other(cdt, register, query, name):
    ok(cdt("member", "edit", query, "--affiliation", "VNPT"))
    assert [m["full_name"] for m in _members(cdt) if m["affiliation"] == "VNPT"] == [name]


def test_hamlets_are_found_without_apostrophes_and_stay_apart_from_near_twins(cdt, commune):
    ok(cdt("hamlet", "add", "Buôn K'Mrốp", "--kind", "buôn"))
    ok(cdt("hamlet", "edit", "buon kmrop", "--households", "120"))
    # A name differing only by the apostrophe is another hamlet, never the same record silently.
    ok(cdt("hamlet", "add", "Buôn KMrốp", "--kind", "buôn"))
    rows = json.loads(ok(cdt("hamlet", "list", "--format", "json")).stdout)
    assert sorted((r["name"], r["households"]) for r in rows) == [("Buôn K'Mrốp", 120), ("Buôn KMrốp", None)]
    result = cdt("hamlet", "edit", "buon kmrop", "--households", "5")
    assert result.exit_code == 1 and "có 2 thôn khớp 'buon kmrop'" in result.stderr


def test_hamlet_names_take_minority_letters_and_apostrophes_as_typed(cdt, commune):
    for name, kind in (("Buôn Ŭn Ktŭl", "buôn"), ("Plơi H’Ĕn", "plơi"), ("Bon Bu N'Drŏng", "bon")):
        ok(cdt("hamlet", "add", unicodedata.normalize("NFD", name), "--kind", kind))
    rows = json.loads(ok(cdt("hamlet", "list", "--format", "json")).stdout)
    assert [(r["name"], r["kind"]) for r in rows] == [
        ("Bon Bu N'Drŏng", "bon"), ("Buôn Ŭn Ktŭl", "buôn"), ("Plơi H’Ĕn", "plei")]
    ok(cdt("team", "add", "--hamlet", "bon bu ndrong"))
    ok(cdt("team", "add", "--hamlet", "Plơi H'Ĕn"))
    assert sorted(t["hamlet"] for t in json.loads(ok(cdt("team", "list", "--format", "json")).stdout)) == [
        "Bon Bu N'Drŏng", "Plơi H’Ĕn"]


def test_members_differing_only_by_apostrophe_are_two_records(cdt, commune):
    ok(cdt("hamlet", "add", "Buôn Tơng Jú", "--kind", "buôn"))
    ok(cdt("team", "add", "--hamlet", "buon tong ju"))
    ok(cdt("member", "add", "H'Bla Niê", "--team", "buon tong ju", "--birth-year", "1990"))
    ok(cdt("member", "add", "HBla Niê", "--team", "buon tong ju", "--birth-year", "1991"))
    assert sorted(m["full_name"] for m in _members(cdt)) == ["H'Bla Niê", "HBla Niê"]


def test_minority_letters_survive_nfc_and_the_invisible_character_check(cdt, register):
    decomposed = unicodedata.normalize("NFD", "H'Ŭn Ksơr")
    ok(cdt("member", "add", decomposed, "--team", "plei op"))
    assert "H'Ŭn Ksơr" in {m["full_name"] for m in _members(cdt)}
    hidden = cdt("member", "add", "Y\u200bBhim", "--team", "plei op")
    assert hidden.exit_code == 1 and "ký tự điều khiển" in hidden.stderr


def test_lists_sort_by_given_name_without_failing(cdt, register):
    names = [m["full_name"] for m in _members(cdt)]
    assert names == sorted(names, key=person_key)
    last = [n.split(" ")[-1] for n in names]  # the rule of Kinh names: the last word first
    assert last.index("H’Bla") < last.index("K'Lẻ") < last.index("Mlô") < last.index("Nay") < last.index("Niê")
    assert last.index("Mỷ") < last.index("Páo") < last.index("Sơn")  # m < p < s; H'Bla sorts under h
    # ŭ sorts just after u, before ư; ĕ after e, before ê
    assert person_key("A Ku") < person_key("A Kŭ") < person_key("A Kư")
    assert person_key("A Ke") < person_key("A Kĕ") < person_key("A Kê")


def test_imported_names_keep_their_apostrophes_and_are_found(cdt, commune, tmp_path):
    ok(cdt("settings", "set", "team_max_members", "10"))
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Thành viên"
    ws.append(["Thôn/xóm", "Họ và tên", "Chức vụ trong tổ", "Giới tính", "Năm sinh"])
    ws.append(["Buôn Ea Kmát", "Y B'him Niê", "Tổ trưởng", "Nam", 1980])
    ws.append(["Buôn Ea Kmát", "H’Hen Niê", "Tổ phó", "Nữ", 1995])
    ws.append(["Buôn Ea Kmát", unicodedata.normalize("NFD", "Y Kŭ Mlô"), "Thành viên", "Nam", 1999])
    ws.append(["Buôn Ea Kmát", "Nay", "Thành viên", "Nữ", 2001])
    path = tmp_path / "danh sách buôn.xlsx"
    book.save(path)
    ok(cdt("import", path))
    assert sorted(m["full_name"] for m in _members(cdt)) == sorted(["Y B'him Niê", "H’Hen Niê", "Y Kŭ Mlô", "Nay"])
    store = Store.open(commune)
    try:
        rows = store.rows("member")
        for query, name in (("y bhim nie", "Y B'him Niê"), ("hhen", "H’Hen Niê"), ("Y Ku", "Y Kŭ Mlô")):
            assert [m["full_name"] for m in match_names(query, rows, lambda m: m["full_name"])] == [name]
    finally:
        store.close()


_APOSTROPHES = st.sampled_from(["'", "\u2019", "\u02bc", "\u2018", ""])
_WORDS = st.lists(st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyŭĕŏ", min_size=1, max_size=6), min_size=1, max_size=5)


@examples(thorough=100)
@given(_WORDS, _APOSTROPHES, _APOSTROPHES)
def test_fold_ignores_which_apostrophe_and_sort_never_fails(words, typed, searched):
    stored = " ".join(f"{w[0]}{typed}{w[1:]}" for w in words)
    query = " ".join(f"{w[0]}{searched}{w[1:]}" for w in words)
    assert fold(stored) == fold(query)
    assert match_names(query, [stored], lambda s: s) == [stored]
    sorted([stored, query, "Nay"], key=person_key)


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


def test_b_with_stroke_folds_for_search():
    assert fold("Y Bŭt Ƀuôn Ya") == "y but buon ya"
    assert match_names("y but buon ya", [{"n": "Y Bŭt Ƀuôn Ya"}], lambda r: r["n"])
