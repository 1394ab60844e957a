"""Red Hat's Security Data API (the real ``redhat/security-data-api`` documents).

Counted by hand in the fixtures: CVE-2023-4863 has 35 ``affected_release`` entries
(firefox, thunderbird and libwebp over 13 streams, one per stream and package) and 4
``package_state`` entries (firefox on RHEL 6 out of support scope: affected; libwebp
on RHEL 7 not affected; two flatpaks, not RPMs); CVE-2019-7614 has two states (JBoss
Fuse 6 out of support scope, Fuse 7 ``New``). The verdicts of a branch mapped to RHEL
8's stream are judged by librpm's ``labelCompare``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repotrack.errors import NotFoundError
from repotrack.ingest.vulns import load_vulns
from repotrack.security import rematch_branch
from repotrack.security.queries import (
    fixed_across_branches,
    vulnerability_info,
    vulnerability_verdicts,
)
from repotrack.sources.vulns import PARSERS, VulnRecord
from repotrack.store import Store
from tests.conftest import need_fixtures
from tests.unit.security.stream_branch import judged_by_librpm, latest_verdicts, stream_branch

API = ("cve", "redhat", "security-data-api")
RHEL8 = "cpe:/a:redhat:enterprise_linux:8"
RHEL7 = "cpe:/o:redhat:enterprise_linux:7"


def _record(cve: str) -> VulnRecord:
    path = need_fixtures(*API, f"{cve}.json")
    (record,) = PARSERS["redhat"](path.read_bytes(), path=str(path))
    assert isinstance(record, VulnRecord)
    return record


def test_fixed_releases_and_states_become_ranges() -> None:
    record = _record("CVE-2023-4863")
    assert (record.vuln_id, record.severity, record.score) == (
        "REDHAT:CVE-2023-4863",
        "Important",
        9.6,
    )
    assert ("CVE", "CVE-2023-4863") in record.references
    fixed = [r for r in record.ranges if r.end]
    assert len(fixed) == 35 and all(r.end_excluded and not r.start for r in fixed)
    assert {r.criteria: r.end for r in fixed}[f"osv:{RHEL8}/libwebp"] == "0:1.0.0-8.el8_8.1"
    rest = [(r.criteria, r.not_affected) for r in record.ranges if not r.end]
    assert rest == [
        ("osv:cpe:/o:redhat:enterprise_linux:6/firefox", False),  # out of support scope
        (f"osv:{RHEL7}/libwebp", True),  # not affected
    ]
    fuse = _record("CVE-2019-7614")
    assert [(r.criteria, r.end, r.not_affected) for r in fuse.ranges] == [
        ("osv:cpe:/a:redhat:jboss_fuse:6/elasticsearch", "", False)  # Fuse 7 "New": nothing
    ]


def test_an_unknown_fix_state_is_one_problem(store: Store, tmp_path: Path) -> None:
    document = json.loads(need_fixtures(*API, "CVE-2019-7614.json").read_text())
    document["package_state"][0]["fix_state"] = "Pending"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    summary = load_vulns(store, source="redhat", paths=[bad, need_fixtures(*API)])
    assert (summary.records, summary.written) == (2, 2)
    (problem,) = summary.problems
    assert "unknown fix_state 'Pending' of elasticsearch" in problem


def test_a_rhel8_branch_is_judged_by_the_fixed_builds(store: Store) -> None:
    builds = {"libwebp": ("0", "1.0.0", "8.el8_8"), "firefox": ("0", "102.15.1", "1.el8_8")}
    stream_branch(store, "rhel8", RHEL8, builds, first_hash=600)
    assert load_vulns(store, source="redhat", paths=[need_fixtures(*API)]).written == 2
    rematch_branch(store, branch="rhel8")
    vuln = "REDHAT:CVE-2023-4863"
    found = {k: v for k, v in latest_verdicts(store).items() if k.endswith(f" {vuln}")}
    fixes = {
        ("libwebp", vuln): ("0", "1.0.0", "8.el8_8.1"),
        ("firefox", vuln): ("0", "102.15.1", "1.el8_8"),
    }
    assert (
        found
        == judged_by_librpm(builds, fixes)
        == {
            f"libwebp {vuln}": "vulnerable",
            f"firefox {vuln}": "fixed",
        }
    )
    # asked by the CVE id, which only the Red Hat record names: its verdicts answer
    by_cve = vulnerability_verdicts(store, vuln_id="CVE-2023-4863")
    assert {(v.pkg_name, v.vuln_id, v.status) for v in by_cve} == {
        ("libwebp", "REDHAT:CVE-2023-4863", "vulnerable"),
        ("firefox", "REDHAT:CVE-2023-4863", "fixed"),
    }
    (fix,) = fixed_across_branches(store, vuln_id="CVE-2023-4863")
    assert (fix.branch, fix.open_packages, fix.fixed_packages) == (
        "rhel8",
        ["libwebp 1.0.0-8.el8_8"],
        ["firefox 102.15.1-1.el8_8"],
    )
    with pytest.raises(NotFoundError, match="records that name it: REDHAT:CVE-2023-4863"):
        vulnerability_info(store, vuln_id="CVE-2023-4863")


def test_the_cve_list_endpoint_says_what_to_load_instead(store: Store, tmp_path: Path) -> None:
    """``…/securitydata/cve.json`` lists summaries (no streams): the load says which
    documents to give it."""
    summaries = [
        {
            "CVE": "CVE-2023-4863",
            "severity": "important",
            "public_date": "2023-09-12T00:00:00Z",
            "advisories": ["RHSA-2023:5309"],
            "affected_packages": ["libwebp-0:1.0.0-8.el8_8.1"],
            "resource_url": "https://access.redhat.com/hydra/rest/securitydata/cve/CVE-2023-4863.json",
        }
    ]
    path = tmp_path / "cve.json"
    path.write_text(json.dumps(summaries))
    summary = load_vulns(store, source="redhat", paths=[path])
    (problem,) = summary.problems
    assert "a list of CVE summaries" in problem and "resource_url" in problem
