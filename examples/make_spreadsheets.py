"""Write the example clerks' spreadsheets of five communes of Đại Từ district (Thái Nguyên, code 171).

Each file is shaped the way real commune lists arrive, so ``cdt import`` meets every case:

- 05767 Xã Phúc Lương — filled in on the ``cdt template`` workbook (clean), with a training.
- 05770 Xã Minh Tiến — a clerk's own sheet: title rows and merged cells, headers in capitals and in
  another order, a column-number row, the hamlet merged down its rows, phones typed as numbers,
  birth dates as text, names in decomposed Unicode (NFD), a signature footer.
- 05773 Xã Yên Lãng — a member list with five invalid rows (phone, second leader, gender, date,
  a sixth member in a team of at most five).
- 05776 Xã Đức Lương — typed in TCVN3 (ABC) with a .VnTime font, headers included.
- 05761 Thị trấn Hùng Sơn — typed in VNI-Windows with a VNI-Times font.

The names of hamlets and people are made up for the example; commune codes and names are the
official ones. Run: ``python examples/make_spreadsheets.py [OUT_DIR]`` (default: examples/data).
``COMMUNES`` is also read by the tests to know exactly which rows each file should import.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

ROLE_WORDS = {"leader": "Tổ trưởng", "deputy": "Tổ phó", "member": "Thành viên"}
GENDER_WORDS = {"male": "Nam", "female": "Nữ"}


def member(hamlet, name, role, gender, born, phone, affiliation, error=None):
    """One member row; error names what is wrong with it (the row is then not imported)."""
    return {"hamlet": hamlet, "full_name": name, "role": role, "gender": gender, "birth_year": born,
            "phone": phone, "affiliation": affiliation, "error": error}


COMMUNES = [
    {
        "code": "05767", "name": "Xã Phúc Lương", "file": "05767-phuc-luong-mau-cdt.xlsx", "style": "template",
        "decision": ("15/QĐ-UBND", "10/06/2022"),
        "hamlets": [("Xóm Đồng Danh", "xóm", 182, 410), ("Xóm Khuôn Lân", "xóm", 145, 322),
                    ("Xóm Đá Mài", "xóm", 210, 468), ("Xóm Na Lang", "xóm", 96, 215)],
        "members": [
            member("Xóm Đồng Danh", "Nguyễn Văn Hùng", "leader", "male", 1975, "0912345601", "Trưởng thôn/xóm"),
            member("Xóm Đồng Danh", "Lê Thị Hoa", "deputy", "female", 1994, "0987654302", "Đoàn Thanh niên"),
            member("Xóm Đồng Danh", "Trần Văn Nam", "member", "male", 1988, "0356123403", "Viettel"),
            member("Xóm Khuôn Lân", "Hoàng Văn Khánh", "leader", "male", 1970, "0912345604", "Trưởng thôn/xóm"),
            member("Xóm Khuôn Lân", "Ma Thị Thu", "deputy", "female", 1996, "0868123405", "Hội Phụ nữ"),
            member("Xóm Khuôn Lân", "Dương Văn Tiến", "member", "male", 2000, "0389123406", "Tình nguyện viên"),
            member("Xóm Đá Mài", "Phạm Văn Quang", "leader", "male", 1968, "0914123407", "Trưởng thôn/xóm"),
            member("Xóm Đá Mài", "Nguyễn Thị Lan", "member", "female", 1990, "0945123408", "Giáo viên"),
            member("Xóm Đá Mài", "Đỗ Văn Minh", "member", "male", 1985, "0977123409", "Công an xã"),
            member("Xóm Na Lang", "La Văn Sơn", "leader", "male", 1972, "0915123410", "Trưởng thôn/xóm"),
            member("Xóm Na Lang", "Lưu Thị Mai", "deputy", "female", 1998, "0336123411", "Đoàn Thanh niên"),
        ],
        "trainings": [("Kỹ năng số cơ bản cho Tổ CNSCĐ", "20/07/2022", "Sở Thông tin và Truyền thông", "Trực tiếp",
                       ["Nguyễn Văn Hùng", "Lê Thị Hoa", "Hoàng Văn Khánh", "Phạm Văn Quang", "La Văn Sơn"])],
    },
    {
        "code": "05770", "name": "Xã Minh Tiến", "file": "05770-minh-tien-danh-sach.xlsx", "style": "messy",
        "decision": ("45/QĐ-UBND", "10/06/2022"),
        "members": [
            member("Xóm Đồng Kim", "Nguyễn Đức Thắng", "leader", "male", 1973, "0912678001", "Trưởng xóm"),
            member("Xóm Đồng Kim", "Trần Thị Hằng", "deputy", "female", 1995, "0988678002", "Bí thư chi đoàn"),
            member("Xóm Đồng Kim", "Lý Văn Toàn", "member", "male", 1991, "0397678003", "Hội Nông dân"),
            member("Xóm Đồng Kim", "Vũ Thị Nhung", "member", "female", 1987, "0862678004", "Hội Phụ nữ"),
            member("Xóm Lập Thành", "Hà Văn Tuấn", "leader", "male", 1969, "0915678005", "Trưởng xóm"),
            member("Xóm Lập Thành", "Nông Thị Huệ", "member", "female", 1999, "0338678006", "Đoàn Thanh niên"),
            member("Xóm Lập Thành", "Triệu Văn Dũng", "member", "male", 1983, "0973678007", "Hội Cựu chiến binh"),
            member("Xóm Khuôn Ráng", "Đặng Văn Lực", "leader", "male", 1976, "0916678008", "Trưởng xóm"),
            member("Xóm Khuôn Ráng", "Ngô Thị Yến", "deputy", "female", 1997, "0359678009", "Đoàn Thanh niên"),
        ],
    },
    {
        "code": "05773", "name": "Xã Yên Lãng", "file": "05773-yen-lang-co-loi.xlsx", "style": "invalid",
        "decision": ("112/QĐ-UBND", "20/06/2022"),
        "members": [
            member("Xóm Cầu Trà", "Hoàng Văn Bảy", "leader", "male", 1971, "0912111001", "Trưởng xóm"),
            member("Xóm Cầu Trà", "Lê Thị Duyên", "deputy", "female", 1993, "0912 34", "Hội Phụ nữ", error="phone"),
            member("Xóm Cầu Trà", "Nguyễn Văn Cường", "leader", "male", 1980, "0985111003", "Hội Nông dân",
                   error="second_leader"),
            member("Xóm Cầu Trà", "Phan Thị Loan", "member", "female", 1990, "0346111004", "Giáo viên"),
            member("Xóm Đồng Kè", "Tạ Văn Hải", "leader", "male", 1966, "0913111005", "Trưởng xóm"),
            member("Xóm Đồng Kè", "Bùi Thị Thảo", "deputy", "female", 1995, "0869111006", "Đoàn Thanh niên"),
            member("Xóm Đồng Kè", "Mai Văn Phúc", "member", "male", 1984, "0374111007", "Viettel"),
            member("Xóm Đồng Kè", "Vi Thị Ngọc", "member", "female", 1998, "0388111008", "Tình nguyện viên"),
            member("Xóm Đồng Kè", "Chu Văn Thành", "member", "male", 1979, "0977111009", "Hội Cựu chiến binh"),
            member("Xóm Đồng Kè", "Lò Văn Kiên", "member", "male", 2001, "0394111010", "Tình nguyện viên",
                   error="team_full"),
            member("Xóm Tân Yên", "Đinh Văn Sáng", "leader", "male", 1974, "0916111011", "Trưởng xóm"),
            member("Xóm Tân Yên", "Lương Thị Xuân", "member", "Không rõ", 1992, "0368111012", "Hội Phụ nữ",
                   error="gender"),
            member("Xóm Tân Yên", "Hứa Văn Long", "member", "male", 1987, "0971111013", "VNPT", error="date"),
            member("Xóm Tân Yên", "Kiều Thị Vân", "member", "female", 1996, "0347111014", "Đoàn Thanh niên"),
        ],
    },
    {
        "code": "05776", "name": "Xã Đức Lương", "file": "05776-duc-luong-tcvn3.xlsx", "style": "tcvn3",
        "decision": ("27/QĐ-UBND", "08/06/2022"),
        "members": [
            member("Xóm Khuôn Thông", "Hoàng Văn Thắng", "leader", "male", 1970, "0912222001", "Trưởng xóm"),
            member("Xóm Khuôn Thông", "Nguyễn Thị Phương", "deputy", "female", 1994, "0985222002", "Hội Phụ nữ"),
            member("Xóm Khuôn Thông", "Trần Văn Đức", "member", "male", 1989, "0352222003", "Đoàn Thanh niên"),
            member("Xóm Đồng Tân", "Lê Văn Quyết", "leader", "male", 1967, "0914222004", "Trưởng xóm"),
            member("Xóm Đồng Tân", "Dương Thị Hường", "member", "female", 1991, "0367222005", "Giáo viên"),
            member("Xóm Đồng Tân", "Ma Văn Chiến", "member", "male", 1986, "0979222006", "Hội Cựu chiến binh"),
            member("Xóm Cây Sy", "Vương Văn Lợi", "leader", "male", 1972, "0917222007", "Trưởng xóm"),
            member("Xóm Cây Sy", "Hà Thị Nguyệt", "deputy", "female", 1999, "0388222008", "Đoàn Thanh niên"),
        ],
    },
    {
        "code": "05761", "name": "Thị trấn Hùng Sơn", "file": "05761-hung-son-vni.xlsx", "style": "vni",
        "decision": ("203/QĐ-UBND", "15/06/2022"),
        "members": [
            member("Tổ dân phố Sơn Tập", "Nguyễn Văn Thông", "leader", "male", 1969, "0912333001", "Tổ trưởng tổ dân phố"),
            member("Tổ dân phố Sơn Tập", "Phạm Thị Hạnh", "deputy", "female", 1993, "0983333002", "Đoàn Thanh niên"),
            member("Tổ dân phố Sơn Tập", "Lê Văn Tùng", "member", "male", 1990, "0363333003", "VNPT"),
            member("Tổ dân phố Chiến Thắng", "Trần Văn Hòa", "leader", "male", 1971, "0915333004", "Tổ trưởng tổ dân phố"),
            member("Tổ dân phố Chiến Thắng", "Vũ Thị Thủy", "member", "female", 1988, "0978333005", "Hội Phụ nữ"),
            member("Tổ dân phố Chiến Thắng", "Đào Văn Bình", "member", "male", 1982, "0394333006", "Công an xã"),
            member("Tổ dân phố Cầu Thành", "Hoàng Thị Lý", "leader", "female", 1975, "0916333007", "Tổ trưởng tổ dân phố"),
            member("Tổ dân phố Cầu Thành", "Ngô Văn Khải", "deputy", "male", 1997, "0339333008", "Đoàn Thanh niên"),
        ],
    },
]


def expected_members(commune: dict) -> list[dict]:
    """The members the commune's file holds after importing its spreadsheet (invalid rows left out)."""
    return [{k: m[k] for k in ("hamlet", "full_name", "role", "gender", "birth_year", "phone", "affiliation")}
            for m in commune["members"] if not m["error"]]


def hamlets_of(commune: dict) -> list[str]:
    return list(dict.fromkeys(m["hamlet"] for m in commune["members"]))


# -- writers -------------------------------------------------------------------------------------------


def write_template_file(commune: dict, path: Path) -> None:
    """The clean case: the cdt template, filled in sheet by sheet."""
    from openpyxl import load_workbook

    from cdt.intake.template import write_template

    write_template(path)
    book = load_workbook(path)
    number, decided = commune["decision"]
    for name, kind, households, working in commune["hamlets"]:
        book["Thôn xóm"].append([name, kind, households, working])
        book["Tổ CNSCĐ"].append([name, number, decided, decided])
    for m in commune["members"]:
        book["Thành viên"].append([m["hamlet"], m["full_name"], ROLE_WORDS[m["role"]], GENDER_WORDS[m["gender"]],
                                   m["birth_year"], m["phone"], m["affiliation"], decided])
    for topic, when, organiser, mode, people in commune["trainings"]:
        book["Tập huấn"].append([topic, when, organiser, mode, "; ".join(people)])
    book.save(path)


def _title_rows(ws, commune: dict, width: int, encode=lambda s: s) -> int:
    """The administrative heading clerks put above a list; returns the header's row number."""
    from openpyxl.styles import Alignment, Font

    number, decided = commune["decision"]
    rows = [
        (1, 1, 3, "UBND HUYỆN ĐẠI TỪ"), (1, 4, width, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        (2, 1, 3, f"UBND {commune['name'].upper()}"), (2, 4, width, "Độc lập - Tự do - Hạnh phúc"),
        (4, 1, width, "DANH SÁCH THÀNH VIÊN TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG"),
        (5, 1, width, f"(Kèm theo Quyết định số {number} ngày {decided} của UBND {commune['name']})"),
    ]
    for row, first, last, text in rows:
        ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
        cell = ws.cell(row=row, column=first, value=encode(text))
        cell.font = Font(bold=row != 5, italic=row == 5)
        cell.alignment = Alignment(horizontal="center")
    return 7


def write_messy_file(commune: dict, path: Path) -> None:
    """A clerk's own list: title rows, merged cells, odd headers, numbers and NFD text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    ws = book.active
    ws.title = "DS thanh vien"
    headers = ["STT", "HỌ VÀ TÊN", "Ngày sinh", "Giới tính", "Xóm", "Chức vụ trong tổ",
               "Chức vụ, đơn vị công tác", "SĐT", "Ghi chú"]
    header_row = _title_rows(ws, commune, len(headers))
    for col, text in enumerate(headers, 1):
        ws.cell(row=header_row, column=col, value=text).font = Font(bold=True)
    for col in range(1, len(headers) + 1):
        ws.cell(row=header_row + 1, column=col, value=f"({col})")
    row = header_row + 2
    nfd = lambda s: unicodedata.normalize("NFD", s)
    for hamlet in hamlets_of(commune):
        rows = [m for m in commune["members"] if m["hamlet"] == hamlet]
        ws.merge_cells(start_row=row, start_column=5, end_row=row + len(rows) - 1, end_column=5)
        ws.cell(row=row, column=5, value=nfd(hamlet.replace("Xóm ", "")))
        for i, m in enumerate(rows):
            r = row + i
            ws.cell(row=r, column=1, value=r - header_row - 1)
            ws.cell(row=r, column=2, value=nfd(m["full_name"]) + " ")
            ws.cell(row=r, column=3, value=f"{(r % 27) + 1:02d}/{(r % 12) + 1:02d}/{m['birth_year']}")
            ws.cell(row=r, column=4, value=GENDER_WORDS[m["gender"]].upper())
            ws.cell(row=r, column=6, value={"leader": "Tổ trưởng", "deputy": "Tổ phó", "member": "Tổ viên"}[m["role"]])
            ws.cell(row=r, column=7, value=nfd(m["affiliation"]))
            ws.cell(row=r, column=8, value=int(m["phone"]))  # typed as a number: the leading 0 is lost
        row += len(rows)
    ws.cell(row=row + 1, column=2, value=f"Tổng số: {len(commune['members'])} thành viên")
    ws.cell(row=row + 3, column=7, value="Người lập biểu")
    book.save(path)


def write_invalid_file(commune: dict, path: Path) -> None:
    """A plain list where some rows break the rules."""
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = "Thành viên tổ"
    ws.append(["DANH SÁCH THÀNH VIÊN TỔ CNSCĐ " + commune["name"].upper()])
    ws.append([f"Quyết định số {commune['decision'][0]} ngày {commune['decision'][1]}"])
    ws.append([])
    ws.append(["TT", "Họ tên", "Thôn", "Vai trò", "Điện thoại", "Giới tính", "Năm sinh", "Đơn vị", "Ngày tham gia"])
    for i, m in enumerate(commune["members"], 1):
        gender = m["gender"] if m["error"] == "gender" else GENDER_WORDS[m["gender"]]
        joined = "31/02/2023" if m["error"] == "date" else commune["decision"][1]
        ws.append([i, m["full_name"], m["hamlet"], ROLE_WORDS[m["role"]], m["phone"], gender, m["birth_year"],
                   m["affiliation"], joined])
    book.save(path)


def write_legacy_file(commune: dict, path: Path, encoding: str) -> None:
    """A list typed with a TCVN3 or VNI keyboard: every text cell holds the legacy bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from cdt.intake import old_encodings as legacy

    def encode(text: str) -> str:
        encoded = legacy.encode(text, encoding)
        assert legacy.convert(encoded, encoding) == text or text.isupper(), text
        return encoded

    font = Font(name=".VnTime" if encoding == "tcvn3" else "VNI-Times")
    book = Workbook()
    ws = book.active
    ws.title = "Danh sach"
    headers = ["STT", "Họ và tên", "Năm sinh", "Giới tính", "Thôn/xóm", "Chức vụ trong tổ", "Đơn vị công tác",
               "Số điện thoại"]
    header_row = _title_rows(ws, commune, len(headers), encode)
    for col, text in enumerate(headers, 1):
        ws.cell(row=header_row, column=col, value=encode(text)).font = Font(name=font.name, bold=True)
    for i, m in enumerate(commune["members"], 1):
        values = [i, encode(m["full_name"]), m["birth_year"], encode(GENDER_WORDS[m["gender"]]), encode(m["hamlet"]),
                  encode(ROLE_WORDS[m["role"]]), encode(m["affiliation"]), m["phone"]]
        for col, value in enumerate(values, 1):
            ws.cell(row=header_row + i, column=col, value=value).font = font
    book.save(path)


def write_all(out: Path) -> list[Path]:
    """Write every commune's spreadsheet into out (existing files are replaced)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for commune in COMMUNES:
        path = out / commune["file"]
        if path.exists():
            path.unlink()
        style = commune["style"]
        if style == "template":
            write_template_file(commune, path)
        elif style == "messy":
            write_messy_file(commune, path)
        elif style == "invalid":
            write_invalid_file(commune, path)
        else:
            write_legacy_file(commune, path, style)
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "data"
    for written in write_all(target):
        print(written)
