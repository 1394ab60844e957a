"""``vulns fixed`` compares a package's fixed builds in one version order only.

The sortable keys of ``PackageVersionKeys`` are written per version order (``rpm``,
``alt``), and the two encodings do not compare with each other (every ``alt`` key sorts
below every ``rpm`` key). A build gets keys in each order that a branch holding it was
matched in: shared by two branches matched in different orders, or judged fixed before
its branch's order was changed, a build has keys in both orders, or only in the old one.
The first fixed build of a package must come from keys of a single order (the branch's
current one when it covers every build), never from whichever key ``any()`` met first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from repotrack.rpm import VersionOrder, evr_key
from repotrack.security.queries import fixed_across_branches
from repotrack.store import Store

_VERDICT = (
    "pkgset_name",
    "pkg_hash",
    "pkg_name",
    "pkg_version",
    "pkg_release",
    "vuln_id",
    "vuln_hash",
    "pvv_status",
    "pvv_reason",
    "ts",
)
_KEYS = ("pkg_hash", "vk_order", "vk_version", "vk_evr")
_RUN = ("pkgset_name", "vmr_order", "vmr_kind", "ts")


def _fixed(store: Store, branch: str, builds: list[tuple[int, str]], day: int) -> None:
    when = datetime(2026, 1, day, tzinfo=UTC)
    rows = [
        (branch, h, "mc", v, "alt1", "CVE-2099-0001", 1, "fixed", "newer_version", when)
        for h, v in builds
    ]
    store.insert("PackagesVulnerabilityVerdict", _VERDICT, rows)


def _keys(store: Store, order: VersionOrder, builds: list[tuple[int, str]]) -> None:
    store.insert(
        "PackageVersionKeys",
        _KEYS,
        [(h, order.value, b"", evr_key(0, v, "alt1", order)) for h, v in builds],
    )


def _ran(store: Store, branch: str, order: VersionOrder, day: int) -> None:
    store.insert(
        "VulnMatchRuns", _RUN, [(branch, order.value, "full", datetime(2026, 1, day, tzinfo=UTC))]
    )


def test_a_branch_whose_order_changed_compares_its_builds_in_one_order(store: Store) -> None:
    """p10 was matched in rpm's order (1.9 judged fixed), then in ALT's (2.0 judged
    fixed): 1.9 has an rpm key only, 2.0 an alt key only. The first fix is 1.9."""
    _keys(store, VersionOrder.RPM, [(1, "1.9")])
    _fixed(store, "p10", [(1, "1.9")], 1)
    _ran(store, "p10", VersionOrder.RPM, 1)
    _keys(store, VersionOrder.ALT, [(2, "2.0")])
    _fixed(store, "p10", [(2, "2.0")], 2)
    _ran(store, "p10", VersionOrder.ALT, 2)

    (fix,) = fixed_across_branches(store, vuln_id="CVE-2099-0001")

    assert fix.first_fixed == "mc 1.9-alt1"


def test_a_build_shared_by_branches_of_two_orders_compares_in_the_branchs_order(
    store: Store,
) -> None:
    """2.0 is in p10 (rpm order) and sisyphus (alt order), so it has keys in both; 1.9
    only in p10. In p10 the first fix is 1.9, whichever key of 2.0 is read."""
    _keys(store, VersionOrder.ALT, [(2, "2.0")])  # written first: what any() meets first
    _keys(store, VersionOrder.RPM, [(1, "1.9"), (2, "2.0")])
    _fixed(store, "p10", [(1, "1.9"), (2, "2.0")], 1)
    _fixed(store, "sisyphus", [(2, "2.0")], 1)
    _ran(store, "p10", VersionOrder.RPM, 1)
    _ran(store, "sisyphus", VersionOrder.ALT, 1)

    fixes = {f.branch: f.first_fixed for f in fixed_across_branches(store, vuln_id="CVE-2099-0001")}

    assert fixes == {"p10": "mc 1.9-alt1", "sisyphus": "mc 2.0-alt1"}


def _first_fixes(store: Store, vuln_id: str) -> dict[str, str]:
    from repotrack.security.queries import fixed_across_branches

    return {fix.branch: fix.first_fixed for fix in fixed_across_branches(store, vuln_id=vuln_id)}


def test_the_first_fix_does_not_change_when_the_store_merges(store: Store, tmp_path: Any) -> None:
    """The first fixed build of a branch is read from each build's last verdict while it
    was in the branch, so the answer is the same before and after the engine merges the
    verdicts' parts. Before 2026-12-07 it was read from every stored verdict row: a
    package removed from the branch (its build's verdict then reads ``unmatched``) lost
    its first fix once a merge replaced the build's ``fixed`` row, and a fix taken back
    by triage counted until one did."""
    from repotrack.security import rematch_branch
    from repotrack.security.triage import record_triage
    from tests.unit.security.world import BRANCH, DAY, PACKAGES, build_world
    from tests.unit.store.rows import load_branch_snapshot, package

    def merged() -> None:
        for table in ("PackagesVulnerabilityVerdict", "VulnBuildVerdicts"):
            store.command(f"OPTIMIZE TABLE {table} FINAL")

    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    assert _first_fixes(store, "CVE-2020-14148") == {BRANCH: "ngircd 26.1-alt1"}
    sources = [package(h, n, v, source=True) for h, n, v, _ in PACKAGES if n != "ngircd"]
    load_branch_snapshot(store, BRANCH, DAY + timedelta(days=1), sources, [])
    rematch_branch(store, branch=BRANCH)  # ngircd left p10: its verdict is unmatched now
    assert _first_fixes(store, "CVE-2020-14148") == {BRANCH: "ngircd 26.1-alt1"}
    merged()
    assert _first_fixes(store, "CVE-2020-14148") == {BRANCH: "ngircd 26.1-alt1"}

    assert _first_fixes(store, "CVE-2025-62168") == {BRANCH: "squid 6.10-alt1"}
    record_triage(
        store, vuln_id="CVE-2025-62168", pkg_name="squid", branch=BRANCH,
        status="vulnerable", author="tester", reason="the backport is incomplete",
    )  # fmt: skip
    rematch_branch(store, branch=BRANCH)
    assert _first_fixes(store, "CVE-2025-62168") == {BRANCH: ""}
    merged()
    assert _first_fixes(store, "CVE-2025-62168") == {BRANCH: ""}
