"""A full disk: one Vietnamese line, no traceback, no half-written or empty file, data unchanged.

Runs on a small tmpfs (needs root to mount, as on this project's CI machine); skipped elsewhere."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kits.templates import TEMPLATES

pytestmark = pytest.mark.durable  # a full disk with SQLite's full sync, as clerks run it

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "data" / "05767-phuc-luong-mau-cdt.xlsx"


def _run(*args: str, db: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CDT_DB": str(db), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "cdt", *args], capture_output=True, text=True,
                          env=env, stdin=subprocess.DEVNULL, timeout=120)


@pytest.fixture
def usb(tmp_path):
    """A 2 MB tmpfs standing for a nearly full USB stick (filled later, once its files are on it)."""
    folder = tmp_path / "usb"
    folder.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs Linux and root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _fill(folder: Path, leave: int = 8 * 1024) -> None:
    """Fill the stick, leaving `leave` bytes free: enough to start writing, not to finish."""
    with open(folder / "filler", "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
        except OSError:
            pass
    with open(folder / "filler", "r+b") as handle:
        handle.truncate(max(0, os.path.getsize(folder / "filler") - leave))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_vietnamese_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr and "No space" not in done.stderr
    assert lines[0].startswith("Lỗi: ")
    assert "đầy" in lines[0], lines[0]
    return lines[0]


def _leftovers(folder: Path, before: set[str]) -> set[str]:
    return {p.name for p in folder.iterdir()} - before - {"filler"}


@pytest.fixture
def commune_with_data(tmp_path):
    """Phúc Lương with the example spreadsheet imported (built once per session, then copied)."""
    def build(db: Path) -> None:
        assert _run("init", "--commune", "05767", "--structure", "legacy", db=db).returncode == 0
        done = _run("import", str(EXAMPLE), db=db)
        assert done.returncode == 0, done.stderr

    return TEMPLATES.copy("disk-full-phuc-luong", tmp_path / "xa.db", build)


@pytest.mark.parametrize("command", ["pack", "report", "template"])
def test_writing_a_file_to_a_full_stick(usb, commune_with_data, command):
    args = {"pack": ["pack", "--out", str(usb)],
            "report": ["report", "--xlsx", str(usb / "báo cáo.xlsx")],
            "template": ["template", "--out", str(usb / "mẫu nhập liệu.xlsx")]}[command]
    _fill(usb)
    before = {p.name for p in usb.iterdir()}
    line = _one_vietnamese_line(_run(*args, db=commune_with_data))
    assert line == {
        "pack": f"Lỗi: không ghi được vào {usb}: đĩa hoặc USB đã đầy",
        "report": f"Lỗi: Không ghi được tệp {usb / 'báo cáo.xlsx'}: đĩa hoặc USB đã đầy. "
                  "Nếu tệp đang mở trong Excel, hãy đóng lại rồi chạy lại lệnh.",
        "template": f"Lỗi: Không ghi được tệp {usb / 'mẫu nhập liệu.xlsx'} (đĩa hoặc USB đã đầy).",
    }[command]
    assert _leftovers(usb, before) == set(), line


def test_extract_to_a_full_stick(usb, commune_with_data, tmp_path):
    pack_dir = tmp_path / "packs"
    pack_dir.mkdir()
    assert _run("pack", "--out", str(pack_dir), db=commune_with_data).returncode == 0
    district = tmp_path / "huyen.db"
    assert _run("init", "--district", "171", "--structure", "legacy", db=district).returncode == 0
    assert _run("merge", str(pack_dir), db=district).returncode == 0
    _fill(usb)
    before = {p.name for p in usb.iterdir()}
    line = _one_vietnamese_line(_run("extract", "--commune", "05767", "--out", str(usb / "xa moi.db"), db=district))
    assert line == f"Lỗi: không tạo được tệp trong thư mục {usb}: đĩa hoặc USB đã đầy"
    assert _leftovers(usb, before) == set()


@pytest.mark.parametrize("command", ["merge", "import"])
def test_writing_into_a_database_on_a_full_disk(usb, commune_with_data, tmp_path, command):
    if command == "merge":
        pack_dir = tmp_path / "packs"
        pack_dir.mkdir()
        assert _run("pack", "--out", str(pack_dir), db=commune_with_data).returncode == 0
        db = usb / "huyen.db"
        assert _run("init", "--district", "171", "--structure", "legacy", db=db).returncode == 0
        args = ["merge", str(pack_dir)]
    else:
        db = usb / "xa.db"
        assert _run("init", "--commune", "05767", "--structure", "legacy", db=db).returncode == 0
        args = ["import", str(EXAMPLE)]
    _fill(usb, leave=4096)
    before_files = {p.name for p in usb.iterdir()}
    before = _digest(db)
    done = _run(*args, db=db)
    if command == "merge":  # one line for the pack (all or nothing), one for the total
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.splitlines() == [
            "TỪ CHỐI cdt-05767-Phuc-Luong-" + done.stderr.split("cdt-05767-Phuc-Luong-")[1].split(".cdt")[0]
            + ".cdt: không gộp được: đĩa hoặc USB đã đầy",
            "Lỗi: không gộp tệp nào: 1/1 tệp bị từ chối (lý do ở trên)"]
    else:
        assert _one_vietnamese_line(done) == "Lỗi: lỗi đĩa: đĩa hoặc USB đã đầy; sửa rồi chạy lại lệnh (dữ liệu không thay đổi)"
    assert _digest(db) == before
    assert not {n for n in _leftovers(usb, before_files) if not n.endswith("-journal")}, _leftovers(usb, before_files)
    shutil.rmtree(tmp_path / "packs", ignore_errors=True)
