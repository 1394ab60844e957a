"""A branch of source packages mapped to a distribution's advisory stream, and its
verdicts judged by librpm: what the tests of each RPM advisory source (AlmaLinux's
errata JSON, Red Hat's Security Data API, a repository's updateinfo) check alike."""

from __future__ import annotations

from datetime import UTC, datetime

from repotrack.security import set_mapping
from repotrack.store import Store
from tests.unit.rpm.librpm import label_compare
from tests.unit.store.rows import load_branch_snapshot, package

#: ``epoch, version, release`` as text.
Build = tuple[str, str, str]


def stream_branch(
    store: Store, branch: str, stream: str, builds: dict[str, Build], *, first_hash: int
) -> None:
    """``branch`` holding one source package per name of ``builds``, each mapped to
    ``osv:<stream>/<name>``."""
    sources = [
        package(first_hash + n, name, v, r, epoch=int(e), source=True, arch="src")
        for n, (name, (e, v, r)) in enumerate(builds.items())
    ]
    load_branch_snapshot(store, branch, datetime(2026, 12, 1, tzinfo=UTC), sources, [])
    for name in builds:
        set_mapping(store, pkg_name=name, result=f"osv:{stream}/{name}", user="tester")


def latest_verdicts(store: Store) -> dict[str, str]:
    """``"<package> <vulnerability>"`` → the latest verdict's status."""
    return {
        str(pair): str(status)
        for pair, status in store.query(
            "SELECT concat(pkg_name, ' ', vuln_id), toString(argMax(pvv_status, ts)) "
            "FROM PackagesVulnerabilityVerdict GROUP BY pkg_name, vuln_id"
        )
    }


def judged_by_librpm(
    builds: dict[str, Build], fixes: dict[tuple[str, str], Build]
) -> dict[str, str]:
    """``"<package> <vulnerability>"`` → ``vulnerable`` when librpm orders the package's
    build before the fix, else ``fixed``."""
    pairs = list(fixes)
    compared = label_compare([(builds[name], fixes[(name, vuln)]) for name, vuln in pairs])
    return {
        f"{name} {vuln}": "vulnerable" if cmp < 0 else "fixed"
        for (name, vuln), cmp in zip(pairs, compared, strict=True)
    }
