"""Keys through the CLI (DESIGN.md §8): key exchange, sealed packs that leak nothing, trust on first
use, refusals that leave the district byte-identical, cdt key accept, require_sealed, the forgery."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from kits import packkit
from cdt.store import canonical_dump
from cdt.store import Store
from cdt.core.rows import row_hash
from kits.cli import daitu_and_its_province, make_commune, pack

NAMES = ("Hoàng Văn An", "Nguyễn Thị Bích")
PHONES = ("0912345678", "0987654321")
HOUSEHOLDS = ("HS-0042/XOM-MOT",)  # long enough not to appear by chance in 200 KB of ciphertext
NOTE = "Bà cụ cần hướng dẫn cài VNeID"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def commune_with_people(cdt, path: Path, code: str = "05761") -> Path:
    make_commune(cdt, path, code)
    for args in (("member", "add", NAMES[1], "--team", "Xóm Một", "--phone", PHONES[1]),
                 ("visit", "log", "--team", "Xóm Một", "--household", HOUSEHOLDS[0], "--people", "3",
                  "--service", "vneid", "--date", "06/10/2026", "--notes", NOTE)):
        done = cdt("--db", path, *args)
        assert done.exit_code == 0, done.output
    return path


def exchange(cdt, district: Path, commune: Path, tmp_path: Path) -> str:
    """The district exports its key, the commune trusts it; returns the fingerprint both saw."""
    out = tmp_path / "khoa-huyen.txt"
    exported = cdt("--db", district, "key", "export", "--out", out)
    assert exported.exit_code == 0, exported.output
    fingerprint = exported.stdout.strip().splitlines()[-1].split(": ")[-1]
    trusted = cdt("--db", commune, "key", "trust", out, "--yes")
    assert trusted.exit_code == 0, trusted.output
    assert fingerprint in trusted.stdout
    return fingerprint


def refused(cdt, district: Path, bad: Path, needle: str) -> None:
    """Refused with a Vietnamese reason, exit ≠ 0, the district byte-identical."""
    before = sha(district)
    result = cdt("--db", district, "merge", bad)
    assert result.exit_code != 0, result.output
    assert needle in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert sha(district) == before


# -- key show / export / trust -----------------------------------------------------------------------


def test_every_file_has_a_key_and_show_tells_its_fingerprint(cdt, tmp_path, district):
    commune = make_commune(cdt, tmp_path / "c.db", "05761")
    shown = json.loads(cdt("--db", commune, "key", "show", "--format", "json").stdout)
    assert len(shown["fingerprint"]) == 24 and shown["seal_key"] is None and shown["upstream"] is None
    assert json.loads(cdt("--db", district, "key", "show", "--format", "json").stdout)["seal_key"]
    text = cdt("--db", commune, "key", "show")
    assert f"dấu vân tay: {shown['fingerprint']}" in text.stdout and "chưa niêm phong" in text.stdout
    fingerprint = exchange(cdt, district, commune, tmp_path)
    shown = json.loads(cdt("--db", commune, "key", "show", "--format", "json").stdout)
    assert shown["upstream"]["fingerprint"] == fingerprint and shown["upstream"]["code"] == "171"
    english = cdt("--lang", "en", "--db", commune, "key", "show")
    assert "Packs are sealed to" in english.stdout


def test_the_key_file_is_safe_to_share_and_a_changed_one_is_refused(cdt, tmp_path, district):
    out = tmp_path / "k.txt"
    assert cdt("--db", district, "key", "export", "--out", out).exit_code == 0
    text = out.read_text(encoding="utf-8")
    secrets = [row[0] for row in sqlite3.connect(district).execute("SELECT secret FROM own_key")]
    assert len(secrets) == 2
    assert all(bytes(s) not in out.read_bytes() and packkit.packfile.b64encode(bytes(s)) not in text for s in secrets)
    commune = make_commune(cdt, tmp_path / "c.db", "05761")
    changed = tmp_path / "changed.txt"
    changed.write_text(text.replace("seal_key: ", "seal_key: A"), encoding="utf-8")
    result = cdt("--db", commune, "key", "trust", changed, "--yes")
    assert result.exit_code == 1 and "không phải tệp khóa công khai" in result.stderr
    again = cdt("--db", district, "key", "export", "--out", out)
    assert again.exit_code == 1 and "đã có" in again.stderr


def test_trust_refuses_another_district_and_needs_a_yes(cdt, tmp_path):
    other = tmp_path / "other.db"
    assert cdt("--db", other, "init", "--district", "164").exit_code == 0
    out = tmp_path / "k.txt"
    assert cdt("--db", other, "key", "export", "--out", out).exit_code == 0
    commune = make_commune(cdt, tmp_path / "c.db", "05761")
    result = cdt("--db", commune, "key", "trust", out, "--yes")
    assert result.exit_code == 1 and "không phải của cấp trên trực tiếp" in result.stderr
    own = tmp_path / "own.db"
    assert cdt("--db", own, "init", "--district", "171").exit_code == 0
    assert cdt("--db", own, "key", "export", "--out", tmp_path / "own.txt").exit_code == 0
    asked = cdt("--db", commune, "key", "trust", tmp_path / "own.txt")
    assert asked.exit_code == 1 and "--yes" in asked.stderr
    assert json.loads(cdt("--db", commune, "key", "show", "--format", "json").stdout)["upstream"] is None


# -- sealed packs ----------------------------------------------------------------------------------------


def _variants(text: str) -> list[bytes]:
    return [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be")]


def test_a_sealed_pack_holds_no_name_phone_household_or_note_and_merges_like_a_clear_one(
        cdt, tmp_path, district):
    commune = commune_with_people(cdt, tmp_path / "c.db")
    clear = pack(cdt, commune, tmp_path / "clear")
    data = clear.read_bytes()
    assert NAMES[0].encode() in data  # the unsealed pack does carry them: the test can see them
    exchange(cdt, district, commune, tmp_path)
    sealed = pack(cdt, commune, tmp_path / "sealed")
    data = sealed.read_bytes()
    for text in (*NAMES, *PHONES, *HOUSEHOLDS, NOTE, "Hoàng", "Bích"):
        for needle in _variants(text):
            assert needle not in data, text
    # No private key of the commune either (nor in the snapshot inside).
    secret = bytes(sqlite3.connect(commune).execute("SELECT secret FROM own_key").fetchone()[0])
    inner = packkit.unwrap(sealed, tmp_path / "inner.sqlite", opener=district)
    assert secret not in data and secret not in inner.read_bytes()
    assert sqlite3.connect(inner).execute("SELECT count(*) FROM own_key").fetchone()[0] == 0
    # The district merges it with the same result as the clear pack.
    twin = tmp_path / "twin.db"
    twin.write_bytes(district.read_bytes())
    one = cdt("--db", district, "merge", sealed)
    assert one.exit_code == 0, one.output
    assert "đã niêm phong" in one.stdout and "mới, ghim lần đầu" in one.stdout
    two = cdt("--db", twin, "merge", clear)
    assert two.exit_code == 0, two.output
    assert "CHƯA niêm phong" in two.stdout
    with Store.open(district) as a, Store.open(twin) as b:
        assert canonical_dump(a) == canonical_dump(b)
    # Re-merging is recognised by the container's SHA-256 without opening it.
    again = cdt("--db", district, "merge", sealed)
    assert again.exit_code == 0 and "Chữ ký" not in again.stdout
    assert json.loads(cdt("--db", district, "merge", sealed, "--format", "json").stdout)["files"][0]["already_merged"]


def test_a_pack_sealed_to_another_district_is_refused(cdt, tmp_path, district):
    commune = commune_with_people(cdt, tmp_path / "c.db")
    other = tmp_path / "other.db"
    assert cdt("--db", other, "init", "--district", "171").exit_code == 0  # a second file of Đại Từ
    exchange(cdt, other, commune, tmp_path)
    sealed = pack(cdt, commune, tmp_path / "sealed")
    refused(cdt, district, sealed, "niêm phong cho một đơn vị khác")
    assert cdt("--db", other, "merge", sealed).exit_code == 0


def test_require_sealed_refuses_clear_packs(cdt, tmp_path, district):
    commune = commune_with_people(cdt, tmp_path / "c.db")
    clear = pack(cdt, commune, tmp_path / "clear")
    assert cdt("--db", district, "settings", "set", "require_sealed", "true").exit_code == 0
    refused(cdt, district, clear, "chỉ nhận gói đã niêm phong")
    bad = cdt("--db", district, "settings", "set", "require_sealed", "maybe")
    assert bad.exit_code == 1 and "true hoặc false" in bad.stderr
    exchange(cdt, district, commune, tmp_path)
    assert cdt("--db", district, "merge", pack(cdt, commune, tmp_path / "sealed")).exit_code == 0


# -- signatures and pinned keys ------------------------------------------------------------------------


def test_same_origin_with_a_new_key_is_refused_until_accepted(cdt, tmp_path, district):
    commune = commune_with_people(cdt, tmp_path / "c.db")
    first = pack(cdt, commune, tmp_path / "p1")
    assert cdt("--db", district, "merge", first).exit_code == 0
    status = json.loads(cdt("--db", district, "status", "--format", "json").stdout)
    shown = json.loads(cdt("--db", commune, "key", "show", "--format", "json").stdout)["fingerprint"]
    assert status["origins"][0]["key"] == shown
    assert shown.split()[0] in cdt("--db", district, "status").stdout
    # The clerk's laptop was stolen: the district rebuilt the file, which has a new key.
    stolen = commune.rename(tmp_path / "stolen.db")
    rebuilt = tmp_path / "rebuilt.db"
    extracted = cdt("--db", district, "extract", "--commune", "05761", "--out", rebuilt)
    assert extracted.exit_code == 0 and "cdt key accept" in extracted.stdout
    # The rebuilt file has keys of its own; none of the district's private keys went into it.
    district_secrets = [bytes(r[0]) for r in sqlite3.connect(district).execute("SELECT secret FROM own_key")]
    assert all(secret not in rebuilt.read_bytes() for secret in district_secrets)
    assert cdt("--db", rebuilt, "hamlet", "add", "Xóm Mới", "--kind", "xóm").exit_code == 0
    new = pack(cdt, rebuilt, tmp_path / "p2")
    refused(cdt, district, new, "khóa khác khóa đã biết")
    asked = cdt("--db", district, "key", "accept", new)
    assert asked.exit_code == 1 and "--yes" in asked.stderr
    accepted = cdt("--db", district, "key", "accept", new, "--yes")
    assert accepted.exit_code == 0, accepted.output
    new_fingerprint = json.loads(cdt("--db", rebuilt, "key", "show", "--format", "json").stdout)["fingerprint"]
    assert new_fingerprint in accepted.stdout
    log = sqlite3.connect(district).execute(
        "SELECT outcome, unit_code, reason FROM merge_log WHERE outcome = 'key_accepted'").fetchall()
    assert log == [("key_accepted", "05761", new_fingerprint)]
    merged = cdt("--db", district, "merge", new, "--format", "json")
    assert merged.exit_code == 0, merged.output
    assert json.loads(merged.stdout)["files"][0]["totals"]["inserted"] == 1
    # The rebuilt file was sealed to its district by extract.
    assert json.loads(merged.stdout)["files"][0]["sealed"] is True
    # The old key is retired: a pack signed with it (the thief's laptop) is refused now.
    assert cdt("--db", stolen, "hamlet", "add", "Xóm Trộm", "--kind", "xóm").exit_code == 0
    refused(cdt, district, pack(cdt, stolen, tmp_path / "p3"), "khóa khác khóa đã biết")


def test_a_pack_re_signed_with_another_key_is_refused(cdt, tmp_path, district):
    commune = commune_with_people(cdt, tmp_path / "c.db")
    assert cdt("--db", district, "merge", pack(cdt, commune, tmp_path / "p1")).exit_code == 0
    assert cdt("--db", commune, "hamlet", "add", "Xóm Hai", "--kind", "xóm").exit_code == 0
    second = pack(cdt, commune, tmp_path / "p2")
    inner = packkit.unwrap(second, tmp_path / "inner.sqlite")
    forged = packkit.wrap(inner, tmp_path / "forged.cdt", key_from=None,
                          identity=packkit.read_header(second).fields)
    refused(cdt, district, forged, "khóa khác khóa đã biết")


def test_a_visit_forged_with_hash_history_and_clock_redone_is_refused(cdt, tmp_path, district):
    """A visit set to 999 people with rev 10^12, its hash and a history row recomputed, the clock
    raised: every row check passes, the signature does not."""
    commune = commune_with_people(cdt, tmp_path / "c.db")
    good = pack(cdt, commune, tmp_path / "p1")
    assert cdt("--db", district, "merge", good).exit_code == 0
    inner = packkit.unwrap(good, tmp_path / "inner.sqlite")
    conn = sqlite3.connect(inner)
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM visit LIMIT 1").fetchone())
    row.update(people=999, rev=10 ** 12)
    conn.execute("UPDATE visit SET people = 999, rev = ?, hash = ? WHERE id = ?",
                 (row["rev"], row_hash("visit", row), row["id"]))
    conn.execute("INSERT INTO history (origin, rev, chain) VALUES (?, ?, ?)", (row["origin"], row["rev"], "f" * 64))
    conn.execute("UPDATE site SET clock = ?", (row["rev"],))
    conn.commit()
    conn.close()
    # Wrapped in the same header, signature kept: the content no longer matches what was signed.
    original = good.read_bytes()
    header = packkit.read_header(good)
    forged = tmp_path / "forged.cdt"
    forged.write_bytes(original[:header.content_offset] + inner.read_bytes())
    refused(cdt, district, forged, "chữ ký không khớp")
    # Signed by the forger's own key instead: another key for Hùng Sơn.
    resigned = packkit.wrap(inner, tmp_path / "resigned.cdt", key_from=None, identity=header.fields)
    refused(cdt, district, resigned, "khóa khác khóa đã biết")
    assert sqlite3.connect(district).execute("SELECT max(people) FROM visit").fetchone()[0] < 999


def test_an_old_unsigned_pack_asks_for_a_new_pack(cdt, tmp_path, district):
    commune = commune_with_people(cdt, tmp_path / "c.db")
    inner = packkit.unwrap(pack(cdt, commune, tmp_path / "p"), tmp_path / "old.cdt")
    refused(cdt, district, inner, "đóng gói lại bằng cdt mới")
    english = cdt("--lang", "en", "--db", district, "merge", inner)
    assert "pack again with the new cdt" in english.stderr


def test_the_inner_file_must_be_the_signer(cdt, tmp_path, district):
    """A commune's key signing another commune's snapshot is refused (the header names the signer)."""
    one = commune_with_people(cdt, tmp_path / "c1.db", "05761")
    two = commune_with_people(cdt, tmp_path / "c2.db", "05767")
    theirs = packkit.unwrap(pack(cdt, two, tmp_path / "p2"), tmp_path / "two.sqlite")
    mine = packkit.read_header(pack(cdt, one, tmp_path / "p1")).fields
    forged = packkit.wrap(theirs, tmp_path / "forged.cdt", key_from=one, identity=mine)
    refused(cdt, district, forged, "không phải của đơn vị đã ký gói")


def test_an_existing_file_gets_keys_when_a_new_cdt_opens_it(cdt, tmp_path):
    from kits.mergekit import unit_file

    old = unit_file(tmp_path / "old.db", "district", "171", schema_version=3)
    old.close()
    assert cdt("--db", tmp_path / "old.db", "key", "show").exit_code == 0
    kinds = sorted(r[0] for r in sqlite3.connect(tmp_path / "old.db").execute("SELECT kind FROM own_key"))
    assert kinds == ["seal", "sign"]


# -- a 2025 commune seals its packs to its province ----------------------------------------------


def test_unsealed_hint_of_a_2025_province_says_province(cdt, tmp_path):
    commune, province = daitu_and_its_province(cdt, tmp_path)
    packed = pack(cdt, commune, tmp_path / "stick")
    result = cdt("--db", province, "merge", packed)
    assert result.exit_code == 0, result.output
    assert ("1 gói CHƯA niêm phong (xã chưa tin khóa của tỉnh): ở tỉnh chạy cdt key export, "
            "rồi ở xã cdt key trust") in result.stdout.splitlines()
    assert "huyện" not in result.stdout
    english = cdt("--lang", "en", "--db", tmp_path / "tinh2.db", "init", "--province", "19", "--structure", "2025")
    assert english.exit_code == 0
    detail = cdt("--lang", "en", "--db", tmp_path / "tinh2.db", "merge", packed, "--detail")
    assert ("NOT sealed (the commune has not trusted the province's key: cdt key export, then at the commune "
            "cdt key trust)") in detail.stdout


def test_a_2025_commune_trusts_its_province_and_is_asked_about_the_province(cdt, tmp_path, monkeypatch):
    from cdt.commands import common

    commune, province = daitu_and_its_province(cdt, tmp_path)
    assert cdt("--db", province, "key", "export", "--out", tmp_path / "khoa.txt").exit_code == 0
    monkeypatch.setattr(common, "interactive", lambda: True)
    trusted = cdt("--db", commune, "key", "trust", tmp_path / "khoa.txt", input="c\n")
    assert trusted.exit_code == 0, trusted.output
    assert "Dấu vân tay có đúng như tỉnh đọc qua điện thoại không? [c/K]" in trusted.stdout
    assert trusted.stdout.rstrip().endswith("Đã tin khóa của Tỉnh Thái Nguyên: từ nay gói được niêm phong, "
                                            "chỉ tệp của Tỉnh Thái Nguyên mở được.")
    merged = cdt("--db", province, "merge", pack(cdt, commune, tmp_path / "stick"))
    assert merged.exit_code == 0, merged.output
    assert merged.stdout.splitlines()[0].endswith("· đã niêm phong")
