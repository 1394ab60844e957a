"""ClickHouse type strings, parsed into a small tree, and value conversions by type.

The chDB backend reads results as ``JSONCompactEachRowWithNamesAndTypes``; it and the
Native encoder (``native``) need to know each column's ClickHouse type to give callers the same
Python values the clickhouse-connect backend gives (see ``base`` for the table).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["CHType", "parse_type", "result_converter"]

Converter = Callable[[Any], Any]


@dataclass(frozen=True)
class CHType:
    """A parsed type: ``name`` plus its arguments (types, or literal text for others)."""

    name: str
    args: tuple[CHType | str, ...] = ()

    def arg_type(self, index: int = 0) -> CHType:
        arg = self.args[index]
        assert isinstance(arg, CHType)
        return arg

    def unwrap(self) -> CHType:
        """Strip ``LowCardinality`` (a storage detail with no effect on values)."""
        return self.arg_type().unwrap() if self.name == "LowCardinality" else self


_TYPE_ARG_NAMES = {"Nullable", "LowCardinality", "Array", "Map", "Tuple", "Nested"}


@lru_cache(maxsize=512)
def parse_type(text: str) -> CHType:
    """Parse ``Array(LowCardinality(String))`` and the like."""
    text = text.strip()
    open_at = text.find("(")
    if open_at < 0 or not text.endswith(")"):
        return CHType(text)
    name = text[:open_at].strip()
    parts = _split_args(text[open_at + 1 : -1])
    if name in _TYPE_ARG_NAMES:
        return CHType(name, tuple(parse_type(_drop_element_name(p)) for p in parts))
    return CHType(name, tuple(parts))


def _drop_element_name(part: str) -> str:
    """``Tuple(a UInt8, b String)`` and ``Nested(k String)`` name their elements."""
    head, _, rest = part.partition(" ")
    if rest and "(" not in head and head[:1].islower():
        return rest
    return part


def _split_args(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    quoted = False
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == "'":
                quoted = False
        elif ch == "'":
            quoted = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
        i += 1
    parts.append(text[start:].strip())
    return parts


def timezone_of(t: CHType, position: int) -> tzinfo:
    """The zone named in ``DateTime('Europe/Moscow')``, UTC when none is named."""
    if len(t.args) > position:
        arg = t.args[position]
        if isinstance(arg, str):
            return ZoneInfo(arg.strip("' "))
    return UTC


# -- results (JSON text -> Python) ------------------------------------------------------


def result_converter(type_text: str) -> Converter | None:
    """A function turning a JSON-decoded value into its Python value; None = as is."""
    return _converter(parse_type(type_text))


def _converter(t: CHType) -> Converter | None:
    t = t.unwrap()
    simple = _SIMPLE_RESULT.get(t.name)
    if simple is not None:
        return simple
    if t.name in {"DateTime", "DateTime64"}:
        return _datetime_reader(timezone_of(t, 0 if t.name == "DateTime" else 1))
    if t.name == "Nullable":
        return _nullable(_converter(t.arg_type()))
    if t.name == "Array":
        return _array(_converter(t.arg_type()))
    if t.name == "Map":
        return _map(_converter(t.arg_type(0)), _converter(t.arg_type(1)))
    if t.name == "Tuple":
        return _tuple([_converter(a) for a in t.args if isinstance(a, CHType)])
    return None


def _fixed_string(value: str) -> bytes:
    # The JSON text was decoded with surrogateescape, so raw bytes come back exactly.
    return value.encode("utf-8", "surrogateescape")


_SIMPLE_RESULT: dict[str, Converter] = {
    "FixedString": _fixed_string,
    "UUID": uuid.UUID,
    "Date": date.fromisoformat,
    "Date32": date.fromisoformat,
    "Bool": bool,
}


def _datetime_reader(zone: tzinfo) -> Converter:
    def read(value: str) -> datetime:
        return datetime.fromisoformat(value).replace(tzinfo=zone).astimezone(UTC)

    return read


def _nullable(inner: Converter | None) -> Converter | None:
    if inner is None:
        return None  # NULL reads as None, any other value as it is
    convert = inner

    def read(value: Any) -> Any:
        return None if value is None else convert(value)

    return read


def _array(inner: Converter | None) -> Converter:
    if inner is None:
        return list
    item = inner

    def read(value: list[Any]) -> list[Any]:
        return [item(v) for v in value]

    return read


def _map(key: Converter | None, val: Converter | None) -> Converter:
    def read(value: dict[str, Any]) -> dict[Any, Any]:
        return {(key(k) if key else k): (val(v) if val else v) for k, v in value.items()}

    return read


def _tuple(items: list[Converter | None]) -> Converter:
    def read(value: list[Any] | dict[str, Any]) -> tuple[Any, ...]:
        values = list(value.values()) if isinstance(value, dict) else value
        return tuple(c(v) if c else v for c, v in zip(items, values, strict=False))

    return read
