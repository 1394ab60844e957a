"""Reading one JSON document of a feed: a whole-file error names the file."""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator
from typing import Any, Final

from repotrack.errors import InputError

__all__ = ["iter_members", "load_json", "need_dict", "need_list", "need_str"]


def load_json(data: bytes, *, path: str) -> Any:
    """Parse ``data``; malformed or non-UTF-8 JSON is one ``InputError`` naming ``path``."""
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", path=path) from exc
    except json.JSONDecodeError as exc:
        raise InputError(
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", path=path
        ) from exc


_SPACE: Final = re.compile(r"[ \t\n\r]*")


def iter_members(
    data: bytes, *, path: str, stream: str | tuple[str, ...]
) -> Iterator[tuple[str, Any]]:
    """The members of the JSON object in ``data``, in document order, as ``(key, value)``;
    when the member ``stream`` (or one of the names ``stream`` lists) is an array, its
    items one by one as ``(stream + "[]", item)`` instead of one list, then ``(stream,
    [])``. A yearly NVD feed is hundreds of megabytes: parsed whole, its objects took about
    twelve times the file's size; streamed, one record at a time.

    A document that is not an object is yielded whole, as ``("", value)``. Malformed or
    non-UTF-8 JSON is an ``InputError`` naming ``path``, as ``load_json`` makes it, raised
    where the parse stops (the members and items before it have been yielded).
    """
    try:
        text = data.decode("utf-8-sig")  # a byte order mark, as json.loads reads it
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", path=path) from exc
    decode = json.JSONDecoder().raw_decode
    streams = (stream,) if isinstance(stream, str) else stream
    try:
        at = _skip(text, 0)
        if not text.startswith("{", at):
            yield "", json.loads(text)
            return
        at = _skip(text, at + 1)
        if text.startswith("}", at):
            at += 1
        else:
            while True:
                if not text.startswith('"', at):
                    raise json.JSONDecodeError(
                        "Expecting property name enclosed in double quotes", text, at
                    )
                key, at = decode(text, at)
                at = _expect(text, at, ":")
                if key in streams and text.startswith("[", at):
                    at = yield from _items(text, at + 1, decode, f"{key}[]")
                    yield key, []  # the array is over (its items came one by one)
                else:
                    value, at = decode(text, at)
                    yield key, value
                at = _skip(text, at)
                if text.startswith("}", at):
                    at += 1
                    break
                at = _expect(text, at, ",")
        if _skip(text, at) != len(text):
            raise json.JSONDecodeError("Extra data", text, at)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", path=path
        ) from exc


def _items(text: str, at: int, decode: Any, name: str) -> Generator[tuple[str, Any], None, int]:
    """The items of the array whose ``[`` ends before ``at``; returns the index after ``]``."""
    at = _skip(text, at)
    if text.startswith("]", at):
        return at + 1
    while True:
        item, at = decode(text, at)
        yield name, item
        at = _skip(text, at)
        if text.startswith("]", at):
            return at + 1
        at = _expect(text, at, ",")


def _skip(text: str, at: int) -> int:
    """The index of the first character at or after ``at`` that is not JSON white space."""
    found = _SPACE.match(text, at)
    return found.end() if found else at


def _expect(text: str, at: int, char: str) -> int:
    """The index after ``char`` (spaces before and after it skipped)."""
    at = _skip(text, at)
    if not text.startswith(char, at):
        raise json.JSONDecodeError(f"Expecting '{char}' delimiter", text, at)
    return _skip(text, at + 1)


def need_dict(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{name} is not an object")
    return value


def need_list(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{name} is not a list")
    return value


def need_str(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} is missing or not a string")
    return value
