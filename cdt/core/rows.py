"""Row identity and versions: ids, short references, row hashes and the history chain (DESIGN.md §2)."""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from datetime import datetime
from typing import Any, Iterable

from cdt.core.schema import HASH_COLUMNS


def now() -> str:
    """Local wall-clock time for display fields only; nothing is ever ordered by it."""
    return datetime.now().replace(microsecond=0).isoformat()


def new_id() -> str:
    """A new row's identity: time-ordered (UUIDv7's layout: milliseconds since 1970, then 74
    random bits). The order carries no meaning (DESIGN.md §2): nothing sorts or decides by it. It
    keeps the rows a file writes in a month next to each other in every id index, so merging a
    month's pack touches the end of the district's indexes instead of pages all over them (with
    random ids the cost of each pack grew with the size of the district file)."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = ((millis & (2**48 - 1)) << 80 | 0x7 << 76 | (rand >> 68) << 64   # version 7, 12 random bits
             | 0b10 << 62 | (rand & (2**62 - 1)))                          # variant, 62 random bits
    return str(uuid.UUID(int=value))


def new_file_id() -> str:
    """A new file's identity (random: a file's id is shown by its first 8 digits)."""
    return str(uuid.uuid4())


# The short reference lists show for a row, and that commands accept for it.
REF_LENGTH = 8


def ref_of(row_id: str) -> str:
    """A row's short reference: the first 8 hex digits of a random id (UUID4, every row before
    schema 7's time-ordered ids), the last 8 of a time-ordered one (its first ones are the clock,
    shared by every row written in the same minute). Either way 32 random bits."""
    if len(row_id) == 36 and row_id[14] == "7":
        return row_id[-REF_LENGTH:]
    return row_id[:REF_LENGTH]


# One encoder for every hash: json.dumps with options builds a new encoder per call, and the merge
# hashes every incoming row (it was a fifth of a merge's time).
_CANONICAL_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def hash_values(values: Iterable[Any]) -> str:
    """The hash of a row given as its HASH_COLUMNS values in order (a dict's or a query's tuple).

    Values are hashed as SQLite gives them back: True is 1, and 500.0 in a REAL column is 500, so a
    hash recomputed from a stored row (the merge checks every incoming row) matches the one made
    at write time."""
    canonical = [
        int(value) if (value.__class__ is float and value.is_integer()) or value.__class__ is bool else value
        for value in values
    ]
    canonical[-1] = 1 if canonical[-1] else 0
    return hashlib.sha256(_CANONICAL_JSON.encode(canonical).encode("utf-8")).hexdigest()


def row_hash(table: str, row: dict) -> str:
    """Hash of a row in canonical JSON (DESIGN.md §2): its identity (id, origin), its version (rev),
    its data columns and tombstone flag. The one definition, used at write time and by the merge's
    recheck of every incoming row: a changed byte anywhere in a row, rev included, is caught."""
    return hash_values(row.get(column) for column in HASH_COLUMNS[table])


def chain_link(previous: str, rev: int, written: list[tuple[str, str, str]]) -> str:
    """The next history chain value: sha256(previous ‖ rev ‖ sorted (table, id, hash))."""
    body = json.dumps(sorted(written), separators=(",", ":"))
    return hashlib.sha256(f"{previous}|{rev}|{body}".encode("utf-8")).hexdigest()


# Parts of an old commune's file divided between 2025 communes (exchange/regroup.py).
_PART_NAMESPACE = uuid.UUID("5b0a7c39-2f53-4c0e-9d55-1f4c39a0f1d2")


def part_file_id(old_db_id: str, new_code: str) -> str:
    """The file id of the part of old file ``old_db_id`` that the 2025 commune ``new_code`` takes:
    derived from both, so anyone holding the part can check which file and commune it belongs to."""
    return str(uuid.uuid5(_PART_NAMESPACE, f"{old_db_id}|{new_code}"))


def part_row_id(namespace: str, row_id: str) -> str:
    """A row's id in a part: derived from the old file (rows tied to a hamlet) or from the part."""
    return str(uuid.uuid5(uuid.uuid5(_PART_NAMESPACE, namespace), row_id))
