"""cdt.svg: static charts parse as SVG, scale to their data, escape text, and draw nothing for zeros."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from cdt.reports import svg

NS = "{http://www.w3.org/2000/svg}"


def parse(text):
    root = ET.fromstring(text)
    assert root.tag == NS + "svg"
    return root


def test_bars_are_proportional_and_in_order():
    root = parse(svg.bars(["Xã A", "Xã B", "Xã C"], [10, 5, 0], title="Người"))
    rects = root.findall(NS + "rect")
    widths = [float(r.get("width")) for r in rects]
    assert widths[0] == 2 * widths[1] and widths[2] == 0
    labels = [t.text for t in root.findall(NS + "text")]
    assert labels[:2] == ["Xã A", "10"]
    assert root.find(NS + "title").text == "Người"


def test_all_zero_means_nothing_to_draw():
    assert svg.bars(["Xã A"], [0], title="x") is None
    assert svg.bars([], [], title="x") is None
    assert svg.lines(["01/2026"], [("a", [0])], title="x") is None
    assert svg.progress([], title="x", fmt=str) is None


def test_text_is_escaped():
    root = parse(svg.bars(['<script>alert(1)</script> & "x"'], [3], title="<b>"))
    assert root.find(NS + "title").text == "<b>"
    assert not root.findall(".//" + NS + "script")
    assert root.findall(NS + "text")[0].text.startswith("<script>")


def test_lines_one_polyline_per_series_from_zero():
    months = [f"{m:02d}/2026" for m in range(1, 13)]
    root = parse(svg.lines(months, [("Lượt", list(range(12))), ("Người", [2 * v for v in range(12)])], title="t"))
    polylines = root.findall(NS + "polyline")
    assert len(polylines) == 2
    first = [tuple(map(float, p.split(","))) for p in polylines[1].get("points").split()]
    assert len(first) == 12 and first[0][1] > first[-1][1]  # rising line: y falls on screen
    texts = [t.text for t in root.findall(NS + "text")]
    assert "01/2026" in texts and "12/2026" in texts and "Người" in texts


def test_progress_bars_and_pace_tick():
    root = parse(svg.progress([("Người được hỗ trợ", 0.5, 0.75), ("Tổ", 1.5, None)], title="t",
                              fmt=lambda v: f"{v:.0%}"))
    rects = root.findall(NS + "rect")
    background, half, _, over = (float(r.get("width")) for r in rects)
    assert half == background / 1.2 * 0.5
    assert over == background  # drawn to 120 % at most
    texts = [t.text for t in root.findall(NS + "text")]
    assert "50%" in texts and "150%" in texts


def test_spark_is_a_small_line():
    root = parse(svg.spark([0, 1, 2, 3], label="Xã A"))
    assert root.get("aria-label") == "Xã A"
    assert len(root.find(NS + "polyline").get("points").split()) == 4
    parse(svg.spark([0, 0, 0]))
