"""The benchmark runner's quick-mode code path on tiny data, so `make bench` cannot rot.

Only that every figure is measured and reported is checked here: timings belong to
`python -m bench`, never to unit tests.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

# bench/ is not an installed package: find it from the repository, however pytest was started.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import generate  # noqa: E402
from bench.__main__ import QUICK, TARGETS, Config, run, status, table  # noqa: E402
from bench.generate import Sizes  # noqa: E402

TINY = Config("test", communes=2, second_communes=1, reps=1, fast_reps=1, startup_reps=1,
              sizes=Sizes(hamlets=4, members=10, visits=40, trainings=1, batch=15))


def test_generated_commune_is_a_valid_store(tmp_path):
    unit = generate.communes_of(QUICK.district, 1)[0]
    pack = generate.make_packs([unit], tmp_path, TINY.sizes)[0]
    conn = sqlite3.connect(generate.plain(pack))  # the snapshot inside the signed pack
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM visit").fetchone()[0] == 40
    # one history link per write transaction: the register batch, then visits in batches of 15
    assert conn.execute("SELECT count(*) FROM history").fetchone()[0] == 1 + 3
    assert conn.execute("SELECT packed_at FROM site").fetchone()[0]
    assert generate.row_count(pack) == 4 + 4 + 10 + 1 + 40 + 1 + conn.execute(
        "SELECT count(*) FROM training_attendance").fetchone()[0] + 4


def test_quick_code_path_reports_every_figure(tmp_path):
    result = run(TINY, tmp_path)
    json.dumps(result)
    for key in (*TARGETS, "merge_peak_mb", "export_peak_mb", "startup_info_vs_typer", "next_month_vs_raw"):
        assert key in result, key
    assert result["next_month_vs_raw"] > 0 and result["details"]["next_month"]["rows_in_packs"] > 0
    assert 0 < result["details"]["merge_cpu"]["cores_busy"] <= result["details"]["merge_cpu"]["cores"] + 0.5
    measured = [k for k in TARGETS if isinstance(result[k], (int, float))]
    # Everything but the million-visit report is measured once merge exists.
    assert set(TARGETS) - set(measured) <= {"report_1m_visits_s", "merge_vs_raw", "merge_vs_raw_batched",
                                            "merge_vs_sqlite_utils", "remerge_vs_merge",
                                            "province_merge_vs_raw", "merge_peak_growth"}
    assert "report_vs_sql" in measured and "export_vs_raw" in measured and "startup_vs_typer" in measured
    assert all(result["status"][k] in ("PASS", "MISS") for k in measured)
    assert "PASS" in table(result) or "MISS" in table(result)


def test_status_reads_the_direction_of_each_target():
    assert status("merge_vs_raw", 0.8) == "PASS"
    assert status("merge_vs_raw", 0.6) == "MISS"
    assert status("export_vs_raw", 1.2) == "PASS"
    assert status("export_vs_raw", 1.4) == "MISS"
    assert status("merge_peak_mb", 50.0) == ""
    assert status("merge_vs_raw", "n/a (not yet built)") == ""
