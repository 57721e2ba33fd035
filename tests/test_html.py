"""cdt report --html: one self-contained, escaped, printable page; looked at in headless Chromium.

The browser tests run where Debian's ``chromium`` and poppler's ``pdftotext``/``pdfinfo`` are
installed (``.ci/run`` installs them when it can) and are skipped elsewhere.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cdt.core import i18n
from cdt.reports.html import render_html, write_report_html
from kits.registers import hostile_commune
from kits.reports import REPORTS, base, flow, indicators, unit, with_trends

MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"


def external_references(text: str) -> list[str]:
    """Anything in the page a browser could fetch: src/href/url() to another place than the page itself."""
    found = re.findall(r"""(?:src|href|action|poster|data)\s*=\s*["']?([^"'\s>]+)""", text, flags=re.I)
    found += re.findall(r"url\(\s*['\"]?([^)'\"]+)", text, flags=re.I)
    found += re.findall(r"@import", text)
    return [ref for ref in found if not ref.startswith(("#", "data:"))]


def thirty_communes() -> dict:
    rows = []
    services = {code: (40 + n, 400 + n, 900 + n) for n, code in enumerate(("dvc", "vneid", "ctn", "payment",
                                                                            "ehealth", "ecommerce"))}
    for n in range(30):
        rows.append({"unit": unit(f"{5761 + 3 * n:05d}", f"Xã Thử Nghiệm Số {n + 1}", "commune"),
                     **indicators(20, 18, 22, 20, 150, 120, 2500, 6000, (300 + n, 2900, 3500), (250, 1800, 2100),
                                  (1200 + n, 10000, 12000), services),
                     "digital_citizens": flow(800, 7000, 9000)})
    report = base("district", unit("171", "Huyện Đại Từ", "district"),
                  {"code": "19", "name": "Tỉnh Thái Nguyên", "level": "province"}, "commune", rows,
                  completeness=[{"unit": r["unit"], "reported": n % 4 != 0, "packed_at": "2026-11-02T08:00:00",
                                 "merged_at": "2026-11-03T08:00:00"} for n, r in enumerate(rows)],
                  targets=[{"indicator": "people_helped", "year": 2026, "value": 400000, "percent": False,
                            "actual": 300000, "progress": 0.75}])
    report["services"] = [{"code": c, "name": f"Dịch vụ {c}"} for c in services]
    report["total"]["digital_citizens"] = flow(24000, 210000, 270000)
    return with_trends(report)


# -- the page as text ---------------------------------------------------------------------------------


@pytest.mark.parametrize("level", list(REPORTS))
def test_every_level_renders_self_contained(level):
    text = render_html(with_trends(REPORTS[level]()))
    assert text.startswith("<!DOCTYPE html>") and '<html lang="vi">' in text
    assert MOTTO in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert external_references(text) == []
    assert "<script" not in text.lower()
    assert "Phụ lục I" in text and "Phụ lục II" in text
    assert text.count("<svg") >= 2


def test_thirty_communes_under_one_megabyte():
    text = render_html(thirty_communes())
    assert len(text.encode("utf-8")) < 1_000_000
    assert "Xã Thử Nghiệm Số 30" in text


def test_names_are_escaped():
    report = REPORTS["commune"]()
    report["rows"][0]["unit"]["name"] = '<script>alert("x")</script>'
    report["notes"] = ["<img src=x onerror=alert(1)>"]
    text = render_html(with_trends(report))
    assert "<script>alert" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text or "&lt;script&gt;alert(&quot;x&quot;)" in text


def test_english(monkeypatch):
    monkeypatch.setenv("CDT_LANG", "en")
    i18n.set_language(None)
    text = render_html(with_trends(REPORTS["district"]()))
    assert '<html lang="en">' in text and "SOCIALIST REPUBLIC OF VIETNAM" in text and "Appendix I" in text
    assert "51,285" in text  # English separators


def test_through_the_command(cdt, commune, tmp_path):
    hostile_commune(cdt, commune)
    out = tmp_path / "báo cáo tháng 10.html"
    r = cdt("report", "--month", "2026-10", "--html", out, "--xlsx", tmp_path / "b.xlsx")
    assert r.exit_code == 0, r.output
    assert f"Đã ghi báo cáo dạng trang web vào {out.resolve()}" in r.stdout.replace("\n", "")
    text = out.read_text(encoding="utf-8")
    assert MOTTO in text and "THỊ TRẤN HÙNG SƠN" in text and "=1+1" in text
    assert external_references(text) == []
    assert not out.with_name(out.name + ".part").exists()
    # JSON stays alone on stdout.
    r = cdt("report", "--month", "2026-10", "--format", "json", "--html", tmp_path / "c.html")
    assert json.loads(r.stdout)["trends"]["months"][-1] == "2026-10"
    assert "c.html" in r.stderr
    r = cdt("--lang", "en", "report", "--month", "2026-10", "--html", tmp_path / "en.html")
    assert r.exit_code == 0 and "SOCIALIST REPUBLIC" in (tmp_path / "en.html").read_text(encoding="utf-8")


def test_unwritable_path_is_one_line(cdt, commune, tmp_path):
    r = cdt("report", "--month", "2026-10", "--html", tmp_path / "không có" / "a.html")
    assert r.exit_code == 1
    assert "Không ghi được tệp" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.output


# -- looked at in a browser -----------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
POPPLER = shutil.which("pdftotext") and shutil.which("pdfinfo")
needs_browser = pytest.mark.skipif(not (CHROMIUM and POPPLER), reason="chromium or poppler-utils not installed")


def chromium(tmp_path: Path, page: Path, *args: str) -> Path:
    """Run headless Chromium on a local page with a fresh profile, nothing resolvable, a network log."""
    netlog = tmp_path / f"net-{page.stem}-{len(list(tmp_path.iterdir()))}.json"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={tmp_path / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND",
               f"--log-net-log={netlog}", *args, page.resolve().as_uri()]
    result = subprocess.run(command, capture_output=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return netlog


def page_requests(netlog: Path) -> list[str]:
    """Network requests made on behalf of a file:// page (the browser's own background calls are keyed
    to other sites): anything but file: and data: URLs is a request the page attempted."""
    text = netlog.read_text(encoding="utf-8", errors="replace").rstrip()
    if not text.endswith("}"):
        text = text.rstrip(",") + "]}"  # a log cut short when the browser exits
    events = json.loads(text)["events"]
    urls = []
    for event in events:
        params = event.get("params") or {}
        url = str(params.get("url") or "")
        if url and "file://" in str(params.get("network_isolation_key") or "") \
                and not url.startswith(("file:", "data:")):
            urls.append(url)
    return urls


def pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True,
                          timeout=60).stdout.decode("utf-8")
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


@needs_browser
def test_the_detector_sees_a_page_that_fetches(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><img src="https://example.com/x.png"></body></html>', encoding="utf-8")
    netlog = chromium(tmp_path, bad, f"--screenshot={tmp_path / 'bad.png'}")
    assert page_requests(netlog) == ["https://example.com/x.png"] * len(page_requests(netlog))
    assert page_requests(netlog)


@needs_browser
def test_browser_screenshot_pdf_and_no_network(tmp_path):
    report = thirty_communes()
    page = write_report_html(report, tmp_path / "Báo cáo huyện.html", signer="Nguyễn Văn Đức")
    # The policy would block a fetch silently; a copy without it shows any fetch the page attempts.
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "",
                           page.read_text(encoding="utf-8")), encoding="utf-8")
    shot = tmp_path / "shot.png"
    netlog = chromium(tmp_path, bare, f"--screenshot={shot}", "--window-size=1280,2000")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    assert page_requests(netlog) == []
    pdf = tmp_path / "report.pdf"
    netlog = chromium(tmp_path, page, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert page_requests(netlog) == []
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True, timeout=60).stdout.decode()
    # A4: the report portrait, the appendices landscape (tests/test_printing.py looks at the pages).
    assert re.search(r"Page size:\s+59[45]\.\d+ x 841\.\d+ pts", info), info
    pages = pdf_pages(pdf)
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) == len(pages)
    whole = " ".join(pages)
    assert MOTTO in pages[0] and "ỦY BAN NHÂN DÂN HUYỆN ĐẠI TỪ" in pages[0]
    assert "Nguyễn Văn Đức" in pages[0]
    # The page's own footer, not the browser's date and file path.
    assert "Trang 1/" in pages[0] and "file://" not in whole and not re.search(r"\d+/\d+/\d\d, \d", whole)


# -- the charts, read back from the page ------------------------------------------------------------


def bar_pairs(text: str) -> list[tuple[str, str]]:
    """The month's bar chart as the page draws it: each bar's name and the value written at its end,
    paired by the row they share."""
    chart = re.search(r'<figure class="chart units-chart">(.*?)</figure>', text, re.S).group(1)
    names = {y: html.unescape(t) for y, t in re.findall(r'<text x="194" y="([\d.]+)" text-anchor="end">([^<]*)</text>',
                                                        chart)}
    values = {y: html.unescape(t) for y, t in re.findall(r'<text x="(?!194")[\d.]+" y="([\d.]+)">([^<]*)</text>',
                                                         chart)}
    assert names.keys() == values.keys() and names
    return [(names[y], values[y]) for y in sorted(names, key=float)]


@pytest.mark.parametrize("level", list(REPORTS))
def test_bar_chart_pairs_each_unit_with_its_own_value(level):
    report = REPORTS[level]()
    expected = sorted(((row["unit"]["name"].replace("\x07", ""), row["people_helped"]["month"])
                       for row in report["rows"] if row["people_helped"]["month"]), key=lambda item: -item[1])
    assert bar_pairs(render_html(report)) == [(name, f"{value:,}".replace(",", ".")) for name, value in expected]


def test_many_units_first_fifteen_then_the_rest_and_the_silent_ones_named():
    report = thirty_communes()
    for n, row in enumerate(report["rows"]):
        row["people_helped"] = flow(0 if n < 4 else n * 10, 0, 0)
    text = render_html(report)
    pairs = bar_pairs(text)
    assert pairs[:15] == [(f"Xã Thử Nghiệm Số {n + 1}", f"{n * 10}") for n in range(29, 14, -1)]
    assert pairs[15] == ("11 xã khác", f"{sum(n * 10 for n in range(4, 15)):,}".replace(",", "."))
    assert len(pairs) == 16
    assert ("4 xã chưa có lượt người được hỗ trợ trong tháng 10/2026: Xã Thử Nghiệm Số 1, Xã Thử Nghiệm Số 2, "
            "Xã Thử Nghiệm Số 3, Xã Thử Nghiệm Số 4.") in text
    assert "tiêu chí" not in text


def test_trend_chart_shows_every_month_whole():
    text = render_html(with_trends(REPORTS["district"]()))
    chart = re.search(r'<figure class="chart trend-chart">(.*?)</figure>', text, re.S).group(1)
    width = float(re.search(r'viewBox="0 0 ([\d.]+) ', chart).group(1))
    labels = re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" font-size="14">(\d\d/\d{4})</text>', chart)
    assert [label for _, label in labels] == ["11/2025", "12/2025"] + [f"{m:02d}/2026" for m in range(1, 11)]
    # Centred on its point, the last label's half (about 4 px a character at 14 px) stays inside the chart.
    x, label = labels[-1]
    assert float(x) + len(label) * 4.2 <= width
