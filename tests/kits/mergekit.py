"""Helpers for the merge and pack tests: commune files with random histories, snapshots, dumps."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from cdt.domain import units
from cdt.exchange.merge import merge_file
from cdt.core.schema import KEYS_VERSION, SCHEMA_VERSION
from cdt.exchange import keys
from cdt.store import Store, canonical_dump

# Communes of Đại Từ (171) and of Thành phố Thái Nguyên (164), Tỉnh Thái Nguyên (19), legacy structure.
DAI_TU = ("05761", "05767", "05770")
TP_THAI_NGUYEN = ("05431", "05434")


def unit_file(path: Path, level: str, code: str, *, schema_version: int | None = None,
              db_id: str | None = None) -> Store:
    """A fresh store for a commune, district or province (legacy structure)."""
    unit = units.get(code, level=level, structure="legacy")
    extra = {"schema_version": schema_version} if schema_version else {}
    if (schema_version or SCHEMA_VERSION) >= KEYS_VERSION:
        extra["on_create"] = keys.insert_new_keys
    store = Store.create(
        path, level=level, structure="legacy", province=(unit.province_code, unit.province_name),
        district=(unit.district_code, unit.district_name) if level != "province" else (None, None),
        commune=(unit.code, unit.name) if level == "commune" else (None, None), db_id=db_id, **extra,
    )
    if level != "commune" and (schema_version or SCHEMA_VERSION) >= KEYS_VERSION:
        # Every district and province these tests make opens the packs sealed by snapshot().
        secret, public = seal_key()
        store.conn.execute("UPDATE own_key SET secret = ?, public = ? WHERE kind = 'seal'", (secret, public))
    return fast(store)


_SEAL: list[tuple[bytes, bytes]] = []


def seal_key() -> tuple[bytes, bytes]:
    """One X25519 key pair shared by every upper-level file of a test session (so that any of them,
    made in any order, opens any pack: the algebra tests merge the same packs into many targets)."""
    if not _SEAL:
        from nacl.public import PrivateKey

        key = PrivateKey.generate()
        _SEAL.append((bytes(key), bytes(key.public_key)))
    return _SEAL[0]


def fast(store: Store) -> Store:
    """No fsync per commit: the algebra tests make thousands of commits and do not test durability."""
    store.conn.execute("PRAGMA synchronous = OFF")
    return store


def add_hamlet(store: Store, name: str, households: int = 10) -> str:
    with store.write() as tx:
        return tx.insert("hamlet", {"name": name, "kind": "xóm", "households": households, "working_age": 20})["id"]


def edit_hamlet(store: Store, row_id: str, households: int) -> None:
    with store.write() as tx:
        tx.update("hamlet", row_id, {"households": households})


def delete_hamlet(store: Store, row_id: str) -> None:
    with store.write() as tx:
        tx.delete("hamlet", row_id)


def add_member(store: Store, name: str) -> str:
    """A member of the file's first team (founded with its hamlet in the same write when there is none):
    packs must obey the commands' rules, references included (rules.py)."""
    with store.write() as tx:
        team = store.conn.execute("SELECT id FROM team WHERE deleted = 0 ORDER BY id LIMIT 1").fetchone()
        if team is None:
            hamlet = tx.insert("hamlet", {"name": "Xóm Tổ", "kind": "xóm", "households": 10, "working_age": 20})
            team_id = tx.insert("team", {"hamlet_id": hamlet["id"], "status": "active"})["id"]
        else:
            team_id = team[0]
        return tx.insert("member", {"team_id": team_id, "full_name": name, "role": "member", "phone": "0912345678",
                                    "birth_year": 1990})["id"]


def snapshot(store: Store, path: Path, *, sealed: bool = True) -> Path:
    """A pack without the stick ceremony (the property tests make hundreds): VACUUM INTO, no private
    keys, packed_at, then the container of cdt pack, signed with the file's key and sealed to
    seal_key() (cdt/packfile.py)."""
    from cdt.exchange import packfile

    raw = Path(str(path) + ".sqlite")
    store.conn.execute("VACUUM INTO ?", (str(raw),))
    conn = sqlite3.connect(str(raw), isolation_level=None)
    conn.execute("DELETE FROM own_key")
    conn.execute("UPDATE site SET packed_at = '2026-11-30T10:00:00'")
    conn.close()
    secret = store.conn.execute("SELECT secret FROM own_key WHERE kind = 'sign'").fetchone()[0]
    site = store.site
    packfile.write(raw, path, signing_secret=bytes(secret), recipient=seal_key()[1] if sealed else None,
                   identity={"db_id": site.db_id, "level": site.level, "unit_code": site.unit_code,
                             "unit_name": site.unit_name, "packed_at": "2026-11-30T10:00:00"})
    raw.unlink()
    return path


def merge_ok(target: Store, path: Path) -> dict:
    result = merge_file(target, path, skip_known=False)  # prove the merge itself, not the shortcut
    assert result.ok, result.reason
    return result.counts


def dump(store: Store) -> dict:
    return canonical_dump(store)


def copy_store(store: Store, path: Path) -> Store:
    """A byte copy of a store file opened as another store (one commune file on two laptops)."""
    shutil.copyfile(store.path, path)
    return fast(Store.open(path))
