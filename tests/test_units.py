"""The bundled administrative units and their lookup library (cdt.units)."""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from cdt.core import i18n
from cdt.domain import units
from cdt.domain.units import LEGACY, NEW, Unit

DATA = Path(units.__file__).parents[1] / "data"


@pytest.fixture(autouse=True)
def vietnamese():
    i18n.set_language("vi")
    yield
    i18n.set_language(None)


def keys(found: list[Unit]) -> set[tuple[str, str, str]]:
    return {(u.structure, u.level, u.code) for u in found}


# --- the data ---------------------------------------------------------------------------------


def test_legacy_counts():
    assert len(units.list_units(structure=LEGACY, level="province")) == 63
    assert len(units.list_units(structure=LEGACY, level="district")) == 696
    assert len(units.list_units(structure=LEGACY, level="commune")) == 10_035


def test_2025_counts():
    assert len(units.list_units(structure=NEW, level="province")) == 34
    assert units.list_units(structure=NEW, level="district") == []
    assert len(units.list_units(structure=NEW, level="commune")) == 3_321


def test_counts_add_up_through_the_hierarchy():
    provinces = units.list_units(structure=LEGACY, level="province")
    assert sum(len(units.districts_in(p)) for p in provinces) == 696
    assert sum(len(units.communes_in(p)) for p in provinces) == 10_035
    new_provinces = units.list_units(structure=NEW, level="province")
    assert sum(len(units.communes_in(p)) for p in new_provinces) == 3_321


def test_csv_files_are_nfc_with_headers():
    headers = {
        "units_legacy.csv": [
            "province_code", "province_name", "district_code", "district_name", "commune_code", "commune_name",
        ],
        "units_2025.csv": ["province_code", "province_name", "commune_code", "commune_name"],
        "commune_map.csv": ["old_commune_code", "new_commune_code"],
    }
    for name, header in headers.items():
        text = (DATA / name).read_text(encoding="utf-8")
        assert unicodedata.normalize("NFC", text) == text, name
        assert "\r" not in text, name
        assert next(csv.reader(text.splitlines())) == header


def test_type_word_capitalisation_is_uniform():
    # The source writes "Thị Trấn Ái Tử" and "Thành Phố Bắc Kạn"; the bundled files do not.
    assert units.get("19624", level="commune", structure=LEGACY).name == "Thị trấn Ái Tử"
    assert units.get("058", level="district", structure=LEGACY).name == "Thành phố Bắc Kạn"


def test_matches_the_source_dataset():
    vau = pytest.importorskip("vietnamadminunits")
    db = Path(vau.__file__).parent / "data" / "dataset.db"
    con = sqlite3.connect(f"file:{db.as_posix()}?mode=ro", uri=True)
    try:
        dai_tu = con.execute("SELECT COUNT(*) FROM admin_units_legacy WHERE districtCode = '171'").fetchone()[0]
        legacy = {r[0] for r in con.execute("SELECT wardCode FROM admin_units_legacy WHERE wardCode IS NOT NULL")}
        new = {r[0] for r in con.execute("SELECT wardCode FROM admin_units")}
    finally:
        con.close()
    district = units.get("171", level="district", structure=LEGACY)
    assert len(units.communes_in(district)) == dai_tu
    assert {u.code for u in units.list_units(structure=LEGACY, level="commune")} == legacy
    assert {u.code for u in units.list_units(structure=NEW, level="commune")} == new


# --- get, hierarchy, labels -------------------------------------------------------------------


def test_hung_son_is_in_dai_tu_thai_nguyen():
    unit = units.get("05761", level="commune", structure=LEGACY)
    assert unit == Unit(
        structure=LEGACY,
        level="commune",
        code="05761",
        name="Thị trấn Hùng Sơn",
        district_code="171",
        district_name="Huyện Đại Từ",
        province_code="19",
        province_name="Tỉnh Thái Nguyên",
    )
    assert units.get("5761", level="commune", structure=LEGACY) == unit
    assert units.get(" 05761 ", level="commune", structure=LEGACY) == unit


def test_dai_tu_communes():
    district = units.get("171", level="district", structure=LEGACY)
    communes = units.communes_in(district)
    # The dataset's last pre-2025 snapshot: 27 (Đại Từ had 31 before its 2019–2020 mergers).
    assert len(communes) == 27
    assert [c.code for c in communes] == sorted(c.code for c in communes)
    assert {"Thị trấn Hùng Sơn", "Thị trấn Quân Chu", "Xã Phúc Lương"} <= {c.name for c in communes}
    assert all(c.district_code == "171" and c.province_code == "19" for c in communes)


def test_get_is_strict_about_structure_and_level():
    assert units.get("24175", level="commune", structure=LEGACY).name == "Xã Hòa Khánh"
    assert units.get("24175", level="commune", structure=NEW).name == "Xã Hòa Phú"
    assert units.get("171", level="district", structure=NEW) is None
    assert units.get("99999", level="commune", structure=LEGACY) is None
    assert units.get("abc", level="commune", structure=LEGACY) is None
    with pytest.raises(ValueError):
        units.get("171", level="huyện", structure=LEGACY)
    with pytest.raises(ValueError):
        units.get("171", level="district", structure="2024")


def test_parent_chain():
    commune = units.get("05761", level="commune", structure=LEGACY)
    district = units.parent_of(commune)
    province = units.parent_of(district)
    assert (district.level, district.code, district.name) == ("district", "171", "Huyện Đại Từ")
    assert (province.level, province.code, province.name) == ("province", "19", "Tỉnh Thái Nguyên")
    assert units.parent_of(province) is None

    new = units.get("24175", level="commune", structure=NEW)
    assert new.district_code is None and new.district_name is None
    parent = units.parent_of(new)
    assert (parent.structure, parent.level, parent.code, parent.name) == (NEW, "province", "66", "Tỉnh Đắk Lắk")


def test_districts_in():
    thai_nguyen = units.get("19", level="province", structure=LEGACY)
    districts = units.districts_in(thai_nguyen)
    assert "171" in {d.code for d in districts}
    assert all(d.level == "district" and d.province_code == "19" for d in districts)
    assert units.districts_in(units.get("19", level="province", structure=NEW)) == []
    with pytest.raises(ValueError):
        units.districts_in(units.get("171", level="district", structure=LEGACY))
    with pytest.raises(ValueError):
        units.communes_in(units.get("05761", level="commune", structure=LEGACY))


def test_island_district_without_communes():
    con_co = units.get("471", level="district", structure=LEGACY)
    assert con_co.name == "Huyện Cồn Cỏ"
    assert units.communes_in(con_co) == []


def test_labels():
    hung_son = units.get("05761", level="commune", structure=LEGACY)
    assert hung_son.label() == "Thị trấn Hùng Sơn, Huyện Đại Từ, Tỉnh Thái Nguyên (05761, trước 2025)"
    hoa_phu = units.get("24175", level="commune", structure=NEW)
    assert hoa_phu.label() == "Xã Hòa Phú, Tỉnh Đắk Lắk (24175, từ 2025)"
    assert units.parent_of(hung_son).label() == "Huyện Đại Từ, Tỉnh Thái Nguyên (171, trước 2025)"
    assert units.get("19", level="province", structure=LEGACY).label() == "Tỉnh Thái Nguyên (19, trước 2025)"
    i18n.set_language("en")
    assert hoa_phu.label() == "Xã Hòa Phú, Tỉnh Đắk Lắk (24175, from 2025)"
    assert hung_son.label().endswith("(05761, before 2025)")


def test_locale_files_have_the_same_keys():
    vi = i18n.catalogue("vi")
    en = i18n.catalogue("en")
    unit_keys = {k for k in vi if k.startswith("units.")}
    assert unit_keys == {k for k in en if k.startswith("units.")}
    assert {"units.label", "units.era.legacy", "units.era.2025"} <= unit_keys


# --- search -----------------------------------------------------------------------------------


def test_search_dai_tu_finds_the_district():
    found = units.search("dai tu")
    assert (LEGACY, "district", "171") in keys(found)
    assert units.search("Huyện Đại Từ") == [units.get("171", level="district", structure=LEGACY)]
    assert units.search("dai tu", level="district") == [units.get("171", level="district", structure=LEGACY)]


@pytest.mark.parametrize(
    "query",
    ["Hoà Phú", "Hòa Phú", "hoa phu", "HÒA PHÚ", "  hoa   PHU ", unicodedata.normalize("NFD", "Hòa Phú"), "Xã Hòa Phú"],
)
def test_search_hoa_phu_finds_both_structures(query):
    found = keys(units.search(query))
    assert (LEGACY, "commune", "24172") in found
    assert (NEW, "commune", "24175") in found


def test_search_with_parent_names():
    assert keys(units.search("hoa phu buon ma thuot")) == {(LEGACY, "commune", "24172")}
    assert keys(units.search("Hòa Phú, TP. Buôn Ma Thuột, Đắk Lắk")) == {(LEGACY, "commune", "24172")}
    assert keys(units.search("xã hòa phú đắk lắk")) == {(LEGACY, "commune", "24172"), (NEW, "commune", "24175")}
    assert keys(units.search("hung son dai tu")) == {(LEGACY, "commune", "05761")}


def test_search_type_word_must_fit():
    # Hòa Phú exists as xã and as phường; naming the type keeps only that type.
    phuong = units.search("phường hòa phú")
    assert phuong and all(u.name.startswith("Phường ") for u in phuong)
    assert all(not u.name.startswith("Phường ") for u in units.search("xã hòa phú"))


def test_search_code_is_ambiguous_between_structures():
    found = units.search("24175")
    assert len(found) == 2
    assert {u.structure for u in found} == {LEGACY, NEW}
    assert {u.name for u in found} == {"Xã Hòa Khánh", "Xã Hòa Phú"}


def test_search_code_without_leading_zeros():
    assert units.search("5761") == [units.get("05761", level="commune", structure=LEGACY)]
    assert units.search("05761") == [units.get("05761", level="commune", structure=LEGACY)]


def test_search_full_width_code_first():
    found = units.search("171")
    assert found[0] == units.get("171", level="district", structure=LEGACY)
    assert units.search("171", level="district") == [found[0]]


def test_search_exact_before_partial_then_structure_level_code():
    found = units.search("thai nguyen")
    assert found[:2] == [
        units.get("19", level="province", structure=NEW),
        units.get("19", level="province", structure=LEGACY),
    ]
    partial = units.search("hoa ph")
    assert partial == []  # words are whole: no prefix matching
    some = units.search("hoa phu buon ma")  # a run of the district's words is still a match
    assert keys(some) == {(LEGACY, "commune", "24172")}


def test_search_filters():
    assert keys(units.search("24175", structure=NEW)) == {(NEW, "commune", "24175")}
    assert keys(units.search("hoa phu", structure=LEGACY, level="commune")) >= {(LEGACY, "commune", "24172")}
    assert all(u.structure == LEGACY and u.level == "commune" for u in units.search("hoa phu", structure=LEGACY))
    assert units.search("") == []
    assert units.search("   ") == []
    assert units.search("zzz qqq") == []
    with pytest.raises(ValueError):
        units.search("hoa phu", level="ward")


def test_search_numbered_and_apostrophe_names():
    assert keys(units.search("phuong 1 da lat")) == {(LEGACY, "commune", "24784")}
    assert keys(units.search("P.01, Đà Lạt")) == {(LEGACY, "commune", "24784")}
    assert (LEGACY, "commune", "20437") in keys(units.search("Chơm"))  # Xã Ch'ơm


# --- the legacy → 2025 map --------------------------------------------------------------------


def test_successors_of_hoa_phu():
    assert [u.code for u in units.successors("24172")] == ["24175"]
    assert units.successors("24172")[0].structure == NEW
    assert units.successors("24172") == units.successors("24172".lstrip("0"))


def test_predecessors_of_new_hoa_phu():
    before = units.predecessors("24175")
    assert {(u.code, u.name) for u in before} == {
        ("24172", "Xã Hòa Phú"),
        ("24175", "Xã Hòa Khánh"),
        ("24178", "Xã Hòa Xuân"),
    }
    assert all(u.structure == LEGACY for u in before)


def test_divided_commune_has_several_successors():
    # Phường Cống Vị (Ba Đình, Hà Nội) was split between Ngọc Hà and Giảng Võ.
    assert {(u.code, u.name) for u in units.successors("00007")} == {
        ("00008", "Phường Ngọc Hà"),
        ("00025", "Phường Giảng Võ"),
    }


def test_map_covers_both_structures():
    for commune in units.list_units(structure=LEGACY, level="commune"):
        assert units.successors(commune.code), commune.label()
    without = [u.name for u in units.list_units(structure=NEW, level="commune") if not units.predecessors(u.code)]
    # Special zones made of whole island districts, which had no communes.
    assert sorted(without) == sorted(
        ["Đặc khu Bạch Long Vĩ", "Đặc khu Cồn Cỏ", "Đặc khu Hoàng Sa", "Đặc khu Lý Sơn", "Đặc khu Côn Đảo"]
    )
    assert units.successors("99999") == []
    assert units.predecessors("99999") == []


# --- the library stays a library --------------------------------------------------------------


def test_no_terminal_libraries():
    code = "import sys, cdt.domain.units as u; u.search('dai tu'); print('typer' in sys.modules or 'rich' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
