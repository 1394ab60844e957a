"""Splitting a ClickHouse SQL script into statements.

Neither chDB nor an HTTP request runs several statements at once, so a migration file
is cut at each ``;`` that is not inside a quoted string, a backquoted name or a comment.
"""

from __future__ import annotations

__all__ = ["split_statements"]

_QUOTES = {"'", '"', "`"}


def split_statements(script: str) -> list[str]:
    """The non-empty statements of ``script``, comments kept, without the ``;``."""
    statements: list[str] = []
    current: list[str] = []
    i = 0
    n = len(script)
    while i < n:
        ch = script[i]
        if ch in _QUOTES:
            end = _closing_quote(script, i)
            current.append(script[i:end])
            i = end
        elif script.startswith("--", i):
            end = script.find("\n", i)
            end = n if end < 0 else end
            current.append(script[i:end])
            i = end
        elif script.startswith("/*", i):
            end = script.find("*/", i + 2)
            end = n if end < 0 else end + 2
            current.append(script[i:end])
            i = end
        elif ch == ";":
            _flush(current, statements)
            current = []
            i += 1
        else:
            current.append(ch)
            i += 1
    _flush(current, statements)
    return statements


def _closing_quote(script: str, start: int) -> int:
    quote = script[start]
    i = start + 1
    while i < len(script):
        if script[i] == "\\":
            i += 2
            continue
        if script[i] == quote:
            return i + 1
        i += 1
    return len(script)


def _flush(parts: list[str], statements: list[str]) -> None:
    text = "".join(parts).strip()
    if _has_code(text):
        statements.append(text)


def _has_code(text: str) -> bool:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("--"):
            return True
    return False
