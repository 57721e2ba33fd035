"""No personal data left behind: temporary copies live in one private per-user
scratch folder, are removed on success and on error, and what a killed `cdt pack` or `cdt extract`
left (its job folder, the .part file beside the destination) is removed at the next cdt start."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cdt.core import files as scratch

CDT = [sys.executable, "-m", "cdt"]


def _leftovers(*folders: Path) -> list[Path]:
    found = [p for p in scratch.root().iterdir()]
    for folder in folders:
        if folder.exists():
            found += [p for p in folder.rglob("*") if p.name.endswith((".part", "-journal", ".part-journal"))]
    return found


def _fill(cdt, db: Path) -> None:
    """A commune with a few hundred rows, so a pack takes long enough to be killed in every phase."""
    assert cdt("--db", db, "hamlet", "add", "Xóm Một", "--kind", "xóm").exit_code == 0
    assert cdt("--db", db, "team", "add", "--hamlet", "Xóm Một", "--decided-on", "01/06/2022").exit_code == 0
    from cdt.store import Store

    store = Store.open(db)
    team = store.rows("team")[0]["id"]
    store.conn.execute("PRAGMA synchronous = OFF")
    with store.write() as tx:
        for i in range(3000):
            tx.insert("visit", {"date": "2026-10-05", "team_id": team, "household": f"H{i}", "people": 2,
                                "services": '["dvc"]', "members": "[]", "notes": "x" * 200})
    store.close()


def test_the_scratch_folder_is_private_and_jobs_clean_up(cdt, commune, tmp_path):
    root = scratch.root()
    if sys.platform != "win32":
        assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert cdt("--db", commune, "pack", "--out", tmp_path / "packs").exit_code == 0
    district = tmp_path / "district.db"
    assert cdt("--db", district, "init", "--district", "171").exit_code == 0
    [made] = list((tmp_path / "packs").iterdir())
    assert cdt("--db", district, "merge", made).exit_code == 0
    assert cdt("--db", district, "merge", made, "--dry-run").exit_code == 0
    assert cdt("--db", district, "extract", "--commune", "05761", "--out", tmp_path / "back.db").exit_code == 0
    assert list(root.iterdir()) == []
    # On error too: a refused pack's staging copy is gone.
    bad = tmp_path / "bad.cdt"
    bad.write_bytes(b"not a pack")
    assert cdt("--db", district, "merge", bad).exit_code == 1
    assert list(root.iterdir()) == []


def test_a_dead_process_job_and_its_part_file_are_removed_at_the_next_start(cdt, commune, tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    job = scratch.root() / f"pack-{pid}-abc"
    job.mkdir()
    (job / "snapshot.cdt").write_bytes(b"names and phones")
    part = tmp_path / "out" / "cdt-05761.cdt.part"
    part.parent.mkdir()
    part.write_bytes(b"half")
    Path(str(part) + "-journal").write_bytes(b"j")
    other = tmp_path / "out" / "keep.txt"  # not cdt's: never touched
    other.write_text("x")
    scratch.note_part(job, part)
    (job / scratch.PARTS_LIST).open("a").write(str(other) + "\n")
    mine = scratch.make("merge")  # a live process's job stays
    assert cdt("--db", commune, "info").exit_code == 0
    assert not job.exists() and not part.exists() and not Path(str(part) + "-journal").exists()
    assert other.exists() and mine.exists()
    scratch.remove(mine)


@pytest.mark.durable
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_fifty_random_kills_of_pack_and_extract_leave_nothing_behind(cdt, commune, tmp_path):
    _fill(cdt, commune)
    packs = tmp_path / "packs"
    assert cdt("--db", commune, "pack", "--out", packs).exit_code == 0
    district = tmp_path / "district.db"
    assert cdt("--db", district, "init", "--district", "171").exit_code == 0
    assert cdt("--db", district, "merge", next(packs.iterdir())).exit_code == 0
    out = tmp_path / "out"
    out.mkdir()
    rng = random.Random(9)
    started = time.monotonic()
    killed = 0
    for run in range(50):
        if run % 2 == 0:
            args = ["--db", str(commune), "pack", "--out", str(packs)]
        else:
            args = ["--db", str(district), "extract", "--commune", "05761", "--out", str(out / f"xã {run}.db")]
        process = subprocess.Popen(CDT + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.15, 0.9))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait()
        if time.monotonic() - started > 50:
            break
    assert killed >= 10  # most runs died midway (a busy machine makes them slower, not faster)
    # The next cdt command, whatever it is, removes every leftover.
    assert subprocess.run(CDT + ["--db", str(commune), "info"], capture_output=True).returncode == 0
    assert _leftovers(packs, out) == []
    # What a kill left complete is a whole file: every pack's signature verifies, every extract is SQLite.
    from cdt.exchange import packfile

    for made in packs.iterdir():
        packfile.read_verified(made)
    for made in out.iterdir():
        assert made.read_bytes()[:16] == b"SQLite format 3\x00", made


def test_stale_staging_folders_are_cleaned_and_none_is_left(cdt, tmp_path, district, good_pack, monkeypatch):
    import os
    import tempfile
    import time

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    stale, fresh, foreign = temp / "cdt-merge-stale", temp / "cdt-merge-fresh", temp / "other-old"
    for folder in (stale, fresh, foreign):
        folder.mkdir()
        (folder / "incoming.cdt").write_bytes(b"x")
    old = time.time() - 3600
    for folder in (stale, foreign):
        os.utime(folder, (old, old))
    empty = tmp_path / "e.cdt"
    empty.write_bytes(b"")
    assert cdt("--db", district, "merge", good_pack, empty).exit_code == 1
    assert cdt("--db", district, "merge", good_pack, "--dry-run").exit_code == 0
    assert sorted(p.name for p in temp.iterdir()) == ["cdt-merge-fresh", "other-old"]


@pytest.mark.durable
def test_a_kill_during_init_from_old_files_leaves_no_copy_anywhere(cdt, tmp_path, monkeypatch):
    """cdt init --from copies each old commune's file (names, phones) before checking it: the copy is
    in cdt's private scratch folder, never the system temp folder, and the next command removes it."""
    import tempfile

    temp = tmp_path / "system-temp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "TEMP": str(temp), "TMP": str(temp),
           "CDT_TEST_PAUSE": "regroup_copied:30"}
    old = tmp_path / "hoà phú cũ.db"
    assert cdt("--db", old, "init", "--commune", "24172", "--structure", "legacy").exit_code == 0
    assert cdt("--db", old, "hamlet", "add", "Thôn 1", "--kind", "thôn").exit_code == 0
    assert cdt("--db", old, "team", "add", "--hamlet", "Thôn 1").exit_code == 0
    assert cdt("--db", old, "member", "add", "Nguyễn Văn Bí Mật", "--team", "Thôn 1", "--phone", "0912345678").exit_code == 0
    new = tmp_path / "hoà phú.db"
    process = subprocess.Popen(CDT + ["--db", str(new), "init", "--commune", "24175", "--from", str(old)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(scratch.root().glob("regroup-*/old.db")):
        time.sleep(0.05)
    assert any(scratch.root().glob("regroup-*/old.db")), "the copy was not made in the scratch folder"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert list(temp.iterdir()) == []  # nothing in the system temp folder
    assert not Path(tempfile.gettempdir(), "cdt-regroup-x").exists()
    assert subprocess.run(CDT + ["--db", str(old), "info"], capture_output=True).returncode == 0
    assert _leftovers() == []
    assert not new.exists()
