"""Import of a legacy patch-tracking ``settings.conf``.

The original service *executed* that file as Python. Here it is only parsed: each
non-comment line must be ``KEY = value`` where value is a quoted string or an integer.
Anything else is an error naming the line, so a hostile or broken file can neither
run code nor be half-understood.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from repotrack.config import parse_listen
from repotrack.errors import ConfigError

__all__ = ["LEGACY_KEYS", "legacy_to_settings", "parse_settings_conf"]

#: The keys the original understood, and what they become here.
LEGACY_KEYS = {
    "LISTEN": ("service", "listen"),
    "GITHUB_ACCESS_TOKEN": ("forges.github", "token"),
    "GITEE_ACCESS_TOKEN": ("forges.gitee", "token"),
    "SCAN_DB_INTERVAL": ("tracking", "scan_interval"),
    "USER": ("service", "user"),
    "PASSWORD": ("service", "password_hash"),
}


def parse_settings_conf(path: Path) -> dict[str, str | int]:
    """Parse ``KEY = "value"`` lines; values are stripped like the original (I1VP3C)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", source=str(path)) from exc
    values: dict[str, str | int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, rest = line.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ConfigError(f"line {number}: expected KEY = value", source=str(path))
        values[key] = _literal(rest.strip(), source=f"{path}:{number}")
    return values


def _literal(text: str, *, source: str) -> str | int:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise ConfigError("value must be a quoted string or an integer", source=source) from exc
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError("value must be a quoted string or an integer", source=source)
    return value.strip() if isinstance(value, str) else value


def legacy_to_settings(values: dict[str, str | int], *, source: str) -> dict[str, Any]:
    """Map parsed legacy values onto repotrack's settings tree (unknown keys are refused)."""
    tree: dict[str, Any] = {}
    for key, value in values.items():
        if key not in LEGACY_KEYS:
            raise ConfigError(f"unknown key {key}", source=source)
        if value == "" and key != "LISTEN":
            continue
        section, name = LEGACY_KEYS[key]
        if key == "LISTEN":
            parse_listen(str(value))
        if key == "SCAN_DB_INTERVAL":
            if not isinstance(value, int) and not str(value).isdigit():
                raise ConfigError("SCAN_DB_INTERVAL must be a number of seconds", source=source)
            value = int(value)
            if value <= 0:
                raise ConfigError("SCAN_DB_INTERVAL must be > 0", source=source)
        node = tree
        for part in section.split("."):
            node = node.setdefault(part, {})
        node[name] = value
    return tree
