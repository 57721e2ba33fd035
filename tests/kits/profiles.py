"""Hypothesis profiles: ``dev`` (the default, a few examples per test) and ``thorough`` (many).

``HYPOTHESIS_PROFILE=thorough`` (``make test-thorough``) gives each property test the number of
examples it names as ``thorough``; ``dev`` gives the same share of its own, smaller budget.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Examples per test in each profile; a test that needs more or fewer scales this with examples().
BUDGET = {"dev": 10, "thorough": 300}
DEFAULT = "dev"


def register() -> str:
    """Register both profiles and load the one HYPOTHESIS_PROFILE names (dev when unset)."""
    for name, count in BUDGET.items():
        # No deadline: a merge example takes a variable, machine-dependent time (files, fsync, two cores).
        settings.register_profile(name, max_examples=count, deadline=None,
                                  suppress_health_check=[HealthCheck.too_slow])
    chosen = os.environ.get("HYPOTHESIS_PROFILE", "").strip() or DEFAULT
    if chosen not in BUDGET:
        raise ValueError(f"HYPOTHESIS_PROFILE={chosen!r}: choose one of {', '.join(BUDGET)}")
    settings.load_profile(chosen)
    return chosen


def examples(thorough: int, *, at_least: int = 2) -> settings:
    """The loaded profile with ``thorough`` examples in the thorough profile and as large a share
    of the budget in the others (never fewer than ``at_least``)."""
    share = thorough / BUDGET["thorough"]
    count = max(at_least, round(settings.default.max_examples * share))
    return settings(max_examples=count)
