"""The example communes of three regions (examples/regions.py) through the whole cycle, with the
installed cdt: import each commune's spreadsheet, find every member by a search typed without
apostrophes or diacritics, pack, merge into its district, and check the report against a count of
the example data itself."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import pytest

from cdt.register import lookup
from cdt.store import Store
from cdt.core.text import fold

ROOT = Path(__file__).resolve().parent.parent


def _regions():
    spec = importlib.util.spec_from_file_location("regions", ROOT / "examples" / "regions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REGIONS = _regions()
def _params():
    return [pytest.param(r, id=r["code"]) for r in REGIONS.REGIONS]


def _installed_cdt() -> list[str]:
    for name in ("cdt", "cdt.exe"):
        candidate = Path(sys.executable).with_name(name)
        if candidate.exists():
            return [str(candidate)]
    return [sys.executable, "-m", "cdt"]


def cdt(db: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "CDT_LANG": "vi", "COLUMNS": "160"}
    env.pop("CDT_DB", None)
    return subprocess.run([*_installed_cdt(), "--db", str(db), *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", env=env, timeout=120)


def ok(process: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert process.returncode == 0, process.stdout[-2000:] + process.stderr[-2000:]
    assert "Traceback" not in process.stdout + process.stderr
    return process


def _last_month() -> str:
    """The month a district reports on: the last whole one (a pack made today counts as reported)."""
    first = date.today().replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("regions-data")
    REGIONS.write_all(folder)
    return folder


def test_the_examples_use_real_codes_and_every_region_s_words():
    rows = (ROOT / "cdt" / "data" / "units_legacy.csv").read_text(encoding="utf-8").splitlines()
    official = {tuple(line.split(",")[i] for i in (0, 2, 4, 5)) for line in rows[1:]}
    for region in REGIONS.REGIONS:
        assert (region["province"], region["district"], region["code"], region["name"]) in official
    kinds = {kind for r in REGIONS.REGIONS for _, kind, _, _ in r["hamlets"]}
    assert {"buôn", "thôn", "ấp", "phum", "sóc", "bản"} <= kinds
    names = [m["full_name"] for r in REGIONS.REGIONS for m in r["members"]]
    assert any("'" in n for n in names) and any("’" in n for n in names)  # apostrophes typed both ways
    assert any(len(n.split()) == 1 for n in names) and any(len(n.split()) == 5 for n in names)
    assert any("ŭ" in n for n in names)


@pytest.mark.parametrize("region", _params())
def test_region_commune_imports_packs_merges_and_reports(region, data, tmp_path):
    commune = tmp_path / f"{region['code']}.db"
    ok(cdt(commune, "init", "--commune", region["code"], "--structure", "legacy"))
    imported = ok(cdt(commune, "import", data / region["file"]))
    members = region["members"]
    teams = {m["hamlet"] for m in members}
    assert f"Đã nhập: {len(region['hamlets'])} thôn/xóm, {len(teams)} tổ, {len(members)} thành viên" \
           in imported.stdout

    # Places keep the clerk's kind; names are stored exactly as typed (NFC), apostrophes included.
    hamlets = json.loads(ok(cdt(commune, "hamlet", "list", "--format", "json")).stdout)
    assert sorted((h["name"], h["kind"]) for h in hamlets) == sorted((h[0], h[1]) for h in region["hamlets"])
    listed = json.loads(ok(cdt(commune, "member", "list", "--format", "json")).stdout)
    assert sorted((m["full_name"], m["team"]) for m in listed) == \
        sorted((unicodedata.normalize("NFC", m["full_name"]), m["hamlet"]) for m in members)

    # Every member is found by a search typed without apostrophes, diacritics or capitals, and by
    # the name typed with the other apostrophe.
    store = Store.open(commune)
    try:
        for m in members:
            assert lookup.find_member(store, fold(m["full_name"]))["full_name"] == m["full_name"]
            swapped = m["full_name"].replace("'", "\u02bc").replace("’", "'")
            assert lookup.find_member(store, swapped)["full_name"] == m["full_name"]
    finally:
        store.close()

    packs = tmp_path / "packs"
    ok(cdt(commune, "pack", "--out", packs))
    district = tmp_path / f"huyen-{region['district']}.db"
    ok(cdt(district, "init", "--district", region["district"]))
    ok(cdt(district, "merge", packs))
    month = _last_month()
    report = json.loads(ok(cdt(district, "report", "--district", "--month", month, "--format", "json")).stdout)

    wanted = REGIONS.expected(region)
    # Counted here a second way, straight from the rows of the example data.
    assert wanted["members"] == sum(1 for _ in members)
    assert wanted["hamlets_covered"] == len([h for h in region["hamlets"] if any(m["hamlet"] == h[0] for m in members)])
    row = next(r for r in report["rows"] if r["unit"]["code"] == region["code"])
    for figures in (row, report["total"]):
        assert {key: figures[key] for key in wanted} == wanted
    assert report["total"]["members_trained"] == 0
    assert report["total"]["hamlets_covered_pct"] == round(wanted["hamlets_covered"] / wanted["hamlets"], 6)
    assert [r["unit"]["code"] for r in report["completeness"] if r["reported"]] == [region["code"]]
