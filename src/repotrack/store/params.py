"""Rendering query parameters for ClickHouse's server-side ``{name:Type}`` binding.

ClickHouse parses a bound value with the declared type's *escaped* text reader (the
format of HTTP ``param_<name>`` arguments): backslash, tab and newline must be
escaped, everything else is literal data. chDB forwards values unchanged, so we
render them here; the value never becomes SQL syntax, whatever it contains.
Array values use the quoted literal form ``['a','b']`` inside that text.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from repotrack.errors import InputError

__all__ = ["render_params", "render_value"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ESCAPED = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})
_QUOTED = str.maketrans({"\\": "\\\\", "'": "\\'", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def render_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Render every parameter; names must be plain identifiers."""
    if not params:
        return {}
    rendered: dict[str, str] = {}
    for name, value in params.items():
        if not _NAME.match(name):
            raise InputError("not a valid parameter name", field=repr(name))
        rendered[name] = render_value(value, field=name)
    return rendered


def render_value(value: Any, *, field: str = "param") -> str:
    """One value in ClickHouse's escaped text form."""
    if value is None:
        return "\\N"
    if isinstance(value, list | tuple):
        return _array(value, field)
    return _scalar(value, field).translate(_ESCAPED)


def _scalar(value: Any, field: str) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return _utc(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise InputError(f"cannot bind a {type(value).__name__} value", field=field)


def _array(values: list[Any] | tuple[Any, ...], field: str) -> str:
    return "[" + ",".join(_literal(item, field) for item in values) + "]"


def _literal(value: Any, field: str) -> str:
    """An element inside an array parameter, in SQL-literal quoting."""
    if isinstance(value, list | tuple):
        return _array(value, field)
    if value is None:
        return "NULL"
    if isinstance(value, bool | int | float):
        return _scalar(value, field)
    return "'" + _scalar(value, field).translate(_QUOTED) + "'"


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)
