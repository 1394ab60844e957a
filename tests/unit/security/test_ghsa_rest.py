"""GitHub's REST API advisories (``GET /advisories``), written here from the fields
GitHub's API description lists for a global advisory; the advisory database's OSV
files still go to the OSV reader."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from repotrack.errors import InputError
from repotrack.ingest.vulns import load_vulns
from repotrack.security import rematch_branch, set_mapping
from repotrack.sources.vulns import PARSERS, VulnRecord
from repotrack.store import Store
from tests.unit.rpm.librpm import label_compare
from tests.unit.store.rows import load_branch_snapshot, package


def _advisory(ghsa: str, **changes: Any) -> dict[str, Any]:
    advisory: dict[str, Any] = {
        "ghsa_id": ghsa,
        "cve_id": "CVE-2099-0101",
        "url": f"https://api.github.com/advisories/{ghsa}",
        "html_url": f"https://github.com/advisories/{ghsa}",
        "summary": "Django SQL injection",
        "description": "A crafted query ...",
        "type": "reviewed",
        "severity": "high",
        "identifiers": [{"value": ghsa, "type": "GHSA"}, {"value": "CVE-2099-0101", "type": "CVE"}],
        "references": ["https://www.djangoproject.com/weblog/"],
        "published_at": "2099-01-02T10:00:00Z",
        "updated_at": "2099-01-03T10:00:00Z",
        "withdrawn_at": None,
        "vulnerabilities": [
            {
                "package": {"ecosystem": "pip", "name": "django"},
                "vulnerable_version_range": ">= 3.2, < 3.2.5",
                "first_patched_version": "3.2.5",
                "vulnerable_functions": [],
            }
        ],
        "cvss": {"vector_string": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "score": 9.8},
    }
    advisory.update(changes)
    return advisory


def _read(document: Any) -> list[Any]:
    return list(PARSERS["ghsa"](json.dumps(document).encode(), path="advisories.json"))


def test_a_rest_page_becomes_osv_style_records() -> None:
    withdrawn = _advisory(
        "GHSA-bbbb-bbbb-bbbb",
        cve_id=None,
        identifiers=[],
        withdrawn_at="2099-02-01T00:00:00Z",
        vulnerabilities=[
            {"package": {"ecosystem": "npm", "name": "left-pad"},
             "vulnerable_version_range": "<= 1.0.0", "first_patched_version": None},
            {"package": {"ecosystem": "rubygems", "name": "rack"},
             "vulnerable_version_range": "= 2.0.1", "first_patched_version": "2.0.2"},
            {"package": {"ecosystem": "composer", "name": "a/b"},
             "vulnerable_version_range": "all before the fix", "first_patched_version": "1.0"},
        ],
    )  # fmt: skip
    first, second = _read([_advisory("GHSA-aaaa-aaaa-aaaa"), withdrawn])
    assert isinstance(first, VulnRecord) and isinstance(second, VulnRecord)
    assert (first.vuln_id, first.source, first.score, first.severity, first.rejected) == (
        "GHSA-aaaa-aaaa-aaaa", "osv:GHSA", 9.8, "high", False,
    )  # fmt: skip
    assert first.references[0] == ("CVE", "CVE-2099-0101")
    (django,) = first.ranges
    bounds = (django.start, django.start_excluded, django.end, django.end_excluded)
    assert (django.criteria, *bounds) == ("osv:PyPI/django", "3.2", False, "3.2.5", True)
    assert second.rejected and not any(t == "CVE" for t, _ in second.references)
    left_pad, rack, free = second.ranges
    assert (left_pad.criteria, left_pad.start, left_pad.end, left_pad.end_excluded) == (
        "osv:npm/left-pad", "", "1.0.0", False,
    )  # fmt: skip
    assert (rack.criteria, rack.start, rack.end) == ("osv:RubyGems/rack", "2.0.1", "2.0.1")
    assert free.criteria == "osv:Packagist/a/b" and free.unknown


def test_the_advisory_databases_osv_files_still_read() -> None:
    osv = {
        "id": "GHSA-cccc-cccc-cccc",
        "modified": "2099-01-03T10:00:00Z",
        "aliases": ["CVE-2099-0102"],
        "affected": [{"package": {"ecosystem": "PyPI", "name": "django"},
                      "ranges": [{"type": "ECOSYSTEM",
                                  "events": [{"introduced": "0"}, {"fixed": "4.0"}]}]}],
    }  # fmt: skip
    (record,) = _read(osv)
    assert isinstance(record, VulnRecord) and record.ranges[0].criteria == "osv:PyPI/django"


def test_an_item_that_is_no_advisory_is_refused() -> None:
    with pytest.raises(InputError, match="no ghsa_id"):
        _read([_advisory("GHSA-aaaa-aaaa-aaaa"), {"message": "API rate limit exceeded"}])


def test_a_branch_is_judged_by_an_api_advisory(store: Store, tmp_path: Path) -> None:
    builds = {"python3-module-django": "3.2.4", "django-docs": "3.2.5"}
    sources = [
        package(400 + n, name, version, source=True, arch="src")
        for n, (name, version) in enumerate(builds.items())
    ]
    load_branch_snapshot(store, "p10", datetime(2099, 2, 1, tzinfo=UTC), sources, [])
    for name in builds:
        set_mapping(store, pkg_name=name, result="osv:PyPI/django", user="tester")
    path = tmp_path / "advisories.json"
    path.write_text(json.dumps([_advisory("GHSA-aaaa-aaaa-aaaa")]))
    assert load_vulns(store, source="ghsa", paths=[path]).written == 1
    rematch_branch(store, branch="p10")
    found = dict(
        store.query(
            "SELECT pkg_name, toString(argMax(pvv_status, ts)) FROM PackagesVulnerabilityVerdict "
            "GROUP BY pkg_name"
        )
    )
    below = label_compare([(("0", v, None), ("0", "3.2.5", None)) for v in builds.values()])
    expected = {n: "vulnerable" if c < 0 else "fixed" for n, c in zip(builds, below, strict=True)}
    assert found == expected == {"python3-module-django": "vulnerable", "django-docs": "fixed"}
