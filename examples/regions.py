"""Example communes of three regions: the Central Highlands, the Mekong delta and the northern mountains.

Each commune's clerk sends one spreadsheet shaped as lists there are written, with the region's own
words and names:

- 24169 Xã Ea Kao (Thành phố Buôn Ma Thuột, Đắk Lắk): buôn and a thôn of settlers; the member list's
  hamlet column is headed "Thôn/Buôn"; Ê Đê names with apostrophes typed both ways (' and ’),
  a breve letter (ŭ) and a one-word name.
- 31795 Xã Vĩnh Hải (Thị xã Vĩnh Châu, Sóc Trăng): ấp, phum and sóc, one ấp without a team yet;
  the column is headed "Ấp"; Khmer names of two to five words.
- 02701 Xã Y Tý (Huyện Bát Xát, Lào Cai): bản and thôn, one thôn without a team yet; the column is
  headed "Bản"; Hmông and Hà Nhì names, clan name first, one of them a single word.

Every file has a sheet of the commune's hamlets (name, kind, households, working-age people) and the
member list under the administrative heading that cites the founding decision. Commune codes and
names are official (cdt/data/units_legacy.csv); hamlets and people are made up but typical.

``REGIONS`` is read by tests/test_regions.py; ``write_all`` writes the spreadsheets (examples/data);
``demo`` runs each commune through the cycle (import, pack, merge into its district, report) for
``make demo``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

ROLE_WORDS = {"leader": "Tổ trưởng", "deputy": "Tổ phó", "member": "Thành viên"}
GENDER_WORDS = {"male": "Nam", "female": "Nữ"}


def person(hamlet, name, role, gender, born, phone, affiliation):
    """One member row, the name exactly as the clerk typed it."""
    return {"hamlet": hamlet, "full_name": name, "role": role, "gender": gender, "birth_year": born,
            "phone": phone, "affiliation": affiliation}


REGIONS = [
    {
        "region": "Tây Nguyên", "code": "24169", "name": "Xã Ea Kao", "district": "643",
        "district_name": "Thành phố Buôn Ma Thuột", "province": "66", "province_name": "Tỉnh Đắk Lắk",
        "file": "24169-ea-kao-dak-lak.xlsx", "header": "Thôn/Buôn",
        "decision": ("47/QĐ-UBND", "12/08/2022"),
        "hamlets": [("Buôn Kao", "buôn", 186, 431), ("Buôn H'Drát", "buôn", 142, 318),
                    ("Buôn Ea Bông", "buôn", 121, 275), ("Thôn 3", "thôn", 205, 472)],
        "members": [
            person("Buôn Kao", "Y B'hăm Niê", "leader", "male", 1974, "0905124001", "Trưởng buôn"),
            person("Buôn Kao", "H’Loan Mlô", "deputy", "female", 1995, "0984124002", "Đoàn Thanh niên"),
            person("Buôn Kao", "Y Kŭ Êban", "member", "male", 1990, "0367124003", "Công an xã"),
            person("Buôn Kao", "H'Yơn Byă", "member", "female", 1998, "0869124004", "Hội Phụ nữ"),
            person("Buôn H'Drát", "Y Thuôn Knul", "leader", "male", 1969, "0912124005", "Trưởng buôn"),
            person("Buôn H'Drát", "H’Nhi Ênuôl", "deputy", "female", 1997, "0358124006", "Hội Phụ nữ"),
            person("Buôn H'Drát", "H’Bia", "member", "female", 2001, "0387124007", "Tình nguyện viên"),
            person("Buôn Ea Bông", "Ama H'Rin", "leader", "male", 1966, "0914124008", "Già làng"),
            person("Buôn Ea Bông", "Y Jek Buôn Yă", "member", "male", 1993, "0976124009", "Viettel"),
            person("Thôn 3", "Nguyễn Văn Toàn", "leader", "male", 1972, "0915124010", "Trưởng thôn"),
            person("Thôn 3", "Lê Quang Vinh", "deputy", "male", 1992, "0339124011", "Đoàn Thanh niên"),
            person("Thôn 3", "Trần Thị Mai Anh", "member", "female", 1988, "0829124012", "Giáo viên"),
        ],
    },
    {
        "region": "Đồng bằng sông Cửu Long", "code": "31795", "name": "Xã Vĩnh Hải", "district": "950",
        "district_name": "Thị xã Vĩnh Châu", "province": "94", "province_name": "Tỉnh Sóc Trăng",
        "file": "31795-vinh-hai-soc-trang.xlsx", "header": "Ấp",
        "decision": ("118/QĐ-UBND", "05/09/2022"),
        "hamlets": [("Ấp Âu Thọ B", "ấp", 412, 905), ("Phum Prey Chóp", "phum", 298, 641),
                    ("Sóc Đồn", "sóc", 336, 702), ("Ấp Vĩnh Thạnh", "ấp", 254, 530)],
        "members": [
            person("Ấp Âu Thọ B", "Thạch Thị Sa Rươne", "leader", "female", 1979, "0918795001", "Trưởng ấp"),
            person("Ấp Âu Thọ B", "Danh Sơn", "deputy", "male", 1994, "0939795002", "Đoàn Thanh niên"),
            person("Ấp Âu Thọ B", "Trần Văn Sang", "member", "male", 1985, "0377795003", "VNPT"),
            person("Phum Prey Chóp", "Lâm Thị Sóc Pha", "leader", "female", 1976, "0913795004", "Trưởng ấp"),
            person("Phum Prey Chóp", "Sơn Ngọc Thành", "member", "male", 1990, "0386795005", "Hội Nông dân"),
            person("Phum Prey Chóp", "Lý Thị Ca Ri Na", "member", "female", 1999, "0845795006", "Hội Phụ nữ"),
            person("Sóc Đồn", "Kim Sà Rinh", "leader", "male", 1968, "0917795007", "Trưởng ấp"),
            person("Sóc Đồn", "Thạch Thị Mỹ Duyên", "deputy", "female", 1996, "0363795008", "Đoàn Thanh niên"),
            person("Sóc Đồn", "Sơn Thị Ngọc Bích Kim", "member", "female", 1992, "0708795009", "Giáo viên"),
        ],
    },
    {
        "region": "Miền núi phía Bắc", "code": "02701", "name": "Xã Y Tý", "district": "082",
        "district_name": "Huyện Bát Xát", "province": "10", "province_name": "Tỉnh Lào Cai",
        "file": "02701-y-ty-lao-cai.xlsx", "header": "Bản",
        "decision": ("09/QĐ-UBND", "20/07/2022"),
        "hamlets": [("Bản Phìn Hồ", "bản", 96, 231), ("Thôn Choản Thèn", "thôn", 118, 270),
                    ("Bản Mò Phú Chải", "bản", 84, 196), ("Thôn Ngải Thầu Thượng", "thôn", 72, 160)],
        "members": [
            person("Bản Phìn Hồ", "Giàng A Páo", "leader", "male", 1978, "0912701001", "Trưởng bản"),
            person("Bản Phìn Hồ", "Vàng Thị Mỷ", "deputy", "female", 1997, "0386701002", "Đoàn Thanh niên"),
            person("Bản Phìn Hồ", "Xá", "member", "male", 2000, "0971701003", "Tình nguyện viên"),
            person("Thôn Choản Thèn", "Lý A Sử", "leader", "male", 1971, "0915701004", "Trưởng thôn"),
            person("Thôn Choản Thèn", "Sùng Thị Dợ", "member", "female", 1993, "0348701005", "Hội Phụ nữ"),
            person("Bản Mò Phú Chải", "Chu Xá Phìn", "leader", "male", 1975, "0916701006", "Trưởng bản"),
            person("Bản Mò Phú Chải", "Phu Lò Xe", "deputy", "male", 1998, "0867701007", "Công an xã"),
            person("Bản Mò Phú Chải", "Ma Seo Chứ", "member", "male", 1989, "0395701008", "Viettel"),
        ],
    },
]


def expected(region: dict) -> dict:
    """The figures a report of this commune must show, counted from the data above (not by cdt)."""
    hamlets = region["hamlets"]
    teams = {m["hamlet"] for m in region["members"]}
    return {"hamlets": len(hamlets), "teams": len(teams), "teams_with_decision": len(teams),
            "hamlets_covered": len(teams), "members": len(region["members"]),
            "households": sum(h[2] for h in hamlets), "working_age": sum(h[3] for h in hamlets)}


# -- the spreadsheets ---------------------------------------------------------------------------------


def write_region_file(region: dict, path: Path) -> None:
    """The commune's workbook: its hamlets, then its member list under the administrative heading."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    places = book.active
    places.title = "Địa bàn"
    places.append(["Địa bàn", "Loại", "Số hộ", "Số người trong độ tuổi lao động"])
    for name, kind, households, working in region["hamlets"]:
        places.append([name, kind, households, working])

    ws = book.create_sheet("Thành viên")
    number, decided = region["decision"]
    headers = ["STT", region["header"], "Họ và tên", "Chức vụ trong tổ", "Giới tính", "Năm sinh",
               "Số điện thoại", "Đơn vị công tác"]
    width = len(headers)
    heading = [
        (1, 1, 3, f"UBND {region['district_name'].upper()}"), (1, 4, width, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        (2, 1, 3, f"UBND {region['name'].upper()}"), (2, 4, width, "Độc lập - Tự do - Hạnh phúc"),
        (4, 1, width, "DANH SÁCH THÀNH VIÊN TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG"),
        (5, 1, width, f"(Kèm theo Quyết định số {number} ngày {decided} của UBND {region['name']})"),
    ]
    for row, first, last, text in heading:
        ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
        cell = ws.cell(row=row, column=first, value=text)
        cell.font = Font(bold=row != 5, italic=row == 5)
        cell.alignment = Alignment(horizontal="center")
    for col, text in enumerate(headers, 1):
        ws.cell(row=7, column=col, value=text).font = Font(bold=True)
    for i, m in enumerate(region["members"], 1):
        values = [i, m["hamlet"], m["full_name"], ROLE_WORDS[m["role"]], GENDER_WORDS[m["gender"]], m["birth_year"],
                  m["phone"], m["affiliation"]]
        for col, value in enumerate(values, 1):
            ws.cell(row=7 + i, column=col, value=value)
    book.save(path)


def write_all(out: Path) -> list[Path]:
    """Write every region's spreadsheet into out (existing files are replaced)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for region in REGIONS:
        path = out / region["file"]
        if path.exists():
            path.unlink()
        write_region_file(region, path)
        written.append(path)
    return written


# -- the demo -----------------------------------------------------------------------------------------


def demo(cli, out: Path, data: Path = HERE / "data") -> int:
    """Each region's commune through the cycle with the installed cdt (cli: build_district.Cli):
    init, import its spreadsheet, pack, then its district merges the pack and reports. Returns how
    many communes went through; one that stops is shown with cdt's own message, and the others go on."""
    from datetime import date, timedelta

    if not all((data / r["file"]).exists() for r in REGIONS):
        write_all(data)
    month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")  # the last whole month
    done = 0
    for region in REGIONS:
        print(f"\n== {region['region']}: {region['name']} ({region['code']}), "
              f"{region['district_name']}, {region['province_name']} ==", flush=True)
        folder = out / "regions" / region["code"]
        packs = folder / "packs"
        packs.mkdir(parents=True, exist_ok=True)
        commune = folder / f"{region['code']}.db"
        district = folder / f"huyen-{region['district']}.db"
        try:
            cli(commune, "init", "--commune", region["code"], "--structure", "legacy")
            cli(commune, "import", str(data / region["file"]), show=True)
            cli(commune, "pack", "--out", str(packs))
            cli(district, "init", "--district", region["district"])
            cli(district, "merge", str(packs))
            cli(district, "report", "--district", "--month", month, show=True)
        except Exception as error:  # the demo's Failed: cdt's message is already shown
            print(f"    Dừng ở {region['name']}: {error}", flush=True)
            continue
        done += 1
    return done


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "data"
    for written in write_all(target):
        print(written)
