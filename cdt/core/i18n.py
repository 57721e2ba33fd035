"""User-facing messages in Vietnamese (default) and English.

Catalogues are JSON files under ``cdt/locale/<lang>/``, one file per part of the program, merged
at first use. The language comes from ``--lang``, else ``CDT_LANG``, else Vietnamese.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("vi", "en")
DEFAULT = "vi"
_LOCALE_DIR = Path(__file__).parent.parent / "locale"
_current = None


def language() -> str:
    """The language in use: the one set by set_language, else CDT_LANG, else Vietnamese."""
    if _current:
        return _current
    env = (os.environ.get("CDT_LANG") or "").strip().lower()[:2]
    return env if env in LANGUAGES else DEFAULT


def set_language(lang: str | None) -> None:
    """Choose the language for messages; None goes back to CDT_LANG or the default."""
    global _current
    lang = (lang or "").strip().lower()[:2]
    _current = lang if lang in LANGUAGES else None


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """All messages of one language, merged from every JSON file of its folder."""
    merged: dict[str, str] = {}
    folder = _LOCALE_DIR / lang
    for path in sorted(folder.glob("*.json")):
        merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def t(key: str, /, **params) -> str:
    """The message for key in the current language, formatted with params.

    A key missing from English falls back to Vietnamese; a key missing everywhere is shown as is,
    so a forgotten entry is visible rather than fatal.
    """
    lang = language()
    text = catalogue(lang).get(key)
    if text is None:
        text = catalogue(DEFAULT).get(key, key)
    if params:
        params = {k: printable(v) if isinstance(v, str) else v for k, v in params.items()}
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def printable(text: str) -> str:
    """Text safe to echo on one terminal line: control and invisible formatting characters
    (escape sequences, bidi overrides, newlines) become a visible ``?``; undecodable bytes from the
    command line (surrogate escapes) become U+FFFD."""
    import unicodedata

    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cs":
            out.append("\ufffd")
        elif category in ("Cc", "Cf", "Zl", "Zp") and ch != "\u200d":
            out.append("?")
        else:
            out.append(ch)
    return "".join(out)
