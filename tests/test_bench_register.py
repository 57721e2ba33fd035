"""bench/register.py's code path on tiny sizes, so `python -m bench.register` cannot rot (no timings checked)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import register as bench_register  # noqa: E402


def test_every_figure_is_measured(tmp_path):
    figures = bench_register.measure(bench_register.QUICK, tmp_path, reps=1)
    assert set(bench_register.TARGETS) <= set(figures)
    assert all(value > 0 for value in figures.values())
    assert "target < 30 s" in bench_register.report(figures, bench_register.QUICK)
