"""Keys (DESIGN.md §8): this file's key pairs, the upstream key packs are sealed to, pinned keys.

Where private keys live: in the database itself, table ``own_key``. A clerk who copies the .db to a
new laptop copies the file's identity with it (a district's copy can still open the packs sealed to
it), and there is no second file to lose or to protect with its own Windows permissions: the key is
exactly as private as the register it protects (the per-user data folder, %LOCALAPPDATA%\\cdt on
Windows, readable by that Windows account only). ``cdt pack`` empties ``own_key`` in its snapshot
with SQLite's secure_delete before anything is written out, ``cdt extract`` builds a new file with
new keys, and exports read domain tables only: a private key is never in a pack, extract or export.

Every file has an Ed25519 signing key; districts and provinces also have an X25519 key pair to
receive sealed packs. A public key is shown to people as a fingerprint of 20 digits in groups of 4,
easy to read over the phone.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from cdt import __version__
from cdt.core.errors import FileRefused, InvalidInput, NotFound, os_reason
from cdt.core.files import sha256_file, written_whole
from cdt.core.text import clean_text
from cdt.exchange import packfile
from cdt.exchange.packfile import Header, b64decode, b64encode, key_id
from cdt.store import Store
from cdt.core.rows import now

KEY_FILE_FORMAT = "cdt-key 1"
KEY_FILE_CONTEXT = b"cdt public key file v1\x00"
UPPER = {"commune": "district", "district": "province"}


def fingerprint(public_key: bytes) -> str:
    """20 digits in groups of 4 from a public key's SHA-256 (about 66 bits: enough to notice a
    substituted key when two people read it to each other)."""
    number = int.from_bytes(hashlib.sha256(b"cdt fingerprint\x00" + public_key).digest()[:9], "big")
    digits = f"{number % 10 ** 20:020d}"
    return " ".join(digits[i:i + 4] for i in range(0, 20, 4))


def insert_new_keys(conn: sqlite3.Connection, level: str) -> None:
    """New key pairs for a file, written on an open transaction (creation, or the first open)."""
    from nacl.public import PrivateKey
    from nacl.signing import SigningKey

    stamp = now()
    signing = SigningKey.generate()
    rows = [("sign", bytes(signing), bytes(signing.verify_key), stamp)]
    if level in ("district", "province"):
        sealing = PrivateKey.generate()
        rows.append(("seal", bytes(sealing), bytes(sealing.public_key), stamp))
    conn.executemany("INSERT OR IGNORE INTO own_key (kind, secret, public, created_at) VALUES (?, ?, ?, ?)",
                     rows)


@dataclass
class OwnKeys:
    """This file's keys (private parts included: never print them, never copy them out)."""

    sign_secret: bytes
    sign_public: bytes
    seal_secret: bytes | None
    seal_public: bytes | None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sign_public)


def own_keys(store: Store) -> OwnKeys:
    """This file's keys, made now if it has none yet (a file a test built without them)."""
    rows = {row["kind"]: row for row in store.conn.execute("SELECT kind, secret, public FROM own_key")}
    needs_seal = store.site.level in ("district", "province") and "seal" not in rows
    if "sign" not in rows or needs_seal:
        with store.local_write():
            insert_new_keys(store.conn, store.site.level)
        rows = {row["kind"]: row for row in store.conn.execute("SELECT kind, secret, public FROM own_key")}
    seal = rows.get("seal")
    return OwnKeys(bytes(rows["sign"]["secret"]), bytes(rows["sign"]["public"]),
                   bytes(seal["secret"]) if seal else None, bytes(seal["public"]) if seal else None)


def upstream(store: Store) -> dict | None:
    """The district's (province's) key this file seals its packs to, or None."""
    row = store.conn.execute("SELECT * FROM upstream_key").fetchone()
    if row is None:
        return None
    found = dict(row)
    found["fingerprint"] = fingerprint(b64decode(found["sign_key"]))
    return found


def show(store: Store) -> dict:
    """What ``cdt key show`` tells: this file's fingerprint, the trusted upstream key, pinned keys."""
    keys = own_keys(store)
    site = store.site
    up = upstream(store)
    pinned = [{**row, "fingerprint": fingerprint(b64decode(row["public_key"]))} for row in store.query(
        "SELECT level, unit_code, unit_name, db_id, public_key, pinned_at, how FROM pinned_key"
        " WHERE retired_at IS NULL ORDER BY level, unit_code")]
    return {
        "unit": {"level": site.level, "code": site.unit_code, "name": site.unit_name}, "db_id": site.db_id,
        "fingerprint": keys.fingerprint, "sign_key": b64encode(keys.sign_public),
        "seal_key": b64encode(keys.seal_public) if keys.seal_public else None,
        "upstream": None if up is None else {
            "level": up["level"], "code": up["unit_code"], "name": up["unit_name"], "db_id": up["db_id"],
            "fingerprint": up["fingerprint"], "trusted_at": up["trusted_at"]},
        "pinned": pinned,
    }


# -- the public key file (cdt key export / cdt key trust) -----------------------------------------------


def _key_fields(store: Store, keys: OwnKeys) -> dict:
    site = store.site
    return {"format": KEY_FILE_FORMAT, "level": site.level, "unit_code": site.unit_code or "",
            "unit_name": site.unit_name or "", "db_id": site.db_id,
            "sign_key": b64encode(keys.sign_public), "seal_key": b64encode(keys.seal_public or b"")}


def _key_message(fields: dict) -> bytes:
    return KEY_FILE_CONTEXT + json.dumps(fields, ensure_ascii=False, sort_keys=True,
                                         separators=(",", ":")).encode("utf-8")


def export_text(store: Store) -> tuple[str, str]:
    """The public key file of this district or province for the level below, and its fingerprint."""
    from nacl.signing import SigningKey

    if store.site.level == "commune":
        raise InvalidInput("keys.export_commune")
    keys = own_keys(store)
    fields = _key_fields(store, keys)
    signature = SigningKey(keys.sign_secret).sign(_key_message(fields)).signature
    lines = [
        "# cdt: khóa công khai / public key (an toàn để chia sẻ / safe to share)",
        f"# {fields['unit_name']} ({fields['unit_code']})",
        f"# dấu vân tay / fingerprint: {keys.fingerprint}",
        *(f"{name}: {fields[name]}" for name in ("format", "level", "unit_code", "unit_name", "db_id",
                                                  "sign_key", "seal_key")),
        f"signature: {b64encode(signature)}",
    ]
    return "\n".join(lines) + "\n", keys.fingerprint


def export_file(store: Store, out: Path) -> dict:
    """Write the public key file; refuses to overwrite a file."""
    text, print_ = export_text(store)
    out = Path(out)
    if out.exists():
        raise InvalidInput("keys.out_exists", path=str(out))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with written_whole(out, replace=False) as part:
            part.write_text(text, encoding="utf-8")
    except FileExistsError:
        raise InvalidInput("keys.out_exists", path=str(out)) from None
    except OSError as error:
        raise InvalidInput("keys.cannot_write", path=str(out), reason=os_reason(error)) from error
    return {"path": str(out), "fingerprint": print_}


def read_key_file(path: Path) -> dict:
    """A public key file, its self-signature verified; raises InvalidInput for anything else."""
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    path = Path(path)
    try:
        if path.stat().st_size > 16 * 1024:
            raise InvalidInput("keys.bad_key_file", path=str(path))
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput("keys.bad_key_file", path=str(path)) from error
    fields: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        name, _, value = line.partition(":")
        fields[name.strip()] = value.strip()
    try:
        signature = b64decode(fields.pop("signature"))
        if fields.get("format") != KEY_FILE_FORMAT:
            raise ValueError
        sign_key, seal_key = b64decode(fields["sign_key"]), b64decode(fields["seal_key"])
        if len(sign_key) != 32 or len(seal_key) != 32 or fields["level"] not in ("district", "province"):
            raise ValueError
        wanted = {k: fields[k] for k in ("format", "level", "unit_code", "unit_name", "db_id", "sign_key",
                                         "seal_key")}
        VerifyKey(sign_key).verify(_key_message(wanted), signature)
    except (KeyError, ValueError, BadSignatureError):
        raise InvalidInput("keys.bad_key_file", path=str(path)) from None
    return {**wanted, "fingerprint": fingerprint(sign_key)}


def check_trust(store: Store, info: dict) -> None:
    """The key must be the one of this file's own district (or province)."""
    site = store.site
    above = UPPER.get(site.level)
    if above is None:
        raise InvalidInput("keys.trust_province")
    if above == "district" and not site.district_code:  # 2025 structure: the commune reports to its province
        above = "province"
    own = site.district_code if above == "district" else site.province_code
    if info["level"] != above or info["unit_code"] != (own or ""):
        raise InvalidInput("keys.trust_other_unit", name=info["unit_name"], code=info["unit_code"])
    if info["db_id"] == site.db_id:
        raise InvalidInput("keys.trust_own")


def _upstream_row(info: dict) -> dict:
    return {"id": 1, "level": info["level"], "unit_code": info["unit_code"], "unit_name": info["unit_name"],
            "db_id": info["db_id"], "sign_key": info["sign_key"], "seal_key": info["seal_key"], "trusted_at": now()}


def trust(store: Store, info: dict) -> dict:
    """Seal packs to this upstream key from now on (replaces the one trusted before): a write in this
    file's history, which cdt undo reverses."""
    with store.write() as tx:
        check_trust(store, info)
        tx.put_local("upstream_key", _upstream_row(info))
        tx.describe("history.key_trust", name=clean_text(info["unit_name"]) or "?", code=info["unit_code"])
    return upstream(store)


def trust_upper(store: Store, upper: Store) -> None:
    """Seal this file's packs to ``upper``: its own district, which just rebuilt it (cdt extract) and
    whose key it holds already; part of making the file, not a write of the commune's."""
    keys = own_keys(upper)
    info = {**_key_fields(upper, keys), "fingerprint": keys.fingerprint}
    check_trust(store, info)
    row = _upstream_row(info)
    with store.local_write():
        store.conn.execute(f"INSERT OR REPLACE INTO upstream_key ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                           list(row.values()))


# -- incoming packs: pinned keys (trust on first use) ---------------------------------------------------


def _pins(store: Store, level: str, unit_code: str) -> list[str]:
    return [row[0] for row in store.conn.execute(
        "SELECT public_key FROM pinned_key WHERE level = ? AND unit_code = ? AND retired_at IS NULL",
        (level, unit_code))]


_UNIT_CODE_COLUMN = {"commune": "commune_code", "district": "district_code", "province": "province_code"}


def refuse_first_use_if_known(store: Store, header: Header) -> None:
    """A unit this file holds data of already (through a level below's packs) is never trusted on
    first use: the level below's pack carries the key it pinned, or a person accepts the key."""
    if _known_through_others(store, header):
        raise FileRefused("keys.known_unpinned", name=clean_text(header.unit_name) or "?",
                          code=clean_text(header.unit_code) or "?")


def _known_through_others(store: Store, header: Header) -> bool:
    """Whether this file holds data of the pack's unit already, in its own structure."""
    column = _UNIT_CODE_COLUMN.get(header.level)
    if column is None:
        return False
    return store.conn.execute(f"SELECT 1 FROM origin WHERE level = ? AND {column} = ? AND structure = ? LIMIT 1",
                              (header.level, header.unit_code, store.site.structure)).fetchone() is not None


def check_signer(store: Store, header: Header) -> str:
    """'known' for a pinned key, 'new' for a unit never heard from, 'other_file' for a pack of another
    file of a unit already pinned (a second file, or a replaced file's later pack: the merge's
    one-file-per-unit rule decides, and ``cdt merge --replaces`` pins its key); refuses another key
    for a file whose key is pinned (a forged or re-keyed pack: ``cdt key accept`` decides)."""
    pins = _pins(store, header.level, header.unit_code)
    if not pins:
        return "new"
    if b64encode(header.signer) in pins:
        return "known"
    pinned_files = {row[0] for row in store.conn.execute(
        "SELECT db_id FROM pinned_key WHERE level = ? AND unit_code = ? AND db_id IS NOT NULL",
        (header.level, header.unit_code))}
    if header.db_id not in pinned_files:
        return "other_file"
    replaced = store.conn.execute(
        "SELECT 1 FROM pinned_key k JOIN replacement r ON r.old_db_id = k.db_id WHERE k.level = ?"
        " AND k.unit_code = ? AND k.public_key = ? AND k.db_id = ?",
        (header.level, header.unit_code, b64encode(header.signer), header.db_id)).fetchone()
    if replaced:
        return "other_file"  # a replaced file's later pack, signed with its own old key: its rows are held
    raise FileRefused("keys.other_key", name=clean_text(header.unit_name) or "?",
                      code=clean_text(header.unit_code) or "?", fingerprint=fingerprint(header.signer))


def pin(store: Store, header: Header, how: str = "first_use") -> None:
    """Remember a unit's signing key after its first pack merged; a file that replaces the unit's
    old one (``how='replaces'``) retires the keys pinned before, as ``cdt key accept`` does."""
    with store.local_write():
        if how == "replaces":
            store.conn.execute("UPDATE pinned_key SET retired_at = ? WHERE level = ? AND unit_code = ?"
                               " AND retired_at IS NULL AND public_key <> ?",
                               (now(), header.level, header.unit_code, b64encode(header.signer)))
        store.conn.execute(
            "INSERT OR IGNORE INTO pinned_key (level, unit_code, public_key, db_id, unit_name, pinned_at, how)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (header.level, header.unit_code, b64encode(header.signer), header.db_id,
             clean_text(header.unit_name), now(), how))


def pin_carried(run, site: dict, origins: list[dict], schema: str = "inc") -> int:
    """Pin the keys a pack carries for the units it holds (a district's pins of its communes, a
    province's of its communes and districts), inside the merge: signed by the level below with the
    pack, they are this file's pins too, and a key carried for a unit replaces another key pinned
    here for it (the level below decided: a first-come key never outweighs it). Returns keys changed."""
    units = {(o["level"], str(o.get(_UNIT_CODE_COLUMN.get(o["level"], ""), "") or ""))
             for o in origins if o["db_id"] != site["db_id"] and o["level"] in _UNIT_CODE_COLUMN}
    changed = 0
    stamp = now()
    for level, unit_code, key, db_id, unit_name in run(
            f"SELECT level, unit_code, public_key, db_id, unit_name FROM {schema}.pinned_key"
            " WHERE retired_at IS NULL").fetchall():
        if (level, unit_code) not in units:
            continue
        changed += run("UPDATE main.pinned_key SET retired_at = ? WHERE level = ? AND unit_code = ?"
                       " AND retired_at IS NULL AND public_key <> ?", (stamp, level, unit_code, key)).rowcount
        run("INSERT INTO main.pinned_key (level, unit_code, public_key, db_id, unit_name, pinned_at, how)"
            " VALUES (?, ?, ?, ?, ?, ?, 'carried') ON CONFLICT (level, unit_code, public_key) DO UPDATE SET"
            " retired_at = NULL, db_id = coalesce(excluded.db_id, pinned_key.db_id)",
            (level, unit_code, key, db_id, clean_text(unit_name), stamp))
    return changed


def pinned_fingerprints(store: Store) -> dict[tuple[str, str], str]:
    """(level, unit code) → fingerprint of the key in use, for cdt status."""
    return {(row["level"], row["unit_code"]): fingerprint(b64decode(row["public_key"])) for row in store.query(
        "SELECT level, unit_code, public_key FROM pinned_key WHERE retired_at IS NULL ORDER BY pinned_at")}


@dataclass
class Opened:
    """An incoming pack verified and opened: its SQLite snapshot in the staging folder."""

    inner: Path
    header: Header
    fingerprint: str
    first_use: bool
    other_file: bool = False

    @property
    def sealed(self) -> bool:
        return self.header.sealed


def read_pack(path: Path) -> Header:
    """A pack's verified header (signature and content hash checked), without opening the content."""
    return packfile.read_verified(Path(path))


def open_incoming(target: Store, staged: Path, staging: Path, header: Header | None = None) -> Opened:
    """Verify a staged pack's signature first, then the signer's pin, then unseal it (DESIGN.md §8).

    ``header``: the staged pack's header as read_pack verified it already (the merge reads it first
    to know the unit), so the signature is not verified twice."""
    header = header or packfile.read_verified(staged)
    state = check_signer(target, header)
    keys = own_keys(target)
    if header.sealed:
        if keys.seal_public is None or header.recipient != key_id(keys.seal_public):
            raise FileRefused("keys.other_recipient")
    elif target.settings().get("require_sealed") == "true":  # register.SETTING_DEFAULTS: "false"
        raise FileRefused("keys.unsealed_refused")
    inner = staging / "inner.cdt"
    packfile.extract_content(staged, header, inner, keys.seal_secret)
    return Opened(inner=inner, header=header, fingerprint=fingerprint(header.signer), first_use=state == "new",
                  other_file=state == "other_file")


def check_inner(opened: Opened, site: dict) -> None:
    """The snapshot inside must be the signer's own file (the signed header names it)."""
    header = opened.header
    code = site.get(f"{site['level']}_code") or ""
    if site["db_id"] != header.db_id or site["level"] != header.level or str(code) != header.unit_code:
        raise FileRefused("keys.inner_mismatch")


def accept(store: Store, path: Path) -> dict:
    """Pin a pack's signing key for its unit, retiring the keys pinned before: a write in this file's
    history (cdt undo reverses it), logged in merge_log."""
    if store.site.level == "commune":
        raise InvalidInput("merge.commune_target")
    path = Path(path)
    if not path.is_file():
        raise NotFound("keys.no_pack", path=str(path))
    header = read_pack(path)
    print_ = fingerprint(header.signer)
    signer = b64encode(header.signer)
    stamp = now()
    with store.write() as tx:
        for row in store.query("SELECT * FROM pinned_key WHERE level = ? AND unit_code = ? AND retired_at IS NULL"
                               " AND public_key <> ?", (header.level, header.unit_code, signer)):
            tx.put_local("pinned_key", {**row, "retired_at": stamp})
        tx.put_local("pinned_key", {"level": header.level, "unit_code": header.unit_code, "public_key": signer,
                                    "db_id": header.db_id, "unit_name": clean_text(header.unit_name),
                                    "pinned_at": stamp, "how": "accepted", "retired_at": None})
        store.conn.execute(
            "INSERT INTO merge_log (file_name, sha256, db_id, level, unit_code, unit_name, packed_at, outcome,"
            " reason, merged_at, cdt_version) VALUES (?, ?, ?, ?, ?, ?, ?, 'key_accepted', ?, ?, ?)",
            (clean_text(path.name), sha256_file(path), header.db_id, header.level, header.unit_code,
             clean_text(header.unit_name), clean_text(header.fields.get("packed_at")), print_, stamp, __version__))
        tx.describe("history.key_accept", name=clean_text(header.unit_name) or "?",
                    code=clean_text(header.unit_code) or "?", fingerprint=print_)
    return describe(header)


def describe(header: Header) -> dict:
    """A pack's signer, for people: unit, file id, fingerprint, sealed or not."""
    return {"level": header.level, "code": clean_text(header.unit_code), "name": clean_text(header.unit_name),
            "db_id": clean_text(header.db_id), "fingerprint": fingerprint(header.signer), "sealed": header.sealed,
            "packed_at": clean_text(header.fields.get("packed_at"))}
