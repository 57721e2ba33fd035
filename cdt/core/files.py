"""Files on disk: cdt's private scratch folder, files written whole or not at all, file hashes.

Pack snapshots, merge staging copies, dry-run copies, regroup copies and extract builds hold a
unit's personal data (names, phone numbers). They live in one folder of the user's own data area
(``%LOCALAPPDATA%\\cdt\\scratch`` on Windows, ``~/.local/share/cdt/scratch`` elsewhere; owner-only
permissions where the OS has them), each job in its own subfolder named ``KIND-PID-random``. A
job removes its subfolder on success and on error; a killed process cannot, so every cdt command
removes, when it starts, the subfolders of processes that are gone (or, where a process cannot be
asked about, that are older than STALE_SECONDS), together with the ``.part`` files those jobs had
begun beside a destination (recorded in the subfolder's ``parts`` list before they are made).

Every file cdt writes for a person (a pack, a workbook, a report, a key file, an extract) is
written through ``written_whole``: beside its destination under a temporary name, synced, then
renamed into place, so a full stick or a kill never leaves half a file under the real name.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from cdt import _testing

# The suffix of a file being written beside its destination (renamed into place when complete).
PART_SUFFIX = ".part"
PARTS_LIST = "parts"
# A job subfolder untouched this long is stale even if its process id looks alive (ids are reused).
STALE_SECONDS = 6 * 60 * 60
# Where a process cannot be asked about (Windows), a job folder this old is a killed job's.
UNKNOWN_STALE_SECONDS = 15 * 60
ENV = "CDT_SCRATCH"  # tests and unusual setups may point the folder elsewhere


def user_data_dir() -> Path:
    """The per-user data folder: %LOCALAPPDATA%\\cdt on Windows, XDG elsewhere (the default store
    lives there too: store.default_db_path). Light on purpose: every cdt start reads it."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "cdt"


def root() -> Path:
    """The user's private scratch folder, created (owner-only) when missing."""
    chosen = os.environ.get(ENV)
    folder = Path(chosen).expanduser() if chosen else user_data_dir() / "scratch"
    folder.mkdir(parents=True, exist_ok=True)
    if sys.platform != "win32":
        try:
            os.chmod(folder, 0o700)
        except OSError:
            pass
    return folder


@contextmanager
def folder(kind: str) -> Iterator[Path]:
    """A new job subfolder, removed afterwards whatever happens."""
    path = make(kind)
    try:
        yield path
    finally:
        remove(path)


def make(kind: str) -> Path:
    """A new job subfolder (the caller removes it with remove())."""
    return Path(tempfile.mkdtemp(prefix=f"{kind}-{os.getpid()}-", dir=root()))


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def note_part(job: Path, part: Path) -> None:
    """Record a file about to be written beside a destination, so a later start can remove it if
    this process is killed before it is renamed into place."""
    with open(job / PARTS_LIST, "a", encoding="utf-8") as handle:
        handle.write(str(Path(part).resolve()) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _alive(pid: int) -> bool | None:
    """Whether a process runs (None: cannot tell on this OS)."""
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _remove_parts(job: Path) -> None:
    try:
        listed = (job / PARTS_LIST).read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    for line in listed:
        part = Path(line.strip())
        # Only what cdt itself names so: a list in the user's folder is trusted this far, no further.
        if not part.name.endswith(PART_SUFFIX):
            continue
        for leftover in (part, Path(str(part) + "-journal")):
            try:
                leftover.unlink(missing_ok=True)
            except OSError:
                pass


# Folders older versions of cdt made in the system temp folder (full copies of packs and of old
# communes' files): removed when untouched this long.
OLD_TEMP_PREFIXES = ("cdt-merge-", "cdt-regroup-")
OLD_TEMP_SECONDS = 15 * 60


def clean_old_temp(now: float | None = None) -> int:
    """Remove what older versions of cdt left in the system temp folder; best effort."""
    now = time.time() if now is None else now
    removed = 0
    try:
        candidates = [p for prefix in OLD_TEMP_PREFIXES for p in Path(tempfile.gettempdir()).glob(prefix + "*")]
    except OSError:
        return 0
    for folder in candidates:
        try:
            if folder.is_symlink() or not folder.is_dir() or now - folder.stat().st_mtime < OLD_TEMP_SECONDS:
                continue
            shutil.rmtree(folder)
            removed += 1
        except OSError:
            continue
    return removed


def clean_stale() -> int:
    """Remove job folders (and their recorded .part files) of processes that are gone, and what older
    versions left in the system temp folder; cheap when there is nothing to do. Never raises."""
    try:
        base = root()
        entries = list(base.iterdir())
    except OSError:
        return 0
    now = time.time()
    removed = clean_old_temp(now)
    for job in entries:
        try:
            parts = job.name.split("-")
            pid = int(parts[1]) if len(parts) >= 3 and parts[1].isdigit() else None
            if job.is_symlink() or not job.is_dir():
                continue
            alive = _alive(pid) if pid is not None else None
            age = now - job.stat().st_mtime
            if alive is False or (alive is None and age > UNKNOWN_STALE_SECONDS) \
                    or (alive and age > STALE_SECONDS and pid != os.getpid()):
                _remove_parts(job)
                shutil.rmtree(job, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


__all__ = ["PART_SUFFIX", "clean_stale", "folder", "make", "note_part", "remove", "root", "sha256_file"]


def part_path(dest: Path) -> Path:
    """The temporary name a file is written under beside its destination (hidden, one per process)."""
    return dest.with_name(f".{dest.name}.{os.getpid()}{PART_SUFFIX}")


def _sync_folder(folder: Path) -> None:
    """Make a rename in folder durable (POSIX); Windows has no directory handles to sync."""
    if sys.platform == "win32":
        return
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


@contextmanager
def written_whole(dest: Path, *, replace: bool = True, job: Path | None = None) -> Iterator[Path]:
    """Yield a temporary path beside dest to write the whole file into. When the block ends, the file
    is synced to the device and renamed to dest (FileExistsError, and nothing left, when dest has
    appeared meanwhile and replace is False); if the block fails, the temporary file is removed.
    ``job``: a scratch job folder that records the temporary name, so that a later cdt start removes
    it if this process is killed before the rename."""
    dest = Path(dest)
    part = part_path(dest)
    if job is not None:
        note_part(job, part)
    try:
        yield part
        if _testing.syncs_files():
            with open(part, "rb+") as handle:
                os.fsync(handle.fileno())
        if not replace and dest.exists():
            raise FileExistsError(str(dest))
        os.replace(part, dest)
    except BaseException:
        try:
            part.unlink(missing_ok=True)
        except OSError:
            pass
        raise
    if _testing.syncs_files():
        _sync_folder(dest.parent)
