"""The benchmark runner: ``python -m bench [--quick | --scale national] [--json]``.

Every figure is a ratio against a baseline measured in the same run, on the same files, several
repetitions interleaved (cdt, baseline, cdt, baseline …), medians compared. bench/README.md
says what each figure means and which target it has.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from bench import generate
from bench.generate import REPORT_MONTH, REPORT_YEAR, Sizes

# figure -> (comparison, target). ">=": higher is better; "<=": lower is better (bench/README.md
# says what each figure measures and why each target was set).
TARGETS: dict[str, tuple[str, float]] = {
    "merge_vs_raw": (">=", 0.8),
    "merge_vs_raw_batched": (">=", 0.6),
    "merge_vs_sqlite_utils": (">=", 2.0),
    "remerge_vs_merge": ("<=", 0.1),
    "province_merge_vs_raw": (">=", 0.5),
    "merge_pack_growth": ("<=", 1.3),
    "report_vs_sql": ("<=", 1.5),
    "report_province_vs_sql": ("<=", 1.5),
    "report_1m_visits_s": ("<=", 0.5),
    "report_peak_growth": ("<=", 1.2),
    "export_vs_raw": ("<=", 1.3),
    "startup_vs_typer": ("<=", 1.3),
    "merge_peak_growth": ("<=", 1.2),
    "export_peak_growth": ("<=", 1.2),
}
NOT_BUILT = "n/a (not yet built)"
# Visits each commune adds in the month between two packs (bench_next_month): the generated
# communes log 5,000 visits a year, about 400 a month.
NEXT_MONTH_VISITS = 400
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Config:
    """What one run measures on."""

    name: str
    district: str = "380"  # Thành phố Thanh Hóa: 47 communes (legacy structure)
    communes: int = 10
    second_district: str = "399"  # Huyện Hoằng Hóa, same province: for the province merge
    second_communes: int = 3
    sizes: Sizes = field(default_factory=Sizes)
    reps: int = 3
    # For the figures that take well under a second (reports, export): a 30 ms report swings by a
    # few ms from one call to the next on this machine, so 5 reps moved report_province_vs_sql
    # between 1.25 and 1.58 for the same code; 15 give a steadier median.
    fast_reps: int = 15
    startup_reps: int = 7
    # sqlite-utils commits every 100 rows, so each run takes 6-17 s for the quick data here; quick
    # mode gives it the first few packs only (its rows/s hardly depends on how many files).
    sqlite_utils_packs: int | None = None


QUICK = Config("quick", communes=10, second_communes=3, reps=3, startup_reps=7, sqlite_utils_packs=4)
FULL = Config("full", communes=40, second_communes=10, reps=5, startup_reps=11)


# -- timing ------------------------------------------------------------------------------------


def timed(action: Callable[[], Any]) -> float:
    """Seconds one call takes (wall clock: the sync at commit is part of the cost)."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def timed_cpu(action: Callable[[], Any]) -> tuple[float, float]:
    """Seconds one call takes on the wall clock, and the CPU seconds this process spent in it
    (every thread: the merge's checking thread included)."""
    start, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - start, time.process_time() - cpu


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# -- the library under test (merge may not exist yet) ------------------------------------------


def merge_function() -> Callable[[Path, list[Path]], Any] | None:
    """cdt's merge of pack files into a target file (cdt.exchange.batch.merge_files, every check on),
    or None while cdt.merge does not exist. A refused file is an error here, never a fast run."""
    try:
        from cdt.exchange.batch import merge_files
    except ImportError:
        return None
    from cdt.store import Store

    def run_merge(target: Path, packs: list[Path]) -> list:
        with Store.open(target) as store:
            results = merge_files(store, list(packs))
        refused = [f"{r.name}: {r.reason}" for r in results if not r.ok]
        if refused:
            raise RuntimeError("cdt refused packs: " + "; ".join(refused))
        return results

    return run_merge


def create_target(path: Path, level: str, code: str, structure: str = "legacy") -> Path:
    """An empty district or province file at path."""
    from cdt.domain import units
    from cdt.store import Store

    path.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    unit = units.get(code, level=level, structure=structure)
    Store.create(path, level=level, structure=unit.structure,
                 province=(unit.province_code, unit.province_name),
                 district=(unit.district_code, unit.district_name) if level == "district" else (None, None)
                 ).close()
    return path


def create_target_2025(path: Path, code: str) -> Path:
    """An empty province file of the 2025 structure (which has no districts)."""
    return create_target(path, "province", code, "2025")


# -- baselines --------------------------------------------------------------------------------


def _tables(conn: sqlite3.Connection, schema: str) -> list[str]:
    from cdt.core.schema import DOMAIN_TABLES

    present = {r[0] for r in conn.execute(f"SELECT name FROM {schema}.sqlite_schema WHERE type = 'table'")}
    return [t for t in (*DOMAIN_TABLES, "history") if t in present]


def raw_merge(target: Path, packs: list[Path], per_tx: int = 1, ignore_held: bool = False) -> None:
    """ATTACH + INSERT … SELECT of every row, no checks, per_tx files per transaction, on a
    connection with exactly the settings of cdt's merge target (store.connect + batch.tune_target:
    rollback journal, synchronous=FULL, the same bounded page cache), into the same schema. With
    ignore_held, INSERT OR IGNORE: rows already held are skipped by their key (a next month's packs)."""
    from cdt.store import connect

    conn = connect(target)
    try:
        from cdt.exchange.batch import tune_target
    except ImportError:  # an older cdt: the store's settings only
        tune_target = None
    if tune_target is not None:
        tune_target(conn)
    try:
        from cdt.core.totals import paused
    except ImportError:  # a cdt without totals: nothing to pause
        paused = contextlib.nullcontext
    try:
        for start in range(0, len(packs), per_tx):
            group = packs[start:start + per_tx]
            names = [f"p{i}" for i in range(len(group))]
            for name, pack in zip(names, group):
                conn.execute(f"ATTACH DATABASE ? AS {name}", (f"file:{generate.plain(pack)}?mode=ro",))
            conn.execute("BEGIN IMMEDIATE")
            with paused(conn):  # a bare copy: the totals' row triggers do not fire (cdt counts them)
                for name in names:
                    for table in _tables(conn, name):
                        conn.execute(f"INSERT {'OR IGNORE ' if ignore_held else ''}INTO main.{table}"
                                     f" SELECT * FROM {name}.{table}")
            conn.execute("COMMIT")
            for name in names:
                conn.execute(f"DETACH DATABASE {name}")
    finally:
        conn.close()


def sqlite_utils_merge(target: Path, packs: list[Path]) -> None:
    """What a user would write: sqlite-utils upsert_all, one call per table per file, defaults."""
    import sqlite_utils

    db = sqlite_utils.Database(target)
    try:
        for pack in packs:
            source = sqlite3.connect(f"file:{generate.plain(pack)}?mode=ro", uri=True)
            source.row_factory = sqlite3.Row
            try:
                for table in _tables(source, "main"):
                    rows = (dict(r) for r in source.execute(f"SELECT * FROM {table}"))
                    pk = ("origin", "rev") if table == "history" else "id"
                    db[table].upsert_all(rows, pk=pk)
            finally:
                source.close()
    finally:
        db.close()


def fill_origins(target: Path, packs: list[Path]) -> None:
    """The merge bookkeeping a report reads (origin table), for a file built by raw SQL."""
    conn = sqlite3.connect(str(target), isolation_level=None)
    try:
        for pack in packs:
            src = sqlite3.connect(f"file:{generate.plain(pack)}?mode=ro", uri=True)
            s = src.execute("SELECT db_id, level, structure, province_code, district_code, commune_code,"
                            " commune_name, clock, packed_at FROM site").fetchone()
            src.close()
            conn.execute("INSERT OR REPLACE INTO origin (db_id, level, structure, province_code, district_code,"
                         " commune_code, unit_name, clock, packed_at, merged_at)"
                         " VALUES (?,?,?,?,?,?,?,?,?,datetime('now'))", s)
    finally:
        conn.close()


def copy_file(source: Path, target: Path) -> Path:
    """A copy of source at target, on the disk (synced): else the first commit into the copy pays
    for writing out the whole copy, which a timed merge must not."""
    target.unlink(missing_ok=True)
    shutil.copyfile(source, target)
    with open(target, "rb+") as handle:
        os.fsync(handle.fileno())
    return target


# -- the report's totals by hand ---------------------------------------------------------------

# The same numbers build_report gives for the file's total, by hand, as a careful person would
# write them over the same monthly totals the report reads (cdt/totals.py, kept by the merge):
# visits and people per origin and list of services, households from the per-month reach marks
# (each commune here has one file); one GROUP BY over the register tables each; services and
# digital citizens split from the service lists (a JSON list parsed once per distinct list).
HAND_SQL = {
    "visits": """
        SELECT origin, services, sum(CASE WHEN month = :month THEN visits ELSE 0 END),
               sum(CASE WHEN month >= :year_month THEN visits ELSE 0 END), sum(visits),
               sum(CASE WHEN month = :month THEN people ELSE 0 END),
               sum(CASE WHEN month >= :year_month THEN people ELSE 0 END), sum(people)
        FROM total_visit WHERE month <= :month GROUP BY origin, services""",
    "households": """
        SELECT origin, sum(CASE WHEN month = :month THEN reached ELSE 0 END),
               sum(CASE WHEN month >= :year_month THEN first_in_year ELSE 0 END), sum(first_ever)
        FROM total_reach WHERE month <= :month GROUP BY origin""",
    "hamlets": """
        SELECT h.origin, count(*), sum(h.households), sum(h.working_age),
               sum(EXISTS (SELECT 1 FROM team t WHERE t.hamlet_id = h.id AND t.deleted = 0))
        FROM hamlet h WHERE h.deleted = 0 GROUP BY 1""",
    "teams": """SELECT origin, count(*), sum(coalesce(decision_number, '') <> '') FROM team
                WHERE deleted = 0 AND status = 'active' GROUP BY 1""",
    "members": """
        SELECT m.origin, count(*),
               sum(EXISTS (SELECT 1 FROM training_attendance a JOIN training tr ON tr.id = a.training_id
                           WHERE a.member_id = m.id AND a.deleted = 0 AND tr.deleted = 0 AND tr.date <= :end))
        FROM member m WHERE m.deleted = 0 AND (m.left_on IS NULL OR m.left_on > :end) GROUP BY 1""",
}


# The register's default (settings "digital_citizen_services"); generated files keep it.
DIGITAL_CITIZEN_SERVICES = {"dvc", "vneid", "payment"}


def hand_report(conn: sqlite3.Connection) -> dict[str, list]:
    """Run the hand-written queries; returns their rows (so the work cannot be skipped)."""
    from cdt.reports.figures import period

    dates = period(REPORT_YEAR, REPORT_MONTH)
    params = {"start": dates["start"], "end": dates["end"], "year_start": dates["year_start"],
              "month": dates["start"][:7], "year_month": dates["year_start"][:7]}
    result = {name: conn.execute(sql, params).fetchall() for name, sql in HAND_SQL.items()}
    by_service: dict[tuple[str, str], list[int]] = {}
    digital = [0, 0, 0]
    for origin, services, *_, people_month, people_ytd, people_total in result["visits"]:
        codes = set(json.loads(services))
        for code in codes:
            flow = by_service.setdefault((origin, code), [0, 0, 0])
            flow[0] += people_month
            flow[1] += people_ytd
            flow[2] += people_total
        if codes & DIGITAL_CITIZEN_SERVICES:
            digital = [digital[0] + people_month, digital[1] + people_ytd, digital[2] + people_total]
    result["services"] = by_service
    result["digital_citizens"] = digital
    return result


def check_same_totals(report: dict, hand: dict[str, list]) -> None:
    """The hand-written queries must give the report's totals, or the comparison is unfair."""
    visits, households = hand["visits"], hand["households"]
    mine = {
        "visits": [sum(r[i] for r in visits) for i in (2, 3, 4)],
        "people": [sum(r[i] for r in visits) for i in (5, 6, 7)],
        "households": [sum(r[i] for r in households) for i in (1, 2, 3)],
        "digital_citizens": hand["digital_citizens"],
        "members": sum(r[1] for r in hand["members"]),
        "teams": sum(r[1] for r in hand["teams"]),
    }
    total = report["total"]
    theirs = {
        "visits": [total["visits"][p] for p in ("month", "ytd", "total")],
        "people": [total["people_helped"][p] for p in ("month", "ytd", "total")],
        "households": [total["households_reached"][p] for p in ("month", "ytd", "total")],
        "digital_citizens": [total["digital_citizens"][p] for p in ("month", "ytd", "total")],
        "members": total["members"],
        "teams": total["teams"],
    }
    if mine != theirs:
        raise AssertionError(f"hand-written report differs from build_report: {mine} != {theirs}")


# -- export baseline ---------------------------------------------------------------------------


def workbook_cells(path: Path) -> list[tuple[str, list[list[Any]]]]:
    """Every sheet's cell values of a workbook, to write again as the raw baseline."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    try:
        return [(ws.title, [list(row) for row in ws.iter_rows(values_only=True)]) for ws in wb.worksheets]
    finally:
        wb.close()


def raw_export(cells: list[tuple[str, list[list[Any]]]], path: Path) -> None:
    """openpyxl write-only mode writing the same cells: the floor for an .xlsx of this content."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    for title, rows in cells:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)


# -- child processes: peak memory and start-up -------------------------------------------------


# Runs its arguments as a child and prints that child's peak RSS. The measured process must be
# forked from this small helper: on Linux a child forked from the big benchmark process reports
# the benchmark's own RSS as its peak (the high-water mark survives fork + exec).
_PEAK_HELPER = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def _child_env() -> dict[str, str]:
    # The bench package is found from the repository, wherever the run was started.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def run_child(argv: list[str]) -> float:
    """Run a process to its end; the seconds it took (start-up included)."""
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_child_env())
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed ({done.returncode}): "
                           f"{done.stderr.decode(errors='replace')[-2000:]}")
    return seconds


def peak_mb(argv: list[str]) -> float:
    """Peak RSS in MB of a process run to its end (POSIX: getrusage(RUSAGE_CHILDREN))."""
    done = subprocess.run([sys.executable, "-c", _PEAK_HELPER, *argv], capture_output=True, text=True,
                          env=_child_env())
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed: {done.stderr[-2000:]}")
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    return int(done.stdout.split()[-1]) / (1024 * 1024 if sys.platform == "darwin" else 1024)


def child_main(argv: list[str]) -> int:
    """What a measured child process does: ``merge TARGET PACK...``, ``report FILE LEVEL`` or
    ``export REPORT.json OUT``."""
    what, *rest = argv
    if what == "merge":
        merge = merge_function()
        merge(Path(rest[0]), [Path(p) for p in rest[1:]])
    elif what == "report":
        from cdt.reports.report import build_report
        from cdt.store import Store

        with Store.open(Path(rest[0])) as store:
            build_report(store, year=REPORT_YEAR, month=REPORT_MONTH, level=rest[1])
    elif what == "export":
        from cdt.export import write_report_xlsx

        report = json.loads(Path(rest[0]).read_text(encoding="utf-8"))
        write_report_xlsx(report, Path(rest[1]))
    else:
        raise SystemExit(f"unknown child task {what}")
    return 0


MINIMAL_TYPER_APP = '''import typer

app = typer.Typer()


@app.command()
def info() -> None:
    """Print one line."""
    print("ok")


if __name__ == "__main__":
    app()
'''


def cdt_command() -> list[str]:
    """How a user starts cdt: the console script beside this Python, else python -m cdt."""
    script = Path(sys.executable).parent / ("cdt.exe" if sys.platform == "win32" else "cdt")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cdt"]


# -- the run ----------------------------------------------------------------------------------


class Run:
    """One benchmark run: its files, its figures and the details behind them."""

    def __init__(self, config: Config, work: Path, log: Callable[[str], None]):
        self.config = config
        self.work = work
        self.log = log
        self.figures: dict[str, Any] = {}
        self.details: dict[str, Any] = {}
        self.merge = merge_function()

    def figure(self, key: str, value: Any) -> None:
        self.figures[key] = round(value, 4) if isinstance(value, float) else value

    # -- data

    def prepare(self) -> None:
        c = self.config
        t0 = time.perf_counter()
        communes = generate.communes_of(c.district, c.communes)
        self.packs = generate.make_packs(communes, self.work / "a", c.sizes)
        small = Sizes(**{**c.sizes.__dict__, "visits": c.sizes.visits // 4})
        self.small_packs = generate.make_packs(communes, self.work / "a-small", small)
        self.second_packs = generate.make_packs(generate.communes_of(c.second_district, c.second_communes),
                                                self.work / "b", c.sizes)
        self.rows = sum(generate.row_count(p) for p in self.packs)
        self.commune_file = self.work / "a" / "communes" / f"xa-{communes[0].code}.db"
        self.details["data"] = {
            "communes": c.communes, "visits_per_commune": c.sizes.visits, "rows_merged": self.rows,
            "pack_mb": round(sum(p.stat().st_size for p in self.packs) / 1e6, 1),
            "generate_s": round(time.perf_counter() - t0, 2),
        }
        self.log(f"data: {c.communes} communes, {self.rows:,} rows in packs "
                 f"({time.perf_counter() - t0:.1f} s to generate)")

    # -- merge

    def bench_merge(self) -> None:
        c = self.config
        out = self.work / "merge"
        out.mkdir(exist_ok=True)
        runs: dict[str, list[float]] = {"cdt": [], "raw": [], "raw_batched": [], "sqlite_utils": []}
        su_packs = self.packs[:c.sqlite_utils_packs] if c.sqlite_utils_packs else self.packs
        rows = {k: self.rows for k in runs}
        rows["sqlite_utils"] = sum(generate.row_count(p) for p in su_packs)
        fresh = lambda name: create_target(out / f"{name}.db", "district", c.district)  # noqa: E731
        cpu: dict[str, list[float]] = {"cdt": [], "raw": []}
        for _ in range(c.reps):
            if self.merge:
                target = fresh("cdt")
                wall, used = timed_cpu(lambda: self.merge(target, self.packs))
                runs["cdt"].append(wall)
                cpu["cdt"].append(used)
            target = fresh("raw")
            wall, used = timed_cpu(lambda: raw_merge(target, self.packs, 1))
            runs["raw"].append(wall)
            cpu["raw"].append(used)
            target = fresh("raw10")
            runs["raw_batched"].append(timed(lambda: raw_merge(target, self.packs, 10)))
            target = fresh("su")
            runs["sqlite_utils"].append(timed(lambda: sqlite_utils_merge(target, su_packs)))
        rate = {k: rows[k] / median(v) for k, v in runs.items() if v}
        self.details["merge_rows_per_s"] = {k: round(v) for k, v in rate.items()}
        self.details["merge_s"] = {k: round(median(v), 3) for k, v in runs.items() if v}
        self.details["sqlite_utils_rows"] = rows["sqlite_utils"]
        if self.merge:
            self.figure("merge_vs_raw", rate["cdt"] / rate["raw"])
            self.figure("merge_vs_raw_batched", rate["cdt"] / rate["raw_batched"])
            self.figure("merge_vs_sqlite_utils", rate["cdt"] / rate["sqlite_utils"])
            self.district_file = out / "cdt.db"
            remerge = []
            for _ in range(c.reps):
                again = copy_file(self.district_file, out / "again.db")
                remerge.append(timed(lambda: self.merge(again, self.packs)))
            self.details["remerge_s"] = round(median(remerge), 3)
            self.figure("remerge_vs_merge", median(remerge) / median(runs["cdt"]))
            self.merge_limit("merge", self.packs, lambda: fresh("stages"), median(runs["raw"]))
            self.cpu_use("merge", runs, cpu)
        else:
            for key in ("merge_vs_raw", "merge_vs_raw_batched", "merge_vs_sqlite_utils", "remerge_vs_merge"):
                self.figure(key, NOT_BUILT)
            # Reports still get a district file: the raw merge plus the bookkeeping reports read.
            self.district_file = out / "raw.db"
            fill_origins(self.district_file, self.packs)
        self.log(f"merge: {self.details['merge_rows_per_s']} rows/s")

    def cpu_use(self, name: str, wall: dict[str, list[float]], cpu: dict[str, list[float]]) -> None:
        """Whether the merge waits or works: its CPU seconds (both threads) over its wall time are
        the cores it keeps busy. With every core busy it could take no less than its CPU seconds
        over the cores: raw's time over that caps ``{name}_vs_raw`` for this work, however it is
        scheduled (the details' ``{name}_cpu``)."""
        cores = os.cpu_count() or 1
        cdt_cpu, cdt_wall, raw_wall = median(cpu["cdt"]), median(wall["cdt"]), median(wall["raw"])
        self.details[f"{name}_cpu"] = {
            "cdt_cpu_s": round(cdt_cpu, 3), "cdt_s": round(cdt_wall, 3), "raw_cpu_s": round(median(cpu["raw"]), 3),
            "raw_s": round(raw_wall, 3), "cores": cores, "cores_busy": round(cdt_cpu / cdt_wall, 2),
            "vs_raw_at_every_core_busy": round(raw_wall / (cdt_cpu / cores), 3)}

    def merge_limit(self, name: str, packs: list[Path], fresh: Callable[[], Path], raw_s: float) -> None:
        """What bounds the merge on this machine, measured on the same packs: its two stages alone,
        one after the other on one thread: the checks of every pack (cdt.exchange.merge.prepare: copy,
        signature, integrity_check, row hashes, rules) and the merge of every checked pack (the
        rows, the totals, the bookkeeping, a commit per pack). A pipeline of the two on two cores
        takes at least the longer stage (``{name}_limit_vs_raw``); the work spread perfectly over
        both cores, at least half their sum (``{name}_cpu_limit_vs_raw``). Either below a target
        means that target cannot be met with every check kept, whatever the scheduling."""
        try:
            from cdt.exchange.batch import tune_target
            from cdt.exchange.merge import merge_file, prepare
        except ImportError:  # a cdt without the two stages
            return
        from cdt.store import Store

        checks, merges = [], []
        for _ in range(self.config.reps):
            with Store.open(fresh()) as store:
                tune_target(store.conn)
                started = time.perf_counter()
                prepared = [prepare(store, pack) for pack in packs]
                checks.append(time.perf_counter() - started)
                started = time.perf_counter()
                for one in prepared:
                    merge_file(store, one.path, prepared=one)
                merges.append(time.perf_counter() - started)
        checks_s, merge_s = median(checks), median(merges)
        self.details[f"{name}_stages_s"] = {"checks": round(checks_s, 3), "merge": round(merge_s, 3),
                                            "raw": round(raw_s, 3)}
        self.figure(f"{name}_limit_vs_raw", raw_s / max(checks_s, merge_s))
        self.figure(f"{name}_cpu_limit_vs_raw", raw_s / ((checks_s + merge_s) / 2))

    def bench_next_month(self) -> None:
        """A district's next month, as it comes every month: each commune's pack again, grown by
        NEXT_MONTH_VISITS visits on top of the ones merged last month, merged into a copy of the
        district file that holds last month (the copy synced first, as for growth).

        A pack is a whole snapshot of its commune, so most of its rows are already held unchanged;
        cdt checks every row of it again and compares each with the one held. Raw copies the same
        packs with ``INSERT OR IGNORE`` (a key probe a row, the new rows written), the floor for
        merging packs that overlap what is held. ``next_month_vs_raw`` has no target; the details
        give the seconds and the next month's time over the first month's (``merge_s``)."""
        c = self.config
        if not self.merge:
            self.figure("next_month_vs_raw", NOT_BUILT)
            return
        import random

        from cdt.store import Store

        out = self.work / "next-month"
        (out / "communes").mkdir(parents=True, exist_ok=True)
        packs = []
        for first in self.packs:
            name = f"{first.stem}.db"
            source = copy_file(self.work / "a" / "communes" / name, out / "communes" / name)
            with Store.open(source) as store:
                teams = store.rows("team")
                members = store.rows("member")
                members_of = {t["id"]: [m["id"] for m in members if m["team_id"] == t["id"]] for t in teams}
                generate.add_visits(store, teams, members_of, NEXT_MONTH_VISITS, random.Random(f"next-{first.stem}"))
            packs.append(generate.pack(source, out / "packs"))
        rows = sum(generate.row_count(pack) for pack in packs)
        runs: dict[str, list[float]] = {"cdt": [], "raw": []}
        for _ in range(c.reps):
            target = copy_file(self.district_file, out / "cdt.db")
            runs["cdt"].append(timed(lambda: self.merge(target, packs)))
            target = copy_file(self.district_file, out / "raw.db")
            runs["raw"].append(timed(lambda: raw_merge(target, packs, 1, ignore_held=True)))
        cdt_s, raw_s = median(runs["cdt"]), median(runs["raw"])
        self.details["next_month"] = {
            "visits_added_per_commune": NEXT_MONTH_VISITS, "rows_in_packs": rows, "cdt_s": round(cdt_s, 3),
            "raw_s": round(raw_s, 3), "vs_first_month": round(cdt_s / self.details["merge_s"]["cdt"], 3)}
        self.figure("next_month_vs_raw", raw_s / cdt_s)

    def bench_growth(self) -> None:
        """Per-pack cost as the target grows: 4x the data (4x the communes of the run), merged one
        pack per call into one district file; the last tenth's packs cost over the first tenth's.

        One pass in time order is at the mercy of whatever the machine does meanwhile (on this
        virtual disk the same pack's merge swings 0.12-0.20 s from minute to minute, so two runs
        gave 1.12 and 1.39 for a flat cost). So the figure is measured like the others, side by
        side: each pack of the last tenth is merged into a copy of the file as it was after the
        first tenth and into a copy of it as it was before the last tenth, alternately, and the
        figure is the median over the medians. The one-pass tenths are in the details."""
        c = self.config
        if not self.merge:
            self.figure("merge_pack_growth", NOT_BUILT)
            return
        out = self.work / "growth"
        t0 = time.perf_counter()
        from cdt.domain import units

        # 4x the run's communes, or all the district has (47 for 380: full mode asks 160).
        available = len(units.communes_in(units.get(c.district, level="district", structure=units.LEGACY)))
        more = generate.communes_of(c.district, min(c.communes * 4, available))[c.communes:]
        packs = self.packs + generate.make_packs(more, out / "data", c.sizes)
        generated = time.perf_counter() - t0
        target = create_target(out / "cdt.db", "district", c.district)
        tenth = max(1, len(packs) // 10)
        times = []
        for number, pack in enumerate(packs):
            if number == tenth:
                small = copy_file(target, out / "after-first-tenth.db")
            if number == len(packs) - tenth:
                large = copy_file(target, out / "before-last-tenth.db")
            times.append(timed(lambda pack=pack: self.merge(target, [pack])))
        first, last = median(times[:tenth]), median(times[-tenth:])
        at_small, at_large = [], []
        for _ in range(c.reps):
            for pack in packs[-tenth:]:
                for source, into in ((small, at_small), (large, at_large)):
                    again = copy_file(source, out / "again.db")
                    into.append(timed(lambda pack=pack, again=again: self.merge(again, [pack])))
        self.details["merge_pack_growth"] = {
            "packs": len(packs), "small_mb": round(small.stat().st_size / 1e6, 1),
            "large_mb": round(large.stat().st_size / 1e6, 1), "at_small_s": round(median(at_small), 4),
            "at_large_s": round(median(at_large), 4), "one_pass_first_tenth_s": round(first, 4),
            "one_pass_last_tenth_s": round(last, 4), "one_pass_ratio": round(last / first, 3),
            "generate_s": round(generated, 1), "target_mb": round(target.stat().st_size / 1e6, 1)}
        self.figure("merge_pack_growth", median(at_large) / median(at_small))

    def bench_province_merge(self) -> None:
        c = self.config
        out = self.work / "province"
        out.mkdir(exist_ok=True)
        if not self.merge:
            self.figure("province_merge_vs_raw", NOT_BUILT)
            # A province file for the province report: every commune pack, raw, with bookkeeping.
            self.province_file = create_target(out / "raw.db", "province", generate.communes_of(
                c.district, 1)[0].province_code)
            both = self.packs + self.second_packs
            raw_merge(self.province_file, both, 10)
            fill_origins(self.province_file, both)
            return
        second = create_target(out / "district-b.db", "district", c.second_district)
        self.merge(second, self.second_packs)
        district_packs = [generate.pack(self.district_file, out / "packs"), generate.pack(second, out / "packs")]
        rows = sum(generate.row_count(p) for p in district_packs)
        province = generate.communes_of(c.district, 1)[0].province_code
        runs: dict[str, list[float]] = {"cdt": [], "raw": []}
        cpu: dict[str, list[float]] = {"cdt": [], "raw": []}
        for _ in range(c.reps):
            target = create_target(out / "cdt.db", "province", province)
            wall, used = timed_cpu(lambda: self.merge(target, district_packs))
            runs["cdt"].append(wall)
            cpu["cdt"].append(used)
            target = create_target(out / "raw.db", "province", province)
            wall, used = timed_cpu(lambda: raw_merge(target, district_packs, 1))
            runs["raw"].append(wall)
            cpu["raw"].append(used)
        self.province_file = out / "cdt.db"
        self.details["province_merge_rows_per_s"] = {k: round(rows / median(v)) for k, v in runs.items()}
        self.figure("province_merge_vs_raw", median(runs["raw"]) / median(runs["cdt"]))
        self.cpu_use("province_merge", runs, cpu)
        self.merge_limit("province_merge", district_packs,
                         lambda: create_target(out / "stages.db", "province", province), median(runs["raw"]))

    # -- reports

    def bench_reports(self) -> None:
        """The district and province reports against the hand-written queries over the same
        totals; seconds of a district report per million visits (its peak memory at 4x the visits
        against 1x is measured with the merge's, bench_memory)."""
        from cdt.reports.report import build_report
        from cdt.store import Store

        def report_s(store: Store, level: str) -> float:
            return median([timed(lambda: build_report(store, year=REPORT_YEAR, month=REPORT_MONTH, level=level))
                           for _ in range(self.config.fast_reps)])

        for key, path, level in (("report_vs_sql", self.district_file, "district"),
                                 ("report_province_vs_sql", self.province_file, "province")):
            with Store.open(path) as store:
                report = build_report(store, year=REPORT_YEAR, month=REPORT_MONTH, level=level)
                check_same_totals(report, hand_report(store.conn))
                mine, hand = [], []
                for _ in range(self.config.fast_reps):
                    mine.append(timed(lambda: build_report(store, year=REPORT_YEAR, month=REPORT_MONTH,
                                                           level=level)))
                    hand.append(timed(lambda: hand_report(store.conn)))
                visits = store.conn.execute("SELECT count(*) FROM visit").fetchone()[0]
            self.details[f"{level}_report_s"] = {"cdt": round(median(mine), 4), "sql": round(median(hand), 4),
                                                 "visits": visits}
            self.figure(key, median(mine) / median(hand))
            report_path = self.work / f"report-{level}.json"
            report_path.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
            setattr(self, f"{level}_report", report)
        # Seconds of a district report on a million visits: the district file grown to a million
        # by copies of its visits (new ids, four times the households), its totals counted
        # set-based as the merge's fast path would. The report reads totals (a few rows per
        # commune, month and list of services), so scaling the 50,000-visit time by 20 would
        # multiply a mostly fixed cost; that proportional figure is in the details.
        million = self._million_district()
        with Store.open(million) as store:
            build_report(store, year=REPORT_YEAR, month=REPORT_MONTH, level="district")
            visits = store.conn.execute("SELECT count(*) FROM visit").fetchone()[0]
            seconds = report_s(store, "district")
        district = self.details["district_report_s"]
        self.figure("report_1m_visits_s", seconds * 1_000_000 / visits)
        self.details["report_1m_visits"] = {
            "visits": visits, "seconds": round(seconds, 4),
            "proportional_from_district_s": round(district["cdt"] * 1_000_000 / max(1, district["visits"]), 4)}

    def _million_district(self) -> Path:
        """A copy of the district file with about a million visits (copies of its own, new ids,
        household codes of four times as many households), totals recounted set-based
        (totals.rebuild)."""
        from cdt.core import totals

        path = copy_file(self.district_file, self.work / "report-1m.db")
        conn = sqlite3.connect(str(path), isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous = OFF")
            count = conn.execute("SELECT count(*) FROM visit").fetchone()[0]
            columns = [row[1] for row in conn.execute("PRAGMA table_info(visit)")]
            copied = ", ".join("id || '-c' || :k" if c == "id" else "household || '-' || (:k % 4)"
                               if c == "household" else c for c in columns)
            conn.execute("BEGIN")
            conn.execute("CREATE TEMP TABLE base AS SELECT * FROM main.visit")
            with totals.paused(conn):
                # At most 20 copies (the quick data's 50,000 visits become a million; tiny test
                # data stays tiny: the figure is scaled to a million visits either way).
                for k in range(1, min(20, -(-1_000_000 // max(1, count)))):
                    conn.execute(f"INSERT INTO main.visit ({', '.join(columns)}) SELECT {copied} FROM temp.base",
                                 {"k": k})
            totals.rebuild(conn)
            conn.execute("COMMIT")
        finally:
            conn.close()
        return path

    # -- export

    def bench_export(self) -> None:
        from cdt.export import write_report_xlsx

        out = self.work / "export"
        out.mkdir(exist_ok=True)
        report = self.district_report
        write_report_xlsx(report, out / "cdt.xlsx")
        cells = workbook_cells(out / "cdt.xlsx")
        mine, raw = [], []
        for _ in range(self.config.fast_reps):
            mine.append(timed(lambda: write_report_xlsx(report, out / "cdt.xlsx")))
            raw.append(timed(lambda: raw_export(cells, out / "raw.xlsx")))
        self.details["export_s"] = {"cdt": round(median(mine), 4), "raw_write_only": round(median(raw), 4),
                                    "cells": sum(len(r) for _, rows in cells for r in rows)}
        self.figure("export_vs_raw", median(mine) / median(raw))

    # -- memory

    def bench_memory(self) -> None:
        c = self.config
        out = self.work / "memory"
        out.mkdir(exist_ok=True)
        try:
            import resource  # noqa: F401  (POSIX only)
        except ImportError:
            for key in ("merge_peak_mb", "merge_peak_growth", "report_peak_growth", "export_peak_mb",
                        "export_peak_growth"):
                self.figure(key, "n/a (no getrusage on this platform)")
            return
        me = [sys.executable, "-m", "bench", "--child"]
        if self.merge:
            peaks = {}
            for label, packs in (("small", self.small_packs), ("large", self.packs)):
                target = create_target(out / f"merge-{label}.db", "district", c.district)
                peaks[label] = peak_mb([*me, "merge", str(target), *map(str, packs)])
            self.details["merge_peak_mb"] = {k: round(v, 1) for k, v in peaks.items()}
            self.figure("merge_peak_mb", peaks["large"])
            self.figure("merge_peak_growth", peaks["large"] / peaks["small"])
            # The district report on the same two files (1x and 4x the visits).
            peaks = {label: peak_mb([*me, "report", str(out / f"merge-{label}.db"), "district"])
                     for label in ("small", "large")}
            self.details["report_peak_mb"] = {k: round(v, 1) for k, v in peaks.items()}
            self.figure("report_peak_growth", peaks["large"] / peaks["small"])
        else:
            for key in ("merge_peak_mb", "merge_peak_growth", "report_peak_growth"):
                self.figure(key, NOT_BUILT)
        # Export: the district report (one row per commune of the district) against the province
        # report (a row per district and one per commune of the province: many times the cells).
        peaks = {}
        for label in ("district", "province"):
            peaks[label] = peak_mb([*me, "export", str(self.work / f"report-{label}.json"),
                                    str(out / f"{label}.xlsx")])
        self.details["export_peak_mb"] = {k: round(v, 1) for k, v in peaks.items()}
        self.figure("export_peak_mb", peaks["province"])
        self.figure("export_peak_growth", peaks["province"] / peaks["district"])

    # -- start-up

    def bench_startup(self) -> None:
        app = self.work / "minimal_typer_app.py"
        app.write_text(MINIMAL_TYPER_APP, encoding="utf-8")
        # cdt as a clerk gets it (pip, the .exe) starts from compiled bytecode, as Typer, click and
        # rich do from site-packages; an editable checkout under PYTHONDONTWRITEBYTECODE=1 would
        # compile cdt's own modules on every start and the baseline's libraries never.
        import compileall

        import cdt

        compileall.compile_dir(Path(cdt.__file__).parent, quiet=1)
        cdt = cdt_command()
        calls = {
            "cdt_help": [*cdt, "--help"],
            "cdt_info": [*cdt, "--db", str(self.commune_file), "info"],
            "typer_help": [sys.executable, str(app), "--help"],
            "typer_run": [sys.executable, str(app)],
            "python": [sys.executable, "-c", "pass"],
        }
        times: dict[str, list[float]] = {k: [] for k in calls}
        if self.config.startup_reps > 1:
            for argv in calls.values():  # warm the page cache once
                run_child(argv)
        for _ in range(self.config.startup_reps):
            for key, argv in calls.items():
                times[key].append(run_child(argv))
        med = {k: median(v) for k, v in times.items()}
        self.details["startup_ms"] = {k: round(v * 1000, 1) for k, v in med.items()}
        self.figure("startup_vs_typer", med["cdt_help"] / med["typer_help"])
        self.figure("startup_info_vs_typer", med["cdt_info"] / med["typer_run"])


# -- output -----------------------------------------------------------------------------------


def status(key: str, value: Any) -> str:
    """PASS or MISS against the figure's target; '' when it has none or was not measured."""
    if key not in TARGETS or not isinstance(value, (int, float)):
        return ""
    op, target = TARGETS[key]
    return "PASS" if (value >= target if op == ">=" else value <= target) else "MISS"


def table(figures: dict[str, Any]) -> str:
    width = max([26, *(len(key) for key in figures)])
    lines = [f"{'figure':<{width}} {'value':>20}  {'target':<8} status", "-" * (width + 38)]
    for key, value in figures.items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        target = f"{TARGETS[key][0]} {TARGETS[key][1]:g}" if key in TARGETS else ""
        lines.append(f"{key:<{width}} {shown:>20}  {target:<8} {status(key, value)}")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(), "cpus": os.cpu_count(),
    }


def run(config: Config, work: Path, log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Measure everything on config's data under work; returns the result object."""
    started = time.perf_counter()
    r = Run(config, work, log)
    r.prepare()
    for step in (r.bench_merge, r.bench_next_month, r.bench_growth, r.bench_province_merge, r.bench_reports,
                 r.bench_export, r.bench_memory, r.bench_startup):
        step()
        log(f"{step.__name__[6:]} done ({time.perf_counter() - started:.0f} s)")
    return {
        **r.figures,
        "status": {k: status(k, v) for k, v in r.figures.items() if status(k, v)},
        "targets": {k: f"{op} {value:g}" for k, (op, value) in TARGETS.items()},
        "details": r.details,
        "mode": config.name,
        "machine": machine(),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small data, about a minute (make bench)")
    mode.add_argument("--scale", choices=["national"], help="the 3,321-commune simulation (long)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the table goes to stderr)")
    parser.add_argument("--communes", type=int, help="communes to generate (overrides the mode)")
    parser.add_argument("--visits", type=int, help="visits per commune (default 5,000)")
    parser.add_argument("--reps", type=int, help="repetitions per figure")
    parser.add_argument("--provinces", type=int, help="--scale national: only the first N provinces")
    parser.add_argument("--only", nargs="+", metavar="CODE",
                        help="--scale national: only these provinces (2025 codes; 79 is the largest)")
    parser.add_argument("--budget", type=float, help="--scale national: start no province after this many seconds")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--packs", type=Path, help="--scale national: keep the commune packs in this folder "
                        "and reuse the ones already there (generation is not part of the figures)")
    parser.add_argument("--generate-only", action="store_true",
                        help="--scale national: only make the packs (with --packs), merge nothing")
    parser.add_argument("--follow", action="store_true",
                        help="--scale national: wait for the packs a --generate-only run is making (--packs)")
    args = parser.parse_args(argv)

    if args.scale:
        from bench.national import run_national

        return run_national(args)
    config = QUICK if args.quick else FULL
    overrides: dict[str, Any] = {}
    if args.communes:
        overrides["communes"] = args.communes
    if args.reps:
        overrides["reps"] = args.reps
    if args.visits:
        overrides["sizes"] = Sizes(visits=args.visits)
    if overrides:
        config = Config(**{**config.__dict__, **overrides})

    out = sys.stderr if args.json else sys.stdout
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        result = run(config, args.keep, log)
    else:
        with tempfile.TemporaryDirectory(prefix="cdt-bench-") as tmp:
            result = run(config, Path(tmp), log)
    print(table({k: v for k, v in result.items()
                 if k not in ("status", "targets", "details", "mode", "machine", "seconds")}),
          file=out)
    print(f"({config.name} mode, {result['seconds']} s; details: --json)", file=out)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
