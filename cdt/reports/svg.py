"""Small static SVG charts for the offline HTML report: no library, no script, no network.

Every function takes plain numbers and labels and returns one ``<svg>`` element as a string, or
``None`` when there is nothing to draw (the caller then says so in words: a chart of zeros draws a
misleading axis). All text passes through ``_esc``; numbers are formatted by the caller's
``fmt`` function, so the charts follow the report's language (12.345 in Vietnamese).

- ``bars``: horizontal bars, one per unit, the value written at the end of each bar.
- ``lines``: up to a few series over the same months (the 12-month trend), with a legend.
- ``progress``: one bar per target, filled to its progress, with a tick where an even pace would be.
- ``spark``: a tiny line of twelve values for a table cell.

Colours come from one palette that stays distinguishable in greyscale print (dark to light).
Sizes are in CSS pixels; the SVGs carry a ``viewBox`` and scale to their container.
"""

from __future__ import annotations

from html import escape
from typing import Callable, Sequence

PALETTE = ("#1f4e79", "#c55a11", "#548235", "#7f6000", "#7030a0")
FONT = "'Times New Roman', 'Liberation Serif', Tinos, 'DejaVu Serif', serif"
Number = float | int


def _esc(text: object) -> str:
    return escape(str(text), quote=True)


def _num(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _plain(value: Number) -> str:
    return f"{value:,.0f}"


def _nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k at or above value (a round top for an axis)."""
    if value <= 0:
        return 1.0
    power = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _open(width: int, height: int, label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="{_esc(label)}" font-family="{_esc(FONT)}" '
            f'font-size="14">')


def bars(labels: Sequence[str], values: Sequence[Number], *, title: str, fmt: Callable[[Number], str] = _plain,
         width: int = 720, label_width: int = 200, row: int = 22) -> str | None:
    """Horizontal bars in the order given; None when every value is zero (nothing to show)."""
    numbers = [_num(v) for v in values]
    if not numbers or max(numbers) <= 0:
        return None
    top = max(numbers)
    plot = width - label_width - 70
    height = row * len(numbers) + 10
    out = [_open(width, height, title), f"<title>{_esc(title)}</title>"]
    for i, (label, value) in enumerate(zip(labels, numbers)):
        y = i * row + 5
        length = plot * value / top
        out.append(f'<text x="{label_width - 6}" y="{y + row * 0.68:.1f}" text-anchor="end">'
                   f"{_esc(_short(label, label_width))}</text>")
        out.append(f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" '
                   f'fill="{PALETTE[0]}"/>')
        out.append(f'<text x="{label_width + length + 4:.1f}" y="{y + row * 0.68:.1f}">{_esc(fmt(value))}</text>')
    out.append(f'<line x1="{label_width}" y1="2" x2="{label_width}" y2="{height - 3}" stroke="#444"/>')
    out.append("</svg>")
    return "".join(out)


def _short(label: object, width: int) -> str:
    """A label cut to what fits beside the bars (about 6.5 px a character at 13 px)."""
    text = str(label)
    room = max(4, int(width / 6.5))
    return text if len(text) <= room else text[: room - 1] + "…"


def lines(months: Sequence[str], series: Sequence[tuple[str, Sequence[Number]]], *, title: str,
          fmt: Callable[[Number], str] = _plain, width: int = 900, height: int = 260) -> str | None:
    """Series over the same months, sharing one axis from zero; None when all are zero."""
    if not months or not series or max((_num(v) for _, vals in series for v in vals), default=0) <= 0:
        return None
    top = _nice_max(max(_num(v) for _, vals in series for v in vals))
    # Room on the right for half of the last month's label, which is centred on its point.
    left, right, upper, lower = 60, 34, 12, 62
    plot_w, plot_h = width - left - right, height - upper - lower
    step = plot_w / max(1, len(months) - 1)
    out = [_open(width, height, title), f"<title>{_esc(title)}</title>"]
    for k in range(5):  # horizontal grid with its values
        value = top * k / 4
        y = upper + plot_h - plot_h * k / 4
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ccc"/>')
        out.append(f'<text x="{left - 5}" y="{y + 4:.1f}" text-anchor="end" font-size="14">{_esc(fmt(value))}</text>')
    for i, month in enumerate(months):
        x = left + i * step
        out.append(f'<text x="{x:.1f}" y="{upper + plot_h + 16}" text-anchor="middle" font-size="14">'
                   f"{_esc(month)}</text>")
    for n, (name, values) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        points = " ".join(f"{left + i * step:.1f},{upper + plot_h - plot_h * _num(v) / top:.1f}"
                          for i, v in enumerate(values))
        dash = ' stroke-dasharray="6 3"' if n % 2 else ""
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for i, v in enumerate(values):
            out.append(f'<circle cx="{left + i * step:.1f}" cy="{upper + plot_h - plot_h * _num(v) / top:.1f}" '
                       f'r="2.5" fill="{colour}"/>')
        lx = left + (n % 2) * (plot_w / 2)
        ly = height - 26 + (n // 2) * 16
        out.append(f'<line x1="{lx:.1f}" y1="{ly - 4}" x2="{lx + 22:.1f}" y2="{ly - 4}" stroke="{colour}" '
                   f'stroke-width="2"{dash}/>')
        out.append(f'<text x="{lx + 28:.1f}" y="{ly}" font-size="14">{_esc(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def progress(items: Sequence[tuple[str, float | None, float | None]], *, title: str,
             fmt: Callable[[float], str], width: int = 720, label_width: int = 260, row: int = 26) -> str | None:
    """One bar per (label, progress, even pace), progress and pace as fractions (1.0 = target met).

    Bars are drawn to 120 % at most; a tick marks where an even pace through the year stands.
    None when there are no items.
    """
    if not items:
        return None
    scale = 1.2
    plot = width - label_width - 70
    height = row * len(items) + 24
    out = [_open(width, height, title), f"<title>{_esc(title)}</title>"]
    goal_x = label_width + plot / scale
    for i, (label, done, pace) in enumerate(items):
        y = i * row + 4
        share = max(0.0, min(_num(done), scale))
        colour = PALETTE[2] if _num(done) >= (_num(pace) if pace is not None else 1.0) else PALETTE[1]
        out.append(f'<text x="{label_width - 6}" y="{y + row * 0.64:.1f}" text-anchor="end">'
                   f"{_esc(_short(label, label_width))}</text>")
        out.append(f'<rect x="{label_width}" y="{y + 4}" width="{plot:.1f}" height="{row - 8}" fill="#eee"/>')
        out.append(f'<rect x="{label_width}" y="{y + 4}" width="{plot * share / scale:.1f}" height="{row - 8}" '
                   f'fill="{colour}"/>')
        if pace is not None:
            px = label_width + plot * max(0.0, min(_num(pace), scale)) / scale
            out.append(f'<line x1="{px:.1f}" y1="{y + 1}" x2="{px:.1f}" y2="{y + row - 1}" stroke="#000" '
                       f'stroke-width="2"/>')
        text = fmt(done) if done is not None else "–"
        out.append(f'<text x="{label_width + plot + 5:.1f}" y="{y + row * 0.64:.1f}">{_esc(text)}</text>')
    out.append(f'<line x1="{goal_x:.1f}" y1="0" x2="{goal_x:.1f}" y2="{height - 20}" stroke="#000" '
               f'stroke-dasharray="3 3"/>')
    out.append(f'<text x="{goal_x:.1f}" y="{height - 6}" text-anchor="middle" font-size="14">{_esc(fmt(1.0))}</text>')
    out.append("</svg>")
    return "".join(out)


def spark(values: Sequence[Number], *, width: int = 96, height: int = 22, label: str = "") -> str:
    """A tiny line of the values (a flat line at the bottom when all are zero)."""
    numbers = [_num(v) for v in values] or [0.0]
    top = max(numbers) or 1.0
    step = (width - 4) / max(1, len(numbers) - 1)
    points = " ".join(f"{2 + i * step:.1f},{height - 2 - (height - 4) * v / top:.1f}" for i, v in enumerate(numbers))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="{_esc(label)}"><polyline points="{points}" fill="none" '
            f'stroke="{PALETTE[0]}" stroke-width="1.5"/></svg>')
