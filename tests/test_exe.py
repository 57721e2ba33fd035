"""make exe's recipe (cdt.spec) builds one executable that runs a clerk's month without Python.

Skipped when PyInstaller is not installed (``pip install -e .[exe]``); slow (a build takes minutes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("PyInstaller")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exe(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("exe")
    done = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(work / "dist"), "--workpath", str(work / "build"), str(ROOT / "cdt.spec")],
        capture_output=True, text=True, timeout=1200, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    built = work / "dist" / ("cdt.exe" if os.name == "nt" else "cdt")
    assert built.exists()
    return built


def _run(exe: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(CDT_DB=str(tmp_path / "xa.db"), CDT_LOG=str(tmp_path / "log.txt"))
    return subprocess.run([str(exe), *args], capture_output=True, text=True, encoding="utf-8", env=env,
                          cwd=tmp_path, stdin=subprocess.DEVNULL, timeout=300)


def test_the_executable_runs_a_clerks_month(exe, tmp_path):
    import openpyxl

    steps = [
        ("--version",),
        ("init", "--commune", "24175", "--structure", "2025"),
        ("hamlet", "add", "Buôn Kô Tam", "--kind", "buôn"),
        ("team", "add", "--hamlet", "ko tam"),
        ("visit", "log", "--team", "ko tam", "--household", "KT-004", "--people", "2", "--service", "vneid",
         "--date", "03/10/2026"),
        ("pack", "--out", str(tmp_path / "usb")),
        ("report", "--month", "2026-10", "--xlsx", str(tmp_path / "báo cáo.xlsx"), "--format", "json"),
    ]
    outputs = []
    for args in steps:
        done = _run(exe, tmp_path, *args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        outputs.append(done.stdout)
    assert outputs[0].startswith("cdt ")
    assert "Đã ghi lượt hỗ trợ hộ KT-004" in outputs[4]
    assert list((tmp_path / "usb").glob("cdt-24175-*.cdt"))
    report = json.loads(outputs[6][: outputs[6].rindex("}") + 1])
    assert report["total"]["visits"]["month"] == 1
    book = openpyxl.load_workbook(tmp_path / "báo cáo.xlsx", read_only=True)
    assert book.sheetnames
    helped = _run(exe, tmp_path, "visit", "log", "--help")
    assert "Cách dùng: cdt visit log" in helped.stdout
