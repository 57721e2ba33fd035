"""``python -m bench --scale national``: every commune of the 2025 structure, merged upward.

The 2025 structure has no districts, and a cdt file accepts only packs of its own area, so the
national rollup is the 34 province files, each the merge of all its communes' packs with every
check on (one ``merge_files`` call per province, in a child process so its peak RSS is its own).
Communes are generated two at a time (one process per core) and their working files deleted once
packed, so the disk holds packs and province files only.

``--budget SECONDS`` stops starting new provinces after that long: the result then says how many
communes were done, which is the largest scale this run reached.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench import generate
from bench.generate import REPORT_MONTH, REPORT_YEAR, Sizes


def _make_pack(job: tuple[str, str, str, int]) -> tuple[str, int]:
    """Generate one commune, pack it, delete the working file (runs in a worker process)."""
    from cdt.domain import units

    code, work, packs, visits = job
    unit = units.get(code, level="commune", structure=units.NEW)
    kept = Path(packs) / f"xa-{code}.cdt"
    if kept.exists() and kept.stat().st_size > 0:  # --packs: made by an earlier (or a --generate-only) run
        return str(kept), generate.row_count(kept)
    source = Path(work) / f"xa-{code}.db"
    source.unlink(missing_ok=True)
    generate.create_commune(source, unit, Sizes(visits=visits))
    pack = generate.pack(source, Path(packs))
    source.unlink()
    return str(pack), generate.row_count(pack)


def _wait_for_packs(packs_dir: Path, communes: list, log) -> None:
    """--follow: wait until another run (``--generate-only``, same ``--packs``) has made every pack
    of this province, so the merges overlap the generation instead of following it."""
    waited = False
    while True:
        missing = [u for u in communes if not (packs_dir / f"xa-{u.code}.cdt.sqlite").exists()]
        if not missing:
            break
        if not waited:
            log(f"waiting for {len(missing)} packs in {packs_dir}")
            waited = True
        time.sleep(5)
    if waited:
        time.sleep(5)  # the last plain copy finished writing


def run_national(args) -> int:
    from bench.__main__ import create_target_2025, machine, peak_mb

    from cdt.domain import units

    visits = args.visits or Sizes().visits
    budget = getattr(args, "budget", None) or float("inf")
    root = args.keep or Path(tempfile.mkdtemp(prefix="cdt-national-"))
    root.mkdir(parents=True, exist_ok=True)
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    provinces = units.list_units(structure=units.NEW, level="province")
    if getattr(args, "only", None):
        provinces = [p for p in provinces if p.code in args.only]
    if getattr(args, "provinces", None):
        provinces = provinces[: args.provinces]
    started = time.perf_counter()
    totals = {"provinces": 0, "communes": 0, "rows": 0, "visits": 0, "generate_s": 0.0, "merge_s": 0.0,
              "file_bytes": 0, "peak_mb": 0.0}
    largest: tuple[int, Path] | None = None
    with ProcessPoolExecutor(max_workers=2) as pool:
        for province in provinces:
            if time.perf_counter() - started > budget:
                log(f"budget of {budget:.0f} s reached: stopping before {province.name}")
                break
            communes = units.communes_in(province)
            work = root / "work" / province.code
            packs_dir = (args.packs or root / "packs") / province.code
            work.mkdir(parents=True, exist_ok=True)
            if getattr(args, "follow", False):
                _wait_for_packs(packs_dir, communes, log)
            t0 = time.perf_counter()
            made = list(pool.map(_make_pack, [(u.code, str(work), str(packs_dir), visits) for u in communes]))
            totals["generate_s"] += time.perf_counter() - t0
            if getattr(args, "generate_only", False):
                totals["communes"] += len(communes)
                log(f"{province.name}: {len(communes)} packs ready ({time.perf_counter() - started:.0f} s)")
                continue
            target = create_target_2025(root / "provinces" / f"tinh-{province.code}.db", province.code)
            t0 = time.perf_counter()
            peak = peak_mb([sys.executable, "-m", "bench", "--child", "merge", str(target),
                            *(p for p, _ in made)])
            seconds = time.perf_counter() - t0
            rows = sum(n for _, n in made)
            totals["merge_s"] += seconds
            totals["provinces"] += 1
            totals["communes"] += len(communes)
            totals["rows"] += rows
            totals["visits"] += len(communes) * visits
            totals["file_bytes"] += target.stat().st_size
            totals["peak_mb"] = max(totals["peak_mb"], peak)
            if largest is None or rows > largest[0]:
                largest = (rows, target)
            if not args.packs:
                shutil.rmtree(packs_dir, ignore_errors=True)
            log(f"{province.name}: {len(communes)} communes, {rows:,} rows merged in {seconds:.1f} s "
                f"({rows / seconds:,.0f} rows/s, peak {peak:.0f} MB); total {totals['communes']} communes, "
                f"{time.perf_counter() - started:.0f} s")
    result = {
        "mode": "national", "visits_per_commune": visits,
        "communes_done": totals["communes"], "communes_total": len(units.list_units(structure=units.NEW,
                                                                                    level="commune")),
        "provinces_done": totals["provinces"], "rows_merged": totals["rows"], "visits": totals["visits"],
        "merge_s": round(totals["merge_s"], 1), "merge_rows_per_s": round(totals["rows"] / totals["merge_s"])
        if totals["merge_s"] else None,
        "generate_s": round(totals["generate_s"], 1), "files_mb": round(totals["file_bytes"] / 1e6, 1),
        "merge_peak_mb": round(totals["peak_mb"], 1), "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
    }
    if largest is not None:
        result.update(_report_on(largest[1]))
    print(json.dumps(result, ensure_ascii=False, indent=1))
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


def _report_on(path: Path) -> dict:
    """The province report on the biggest province file: seconds, and per million visits."""
    from bench.__main__ import median, timed

    from cdt.reports.report import build_report
    from cdt.store import Store

    with Store.open(path) as store:
        visits = store.conn.execute("SELECT count(*) FROM visit").fetchone()[0]
        runs = [timed(lambda: build_report(store, year=REPORT_YEAR, month=REPORT_MONTH, level="province"))
                for _ in range(3)]
    seconds = median(runs)
    return {"largest_province_file": path.name, "largest_province_visits": visits,
            "largest_province_mb": round(path.stat().st_size / 1e6, 1),
            "province_report_s": round(seconds, 3), "report_1m_visits_s": round(seconds * 1e6 / visits, 3)}

