"""The pack container (cdt/packfile.py, docs/pack-format.md): any changed byte is refused."""

from __future__ import annotations

import hashlib
import json
import random
import struct
from pathlib import Path

import pytest

from kits import packkit
from cdt.exchange import packfile
from cdt.core.errors import FileRefused
from cdt.core.schema import APPLICATION_ID
from kits.mergekit import add_hamlet, add_member, seal_key, snapshot, unit_file


@pytest.fixture
def packs(tmp_path) -> dict[str, Path]:
    commune = unit_file(tmp_path / "c.db", "commune", "05761")
    add_hamlet(commune, "Xóm Một")
    add_member(commune, "Hoàng Văn An")
    made = {"clear": snapshot(commune, tmp_path / "clear.cdt", sealed=False),
            "sealed": snapshot(commune, tmp_path / "sealed.cdt")}
    commune.close()
    return made


def offsets(size: int, content_offset: int) -> list[int]:
    """Every byte of the magic, version, length, header and signature; 60 spread over the content."""
    rng = random.Random(size)
    spread = sorted(rng.sample(range(content_offset, size), 60))
    return list(range(content_offset)) + spread + [size - 1]


@pytest.mark.parametrize("kind", ["clear", "sealed"])
def test_every_single_byte_change_is_refused_by_the_container(packs, tmp_path, kind):
    good = packs[kind]
    header = packfile.read_verified(good)
    assert header.sealed is (kind == "sealed")
    data = good.read_bytes()
    bad = tmp_path / "bad.cdt"
    for offset in offsets(len(data), header.content_offset):
        changed = bytearray(data)
        changed[offset] ^= 0x01 << (offset % 8)
        bad.write_bytes(bytes(changed))
        with pytest.raises(FileRefused) as refused:
            packfile.read_verified(bad)
        assert refused.value.key.startswith("keys."), offset
    for cut in (data[:-1], data + b"\x00", data[: header.content_offset]):
        bad.write_bytes(cut)
        with pytest.raises(FileRefused):
            packfile.read_verified(bad)


def test_changed_bytes_are_refused_by_merge_and_the_district_is_unchanged(cdt, packs, tmp_path):
    district = unit_file(tmp_path / "d.db", "district", "171")
    district.close()
    path = tmp_path / "d.db"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    data = packs["sealed"].read_bytes()
    content = packfile.read_verified(packs["sealed"]).content_offset
    folder = tmp_path / "bad"
    folder.mkdir()
    chosen = offsets(len(data), content)[::7]
    for offset in chosen:
        changed = bytearray(data)
        changed[offset] = (changed[offset] + 1) % 256
        (folder / f"at-{offset:07d}.cdt").write_bytes(bytes(changed))
    result = cdt("--db", path, "merge", folder, "--format", "json")
    assert result.exit_code == 1
    files = json.loads(result.stdout)["files"]
    assert len(files) == len(chosen) and not any(f["ok"] for f in files)
    assert all(f["reason_key"].startswith("keys.") for f in files), {f["reason_key"] for f in files}
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    # The untouched pack merges.
    assert cdt("--db", path, "merge", packs["sealed"]).exit_code == 0


def test_the_header_says_what_the_format_document_says(packs):
    data = packs["sealed"].read_bytes()
    assert data[:8] == b"CDTPACK\x00"
    version, length = struct.unpack(">HI", data[8:14])
    assert version == 1
    fields = json.loads(data[14:14 + length])
    assert set(fields) == {"format", "signer", "db_id", "level", "unit_code", "unit_name", "packed_at", "sealed",
                           "cipher", "recipient", "content_sha256", "content_length"}
    assert fields["sealed"] and fields["cipher"] == "crypto_box_seal"
    assert fields["recipient"] == hashlib.sha256(seal_key()[1]).hexdigest()
    content = data[14 + length + 64:]
    assert len(content) == fields["content_length"]
    assert hashlib.sha256(content).hexdigest() == fields["content_sha256"]
    # Another tool can check the signature with any Ed25519 library (here PyNaCl).
    from nacl.signing import VerifyKey

    VerifyKey(packfile.b64decode(fields["signer"])).verify(
        b"cdt pack signature v1\x00" + data[:14 + length], data[14 + length:14 + length + 64])


def test_unsealing_needs_the_right_private_key(packs, tmp_path):
    from nacl.public import PrivateKey

    header = packfile.read_verified(packs["sealed"])
    with pytest.raises(FileRefused) as refused:
        packfile.extract_content(packs["sealed"], header, tmp_path / "x", bytes(PrivateKey.generate()))
    assert refused.value.key == "keys.cannot_unseal"
    packfile.extract_content(packs["sealed"], header, tmp_path / "y", seal_key()[0])
    assert (tmp_path / "y").read_bytes()[:16] == b"SQLite format 3\x00"


def _forged_header(fields: object) -> bytes:
    header = json.dumps(fields).encode()
    return b"CDTPACK\x00" + struct.pack(">HI", 1, len(header)) + header + bytes(64) + b"x"


def test_random_and_foreign_files_are_not_packs(tmp_path):
    for name, content, key in (("random", bytes(range(256)) * 8, "keys.not_a_pack"),
                               ("empty", b"", "merge.empty"),
                               ("short", b"CDTPACK\x00\x00", "keys.bad_pack"),
                               ("list", _forged_header([1, 2]), "keys.bad_pack"),
                               ("number", _forged_header({"signer": 5}), "keys.bad_pack"),
                               ("unsigned", _forged_header({"signer": "A" * 43 + "="}), "keys.bad_signature"),
                               ("newer", b"CDTPACK\x00\x00\x02" + bytes(80), "keys.format_too_new"),
                               ("sqlite", b"SQLite format 3\x00" + bytes(100), "keys.not_a_pack"),
                               ("old cdt", b"SQLite format 3\x00" + bytes(52) + APPLICATION_ID.to_bytes(4, "big")
                                + bytes(40), "keys.old_pack")):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(FileRefused) as refused:
            packkit.read_header(path)
        assert refused.value.key == key, name
