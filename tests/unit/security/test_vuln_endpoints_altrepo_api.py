"""``vulns fixed`` answers as the ALTRepo API's ``/vulnerabilities/cve/fixes`` does.

The API's ``VulnFixes`` (``altrepo_api/api/vulnerabilities/endpoints/fixes.py``,
liannnix/altrepoapi at e18bcd4d) lists where a CVE is fixed from the branch errata that
name it: one entry per (package, branch), the erratum's build (the oldest erratum of
the pair wins: the errata come newest first and later ones overwrite earlier ones),
kept when the package is still in a shown branch (``RepositoryStatus.rs_show``), with
that branch's build as ``last_version``. Its two queries are quoted below from
``altrepo_api/api/vulnerabilities/sql.py`` as compatibility fixtures, with only their
placeholders filled (``{where_clause}`` as ``get_errata_by_cve_id`` in
``endpoints/common.py`` builds it, the CVE id and ``{tmp_table}`` as bound parameters).
What is left out of the API's Python: the task-state filter of ``_get_erratas`` (these
errata are a taskless branch's, ``task_id`` 0) and the fixes that ``_get_task_history``
carries to branches inheriting a task's build (no task history here).

On 2026-12-07 the API's endpoint classes were also run as they are, against the store
of the tests' world (``world.py``) with a second snapshot, a sisyphus branch and DONE
tasks, their ClickHouse connection replaced by the store: ``/vulnerabilities/package``,
``/branch``, ``/cve/packages``, ``/bdu/packages`` and ``/cve/fixes`` gave the packages,
versions and statuses of ``vulns package``, ``open``, ``cve`` and ``fixed``, apart from
the differences listed in docs/vulnerabilities.md ("The ALTRepo API's vulnerability
endpoints"), and apart from this one: a CVE fixed in two packages of a branch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from repotrack.ingest.vulns import load_vulns
from repotrack.rpm import changelog_hash
from repotrack.security import rematch_branch
from repotrack.security.errata import build_branch_errata
from repotrack.security.queries import fixed_across_branches
from repotrack.store import Store
from tests.conftest import need_fixtures
from tests.unit.security.test_errata_altrepo_api import GET_ERRATAS_TEMPLATE
from tests.unit.store.rows import load_branch_snapshot, package

# altrepo_api/api/vulnerabilities/sql.py, SQL.get_erratas (e18bcd4d), with the
# ``{where_clause}`` of get_errata_by_cve_id (endpoints/common.py).
GET_ERRATAS = GET_ERRATAS_TEMPLATE.replace(
    "{where_clause}", "AND has(eh_references.link, {cve_id:String})"
)

# altrepo_api/api/vulnerabilities/sql.py, SQL.get_packages_versions_for_show_branches
# (e18bcd4d); its external table of names became a bound array.
GET_PACKAGES_VERSIONS_FOR_SHOW_BRANCHES = """
SELECT DISTINCT
    toString(pkg_hash),
    pkg_name,
    pkg_version,
    pkg_release,
    pkgset_name
FROM static_last_packages
WHERE pkg_sourcepackage = 1
    AND pkg_name IN (
        SELECT * FROM {tmp_table}
    )
    AND pkgset_name IN (
        SELECT pkgset_name
        FROM (
            SELECT
                pkgset_name,
                argMax(rs_show, ts) AS show
            FROM RepositoryStatus
            GROUP BY pkgset_name
        )
        WHERE show = 1
    )
""".replace("SELECT * FROM {tmp_table}", "SELECT arrayJoin({names:Array(String)})")

BRANCH = "p10"
DAY = datetime(2025, 11, 1, tzinfo=UTC)
CVE = "CVE-2023-4863"

#: Two source packages of the branch fix the same CVE (chromium bundles libwebp).
FIXES = [  # (pkg_hash, name, version, changelog entry)
    (501, "libwebp", "1.3.2", f"- 1.3.2-alt1: fix {CVE} (heap overflow in VP8L)."),
    (502, "chromium", "116.0.5845.187", f"- 116.0.5845.187-alt1: security fixes ({CVE})."),
]

Fix = tuple[str, str]  # (branch, "name version-release")


def api_fixes(store: Store, vuln_id: str) -> set[Fix]:
    """What ``/vulnerabilities/cve/fixes?vuln_id=...`` lists: per (package, branch) the
    build of its oldest erratum naming the CVE, if the package is in a shown branch."""
    entries: dict[tuple[str, str], str] = {}
    for row in store.query(GET_ERRATAS, {"cve_id": vuln_id}):
        name, branch, version, release = str(row[8]), str(row[3]), str(row[9]), str(row[10])
        entries[(name, branch)] = f"{name} {version}-{release}"
    shown = store.query(
        GET_PACKAGES_VERSIONS_FOR_SHOW_BRANCHES, {"names": sorted({n for n, _ in entries})}
    )
    kept = {(str(name), str(branch)) for _hash, name, _v, _r, branch in shown}
    return {(branch, build) for (name, branch), build in entries.items() if (name, branch) in kept}


def our_fixes(store: Store, vuln_id: str) -> set[Fix]:
    """What ``repotrack vulns fixed ID`` names as first fixed, per branch."""
    return {
        (fix.branch, build)
        for fix in fixed_across_branches(store, vuln_id=vuln_id)
        for build in fix.first_fixed.split(", ")
        if build
    }


def _sources() -> list[tuple[object, ...]]:
    return [
        package(h, name, version, source=True,
                changelog=[(DAY, "M <m@example.org>", f"{version}-alt1", changelog_hash(text))])
        for h, name, version, text in FIXES
    ]  # fmt: skip


def _world(store: Store, tmp_path: Path) -> None:
    records = need_fixtures("cve", "nvd-2.0", "records")
    assert load_vulns(store, source="nvd", paths=[records / f"{CVE}.json"]).written == 1
    store.insert(
        "Changelog_buffer",
        ("chlog_hash", "chlog_text"),
        [(changelog_hash(text), text) for *_, text in FIXES],
    )
    load_branch_snapshot(store, BRANCH, DAY, _sources(), [])
    store.insert(
        "RepositoryStatus",
        ("pkgset_name", "rs_start_date", "rs_end_date", "rs_show"),
        [(BRANCH, DAY, DAY, 1)],
    )
    build_branch_errata(store, branch=BRANCH, user="tester")
    rematch_branch(store, branch=BRANCH)


def test_a_cve_fixed_in_two_packages_names_the_first_fix_of_each(
    store: Store, tmp_path: Path
) -> None:
    """Before 2026-12-07 ``vulns fixed`` named one build per branch, the lowest version
    of any package (``libwebp 1.3.2-alt1``), and chromium's fix was not named at all."""
    _world(store, tmp_path)
    expected = {(BRANCH, "chromium 116.0.5845.187-alt1"), (BRANCH, "libwebp 1.3.2-alt1")}
    assert api_fixes(store, CVE) == expected
    assert our_fixes(store, CVE) == expected
    (p10,) = fixed_across_branches(store, vuln_id=CVE)
    assert p10.first_fixed == "chromium 116.0.5845.187-alt1, libwebp 1.3.2-alt1"
    assert p10.fixed_packages == ["chromium 116.0.5845.187-alt1", "libwebp 1.3.2-alt1"]


def test_a_packages_first_fix_stays_after_a_newer_build(store: Store, tmp_path: Path) -> None:
    """chromium's next build (whose newest changelog entry names no CVE) is fixed too; its
    first fixed build is still the one the API names, the erratum's."""
    _world(store, tmp_path)
    libwebp, _chromium = _sources()
    newer = package(503, "chromium", "117.0.5938.62", source=True)
    load_branch_snapshot(store, BRANCH, DAY + timedelta(days=1), [libwebp, newer], [])
    build_branch_errata(store, branch=BRANCH, user="tester")
    rematch_branch(store, branch=BRANCH)
    expected = {(BRANCH, "chromium 116.0.5845.187-alt1"), (BRANCH, "libwebp 1.3.2-alt1")}
    assert api_fixes(store, CVE) == expected
    assert our_fixes(store, CVE) == expected
    (p10,) = fixed_across_branches(store, vuln_id=CVE)
    assert p10.fixed_packages == ["chromium 117.0.5938.62-alt1", "libwebp 1.3.2-alt1"]
