"""GitHub security advisories, in either form GitHub publishes them.

- The advisory database (github/advisory-database) keeps each advisory as an OSV
  record: read by the OSV parser.
- The REST API (``GET https://api.github.com/advisories``, one advisory or a page of
  them) answers with its own shape: ``ghsa_id``, ``cve_id``, ``identifiers[]``,
  ``summary``, ``severity``, ``cvss.score``, ``published_at``, ``updated_at``,
  ``withdrawn_at``, ``references[]`` and ``vulnerabilities[]`` of ``{package:
  {ecosystem, name}, vulnerable_version_range, first_patched_version}``.

An API advisory becomes the record its OSV copy gives (same id and source, so the two
replace each other by date): its ecosystems take OSV's names (``pip`` → ``PyPI``), and
the range text (``>= 1.0, < 1.2.3``, ``<= 2.0``, ``= 1.0.0``) becomes bounds; a range
that is no such list of comparisons is kept as free text (the matcher says
``unknown``), and a patched version with no range text bounds the range above.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from repotrack.sources.vulns.jsondoc import load_json, need_dict, need_list, need_str
from repotrack.sources.vulns.osv import parse_osv
from repotrack.sources.vulns.records import (
    AffectedRange,
    RecordProblem,
    VulnRecord,
    keyed,
    parse_timestamp,
    raw_json,
    read_each,
)

__all__ = ["parse_ghsa"]

#: GitHub's ecosystem names → OSV's.
_ECOSYSTEMS: Final = {
    "pip": "PyPI",
    "npm": "npm",
    "maven": "Maven",
    "rubygems": "RubyGems",
    "go": "Go",
    "nuget": "NuGet",
    "composer": "Packagist",
    "rust": "crates.io",
    "erlang": "Hex",
    "actions": "GitHub Actions",
    "pub": "Pub",
    "swift": "SwiftURL",
}
_COMPARISON: Final = re.compile(r"^(>=|<=|>|<|=)\s*(\S+)$")


def parse_ghsa(data: bytes, *, path: str) -> Iterator[VulnRecord | RecordProblem]:
    """An advisory database (OSV) file, or a REST API advisory or page of advisories."""
    document = load_json(data, path=path)
    items = document if isinstance(document, list) else [document]
    if not any(isinstance(item, dict) and "ghsa_id" in item for item in items):
        yield from parse_osv(data, path=path)
        return
    yield from read_each(
        items, path, _record, check=keyed("ghsa_id", "a GitHub REST API advisory"), label="ghsa_id"
    )


def _record(item: dict[str, Any]) -> VulnRecord:
    ghsa = need_str(item.get("ghsa_id"), "ghsa_id")
    identifiers = [
        need_dict(i, "identifiers[]") for i in need_list(item.get("identifiers"), "identifiers")
    ]
    cves = [str(item["cve_id"])] if item.get("cve_id") else []
    cves += [str(i.get("value")) for i in identifiers if i.get("type") == "CVE"]
    references = [("CVE", cve) for cve in cves]
    references += [("web", str(url)) for url in need_list(item.get("references"), "references")]
    cvss = item.get("cvss")
    score = cvss.get("score") if isinstance(cvss, dict) else None
    published = parse_timestamp(item.get("published_at"), name="published_at")
    updated = item.get("updated_at")
    return VulnRecord(
        vuln_id=ghsa,
        source="osv:GHSA",
        summary=str(item.get("summary") or item.get("description") or ""),
        published=published,
        modified=parse_timestamp(updated, name="updated_at") if updated else published,
        raw=raw_json(item),
        score=float(score) if isinstance(score, int | float) else 0.0,
        severity=str(item.get("severity") or ""),
        url=str(item.get("html_url") or f"https://github.com/advisories/{ghsa}"),
        rejected=bool(item.get("withdrawn_at")),
        references=tuple(dict.fromkeys(references)),
        ranges=tuple(
            _range(need_dict(v, "vulnerabilities[]"))
            for v in need_list(item.get("vulnerabilities"), "vulnerabilities")
        ),
    )


def _range(vulnerability: dict[str, Any]) -> AffectedRange:
    package = need_dict(vulnerability.get("package"), "vulnerabilities[].package")
    ecosystem = need_str(package.get("ecosystem"), "package.ecosystem")
    name = need_str(package.get("name"), "package.name")
    criteria = f"osv:{_ECOSYSTEMS.get(ecosystem.lower(), ecosystem)}/{name}"
    text = str(vulnerability.get("vulnerable_version_range") or "").strip()
    patched = vulnerability.get("first_patched_version")
    if isinstance(patched, dict):  # {"identifier": "1.2.3"} in repository advisories
        patched = patched.get("identifier")
    if not text:
        return AffectedRange.checked(criteria, end=str(patched or ""), end_excluded=bool(patched))
    bounds: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(",")):
        found = _COMPARISON.match(part)
        if found is None:
            return AffectedRange(criteria, start=text, end=text, unknown=True)
        op, version = found.groups()
        if op in (">=", ">", "="):
            bounds.update(start=version, start_excluded=op == ">")
        if op in ("<=", "<", "="):
            bounds.update(end=version, end_excluded=op == "<")
    return AffectedRange.checked(criteria, **bounds)
