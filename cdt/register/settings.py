"""This file's settings: their defaults, their values, and changing one after checking it."""

from __future__ import annotations

from cdt.core.errors import InvalidInput
from cdt.core.text import clean
from cdt.domain import letterhead
from cdt.domain.services import resolve_service
from cdt.store import Store

SETTING_DEFAULTS: dict[str, str] = {
    "team_min_members": "2",
    "team_max_members": "5",
    # Services whose help counts a person towards "digital citizen" progress; no official list exists.
    "digital_citizen_services": "dvc,vneid,payment",
    # At a district or province: refuse packs that are signed but not sealed (cdt/exchange/keys.py).
    "require_sealed": "false",
    # At a district or province: whether cdt browse shows team members' names (a commune's own file always does).
    "browse_member_names": "false",
    # The report's issuing body and signature block (cdt/domain/letterhead.py): empty means the
    # default for the file's level and structure.
    **letterhead.STORED_DEFAULTS,
}


def settings(store: Store) -> dict[str, str]:
    """Every setting with its value in this file (defaults where none was set)."""
    return {**SETTING_DEFAULTS, **{k: v for k, v in store.settings().items() if k in SETTING_DEFAULTS}}


def int_setting(store: Store, key: str) -> int:
    """A whole-number setting's value in this file."""
    return int(settings(store)[key])


def set_setting(store: Store, key: str, value: str) -> str:
    """Change one setting after checking its value; returns the stored value."""
    key = clean(key)
    if key not in SETTING_DEFAULTS:
        raise InvalidInput("settings.unknown", key=key, keys=", ".join(SETTING_DEFAULTS))
    with store.write() as tx:
        value = _checked(store, key, clean(value))
        tx.put_local("setting", {"key": key, "value": value})
        tx.describe("history.setting", setting=key, value=value)
    return value


def _checked(store: Store, key: str, value: str) -> str:
    """A setting's value as stored, after its rule (read inside the write that stores it)."""
    current = settings(store)
    if key in ("team_min_members", "team_max_members"):
        if not value.isdigit() or not 1 <= int(value) <= 100:
            raise InvalidInput("settings.bad_number", key=key, value=value)
        low = int(value) if key == "team_min_members" else int(current["team_min_members"])
        high = int(value) if key == "team_max_members" else int(current["team_max_members"])
        if low > high:
            raise InvalidInput("settings.min_over_max", low=low, high=high)
        value = str(int(value))
    elif key in ("require_sealed", "browse_member_names"):
        value = {"true": "true", "false": "false", "có": "true", "không": "false"}.get(value.casefold(), "")
        if not value:
            raise InvalidInput("settings.bad_bool", key=key)
    elif key == "digital_citizen_services":
        codes = [resolve_service(store, part) for part in value.split(",") if part.strip()]
        if not codes:
            raise InvalidInput("input.no_service")
        value = ",".join(dict.fromkeys(codes))
    elif key in letterhead.KEYS:
        value = letterhead.check(key, value)
    return value


def document_unit(store: Store) -> letterhead.Unit:
    """The file's unit as the document settings' defaults need it: level, name and the unit above."""
    site = store.site
    if site.level == "commune":
        superior = site.district_name if site.district_code else site.province_name
    else:
        superior = site.province_name if site.level == "district" else None
    return letterhead.Unit(level=site.level, name=site.unit_name or "", superior=superior or None)


def document_defaults(store: Store) -> dict[str, str]:
    """The document settings' defaults for this file (its level and structure, and the issuer set)."""
    return letterhead.defaults(document_unit(store), settings(store))
