"""Pre-checks on a clerk's .xlsx before openpyxl opens it (DESIGN.md §7).

An imported workbook is untrusted: a zip bomb of a few hundred KB can make openpyxl use gigabytes,
and macros or external links have no place in a list of hamlets and members. check_xlsx looks only
at the zip's central directory and a few small parts, read with bounded reads, and raises
FileRefused with a message key under ``xlsx.`` naming what is wrong and what the clerk can do.
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from pathlib import Path
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from cdt.core.errors import FileRefused
from cdt.core.i18n import language

MB = 1024 * 1024

_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
# Compound File (OLE2): old .xls workbooks, and .xlsx files saved with a password.
_OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EOCD_SIGNATURE = b"PK\x05\x06"
_EOCD_SIZE = 22

_CONTENT_TYPES = "[Content_Types].xml"
_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_REQUIRED = (_CONTENT_TYPES, _WORKBOOK)

# The small XML parts we parse whole; none comes near this in a real workbook.
_PART_CAP = 2 * MB
# The start of a sheet holds <dimension> (it precedes <sheetData> in the schema).
_SHEET_HEAD = 16 * 1024
# Entries this small cannot hurt whatever their ratio (styles and themes compress very well).
_RATIO_FLOOR = 64 * 1024

_WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_MACRO_TYPE_WORDS = ("macroenabled", "vbaproject", "macrosheet")
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\b[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")


class _Number(float):
    """A number in a message, with the separators of the language it is shown in (1.048.576 / 1,048,576)."""

    decimals: int

    def __new__(cls, value: float, decimals: int = 0) -> _Number:
        obj = super().__new__(cls, value)
        obj.decimals = decimals
        return obj

    def __format__(self, spec: str) -> str:
        if spec:
            return format(float(self), spec)
        text = f"{float(self):,.{self.decimals}f}"
        if language() == "vi":
            text = text.translate(str.maketrans(",.", ".,"))
        return text

    def __str__(self) -> str:
        return format(self, "")


def _mb(size: int) -> _Number:
    value = size / MB
    return _Number(value, 0 if value == int(value) else 1)


def _refuse(key: str, path: Path, **params) -> FileRefused:
    return FileRefused(f"xlsx.{key}", file=path.name, **params)


def check_xlsx(
    path: str | Path,
    *,
    max_bytes: int = 20 * MB,
    max_entries: int = 200,
    max_uncompressed: int = 100 * MB,
    max_ratio: int = 100,
    max_rows: int = 20000,
    max_columns: int = 100,
) -> None:
    """Raise FileRefused unless path looks like a plain, reasonably sized .xlsx workbook."""
    path = Path(path)
    try:
        if not path.is_file():
            raise _refuse("missing", path)
        size = path.stat().st_size
    except OSError as exc:
        raise _refuse("unreadable", path, reason=exc.strerror or type(exc).__name__) from exc
    if size == 0:
        raise _refuse("empty", path)
    if size > max_bytes:
        raise _refuse("too_big", path, size_mb=_mb(size), max_mb=_mb(max_bytes))
    try:
        with path.open("rb") as fh:
            _check_open_file(fh, size, path, max_entries, max_uncompressed, max_ratio, max_rows, max_columns)
    except FileRefused:
        raise
    except OSError as exc:
        # On Windows a workbook open in Excel is locked.
        raise _refuse("unreadable", path, reason=exc.strerror or type(exc).__name__) from exc


def _check_open_file(fh, size, path, max_entries, max_uncompressed, max_ratio, max_rows, max_columns):
    head = fh.read(8)
    if head.startswith(_OLE2_SIGNATURE):
        raise _refuse("old_format", path)
    if not head.startswith(_ZIP_SIGNATURES):
        raise _refuse("not_xlsx", path)
    # Count entries from the end record before zipfile builds one object per entry.
    declared = _declared_entries(fh, size, path)
    if declared > max_entries:
        raise _refuse("too_many_entries", path, count=_Number(declared), limit=_Number(max_entries))
    fh.seek(0)
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError) as exc:
        raise _refuse("corrupt", path) from exc
    with zf:
        infos = zf.infolist()
        _check_directory(infos, path, max_entries, max_uncompressed, max_ratio)
        by_name = {info.filename: info for info in infos}
        _check_parts(zf, by_name, path, max_rows, max_columns)


def _declared_entries(fh, size: int, path: Path) -> int:
    """The entry count of the zip's end-of-central-directory record (found within the last 64 KB)."""
    tail_size = min(size, _EOCD_SIZE + 0xFFFF)
    fh.seek(size - tail_size)
    tail = fh.read(tail_size)
    at = tail.rfind(_EOCD_SIGNATURE)
    if at < 0 or at + _EOCD_SIZE > len(tail):
        raise _refuse("corrupt", path)
    _sig, _disk, _cd_disk, _on_disk, total, _cd_size, _cd_offset, _comment = struct.unpack(
        "<4s4H2LH", tail[at : at + _EOCD_SIZE]
    )
    # 0xFFFF means "see the ZIP64 record": far more entries than any workbook we accept.
    return max(total, _on_disk)


def _check_directory(infos, path, max_entries, max_uncompressed, max_ratio):
    if len(infos) > max_entries:
        raise _refuse("too_many_entries", path, count=_Number(len(infos)), limit=_Number(max_entries))
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise _refuse("corrupt", path)
    for info in infos:
        encrypted = info.flag_bits & 0x1
        if encrypted or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _refuse("corrupt", path)
    missing = [part for part in _REQUIRED if part not in names]
    if missing:
        raise _refuse("not_workbook", path, part=missing[0])
    # Sizes as the central directory declares them: nothing is decompressed to find out.
    total = sum(info.file_size for info in infos)
    if total > max_uncompressed:
        raise _refuse("too_large_uncompressed", path, size_mb=_mb(total), max_mb=_mb(max_uncompressed))
    for info in infos:
        if info.file_size > _RATIO_FLOOR and info.file_size > max_ratio * info.compress_size:
            ratio = info.file_size / max(info.compress_size, 1)
            raise _refuse("zip_bomb", path, part=info.filename, ratio=_Number(ratio), limit=_Number(max_ratio))
    lowered = [name.lower() for name in names]
    if any(name.endswith("vbaproject.bin") or name.startswith("xl/macrosheets/") for name in lowered):
        raise _refuse("macros", path)
    links = [name for name in lowered if name.startswith("xl/externallinks/") and not name.endswith("/")]
    if links:
        count = sum(1 for name in links if "/_rels/" not in name) or 1
        raise _refuse("external_links", path, count=_Number(count))


def _read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, limit: int) -> bytes:
    """A whole part, refusing it when it is (or turns out to be) larger than limit."""
    if info.file_size > limit:
        raise _refuse("part_too_large", path, part=info.filename)
    try:
        with zf.open(info) as stream:
            # Read one byte past the limit so that a size the directory understates cannot slip through.
            data = stream.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, ValueError) as exc:
        raise _refuse("corrupt", path) from exc
    if len(data) > limit:
        raise _refuse("part_too_large", path, part=info.filename)
    if len(data) != info.file_size:
        raise _refuse("size_mismatch", path, part=info.filename)
    return data


def _read_head(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, limit: int) -> bytes:
    try:
        with zf.open(info) as stream:
            return stream.read(limit)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, ValueError) as exc:
        raise _refuse("corrupt", path) from exc


def _parse(data: bytes, part: str, path: Path):
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise _refuse("unsafe_xml", path, part=part) from exc
    except (ParseError, ValueError) as exc:
        raise _refuse("corrupt", path) from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _check_parts(zf, by_name, path, max_rows, max_columns):
    types = _parse(_read_part(zf, by_name[_CONTENT_TYPES], path, _PART_CAP), _CONTENT_TYPES, path)
    worksheets: list[str] = []
    for element in types.iter():
        content_type = (element.get("ContentType") or "").lower()
        if any(word in content_type for word in _MACRO_TYPE_WORDS):
            raise _refuse("macros", path)
        if "externallink" in content_type:
            raise _refuse("external_links", path, count=_Number(1))
        if content_type == _WORKSHEET_TYPE and element.get("PartName"):
            worksheets.append(element.get("PartName").lstrip("/"))
    worksheets += [
        name for name in by_name if re.fullmatch(r"xl/worksheets/[^/]+\.xml", name) and name not in worksheets
    ]
    titles = _sheet_titles(zf, by_name, path)
    for part in worksheets:
        info = by_name.get(part)
        if info is None:
            continue
        span = _dimension(_read_head(zf, info, path, _SHEET_HEAD))
        if span is None:
            continue
        rows, columns = span
        sheet = titles.get(part) or posixpath.splitext(posixpath.basename(part))[0]
        if rows > max_rows:
            raise _refuse("too_many_rows", path, sheet=sheet, rows=_Number(rows), limit=_Number(max_rows))
        if columns > max_columns:
            raise _refuse(
                "too_many_columns", path, sheet=sheet, columns=_Number(columns), limit=_Number(max_columns)
            )


def _sheet_titles(zf, by_name, path) -> dict[str, str]:
    """Sheet part name -> the sheet's name as the clerk sees it on its tab."""
    workbook = _parse(_read_part(zf, by_name[_WORKBOOK], path, _PART_CAP), _WORKBOOK, path)
    rels_info = by_name.get(_WORKBOOK_RELS)
    if rels_info is None:
        return {}
    rels = _parse(_read_part(zf, rels_info, path, _PART_CAP), _WORKBOOK_RELS, path)
    targets: dict[str, str] = {}
    for rel in rels.iter():
        if _local(rel.tag) == "Relationship" and rel.get("Id") and rel.get("Target"):
            target = rel.get("Target")
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
            targets[rel.get("Id")] = part
    titles: dict[str, str] = {}
    for sheet in workbook.iter():
        if _local(sheet.tag) != "sheet":
            continue
        rel_id = next((value for key, value in sheet.attrib.items() if _local(key) == "id" and key != "id"), None)
        if rel_id in targets and sheet.get("name"):
            titles[targets[rel_id]] = sheet.get("name")
    return titles


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - ord("A") + 1
    return number


def _dimension(head: bytes) -> tuple[int, int] | None:
    """(rows, columns) spanned by the sheet's <dimension ref="A1:Z9">, or None when it has none."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("ascii", errors="ignore")
    cut = head.find(b"sheetData")
    match = _DIMENSION.search(head if cut < 0 else head[:cut])
    if match is None:
        return None
    cells = _CELL.findall(match.group(1).decode("ascii", errors="ignore"))
    if not cells:
        return None
    rows = [int(row) for _col, row in cells]
    columns = [_column_number(col) for col, _row in cells]
    return max(rows) - min(rows) + 1, max(columns) - min(columns) + 1
