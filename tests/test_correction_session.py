"""A clerk's session through the installed `cdt`: one of each record, the mistakes a new clerk makes,
each corrected with the correction commands or `cdt undo`, packed and merged at the district, whose
report then shows exactly the corrected figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CDT = Path(sys.executable).parent / ("cdt.exe" if os.name == "nt" else "cdt")


def run(db: Path, *args: str, code: int = 0) -> str:
    env = {**os.environ, "CDT_DB": str(db)}
    done = subprocess.run([str(CDT), *args], capture_output=True, text=True, encoding="utf-8", env=env,
                          stdin=subprocess.DEVNULL, timeout=120)
    assert done.returncode == code, (args, done.stdout, done.stderr)
    return done.stdout if code == 0 else done.stderr


def refs(db: Path, what: str) -> list[dict]:
    return json.loads(run(db, what, "list", "--format", "json"))


def test_clerk_corrects_every_mistake_and_the_district_sees_the_corrected_figures(tmp_path):
    db = tmp_path / "Hùng Sơn.db"
    run(db, "init", "--commune", "05761", "--structure", "legacy")
    # One of each record, with the mistakes a new clerk makes.
    run(db, "hamlet", "add", "Xóm Đồng Tiến", "--kind", "xóm", "--households", "120")
    run(db, "hamlet", "add", "Xom Dong Tien", "--kind", "xóm")  # typed twice, without diacritics
    run(db, "hamlet", "add", "Xóm Hai", "--kind", "xóm", "--households", "80")
    run(db, "team", "add", "--hamlet", "Xóm Đồng Tiến", "--decided-on", "01/06/2022")
    hamlets = {h["name"]: h["ref"] for h in refs(db, "hamlet")}
    run(db, "team", "add", "--hamlet", hamlets["Xom Dong Tien"])  # a team on the wrong (duplicate) hamlet
    run(db, "team", "add", "--hamlet", "Xóm Hai", "--decided-on", "01/06/2022")
    run(db, "member", "add", "Lê Thị Bình", "--team", "Xóm Đồng Tiến", "--role", "tổ trưởng",
        "--birth-year", "1990", "--phone", "0912345678")
    run(db, "member", "add", "Trần Văn Cường", "--team", "Xóm Đồng Tiến")
    run(db, "member", "add", "Đỗ Thị Hà", "--team", "Xóm Hai", "--role", "tổ trưởng")
    run(db, "member", "add", "Nguyen Van Sai", "--team", "Xóm Hai")  # not a member at all
    run(db, "training", "add", "VNeID mức 2", "--date", "01/03/2026")
    run(db, "training", "add", "VNeID mức 2", "--date", "10/03/2026")  # the date typed wrong, entered again
    run(db, "service", "add", "ctn", "--name", "C-Thái Nguyên")
    # Free text with personal data is refused with a reason.
    refused = run(db, "visit", "log", "--team", "Xóm Hai", "--household", "HD-07", "--people", "2",
                  "--service", "ctn", "--date", "07/10/2026", "--notes", "SĐT 0912 345 678", code=1)
    assert "số điện thoại" in refused
    refused = run(db, "visit", "log", "--team", "Xóm Hai", "--household", "001.234.567.890", "--people", "2",
                  "--service", "ctn", "--date", "07/10/2026", code=1)
    assert "CMND/CCCD" in refused
    run(db, "visit", "log", "--team", "Xóm Đồng Tiến", "--household", "DT-014", "--people", "3",
        "--service", "vneid", "--date", "05/10/2026", "--member", "Lê Thị Bình")
    run(db, "visit", "log", "--team", "Xóm Hai", "--household", "HD-07", "--people", "20",  # 2, not 20
        "--service", "ctn", "--date", "07/10/2026", "--notes", "hướng dẫn cài ứng dụng")
    run(db, "visit", "log", "--team", "Xóm Hai", "--household", "HD-08", "--people", "1",  # never happened
        "--service", "dvc", "--date", "08/10/2026", "--notes", "bà cụ không ở nhà")

    # Corrections.
    # Which training? The list tells them apart by date and shows the reference to answer with.
    listed = run(db, "training", "attend", "VNeID", "--member", "Lê Thị Bình", code=1)
    trainings = {r["date"]: r["ref"] for r in refs(db, "training")}
    assert f"01/03/2026 [{trainings['2026-03-01']}]" in listed and f"10/03/2026 [{trainings['2026-03-10']}]" in listed
    run(db, "training", "remove", trainings["2026-03-10"], "--yes")
    run(db, "training", "attend", "VNeID", "--member", "Lê Thị Bình", "--member", "Trần Văn Cường")
    run(db, "training", "unattend", "VNeID", "--member", "Trần Văn Cường")  # he was not there
    refused = run(db, "hamlet", "remove", hamlets["Xom Dong Tien"], "--yes", code=1)
    assert "đang được dùng bởi 1 tổ" in refused
    run(db, "hamlet", "remove", hamlets["Xom Dong Tien"], "--yes", "--cascade")
    run(db, "member", "remove", "Nguyen Van Sai", "--yes")
    visits = {v["household"]: v["ref"] for v in refs(db, "visit")}
    run(db, "visit", "edit", visits["HD-07"], "--people", "2")
    run(db, "visit", "remove", visits["HD-08"])
    # A last mistake taken back with undo: a hamlet edit that was wrong.
    run(db, "hamlet", "edit", "Xóm Hai", "--households", "8")
    history = json.loads(run(db, "history", "--limit", "1", "--format", "json"))
    assert history[0]["description"] == "sửa thôn Xóm Hai"
    run(db, "undo", "--yes")

    # Pack, merge at the district, read the report.
    packed = Path(run(db, "pack", "--out", str(tmp_path / "USB")).strip().splitlines()[-1])
    content = packed.read_bytes()
    assert "bà cụ không ở nhà".encode() not in content and "Nguyen Van Sai".encode() not in content
    district = tmp_path / "district.db"
    run(district, "init", "--district", "171")
    run(district, "merge", str(packed))
    report = json.loads(run(district, "report", "--district", "--month", "2026-10", "--format", "json"))
    total = report["total"]
    assert (total["hamlets"], total["teams"], total["members"], total["members_trained"]) == (2, 2, 3, 1)
    assert (total["visits"]["month"], total["people_helped"]["month"], total["households_reached"]["month"]) == (2, 5, 2)
    assert total["hamlets_covered"] == 2
