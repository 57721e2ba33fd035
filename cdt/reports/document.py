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
from dataclasses import dataclass
from datetime import date, datetime

from cdt.core.i18n import t
from cdt.core.text import nfc
from cdt.domain import letterhead

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
    ("people_helped", "person_visits", NUMBER),
)
# Flows report.py may add (keys are only ever added to the report): shown when present.
OPTIONAL_FLOW_ROWS = (("digital_citizens", "person_visits", NUMBER),)
PERCENT_KEYS = {key for key, _, fmt in STOCK_ROWS + FLOW_ROWS if fmt == PERCENT}
SERVICES_PER_SHEET = 4


@dataclass
class SummaryRow:
    """One line of section I: a stock (one figure) or a flow (month, year to date, since the start)."""

    key: str
    label: str
    measure: str
    fmt: str
    values: list
    stock: bool
    missing: bool = False  # a rate that does not stand: "chưa đủ số liệu"
    note: str | None = None  # what a rate stands on, under it: "tính trên 1/5 xã có số hộ"


@dataclass
class Ranking:
    """A bar chart's bars, ranked: the first ones by name, the rest as one bar, the units at zero named."""

    bars: list[tuple[str, float]]
    others: tuple[int, float] | None
    zeros: list[str]


# A bar chart of more units than this shows the first CHART_TOP and one bar for the rest.
CHART_MAX_BARS = 20
CHART_TOP = 15


class Document:
    """The report as the document shows it: what every page needs, parsed once and tolerant of missing keys."""

    def __init__(self, report: dict, *, number=None, place=None, signer=None, preparer=None, all_units=False):
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
        self.dc_services = [str(code) for code in report.get("digital_citizen_services") or []]
        self.completeness = list(report.get("completeness") or [])
        self.targets = list(report.get("targets") or [])
        self.notes = [note for note in (report.get("notes") or []) if note]
        trends = report.get("trends")
        self.trends = trends if isinstance(trends, dict) and trends.get("months") else None
        self.number = number
        self.place = place if place else _strip_type(self.unit_name)
        self.all_units = all_units
        settings = report.get("letterhead") if isinstance(report.get("letterhead"), dict) else {}
        self.letter = letterhead.resolve(self._letterhead_unit(), settings, signer=signer, preparer=preparer)
        self.signer = self.letter.signer_name
        self.preparer = self.letter.preparer

    def _letterhead_unit(self) -> letterhead.Unit:
        superior = None
        if self.level == "commune":
            superior = (self.parent or {}).get("name") or (self.province or {}).get("name")
        elif self.level == "district":
            superior = (self.province or {}).get("name")
        return letterhead.Unit(level=self.level, name=self.unit_name,
                               superior=printable(superior) if superior else None)

    def col_month(self) -> str:
        """The head of a column of the report's month."""
        return t("xlsx_report.col_month", month=f"{self.month:02d}", year=self.year)

    def col_ytd(self) -> str:
        """The head of a column of the year to date."""
        return t("xlsx_report.col_ytd", year=self.year)

    def subtitle(self) -> str:
        """The unit and month under an appendix's title."""
        return t("xlsx_report.sheet_subtitle", unit=self.unit_name, month=self.month_text, year=self.year)

    def footer(self) -> str:
        """The unit and the report's month, printed beside the page number at the foot of every page."""
        return t("xlsx_report.footer", unit=self.unit_name, month=self.month_text, year=self.year)

    def level_label(self, row_level: str) -> str:
        """The head of the unit column for rows of the given level (hamlet, commune, district)."""
        if row_level == "commune" and self.structure_2025:
            return t("xlsx_report.row_level.commune_2025")
        key = f"xlsx_report.row_level.{row_level}"
        label = t(key)
        return t("xlsx_report.col_unit") if label == key else label

    def unit_word(self, row_level: str | None = None) -> str:
        """How a count of units names them in a sentence ('27 xã', '4 thôn')."""
        return t(f"xlsx_report.unit_word.{row_level or self.row_level}")

    def heading(self) -> tuple[str, str, bool]:
        """The issuing body, top left: the line above it, the body's line, and whether the first is bold."""
        return self.letter.parent, self.letter.issuer, self.letter.parent_bold

    def number_line(self) -> str:
        """'Số: 25/BC-UBND'; without a number, room to write it by hand before the symbol."""
        return self.letter.number_line(self.number)

    def sign_lines(self) -> list[str]:
        """The authority and the signer's title, above the signature."""
        return list(self.letter.sign_lines)

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
        """'Nơi nhận:' and the recipients under it (the setting, else the superior body and the archive)."""
        return [t("xlsx_report.recipients"), *self.letter.recipients]

    # -- section I ------------------------------------------------------------------------------

    def rate_note(self, entry, *, always: bool = False) -> tuple[bool, str | None]:
        """Whether a rate does not stand, and what it stands on when not every unit recorded its base
        ('tính trên 3/5 xã có số hộ'; 'chỉ 1/5 xã có số hộ' under "chưa đủ số liệu"); always: even
        when every unit did."""
        if not isinstance(entry, dict) or not entry.get("units"):
            return False, None
        based, units = int(entry.get("base_units") or 0), int(entry.get("units") or 0)
        words = {"based": based, "units": units, "unit": self.unit_word(str(entry.get("unit_level") or "commune")),
                 "base": t(f"xlsx_report.rate_has.{entry.get('base')}")}
        if entry.get("base") == "hamlets" and entry.get("unit_level") == "hamlet":
            # Every hamlet is its own base: "tính trên 4/4 thôn".
            return False, t("xlsx_report.rate_units", **words) if always else None
        if not entry.get("sufficient"):
            return True, t("xlsx_report.rate_missing", **words)
        if based < units or always:
            return False, t("xlsx_report.rate_partial", **words)
        return False, None

    def summary_rows(self) -> list[SummaryRow]:
        """Section I: the stocks at the month's end, then the flows, each rate with what it stands on."""
        total, rates = self.total, self.total.get("rates") or {}
        rows = []
        for key, measure, fmt in STOCK_ROWS:
            missing, note = self.rate_note(rates.get(key)) if fmt == PERCENT else (False, None)
            rows.append(SummaryRow(key, t(f"xlsx_report.ind.{key}"), t(f"xlsx_report.measure.{measure}"), fmt,
                                   [stock_value(total, key)], True, missing, note))
        for key, measure, fmt in self.flows:
            missing, note = self.rate_note(rates.get(key)) if fmt == PERCENT else (False, None)
            rows.append(SummaryRow(key, t(f"xlsx_report.ind.{key}"), t(f"xlsx_report.measure.{measure}"), fmt,
                                   [flow_value(total, key, part) for part in ("month", "ytd", "total")], False,
                                   missing, note))
        return rows

    def target_note(self, target: dict) -> tuple[bool, str | None]:
        """As rate_note, for a percent target."""
        if not target.get("percent") or "units" not in target:
            return False, None
        return self.rate_note({**target, "base": target.get("base")})

    # -- the appendices' rows -------------------------------------------------------------------

    def fold(self, rows: list[dict], shows) -> tuple[list[dict], list[str]]:
        """The rows a table prints (in the official order) and the names of those folded into one
        line because they have nothing to show in it (every row with --all-units)."""
        shown, folded = [], []
        for row in rows:
            if self.all_units or shows(row):
                shown.append(row)
            else:
                folded.append(unit_name(row))
        return shown, folded

    def fold_line(self, kind: str, names: list[str], row_level: str | None = None) -> str | None:
        """'27 xã chưa có hoạt động trong năm 2026: …' for the rows a table folded."""
        if not names:
            return None
        return t(f"xlsx_report.folded.{kind}", count=len(names), unit=self.unit_word(row_level), year=self.year,
                 names=", ".join(names))

    def ranking(self, rows: list[dict], key: str = "people_helped", part: str = "month") -> Ranking:
        """Units ranked by a flow: all of them up to CHART_MAX_BARS bars, else the first CHART_TOP and
        one bar for the rest; units at zero are named, not drawn."""
        valued = [(unit_name(row), flow_value(row, key, part) or 0) for row in rows]
        zeros = [name for name, value in valued if not value]
        ranked = sorted(((name, value) for name, value in valued if value), key=lambda item: -item[1])
        if len(rows) > CHART_MAX_BARS and len(ranked) > CHART_TOP:
            rest = ranked[CHART_TOP:]
            return Ranking(ranked[:CHART_TOP], (len(rest), sum(value for _, value in rest)), zeros)
        return Ranking(ranked, None, zeros)

    def others_label(self, count: int, row_level: str | None = None) -> str:
        """The bar of the units beyond the first ones: '12 xã khác'."""
        return t("xlsx_report.chart_others", count=count, unit=self.unit_word(row_level))

    def zeros_line(self, names: list[str], row_level: str | None = None) -> str | None:
        """The sentence under a chart naming the units with nobody helped in the month."""
        if not names:
            return None
        return t("xlsx_report.chart_zeros", count=len(names), unit=self.unit_word(row_level),
                 month=f"{self.month:02d}", year=self.year, names=", ".join(names))

    # -- notes and definitions ------------------------------------------------------------------

    def completeness_counts(self) -> tuple[int, int, list[str]]:
        """Units expected, units whose pack came, and the names of those missing."""
        sent = sum(1 for entry in self.completeness if entry.get("reported"))
        missing = [unit_name(entry) for entry in self.completeness if not entry.get("reported")]
        return len(self.completeness), sent, missing

    def summary_notes(self, completeness_numeral: str = "") -> list[str]:
        """The report's notes, then (above a commune) how many units sent their pack and who did not:
        by name when they are few, else by count (the reporting-status appendix names them)."""
        notes = [str(note) for note in self.notes]
        if self.level != "commune":
            expected, sent, missing = self.completeness_counts()
            said = t("report.note_missing", count=len(missing), total=expected)
            notes = [note for note in notes if note != said]  # the sentence below says it too
            if expected and missing and len(missing) <= MISSING_BY_NAME:
                notes.append(t("xlsx_report.completeness_some", sent=sent, expected=expected,
                               missing=", ".join(missing)))
            elif expected and missing:
                notes.append(t("xlsx_report.completeness_many", sent=sent, expected=expected, count=len(missing),
                               unit=self.unit_word("commune"), numeral=completeness_numeral))
            elif expected:
                notes.append(t("xlsx_report.completeness_all", expected=expected))
        return notes

    def method_lines(self) -> list[tuple[str, str]]:
        """'Cách tính': one line for every indicator the document shows, in the order it shows them."""
        lines = []
        shown = [key for key, _, _ in STOCK_ROWS] + [key for key, _, _ in self.flows]
        for key in shown:
            text = t(f"xlsx_report.method.{key}", unit=self.unit_word("commune" if self.level != "commune"
                                                                           else "hamlet"))
            if key == "digital_citizens":
                names = {str(s.get("code")): str(s.get("name") or s.get("code")) for s in self.services}
                listed = ", ".join(names.get(code, code) for code in self.dc_services) or "–"
                text = t("xlsx_report.method.digital_citizens", services=listed)
            lines.append((t(f"xlsx_report.ind.{key}"), text))
        if self.services:
            lines.append((t("xlsx_report.by_service").rstrip(":"), t("xlsx_report.method.by_service")))
        lines.append((t("xlsx_report.method.periods_label"), t("xlsx_report.method.periods", year=self.year)))
        if any(target.get("percent") for target in self.targets):
            lines.append((t("xlsx_report.method.targets_label"), t("xlsx_report.method.targets")))
        lines.append((t("xlsx_report.method.rates_label"), t("xlsx_report.method.rates")))
        return lines


# Above this many units missing, the summary counts them and the reporting-status appendix names them.
MISSING_BY_NAME = 5


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
    return printable(unit.get("name") or unit.get("code") or "")


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


# -- what a unit's row has to show in each appendix (a row with nothing is folded into one line) ---


def shows_register(row: dict) -> bool:
    """A unit with any hamlet, team or member recorded."""
    return any(stock_value(row, key) for key, _, fmt in STOCK_ROWS if fmt != PERCENT)


def shows_activity(row: dict) -> bool:
    """A unit with any visit, household or person helped in the month or the year to date."""
    return any(flow_value(row, key, part) for key, _, fmt in FLOW_ROWS + OPTIONAL_FLOW_ROWS if fmt != PERCENT
               for part in ("month", "ytd"))


def shows_services(row: dict) -> bool:
    """A unit with anybody helped in the month or the year to date."""
    return any(flow_value(row, "people_helped", part) for part in ("month", "ytd"))


def shows_trend(row: dict) -> bool:
    """A unit of the trend with anybody helped in one of its months."""
    return any(isinstance(v, (int, float)) and v for v in row.get("people_helped") or [])


def shows_completeness(entry: dict) -> bool:
    """A unit that sent its pack, or whose data reached the file some other month."""
    return bool(entry.get("reported") or entry.get("packed_at") or entry.get("merged_at"))
