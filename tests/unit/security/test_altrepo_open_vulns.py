"""The ALTRepo API reads the statuses the matcher writes, and gets the matcher's answer.

The API decides which packages are open for a vulnerability with the query below
(quoted from liannnix/altrepoapi, ``altrepo_api/api/vulnerabilities/sql.py``,
``get_packages_with_open_vuln``, as a compatibility fixture; only ``{tmp_table}``
became a bound parameter): a pair is open when **any** of its
``PackagesVulnerabilityStatus`` rows says vulnerable and **none** says fixed
(ALTRepo spec §6.1). It reads every row of a pair, not the latest one, so a pair whose
status left ``vulnerable`` (a triage decision, a corrected record) or left ``fixed``
must not keep the older rows that say otherwise: the table's ``ReplacingMergeTree``
drops them only when a merge happens to take both parts, which may be never.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from repotrack.security import record_triage, rematch_branch
from repotrack.store import Store
from tests.unit.security.world import BRANCH, DAY, PACKAGES, RECORDS, build_world, deletes_applied
from tests.unit.security.world import verdicts as latest_verdicts
from tests.unit.store.rows import load_branch_snapshot, package

GET_PACKAGES_WITH_OPEN_VULN = """
SELECT DISTINCT
    RES.pkg_hash,
    RES.pkg_name,
    RES.pkgset_name,
    PKG.pkg_version,
    PKG.pkg_release,
FROM (
    SELECT pkg_hash,
           pkg_name,
           pkgset_name
    FROM (
        SELECT pkg_hash,
               pkg_name,
               pkgset_name,
               vuln_id,
               any(vuln_hash) as vuln_hash,
               has(groupArray(is_vulnerable), 1) as is_vuln,
               has(groupArray(is_fixed), 1) as is_fix
        FROM PackagesVulnerabilityStatus
        GROUP BY pkg_name, pkgset_name, vuln_id, pkg_hash
    ) AS vuln_status
    LEFT JOIN (
        SELECT vuln_hash, vuln_severity, vuln_modified_date
        FROM Vulnerabilities
    ) AS TT ON TT.vuln_hash = vuln_status.vuln_hash
    WHERE is_fix = 0 AND is_vuln = 1
    AND vuln_id IN {tmp_table}
    GROUP BY pkg_hash, pkg_name, pkgset_name
    ) AS RES
    LEFT JOIN (
        SELECT pkg_hash, pkg_version, pkg_release
        FROM static_last_packages
    ) AS PKG ON PKG.pkg_hash = RES.pkg_hash
""".replace("{tmp_table}", "{ids:Array(String)}")

VULNS = (*RECORDS, "CVE-2099-0001")


def api_open(store: Store) -> dict[str, set[str]]:
    """Per vulnerability, the packages the ALTRepo API lists as open for it (read as it
    reads a server, where the run waited for its delete)."""
    deletes_applied(store)
    return {
        vuln: {row[1] for row in store.query(GET_PACKAGES_WITH_OPEN_VULN, {"ids": [vuln]})}
        for vuln in VULNS
    }


def our_open(store: Store) -> dict[str, set[str]]:
    """Per vulnerability, the packages whose latest verdict is ``vulnerable``."""
    found: dict[str, set[str]] = {vuln: set() for vuln in VULNS}
    for (name, vuln), (status, _reason) in latest_verdicts(store).items():
        if status == "vulnerable":
            found[vuln].add(name)
    return found


def triage(store: Store, pkg_name: str, vuln_id: str, status: str) -> None:
    record_triage(
        store,
        vuln_id=vuln_id,
        pkg_name=pkg_name,
        branch=BRANCH,
        status=status,
        author="tester",
        reason=f"decided: {status}",
    )


@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
def test_the_api_lists_as_open_what_the_matcher_judged_vulnerable(
    store: Store, tmp_path: Path, full: bool
) -> None:
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    assert our_open(store)["CVE-2024-3094"] == {"xz"}
    assert api_open(store) == our_open(store)
    # vulnerable -> not affected (a triage decision)
    triage(store, "xz", "CVE-2024-3094", "not_affected")
    rematch_branch(store, branch=BRANCH, full=full)
    assert our_open(store)["CVE-2024-3094"] == set()
    assert api_open(store) == our_open(store)
    # vulnerable -> fixed -> vulnerable again (the decision taken back)
    triage(store, "mc", "CVE-2021-36370", "fixed")
    rematch_branch(store, branch=BRANCH, full=full)
    triage(store, "mc", "CVE-2021-36370", "vulnerable")
    rematch_branch(store, branch=BRANCH, full=full)
    assert our_open(store)["CVE-2021-36370"] == {"mc"}
    assert api_open(store) == our_open(store)


@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
def test_a_replaced_build_is_not_listed_as_open(store: Store, tmp_path: Path, full: bool) -> None:
    """A new snapshot: mc rebuilt past its range (a new build, another ``pkg_hash``), xz
    removed. The API groups by ``pkg_hash``: the builds that left the branch must not
    stay open beside the new one."""
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    assert our_open(store)["CVE-2021-36370"] == {"mc"}
    sources = [
        package(201, name, "4.8.27", source=True)
        if name == "mc"
        else package(h, name, v, source=True)
        for h, name, v, _ in PACKAGES
        if name != "xz"
    ]
    load_branch_snapshot(store, BRANCH, DAY + timedelta(days=1), sources, [])
    rematch_branch(store, branch=BRANCH, full=full)
    assert our_open(store)["CVE-2021-36370"] == set()
    assert our_open(store)["CVE-2024-3094"] == set()
    assert api_open(store) == our_open(store)
