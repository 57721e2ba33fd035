"""Help pages and Click's own messages in the user's language (terminal layer: imports typer).

Typer 0.29 vendors its own click (``typer._click``) whose strings are plain English literals, not
gettext calls, so "Click's translation hooks" here are the few places those strings are made:
the usage prefix, the ``[OPTIONS]``/``COMMAND [ARGS]...`` metavars, type labels (``<str>``), the
``{file}`` argument placeholders and the "[default: …]" line. Each is replaced once per process by
a function that asks ``t()`` at call time, so the language chosen on the command line applies.

This is also the one place that knows which click Typer runs on: the commands and the app take
click's exceptions and the current context from here.
"""

from __future__ import annotations

import re
import sys

from typer import core as typer_core

from cdt.core.i18n import printable, t

try:  # Typer 0.29+ runs on its own vendored copy of click, already imported with typer
    from typer._click import core as click_core
    from typer._click import exceptions as click_exceptions
    from typer._click import formatting as click_formatting
    from typer._click import globals as click_globals
except ImportError:  # an older Typer on the real click
    from click import core as click_core
    from click import exceptions as click_exceptions
    from click import formatting as click_formatting
    from click import globals as click_globals


def current_context():
    """The click context of the command running now; None outside one."""
    return click_globals.get_current_context(silent=True)


_done = False

# Typer's help renderer imports rich's Markdown (markdown-it, pygments) and Traceback at the top,
# about a third of a ``cdt --help`` process, though it uses them only for ``rich_markup_mode=
# "markdown"`` and pretty tracebacks, which cdt turns off. They are imported when first used instead.
_DEFERRED = (("rich.markdown", "Markdown"), ("rich.traceback", "Traceback"))


class _Deferred(type):
    """A stand-in for a rich class: the real module is imported at the first call or attribute."""

    def _real(cls):
        import importlib

        return getattr(importlib.import_module(cls._module), cls.__name__)

    def __call__(cls, *args, **kwargs):
        return cls._real()(*args, **kwargs)

    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(cls._real(), name)

    def __instancecheck__(cls, obj):
        return isinstance(obj, cls._real())


def load_rich_utils():
    """Typer's rich help module (None without rich), imported without its unused heavy imports."""
    if "typer.rich_utils" in sys.modules:
        return sys.modules["typer.rich_utils"]
    import types

    stubs = {}
    for module, name in _DEFERRED:
        if module not in sys.modules:
            stub = types.ModuleType(module)
            setattr(stub, name, _Deferred(name, (), {"_module": module}))
            stubs[module] = sys.modules[module] = stub
    try:
        from typer import rich_utils as module
    except ImportError:  # typer without rich: plain help
        return None
    finally:
        for name, stub in stubs.items():  # later imports find the real modules
            if sys.modules.get(name) is stub:
                del sys.modules[name]
    return module


def _type_label(param, ctx) -> str | None:
    """What a value looks like, in words a clerk reads (None: a flag takes no value)."""
    from pathlib import Path

    if getattr(param, "is_bool_flag", False) or getattr(param, "is_flag", False):
        return None
    desc = getattr(param, "type_descriptor", None)
    if desc is None:
        return None
    if desc.is_choice:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices or ())
    annotation = desc.annotation
    from typing import get_args, get_origin

    repeat = ""
    if get_origin(annotation) is list:
        annotation = get_args(annotation)[0]
        repeat = "..."
    if annotation is bool:
        return None
    if annotation in (int, float):
        label = t("help.type.number")
    elif isinstance(annotation, type) and issubclass(annotation, Path) or desc.is_path:
        label = t("help.type.path")
    else:
        label = t("help.type.text")
    return label + repeat


def _range_text(low, high) -> str | None:
    """A number option's range in words ("từ 1 đến 10.000"), not Click's "1<=x<=10000"."""
    from cdt.core.i18n import language

    def shown(n) -> str:
        text = f"{n:,}"
        return text.replace(",", ".") if language() == "vi" else text

    if low is None and high is None:
        return None
    if high is None:
        return t("help.range.from", low=shown(low))
    if low is None:
        return t("help.range.to", high=shown(high))
    return t("help.range.between", low=shown(low), high=shown(high))


def _argument_name(param) -> str:
    """An argument's placeholder: its metavar, else its name in capitals."""
    if param.metavar is not None:
        return param.metavar
    return (param.name or "").upper()


def _asked(param) -> bool:
    """An argument that is required but asked for at a terminal when left out (common.required_help):
    optional to Click, required to a clerk reading the usage line."""
    return t("prompt.required_hint") in (getattr(param, "help", None) or "")


def install() -> None:
    """Replace the English and internal bits of Typer's help and usage lines (idempotent)."""
    global _done
    if not _done:
        _done = True
        _patch_classes()
    _panel_strings()


def _patch_classes() -> None:
    def display_type(self, ctx):
        label = _type_label(self, ctx)
        return label

    def display_type_rich(self, ctx):
        if getattr(self, "metavar", None) is not None and self.param_type_name == "option":
            return self.metavar
        return _type_label(self, ctx)

    base = getattr(typer_core, "_TyperParameter", None)
    for cls in (base, typer_core.TyperOption, typer_core.TyperArgument):
        if cls is None:
            continue
        if "display_type" in vars(cls) or cls is base:
            cls.display_type = display_type
        if "display_type_rich" in vars(cls) or cls is base:
            cls.display_type_rich = display_type_rich

    def number_range(self):
        return _range_text(getattr(self, "min", None), getattr(self, "max", None))

    for cls in (base, typer_core.TyperOption, typer_core.TyperArgument):
        if cls is not None and "_get_number_range_help_str" in vars(cls):
            cls._get_number_range_help_str = number_range

    def display_name_raw(self):
        return _argument_name(self)

    def usage_display_name(self):
        name = _argument_name(self)
        if not self.required and not _asked(self):
            name = f"[{name}]"
        if self.nargs != 1:
            name += "..."
        return name

    if hasattr(typer_core.TyperArgument, "display_name_raw"):
        typer_core.TyperArgument.display_name_raw = property(display_name_raw)
    if hasattr(typer_core.TyperArgument, "_usage_display_name"):
        typer_core.TyperArgument._usage_display_name = usage_display_name

    original_pieces = click_core.Command.collect_usage_pieces

    def collect_usage_pieces(self, ctx):
        pieces = original_pieces(self, ctx)
        replaced = []
        for piece in pieces:
            if piece == "[OPTIONS]":
                piece = t("help.usage_options")
            elif piece == "COMMAND [ARGS]...":
                piece = t("help.usage_command")
            replaced.append(piece)
        return replaced

    if not getattr(click_core.Command.collect_usage_pieces, "_cdt", False):
        collect_usage_pieces._cdt = True
        click_core.Command.collect_usage_pieces = collect_usage_pieces
        for cls in (typer_core.TyperCommand, typer_core.TyperGroup):
            if "collect_usage_pieces" in vars(cls):
                inner = vars(cls)["collect_usage_pieces"]

                def wrapped(self, ctx, _inner=inner):
                    return [t("help.usage_options") if p == "[OPTIONS]" else
                            t("help.usage_command") if p == "COMMAND [ARGS]..." else p
                            for p in _inner(self, ctx)]

                cls.collect_usage_pieces = wrapped

    original_write_usage = click_formatting.HelpFormatter.write_usage

    def write_usage(self, prog, args="", prefix=None):
        if prefix is None:
            prefix = t("help.usage") + " "
        return original_write_usage(self, prog, args, prefix)

    click_formatting.HelpFormatter.write_usage = write_usage


def _panel_strings() -> None:
    """Typer's rich help strings, in the language in use now."""
    rich_utils = load_rich_utils()
    if rich_utils is None:  # typer without rich: plain help
        return
    rich_utils.ARGUMENTS_PANEL_TITLE = t("help.arguments")
    rich_utils.OPTIONS_PANEL_TITLE = t("help.options")
    rich_utils.COMMANDS_PANEL_TITLE = t("help.commands")
    rich_utils.REQUIRED_LONG_STRING = t("help.required")
    rich_utils.DEFAULT_STRING = t("help.default_value")
    rich_utils.ENVVAR_STRING = t("help.envvar_value")
    rich_utils.ERRORS_PANEL_TITLE = t("error.prefix")
    rich_utils.ABORTED_TEXT = t("error.aborted")


# -- click's usage errors ------------------------------------------------------------------------


def usage_message(error) -> str:
    """Click's usage errors in the user's language, keeping the option names."""
    try:
        return _translated_usage(error)
    except Exception:  # noqa: BLE001 — a message must come out even if click's objects change shape
        return t("usage.generic", detail=error.format_message())


def _number_detail(message: str) -> str:
    """The parser's English about a number option (Typer checks ranges with pydantic) in the user's
    language; any other detail as it is."""
    bound = re.search(r"(greater|less) than or equal to (-?\d+)", message)
    if bound:
        return t("usage.at_least" if bound.group(1) == "greater" else "usage.at_most", bound=bound.group(2))
    if "valid integer" in message or "is not a valid integer" in message:
        return t("usage.not_integer")
    return message


def _translated_usage(error) -> str:
    if isinstance(error, click_exceptions.NoSuchOption):
        message = t("usage.no_such_option", name=printable(error.option_name))
        if getattr(error, "possibilities", None):
            message += " " + t("usage.possible_options", options=", ".join(sorted(error.possibilities)))
        return message
    if isinstance(error, click_exceptions.MissingParameter):
        param = error.param
        name = "/".join(param.opts) if param is not None and getattr(param, "opts", None) else ""
        if param is not None and param.param_type_name == "argument":
            name = getattr(param, "metavar", None) or (param.name or "").upper()
        return t("usage.missing", name=name)
    if isinstance(error, click_exceptions.BadParameter):
        param = error.param
        name = "/".join(param.opts) if param is not None and getattr(param, "opts", None) else (error.param_hint or "")
        if isinstance(name, (list, tuple)):
            name = "/".join(name)
        choice = re.search(r"'([^']*)' is not one of (.+?)\.?$", error.message or "")
        if choice:
            return t("usage.not_one_of", name=name, value=choice.group(1), choices=choice.group(2))
        return t("usage.bad_value", name=name, detail=_number_detail(error.message or ""))
    message = error.format_message()
    if message.startswith("No such command"):
        text = t("usage.no_such_command", detail=printable(message.split("'")[1] if "'" in message else message))
        suggestion = re.search(r"Did you mean (.+)\?$", message)
        if suggestion:
            text += "; " + t("usage.did_you_mean", names=suggestion.group(1))
        return text
    if message.startswith("Got unexpected extra argument"):
        return t("usage.extra_argument", detail=message.split("(")[-1].rstrip(")"))
    return t("usage.generic", detail=message)
