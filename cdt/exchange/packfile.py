"""The pack container (docs/pack-format.md): a signed, optionally sealed SQLite snapshot.

Layout, all integers big-endian::

    magic            8 bytes   b"CDTPACK\\x00"
    format version   2 bytes   1
    header length    4 bytes   n (at most MAX_HEADER)
    header           n bytes   UTF-8 JSON: signer key, db_id, unit, sealed?, recipient, content hash…
    signature       64 bytes   Ed25519 over SIGNING_CONTEXT ‖ the 14 + n bytes above
    content          the rest  the SQLite snapshot, or its libsodium sealed box (crypto_box_seal)

The header names the SHA-256 and the length of the content, so the signature covers every byte of
the file. Only standard constructions from libsodium (through PyNaCl) are used: Ed25519 signatures
and sealed boxes (X25519 + XSalsa20-Poly1305). This module knows the format only; who trusts which
key is ``keys.py``'s business. PyNaCl is imported where it is used (``cdt --help`` stays fast).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from cdt.core.errors import FileRefused
from cdt.core.schema import looks_like_store

# The name every pack file ends with (cdt pack writes it, cdt merge looks for it in a folder).
PACK_SUFFIX = ".cdt"
MAGIC = b"CDTPACK\x00"
FORMAT_VERSION = 1
PREFIX_BYTES = 14  # magic + version + header length
SIGNATURE_BYTES = 64
MAX_HEADER = 64 * 1024
SIGNING_CONTEXT = b"cdt pack signature v1\x00"
SQLITE_MAGIC = b"SQLite format 3\x00"
CIPHER = "crypto_box_seal"


@dataclass
class Header:
    """What a pack says about itself, once its signature and content hash are verified."""

    fields: dict
    signature: bytes
    content_offset: int

    @property
    def signer(self) -> bytes:
        return b64decode(self.fields["signer"])

    @property
    def db_id(self) -> str:
        return self.fields["db_id"]

    @property
    def level(self) -> str:
        return self.fields["level"]

    @property
    def unit_code(self) -> str:
        return self.fields["unit_code"]

    @property
    def unit_name(self) -> str | None:
        return self.fields.get("unit_name")

    @property
    def sealed(self) -> bool:
        return bool(self.fields["sealed"])

    @property
    def recipient(self) -> str | None:
        return self.fields.get("recipient")


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def key_id(public_key: bytes) -> str:
    """The full SHA-256 of a public key (hex): how a header names the recipient of a sealed pack."""
    return hashlib.sha256(public_key).hexdigest()


def _canonical(fields: dict) -> bytes:
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def write(plain: Path, out: Path, *, signing_secret: bytes, identity: dict,
          recipient: bytes | None = None) -> str:
    """Write the container for the SQLite snapshot ``plain`` to ``out`` (a new file); returns the
    SHA-256 of the whole container (what the merge log and a re-merge know it by).

    identity: db_id, level, unit_code, unit_name, packed_at of the signing file. recipient: the
    X25519 public key to seal to, or None for a signed pack in clear."""
    from nacl.public import PublicKey, SealedBox
    from nacl.signing import SigningKey

    signer = SigningKey(signing_secret)
    data = plain.read_bytes()
    if recipient is not None:
        data = SealedBox(PublicKey(recipient)).encrypt(data)
    fields = {
        "format": FORMAT_VERSION,
        "signer": b64encode(bytes(signer.verify_key)),
        "db_id": identity["db_id"], "level": identity["level"], "unit_code": identity["unit_code"] or "",
        "unit_name": identity.get("unit_name"), "packed_at": identity.get("packed_at"),
        "sealed": recipient is not None,
        "cipher": CIPHER if recipient is not None else None,
        "recipient": key_id(recipient) if recipient is not None else None,
        "content_sha256": hashlib.sha256(data).hexdigest(),
        "content_length": len(data),
    }
    header = _canonical(fields)
    prefix = MAGIC + FORMAT_VERSION.to_bytes(2, "big") + len(header).to_bytes(4, "big") + header
    signature = signer.sign(SIGNING_CONTEXT + prefix).signature
    whole = hashlib.sha256(prefix)
    whole.update(signature)
    whole.update(data)
    with open(out, "wb") as writer:
        writer.write(prefix)
        writer.write(signature)
        writer.write(data)
    return whole.hexdigest()


def read_verified(path: Path) -> Header:
    """Parse a pack's header and verify its signature and content hash; raises FileRefused.

    Nothing in the header is believed before the signature over it verifies with the key it names
    (who that key belongs to is checked by the caller, against the pinned keys)."""
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    size = path.stat().st_size
    if size == 0:
        raise FileRefused("merge.empty")
    with open(path, "rb") as handle:
        prefix = handle.read(PREFIX_BYTES)
        if prefix[:8] != MAGIC:
            # Only a real cdt file (SQLite with cdt's application id) is an old unsigned pack; any
            # other SQLite file, or SQLite's magic followed by junk, is simply not a pack.
            if prefix == SQLITE_MAGIC[:PREFIX_BYTES] and looks_like_store(prefix + handle.read(100 - PREFIX_BYTES)):
                raise FileRefused("keys.old_pack")
            raise FileRefused("keys.not_a_pack")
        if len(prefix) < PREFIX_BYTES:
            raise FileRefused("keys.bad_pack")
        version = int.from_bytes(prefix[8:10], "big")
        length = int.from_bytes(prefix[10:14], "big")
        if version != FORMAT_VERSION:
            raise FileRefused("keys.format_too_new" if version > FORMAT_VERSION else "keys.bad_pack",
                              version=version)
        if length > MAX_HEADER or PREFIX_BYTES + length + SIGNATURE_BYTES > size:
            raise FileRefused("keys.bad_pack")
        header = handle.read(length)
        signature = handle.read(SIGNATURE_BYTES)
        try:
            fields = json.loads(header.decode("utf-8"))
            signer = b64decode(fields["signer"])
            if not isinstance(fields, dict) or len(signer) != 32:
                raise ValueError
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
            raise FileRefused("keys.bad_pack") from None
        try:
            VerifyKey(signer).verify(SIGNING_CONTEXT + prefix + header, signature)
        except (BadSignatureError, ValueError):
            raise FileRefused("keys.bad_signature") from None
        if not _fields_ok(fields):
            raise FileRefused("keys.bad_pack")
        offset = PREFIX_BYTES + length + SIGNATURE_BYTES
        if size - offset != fields["content_length"]:
            raise FileRefused("keys.bad_signature")
        digest = hashlib.sha256()
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != fields["content_sha256"]:
        raise FileRefused("keys.bad_signature")
    return Header(fields=fields, signature=signature, content_offset=offset)


def _fields_ok(fields: dict) -> bool:
    """The signed header has the shape this version writes (a valid signature over nonsense is
    still nonsense: a signer could be a forger with their own key)."""
    text = ("db_id", "level", "unit_code", "content_sha256")
    if any(not isinstance(fields.get(k), str) or not fields.get(k) for k in text):
        return False
    if fields["level"] not in ("commune", "district", "province"):
        return False
    if not isinstance(fields.get("content_length"), int) or not isinstance(fields.get("sealed"), bool):
        return False
    if fields["sealed"] and (fields.get("cipher") != CIPHER or not isinstance(fields.get("recipient"), str)):
        return False
    return True


def extract_content(path: Path, header: Header, out: Path, seal_secret: bytes | None) -> None:
    """Write the pack's SQLite snapshot to ``out``, unsealing it with our X25519 private key.

    ``path`` must be a private copy (the merge's staging folder) already checked by read_verified:
    nobody else can change it in between, so its content is not hashed a second time (a sealed box
    carries its own MAC besides)."""
    from nacl.exceptions import CryptoError
    from nacl.public import PrivateKey, SealedBox

    with open(path, "rb") as handle:
        handle.seek(header.content_offset)
        data = handle.read()
    if len(data) != header.fields["content_length"]:
        raise FileRefused("keys.bad_signature")
    if header.sealed:
        if seal_secret is None:
            raise FileRefused("keys.other_recipient")
        try:
            data = SealedBox(PrivateKey(seal_secret)).decrypt(data)
        except (CryptoError, ValueError):
            raise FileRefused("keys.cannot_unseal") from None
    with open(out, "wb") as writer:
        writer.write(data)
