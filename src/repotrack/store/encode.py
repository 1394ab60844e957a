"""Python rows -> a ``JSONCompactColumns`` payload typed by the target columns.

chDB takes an INSERT's data as a byte stream in any ClickHouse input format. This
columnar JSON form is built by one ``json.dumps`` call per batch (C speed), needs no
pandas or pyarrow (pyarrow imports pandas on first use: seconds per process), and
carries every value as data, never as SQL text. Values that JSON cannot hold as such
are converted per column: FixedString bytes travel as raw bytes inside the JSON
string (decoded and re-encoded with ``surrogateescape``, which ClickHouse reads back
byte for byte), DateTime as epoch seconds, UUID and Date as text, Enum numbers as names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from repotrack.errors import InputError
from repotrack.store.chtypes import CHType, parse_type

__all__ = ["encode_columns", "native_columns"]

Converter = Callable[[Any], Any]

_PLAIN = {
    "UInt8", "UInt16", "UInt32", "UInt64", "Int8", "Int16", "Int32", "Int64",
    "Float32", "Float64", "Bool", "String",
}  # fmt: skip


def encode_columns(
    table: str, columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]
) -> bytes:
    """Encode ``rows`` (in ``columns`` order) as one JSONCompactColumns document."""
    data = _columns(table, columns, types, rows, native=False)
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_default)
    except (TypeError, ValueError) as exc:
        raise InputError(str(exc), path=table) from exc
    return text.encode("utf-8", "surrogateescape")


def native_columns(
    table: str, columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[list[Any]]:
    """The same checks and conventions as ``encode_columns``, as Python columns for
    clickhouse-connect (FixedString zero-padded bytes, Enum names, UTC datetimes)."""
    return _columns(table, columns, types, rows, native=True)


def _columns(
    table: str,
    columns: Sequence[str],
    types: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    native: bool,
) -> list[list[Any]]:
    try:
        values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    except ValueError:
        values = []
    if len(values) != len(columns):
        widths = sorted({len(row) for row in rows})
        raise InputError(f"rows have {widths} values for {len(columns)} columns", path=table)
    data: list[list[Any]] = []
    for name, type_text, column in zip(columns, types, values, strict=True):
        convert = _converter(parse_type(type_text), native)
        try:
            data.append(list(column) if convert is None else [convert(v) for v in column])
        except (ValueError, TypeError, OverflowError, AttributeError) as exc:
            raise InputError(f"bad value for {type_text}: {exc}", path=table, field=name) from exc
    return data


def _default(value: Any) -> Any:
    """Values JSON has no form for: bytes for String columns, else a clear refusal."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "surrogateescape")
    raise TypeError(f"cannot insert a {type(value).__name__} value")


def _converter(t: CHType, native: bool) -> Converter | None:
    t = t.unwrap()
    if t.name in _PLAIN:
        return None  # json.dumps writes them as they are; bytes go through _default
    if t.name == "Nullable":
        return _nullable(_converter(t.arg_type(), native))
    if t.name == "FixedString":
        return _fixed(int(str(t.args[0])), native)
    if t.name == "UUID":
        return None if native else str
    if t.name == "DateTime":
        return _epoch
    if t.name == "DateTime64":
        return _utc_datetime if native else _datetime64
    if t.name in {"Date", "Date32"}:
        return _day if native else _date
    if t.name in {"Enum8", "Enum16"}:
        return _enum(t)
    if t.name == "Array":
        return _array(_converter(t.arg_type(), native))
    if t.name == "Map":
        return _map(_converter(t.arg_type(0), native), _converter(t.arg_type(1), native))
    return None


def _nullable(inner: Converter | None) -> Converter:
    def convert(value: Any) -> Any:
        return None if value is None or inner is None else inner(value)

    return convert


def _fixed(size: int, native: bool) -> Converter:
    def convert(value: Any) -> str | bytes:
        raw = value.encode() if isinstance(value, str) else bytes(value)
        if len(raw) > size:
            raise ValueError(f"{len(raw)} bytes do not fit")
        padded = raw.ljust(size, b"\0")
        return padded if native else padded.decode("utf-8", "surrogateescape")

    return convert


def _epoch(value: Any) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp())
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"expected datetime or int seconds, got {type(value).__name__}")


def _datetime64(value: Any) -> Any:
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value
        return utc.strftime("%Y-%m-%d %H:%M:%S.%f")
    return _epoch(value)


def _utc_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(_epoch(value), UTC)


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected date, got {type(value).__name__}")


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"expected date, got {type(value).__name__}")


def _enum(t: CHType) -> Converter:
    names: dict[int, str] = {}
    for arg in t.args:
        label, _, number = str(arg).rpartition("=")
        names[int(number)] = label.strip().strip("'")
    known = {name: name for name in names.values()}

    def convert(value: Any) -> str:
        name = known.get(value) if isinstance(value, str) else names.get(value)
        if name is None:
            raise ValueError(f"{value!r} is not a value of {t.name}")
        return name

    return convert


def _array(inner: Converter | None) -> Converter:
    def convert(value: Any) -> list[Any]:
        if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        return list(value) if inner is None else [inner(v) for v in value]

    return convert


def _map(key: Converter | None, item: Converter | None) -> Converter:
    def convert(value: Any) -> dict[Any, Any]:
        if not isinstance(value, dict):
            raise TypeError(f"expected a dict, got {type(value).__name__}")
        return {(key(k) if key else k): (item(v) if item else v) for k, v in value.items()}

    return convert
