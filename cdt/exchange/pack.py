"""Snapshots for the USB stick (DESIGN.md §4): ``cdt pack``.

``VACUUM INTO`` a local temporary file (consistent even in WAL mode, compact, deleted content
purged), set ``packed_at`` in it, check it, hash it, copy it to the destination whole (a temporary
name, synced, renamed: core/files.written_whole), then read it back from the destination and compare the hash. The name carries the
unit code, its name folded to ASCII (FAT sticks and old Windows mangle other letters) and the date.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cdt.core import files as scratch
from cdt.core.errors import StoreError, is_locked, os_reason
from cdt.core.files import sha256_file, written_whole
from cdt.core.i18n import t as _t
from cdt.core.text import fold
from cdt.exchange import keys, packfile
from cdt.exchange.packfile import PACK_SUFFIX
from cdt.store import Store, strip_local_tables
from cdt.core.rows import now


@dataclass
class Pack:
    """A pack written and verified."""

    path: Path
    size: int
    sha256: str
    packed_at: str
    sealed: bool = False


def pack_name(store: Store, today: date | None = None) -> str:
    """cdt-05761-Hung-Son-2026-11-23.cdt: unit code, ASCII-folded name without its type word, date."""
    site = store.site
    name = fold(site.unit_name or "")
    for word in ("thi tran ", "xa ", "phuong ", "huyen ", "quan ", "thi xa ", "thanh pho ", "tinh ", "dac khu "):
        if name.startswith(word):
            name = name[len(word):]
            break
    words = [w.capitalize() for w in re.split(r"[^a-z0-9]+", name) if w]
    parts = ["cdt", site.unit_code or site.level, "-".join(words), (today or date.today()).isoformat()]
    return "-".join(p for p in parts if p) + PACK_SUFFIX


def _free_name(folder: Path, name: str) -> Path:
    candidate = folder / name
    stem = name[: -len(PACK_SUFFIX)]
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{number}{PACK_SUFFIX}"
        number += 1
    return candidate


def seal_and_sign(store: Store, snapshot: Path, out: Path, packed_at: str) -> tuple[Path, str]:
    """The pack container (cdt/packfile.py) around a snapshot: signed with this file's key, sealed
    to the upstream key once one is trusted (cdt key trust), else in clear. Returns the container
    and its SHA-256."""
    own = keys.own_keys(store)
    upstream = keys.upstream(store)
    site = store.site
    digest = packfile.write(snapshot, out, signing_secret=own.sign_secret,
                            identity={"db_id": site.db_id, "level": site.level, "unit_code": site.unit_code,
                                      "unit_name": site.unit_name, "packed_at": packed_at},
                            recipient=packfile.b64decode(upstream["seal_key"]) if upstream else None)
    return out, digest


def make_pack(store: Store, out: Path | None = None) -> Pack:
    """Write a verified snapshot of the store into folder ``out`` (default: the current folder)."""
    store.refuse_if_retired()  # its data lives on in the file that absorbed it (cdt init --from)
    folder = Path(out) if out is not None else Path.cwd()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError("pack.cannot_write", path=str(folder), reason=os_reason(error)) from error
    if not folder.is_dir():
        raise StoreError("pack.cannot_write", path=str(folder), reason=_t("os.not_folder"))
    work = scratch.make("pack")
    try:
        snapshot = work / "snapshot.cdt"
        try:
            store.conn.execute("VACUUM INTO ?", (str(snapshot),))
        except sqlite3.OperationalError as error:
            if is_locked(error):
                raise StoreError("store.in_use", path=str(store.path)) from error
            raise StoreError("pack.failed", reason=str(error)) from error
        packed_at = now()
        conn = sqlite3.connect(str(snapshot), isolation_level=None)
        try:
            # The private keys leave the snapshot before anything else happens to it: deleted with
            # secure_delete (their bytes overwritten in place) and no journal file holding a copy.
            conn.execute("PRAGMA journal_mode = MEMORY")
            conn.execute("PRAGMA secure_delete = ON")
            if conn.execute("SELECT 1 FROM sqlite_schema WHERE name = 'own_key'").fetchone():
                conn.execute("DELETE FROM own_key")
            conn.execute("PRAGMA journal_mode = DELETE")
            strip_local_tables(conn, store)
            conn.execute("UPDATE site SET packed_at = ?", (packed_at,))
            result = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
        if result != [("ok",)]:
            raise StoreError("pack.failed", reason=str(result[0][0]) if result else "?")
        snapshot, digest = seal_and_sign(store, snapshot, work / "pack.cdt", packed_at)
        size = snapshot.stat().st_size
        final = _free_name(folder, pack_name(store))
        try:
            # A kill from the start of the copy on: the next cdt start removes the temporary file.
            with written_whole(final, replace=False, job=work) as part:
                with open(snapshot, "rb") as reader, open(part, "wb") as writer:
                    shutil.copyfileobj(reader, writer, 1 << 20)
        except OSError as error:
            raise StoreError("pack.cannot_write", path=str(folder), reason=os_reason(error)) from error
        # Read back right after writing, this most likely comes from the OS page cache, not the
        # stick: it proves the bytes handed to the OS under the final name are the pack's (no short
        # or mangled copy, no wrong file renamed), not that the medium stored them. The fsync above
        # is what asks the device to store them; a failing stick is caught at the district, where
        # the merge recomputes the SHA-256 and every row's hash.
        if sha256_file(final) != digest:
            raise StoreError("pack.verify_failed", path=str(final))
        return Pack(path=final, size=size, sha256=digest, packed_at=packed_at,
                    sealed=store.conn.execute("SELECT 1 FROM upstream_key").fetchone() is not None)
    finally:
        scratch.remove(work)
