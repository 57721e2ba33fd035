"""Merge a run of several files: checks ahead in a worker thread, up to nine checked files to a transaction.

Every file still goes through merge.merge_file, and every outcome equals merging the files one
after another (DESIGN.md §3.2): a failure sinks no other file (see ``_apply_batch``).
"""

from __future__ import annotations

import queue
import shutil
import sqlite3
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from cdt.core import files as temp_folders
from cdt.core.errors import CdtError, FileRefused, InvalidInput, StoreError, is_locked
from cdt.core.text import clean_text
from cdt.exchange import keys
from cdt.exchange.conflicts import list_conflicts
from cdt.exchange.merge import INCOMING_CACHE_KIB, FileResult, Prepared, apply, merge_file, prepare
from cdt.exchange.packfile import PACK_SUFFIX
from cdt.store import Store, connect


@dataclass
class Batch:
    """The outcome of one ``cdt merge``: a result per file, and the conflicts open afterwards."""

    results: list[FileResult]
    open_conflicts: int


# Checked files sharing one transaction (SQLite ATTACHes at most 10 databases). On this machine
# each commit's sync, not the SQL, dominates a small pack's merge (DESIGN.md §3.2).
GROUP_FILES = 9
# The target's page cache, bounded (KiB): enough for the B-tree paths a growing district or
# province file keeps hot (random ids land anywhere in three indexes), small enough that a
# merge's memory does not follow the size of the file.
TARGET_CACHE_KIB = 12288


def _expand(paths: Iterable[str | Path]) -> list[tuple[Path, CdtError | None]]:
    """The files to merge: each file named, and every ``*.cdt`` pack inside each folder named. A
    folder without packs (or unreadable) comes back with its error, so it is reported for that
    argument alone and the other arguments are still merged."""
    found: list[tuple[Path, CdtError | None]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            try:
                packs = sorted(p for p in path.iterdir() if p.suffix.lower() == PACK_SUFFIX and p.is_file())
            except OSError as error:
                found.append((path, FileRefused("merge.cannot_read", reason=clean_text(error.strerror or error))))
                continue
            if not packs:
                found.append((path, InvalidInput("merge.no_packs", path=clean_text(path))))
            found.extend((p, None) for p in packs)
        else:
            found.append((path, None))
    return found


def tune_target(conn: sqlite3.Connection) -> None:
    """The merge target's connection settings (the benchmark's raw baseline uses the same ones):
    the store's rollback journal and full sync (store.connect), and a bounded page cache."""
    conn.execute(f"PRAGMA cache_size = -{TARGET_CACHE_KIB}")


def _refused_entry(path: Path, error: CdtError) -> Prepared:
    return Prepared(path=path, result=FileResult(path=str(path), name=clean_text(path.name) or "?", error=error))


_ALONE = ("merge.second_file", "merge.replaces_unknown", "merge.replaces_again")


def _apply_batch(target: Store, batch: list[Prepared], replaces: str | None,
                 progress: Callable[[str], None] | None = None) -> None:
    """Hand each file of the batch to merge_file, in order; the checked ones share one transaction:
    all of them or none (DESIGN.md §3.2). A file refused by a target-dependent decision (one file
    per unit) is refused alone and the others go on. If applying one fails otherwise, the whole
    batch is rolled back and each file applied again in a transaction of its own, so one bad file
    never sinks good ones. Ctrl-C while a file is applied keeps the files before it (applied again,
    committed) and stops: what the command says was merged is what is in the file."""
    checked = [p for p in batch if p.checked is not None]
    conn = target.conn
    names: dict[int, str] = {}
    shared = len(checked) > 1
    failed = False
    try:
        if shared:
            for number, prepared in enumerate(checked):
                conn.execute(f"ATTACH DATABASE ? AS inc{number}", (str(prepared.checked.path),))
                names[id(prepared)] = f"inc{number}"
                conn.execute(f"PRAGMA inc{number}.cache_size = -{INCOMING_CACHE_KIB}")
        done: list[Prepared] = []
        try:
            with target.local_write() if shared else nullcontext():
                for prepared in batch:
                    if progress:
                        progress(prepared.result.name)
                    schema = names.get(id(prepared))
                    try:
                        merge_file(target, prepared.path, prepared=prepared, schema=schema)
                    except FileRefused as error:
                        if error.key not in _ALONE:
                            raise
                        prepared.result.error, prepared.result.ok = error, False
                    if schema is not None:
                        done.append(prepared)
        except KeyboardInterrupt:
            _reapply(target, done, names)  # the shared transaction was rolled back: the files before
            raise
        except CdtError as error:
            if error.key == "store.in_use":
                raise
            failed = True
        except sqlite3.Error as error:
            if is_locked(error):
                raise StoreError("store.in_use", path=str(target.path)) from error
            failed = True
        except Exception:  # noqa: BLE001 — applied again file by file below, where it is logged
            failed = True
    finally:
        for name in names.values():
            conn.execute(f"DETACH DATABASE {name}")
    if failed:
        for prepared in checked:
            prepared.result.error, prepared.result.ok, prepared.result.counts = None, False, {}
            prepared.result.new_key = bool(prepared.opened and prepared.opened.first_use)
            merge_file(target, prepared.path, prepared=prepared)


def _reapply(target: Store, done: list[Prepared], names: dict[int, str]) -> None:
    """After Ctrl-C in a shared transaction (rolled back): the files applied before it, again, committed."""
    if not done:
        return
    with target.local_write():
        for prepared in done:
            prepared.result.ok, prepared.result.counts = False, {}
            apply(target, prepared, None, schema=names[id(prepared)])


def _merge_each(target: Store, entries: list[tuple[Path, CdtError | None]],
                progress: Callable[[int, int, str], None] | None, replaces: str | None = None) -> list[FileResult]:
    """Every file through merge_file, in order: prepare of the next files in a worker thread (its
    own connection to the target, read only), merge_file here with what the worker prepared,
    up to GROUP_FILES checked files to a transaction (_apply_batch), applied as soon as no other
    checked file is waiting (_apply_now).

    SQLite releases the GIL while a statement runs, so the merge's SQL here and the checks' scans
    there use both cores. The worker stays at most a batch ahead (bounded staging space). A file
    whose checks read something an earlier file of the run changed (its unit, a file it carries,
    the same bytes) is prepared again in turn, after the earlier ones are in: every outcome equals
    merging the files one after another."""
    total = len(entries)
    if total <= 1 or replaces is not None:
        return _merge_in_turn(target, entries, progress, replaces)
    keys.own_keys(target)  # made now if missing: the worker only reads
    ready: queue.Queue = queue.Queue(maxsize=GROUP_FILES)
    stop = threading.Event()

    def work() -> None:
        view = None
        try:
            view = Store(target.path, connect(target.path))
            for index, (path, error) in enumerate(entries):
                if stop.is_set():
                    break
                if error is not None:
                    ready.put((index, _refused_entry(path, error), None))
                    continue
                ready.put((index, _prepare_ahead(view, path, stop), None))
        except BaseException as error:  # noqa: BLE001 — handed to the main thread (a busy target)
            ready.put((-1, None, error))
        finally:
            if view is not None:
                view.close()
            ready.put(None)

    results: list[FileResult] = []
    seen: set = set()
    batch: list[Prepared] = []
    position = {"done": 0}

    def told(name: str) -> None:
        if progress:
            progress(position["done"], total, name)
        position["done"] += 1

    def flush() -> None:
        try:
            if batch:
                _apply_batch(target, batch, None, told)
        finally:
            for prepared in batch:
                prepared.discard()
            batch.clear()

    worker = threading.Thread(target=work, name="cdt-merge-checks", daemon=True)
    worker.start()
    finished = False
    try:
        while True:
            item = ready.get()
            if item is None:
                finished = True
                break
            index, prepared, error = item
            if error is not None:
                raise error
            if prepared.touches & seen:
                # Checked against a state an earlier file of the run changed: in turn, from the start.
                flush()
                prepared.discard()
                told(prepared.result.name)
                prepared.result = merge_file(target, prepared.path)
            else:
                batch.append(prepared)
                if _apply_now(batch, ready):
                    flush()
            seen |= prepared.touches
            results.append(prepared.result)
        flush()
    finally:
        stop.set()
        for prepared in batch:
            prepared.discard()
        while not finished:  # let the worker end, and remove what it staged
            item = ready.get()
            if item is None:
                break
            if item[1] is not None:
                item[1].discard()
        worker.join()
    if progress:
        progress(total, total, "")
    return results


def _apply_now(batch: list[Prepared], ready: queue.Queue) -> bool:
    """Whether to apply the files checked so far now: a full batch, or nothing else checked yet.
    Waiting for a full batch while the worker checks would leave this thread idle (both cores
    busy is the point): on a quiet machine the checks and the merge of a pack take about as long
    (bench/RESULTS.md)."""
    return ready.empty() or sum(1 for p in batch if p.checked is not None) >= GROUP_FILES


# How long the worker waits, in all, for the target while this thread writes it (a large shared
# transaction spills its pages to the file and holds it exclusively until it commits).
AHEAD_WAIT_SECONDS = 600


def _prepare_ahead(view: Store, path: Path, stop: threading.Event) -> Prepared:
    """prepare in the worker: its reads of the target wait while the batch being applied holds
    the file (its busy timeout is short, for a target held by another program); the main thread
    raises store.in_use itself when another program holds it, and stops this one."""
    deadline = time.monotonic() + AHEAD_WAIT_SECONDS
    while True:
        try:
            return prepare(view, path)
        except StoreError as error:
            if error.key != "store.in_use" or stop.is_set() or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _merge_in_turn(target: Store, entries: list[tuple[Path, CdtError | None]],
                   progress: Callable[[int, int, str], None] | None, replaces: str | None = None) -> list[FileResult]:
    results = []
    for index, (path, error) in enumerate(entries):
        if progress:
            progress(index, len(entries), clean_text(path.name) or "?")
        if error is not None:
            results.append(FileResult(path=str(path), name=clean_text(path.name) or "?", error=error))
            continue
        results.append(merge_file(target, path, replaces=replaces))
    if progress:
        progress(len(entries), len(entries), "")
    return results


def merge_batch(target: Store, paths: Iterable[str | Path], *, dry_run: bool = False,
                progress: Callable[[int, int, str], None] | None = None, replaces: str | None = None) -> Batch:
    """Merge the files (see _merge_each); a refused file does not stop the others, a busy target stops all.

    A dry run merges into a scratch copy of the target in a private temp folder, file after file
    exactly as the real run does, and throws the copy away: so later files see what earlier ones
    would have brought (a fork, rows already there), its summary equals the real run's, and an
    older-schema target is migrated in the copy only. (One transaction rolled back at the end
    cannot do this: SQLite cannot DETACH a pack inside a transaction, and only 10 may be ATTACHed.)
    """
    if target.site.level == "commune":
        raise InvalidInput("merge.commune_target")
    entries = _expand(paths)
    if replaces is not None and len(entries) != 1:
        raise InvalidInput("merge.replaces_one_file")
    if not dry_run:
        target.check_writable()
        tune_target(target.conn)
        results = _merge_each(target, entries, progress, replaces)
        target.refresh()
        return Batch(results, len(list_conflicts(target)))
    scratch_folder = temp_folders.make("dryrun")
    try:
        copy = scratch_folder / "target.db"
        dest = sqlite3.connect(str(copy))
        try:
            target.conn.backup(dest)
        except sqlite3.OperationalError as error:
            if is_locked(error):
                raise StoreError("store.in_use", path=str(target.path)) from error
            raise
        finally:
            dest.close()
        scratch = Store.open(copy)
        try:
            scratch.conn.execute("PRAGMA synchronous = OFF")  # thrown away: no fsync per file
            tune_target(scratch.conn)
            results = _merge_each(scratch, entries, progress, replaces)
            return Batch(results, len(list_conflicts(scratch)))
        finally:
            scratch.close()
    finally:
        shutil.rmtree(scratch_folder, ignore_errors=True)


def merge_files(target: Store, paths: Iterable[str | Path], *, dry_run: bool = False,
                progress: Callable[[int, int, str], None] | None = None,
                replaces: str | None = None) -> list[FileResult]:
    """Merge each file in turn (see merge_batch); the results per file."""
    return merge_batch(target, paths, dry_run=dry_run, progress=progress, replaces=replaces).results
