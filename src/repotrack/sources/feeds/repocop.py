"""Repocop's QA results (``packages.altlinux-<branch>.json.bz2``; §5.4).

A bzip2-compressed JSON array of objects whose keys are the ``PackagesRepocop``
column names. Decompression is bounded: a small file that inflates past ``max_bytes``
is refused instead of filling memory.
"""

from __future__ import annotations

import bz2
import json
from dataclasses import dataclass
from typing import Any

from repotrack.errors import InputError
from repotrack.sources.feeds.common import Parsed, Problem

__all__ = ["FIELDS", "RepocopResult", "parse_repocop"]

FIELDS = (
    "pkg_name",
    "pkg_version",
    "pkg_release",
    "pkg_arch",
    "pkgset_name",
    "rc_srcpkg_name",
    "rc_srcpkg_version",
    "rc_srcpkg_release",
    "rc_test_name",
    "rc_test_status",
    "rc_test_message",
)


@dataclass(frozen=True)
class RepocopResult:
    """One test result; ``values`` in ``FIELDS`` order."""

    values: tuple[str, ...]


def parse_repocop(data: bytes, *, source: str, max_bytes: int) -> Parsed[RepocopResult]:
    """Decompress (when bzip2) and read the array; objects missing a field are problems."""
    text = _decompress(data, source=source, max_bytes=max_bytes) if data[:3] == b"BZh" else data
    try:
        items = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not JSON: {exc}", path=source) from exc
    if not isinstance(items, list):
        raise InputError("expected a JSON array of test results", path=source)
    parsed: Parsed[RepocopResult] = Parsed()
    for index, item in enumerate(items, start=1):
        values = _values(item)
        if isinstance(values, str):
            parsed.problems.append(Problem(source, index, f"item {index}: {values}"))
        else:
            parsed.records.append(RepocopResult(values))
    return parsed


def _values(item: Any) -> tuple[str, ...] | str:
    if not isinstance(item, dict):
        return "not an object"
    missing = [name for name in FIELDS if not isinstance(item.get(name), str)]
    if missing:
        return f"missing or non-string {', '.join(missing)}"
    return tuple(item[name] for name in FIELDS)


def _decompress(data: bytes, *, source: str, max_bytes: int) -> bytes:
    decompressor = bz2.BZ2Decompressor()
    try:
        out = decompressor.decompress(data, max_length=max_bytes + 1)
    except (OSError, EOFError) as exc:
        raise InputError(f"corrupt bzip2 data: {exc}", path=source) from exc
    if len(out) > max_bytes:
        raise InputError(f"decompresses to more than {max_bytes} bytes", path=source)
    if not decompressor.eof:
        raise InputError("truncated bzip2 data", path=source)
    return out
