"""OSV records, any ecosystem (reference/vuln-formats.md §3 and the OSV schema 1.x).

Each ``affected[]`` package becomes the criteria ``osv:<ecosystem>/<name>``; the
mapping table (``PackagesNameConversion``, type ``osv``) ties a distribution package to
it. ``ECOSYSTEM`` and ``SEMVER`` ranges are read as the schema's evaluation reads them:
events sorted by version (rpm's order, which is the order the matcher compares in);
``introduced`` opens a range (``0`` = from the beginning), ``fixed`` closes it excluded,
``last_affected`` closes it included; a range left open runs to the end, or to the
greatest ``limit``. Listed ``versions`` count beside the ranges, as the schema's
``IsVulnerable`` and osv.dev count them: each becomes a single-version range unless a
range of the same entry already holds it. ``GIT`` ranges name commits, not versions,
and are skipped. ``withdrawn`` records are kept and marked rejected. CVE ids named in
``aliases``, ``upstream`` and ``related`` become ``CVE`` references.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Final

from repotrack.errors import InputError
from repotrack.rpm import evr_key, parse_evr, version_key
from repotrack.sources.vulns.jsondoc import load_json, need_dict, need_list, need_str
from repotrack.sources.vulns.records import (
    AffectedRange,
    RecordProblem,
    VulnRecord,
    names_evrs,
    parse_timestamp,
    raw_json,
    read_each,
)

__all__ = ["parse_osv"]

_VERSIONED: Final = ("ECOSYSTEM", "SEMVER")


def parse_osv(data: bytes, *, path: str) -> Iterator[VulnRecord | RecordProblem]:
    """The record of one OSV file (a JSON list of records is read as well)."""
    document = load_json(data, path=path)
    items = document if isinstance(document, list) else [document]
    yield from read_each(items, path, _record, check=_check, label="id")


def _check(item: Any, where: str) -> None:
    if not isinstance(item, dict):
        raise InputError("an OSV record is a JSON object", path=where)
    version = str(item.get("schema_version", "1.0.0"))
    if not version.startswith("1."):
        raise InputError(f"unknown OSV schema_version {version!r} (1.x is read)", path=where)


def _record(item: dict[str, Any]) -> VulnRecord:
    osv_id = need_str(item.get("id"), "id")
    modified = parse_timestamp(item.get("modified"), name="modified")
    published = parse_timestamp(item.get("published") or item.get("modified"), name="published")
    linked = [
        *need_list(item.get("aliases"), "aliases"),
        *need_list(item.get("upstream"), "upstream"),
        *need_list(item.get("related"), "related"),
    ]
    references = [("CVE", str(v)) for v in linked if str(v).startswith("CVE-")]
    references += [
        ("web", str(r["url"]))
        for r in need_list(item.get("references"), "references")
        if isinstance(r, dict) and r.get("url")
    ]
    specific = item.get("database_specific")
    severity = str(specific.get("severity", "")) if isinstance(specific, dict) else ""
    return VulnRecord(
        vuln_id=osv_id,
        source=f"osv:{osv_id.split('-', 1)[0]}",
        summary=str(item.get("summary") or item.get("details") or ""),
        published=published,
        modified=modified,
        raw=raw_json(item),
        severity=severity,
        url=f"https://osv.dev/vulnerability/{osv_id}",
        rejected=bool(item.get("withdrawn")),
        references=tuple(dict.fromkeys(references)),
        ranges=tuple(_affected(need_list(item.get("affected"), "affected"))),
    )


def _affected(entries: list[Any]) -> Iterator[AffectedRange]:
    for entry in entries:
        package = need_dict(need_dict(entry, "affected[]").get("package"), "affected[].package")
        criteria = (
            f"osv:{need_str(package.get('ecosystem'), 'package.ecosystem')}/"
            f"{need_str(package.get('name'), 'package.name')}"
        )
        ranges = [need_dict(r, "ranges[]") for r in need_list(entry.get("ranges"), "ranges")]
        versioned = [
            found
            for r in ranges
            if r.get("type") in _VERSIONED
            for found in _events(criteria, need_list(r.get("events"), "events"))
        ]
        yield from versioned
        for version in need_list(entry.get("versions"), "versions"):
            single = AffectedRange.checked(criteria, start=str(version), end=str(version))
            if not any(_holds(found, single) for found in versioned):
                yield single


def _events(criteria: str, events: list[Any]) -> Iterator[AffectedRange]:
    """The ranges of one OSV range's events, as the schema's evaluation reads them: the
    events sorted by version, a version affected from an ``introduced`` at or below it
    until a ``fixed`` at or below it (or a ``last_affected`` below it), so a second
    ``introduced`` inside an open range changes nothing; and, with ``limit`` events,
    only versions below the greatest limit (``*`` = no limit)."""
    steps: list[tuple[str, str]] = []
    for event in events:
        step = need_dict(event, "events[]")
        if len(step) != 1:
            raise ValueError(f"an OSV event has exactly one key, not {sorted(step)}")
        ((kind, value),) = step.items()
        if kind not in _EVENT_ORDER and kind != "limit":
            raise ValueError(f"unknown OSV event {kind!r}")
        steps.append((kind, str(value)))
    key = _version_key([value for _, value in steps])
    intervals: list[tuple[str, str, bool]] = []  # (start, end, end included)
    start: str | None = None
    for kind, value in sorted(
        (step for step in steps if step[0] != "limit"),
        key=lambda step: (b"" if step == ("introduced", "0") else key(step[1]),
                          _EVENT_ORDER[step[0]]),
    ):  # fmt: skip
        if kind == "introduced" and start is None:
            start = "" if value == "0" else value
        elif kind != "introduced" and start is not None:
            intervals.append((start, value, kind == "last_affected"))
            start = None
    if start is not None:  # open: no end (written "included", as records always were)
        intervals.append((start, "", True))
    limits = [value for kind, value in steps if kind == "limit"]
    limit = None if not limits or any("*" in v for v in limits) else max(limits, key=key)
    for low, high, included in intervals:
        if limit is not None:
            if low and key(low) >= key(limit):
                continue
            if not high or key(high) > key(limit) or (included and key(high) == key(limit)):
                high, included = limit, False
        yield AffectedRange.checked(criteria, start=low, end=high, end_excluded=not included)


def _holds(found: AffectedRange, single: AffectedRange) -> bool:
    """Whether every package the single-version range ``single`` matches is matched by
    ``found`` already, so that the listed version adds no row. A listed version is
    affected whatever the ranges say (the schema's ``IncludedInVersions``), and osv.dev
    lists versions in the ecosystem's own order, which can put one outside the range
    in rpm's (PyPI's ``2.0.0rc1`` before a ``fixed: 2.0.0``); records that list every
    version of their ranges (osv.dev's Debian, Ubuntu and PyPI exports) would
    otherwise store each again. Only a sure answer says yes: both ranges compared the
    same way by the matcher (``ingest.vulns`` and ``matching._PAIRS``: whole EVRs or
    versions, an epoch written or not, module builds or not) and the version inside
    ``found``'s bounds."""
    if found.unknown or single.unknown:
        return False
    if not found.start and not found.end:
        return True  # every version, whatever the comparison
    bounds = [b for b in (found.start, found.end) if b]
    version = single.start
    evr = names_evrs(bounds)
    if evr != names_evrs([version]):
        return False
    if evr and (
        any(":" in b for b in bounds) != (":" in version)
        or any(".module" in b for b in bounds) != (".module" in version)
    ):
        return False
    key = _version_key(bounds)
    at = key(version)
    if found.start and (at <= key(found.start) if found.start_excluded else at < key(found.start)):
        return False
    return not found.end or (at < key(found.end) if found.end_excluded else at <= key(found.end))


#: Events of the same version: the one that opens a range first.
_EVENT_ORDER: Final = {"introduced": 0, "fixed": 1, "last_affected": 1}


def _version_key(values: list[str]) -> Callable[[str], bytes]:
    """How the events of one range sort: rpm's order, on whole EVRs when any event
    names one (as the matcher then compares them: ``ingest.vulns``), else on versions."""
    if names_evrs(values):
        return lambda value: evr_key(*parse_evr(value))
    return version_key
