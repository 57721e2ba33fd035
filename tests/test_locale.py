"""The message catalogues: one file per part of the program, merged; a key defined twice would let
one part silently overwrite another's text (a list's column once showed an error message)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parent.parent / "cdt" / "locale"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_no_key_is_defined_in_two_files(lang):
    seen = Counter()
    for path in sorted((LOCALE / lang).glob("*.json")):
        seen.update(json.loads(path.read_text(encoding="utf-8")).keys())
    assert [key for key, count in seen.items() if count > 1] == []


def test_both_languages_have_the_same_keys():
    keys = {}
    for lang in ("vi", "en"):
        keys[lang] = set()
        for path in (LOCALE / lang).glob("*.json"):
            keys[lang] |= set(json.loads(path.read_text(encoding="utf-8")))
    assert sorted(keys["vi"] - keys["en"]) == [] and sorted(keys["en"] - keys["vi"]) == []
