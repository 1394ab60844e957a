"""A bound written without an epoch takes the package's epoch (vuln-formats.md §9).

AlmaLinux's OSV records (and SUSE's, openEuler's and ALT's data) write a fixed version
without its epoch (``1.1.1k-9.el8_7``) even when the package has one
(``1:1.1.1k-7.el8_6``). Read as epoch 0, every build of an epoch-1 package is "above"
the fix and was judged fixed: a vulnerable package reported as fixed. Rocky's OSV and
Red Hat's CSAF and OVAL always write the epoch (``0:`` included), and an explicit epoch
still counts as written. The expected verdicts are worked out by librpm's
``labelCompare``: the bound with the package's epoch where it has none.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from repotrack.ingest.vulns import load_vulns
from repotrack.rpm import evr_key, version_key
from repotrack.security import rematch_branch, set_mapping
from repotrack.store import Store
from tests.unit.rpm.librpm import label_compare
from tests.unit.store.rows import load_branch_snapshot, package

BRANCH = "alma8"
DAY = datetime(2026, 12, 1, tzinfo=UTC)
STREAM = "AlmaLinux:8"

#: (advisory, fixed version as the record writes it)
ADVISORIES = (
    ("ALSA-2099:0001", "1.1.1k-9.el8_7"),  # Alma style: no epoch
    ("ALSA-2099:0002", "1:1.1.1k-9.el8_7"),  # with the package's epoch
    ("ALSA-2099:0003", "0:1.1.1k-9.el8_7"),  # an explicit epoch 0 is what it says
    ("ALSA-2099:0004", "1.1.1k-5.el8_5"),  # no epoch, fixed before the build
)


def _record(advisory: str, fixed: str) -> dict[str, object]:
    """An OSV record shaped like AlmaLinux's (shared/fixtures/cve/osv/almalinux)."""
    return {
        "id": advisory,
        "modified": "2026-11-01T00:00:00Z",
        "published": "2026-11-01T00:00:00Z",
        "related": ["CVE-2099-1001"],
        "summary": "openssl security update",
        "affected": [
            {
                "package": {"ecosystem": STREAM, "name": "openssl"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
    }


def _expected(epoch: str, version: str, release: str) -> dict[str, str]:
    """librpm: vulnerable below the fixed EVR, the bound's epoch the package's if absent."""
    expected = {}
    for advisory, fixed in ADVISORIES:
        bound_epoch, _, rest = fixed.rpartition(":")
        bound_version, _, bound_release = rest.partition("-")
        bound = (bound_epoch or epoch, bound_version, bound_release)
        (cmp,) = label_compare([((epoch, version, release), bound)])
        expected[advisory] = "vulnerable" if cmp < 0 else "fixed"
    return expected


@pytest.mark.parametrize("epoch", [1, 0])
def test_a_fixed_version_without_epoch_takes_the_packages_epoch(
    store: Store, tmp_path: Path, epoch: int
) -> None:
    paths = []
    for advisory, fixed in ADVISORIES:
        path = tmp_path / f"{advisory.replace(':', '_')}.json"
        path.write_text(json.dumps(_record(advisory, fixed)))
        paths.append(path)
    openssl = package(801, "openssl", "1.1.1k", "7.el8_6", epoch=epoch, source=True, arch="src")
    load_branch_snapshot(store, BRANCH, DAY, [openssl], [])
    set_mapping(store, pkg_name="openssl", result=f"osv:{STREAM}/openssl", user="tester")
    assert load_vulns(store, source="osv", paths=paths).problems == []
    rematch_branch(store, branch=BRANCH)
    rows = store.query(
        "SELECT vuln_id, argMax(pvv_status, ts) FROM PackagesVulnerabilityVerdict "
        "WHERE pkgset_name = {b:String} GROUP BY vuln_id",
        {"b": BRANCH},
    )
    expected = _expected(str(epoch), "1.1.1k", "7.el8_6")
    assert dict(rows) == expected
    if epoch == 1:  # what the records mean, as written above
        assert list(expected.values()) == ["vulnerable", "vulnerable", "fixed", "fixed"]


def test_keys_stored_before_the_migration_are_completed(store: Store, tmp_path: Path) -> None:
    """A store upgraded from before migration 0014 holds the package's keys without
    ``vk_vr``; the rematch computes it rather than comparing with an empty key."""
    path = tmp_path / "ALSA-2099_0004.json"
    path.write_text(json.dumps(_record(*ADVISORIES[3])))  # fixed before the build
    openssl = package(801, "openssl", "1.1.1k", "7.el8_6", epoch=1, source=True, arch="src")
    load_branch_snapshot(store, BRANCH, DAY, [openssl], [])
    store.insert(
        "PackageVersionKeys",
        ("pkg_hash", "vk_order", "vk_version", "vk_evr"),
        [(801, "rpm", version_key("1.1.1k"), evr_key(1, "1.1.1k", "7.el8_6"))],
    )
    set_mapping(store, pkg_name="openssl", result=f"osv:{STREAM}/openssl", user="tester")
    load_vulns(store, source="osv", paths=[path])
    rematch_branch(store, branch=BRANCH)
    ((status,),) = store.query(
        "SELECT argMax(pvv_status, ts) FROM PackagesVulnerabilityVerdict GROUP BY vuln_id"
    )
    assert status == _expected("1", "1.1.1k", "7.el8_6")[ADVISORIES[3][0]] == "fixed"
