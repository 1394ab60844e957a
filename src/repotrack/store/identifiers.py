"""Quoting table and column names, the one thing that cannot be a bound parameter in INSERT."""

from __future__ import annotations

import re

from repotrack.errors import InputError

__all__ = ["quote_identifier", "quote_string"]

# ALTRepo names are plain words; Nested sub-columns add one dot (pkg_changelog.date).
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def quote_identifier(name: str) -> str:
    """Backquote ``name`` after checking it is a plain identifier."""
    if not _IDENTIFIER.match(name):
        raise InputError("not a valid table or column name", field=repr(name))
    return f"`{name}`"


def quote_string(value: str) -> str:
    """A ClickHouse string literal, for the few places a value cannot be a parameter.

    Table-function arguments (the spool file of a chDB insert) are parsed before
    parameters are substituted; the value is always a path this program made.
    """
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"
