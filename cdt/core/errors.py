"""The one error hierarchy of cdt. The library raises these; only the CLI turns them into exits."""

from __future__ import annotations


class CdtError(Exception):
    """A user-facing error: a message key and its parameters, translated when shown."""

    def __init__(self, key: str, /, **params):
        super().__init__(key)
        self.key = key
        self.params = params

    @property
    def message(self) -> str:
        from cdt.core.i18n import t

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
    import errno

    from cdt.core.i18n import t

    if error.errno == errno.EROFS:
        return t("os.read_only")
    if isinstance(error, FileNotFoundError):
        from pathlib import Path

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

    The log is CDT_LOG, else cdt-errors.log beside the per-user database. Users see one line
    pointing here, never the traceback itself."""
    import os
    import traceback
    from pathlib import Path

    from cdt.store import default_db_path

    log = Path(os.environ.get("CDT_LOG") or default_db_path().with_name("cdt-errors.log"))
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"--- {what}\n{traceback.format_exc()}\n")
        return log
    except OSError:
        return None
