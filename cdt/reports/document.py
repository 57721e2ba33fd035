"""The Nghị định 30 document of the monthly report: heading, numbering, signature block (xlsx and HTML render it).

The layout follows Nghị định 30/2020/NĐ-CP: issuing body under its superior (top left), national
motto (top right), number, place and date, title and subject, the tables, then "Nơi nhận" and
the signature block. ``Document`` reads the plain dict of ``docs/report-shape.md`` once and gives
both renderers (``cdt/export.py``, ``cdt/reports/html.py``) the same texts and figures: the
``xlsx_report.*`` messages, the indicators' rows, unit names as a sentence or a heading writes
them. Nothing here queries the database or writes a file.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from cdt.core.i18n import t
from cdt.core.text import nfc

# Format codes in an .xlsx file are always written in the invariant (en-US) syntax: "," means
# "group thousands" and "." means "decimal point". Excel and LibreOffice then display them with
# the viewer's locale, so a Vietnamese machine shows 12.345 and 24,6 %.
NUMBER = "#,##0"
PERCENT = "0.0%"
DATE = "dd/mm/yyyy"

# Control characters XML 1.0 cannot carry, lone surrogates and U+FFFE/U+FFFF.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MAX_CELL_TEXT = 32767  # Excel's limit per cell
NUMERALS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV")

# Type words that start a unit's name, longest first: "Thị trấn Hùng Sơn" -> "Hùng Sơn".
_TYPE_WORDS = ("thành phố", "thị trấn", "thị xã", "đặc khu", "phường", "huyện", "quận", "tỉnh", "xã")

# (indicator key, measure key, format); stocks are counted at the end of the month.
STOCK_ROWS = (
    ("teams", "teams", NUMBER),
    ("teams_with_decision", "teams", NUMBER),
    ("hamlets", "hamlets", NUMBER),
    ("hamlets_covered", "hamlets", NUMBER),
    ("hamlets_covered_pct", "percent", PERCENT),
    ("members", "people", NUMBER),
    ("members_trained", "people", NUMBER),
    ("members_trained_pct", "percent", PERCENT),
    ("households", "households", NUMBER),
    ("working_age", "people", NUMBER),
)
# Flows have a month, a year-to-date and a since-the-start value.
FLOW_ROWS = (
    ("visits", "visits", NUMBER),
    ("households_reached", "households", NUMBER),
    ("households_reached_pct", "percent", PERCENT),
    ("people_helped", "people", NUMBER),
)
# Flows report.py may add (keys are only ever added to the report): shown when present.
OPTIONAL_FLOW_ROWS = (("digital_citizens", "people", NUMBER),)
PERCENT_KEYS = {key for key, _, fmt in STOCK_ROWS + FLOW_ROWS if fmt == PERCENT}
SERVICES_PER_SHEET = 4


class Document:
    """The report as the document shows it: what every page needs, parsed once and tolerant of missing keys."""

    def __init__(self, report: dict, *, number, place, signer, preparer):
        self.level = str(report.get("level") or "commune")
        self.unit = report.get("unit") or {}
        self.parent = report.get("parent") or None
        self.province = report.get("province") or None
        self.unit_name = printable(self.unit.get("name") or "")
        self.structure_2025 = str(self.unit.get("structure") or "legacy") != "legacy"
        self.year, self.month = _parse_month(report.get("month"), report.get("period"))
        self.month_text = _nd30_number(self.month, self.month <= 2)
        period = report.get("period") or {}
        self.start = parse_date(period.get("start")) or date(self.year, self.month, 1)
        self.end = parse_date(period.get("end")) or _month_end(self.year, self.month)
        self.generated = parse_date(report.get("generated_at")) or date.today()
        self.row_level = str(report.get("row_level") or "hamlet")
        self.rows = list(report.get("rows") or [])
        self.commune_rows = list(report.get("commune_rows") or [])
        self.total = report.get("total") or {}
        self.flows = FLOW_ROWS + tuple(f for f in OPTIONAL_FLOW_ROWS if isinstance(self.total.get(f[0]), dict))
        self.services = list(report.get("services") or [])
        self.completeness = list(report.get("completeness") or [])
        self.targets = list(report.get("targets") or [])
        self.notes = [note for note in (report.get("notes") or []) if note]
        trends = report.get("trends")
        self.trends = trends if isinstance(trends, dict) and trends.get("months") else None
        self.number = number
        self.place = place if place else _strip_type(self.unit_name)
        self.signer = signer
        self.preparer = preparer

    def col_month(self) -> str:
        """The head of a column of the report's month."""
        return t("xlsx_report.col_month", month=f"{self.month:02d}", year=self.year)

    def col_ytd(self) -> str:
        """The head of a column of the year to date."""
        return t("xlsx_report.col_ytd", year=self.year)

    def subtitle(self) -> str:
        """The unit and month under an appendix's title."""
        return t("xlsx_report.sheet_subtitle", unit=self.unit_name, month=self.month_text, year=self.year)

    def level_label(self, row_level: str) -> str:
        """The head of the unit column for rows of the given level (hamlet, commune, district)."""
        if row_level == "commune" and self.structure_2025:
            return t("xlsx_report.row_level.commune_2025")
        key = f"xlsx_report.row_level.{row_level}"
        label = t(key)
        return t("xlsx_report.col_unit") if label == key else label

    def heading(self) -> tuple[str, str, bool]:
        """The issuing body, top left: the superior's line, the body's line, and whether the first is bold."""
        superior_name = None
        if self.level == "commune":
            superior_name = (self.parent or {}).get("name") or (self.province or {}).get("name")
        elif self.level == "district":
            superior_name = (self.province or {}).get("name")
        unit_upper = _upper(self.unit_name)
        if superior_name:
            return t("xlsx_report.superior", unit=_upper(printable(superior_name))), \
                t("xlsx_report.body", unit=unit_upper), False
        # A province has no superior body: its own name goes on two lines, both bold.
        return t("xlsx_report.body_top"), t("xlsx_report.body_top_unit", unit=unit_upper), True

    def number_line(self) -> str:
        """'Số: 25/BC-UBND'; without a number, room to write it by hand before the suffix."""
        number = self.number
        if number and "/" not in number:
            number = f"{number}{t('xlsx_report.number_suffix')}"
        if not number:
            number = "\u2002\u2002\u2002\u2002\u2002" + t("xlsx_report.number_suffix")
        return t("xlsx_report.number", number=number)

    def place_date(self) -> str:
        """The place and the date the report was made, as Nghị định 30 writes them."""
        day = self.generated
        return t(
            "xlsx_report.place_date",
            place=self.place,
            day=_nd30_number(day.day, day.day < 10),
            month=_nd30_number(day.month, day.month <= 2),
            year=day.year,
        )

    def subject(self) -> str:
        """The report's subject under its title (the month and year)."""
        return t("xlsx_report.subject", month=self.month_text, year=self.year)

    def period_line(self) -> str:
        """The first and last day of the month the report covers."""
        return t("xlsx_report.period", start=self.start.strftime("%d/%m/%Y"), end=self.end.strftime("%d/%m/%Y"))

    def recipients(self) -> list[str]:
        """'Nơi nhận:' and the recipients under it: the superior body (the ministry for a province), the archive."""
        recipients = [t("xlsx_report.recipients")]
        if self.level == "province":
            recipients.append(t("xlsx_report.recipient_ministry"))
        else:
            superior = (self.parent or {}).get("name") if self.level == "commune" else None
            superior = superior or (self.province or {}).get("name")
            if superior:
                recipients.append(t("xlsx_report.recipient_superior", unit=_in_sentence(printable(superior))))
        recipients.append(t("xlsx_report.recipient_archive"))
        return recipients

    def completeness_counts(self) -> tuple[int, int, list[str]]:
        """Units expected, units whose pack came, and the names of those missing."""
        sent = sum(1 for entry in self.completeness if entry.get("reported"))
        missing = [unit_name(entry) for entry in self.completeness if not entry.get("reported")]
        return len(self.completeness), sent, missing

    def summary_notes(self) -> list[str]:
        """The report's notes, then (above a commune) how many units sent their pack and who did not."""
        notes = [str(note) for note in self.notes]
        if self.level != "commune":
            expected, sent, missing = self.completeness_counts()
            if expected and missing:
                missing_names = ", ".join(missing)
                notes.append(t("xlsx_report.completeness_some", sent=sent, expected=expected, missing=missing_names))
            elif expected:
                notes.append(t("xlsx_report.completeness_all", expected=expected))
        return notes


def _parse_month(value, period) -> tuple[int, int]:
    text = str(value or "")
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
    if match and 1 <= int(match.group(2)) <= 12:
        return int(match.group(1)), int(match.group(2))
    start = parse_date((period or {}).get("start"))
    if start:
        return start.year, start.month
    today = date.today()
    return today.year, today.month


def parse_date(value) -> date | None:
    """A date from an ISO date or timestamp string (or a date); None when absent or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _month_end(year: int, month: int) -> date:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def _nd30_number(value: int, pad: bool) -> str:
    """Nghị định 30 writes days below 10 and the months 1 and 2 with a leading zero."""
    return f"{value:02d}" if pad else str(value)


def _split_type(name: str) -> tuple[str, str]:
    """('Thị trấn', 'Hùng Sơn') for 'Thị trấn Hùng Sơn'; ('', name) when no type word leads."""
    folded = name.casefold()
    for word in _TYPE_WORDS:
        if folded.startswith(word + " ") and len(name) > len(word) + 1:
            return name[: len(word)], name[len(word) + 1 :].strip()
    return "", name


def _strip_type(name: str) -> str:
    return _split_type(name)[1]


def _in_sentence(name: str) -> str:
    """A unit name inside a sentence: the type word in lower case ('UBND huyện Đại Từ')."""
    kind, rest = _split_type(name)
    return f"{kind.lower()} {rest}" if kind else name


def _upper(name: str) -> str:
    # str.upper is right for Vietnamese once the text is composed (NFC): ư -> Ư, đ -> Đ.
    return nfc(name).upper()


def printable(value) -> str:
    """Text as a cell may hold it: NFC, without characters that XML or Excel reject."""
    text = _ILLEGAL.sub("", nfc(str(value)))
    return text[:_MAX_CELL_TEXT]


def stock_value(row: dict, key: str):
    """A row's stock indicator as a number; None when absent or not a number."""
    value = row.get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def flow_value(row: dict, key: str, part: str):
    """A row's flow indicator for one part (month, ytd, total) as a number; None when absent."""
    value = row.get(key)
    if isinstance(value, dict):
        value = value.get(part)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return None


def service_value(row: dict, code: str, part: str):
    """People a row helped with one service, for one part (0 when nobody was)."""
    by_service = row.get("people_by_service")
    if not isinstance(by_service, dict):
        return None
    entry = by_service.get(code)
    if entry is None:
        return 0  # a service nobody in this unit was helped with
    return flow_value(by_service, code, part)


def unit_name(row: dict) -> str:
    """The name of a row's unit (its code when it has no name)."""
    unit = row.get("unit") or {}
    return str(unit.get("name") or unit.get("code") or "")


def number_or_none(value):
    """The value when it is a number (not a bool), else None."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def month_label(ym: str) -> str:
    """'2026-10' -> '10/2026'."""
    return f"{ym[5:7]}/{ym[:4]}" if len(ym) >= 7 else ym


def sentence_case(title: str) -> str:
    """'KẾT QUẢ HỖ TRỢ' -> 'Kết quả hỗ trợ' for a line of running text."""
    title = nfc(title)
    return title[:1] + title[1:].lower() if title.isupper() else title


def target_label(target: dict) -> str:
    """A target's indicator in words, with its base for a percent target."""
    indicator = str(target.get("indicator") or "")
    label = t(f"xlsx_report.ind.{indicator}")
    if label == f"xlsx_report.ind.{indicator}":
        label = indicator  # an indicator this version has no name for: show its key
    base = str(target.get("base") or "")
    if target.get("percent") and base:
        base_label = t(f"xlsx_report.ind.{base}")
        if base_label != f"xlsx_report.ind.{base}":
            base_label = base_label[:1].lower() + base_label[1:]
        label = t("xlsx_report.target_share", indicator=label, base=base_label)
    return label


def appendix_line(numeral: str, title: str) -> str:
    """An appendix as the summary lists it ('Phụ lục I: …', the title in sentence case)."""
    return t("xlsx_report.appendix_line", numeral=numeral, title=sentence_case(title))
