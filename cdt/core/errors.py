"""The one error hierarchy of cdt. The library raises these; only the CLI turns them into exits."""

from __future__ import annotations

import errno
import os
import sqlite3
import traceback
from pathlib import Path

from cdt.core.files import user_data_dir
from cdt.core.i18n import t


class CdtError(Exception):
    """A user-facing error: a message key and its parameters, translated when shown."""

    def __init__(self, key: str, /, **params):
        super().__init__(key)
        self.key = key
        self.params = params

    @property
    def message(self) -> str:
        return t(self.key, **self.params)

    def __str__(self) -> str:
        return self.message


class NotFound(CdtError):
    """Nothing matches what the user named."""


class Ambiguous(CdtError):
    """Several things match what the user named; ``candidates`` holds them."""

    def __init__(self, key: str, candidates: list, /, **params):
        super().__init__(key, **params)
        self.candidates = candidates


class InvalidInput(CdtError):
    """Input breaks a rule of the domain (a date in the future, a sixth member, …)."""


class Duplicate(InvalidInput):
    """The record is already there by its sameness rule (register.same_*); ``existing`` is that row."""

    def __init__(self, key: str, existing: dict, /, **params):
        super().__init__(key, **params)
        self.existing = existing


class StoreError(CdtError):
    """The database file cannot be used (missing, in use, from a newer cdt, not ours)."""


class ReadOnlyRow(CdtError):
    """The row belongs to another file (a commune's row seen at the district)."""


class FileRefused(CdtError):
    """An incoming file (pack, spreadsheet) failed a safety or consistency check."""


def os_reason(error: OSError) -> str:
    """Why a file could not be read or written, in the user's language (not the OS's English)."""
    if error.errno == errno.EROFS:
        return t("os.read_only")
    if isinstance(error, FileNotFoundError):
        if error.filename and Path(str(error.filename)).parent.is_dir():
            return t("os.cannot_create")  # the folder is there but takes no files (/proc, a CD)
        return t("os.no_folder")
    if isinstance(error, PermissionError):
        return t("os.permission")
    if isinstance(error, IsADirectoryError):
        return t("os.is_folder")
    if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG):
        return t("os.disk_full")
    if error.errno == errno.EIO:
        return t("os.io_error")
    # Never the OS's own (English) text: its symbolic name is enough for support.
    return t("os.other_code", code=errno.errorcode.get(error.errno or 0, type(error).__name__))


def log_unexpected(what: str):
    """Append the current exception's traceback to cdt's error log; returns the log's path or None.

    The log is CDT_LOG, else cdt-errors.log in the per-user data folder (beside the default
    database). Users see one line pointing here, never the traceback itself."""
    log = Path(os.environ.get("CDT_LOG") or user_data_dir() / "cdt-errors.log")
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"--- {what}\n{traceback.format_exc()}\n")
        return log
    except OSError:
        return None


def is_locked(error: BaseException) -> bool:
    """Whether SQLite refused because another connection holds the file ("database is locked", "busy")."""
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def is_read_only(error: BaseException) -> bool:
    """Whether SQLite refused to write because the file or its folder takes no writes."""
    return isinstance(error, sqlite3.OperationalError) and "readonly" in str(error).lower()
