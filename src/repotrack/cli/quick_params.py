"""Option and argument values converted without building a pydantic adapter per parameter.

Why: Typer (0.2x with its own copy of click) converts every parameter value through a
pydantic ``TypeAdapter`` it builds for that parameter on each run, even for an option
that was not given (``--help`` included). Importing pydantic's validation machinery
and building a core schema per parameter was more than half of ``repotrack load repo
--help`` (callgrind: 719 million instructions before this module, 331 million after).

The plain cases are converted here directly, with the results Typer's adapters give:
a ``str`` argument stays as it is (and a ``list[str]`` of them becomes a list), a decimal
``int`` becomes an ``int``, a ``Path`` is checked by Typer's own path checks, an Enum or
Literal is matched by Typer's own choice matching. Everything else, and every value
these rules do not take (a signed number, an empty path, a choice that matches
nothing), goes to Typer's own conversion, so errors and unusual types are exactly
Typer's. A value that was not given (``None``) never reaches a conversion: Typer's
``RuntimeParam.coerce`` returns it before.

This leans on Typer internals (``_TyperParameter._runtime_param``, ``TypeDescriptor``,
``RuntimeParam``); where they are not there, nothing is changed and Typer converts as
usual. ``tests/unit/cli/test_quick_params.py`` compares both conversions value by value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
    from typer._param_types import coerce_cli_choice, coerce_cli_path, routes_to_path
    from typer.core import _TyperParameter
except ImportError:  # another Typer: its own conversion runs
    _SUPPORTED = False
else:
    _SUPPORTED = True

__all__ = ["QuickParse", "install", "quick_value", "with_quick_parse"]

#: Returned by ``quick_value`` when Typer's own conversion must decide.
DECLINED: Any = object()
#: Decimal strings up to this length become ints here (pydantic takes any length).
_MAX_DIGITS = 18


def quick_value(descriptor: Any, value: Any, param: Any = None, ctx: Any = None) -> Any:
    """``value`` converted as Typer's adapter for ``descriptor`` would, or ``DECLINED``."""
    info = descriptor.parameter_info
    annotation = descriptor.annotation
    if descriptor.file_annotation is not None or info.parser is not None:
        return DECLINED
    if descriptor.is_list:
        if annotation != list[str] or not isinstance(value, list | tuple):
            return DECLINED
        return list(value) if all(type(item) is str for item in value) else DECLINED
    if descriptor.is_tuple:
        return DECLINED
    if descriptor.is_choice:
        choices = descriptor.choices
        if choices is None:
            return DECLINED
        try:
            return coerce_cli_choice(
                value, choices=choices, case_sensitive=descriptor.case_sensitive, ctx=ctx
            )
        except ValueError:
            return DECLINED
    if annotation is str:
        return value if type(value) is str else DECLINED
    if annotation is bool:
        return value if type(value) is bool else DECLINED
    if annotation is int:
        if info.min is not None or info.max is not None or info.clamp:
            return DECLINED
        if type(value) is int:
            return value
        if type(value) is str and 0 < len(value) <= _MAX_DIGITS and value.isascii():
            return int(value) if value.isdigit() else DECLINED
        return DECLINED
    if annotation is Path and info.path_type is None and routes_to_path(annotation, info):
        if type(value) is str and value:
            value = Path(value)  # what pydantic makes of a non-empty str for Typer
        elif not isinstance(value, Path):
            return DECLINED
        try:
            return coerce_cli_path(value, info, path_type=Path, param=param, ctx=ctx)
        except Exception:  # Typer's own conversion raises its own error
            return DECLINED
    return DECLINED


if _SUPPORTED:

    @dataclass(frozen=True)
    class _QuickParam(RuntimeParam):
        """Converts the plain cases itself; hands anything else to Typer's conversion."""

        descriptor: TypeDescriptor

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            quick = quick_value(self.descriptor, value, param, ctx)
            if quick is not DECLINED:
                return quick
            full = build_runtime_param(self.descriptor)
            param._runtime_param = full
            return full._coerce_value(value, param=param, ctx=ctx)


def install(command: Any, ctx: Any = None) -> Any:
    """Give each parameter of ``command`` (a click command Typer built) the quick
    conversion, and with ``ctx`` its ``--help`` option too (made per context, and
    converted like any flag, its ``None`` included); returns ``command``. Parameters
    already converted once keep theirs."""
    if not _SUPPORTED:
        return command
    params = list(getattr(command, "params", ()))
    if ctx is not None and hasattr(command, "get_help_option"):
        params.append(command.get_help_option(ctx))
    for param in params:
        if not isinstance(param, _TyperParameter):
            continue
        descriptor = getattr(param, "type_descriptor", None)
        if getattr(param, "_runtime_param", DECLINED) is not None or descriptor is None:
            continue
        param._runtime_param = _QuickParam(
            parameter_info=descriptor.parameter_info,
            annotation=descriptor.annotation,
            descriptor=descriptor,
        )
    return command


class QuickParse:
    """Mixed into a click command class: its parameters get the quick conversion when
    it parses its arguments (the first moment its context, so its ``--help``, exists)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        install(self, ctx)
        parsed: list[str] = super().parse_args(ctx, args)  # type: ignore[misc]
        return parsed


_quick_classes: dict[type, type] = {}


def with_quick_parse(command: Any) -> Any:
    """``command`` (a click command Typer built) made an instance of a subclass of its
    class whose ``parse_args`` installs the quick conversion first; returns it.

    A direct subclass, not ``QuickParse`` mixed in: CPython allows ``__class__`` to
    change only between classes of one layout, and a mixin placed first changes it.
    """
    cls = type(command)
    if isinstance(command, QuickParse) or cls in _quick_classes.values() or not _SUPPORTED:
        return command
    quick = _quick_classes.get(cls)
    if quick is None:

        def parse_args(self: Any, ctx: Any, args: list[str]) -> list[str]:
            install(self, ctx)
            parsed: list[str] = cls.parse_args(self, ctx, args)
            return parsed

        namespace = {"parse_args": parse_args, "__module__": cls.__module__}
        quick = _quick_classes[cls] = type(cls.__name__, (cls,), namespace)
    command.__class__ = quick
    return command
