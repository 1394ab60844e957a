"""Reading one JSON document of a feed: a whole-file error names the file."""

from __future__ import annotations

import json
from typing import Any

from repotrack.errors import InputError

__all__ = ["load_json", "need_dict", "need_list", "need_str"]


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
