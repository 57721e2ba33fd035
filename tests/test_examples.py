"""The example district build (examples/build_district.py) end to end, through the installed cdt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "build_district.py"


def _cdt(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cdt", *args], capture_output=True, text=True, encoding="utf-8",
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"})


def test_example_district_builds_end_to_end(tmp_path):
    out = tmp_path / "out"
    process = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--small", "--quiet"],
                             capture_output=True, text=True, encoding="utf-8", timeout=300,
                             env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    assert "Traceback" not in process.stdout + process.stderr
    # The invalid sheet's problems are shown, then its valid rows imported.
    assert "Yên Lãng" in process.stdout and "dòng 6, cột E" in process.stdout
    workbooks = list(out.glob("bao-cao-huyen-dai-tu-*.xlsx"))
    assert len(workbooks) == 1
    assert workbooks[0].with_suffix(".html").stat().st_size > 10_000  # the same report as a web page
    assert str(workbooks[0]) in process.stdout
    book = load_workbook(workbooks[0], read_only=True)
    assert book.sheetnames
    book.close()
    assert len(list((out / "packs").iterdir())) == 5
    month = workbooks[0].stem.rsplit("-", 2)[-2:]
    report = _cdt("--db", str(out / "huyen-171.db"), "report", "--district", "--month", "-".join(month),
                  "--format", "json")
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    assert data["total"]["members"] == 11 + 9 + 9 + 8 + 8
    assert data["total"]["teams"] == 16
    assert data["total"]["visits"]["month"] > 0
    assert "c-thainguyen" in data["total"]["people_by_service"]
    reported = {row["unit"]["code"] for row in data["completeness"] if row["reported"]}
    assert reported == {"05761", "05767", "05770", "05773", "05776"}

