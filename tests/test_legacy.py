"""TCVN3 and VNI text from old spreadsheets is recognised and converted; Unicode and English never are."""

from __future__ import annotations

import unicodedata

import pytest

from cdt.intake.old_encodings import ENCODINGS, TCVN3, VNI, convert, detect, detect_many, encode, fix, fix_many

_BASES = "aăâeêioôơuưy"
_TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
LOWER = [unicodedata.normalize("NFC", b + t) for b in _BASES for t in _TONES if b + t not in "aeiouy"] + ["đ"]
UPPER = [ch.upper() for ch in LOWER]

NAMES = [
    "Nguyễn Thị Hương",
    "Xóm Đồng Tâm",
    "Thị trấn Hùng Sơn",
    "Đoàn Thanh niên",
    "Hội Phụ nữ",
    "Hoàng Văn An",
    "Trần Văn Đức",
    "Lê Thị Thuỷ",
    "Phạm Quốc Khánh",
    "Đặng Thuỳ Dương",
    "Chi hội Cựu chiến binh",
    "Thôn Bản Giềng",
    "Ấp Phước Lợi",
    "Hội Người cao tuổi",
    "Tổ công nghệ số cộng đồng",
    "NGUYỄN VĂN VÕ",
    "ỦY BAN NHÂN DÂN XÃ ĐỒNG TÂM",
]

# Unicode Vietnamese that uses only Latin-1 letters: the easiest to mistake for legacy text.
LATIN1_VIETNAMESE = ["Hà Tâm", "Tô Lâm", "Lê Bình", "Hòa Bình", "Châu Thái", "Lò Văn Sáu", "Giàng A Mùa", "Tú", "Lý Kiên", "Xuân Yên"]
NEVER = [
    "",
    "Nguyen Van An",
    "0912345678",
    "12.500",
    "1/2/2024",
    "Community digital technology team",
    "café au lait",
    "Müller GmbH",
    "São Paulo",
    "naïve résumé",
    "España",
    "Straße",
    "© 2024",
    "25°C ± 2",
    "½ kg",
    "Tổ 1 - Hà Nội",
    unicodedata.normalize("NFD", "Nguyễn Thị Hương"),
    *NAMES,
    *LATIN1_VIETNAMESE,
]


def test_tables_cover_all_134_letters():
    assert len(LOWER) == len(UPPER) == 67
    for encoding in ENCODINGS:
        codes = [encode(ch, encoding) for ch in LOWER]
        assert len(set(codes)) == 67, encoding
        for code in codes:
            assert code and all(0xA0 <= ord(c) <= 0xFF or c.isascii() for c in code)
            assert not code.isascii()


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_letter_round_trips(encoding):
    for letter in LOWER:
        assert convert(encode(letter, encoding), encoding) == letter
    for letter in UPPER:
        # TCVN3 capitals with tones share the lower-case codes: a word in capitals tells them apart.
        word = f"N{letter}N"
        assert convert(encode(word, encoding), encoding) == word
    assert convert(encode("".join(UPPER), encoding), encoding, caps=encoding == TCVN3) == "".join(UPPER)


def test_vni_keeps_case_of_every_capital_on_its_own():
    for letter in UPPER:
        assert convert(encode(letter, VNI), VNI) == letter


def test_tcvn3_bare_capitals_have_their_own_codes():
    assert encode("ĂÂÊÔƠƯĐ", TCVN3) == "\xa1\xa2\xa3\xa4\xa5\xa6\xa7"
    assert encode("ăâêôơưđ", TCVN3) == "\xa8\xa9\xaa\xab\xac\xad\xae"


@pytest.mark.parametrize(
    "legacy, encoding, unicode",
    [
        # Published examples, independent of our tables.
        ("B¶o Th¾ng", TCVN3, "Bảo Thắng"),
        ("M\xadêng Kh\xad¬ng", TCVN3, "Mường Khương"),
        ("B¸t X¸t", TCVN3, "Bát Xát"),
        ("Ninh B×nh", TCVN3, "Ninh Bình"),
        ("Hoµng V¨n An", TCVN3, "Hoàng Văn An"),
        ("Xin chaøo caùc baïn", VNI, "Xin chào các bạn"),
        ("Hoaøng Vaên An", VNI, "Hoàng Văn An"),
    ],
)
def test_known_samples(legacy, encoding, unicode):
    assert detect(legacy) == encoding
    assert fix(legacy) == unicode


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("name", NAMES)
def test_names_and_places_are_detected_and_fixed(name, encoding):
    legacy = encode(name, encoding)
    assert legacy != name
    assert detect(legacy) == encoding
    fixed = fix(legacy)
    assert fixed == name
    assert unicodedata.is_normalized("NFC", fixed)


@pytest.mark.parametrize("text", NEVER)
def test_unicode_ascii_numbers_and_english_are_never_converted(text):
    assert detect(text) is None
    assert fix(text) == unicodedata.normalize("NFC", text)


def test_convert_leaves_unicode_alone():
    for name in NAMES:
        for encoding in ENCODINGS:
            assert convert(name, encoding) == name
    assert convert("Nguyen Van An 0912", TCVN3) == "Nguyen Van An 0912"
    with pytest.raises(ValueError):
        convert("x", "viscii")


def test_tcvn3_case_guesses():
    assert fix("NGUYÔN V¡N Vâ") == "NGUYỄN VĂN VÕ"  # all capitals
    assert fix("Hoµng ¸nh") == "Hoàng Ánh"  # every word capitalised
    assert fix("§oµn Thanh niªn") == "Đoàn Thanh niên"
    assert fix("Xãm ¸nh S¸ng") == "Xóm Ánh Sáng"
    assert fix("vµ ¸nh s¸ng") == "và ánh sáng"  # sentence in lower case stays so
    assert convert("hoµng v¨n an", TCVN3, caps=True) == "HOÀNG VĂN AN"  # .VnTimeH font


def test_detect_many_decides_on_a_whole_column():
    column = ["Hä vµ tªn", "Hoµng V¨n An", "NguyÔn ThÞ H\xad¬ng", "Lª V¨n T¸m", None, 12, "0912345678", "Tó", ""]
    assert detect_many(column) == TCVN3
    assert detect_many(encode(n, VNI) for n in NAMES) == VNI
    assert detect_many(NAMES) is None
    assert detect_many(NEVER) is None
    assert detect_many([]) is None
    # A single ambiguous cell is no evidence; its column is.
    assert detect("Tó") is None
    assert fix_many(column)[7] == "Tú"


def test_short_words_need_company():
    # Two-letter words become Vietnamese by chance too easily ("µm" -> "àm") to decide alone.
    assert detect("µm") is None
    assert detect("Hå") is None
    assert detect_many(["Hå", "Lª", "Vò"]) == TCVN3
    assert fix_many(["Hå", "Lª", "Vò"]) == ["Hồ", "Lê", "Vũ"]
    # "Tæ" is "Tổ" in TCVN3 and "Tỉ" in VNI: nothing to choose by, so nothing is converted.
    assert detect_many(["Tæ 1", "Tæ 2", "Tæ 3"]) is None


def test_highland_names_follow_their_column():
    names = ["Xã Cuôr Knia", "Buôn Đôn", "Xã Ea Knốp", "Huyện Krông Búk", "Đắk Lắk", "Chư Păh", "Y Bih Niê"]
    for encoding in ENCODINGS:
        column = [encode(n, encoding) for n in names] + [encode("Nguyễn Văn Hải", encoding)]
        assert detect_many(column) == encoding
        assert fix_many(column) == names + ["Nguyễn Văn Hải"]


def test_fix_many_converts_a_column():
    column = [encode(n, TCVN3) for n in NAMES] + [None, 3.5]
    assert fix_many(column) == NAMES + [None, 3.5]


def test_fix_many_leaves_unicode_cells_of_a_mixed_column():
    column = ["Nguyễn Thị Hương", "Hoµng V¨n An", "Hà Tâm", "Lª ThÞ Thuû"]
    assert detect_many(column) == TCVN3
    assert fix_many(column) == ["Nguyễn Thị Hương", "Hoàng Văn An", "Hà Tâm", "Lê Thị Thuỷ"]


def test_fix_many_on_unicode_or_english_changes_nothing():
    assert fix_many(NEVER) == [unicodedata.normalize("NFC", t) for t in NEVER]