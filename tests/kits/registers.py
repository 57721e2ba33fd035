"""Commune registers written straight through ``Store.write`` (random histories the commands would
refuse to backdate: dissolved teams, members who left, tombstones), a district made of them, and a
commune whose names look like spreadsheet formulas."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import date, timedelta
from pathlib import Path

from cdt.domain import units
from cdt.store import Store


DC = {"dvc", "vneid", "payment"}  # the default digital-citizen services


CODES = ["dvc", "vneid", "payment", "ecommerce", "ehealth", "ctn"]


DISTRICT_COMMUNES = ["05761", "05767", "05770"]


LAST_DAY = date(2027, 2, 28)


def _day(rng: random.Random, first: date = date(2025, 10, 1), last: date | None = None) -> str:
    last = max(first, last or LAST_DAY)
    return (first + timedelta(days=rng.randrange((last - first).days + 1))).isoformat()


def create_commune(path: Path, code: str, structure: str = "legacy") -> Store:
    unit = units.get(code, level="commune", structure=structure)
    return Store.create(path, level="commune", structure=structure,
                        province=(unit.province_code, unit.province_name),
                        district=(unit.district_code, unit.district_name), commune=(unit.code, unit.name))


def generate(store: Store, seed: int) -> dict:
    """Random register rows for one commune; returns the rows as written (deleted flags included)."""
    rng = random.Random(seed)
    commune = store.site.commune_code
    data = {k: [] for k in ("hamlet", "team", "member", "training", "attendance", "visit")}

    def keep(kind: str, row: dict) -> dict:
        row = dict(row, commune=commune)
        data[kind].append(row)
        return row

    with store.write() as tx:
        for i in range(rng.randint(3, 5)):
            keep("hamlet", tx.insert("hamlet", {"name": f"Xóm {i} {commune}", "kind": "xóm",
                                                "households": rng.choice([None, rng.randint(20, 200)]),
                                                "working_age": rng.choice([None, rng.randint(50, 500)])}))
        for hamlet in data["hamlet"]:
            active_here = False
            for _ in range(rng.randint(0, 2)):
                founded = rng.choice([None, _day(rng)])
                # One active team a hamlet, as the commands allow (and the merge checks).
                dissolved = rng.random() < 0.3 or active_here
                active_here = active_here or not dissolved
                dissolved_on = (_day(rng, date.fromisoformat(founded) if founded else date(2025, 10, 1))
                                if dissolved else None)
                keep("team", tx.insert("team", {
                    "hamlet_id": hamlet["id"], "decision_number": rng.choice([None, "", f"{rng.randint(1, 99)}/QĐ"]),
                    "decision_date": None, "founded_on": founded,
                    "status": "dissolved" if dissolved else "active", "dissolved_on": dissolved_on}))
        for team in data["team"]:
            for j in range(rng.randint(0, 4)):
                joined = rng.choice([None, _day(rng)])
                left = _day(rng, date.fromisoformat(joined) if joined else date(2025, 10, 1)) \
                    if rng.random() < 0.3 else None
                keep("member", tx.insert("member", {"team_id": team["id"], "full_name": f"Người {j}",
                                                    "role": "member", "joined_on": joined, "left_on": left}))
        for k in range(3):
            keep("training", tx.insert("training", {"topic": f"Lớp {k}", "date": _day(rng)}))
        for member in data["member"]:
            for training in data["training"]:
                if rng.random() < 0.4:
                    keep("attendance", tx.insert("training_attendance",
                                                 {"training_id": training["id"], "member_id": member["id"]}))
        if data["team"]:
            for _ in range(80):
                services = rng.sample(CODES, rng.randint(1, 3))
                keep("visit", tx.insert("visit", {
                    "date": _day(rng), "team_id": rng.choice(data["team"])["id"],
                    "household": f"H{rng.randint(1, 25)}", "people": rng.randint(1, 5),
                    "services": json.dumps(services), "members": "[]", "notes": None}))
    # Tombstones: a few of every kind, written like the register deletes them: a hamlet or a team
    # goes together with what uses it (its teams; its members and visits), as `remove --cascade` does.
    tables = {"hamlet": "hamlet", "team": "team", "member": "member", "training": "training",
              "attendance": "training_attendance", "visit": "visit"}

    def remove(tx, kind: str, row: dict) -> None:
        if row["deleted"]:
            return
        tx.delete(tables[kind], row["id"])
        row["deleted"] = 1
        if kind == "hamlet":
            for team in data["team"]:
                if team["hamlet_id"] == row["id"]:
                    remove(tx, "team", team)
        elif kind == "team":
            for child in ("member", "visit"):
                for used in data[child]:
                    if used["team_id"] == row["id"]:
                        remove(tx, child, used)

    with store.write() as tx:
        for kind in tables:
            rows = data[kind]
            for row in rng.sample(rows, max(1, len(rows) // 8)) if rows else []:
                remove(tx, kind, row)
    return data


def hamlet_unit(kind, row, teams):
    if kind == "hamlet":
        return row["id"]
    if kind == "team":
        return row["hamlet_id"]
    return teams[row["team_id"]]["hamlet_id"]


def commune_unit(kind, row, teams):
    return row["commune"]


def merge_into(district: Path, commune_files: list[Path], packed_at: dict[str, str | None]) -> None:
    """Stand-in for pack + merge: copy every row with its origin, and record each origin.

    packed_at maps a commune code to the pack time to record (None: that commune never sent a pack).
    """
    conn = sqlite3.connect(district)
    for path in commune_files:
        conn.execute("ATTACH DATABASE ? AS src", (str(path),))
        site = conn.execute("SELECT * FROM src.site").fetchone()
        cols = [d[0] for d in conn.execute("SELECT * FROM src.site").description]
        site = dict(zip(cols, site))
        when = packed_at.get(site["commune_code"])
        if when is not None:
            for table in ("hamlet", "team", "member", "training", "training_attendance", "visit", "service"):
                conn.execute(f"INSERT INTO main.{table} SELECT * FROM src.{table}")
            conn.execute(
                "INSERT INTO origin (db_id, level, structure, province_code, district_code, commune_code, unit_name,"
                " clock, packed_at, merged_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (site["db_id"], "commune", site["structure"], site["province_code"], site["district_code"],
                 site["commune_code"], site["commune_name"], site["clock"], when, "2027-03-02T09:00:00"))
        conn.commit()
        conn.execute("DETACH DATABASE src")
    conn.close()


def make_district(tmp_path: Path, packed_at: dict[str, str | None]) -> tuple[Path, dict]:
    files, everything = [], {k: [] for k in ("hamlet", "team", "member", "training", "attendance", "visit")}
    for n, code in enumerate(DISTRICT_COMMUNES):
        path = tmp_path / f"{code}.db"
        store = create_commune(path, code)
        data = generate(store, 100 + n)
        store.close()
        files.append(path)
        if packed_at.get(code) is not None:
            for kind, rows in data.items():
                everything[kind].extend(rows)
    district = tmp_path / "huyen.db"
    unit = units.get("171", level="district", structure="legacy")
    Store.create(district, level="district", structure="legacy", province=(unit.province_code, unit.province_name),
                 district=(unit.code, unit.name)).close()
    merge_into(district, files, packed_at)
    return district, everything


def hostile_commune(cdt, path):
    """Hamlets, a team, a member and a visit whose names a spreadsheet would take for formulas."""
    from cdt.register.records import add_hamlet

    # Through the library: a name starting with "-" reads as an option on a command line.
    with Store.open(path) as store:
        for name in ("=1+1", "@SUM(A1)", "-2+3", "+84 xóm", "Xóm \"Một\", Hai"):
            add_hamlet(store, name, "xóm", 10)
    assert cdt("team", "add", "--hamlet", "=1+1", "--founded-on", "01/01/2026").exit_code == 0
    assert cdt("member", "add", "=HYPERLINK(\"http://x\")", "--team", "=1+1").exit_code == 0
    assert cdt("visit", "log", "--team", "=1+1", "--household", "H1", "--people", "2", "--service", "dvc",
               "--date", "05/10/2026").exit_code == 0
