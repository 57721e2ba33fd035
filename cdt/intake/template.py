"""The empty import workbook a clerk fills in: a sheet per table with drop-downs, and the instructions."""

from __future__ import annotations

from pathlib import Path

from cdt.core.errors import InvalidInput, os_reason
from cdt.core.files import written_whole
from cdt.domain.kinds import HAMLET_KINDS
from cdt.intake.headers import HAMLET, KINDS, MEMBER, TEAM, TRAINING, VISIT
from cdt.intake.sheets import column_letter

# The template's sheets (also what the instructions name).
SHEET_TITLES = {HAMLET: "Thôn xóm", TEAM: "Tổ CNSCĐ", MEMBER: "Thành viên", TRAINING: "Tập huấn",
                VISIT: "Lượt hỗ trợ"}

# The label each field carries in the template (and in problems when the sheet had no header for it).
TEMPLATE_COLUMNS: dict[str, list[tuple[str, str, int]]] = {
    HAMLET: [("hamlet", "Tên thôn/xóm", 24), ("kind", "Loại", 14), ("households", "Số hộ", 10),
             ("working_age", "Số người trong độ tuổi lao động", 18)],
    TEAM: [("hamlet", "Thôn/xóm", 24), ("decision_number", "Số quyết định thành lập", 22),
           ("decision_date", "Ngày quyết định", 16), ("founded_on", "Ngày thành lập", 16)],
    MEMBER: [("hamlet", "Thôn/xóm", 22), ("full_name", "Họ và tên", 26), ("role", "Chức vụ trong tổ", 16),
             ("gender", "Giới tính", 10), ("birth_year", "Năm sinh", 10), ("phone", "Số điện thoại", 15),
             ("affiliation", "Đơn vị công tác", 24), ("joined_on", "Ngày tham gia", 14)],
    TRAINING: [("topic", "Nội dung tập huấn", 36), ("date", "Ngày tập huấn", 14), ("organiser", "Đơn vị tổ chức", 24),
               ("mode", "Hình thức", 14), ("attendees", "Người tham dự", 48)],
    VISIT: [("date", "Ngày hỗ trợ", 14), ("hamlet", "Tổ (thôn/xóm)", 22), ("household", "Mã hộ", 12),
            ("people", "Số người được hỗ trợ", 12), ("services", "Dịch vụ", 36),
            ("visitors", "Thành viên hỗ trợ", 36), ("notes", "Ghi chú", 30)],
}

AFFILIATIONS = (
    "Trưởng thôn/xóm", "Bí thư chi bộ", "Đoàn Thanh niên", "Hội Phụ nữ", "Hội Nông dân", "Hội Cựu chiến binh",
    "Công an xã", "Viettel", "VNPT", "Tình nguyện viên", "Giáo viên",
)
_ROLE_CHOICES = ("Tổ trưởng", "Tổ phó", "Thành viên")
_GENDER_CHOICES = ("Nam", "Nữ")
_MODE_CHOICES = ("Trực tiếp", "Trực tuyến", "OneTouch", "Bình dân học vụ số")


def write_template(path: str | Path) -> Path:
    """Write the empty import workbook: a sheet per table with drop-downs, and the instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    path = Path(path)
    if path.exists():
        raise InvalidInput("template.exists", file=str(path))
    book = Workbook()
    guide = book.active
    guide.title = "Hướng dẫn"
    lists = book.create_sheet("Danh mục")
    choices = {"kind": HAMLET_KINDS, "role": _ROLE_CHOICES, "gender": _GENDER_CHOICES,
               "affiliation": AFFILIATIONS, "mode": _MODE_CHOICES}
    ranges = {}
    for col, (name, values) in enumerate(choices.items(), 1):
        letter = column_letter(col - 1)
        for i, value in enumerate(values, 1):
            lists.cell(row=i, column=col, value=value)
        ranges[name] = f"'Danh mục'!${letter}$1:${letter}${len(values)}"
    lists.sheet_state = "hidden"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for kind in KINDS:
        ws = book.create_sheet(SHEET_TITLES[kind])
        for col, (name, label, width) in enumerate(TEMPLATE_COLUMNS[kind], 1):
            cell = ws.cell(row=1, column=col, value=label)
            cell.font = bold
            cell.fill = fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            letter = column_letter(col - 1)
            ws.column_dimensions[letter].width = width
            if name in ("phone", "decision_number"):
                for r in range(2, 502):
                    ws.cell(row=r, column=col).number_format = "@"  # keep the leading 0 of phone numbers
            if name in choices and not (kind == TRAINING and name != "mode"):
                strict = name != "affiliation"
                dv = DataValidation(type="list", formula1=ranges[name], allow_blank=True,
                                    showErrorMessage=strict, errorTitle="Giá trị không hợp lệ",
                                    error="Chọn một giá trị trong danh sách.")
                dv.add(f"{letter}2:{letter}500")
                ws.add_data_validation(dv)
        ws.freeze_panes = "A2"
    guide.column_dimensions["A"].width = 110
    lines = [
        ("MẪU NHẬP LIỆU TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG (cdt)", True),
        ("", False),
        ("Điền các trang theo thứ tự, mỗi dòng một thôn/xóm, một tổ, một thành viên hoặc một buổi tập huấn; "
         "giữ nguyên dòng tiêu đề (dòng 1).", False),
        (f"• {SHEET_TITLES[HAMLET]}: tên thôn/xóm/tổ dân phố, loại (chọn trong danh sách), số hộ, "
         "số người trong độ tuổi lao động.", False),
        (f"• {SHEET_TITLES[TEAM]}: thôn/xóm của tổ, số và ngày quyết định thành lập (dd/mm/yyyy), ngày thành lập.",
         False),
        (f"• {SHEET_TITLES[MEMBER]}: thôn/xóm của tổ, họ và tên, chức vụ trong tổ (tổ trưởng, tổ phó, thành viên), "
         "giới tính, năm sinh, số điện thoại (10 số, bắt đầu bằng 0), đơn vị công tác, ngày tham gia. "
         "Thôn và tổ chưa có sẽ được tạo.", False),
        (f"• {SHEET_TITLES[TRAINING]}: nội dung, ngày tập huấn, đơn vị tổ chức, hình thức; người tham dự ghi họ tên "
         "cách nhau bằng dấu chấm phẩy (;), thêm thôn trong ngoặc nếu trùng tên, ví dụ: Nguyễn Văn An (Xóm Đồng Tâm).",
         False),
        (f"• {SHEET_TITLES[VISIT]} (nếu có): ngày, tổ (tên thôn/xóm), mã hộ trong sổ của xã (không ghi tên người), "
         "số người được hỗ trợ, dịch vụ (ví dụ: VNeID; dịch vụ công; C-Thái Nguyên), thành viên đi hỗ trợ.", False),
        ("", False),
        ("Mỗi tổ tối đa số thành viên theo cài đặt (mặc định 5) và chỉ một tổ trưởng.", False),
        ("Nhập: cdt import <tệp>.xlsx --dry-run để xem trước; cdt import <tệp>.xlsx để nhập. "
         "Nếu có dòng lỗi, không dòng nào được ghi (trừ khi dùng --only-valid). Nhập lại cùng tệp không tạo bản ghi trùng.",
         False),
    ]
    for i, (text, strong) in enumerate(lines, 1):
        cell = guide.cell(row=i, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True)
        if strong:
            cell.font = Font(bold=True, size=13)
    book.active = 0
    if path.exists():
        raise InvalidInput("template.exists", file=str(path))
    # Written whole or not at all: a full disk never leaves half a workbook behind.
    try:
        with written_whole(path, replace=False) as partial:
            book.save(partial)
    except FileExistsError:
        raise InvalidInput("template.exists", file=str(path)) from None
    except OSError as exc:
        raise InvalidInput("template.cannot_write", file=str(path), reason=os_reason(exc)) from exc
    return path
