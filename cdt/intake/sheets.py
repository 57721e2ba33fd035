"""Reading a clerk's workbook safely: the sheets that hold a known table, their header row and rows.

A workbook is untrusted (DESIGN.md §7): ``check_xlsx`` looks at the zip before openpyxl reads a byte,
then openpyxl opens it read-only with row and column caps. Each sheet's header row is found below
any title rows (intake.headers); legacy TCVN3/VNI text is converted column by column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdt.core.errors import CdtError, FileRefused
from cdt.core.text import clean
from cdt.intake import old_encodings as legacy
from cdt.intake.headers import KINDS, find_header, gender_subheader, header_words, sheet_kind
from cdt.intake.xlsx_safety import check_xlsx

MAX_ROWS = 20_000
MAX_COLUMNS = 100
_SKIPPED_SHEETS = {"huong dan", "danh muc", "instructions", "lists"}


@dataclass
class Sheet:
    """One sheet that holds a known table: where its header is, what each column is, its rows."""

    title: str
    kind: str
    header_row: int  # 1-based
    columns: dict[str, int]  # field → 0-based column index
    headers: dict[str, str]  # field → header text as written
    rows: list[tuple[int, tuple]]  # (1-based row number, values)
    titles: list[str]  # text of the rows above the header
    header_texts: list[str] = field(default_factory=list)  # every cell of the header row, as written


def _cap_refused(path: Path, key: str, **params) -> FileRefused:
    return FileRefused(f"import.{key}", file=path.name, **params)


def read_sheets(path: str | Path) -> tuple[list[Sheet], list[str], list[str]]:
    """The sheets of a workbook that hold a known table, after the safety checks; and the skipped titles."""
    path = Path(path)
    # Columns past MAX_COLUMNS are never read, so a wide <dimension> (whole rows formatted) is harmless.
    check_xlsx(path, max_rows=MAX_ROWS, max_columns=16384)
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, EOFError) as exc:
        raise FileRefused("import.unreadable", file=path.name) from exc
    except Exception as exc:  # openpyxl raises many kinds on a damaged file; the clerk needs one line
        raise FileRefused("import.unreadable", file=path.name) from exc
    sheets: list[Sheet] = []
    skipped: list[str] = []
    converted: list[str] = []
    try:
        for ws in book.worksheets:
            title = clean(legacy.fix(ws.title))
            if header_words(title) in _SKIPPED_SHEETS or getattr(ws, "sheet_state", "visible") != "visible":
                skipped.append(title)
                continue
            rows = _read_rows(ws, path)
            found = find_header(rows)
            if not found:
                if any(any(v not in (None, "") for v in r) for r in rows):
                    skipped.append(title)
                continue
            index, columns, headers = found
            real = {k for k in columns if k != "_skip"}
            skip = gender_subheader(rows[index + 1] if index + 1 < len(rows) else (), columns, headers)
            data = [(index + 2 + i, r) for i, r in enumerate(rows[index + 1:])][skip:]
            data, notes = _fix_legacy(data, columns, headers, title)
            converted.extend(notes)
            titles = [clean(legacy.fix(str(v))) for r in rows[:index] for v in r if isinstance(v, str) and v.strip()]
            header_texts = [clean(legacy.fix(str(v))) for v in rows[index] if not blank(v)]
            sheets.append(Sheet(title, sheet_kind(real), index + 1, columns, headers, data, titles, header_texts))
    except (CdtError, MemoryError):
        raise
    except Exception as exc:
        raise FileRefused("import.unreadable", file=path.name) from exc
    finally:
        book.close()
    order = {kind: i for i, kind in enumerate(KINDS)}
    sheets.sort(key=lambda s: order[s.kind])
    return sheets, skipped, converted


def _read_rows(ws, path: Path) -> list[tuple]:
    rows: list[tuple] = []
    last = 0
    # The sheet's own <dimension> may understate it: read to the real end, refusing data past the cap.
    ws.reset_dimensions()
    padding = None  # openpyxl yields one shared tuple for each missing row: skip it cheaply
    for number, row in enumerate(ws.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True), 1):
        if row is padding:
            if number <= MAX_ROWS:
                rows.append(row)
            continue
        if any(v not in (None, "") for v in row):
            if number > MAX_ROWS:
                raise _cap_refused(path, "too_many_rows", sheet=ws.title, limit=f"{MAX_ROWS:,}".replace(",", "."))
            last = number
        elif padding is None and isinstance(row, tuple) and all(v is None for v in row):
            padding = row
        if number <= MAX_ROWS:
            # Without the empty cells openpyxl pads each row with up to MAX_COLUMNS: every later
            # step (legacy detection, header matching, blank tests) then costs per cell, not per value.
            end = len(row)
            while end and row[end - 1] in (None, ""):
                end -= 1
            rows.append(tuple(row[:end]))
    return rows[:last]


def _fix_legacy(data, columns, headers, title):
    """Convert TCVN3/VNI text column by column (the encoding is decided on the whole column)."""
    notes = []
    width = max((len(r) for _, r in data), default=0)
    fixed = [list(r) for _, r in data]
    names = {col: headers.get(name, "") for name, col in columns.items()}
    for col in range(width):
        values = [r[col] if col < len(r) else None for r in fixed]
        encoding = legacy.detect_many(values)
        new = legacy.fix_many(values)
        for r, v in zip(fixed, new):
            if col < len(r):
                r[col] = v
        if encoding:
            notes.append(f"{title}: {names.get(col) or column_letter(col)} ({encoding.upper()})")
    return [(n, tuple(r)) for (n, _), r in zip(data, fixed)], notes


def column_letter(col: int) -> str:
    """The letter Excel shows for a 0-based column index (0 → A)."""
    from openpyxl.utils import get_column_letter

    return get_column_letter(col + 1)


def blank(value: Any) -> bool:
    """True for an empty cell (nothing, or only spaces)."""
    return value is None or (isinstance(value, str) and not value.strip())
