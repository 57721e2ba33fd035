#!/usr/bin/env python3
"""The whole cycle on a real district: five communes of Đại Từ (Thái Nguyên, 171) up to the district report.

Everything goes through the installed ``cdt`` commands, as a clerk and a district officer would type them:

1. each commune creates its file (``cdt init``), adds the provincial services (C-Thái Nguyên,
   Thái Nguyên ID), imports its clerk's spreadsheet from ``examples/data`` (the one with invalid
   rows with ``--only-valid``, showing its problems), then imports its tracking book — a training
   with attendance and a few months of household visits, drawn with a fixed random seed — logs one
   more visit by hand (``cdt visit log``), trusts the district's key (``cdt key trust``) and packs
   its file (``cdt pack``: signed, and sealed so that only the district's file opens it);
2. the district, which created its file first (``cdt init --district 171``) and exported its public
   key for the communes (``cdt key export``, ``require_sealed`` on), merges the packs (``cdt merge``)
   and writes the month's report to the terminal and to an Excel file (``cdt report --district``).

Output goes to ``examples/out/`` (recreated on each run), or to ``--out DIR``.
Run: ``make demo``, or ``.venv/bin/python examples/build_district.py``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import make_spreadsheets as sheets  # noqa: E402  (the example data, shared with the tests)
import regions  # noqa: E402  (communes of the Central Highlands, the Mekong delta and the northern mountains)

SEED = 171
DISTRICT = "171"
SERVICES = [
    ("c-thainguyen", "C-Thái Nguyên", ["CThaiNguyen", "C Thai Nguyen"]),
    ("thainguyen-id", "Thái Nguyên ID", ["ID Thái Nguyên", "TNID"]),
]
# How often each service is asked for at a household visit (VNeID and public services lead).
SERVICE_WEIGHTS = {"vneid": 9, "dvc": 8, "payment": 6, "C-Thái Nguyên": 5, "Thái Nguyên ID": 3, "ehealth": 3,
                   "cybersafety": 3, "ecommerce": 2, "esign": 1}
NOTES = [None, None, None, "Hướng dẫn cài đặt ứng dụng", "Hộ người cao tuổi", "Hỗ trợ lần 2",
         "Hướng dẫn nhận diện cuộc gọi lừa đảo"]


class Failed(Exception):
    """A cdt command failed; the demo stops there."""


def cdt_command() -> list[str]:
    """The installed cdt next to this Python (the venv's), else ``python -m cdt``."""
    for name in ("cdt", "cdt.exe"):
        candidate = Path(sys.executable).with_name(name)
        if candidate.exists():
            return [str(candidate)]
    return [sys.executable, "-m", "cdt"]


class Cli:
    """Runs cdt commands on one data file, echoing each like a terminal session."""

    def __init__(self, command: list[str], root: Path, quiet: bool):
        self.command = command
        self.root = root
        self.quiet = quiet
        self.calls = 0

    def __call__(self, db: Path, *args: str, show: bool = False, ok_codes=(0,)) -> subprocess.CompletedProcess:
        shown = " ".join(_quote(a) for a in args)
        print(f"$ cdt --db {db.relative_to(self.root)} {shown}", flush=True)
        process = subprocess.run([*self.command, "--db", str(db), *args], capture_output=True, text=True,
                                 encoding="utf-8", env=_env())
        self.calls += 1
        if show or process.returncode not in ok_codes:
            if process.stdout.strip():
                print(_indent(process.stdout), flush=True)
            if process.stderr.strip():
                print(_indent(process.stderr), flush=True)
        if process.returncode not in ok_codes:
            raise Failed(f"cdt {shown} → {process.returncode}")
        return process

    def has(self, *words: str) -> bool:
        """True when this cdt has the command (pack, merge and report come from other parts of cdt)."""
        process = subprocess.run([*self.command, *words, "--help"], capture_output=True, text=True,
                                 encoding="utf-8", env=_env())
        return process.returncode == 0


def _env() -> dict:
    import os

    env = dict(os.environ)
    env.pop("CDT_DB", None)
    env.setdefault("CDT_LANG", "vi")
    env["PYTHONIOENCODING"] = "utf-8"
    env.setdefault("COLUMNS", "120")
    return env


def _quote(arg: str) -> str:
    return f'"{arg}"' if any(c in arg for c in " ;&()") else arg


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())


# -- the tracking book: a training and a few months of visits, as a clerk keeps them in Excel -------------


def months_before(today: date, count: int) -> list[tuple[int, int]]:
    """The count whole months before today's month, oldest first."""
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append((year, month))
    return list(reversed(months))


def _initials(hamlet: str) -> str:
    from cdt.domain.sameness import folded_hamlet

    return "".join(w[0] for w in folded_hamlet(hamlet).split()).upper()


def write_tracking_book(commune: dict, path: Path, months: list[tuple[int, int]], rng: random.Random,
                        visits_per_team: tuple[int, int]) -> int:
    """A workbook with the commune's training (and who attended) and its household visits; returns visits."""
    from openpyxl import Workbook

    members = sheets.expected_members(commune)
    teams: dict[str, list[dict]] = {}
    for m in members:
        teams.setdefault(m["hamlet"], []).append(m)
    book = Workbook()
    training = book.active
    training.title = "Tập huấn"
    training.append(["Nội dung tập huấn", "Ngày tập huấn", "Đơn vị tổ chức", "Hình thức", "Người tham dự"])
    first = date(*months[0], 1)
    attendees = [f"{m['full_name']} ({m['hamlet']})" for m in members if m["role"] in ("leader", "deputy")]
    training.append(["Hướng dẫn sử dụng VNeID, C-Thái Nguyên và dịch vụ công trực tuyến",
                     (first + timedelta(days=rng.randint(2, 9))).strftime("%d/%m/%Y"),
                     "UBND huyện Đại Từ", "Trực tiếp", "; ".join(attendees)])
    visits = book.create_sheet("Sổ theo dõi hỗ trợ")
    visits.append(["Ngày", "Tổ (thôn/xóm)", "Mã hộ", "Số người được hỗ trợ", "Dịch vụ", "Thành viên hỗ trợ",
                   "Ghi chú"])
    services, weights = zip(*SERVICE_WEIGHTS.items())
    today = date.today()
    rows = []
    for hamlet, team in teams.items():
        households = [f"{_initials(hamlet)}-{n:03d}" for n in rng.sample(range(1, 400), 60)]
        for year, month in months:
            last_day = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
            for _ in range(rng.randint(*visits_per_team)):
                day = date(year, month, rng.randint(1, last_day))
                if day > today:
                    continue
                chosen = sorted(set(rng.choices(services, weights, k=rng.randint(1, 3))))
                who = rng.sample([m["full_name"] for m in team], k=min(len(team), rng.randint(1, 2)))
                rows.append([day.strftime("%d/%m/%Y"), hamlet, rng.choice(households), rng.randint(1, 5),
                             "; ".join(chosen), "; ".join(who), rng.choice(NOTES)])
    for row in sorted(rows, key=lambda r: (r[0][6:], r[0][3:5], r[0][:2], r[1])):
        visits.append(row)
    book.save(path)
    return len(rows)


# -- the run --------------------------------------------------------------------------------------------


def build(out: Path, *, communes: int, visits_per_team: tuple[int, int], quiet: bool) -> int:
    started = time.monotonic()
    if out.exists():
        shutil.rmtree(out)
    folders = {name: out / name for name in ("communes", "packs", "books")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    cli = Cli(cdt_command(), out, quiet)
    missing = [" ".join(words) for words in (("pack",), ("merge",), ("report",)) if not cli.has(*words)]
    if missing:
        print(f"Chưa có lệnh: cdt {', cdt '.join(missing)} — phần này của cdt chưa được cài đặt, "
              "nên chưa dựng được báo cáo huyện. Dừng lại.", file=sys.stderr)
        return 3
    rng = random.Random(SEED)
    months = months_before(date.today(), 3)
    report_month = f"{months[-1][0]:04d}-{months[-1][1]:02d}"
    data = HERE / "data"
    if not all((data / c["file"]).exists() for c in sheets.COMMUNES):
        sheets.write_all(data)

    # The district makes its file first and hands its public key to the communes (a small text
    # file, its fingerprint read over the phone): their packs are then signed and sealed to it.
    print(f"\n== Huyện Đại Từ ({DISTRICT}): khóa cho các xã ==", flush=True)
    district = out / f"huyen-{DISTRICT}.db"
    cli(district, "init", "--district", DISTRICT)
    key_file = out / "khoa-huyen-dai-tu.txt"
    sealing = cli.has("key")
    if sealing:
        exported = cli(district, "key", "export", "--out", str(key_file))
        print(_indent(exported.stdout.strip().splitlines()[-1]), flush=True)
        cli(district, "settings", "set", "require_sealed", "true")

    for commune in sheets.COMMUNES[:communes]:
        print(f"\n== {commune['name']} ({commune['code']}) ==", flush=True)
        db = folders["communes"] / f"{commune['code']}.db"
        cli(db, "init", "--commune", commune["code"], "--structure", "legacy")
        for code, name, aliases in SERVICES:
            cli(db, "service", "add", code, "--name", name, *[a for alias in aliases for a in ("--alias", alias)])
        sheet = data / commune["file"]
        if commune["style"] == "invalid":
            # The clerk first sees what is wrong, then imports the valid rows and fixes the rest later.
            cli(db, "import", str(sheet), "--dry-run", show=True, ok_codes=(1,))
            cli(db, "import", str(sheet), "--only-valid", show=True)
        else:
            cli(db, "import", str(sheet), show=not quiet)
        book = folders["books"] / f"{commune['code']}-so-theo-doi.xlsx"
        count = write_tracking_book(commune, book, months, rng, visits_per_team)
        cli(db, "import", str(book), show=not quiet)
        team = sheets.expected_members(commune)[0]
        cli(db, "visit", "log", "--team", team["hamlet"], "--household", "TT-001", "--people", "2",
            "--service", "vneid", "--service", "C-Thái Nguyên", "--member", team["full_name"],
            "--date", date(*months[-1], 28).strftime("%d/%m/%Y"))
        print(f"    {count + 1} lượt hỗ trợ trong {len(months)} tháng", flush=True)
        if sealing:
            cli(db, "key", "trust", str(key_file), "--yes")
        packed = cli(db, "pack", "--out", str(folders["packs"]))
        print(_indent(packed.stdout.strip().splitlines()[-1]), flush=True)

    print(f"\n== Huyện Đại Từ ({DISTRICT}) ==", flush=True)
    cli(district, "merge", str(folders["packs"]), show=not quiet)
    cli(district, "report", "--district", "--month", report_month, show=True)
    workbook = out / f"bao-cao-huyen-dai-tu-{report_month}.xlsx"
    cli(district, "report", "--district", "--month", report_month, "--xlsx", str(workbook))
    cli(district, "report", "--district", "--month", report_month, "--html", str(workbook.with_suffix(".html")))
    regions.demo(cli, out)

    seconds = time.monotonic() - started
    print(f"\nXong trong {seconds:.0f} giây ({cli.calls} lệnh cdt).")
    print(f"  Báo cáo huyện (Excel): {workbook}")
    print(f"  Tệp dữ liệu huyện:      {district}")
    print(f"  Tệp dữ liệu các xã:     {folders['communes']}")
    print(f"  Gói gửi lên huyện:      {folders['packs']}")
    print(f"  Bảng tính đã nhập:      {data} và {folders['books']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "out", help="output folder (recreated)")
    parser.add_argument("--communes", type=int, default=len(sheets.COMMUNES), help="how many communes")
    parser.add_argument("--small", action="store_true", help="fewer visits (for tests)")
    parser.add_argument("--quiet", action="store_true", help="show only the report and problems")
    args = parser.parse_args(argv)
    try:
        return build(args.out.resolve(), communes=max(1, min(args.communes, len(sheets.COMMUNES))),
                     visits_per_team=(1, 3) if args.small else (4, 9), quiet=args.quiet)
    except Failed as error:
        print(f"\nDừng lại: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
