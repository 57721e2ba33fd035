"""Generate cdt's bundled administrative units (dev-only; the CSVs it writes are committed).

Source: the ``vietnamadminunits`` package by Tran Ngoc Minh Hieu, MIT licence
(https://github.com/tranngocminhhieu/vietnamadminunits; install with
``pip install vietnamadminunits`` or ``pip install -e '.[units]'``). Its SQLite file
``vietnamadminunits/data/dataset.db`` holds the official codes of both structures:

- ``admin_units_legacy``: the last pre-July-2025 snapshot, province → district → commune;
- ``admin_units``: the 2025 two-tier structure, province → commune.

The legacy → 2025 commune map comes from the package's converter tables
(``vietnamadminunits.converter.converter_2025``): wards kept whole or merged, and wards divided
between several new communes (every part is kept, not only the converter's default one).

Writes UTF-8, NFC CSV files with a header row into ``cdt/data/``:

- ``units_legacy.csv``: province_code, province_name, district_code, district_name,
  commune_code, commune_name. Five island districts have no communes (Bạch Long Vĩ, Cồn Cỏ,
  Hoàng Sa, Lý Sơn, Côn Đảo); their row has empty commune columns.
- ``units_2025.csv``: province_code, province_name, commune_code, commune_name.
- ``commune_map.csv``: old_commune_code, new_commune_code.

Names keep their type word ("Thị trấn Hùng Sơn"); the type word's capitalisation is made uniform
("Thị Trấn Ái Tử" in the source becomes "Thị trấn Ái Tử"). The name, not the source's type column,
is trusted: that column contradicts the name for a few units (Thị trấn Ngọc Lặc is typed "Xã").

Usage: python scripts/gen_units.py [--check]   (--check compares with the committed files)
"""

from __future__ import annotations

import csv
import io
import sqlite3
import sys
import unicodedata
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent.parent / "cdt" / "data"

# Longest first, so "Thành phố" wins over a shorter prefix and "Thị trấn" over "Thị xã".
TYPE_WORDS = ("Thành phố", "Thị trấn", "Thị xã", "Đặc khu", "Phường", "Huyện", "Quận", "Tỉnh", "Xã")

# The example the domain notes give; the generator refuses to write a map that contradicts it.
EXAMPLE_OLD, EXAMPLE_NEW = "24172", "24175"
EXAMPLE_ADDRESS = "Xã Hòa Phú, Thành phố Buôn Ma Thuột, Tỉnh Đắk Lắk"


def canonical_name(name: str) -> str:
    """NFC, single spaces, and the type word in its usual capitalisation."""
    name = " ".join(unicodedata.normalize("NFC", name).split())
    for word in TYPE_WORDS:
        if name.casefold().startswith(word.casefold() + " "):
            return word + name[len(word) :]
    raise SystemExit(f"unknown unit type in {name!r}")


def dataset_path() -> Path:
    """Where the installed package keeps its SQLite dataset."""
    try:
        import vietnamadminunits
    except ImportError:
        raise SystemExit("install the source first: pip install vietnamadminunits") from None
    return Path(vietnamadminunits.__file__).resolve().parent / "data" / "dataset.db"


def read_dataset(db: Path) -> tuple[list[tuple], list[tuple], dict, dict]:
    """Legacy rows, 2025 rows, and the key → code indexes the converter tables refer to."""
    con = sqlite3.connect(f"file:{db.as_posix()}?mode=ro", uri=True)
    try:
        legacy_raw = con.execute(
            "SELECT provinceCode, province, districtCode, district, wardCode, ward,"
            " provinceKey, districtKey, wardKey FROM admin_units_legacy"
        ).fetchall()
        new_raw = con.execute(
            "SELECT provinceCode, province, wardCode, ward, provinceKey, wardKey FROM admin_units"
        ).fetchall()
    finally:
        con.close()

    legacy, old_index = [], {}
    for pc, pn, dc, dn, wc, wn, pk, dk, wk in legacy_raw:
        legacy.append((pc, canonical_name(pn), dc, canonical_name(dn), wc or "", canonical_name(wn) if wn else ""))
        if wc:
            old_index[f"{pk}_{dk}_{wk}"] = wc
    new, new_index = [], {}
    for pc, pn, wc, wn, pk, wk in new_raw:
        new.append((pc, canonical_name(pn), wc, canonical_name(wn)))
        new_index[(pk, wk)] = wc
    legacy.sort(key=lambda r: (r[0], r[2], r[4]))
    new.sort(key=lambda r: (r[0], r[2]))
    return legacy, new, old_index, new_index


def build_map(old_index: dict, new_index: dict) -> list[tuple[str, str]]:
    """Every (old commune, new commune) pair of the package's converter tables."""
    from vietnamadminunits.converter import converter_2025 as conv

    pairs: set[tuple[str, str]] = set()
    unknown: list[str] = []
    for province_key, wards in conv.DICT_PROVINCE_WARD_NO_DIVIDED.items():
        for new_key, old_keys in wards.items():
            for old_key in old_keys:
                if old_key in old_index:
                    pairs.add((old_index[old_key], new_index[(province_key, new_key)]))
                else:
                    unknown.append(old_key)
    for province_key, divided in conv.DICT_PROVINCE_WARD_DIVIDED.items():
        for old_key, parts in divided.items():
            for part in parts:
                pairs.add((old_index[old_key], new_index[(province_key, part["newWardKey"])]))
    # Whole island districts became special zones; they have no commune code to map from.
    if any(not key.endswith("_") for key in unknown):
        raise SystemExit(f"converter refers to unknown legacy communes: {unknown}")
    return sorted(pairs)


def check_map(pairs: list[tuple[str, str]], legacy: list[tuple]) -> None:
    """Check the map on the documented example and against the converter's own answers."""
    from vietnamadminunits import convert_address

    successors: dict[str, set[str]] = {}
    for old, new in pairs:
        successors.setdefault(old, set()).add(new)
    example = convert_address(EXAMPLE_ADDRESS)
    if example.ward_code != EXAMPLE_NEW or EXAMPLE_NEW not in successors.get(EXAMPLE_OLD, set()):
        raise SystemExit(f"example {EXAMPLE_OLD} → {EXAMPLE_NEW} does not hold: {example.ward_code}")

    unmapped = [r[4] for r in legacy if r[4] and r[4] not in successors]
    disagree = []
    for pc, pn, dc, dn, wc, wn in legacy:
        if wc:
            got = convert_address(f"{wn}, {dn}, {pn}").ward_code
            if got not in successors.get(wc, set()):
                disagree.append((wc, wn, dn, pn, got))
    print(f"legacy communes without a successor: {len(unmapped)}", file=sys.stderr)
    print(f"converter answers outside the map (name parsing): {len(disagree)}", file=sys.stderr)
    for row in disagree[:10]:
        print("  ", row, file=sys.stderr)


def to_csv(header: tuple[str, ...], rows: list[tuple]) -> str:
    """CSV text with \\n line ends, so the committed files are identical on every OS."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def main(argv: list[str]) -> int:
    """Generate (or with --check, compare) the three CSV files."""
    legacy, new, old_index, new_index = read_dataset(dataset_path())
    pairs = build_map(old_index, new_index)
    check_map(pairs, legacy)
    files = {
        "units_legacy.csv": to_csv(
            ("province_code", "province_name", "district_code", "district_name", "commune_code", "commune_name"),
            legacy,
        ),
        "units_2025.csv": to_csv(("province_code", "province_name", "commune_code", "commune_name"), new),
        "commune_map.csv": to_csv(("old_commune_code", "new_commune_code"), pairs),
    }
    stale = []
    for name, text in files.items():
        path = OUT_DIR / name
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_bytes(text.encode("utf-8"))
            print(f"wrote {path} ({len(text.encode('utf-8')):,} bytes)", file=sys.stderr)
    if stale:
        print(f"out of date: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
