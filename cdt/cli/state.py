"""The options given before the command (--db, --no-input), carried on the click context object."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from cdt.cli.help import current_context


@dataclass
class State:
    """Global options of one command line, set by the root callback as ``ctx.obj``."""

    db: Optional[Path] = None
    no_input: bool = False
    _store: Any = field(default=None, repr=False)


def never_ask(ctx: Any = None) -> bool:
    """True when no question may be asked: the line said --no-input, or CDT_NO_INPUT is set (not 0).

    ctx: the click context (default: the command running now; outside one, only CDT_NO_INPUT counts)."""
    if (os.environ.get("CDT_NO_INPUT") or "").strip() not in ("", "0"):
        return True
    if ctx is None:
        ctx = current_context()
    state = ctx.find_object(State) if ctx is not None else None
    return state is not None and state.no_input
