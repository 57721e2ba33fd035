"""The report on paper: a commune, the Đại Từ district of the demo (27 communes, 5 reporting) and the
2025 Đắk Lắk province (102 communes), each as a workbook printed by LibreOffice and as a web page
printed by Chromium, on A4, looked at as a reader would: the report itself on one page (two for a
province) with the signature beside figures, "Trang x/y" and the unit on every page, no empty page
and no page of a heading alone, no text under 10 pt, nothing beyond the printable area.

Each document is converted once (one test each); the tests are skipped where LibreOffice, Chromium or
poppler are not installed (``.ci/run`` installs them).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from cdt.export import write_report_xlsx
from cdt.reports.html import write_report_html
from kits.reports import commune_report, dai_tu_report, dak_lak_2025_report, with_trends

OFFICE = shutil.which("soffice") or shutil.which("libreoffice")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
POPPLER = all(shutil.which(tool) for tool in ("pdftotext", "pdftoppm", "pdfinfo"))
MM = 72 / 25.4  # points per millimetre

REPORTS = {
    # (report, unit name in the footer, most pages the report itself may take)
    "commune": (lambda: with_trends(commune_report()), "Thị trấn Hùng Sơn", 1),
    "district": (dai_tu_report, "Huyện Đại Từ", 1),
    "province": (dak_lak_2025_report, "Tỉnh Đắk Lắk", 2),
}


@dataclass
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass
class Page:
    width: float
    height: float
    words: list[Word]
    text: str  # pdftotext -layout
    ink: list[list[int]]  # grey levels, 0 black, 255 white, at 20 dpi


def to_pdf(kind: str, source: Path, out: Path) -> Path:
    if kind == "xlsx":
        done = subprocess.run([OFFICE, f"-env:UserInstallation={(out / 'lo').as_uri()}", "--headless",
                               "--convert-to", "pdf", "--outdir", str(out), str(source)],
                              capture_output=True, timeout=300, check=False)
        pdf = out / (source.stem + ".pdf")
    else:
        pdf = out / (source.stem + ".pdf")
        done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               f"--user-data-dir={out / 'profile'}", f"--print-to-pdf={pdf}", source.resolve().as_uri()],
                              capture_output=True, timeout=300, check=False)
    assert done.returncode == 0 and pdf.is_file(), done.stderr[-2000:]
    return pdf


def _pgm(path: Path) -> list[list[int]]:
    data = path.read_bytes()
    parts = data.split(maxsplit=4)  # P5, width, height, maxval, pixels
    width, height = int(parts[1]), int(parts[2])
    pixels = parts[4]
    return [list(pixels[row * width:(row + 1) * width]) for row in range(height)]


def read_pages(pdf: Path, out: Path) -> list[Page]:
    """Each page: its size, its words with their boxes, its text as laid out, its ink at 20 dpi."""
    boxes = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, check=True,
                           timeout=120).stdout.decode("utf-8")
    layout = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True,
                            timeout=120).stdout.decode("utf-8").split("\f")
    subprocess.run(["pdftoppm", "-r", "20", "-gray", str(pdf), str(out / "page")], check=True, timeout=120)
    images = sorted(out.glob("page-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    pages = []
    found = re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', boxes, re.S)
    for number, (width, height, body) in enumerate(found):
        words = [Word(text, float(a), float(b), float(c), float(d)) for a, b, c, d, text in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', body)]
        pages.append(Page(float(width), float(height), words, layout[number], _pgm(images[number])))
    return pages


@pytest.mark.skipif(not (OFFICE and CHROMIUM and POPPLER), reason="LibreOffice, Chromium or poppler not installed")
@pytest.mark.parametrize("kind", ["xlsx", "html"])
@pytest.mark.parametrize("level", list(REPORTS))
def test_printed_report(tmp_path, level, kind):
    make, unit_name, most = REPORTS[level]
    source = tmp_path / f"bao-cao-{level}.{kind}"
    (write_report_xlsx if kind == "xlsx" else write_report_html)(make(), source, signer="Nguyễn Văn Đức")
    pages = read_pages(to_pdf(kind, source, tmp_path), tmp_path)
    count = len(pages)
    assert count >= 4

    # The report itself: heading to signature, before the first appendix, on its page(s), A4 portrait.
    first_appendix = next(i for i, page in enumerate(pages) if re.search(r"^\s*Phụ lục I\s*$", page.text, re.M))
    assert first_appendix <= most, (level, kind, first_appendix)
    signature = next(i for i, page in enumerate(pages) if "Nơi nhận:" in page.text)
    assert signature < first_appendix and "Nguyễn Văn Đức" in pages[signature].text
    # The signature shares its page with figures: the last rows of section I (or the targets).
    assert re.search(r"Số lượt người được hỗ trợ.*\d", pages[signature].text), pages[signature].text
    assert round(pages[0].width / MM) == 210 and round(pages[0].height / MM) == 297

    footer_height = None
    for number, page in enumerate(pages, start=1):
        where = f"{level} {kind} page {number}/{count}"
        # "Trang x/y" and the unit at the foot of every page.
        assert re.search(rf"Trang {number}/{count}\b", page.text), where
        footer = [w for w in page.words if w.y0 > page.height - 20 * MM]
        # (LibreOffice's PDF splits some words at a diacritic: compared without spaces.)
        assert unit_name.replace(" ", "") in "".join(w.text for w in footer), where
        if footer_height is None:
            footer_height = min(w.y1 - w.y0 for w in footer)  # the footer is set at 10 pt
        # No empty page, no page holding only a heading.
        body = [w for w in page.words if w.y0 <= page.height - 20 * MM]
        assert len(body) >= 15, (where, page.text[:300])
        # No text under 10 pt: no word box smaller than the footer's.
        smallest = min(page.words, key=lambda w: w.y1 - w.y0)
        assert smallest.y1 - smallest.y0 >= footer_height - 0.05, (where, smallest)
        # Nothing beyond the printable area (25 mm left, 15 mm right): no word, and no ink of a table's
        # rules, in the margins (a little slack for the page's rounding).
        assert min(w.x0 for w in page.words) >= 23 * MM, (where, min(page.words, key=lambda w: w.x0))
        assert max(w.x1 for w in page.words) <= page.width - 13 * MM, (where, max(page.words, key=lambda w: w.x1))
        ink = page.ink
        columns = len(ink[0])
        left, right = round(columns * 20 / (page.width / MM)), round(columns * 11 / (page.width / MM))
        top = round(len(ink) * 14 / (page.height / MM))
        dark = [(r, c) for r, row in enumerate(ink) for c, value in enumerate(row)
                if value < 160 and (c < left or c >= columns - right or r < top)]
        assert not dark, (where, dark[:5])
