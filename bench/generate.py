"""Fixed-seed commune files for the benchmarks, written through the library and packed.

Each commune gets what a real one has in a year (the sizes are parameters): ~25 hamlets with
one team each, ~120 members, a few trainings with attendance, one provincial service and a
year of visits (5,000 by default). Rows are written with ``Store.write()``/``tx.insert`` — the
same code path the commands use, so every row carries a real ``hash``, ``rev`` and history
link — in batches (one transaction per batch), then packed the way the merge code packs.

The random stream is seeded from the seed and the commune code, so a commune's content does not
depend on which other communes are generated with it. Row ids are random UUIDs (the library
makes them), so two runs differ in ids but not in sizes or distributions.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from cdt.domain import units
from cdt.domain.services import DEFAULT_SERVICES
from cdt.core.schema import DOMAIN_TABLES
from cdt.store import Store
from cdt.core.rows import now

# The report month every benchmark asks for; visits cover the twelve months that end with it.
REPORT_YEAR, REPORT_MONTH = 2025, 10
FIRST_DAY = date(2024, 11, 1)
LAST_DAY = date(2025, 10, 31)
SEED = 20251031

_KINDS = ("thôn", "xóm", "bản", "tổ dân phố", "ấp", "buôn")
_SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương")
_MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Thu", "Hữu", "Ngọc", "Quang", "Thanh", "Xuân")
_GIVEN = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hoa", "Hùng", "Lan", "Linh",
          "Long", "Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Yến")
_AFFILIATIONS = ("Đoàn Thanh niên", "Hội Phụ nữ", "Hội Nông dân", "Hội Cựu chiến binh", "Công an xã", None)
_NOTES = ("Hướng dẫn cài VNeID mức 2", "Nộp hồ sơ khai sinh trực tuyến", "Cài ứng dụng ngân hàng",
          "Cảnh báo lừa đảo qua điện thoại", "Đăng ký bán hàng trên sàn")
_SERVICE_CODES = [s["code"] for s in DEFAULT_SERVICES]
# Weights: most visits help with public services, VNeID and payments.
_SERVICE_WEIGHTS = [30, 30, 20, 6, 5, 3, 2, 3, 1]


@dataclass(frozen=True)
class Sizes:
    """Rows per commune; the defaults are a real commune's year."""

    hamlets: int = 25
    members: int = 120
    visits: int = 5000
    trainings: int = 4
    households: int = 1500
    batch: int = 1000  # rows per write transaction (one history link each)


def _rng(seed: int, code: str) -> random.Random:
    return random.Random(f"{seed}:{code}")


def _day(rng: random.Random) -> str:
    return (FIRST_DAY + timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days + 1))).isoformat()


def create_commune(path: Path, unit: units.Unit, sizes: Sizes = Sizes(), seed: int = SEED) -> Path:
    """Write one commune's file at path, through Store.create and Store.write transactions."""
    rng = _rng(seed, unit.code)
    store = Store.create(
        path, level="commune", structure=unit.structure,
        province=(unit.province_code, unit.province_name),
        district=(unit.district_code, unit.district_name),
        commune=(unit.code, unit.name),
    )
    # Generation speed only: the measured merges run with cdt's own settings on other files.
    store.conn.execute("PRAGMA synchronous = OFF")
    try:
        teams: list[dict] = []
        members_of: dict[str, list[str]] = {}
        with store.write() as tx:
            for n in range(sizes.hamlets):
                households = rng.randrange(80, 400)
                kind = rng.choice(_KINDS)
                hamlet = tx.insert("hamlet", {
                    "name": f"{kind.capitalize()} {n + 1}", "kind": kind,
                    "households": households, "working_age": households * rng.randrange(2, 4),
                })
                team = tx.insert("team", {
                    "hamlet_id": hamlet["id"],
                    "decision_number": f"{rng.randrange(1, 300)}/QĐ-UBND" if rng.random() < 0.8 else None,
                    "decision_date": "2024-03-15", "founded_on": "2024-03-15", "status": "active",
                    "dissolved_on": None,
                })
                teams.append(team)
                members_of[team["id"]] = []
            member_ids: list[str] = []
            for n in range(sizes.members):
                team = teams[n % len(teams)]
                role = "leader" if n < len(teams) else ("deputy" if n < 2 * len(teams) else "member")
                member = tx.insert("member", {
                    "team_id": team["id"],
                    "full_name": f"{rng.choice(_SURNAMES)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}",
                    "gender": rng.choice(("male", "female")), "birth_year": rng.randrange(1960, 2006),
                    "phone": f"09{rng.randrange(10**8):08d}", "role": role,
                    "affiliation": rng.choice(_AFFILIATIONS), "joined_on": "2024-03-15", "left_on": None,
                })
                members_of[team["id"]].append(member["id"])
                member_ids.append(member["id"])
            for n in range(sizes.trainings):
                training = tx.insert("training", {
                    "topic": f"Tập huấn kỹ năng số đợt {n + 1}", "date": _day(rng),
                    "organiser": "UBND xã", "mode": rng.choice(("in_person", "online")),
                })
                for member_id in rng.sample(member_ids, k=min(len(member_ids), rng.randrange(20, 60))):
                    tx.insert("training_attendance", {"training_id": training["id"], "member_id": member_id})
            tx.insert("service", {"code": f"c-{unit.province_code}", "name": f"Ứng dụng {unit.province_name}",
                                  "aliases": json.dumps([f"app {unit.province_code}"])})
        add_visits(store, teams, members_of, sizes.visits, rng, sizes)
    finally:
        store.close()
    return path


def add_visits(store: Store, teams: list[dict], members_of: dict[str, list[str]], count: int,
               rng: random.Random, sizes: Sizes = Sizes()) -> None:
    """Log count visits in transactions of sizes.batch rows."""
    done = 0
    while done < count:
        with store.write() as tx:
            for _ in range(min(sizes.batch, count - done)):
                team = rng.choice(teams)
                crew = members_of[team["id"]] or [""]
                services = sorted(set(rng.choices(_SERVICE_CODES, _SERVICE_WEIGHTS, k=rng.randrange(1, 4))))
                tx.insert("visit", {
                    "date": _day(rng), "team_id": team["id"],
                    "household": f"HGD-{rng.randrange(sizes.households):05d}",  # ASCII: models.parse_household
                    "people": rng.randrange(1, 6), "services": json.dumps(services),
                    "members": json.dumps(sorted(rng.sample(crew, k=min(len(crew), rng.randrange(1, 3))))),
                    "notes": rng.choice(_NOTES) if rng.random() < 0.3 else None,
                })
                done += 1


def pack(source: Path, out_dir: Path) -> Path:
    """A pack of source in out_dir, made by ``cdt pack``'s library function (before that existed,
    by the same steps: VACUUM INTO, then packed_at set), named after the source file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / (source.stem + ".cdt")
    maker = _library_pack()
    if maker is not None:
        return maker(source, target)
    target.unlink(missing_ok=True)
    conn = sqlite3.connect(str(source))
    try:
        conn.execute("VACUUM INTO ?", (str(target),))
    finally:
        conn.close()
    conn = sqlite3.connect(str(target), isolation_level=None)
    try:
        conn.execute("UPDATE site SET packed_at = ?", (now(),))
    finally:
        conn.close()
    return target


def _library_pack():
    """cdt's own pack (cdt.pack.make_pack) as (source, target) -> path, or None before it exists."""
    try:
        from cdt.exchange.pack import make_pack
    except ImportError:
        return None

    def adapted(source: Path, target: Path) -> Path:
        with Store.open(source) as store:
            made = make_pack(store, target.parent / ".new").path
        target.unlink(missing_ok=True)
        shutil.move(str(made), target)
        return target

    return adapted


def plain(path: Path) -> Path:
    """The SQLite snapshot of a pack (cdt pack signs, and may seal, a container around it: see
    docs/pack-format.md), for the raw-SQL baselines; a SQLite file is its own snapshot. Packs made
    here are signed but not sealed (no district key is trusted), so no key is needed to open them."""
    with open(path, "rb") as handle:
        if handle.read(16) == b"SQLite format 3\x00":
            return path
    inner = path.with_name(path.name + ".sqlite")
    if not inner.exists() or inner.stat().st_mtime < path.stat().st_mtime:
        from cdt.exchange import packfile

        packfile.extract_content(path, packfile.read_verified(path), inner, None)
    return inner


def row_count(path: Path) -> int:
    """Domain rows plus history links in a file: the rows a merge moves."""
    conn = sqlite3.connect(f"file:{plain(path)}?mode=ro", uri=True)
    try:
        present = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
        total = conn.execute("SELECT count(*) FROM history").fetchone()[0]
        for table in DOMAIN_TABLES:
            if table in present:
                total += conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        return total
    finally:
        conn.close()


def communes_of(district_code: str, count: int) -> list[units.Unit]:
    """The first count communes (by code) of a legacy district."""
    district = units.get(district_code, level="district", structure=units.LEGACY)
    if district is None:
        raise ValueError(f"no legacy district {district_code}")
    found = units.communes_in(district)
    if count > len(found):
        raise ValueError(f"district {district_code} has only {len(found)} communes")
    return found[:count]


def make_packs(communes: list[units.Unit], work: Path, sizes: Sizes = Sizes(), seed: int = SEED,
               tag: str = "") -> list[Path]:
    """Generate and pack each commune; files live under work/communes and work/packs."""
    packs = []
    for unit in communes:
        name = f"xa-{unit.code}{tag}"
        source = work / "communes" / f"{name}.db"
        source.unlink(missing_ok=True)
        create_commune(source, unit, sizes, seed)
        packs.append(pack(source, work / "packs"))
    return packs
