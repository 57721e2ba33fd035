"""The report's issuing body and signature block: the settings that name them, their checks, and the defaults per level and structure.

Nghị định 30/2020 heads a report with the issuing body under the body above it, numbers it with
the body's symbol (``25/BC-UBND``) and closes it with "Nơi nhận" and the signature: the authority
(TM. on behalf of a collective body, KT. signing for the head, TL. by the head's order, Q. acting),
the signer's title and name. A commune's People's Committee is the default at every level (today's
heading); a Sở, a Phòng or an office sets its own with ``cdt settings set``. An empty value means
the default, except for the authority, whose empty value means "none". Nothing here reads the
database: the store's settings and the file's unit come in as plain values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cdt.core.errors import InvalidInput
from cdt.core.i18n import t
from cdt.core.text import has_control_chars, nfc

KEYS = ("issuer", "issuer_parent", "doc_symbol", "signer_authority", "signer_title", "signer_name", "preparer",
        "recipients")
AUTHORITIES = ("TM.", "KT.", "TL.", "Q.")
# As stored when nothing was set: empty means "the default for the file's level and structure".
STORED_DEFAULTS = {key: "" for key in KEYS} | {"doc_symbol": "BC-UBND", "signer_authority": "TM."}
MAX_LENGTH = {"issuer": 120, "issuer_parent": 120, "doc_symbol": 30, "signer_authority": 3, "signer_title": 80,
              "signer_name": 60, "preparer": 60, "recipients": 600}
_SYMBOL = re.compile(r"[0-9A-Za-zÀ-ỹĐđ&.\-]+")
_NONE_WORDS = {"", "-", "không", "khong", "none"}
_COMMITTEE = ("ỦY BAN NHÂN DÂN", "UỶ BAN NHÂN DÂN", "UBND")
# The head of a body, from the first words of its name (for KT. and TL.).
_HEADS = (("VĂN PHÒNG", "CHÁNH VĂN PHÒNG"), ("PHÒNG", "TRƯỞNG PHÒNG"), ("SỞ", "GIÁM ĐỐC"), ("TRUNG TÂM", "GIÁM ĐỐC"),
          ("BAN", "TRƯỞNG BAN"), ("CỤC", "CỤC TRƯỞNG"), ("CHI CỤC", "CHI CỤC TRƯỞNG"))


def check(key: str, value: str) -> str:
    """A document setting's value as stored (NFC, trimmed), or the message of the rule it breaks."""
    value = nfc(value).strip()
    if has_control_chars(value):
        raise InvalidInput("settings.doc.control", key=key)
    if key == "signer_authority":
        if value.casefold() in _NONE_WORDS:
            return ""
        canonical = value.upper().rstrip(".") + "."
        if canonical not in AUTHORITIES:
            raise InvalidInput("settings.doc.authority", value=value, choices=", ".join(AUTHORITIES))
        return canonical
    limit = MAX_LENGTH[key]
    if len(value) > limit:
        raise InvalidInput("settings.doc.too_long", key=key, limit=limit, length=len(value))
    if key == "doc_symbol" and value and not _SYMBOL.fullmatch(value):
        raise InvalidInput("settings.doc.symbol", value=value)
    if key == "recipients":
        items = recipient_items(value)
        if any(len(item) > 150 for item in items):
            raise InvalidInput("settings.doc.recipient_long", limit=150)
        return "; ".join(items)
    return value


def recipient_items(value: str) -> list[str]:
    """'UBND huyện; Lưu VT' -> ['UBND huyện', 'Lưu VT']: items as typed, without list dashes and end marks."""
    items = []
    for part in value.split(";"):
        part = part.strip().lstrip("-–•").strip().rstrip(";.").strip()
        if part:
            items.append(part)
    return items


@dataclass
class Unit:
    """What the defaults need to know of the file's unit: its level and the names above it."""

    level: str
    name: str
    superior: str | None = None  # the district of a commune (the province of a 2025 commune), a district's province


@dataclass
class Letterhead:
    """The issuing body, number and signature block as a document prints them."""

    parent: str
    parent_bold: bool
    issuer: str
    symbol: str
    sign_lines: list[str]
    signer_name: str
    preparer: str
    recipients: list[str] = field(default_factory=list)

    def number_line(self, number: str | None) -> str:
        """'Số: 25/BC-UBND'; without a number, room to write it by hand before the symbol."""
        number = (number or "").strip()
        symbol = f"/{self.symbol}" if self.symbol else ""
        if number and "/" not in number:
            number = f"{number}{symbol}"
        if not number:
            number = "\u2002\u2002\u2002\u2002\u2002" + symbol
        return t("xlsx_report.number", number=number)


def _upper(name: str) -> str:
    return nfc(name).upper()


def _split_type(name: str) -> tuple[str, str]:
    folded = name.casefold()
    for word in ("thành phố", "thị trấn", "thị xã", "đặc khu", "phường", "huyện", "quận", "tỉnh", "xã"):
        if folded.startswith(word + " ") and len(name) > len(word) + 1:
            return name[: len(word)], name[len(word) + 1:].strip()
    return "", name


def in_sentence(name: str) -> str:
    """A unit name inside a sentence: the type word in lower case ('UBND huyện Đại Từ')."""
    kind, rest = _split_type(name)
    return f"{kind.lower()} {rest}" if kind else name


def default_parent(unit: Unit, issuer_set: bool) -> tuple[str, bool]:
    """The line above the issuing body, and whether it is bold (a province's committee on two lines)."""
    if issuer_set:
        # Another body of the unit (a Sở, a Phòng) issues: the unit's own committee stands above it.
        return t("xlsx_report.body", unit=_upper(unit.name)), False
    if unit.level != "province" and unit.superior:
        return t("xlsx_report.superior", unit=_upper(unit.superior)), False
    return t("xlsx_report.body_top"), True


def default_issuer(unit: Unit) -> str:
    """The unit's People's Committee; a province's name alone under "ỦY BAN NHÂN DÂN"."""
    if unit.level == "province" or not unit.superior:
        return t("xlsx_report.body_top_unit", unit=_upper(unit.name))
    return t("xlsx_report.body", unit=_upper(unit.name))


def default_recipients(unit: Unit) -> list[str]:
    """The superior body (the ministry for a province) for information, and the archive."""
    items = []
    if unit.level == "province":
        items.append(t("xlsx_report.recipient_ministry"))
    elif unit.superior:
        items.append(t("xlsx_report.recipient_superior", unit=in_sentence(unit.superior)))
    items.append(t("xlsx_report.recipient_archive"))
    return items


def _head_of(body: str) -> str | None:
    upper = _upper(body)
    if upper.startswith(_COMMITTEE):
        return t("xlsx_report.sign_title")
    for words, head in _HEADS:
        if upper.startswith(words + " "):
            return head
    return None


def _without_deputy(title: str) -> str | None:
    upper = _upper(title)
    return title[4:].strip() if upper.startswith("PHÓ ") and len(title) > 4 else None


def sign_lines(authority: str, title: str, issuer: str | None) -> list[str]:
    """The lines above the signature: 'TM. ỦY BAN NHÂN DÂN' / 'CHỦ TỊCH', 'KT. GIÁM ĐỐC' / 'PHÓ GIÁM ĐỐC'…"""
    title = title or t("xlsx_report.sign_title")
    if authority == "TM.":
        if not issuer or _upper(issuer).startswith(_COMMITTEE):
            return [t("xlsx_report.sign_on_behalf"), title]
        return [f"TM. {_upper(issuer)}", title]
    if authority == "KT.":
        head = _without_deputy(title) or (_head_of(issuer) if issuer else t("xlsx_report.sign_title"))
        return [f"KT. {_upper(head or title)}", title]
    if authority == "TL.":
        head = (_head_of(issuer) if issuer else t("xlsx_report.sign_title")) or _without_deputy(title)
        return [f"TL. {_upper(head or title)}", title]
    if authority == "Q.":
        return [f"Q. {title}"]
    return [title]


def defaults(unit: Unit, values: dict[str, str]) -> dict[str, str]:
    """Each document setting's default for this unit, given the others' values (shown by ``settings list``)."""
    issuer_set = bool(values.get("issuer"))
    parent, _ = default_parent(unit, issuer_set)
    return {"issuer": default_issuer(unit), "issuer_parent": parent, "doc_symbol": STORED_DEFAULTS["doc_symbol"],
            "signer_authority": STORED_DEFAULTS["signer_authority"], "signer_title": t("xlsx_report.sign_title"),
            "signer_name": "", "preparer": "", "recipients": "; ".join(default_recipients(unit))}


def resolve(unit: Unit, values: dict[str, str], *, signer: str | None = None,
            preparer: str | None = None) -> Letterhead:
    """The letterhead from the settings (empty ones by default); signer and preparer given for one
    report override theirs."""
    values = {key: nfc(str(values.get(key) if values.get(key) is not None else STORED_DEFAULTS[key]))
              for key in KEYS}
    issuer_set = bool(values["issuer"])
    parent, parent_bold = default_parent(unit, issuer_set)
    if values["issuer_parent"]:
        parent, parent_bold = values["issuer_parent"], False
    issuer = values["issuer"] or default_issuer(unit)
    items = recipient_items(values["recipients"])
    if items:
        recipients = [f"- {item};" for item in items[:-1]] + [f"- {items[-1]}."]
    else:
        recipients = default_recipients(unit)
    symbol = values["doc_symbol"] or STORED_DEFAULTS["doc_symbol"]
    return Letterhead(parent=parent, parent_bold=parent_bold, issuer=issuer, symbol=symbol,
                      sign_lines=sign_lines(values["signer_authority"], values["signer_title"],
                                            values["issuer"] or None),
                      signer_name=(signer if signer is not None else values["signer_name"]) or "",
                      preparer=(preparer if preparer is not None else values["preparer"]) or "",
                      recipients=recipients)
