"""Helpers for tests that open a pack's container or build one by hand (cdt/packfile.py).

A test that tampers with the SQLite inside a pack unwraps it (``unwrap``), edits the snapshot with
sqlite3, and wraps it again signed with the commune's own key (``wrap``): that is a forger who holds
the commune's key, and proves the checks of DESIGN.md §3 still run behind the signature. A forger
without the key (``wrap(..., key_from=None)``) signs with a fresh key of their own.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cdt.exchange import packfile


def _own_key(db: Path, kind: str) -> bytes | None:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT secret FROM own_key WHERE kind = ?", (kind,)).fetchone()
    finally:
        conn.close()
    return bytes(row[0]) if row else None


def _upstream_seal(db: Path) -> bytes | None:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT seal_key FROM upstream_key").fetchone()
    finally:
        conn.close()
    return packfile.b64decode(row[0]) if row else None


def read_header(pack: Path) -> packfile.Header:
    """A pack's header, its signature verified."""
    return packfile.read_verified(Path(pack))


def unwrap(pack: Path, out: Path, *, opener: Path | None = None) -> Path:
    """The SQLite snapshot inside a pack (unsealed with the private key of the file ``opener``)."""
    header = packfile.read_verified(Path(pack))
    packfile.extract_content(Path(pack), header, Path(out), _own_key(opener, "seal") if opener else None)
    return Path(out)


def identity_of(snapshot: Path) -> dict:
    """What a header says about the file a snapshot comes from (its site row)."""
    conn = sqlite3.connect(snapshot)
    conn.row_factory = sqlite3.Row
    try:
        site = dict(conn.execute("SELECT * FROM site").fetchone())
    finally:
        conn.close()
    return {"db_id": site["db_id"], "level": site["level"], "unit_code": site[f"{site['level']}_code"],
            "unit_name": site[f"{site['level']}_name"], "packed_at": site["packed_at"]}


def wrap(snapshot: Path, out: Path, *, key_from: Path | None, seal_to: Path | None = None,
         identity: dict | None = None) -> Path:
    """A pack around a SQLite file, signed with the key of the file ``key_from`` (None: a new key)
    and sealed as that file would seal it (or to the district file ``seal_to``)."""
    from nacl.public import PublicKey
    from nacl.signing import SigningKey

    secret = _own_key(key_from, "sign") if key_from else bytes(SigningKey.generate())
    recipient = _upstream_seal(key_from) if key_from else None
    if seal_to is not None:
        conn = sqlite3.connect(seal_to)
        try:
            recipient = bytes(conn.execute("SELECT public FROM own_key WHERE kind = 'seal'").fetchone()[0])
        finally:
            conn.close()
        PublicKey(recipient)
    if identity is None:
        try:
            identity = identity_of(snapshot)
        except sqlite3.Error:
            identity = {"db_id": "?", "level": "commune", "unit_code": "?", "unit_name": None, "packed_at": None}
    Path(out).unlink(missing_ok=True)
    packfile.write(Path(snapshot), Path(out), signing_secret=secret, identity=identity, recipient=recipient)
    return Path(out)


def rewrap(pack: Path, out: Path, signer: Path, edit, *, opener: Path | None = None) -> Path:
    """Unwrap a pack, change its snapshot (``edit(path)``), wrap it again signed by ``signer``."""
    inner = Path(str(out) + ".inner")
    unwrap(pack, inner, opener=opener)
    edit(inner)
    wrap(inner, out, key_from=signer, identity=packfile.read_verified(Path(pack)).fields)
    inner.unlink()
    return Path(out)


def signer_of(pack_path: Path) -> Path:
    """The file that made a pack (the tests keep their .db files in tmp_path, two levels above)."""
    wanted = read_header(pack_path).db_id
    for db in pack_path.parent.parent.glob("*.db"):
        if identity_of(db)["db_id"] == wanted:
            return db
    raise AssertionError(f"no file signed {pack_path}")


def altered(good: Path, target: Path, *statements: str) -> Path:
    """The pack with its snapshot edited by sqlite3 and signed again with its maker's own key (a forger
    holding the key): what the signature cannot catch, the checks of DESIGN.md §3 must."""
    def edit(inner: Path) -> None:
        conn = sqlite3.connect(inner)
        conn.executescript(";".join(statements))
        conn.close()

    return rewrap(good, target, signer_of(good), edit)
