"""The service catalogue (national services and the ones a file added) and how typed words resolve to a code."""

from __future__ import annotations

import json
from typing import Any

from cdt.core.errors import NotFound
from cdt.core.text import clean, fold
from cdt.store import Store

# The national catalogue every file knows; provinces add their own rows to ``service``.
DEFAULT_SERVICES: list[dict[str, Any]] = [
    {"code": "dvc", "name": "Dịch vụ công trực tuyến",
     "aliases": ["DVCTT", "Cổng dịch vụ công", "dịch vụ công", "public services"]},
    {"code": "vneid", "name": "Định danh điện tử VNeID", "aliases": ["VNeID", "định danh điện tử"]},
    {"code": "payment", "name": "Thanh toán không dùng tiền mặt",
     "aliases": ["thanh toán điện tử", "ví điện tử", "QR", "cashless"]},
    {"code": "ecommerce", "name": "Thương mại điện tử", "aliases": ["TMĐT", "sàn thương mại điện tử", "mua bán trực tuyến"]},
    {"code": "ehealth", "name": "Sổ sức khỏe điện tử", "aliases": ["y tế số", "sức khỏe điện tử"]},
    {"code": "esign", "name": "Chữ ký số", "aliases": ["chữ ký điện tử", "digital signature"]},
    {"code": "elearning", "name": "Học trực tuyến", "aliases": ["giáo dục trực tuyến", "online learning"]},
    {"code": "cybersafety", "name": "An toàn trên không gian mạng",
     "aliases": ["an toàn thông tin", "phòng chống lừa đảo", "an ninh mạng"]},
    {"code": "bdhvs", "name": "Bình dân học vụ số", "aliases": ["Binh dan hoc vu so"]},
]


def service_catalogue(store: Store) -> list[dict]:
    """National services then the ones this file (or merged communes) added, one per code."""
    catalogue = {s["code"]: {**s, "national": True} for s in DEFAULT_SERVICES}
    for row in sorted(store.rows("service"), key=lambda r: (r["origin"], r["id"])):
        if row["code"] not in catalogue:
            catalogue[row["code"]] = {
                "code": row["code"], "name": row["name"], "aliases": json.loads(row["aliases"]), "national": False,
            }
    return list(catalogue.values())


_SERVICE_WORDS: dict[tuple, tuple[dict[str, str], str]] = {}


def _service_words(store: Store) -> tuple[dict[str, str], str]:
    """Folded code, name and aliases → code, in catalogue order (first wins), and the codes listed.

    Kept per file and per state of its service rows (their hashes): an import resolves the services
    of every row, and folding the catalogue for each one would be most of the work."""
    state = (str(store.path), store.conn.execute("SELECT group_concat(hash, '') FROM service").fetchone()[0])
    if state not in _SERVICE_WORDS:
        catalogue = service_catalogue(store)
        words: dict[str, str] = {}
        for service in catalogue:
            for text in (service["code"], service["name"], *service["aliases"]):
                words.setdefault(fold(text), service["code"])
        _SERVICE_WORDS.clear()
        _SERVICE_WORDS[state] = (words, ", ".join(s["code"] for s in catalogue))
    return _SERVICE_WORDS[state]


def resolve_service(store: Store, text: str) -> str:
    """A service code from its code, name or any alias (case and diacritics optional)."""
    words, codes = _service_words(store)
    wanted = fold(text)
    code = words.get(wanted)
    if code is not None:
        return code
    close = _close_services(wanted, service_catalogue(store))
    if len(close) == 1:
        raise NotFound("service.not_found_suggest", name=clean(text), code=close[0]["code"],
                       service=close[0]["name"], codes=codes)
    raise NotFound("service.not_found", name=clean(text), codes=codes)


def service_from_words(store: Store, text: str) -> str:
    """resolve_service, and also the words of one service's name or alias when no other service has
    them all ('dinh danh' → vneid): for a prompt, where the clerk sees the choice named back.
    Options and imports stay exact (resolve_service), so a script never gets a guess."""
    try:
        return resolve_service(store, text)
    except NotFound:
        found = _services_with_words(fold(text), service_catalogue(store))
        if len(found) == 1:
            return found[0]["code"]
        raise


def _services_with_words(wanted: str, catalogue: list[dict]) -> list[dict]:
    """Services with every word typed in one of their names (diacritics optional)."""
    words = set(wanted.split())
    found = []
    for service in catalogue:
        names = [fold(n) for n in (service["code"], service["name"], *service["aliases"])]
        if words and any(words <= set(n.split()) for n in names):
            found.append(service)
    return found


def _close_services(wanted: str, catalogue: list[dict]) -> list[dict]:
    """Services a mistyped or partial name most likely meant: every word typed is in one of its
    names (diacritics optional), else a close spelling of its code, name or an alias."""
    import difflib

    found = _services_with_words(wanted, catalogue)
    if found:
        return found
    for service in catalogue:
        names = [fold(n) for n in (service["code"], service["name"], *service["aliases"])]
        if any(difflib.get_close_matches(wanted, [n], n=1, cutoff=0.75) for n in names):
            found.append(service)
    return found
