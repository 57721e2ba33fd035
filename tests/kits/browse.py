"""Files for cdt browse's tests: a district with personal data, keys and a journal in it; a province;
running the canned queries on a copy; starting and stopping a real ``cdt browse``.

The registers are random histories (kits/registers.py: dissolved teams, members who left,
tombstones) merged straight into the district, so the queries meet every case the report counts.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cdt.domain import units
from cdt.exchange.keys import insert_new_keys
from cdt.reports.browse import prepare_connection
from cdt.reports.browse_copy import Copy
from cdt.reports.browse_queries import build_queries
from cdt.store import Store
from kits.registers import DISTRICT_COMMUNES, create_commune, generate, merge_into

MONTH = "2026-11"
# When each commune's pack was made: 05761 after November (it has reported November), 05767 during
# November (it has not), 05770 never (its rows are not in the district).
PACKED_AT = {"05761": "2026-12-02T08:00:00", "05767": "2026-11-20T08:00:00", "05770": None}
# Marks of the personal data put in the district: none may show without --personal.
PHONE = "0987654"
HOUSEHOLD = "HOXYZ"
NOTE = "GHICHU-RIENG"
NAME = "Tên Riêng"


@dataclass
class Area:
    """A file of several communes and what was written into it."""

    path: Path
    data: dict  # kind → rows as written (kits.registers.generate), of the communes merged
    secret: bytes  # the district's own private key


def _register(store: Store, seed: int) -> dict:
    """Two random registers in one commune file: enough rows for every query to find some in a month."""
    data = generate(store, seed)
    for kind, rows in generate(store, seed + 1000).items():
        data[kind].extend(rows)
    return data


def _communes(folder: Path, seed: int) -> tuple[list[Path], dict]:
    files, everything = [], {k: [] for k in ("hamlet", "team", "member", "training", "attendance", "visit")}
    for n, code in enumerate(DISTRICT_COMMUNES):
        path = folder / f"{code}.db"
        store = create_commune(path, code)
        data = _register(store, seed + n)
        store.close()
        files.append(path)
        if PACKED_AT.get(code) is not None:
            for kind, rows in data.items():
                everything[kind].extend(rows)
    return files, everything


def _personal(path: Path) -> None:
    """Phones, names, affiliations, notes and distinctive household codes in the merged rows."""
    conn = sqlite3.connect(path)
    conn.execute(f"UPDATE member SET phone = '{PHONE}' || printf('%03d', rowid % 1000),"
                 f" full_name = '{NAME} ' || rowid,"
                 " affiliation = CASE rowid % 3 WHEN 0 THEN 'Đoàn Thanh niên' WHEN 1 THEN 'Hội Phụ nữ' END")
    conn.execute(f"UPDATE visit SET notes = '{NOTE} ' || rowid WHERE rowid % 2 = 0")
    conn.execute(f"UPDATE visit SET household = '{HOUSEHOLD}' || household")
    # A row held back by a merge: its content (a member's phone and name) stays in the file only.
    member = conn.execute("SELECT id, origin, full_name, phone FROM member LIMIT 1").fetchone()
    conn.execute("INSERT INTO conflict (kind, origin, fork_rev, branch, table_name, row_id, rev, deleted, hash,"
                 " row_data, detected_at) VALUES ('row', ?, 1, 'b', 'member', ?, 1, 0, 'h', ?, '2026-11-05T10:00:00')",
                 (member[1], member[0], json.dumps({"full_name": member[2], "phone": member[3]}, ensure_ascii=False)))
    conn.commit()
    conn.close()


def build_district(folder: Path, seed: int = 300) -> Area:
    """Đại Từ (171) with its keys, two communes merged, personal data, and a write of its own (journalled)."""
    folder.mkdir(parents=True, exist_ok=True)
    files, everything = _communes(folder, seed)
    path = folder / "huyện Đại Từ.db"  # a Vietnamese name with a space
    unit = units.get("171", level="district", structure="legacy")
    Store.create(path, level="district", structure="legacy", province=(unit.province_code, unit.province_name),
                 district=(unit.code, unit.name), on_create=insert_new_keys).close()
    merge_into(path, files, PACKED_AT)
    _personal(path)
    with Store.open(path) as store:
        with store.write() as tx:
            tx.insert("service", {"code": "ctn", "name": "C-Thái Nguyên", "aliases": "[\"CTN\"]"})
        secret = store.conn.execute("SELECT secret FROM own_key LIMIT 1").fetchone()[0]
    for data_row in everything["visit"]:
        data_row["household"] = HOUSEHOLD + data_row["household"]
    return Area(path=path, data=everything, secret=secret)


def build_province(folder: Path, seed: int = 402) -> Area:
    """Thái Nguyên (19, pre-2025): the same communes merged straight into a province file."""
    folder.mkdir(parents=True, exist_ok=True)
    files, everything = _communes(folder, seed)
    path = folder / "tinh.db"
    unit = units.get("19", level="province", structure="legacy")
    Store.create(path, level="province", structure="legacy", province=(unit.code, unit.name),
                 on_create=insert_new_keys).close()
    merge_into(path, files, PACKED_AT)
    return Area(path=path, data=everything, secret=b"")


def build_commune(folder: Path, seed: int = 501) -> Area:
    """Hùng Sơn (05761) with a random register."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "hung-son.db"
    store = create_commune(path, "05761")
    data = _register(store, seed)
    store.close()
    return Area(path=path, data=data, secret=b"")


def run_query(copy: Copy, name: str, **params: str) -> list[dict]:
    """A canned query run on the copy as the web server runs it (its functions, missing fields empty)."""
    query = {q.name: q for q in build_queries(copy)}[name]
    conn = sqlite3.connect(copy.path)
    try:
        prepare_connection(conn)
        cursor = conn.execute(query.sql, {p: params.get(p, "") for p in query.params})
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row)) for row in cursor]
    finally:
        conn.close()


# -- a real cdt browse -------------------------------------------------------------------------------------


class Server:
    """``cdt browse`` in its own process; ``url`` is the address it printed."""

    def __init__(self, db: Path, data_home: Path, *args: str, lang: str | None = None):
        env = dict(os.environ, XDG_DATA_HOME=str(data_home), LOCALAPPDATA=str(data_home), CDT_TEST_SYNC="off",
                   PYTHONIOENCODING="utf-8")
        env.pop("CDT_LANG", None)
        env.pop("CDT_DB", None)
        command = [sys.executable, "-m", "cdt", "--db", str(db), *(["--lang", lang] if lang else []),
                   "browse", "--no-open", *args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                        text=True, encoding="utf-8")
        self.lines: queue.Queue = queue.Queue()
        self.stdout: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._wait_for_url()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _wait_for_url(self, timeout: float = 60) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                self.process.kill()
                raise AssertionError("cdt browse printed no address in time") from None
            if line is None:
                raise AssertionError(f"cdt browse ended: {self.process.wait()} {self.process.stderr.read()}")
            self.stdout.append(line)
            if re.match(r"https?://", line):
                return line.strip()

    @property
    def port(self) -> int:
        return int(re.search(r":(\d+)/", self.url).group(1))

    def get(self, path: str = "", *, base: str | None = None) -> tuple[int, str]:
        """Status and body of a page (path after the file's address, or after ``base``)."""
        url = (base if base is not None else self.url) + path
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", errors="replace")

    def stop(self) -> tuple[int, str, str]:
        """Ctrl-C, as a person stops it; exit code, the rest of stdout, stderr."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=60)
        rest = []
        while True:
            line = self.lines.get(timeout=10)
            if line is None:
                break
            rest.append(line)
        return code, "".join(self.stdout + rest), self.process.stderr.read()
