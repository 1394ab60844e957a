"""ALT Linux's manual CVE checks (``CveChecked``, reference/altrepo.md §1.7 and §6).

Before ALTRepo had vulnerability matching, ALT's security team kept its decisions in the
table ``CveChecked``: per (CVE, source package) the status ``patched`` or
``manually_excluded`` (a false match: wrong CPE, another platform's issue), with the
versions and branches the decision was checked for. altrepodb ships the list as
``sql/CveChecked-initial.json`` and loads it with ``INSERT ... FORMAT JSONEachRow``; this
reads the same rows (one JSON object per line, or a JSON array of them):

    {"cve_id": "CVE-2008-3916", "pkg_name": "ed", "cc_checkdate": "2008-08-31 00:00:00",
     "cc_description": "fixed by ldv in 1:0.2-alt7", "cc_description_ru": "...",
     "cc_checked_ver.pkg_evr": ["0.2-alt7"], "cc_checked_ver.pkg_branch": ["*"],
     "cc_status": "patched"}

Each checked version is a condition on the package's version (``parse_condition``), as
ALT's team wrote them: ``*`` (every version), an EVR such as ``0.2-alt7``, ``1:0.2-alt7``
or ``1.4.23`` (that build and later ones), sometimes with the package's name in front
(``realmd-0.16.3-alt3``), or an operator and a version (``< 4``). A row that cannot be
read (not an object, an unknown status, a condition that is no version) is a
``RecordProblem`` naming its line; the other rows load.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from repotrack.errors import InputError
from repotrack.sources.feeds.common import numbered_lines
from repotrack.sources.vulns.records import RecordProblem, store_time

__all__ = [
    "CHECK_STATUSES",
    "CheckCondition",
    "CveCheck",
    "parse_condition",
    "parse_cve_checked",
]

#: ``cc_status`` as ALTRepo's ``Enum8('patched' = 0, 'manually_excluded' = 1)``, and the
#: verdict each gives.
CHECK_STATUSES: Final = {"patched": "fixed", "manually_excluded": "not_affected"}
_CVE_ID: Final = re.compile(r"^CVE-\d{4}-\d{4,}$")
_OPERATORS: Final = (">=", "<=", "==", ">", "<", "=")
#: rpm's version and release characters (``-`` separates them, ``:`` ends the epoch).
_PART: Final = re.compile(r"^[A-Za-z0-9._+~^]+$")


@dataclass(frozen=True)
class CheckCondition:
    """Which versions of the package a checked version covers.

    ``op`` compares the package's version with the bound (``>=`` for a plain EVR: the
    build checked and later ones); ``op`` empty covers every version (``*``). ``epoch``
    is None when the bound writes none: then the package's version and release are
    compared alone, as the matcher does with ranges written without an epoch
    (ALT writes ``0.2-alt7`` for ``1:0.2-alt7``). ``release`` empty compares the version
    alone (``1.4.23``, ``< 4``).
    """

    op: str
    epoch: int | None = None
    version: str = ""
    release: str = ""


@dataclass(frozen=True)
class CveCheck:
    """One ``CveChecked`` row."""

    cve_id: str
    pkg_name: str
    status: str  # patched | manually_excluded
    checked: datetime
    description: str
    description_ru: str
    versions: tuple[tuple[str, str], ...]  # (checked version as written, branch or "*")


def parse_cve_checked(data: bytes, *, path: str) -> Iterator[CveCheck | RecordProblem]:
    """The rows of one file: JSON objects one per line, or one JSON array of them."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", path=path) from exc
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"malformed JSON at line {exc.lineno}: {exc.msg}", path=path) from exc
        numbered: Iterator[tuple[str, Any]] = (
            (f"{path}: row {n}", item) for n, item in enumerate(items, 1)
        )
    else:
        numbered = _lines(text, path)
    for where, item in numbered:
        try:
            yield _check(item)
        except (ValueError, TypeError) as exc:
            yield RecordProblem(where, str(exc))


def _lines(text: str, path: str) -> Iterator[tuple[str, Any]]:
    """One JSON document per line (``numbered_lines``: a JSON string may hold U+2028 or
    U+0085 as it is, where ``str.splitlines`` would cut its row in two)."""
    for number, line in numbered_lines(text):
        if not line.strip():
            continue
        where = f"{path}: line {number}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as exc:
            yield where, ValueError(f"malformed JSON: {exc.msg}")


def _check(item: Any) -> CveCheck:
    if isinstance(item, ValueError):
        raise item
    if not isinstance(item, dict):
        raise ValueError("a CveChecked row is a JSON object")
    cve_id = _text(item, "cve_id").strip()
    if not _CVE_ID.match(cve_id):
        raise ValueError(f"cve_id {cve_id!r} is not a CVE id")
    pkg_name = _text(item, "pkg_name").strip()
    if not pkg_name:
        raise ValueError("pkg_name is empty")
    status = _text(item, "cc_status")
    if status not in CHECK_STATUSES:
        raise ValueError(f"cc_status {status!r} is none of {', '.join(CHECK_STATUSES)}")
    nested = item.get("cc_checked_ver")
    if isinstance(nested, dict):  # {"cc_checked_ver": {"pkg_evr": [...], ...}}
        evrs, branches = nested.get("pkg_evr"), nested.get("pkg_branch")
    else:
        evrs, branches = item.get("cc_checked_ver.pkg_evr"), item.get("cc_checked_ver.pkg_branch")
    if not isinstance(evrs, list) or not isinstance(branches, list):
        raise ValueError("cc_checked_ver.pkg_evr and cc_checked_ver.pkg_branch must be lists")
    if not evrs or len(evrs) != len(branches):
        raise ValueError("cc_checked_ver needs as many branches as versions, at least one")
    versions = tuple((str(e).strip(), str(b).strip()) for e, b in zip(evrs, branches, strict=True))
    for evr, branch in versions:
        if not branch:
            raise ValueError(f"checked version {evr!r} names no branch")
        parse_condition(evr, pkg_name)
    return CveCheck(
        cve_id=cve_id,
        pkg_name=pkg_name,
        status=status,
        checked=_date(item.get("cc_checkdate")),
        description=_text(item, "cc_description", required=False),
        description_ru=_text(item, "cc_description_ru", required=False),
        versions=versions,
    )


def parse_condition(written: str, pkg_name: str) -> CheckCondition:
    """The versions a checked version covers (see the module's docstring); ValueError
    when it is no version."""
    text = written.strip()
    if text == "*":
        return CheckCondition("")
    op = ">="
    for candidate in _OPERATORS:
        if text.startswith(candidate):
            op = "=" if candidate == "==" else candidate
            text = text[len(candidate) :].strip()
            break
    if text.startswith(f"{pkg_name}-"):  # "realmd-0.16.3-alt3"
        text = text[len(pkg_name) + 1 :]
    epoch_text, colon, rest = text.rpartition(":") if ":" in text else ("", "", text)
    version, dash, release = rest.rpartition("-") if "-" in rest else (rest, "", "")
    if (
        (colon and not epoch_text.isdigit())
        or not _PART.match(version)
        or (dash and not _PART.match(release))
    ):
        raise ValueError(f"checked version {written!r} is not [op] [epoch:]version[-release]")
    if colon and not release:
        raise ValueError(f"checked version {written!r} has an epoch but no release")
    return CheckCondition(op, int(epoch_text) if colon else None, version, release)


def _text(item: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = item.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{name} is missing or not text")
    return value


def _date(value: Any) -> datetime:
    """``cc_checkdate``: ``YYYY-MM-DD hh:mm:ss`` (ClickHouse's DateTime text, UTC), a date,
    or an ISO 8601 time."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("cc_checkdate is missing or not text")
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"cc_checkdate {value!r} is not a date and time") from None
    return store_time(when).replace(tzinfo=None)
