"""What signing and sealing cost: cdt pack and cdt merge with and without them.

    .venv/bin/python -m bench.keys [--communes N] [--visits N] [--reps N] [--json]

Three variants of the same commune files, each packed and merged into a fresh district file:

- ``plain``: the pack as before signed packs (the SQLite snapshot alone), merged without the
  container step (cdt's pack and merge with the container steps replaced by "pass the snapshot
  through": the same code otherwise, so the difference is the signing and sealing alone);
- ``signed``: signed, content in clear (a commune that has not trusted its district's key);
- ``sealed``: signed and sealed to the district (the normal case after ``cdt key trust``).

Figures are medians over --reps runs, interleaved (the order turns each round; one warm-up round
is not counted), as wall-clock seconds and as this process's CPU seconds (steadier on a shared
machine: other programs' load does not count in it, the fsyncs' waiting does not either), and the
ratios signed/plain and sealed/plain (target: ≤ 1.10, i.e. at most 10% extra).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from bench import generate
from bench.generate import Sizes

TARGET = 1.10


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


@contextmanager
def _plain_packs():
    """cdt pack and cdt merge without the container: the baseline."""
    from cdt.exchange import keys, merge, pack
    from cdt.core.files import sha256_file

    saved = pack.seal_and_sign, merge.open_pack, keys.check_inner

    def passthrough(store, snapshot, out, packed_at):
        return snapshot, sha256_file(snapshot)  # what cdt pack did before signed packs

    def open_plain(target, staged, staging, result):
        return keys.Opened(inner=staged, header=None, fingerprint="", first_use=False)

    pack.seal_and_sign, merge.open_pack, keys.check_inner = passthrough, open_plain, lambda *a: None
    try:
        yield
    finally:
        pack.seal_and_sign, merge.open_pack, keys.check_inner = saved


def _pack_all(sources: list[Path], out: Path) -> tuple[tuple[float, float], list[Path]]:
    from cdt.exchange.pack import make_pack
    from cdt.store import Store

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    made = []
    started, cpu = time.perf_counter(), time.process_time()
    for source in sources:
        with Store.open(source) as store:
            made.append(make_pack(store, out).path)
    return (time.perf_counter() - started, time.process_time() - cpu), made


def _merge_all(empty_district: Path, packs: list[Path], work: Path) -> tuple[float, float]:
    from cdt.exchange.batch import merge_files
    from cdt.store import Store

    target = work / "target.db"
    target.unlink(missing_ok=True)
    shutil.copyfile(empty_district, target)
    with Store.open(target) as store:
        started, cpu = time.perf_counter(), time.process_time()
        results = merge_files(store, packs)
        seconds = (time.perf_counter() - started, time.process_time() - cpu)
    refused = [r.reason for r in results if not r.ok]
    if refused:
        raise RuntimeError("refused: " + "; ".join(refused))
    return seconds


def run(communes: int, visits: int, reps: int, work: Path) -> dict:
    from cdt.exchange import keys
    from cdt.store import Store
    from bench.__main__ import create_target

    units = generate.communes_of("380", communes)
    sizes = Sizes(visits=visits)
    district = create_target(work / "district.db", "district", units[0].district_code)
    clear_sources, sealed_sources = [], []
    for unit in units:
        source = work / "communes" / f"xa-{unit.code}.db"
        source.parent.mkdir(parents=True, exist_ok=True)
        generate.create_commune(source, unit, sizes)
        twin = work / "communes" / f"xa-{unit.code}-sealed.db"
        shutil.copyfile(source, twin)
        with Store.open(twin) as below, Store.open(district) as upper:
            keys.trust_upper(below, upper)
        clear_sources.append(source)
        sealed_sources.append(twin)
    variants = ["plain", "signed", "sealed"]
    times: dict[str, dict[str, list[float]]] = {
        v: {"pack": [], "merge": [], "pack_cpu": [], "merge_cpu": []} for v in variants}
    size: dict[str, int] = {}
    rows = 0
    for rep in range(reps + 1):  # the first round warms caches and imports, and is not counted
        # The order turns each round, so that a burst of load elsewhere does not always hit one variant.
        for variant in variants[rep % 3:] + variants[:rep % 3]:
            sources = sealed_sources if variant == "sealed" else clear_sources
            out = work / "packs" / variant
            if variant == "plain":
                with _plain_packs():
                    seconds, packs = _pack_all(sources, out)
                    merged = _merge_all(district, packs, work)
            else:
                seconds, packs = _pack_all(sources, out)
                merged = _merge_all(district, packs, work)
            if variant == "signed":
                rows = sum(generate.row_count(p) for p in packs)
            if rep:
                times[variant]["pack"].append(seconds[0])
                times[variant]["merge"].append(merged[0])
                times[variant]["pack_cpu"].append(seconds[1])
                times[variant]["merge_cpu"].append(merged[1])
            size[variant] = sum(p.stat().st_size for p in packs)
    medians = {v: {k: round(_median(t), 4) for k, t in parts.items()} for v, parts in times.items()}
    ratios = {}
    for variant in ("signed", "sealed"):
        for clock in ("", "_cpu"):
            for step in ("pack", "merge"):
                ratios[f"{step}{clock}_{variant}_vs_plain"] = round(
                    medians[variant][step + clock] / medians["plain"][step + clock], 3)
            ratios[f"pack_and_merge{clock}_{variant}_vs_plain"] = round(
                (medians[variant]["pack" + clock] + medians[variant]["merge" + clock])
                / (medians["plain"]["pack" + clock] + medians["plain"]["merge" + clock]), 3)
    crypto = _crypto_alone(size["plain"] // communes, reps)
    per_pack = (medians["plain"]["pack_cpu"] + medians["plain"]["merge_cpu"]) / communes
    ratios["crypto_alone_vs_plain_cpu"] = round(1 + crypto["total_ms"] / 1000 / per_pack, 3)
    return {"communes": communes, "visits_per_commune": visits, "rows": rows, "reps": reps,
            "pack_bytes": size, "seconds": medians, "crypto_ms_per_pack": crypto, "ratios": ratios,
            "target": TARGET}


def _crypto_alone(size: int, reps: int) -> dict:
    """The cryptography alone on one pack's worth of bytes (steady even on a busy machine): what
    signing and sealing add to a pack and a merge, whatever the noise around the other figures."""
    import hashlib
    import os

    from nacl.public import PrivateKey, SealedBox
    from nacl.signing import SigningKey

    data = os.urandom(size)
    seal, sign = PrivateKey.generate(), SigningKey.generate()
    steps = {"seal": [], "open": [], "sha256_x3": [], "sign_verify": []}
    for _ in range(max(reps, 3)):
        started = time.process_time()
        box = SealedBox(seal.public_key).encrypt(data)
        steps["seal"].append(time.process_time() - started)
        started = time.process_time()
        SealedBox(seal).decrypt(box)
        steps["open"].append(time.process_time() - started)
        started = time.process_time()
        for _ in range(3):  # the content's and the container's hash at packing, the check at merging
            hashlib.sha256(box).digest()
        steps["sha256_x3"].append(time.process_time() - started)
        started = time.process_time()
        sign.verify_key.verify(sign.sign(b"header" * 60))
        steps["sign_verify"].append(time.process_time() - started)
    found = {name: round(_median(values) * 1000, 2) for name, values in steps.items()}
    found["total_ms"] = round(sum(found.values()), 2)
    return found


def _table(result: dict) -> str:
    lines = [f"{result['communes']} communes, {result['rows']:,} rows, median of {result['reps']} runs",
             f"{'variant':<8} {'pack s':>8} {'merge s':>8} {'pack cpu':>9} {'merge cpu':>10} {'bytes':>12}"]
    for variant, figures in result["seconds"].items():
        lines.append(f"{variant:<8} {figures['pack']:>8.3f} {figures['merge']:>8.3f} {figures['pack_cpu']:>9.3f}"
                     f" {figures['merge_cpu']:>10.3f} {result['pack_bytes'][variant]:>12,}")
    crypto = result["crypto_ms_per_pack"]
    lines.append("cryptography alone per pack (ms CPU): " + ", ".join(f"{k} {v}" for k, v in crypto.items()))
    for name, ratio in result["ratios"].items():
        mark = "ok" if ratio <= result["target"] else "MISS"
        lines.append(f"{name:<36} {ratio:>6.3f}  (target ≤ {result['target']:.2f}: {mark})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.keys", description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=6)
    parser.add_argument("--visits", type=int, default=5000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cdt-bench-keys-") as folder:
        result = run(args.communes, args.visits, args.reps, Path(folder))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        print(_table(result), file=sys.stderr)
    else:
        print(_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
