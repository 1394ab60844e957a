"""SPDX license-list-data (§5.6): ``json/details/*.json`` and ``json/exceptions/*.json``.

Each license or exception becomes one ``SpdxRecord``, with the column meanings of
``SPDXLicenses``: an exception's ``licenseComments`` is stored as its header.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repotrack.sources.feeds.common import Parsed, Problem

__all__ = ["SpdxRecord", "read_spdx_tree"]


@dataclass(frozen=True)
class SpdxRecord:
    spdx_id: str
    spdx_name: str
    spdx_text: str
    spdx_header: str
    spdx_urls: tuple[str, ...]
    spdx_type: str  # "license" or "exception"


_KINDS = (
    ("details", "license", "licenseId", "licenseText", "standardLicenseHeader"),
    ("exceptions", "exception", "licenseExceptionId", "licenseExceptionText", "licenseComments"),
)


def read_spdx_tree(root: Path) -> Parsed[SpdxRecord]:
    """Every record under ``root/json``; unreadable or incomplete files are problems."""
    parsed: Parsed[SpdxRecord] = Parsed()
    for folder, kind, id_key, text_key, header_key in _KINDS:
        for path in sorted((root / "json" / folder).glob("*.json")):
            record = _record(path, kind, id_key, text_key, header_key)
            if isinstance(record, str):
                parsed.problems.append(Problem(str(path), 0, record))
            else:
                parsed.records.append(record)
    return parsed


def _record(path: Path, kind: str, id_key: str, text_key: str, header_key: str) -> SpdxRecord | str:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"unreadable: {exc}"
    if not isinstance(data, dict):
        return "not a JSON object"
    if not all(isinstance(data.get(key), str) for key in (id_key, "name", text_key)):
        return f"missing {id_key}, name or {text_key}"
    urls = data.get("seeAlso") or []
    return SpdxRecord(
        spdx_id=data[id_key],
        spdx_name=data["name"],
        spdx_text=data[text_key],
        spdx_header=str(data.get(header_key) or ""),
        spdx_urls=tuple(str(u) for u in urls if isinstance(u, str)),
        spdx_type=kind,
    )
