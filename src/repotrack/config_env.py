"""Settings values from ``REPOTRACK_*`` environment variables, as plain nested data.

The rules are the ones users know from pydantic-settings (``env_prefix="REPOTRACK_"``,
``env_nested_delimiter="__"``, names case-insensitive): ``REPOTRACK_<FIELD>`` sets a
top-level field, ``REPOTRACK_<FIELD>__<KEY>[__<KEY>...]`` one key inside it, a value
meant for a list, a table or a model is read as JSON, and the nested keys are merged
into a table given whole. Reading them here, not through pydantic-settings, saves
every command the import of that package (about 0.05 s of CPU, a quarter of a
no-change ``track run``'s start-up); the values are then validated by the
``Settings`` model like any other source.
"""

from __future__ import annotations

import json
import os
import types
from collections.abc import Mapping
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from repotrack.errors import ConfigError

__all__ = ["deep_merge", "env_values"]

_DELIMITER = "__"
_CONTAINERS = (list, dict, set, frozenset, tuple)


def env_values(
    model: type[BaseModel], prefix: str, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The values that ``environ`` (default: ``os.environ``) gives ``model``'s fields."""
    source = os.environ if environ is None else environ
    lowered = prefix.lower()
    env = {k.lower(): v for k, v in source.items() if k.lower().startswith(lowered)}
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = lowered + name
        value: Any = env.get(key)
        if value is not None and _is_complex(field.annotation):
            value = _decode(key, value, strict=True)
        nested = _nested(key, field.annotation, env)
        if isinstance(value, dict):
            value = deep_merge(value, nested)
        elif value is None and nested:
            value = nested
        if value is not None:
            values[name] = value
    return values


def _nested(key: str, annotation: Any, env: Mapping[str, str]) -> dict[str, Any]:
    """``<key>__a__b=v`` variables as ``{"a": {"b": v}}``, JSON decoded where the
    target is a list, a table or a model."""
    head = key + _DELIMITER
    result: dict[str, Any] = {}
    for name in sorted(n for n in env if n.startswith(head)):
        *path, last = name[len(head) :].split(_DELIMITER)
        node, target = result, annotation
        for part in path:
            target = _child(target, part)
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            target = _child(target, last)
            value: Any = env[name]
            if value and target is not None and _is_complex(target):
                value = _decode(name, value, strict=_is_field_of_model(annotation, path))
            node[last] = value
    return result


def _is_field_of_model(annotation: Any, path: list[str]) -> bool:
    """Whether the variable's last key names a declared field (a bad JSON value there is
    an error) rather than an entry of a table (kept as text when it is not JSON)."""
    target = _strip_optional(annotation)
    for part in path:
        target = _strip_optional(_child(target, part))
    return isinstance(target, type) and issubclass(target, BaseModel)


def _child(annotation: Any, key: str) -> Any:
    """The type found under ``key`` in ``annotation`` (a model or a table), else None."""
    target = _strip_optional(annotation)
    if isinstance(target, type) and issubclass(target, BaseModel):
        field = target.model_fields.get(key)
        return field.annotation if field is not None else None
    if get_origin(target) is dict:
        args = get_args(target)
        return args[1] if len(args) == 2 else None
    return None


def _strip_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _is_complex(annotation: Any) -> bool:
    target = _strip_optional(annotation)
    if target in _CONTAINERS or get_origin(target) in _CONTAINERS:
        return True
    return isinstance(target, type) and issubclass(target, BaseModel)


def _decode(name: str, value: str, *, strict: bool) -> Any:
    try:
        return json.loads(value)
    except ValueError as exc:
        if not strict:
            return value
        raise ConfigError(
            f"environment variable {name.upper()} must be JSON: {exc}", key=name.upper()
        ) from exc


def deep_merge(base: dict[str, Any], *updates: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by each of ``updates`` in turn, tables merged key by key."""
    merged = dict(base)
    for update in updates:
        for key, value in update.items():
            old = merged.get(key)
            if isinstance(old, dict) and isinstance(value, dict):
                merged[key] = deep_merge(old, value)
            else:
                merged[key] = value
    return merged
