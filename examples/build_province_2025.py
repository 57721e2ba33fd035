#!/usr/bin/env python3
"""Today's structure (from 1 July 2025): communes report straight to their province.

Everything goes through the installed ``cdt`` commands, as clerks and a provincial officer type them:

1. Xã Hòa Phú (2025 code 24175, Đắk Lắk) was formed from the legacy communes Hòa Phú (24172) and
   Hòa Khánh (24175 in the old list). Each old clerk had a file; the new commune starts from both:
   ``cdt init --commune 24175 --from hoa-phu-cu.db --from hoa-khanh-cu.db``.
2. The new commune goes on: a hamlet, its team and a visit, then a pack for the stick (``cdt pack``).
3. Phường Tuy Hòa (22015) starts fresh in the 2025 structure and packs too.
4. The province (``cdt init --province 66 --structure 2025``) merges both packs and writes the
   month's report, one row per commune, to the terminal and to Excel (``cdt report --province``).

Output goes to ``examples/out-2025/`` (recreated on each run), or to ``--out DIR``.
Run: ``make demo`` (first), or ``.venv/bin/python examples/build_province_2025.py``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_district import cdt_command  # noqa: E402  (one way to find the installed cdt)

HERE = Path(__file__).resolve().parent
MONTH = date(date.today().year - (date.today().month == 1), (date.today().month - 2) % 12 + 1, 1)
DAY = MONTH.replace(day=12).strftime("%d/%m/%Y")


def run(db: Path, *args: str, show: bool = True) -> str:
    """Run one cdt command on db as a clerk would; stop the demo if it fails."""
    argv = [*cdt_command(), "--db", str(db), *args]
    done = subprocess.run(argv, capture_output=True, text=True, encoding="utf-8", stdin=subprocess.DEVNULL)
    if show:
        print("$ cdt " + " ".join(f'"{a}"' if " " in a else a for a in args))
        print(done.stdout + done.stderr, end="" if (done.stdout + done.stderr).endswith("\n") else "\n")
    if done.returncode != 0:
        raise SystemExit(f"cdt {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def old_commune(db: Path, code: str, hamlet: str, leader: str, households: list[tuple[str, int, str]]) -> None:
    """A legacy commune's file as its clerk kept it until mid-2025."""
    run(db, "init", "--commune", code, "--structure", "legacy", show=False)
    run(db, "hamlet", "add", hamlet, "--kind", "buôn" if hamlet.startswith("Buôn") else "thôn",
        "--households", "120", show=False)
    run(db, "team", "add", "--hamlet", hamlet, "--decision", "15/QĐ-UBND", "--decided-on", "10/03/2023", show=False)
    run(db, "member", "add", leader, "--team", hamlet, "--role", "tổ trưởng", show=False)
    run(db, "member", "add", f"H {leader.split()[-1]} Niê", "--team", hamlet, show=False)
    for household, people, service in households:
        run(db, "visit", "log", "--team", hamlet, "--household", household, "--people", str(people),
            "--service", service, "--date", DAY, show=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "out-2025")
    out = parser.parse_args().out
    shutil.rmtree(out, ignore_errors=True)
    stick = out / "usb"
    out.mkdir(parents=True)

    print("== 1. Hai xã cũ hợp nhất thành Xã Hòa Phú (2025) ==")
    old_commune(out / "hoa-phu-cu.db", "24172", "Buôn Kô Tam", "Y Moan Ayun",
                [("KT-001", 3, "vneid"), ("KT-002", 2, "dvc")])
    old_commune(out / "hoa-khanh-cu.db", "24175", "Thôn 4", "Nguyễn Văn Hùng",
                [("T4-010", 4, "payment")])
    new = out / "hoa-phu.db"
    run(new, "init", "--commune", "24175", "--from", str(out / "hoa-phu-cu.db"), "--from", str(out / "hoa-khanh-cu.db"))

    print("== 2. Xã mới ghi tiếp và đóng gói ==")
    run(new, "hamlet", "add", "Buôn Ea Tiêu", "--kind", "buôn", "--households", "90")
    run(new, "team", "add", "--hamlet", "ea tieu", "--decision", "03/QĐ-UBND", "--decided-on", "15/08/2025")
    run(new, "member", "add", "H Lan Niê", "--team", "ea tieu", "--role", "tổ trưởng")
    run(new, "visit", "log", "--team", "ea tieu", "--household", "ET-003", "--people", "2", "--service", "vneid",
        "--date", DAY, "--member", "h lan")
    run(new, "pack", "--out", str(stick))

    print("== 3. Một phường bắt đầu theo danh mục mới ==")
    ward = out / "tuy-hoa.db"
    run(ward, "init", "--commune", "22015", "--structure", "2025")
    run(ward, "hamlet", "add", "Khu phố 1", "--kind", "khu phố", "--households", "300", show=False)
    run(ward, "team", "add", "--hamlet", "khu pho 1", "--decided-on", "01/09/2025", show=False)
    run(ward, "member", "add", "Trần Thị Mai", "--team", "khu pho 1", "--role", "tổ trưởng", show=False)
    run(ward, "visit", "log", "--team", "khu pho 1", "--household", "KP1-07", "--people", "3",
        "--service", "dvc", "--service", "payment", "--date", DAY, show=False)
    run(ward, "pack", "--out", str(stick))

    print("== 4. Tỉnh Đắk Lắk gộp và báo cáo ==")
    province = out / "dak-lak.db"
    run(province, "init", "--province", "66", "--structure", "2025")
    run(province, "merge", str(stick))
    run(province, "report", "--province", "--month", MONTH.strftime("%Y-%m"), "--xlsx", str(out / "bao-cao-tinh.xlsx"))


if __name__ == "__main__":
    main()
