"""A vendor's statements about a source package's binaries, taken together.

Red Hat's CSAF now speaks of binary RPMs: in RHSA-2025:23414 (real, in
``shared/fixtures/cve/redhat/csaf``) bind, bind-libs, bind-sdb and bind-utils are
``fixed`` in ``32:9.8.2-0.68.rc1.el6_10.17`` while bind-chroot, bind-devel and
bind-debuginfo are ``known_not_affected``. Mapped to the stream (``vulns map
ecosystem``), the source package ``bind`` gets both kinds of evidence, and a vendor's
not-affected statement outranked every range: a build below the fix was judged
not affected (vuln-formats.md warns of exactly this). A statement about some binaries
now decides only when no other binary of the same stream is in or past a range; one
beside a range of another source (an NVD CPE range) still decides, as before. The
expected verdicts are judged by librpm.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from repotrack.ingest.vulns import load_vulns
from repotrack.security import rematch_branch, set_mapping
from repotrack.security.ecosystem_mapping import sync_ecosystem
from repotrack.store import Store
from tests.conftest import need_fixtures
from tests.unit.rpm.librpm import label_compare
from tests.unit.store.rows import load_branch_snapshot, package

BRANCH = "els6"
DAY = datetime(2026, 12, 1, tzinfo=UTC)
STREAM = "cpe:/o:redhat:rhel_els:6"
ADVISORY = "RHSA-2025:23414"
FIXED = ("32", "9.8.2", "0.68.rc1.el6_10.17")
BINARIES = ("bind", "bind-libs", "bind-utils", "bind-devel", "bind-chroot")


def _branch(store: Store, release: str) -> None:
    srpm = f"bind-9.8.2-{release}.src.rpm"
    source = package(900, "bind", "9.8.2", release, epoch=32, source=True, arch="src")
    binaries = [
        package(901 + n, name, "9.8.2", release, epoch=32, srcrpm=srpm, srcrpm_hash=900)
        for n, name in enumerate(BINARIES)
    ]
    load_branch_snapshot(store, BRANCH, DAY, [source], binaries)


def _verdict(store: Store) -> tuple[str, str]:
    ((status, reason),) = store.query(
        "SELECT argMax(pvv_status, ts), argMax(pvv_reason, ts) FROM PackagesVulnerabilityVerdict "
        "WHERE pkg_name = 'bind' AND vuln_id = {v:String} GROUP BY pkg_name",
        {"v": ADVISORY},
    )
    return str(status), str(reason)


@pytest.mark.parametrize(
    ("release", "expected"),
    [("0.68.rc1.el6_10.16", "vulnerable"), ("0.68.rc1.el6_10.17", "fixed")],
)
def test_binaries_fixed_and_binaries_not_affected(
    store: Store, release: str, expected: str
) -> None:
    (cmp,) = label_compare([(("32", "9.8.2", release), FIXED)])
    assert ("vulnerable" if cmp < 0 else "fixed") == expected  # librpm's judgement
    _branch(store, release)
    csaf = need_fixtures("cve", "redhat", "csaf") / "rhsa-2025_23414.json"
    assert load_vulns(store, source="csaf", paths=[csaf]).problems == []
    sync_ecosystem(store, branch=BRANCH, stream=STREAM, user="tester")
    rematch_branch(store, branch=BRANCH)
    status, reason = _verdict(store)
    assert status == expected
    assert reason == ("range" if expected == "vulnerable" else "newer_version")


def test_a_statement_about_the_whole_package_still_decides(store: Store) -> None:
    """Only not-affected statements of the stream (the package mapped to bind-devel and
    bind-chroot alone): the package is not affected."""
    _branch(store, "0.68.rc1.el6_10.16")
    csaf = need_fixtures("cve", "redhat", "csaf") / "rhsa-2025_23414.json"
    load_vulns(store, source="csaf", paths=[csaf])
    for name in ("bind-devel", "bind-chroot"):
        set_mapping(store, pkg_name="bind", result=f"osv:{STREAM}/{name}", user="tester")
    rematch_branch(store, branch=BRANCH)
    assert _verdict(store) == ("not_affected", "vex")
