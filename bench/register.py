"""Register and import figures: ``python -m bench.register [--quick] [--json]``.

Targets: importing a workbook of 1,000 hamlets (with their teams) and 15,000 visits in under 30 s;
``cdt team list`` and ``cdt team show`` on a file with 2,000 teams and 10,000 members in under 1 s
each, measured end to end as a clerk runs them (a new process, start-up included). Timings live
here, never in unit tests; tests/test_bench_register.py runs the quick sizes so this cannot rot.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

TARGETS = {"import_s": 30.0, "team_list_s": 1.0, "team_show_s": 1.0}
FULL = {"hamlets": 1000, "visits": 15000, "teams": 2000, "members": 10000}
QUICK = {"hamlets": 20, "visits": 200, "teams": 40, "members": 200}
GIVEN = ("An", "Bình", "Cường", "Dũng", "Hà", "Hạ", "Lan", "Lân", "Minh", "Nga", "Phương", "Quân", "Sơn", "Thảo")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ")
MIDDLE = ("Văn", "Thị", "Đức", "Thu", "Minh", "Ngọc")


def _commune(path: Path):
    from cdt.store import Store

    path.unlink(missing_ok=True)
    return Store.create(path, level="commune", structure="legacy", province=("19", "Thái Nguyên"),
                        district=("171", "Đại Từ"), commune=("05761", "Thị trấn Hùng Sơn"))


def _hamlet_name(i: int) -> str:
    return f"Xóm Số {i + 1}"


def build_register(path: Path, teams: int, members: int) -> Path:
    """A commune file with this many hamlets and teams and members spread over them (rows written
    directly: building the file is not what is measured)."""
    store = _commune(path)
    per_team = max(1, members // teams)
    store.put_setting("team_max_members", str(min(100, per_team + 1)))
    with store.write() as tx:
        for i in range(teams):
            hamlet = tx.insert("hamlet", {"name": _hamlet_name(i), "kind": "xóm", "households": 200})
            team = tx.insert("team", {"hamlet_id": hamlet["id"], "decision_number": f"{i + 1}/QĐ-UBND",
                                      "decision_date": "2022-06-01", "founded_on": "2022-06-01",
                                      "status": "active"})
            for k in range(per_team):
                n = i * per_team + k
                tx.insert("member", {
                    "team_id": team["id"], "role": "leader" if k == 0 else "member",
                    "full_name": f"{FAMILY[n % 10]} {MIDDLE[n // 10 % 6]} {GIVEN[n // 60 % 14]}",
                    "birth_year": 1960 + n % 45, "phone": f"09{n:08d}"})
    store.close()
    return path


def build_workbook(path: Path, hamlets: int, visits: int) -> Path:
    """A clerk's workbook: a hamlet sheet, a team sheet and a visit sheet."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Thôn xóm")
    sheet.append(["Tên thôn/xóm", "Loại", "Số hộ", "Số người trong độ tuổi lao động"])
    for i in range(hamlets):
        sheet.append([_hamlet_name(i), "xóm", 150 + i % 200, 400 + i % 300])
    sheet = book.create_sheet("Tổ CNSCĐ")
    sheet.append(["Thôn/xóm", "Số quyết định thành lập", "Ngày quyết định", "Ngày thành lập"])
    for i in range(hamlets):
        sheet.append([_hamlet_name(i), f"{i + 1}/QĐ-UBND", "01/06/2022", "01/06/2022"])
    sheet = book.create_sheet("Lượt hỗ trợ")
    sheet.append(["Ngày hỗ trợ", "Tổ (thôn/xóm)", "Mã hộ", "Số người được hỗ trợ", "Dịch vụ"])
    start = date(2025, 1, 1)
    services = ("VNeID", "dịch vụ công", "VNeID; thanh toán điện tử", "Sổ sức khỏe điện tử")
    for k in range(visits):
        when = start + timedelta(days=k % 300)
        sheet.append([when.strftime("%d/%m/%Y"), _hamlet_name(k % hamlets), f"HGD-{k:05d}", 1 + k % 4,
                      services[k % 4]])
    book.save(path)
    return path


CPU: dict[str, float] = {}  # CPU seconds (user + system) of the last run of each figure


def _children_cpu() -> float:
    try:
        import resource  # POSIX only; on Windows the CPU figures are left out
    except ImportError:
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cdt(db: Path, *args: str) -> float:
    env = {**os.environ, "CDT_DB": str(db)}
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "cdt", *args], env=env, capture_output=True)
    took = time.perf_counter() - started
    CPU[" ".join(args)] = _children_cpu() - cpu
    if done.returncode != 0:
        raise RuntimeError(f"cdt {' '.join(args)} failed: {done.stderr.decode(errors='replace')[-500:]}")
    return took


def measure(sizes: dict[str, int], work: Path, reps: int = 3) -> dict[str, float]:
    """Every figure, in seconds (medians of reps for the quick commands)."""
    from cdt.register import records as register
    from cdt.intake.importer import import_workbook
    from cdt.store import Store

    figures: dict[str, float] = {}
    book = build_workbook(work / "import.xlsx", sizes["hamlets"], sizes["visits"])
    target = work / "import.db"
    store = _commune(target)
    started, cpu = time.perf_counter(), time.process_time()
    result = import_workbook(store, book)
    figures["import_s"] = time.perf_counter() - started
    figures["import_cpu_s"] = time.process_time() - cpu
    totals = result.totals()
    assert result.written and totals["new"] == totals["rows"] == 2 * sizes["hamlets"] + sizes["visits"], totals
    started = time.perf_counter()
    again = import_workbook(store, book)  # a re-import: every row present
    figures["reimport_s"] = time.perf_counter() - started
    assert again.totals()["present"] == totals["rows"], again.totals()
    store.close()

    db = build_register(work / "register.db", sizes["teams"], sizes["members"])
    figures["team_list_s"] = sorted(_cdt(db, "team", "list") for _ in range(reps))[reps // 2]
    figures["team_show_s"] = sorted(_cdt(db, "team", "show", _hamlet_name(sizes["teams"] // 2))
                                    for _ in range(reps))[reps // 2]
    figures["member_list_s"] = sorted(_cdt(db, "member", "list") for _ in range(reps))[reps // 2]
    figures["startup_s"] = sorted(_cdt(db, "--help") for _ in range(reps))[reps // 2]
    # A shared machine's wall clock counts other people's work too: CPU seconds of the last run of
    # each command say what the command itself costs.
    figures["team_list_cpu_s"] = CPU["team list"]
    figures["team_show_cpu_s"] = CPU[f"team show {_hamlet_name(sizes['teams'] // 2)}"]
    figures["startup_cpu_s"] = CPU["--help"]
    with Store.open(db) as opened:
        started = time.perf_counter()
        register.list_teams(opened)
        figures["list_teams_call_s"] = time.perf_counter() - started
        started = time.perf_counter()
        register.team_detail(opened, _hamlet_name(sizes["teams"] // 2))
        figures["team_detail_call_s"] = time.perf_counter() - started
    return figures


def report(figures: dict[str, float], sizes: dict[str, int]) -> str:
    lines = [f"sizes: {sizes['hamlets']:,} hamlets + {sizes['visits']:,} visits imported; "
             f"{sizes['teams']:,} teams + {sizes['members']:,} members listed"]
    for key, value in figures.items():
        target = TARGETS.get(key)
        mark = "" if target is None else f"   target < {target:g} s  {'met' if value < target else 'MISSED'}"
        lines.append(f"{key:<20} {value:8.2f} s{mark}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.register", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (checks the code path, not the targets)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="cdt-bench-register-") as folder:
        figures = measure(sizes, Path(folder), reps=1 if args.quick else 3)
    if args.json:
        print(json.dumps({"sizes": sizes, "figures": figures, "targets": TARGETS}, indent=1))
    else:
        print(report(figures, sizes))
    missed = [k for k, v in TARGETS.items() if figures[k] >= v]
    return 1 if missed and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
