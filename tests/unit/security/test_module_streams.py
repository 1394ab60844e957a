"""A module build's fix says nothing about a build outside modules (vuln-formats.md §9).

Rocky Linux's real RLSA-2024:3671 fixes ruby in the ruby:3.3 module stream
(``0:3.3.1-2.module+el9.4.0+20787+4c237fd3``). EL9's own ruby (3.0, no module) is
another stream with its own advisories: compared by rpmvercmp it sorts below the
module's fix and was judged vulnerable to an advisory that is not about it. A bound
written with a module release is now compared with module builds only, and a bound
without one with builds outside modules only; module builds are judged by librpm.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from repotrack.ingest.vulns import load_vulns
from repotrack.security import rematch_branch, set_mapping
from repotrack.store import Store
from tests.conftest import need_fixtures
from tests.unit.rpm.librpm import label_compare
from tests.unit.store.rows import load_branch_snapshot, package

STREAM = "Rocky Linux:9"
FIX = ("0", "3.3.1", "2.module+el9.4.0+20787+4c237fd3")


@pytest.mark.parametrize(
    ("release", "version", "expected"),
    [
        ("160.el9_0", "3.0.4", None),  # EL9's own ruby 3.0: not this advisory's stream
        ("1.module+el9.4.0+18004+0f2f9a2b", "3.3.0", "vulnerable"),
        ("2.module+el9.4.0+20787+4c237fd3", "3.3.1", "fixed"),
    ],
)
def test_a_module_fix_is_compared_with_module_builds_only(
    store: Store, release: str, version: str, expected: str | None
) -> None:
    ruby = package(501, "ruby", version, release, source=True, arch="src")
    load_branch_snapshot(store, "rocky9", datetime(2026, 12, 1, tzinfo=UTC), [ruby], [])
    set_mapping(store, pkg_name="ruby", result=f"osv:{STREAM}/ruby", user="tester")
    record = need_fixtures("cve", "osv", "rocky", "RLSA-2024_3671.json")
    assert load_vulns(store, source="osv", paths=[record]).written == 1
    rematch_branch(store, branch="rocky9")
    found = store.query(
        "SELECT toString(argMax(pvv_status, ts)) FROM PackagesVulnerabilityVerdict "
        "WHERE pkg_name = 'ruby' GROUP BY vuln_id"
    )
    if expected is None:
        assert found == []
        return
    ((cmp,),) = [label_compare([(("0", version, release), FIX)])]
    assert [s for (s,) in found] == ["vulnerable" if cmp < 0 else "fixed"] == [expected]
