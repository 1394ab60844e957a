"""``vulns last-fixed`` gives what the ALTRepo API's own query gives on the same store.

The API's ``/site/last_packages_with_cve_fixed`` (ALTRepo §6.4) runs
``get_last_packages_with_cve_fixes`` of ``altrepo_api/api/site_package/sql.py``
(liannnix/altrepoapi at e18bcd4d), quoted below as a compatibility fixture with only
its ``{branch}`` filled in: the source packages of the branch's newest set whose
latest changelog entry names a CVE id, newest build first. The same store is asked
both ways, and both answers are checked against a hand count of the packages below.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from repotrack.rpm import changelog_hash
from repotrack.security.queries import last_packages_with_cve_fixed
from repotrack.store import Store
from tests.unit.store.rows import load_branch_snapshot, package, utc

# altrepo_api/api/site_package/sql.py, get_last_packages_with_cve_fixes (braces of the
# regular expression doubled for str.format, as the API writes them).
ALTREPO_API_SQL = """
WITH
changelog_with_cve AS
(
    SELECT DISTINCT
        chlog_hash,
        chlog_text
    FROM Changelog
    WHERE match(chlog_text, 'CVE-\\d{{4}}-(\\d{{7}}|\\d{{6}}|\\d{{5}}|\\d{{4}})')
),
(
    SELECT groupUniqArray(chlog_hash)
    FROM changelog_with_cve
) AS changelog_hashes
SELECT DISTINCT
    pkg_hash,
    pkg_name,
    pkg_version,
    pkg_release,
    pkg_buildtime,
    pkg_summary,
    pkg_changelog.date[1],
    CHLG.chlog_text
FROM Packages
LEFT JOIN
(
    SELECT * FROM changelog_with_cve
) AS CHLG ON CHLG.chlog_hash = (pkg_changelog.hash[1])
WHERE pkg_hash IN
(
    SELECT pkg_hash
    FROM static_last_packages
    WHERE pkgset_name = '{branch}'
        AND pkg_sourcepackage = 1
)
    AND has(changelog_hashes, pkg_changelog.hash[1])
ORDER BY pkg_buildtime DESC
"""

DAY = utc(2025, 3, 1)
TEXTS = {
    "fix": "- fix CVE-2024-1234 (upstream patch).",
    "long": "- security: CVE-2023-1234567, CVE-2024-21626.",
    "short": "- not an id: CVE-2024-12.",
    "plain": "- new version.",
    "older": "- fixed CVE-2022-0001.",
    "lower": "- fixed cve-2024-5555.",
}


def _source(pkg_hash: int, name: str, version: str, built: int, *entries: str) -> tuple[Any, ...]:
    """A source package built at ``built`` whose changelog entries (newest first) are
    the texts named."""
    changelog = [
        (DAY - timedelta(days=n), "M <m@example.org>", f"{version}-alt1", changelog_hash(TEXTS[e]))
        for n, e in enumerate(entries)
    ]
    row = list(package(pkg_hash, name, version, source=True, changelog=changelog))
    row[7] = built  # pkg_buildtime
    return tuple(row)


def _build(store: Store) -> None:
    store.insert(
        "Changelog_buffer",
        ("chlog_hash", "chlog_text"),
        [(changelog_hash(t), t) for t in TEXTS.values()],
    )
    old = [
        _source(1, "alpha", "1.0", 1_740_000_000, "fix"),  # rebuilt in the newer set
        _source(2, "beta", "2.0", 1_740_000_100, "long"),
    ]
    load_branch_snapshot(store, "p10", DAY - timedelta(days=7), old, [])
    newer = [
        _source(11, "alpha", "1.1", 1_740_900_000, "plain", "fix"),  # the CVE is not newest
        _source(2, "beta", "2.0", 1_740_000_100, "long"),  # kept: names two ids
        _source(3, "gamma", "3.0", 1_740_500_000, "short"),  # too short for an id
        _source(4, "delta", "4.0", 1_740_800_000, "fix", "older"),  # newest names one
        _source(5, "eps", "5.0", 1_740_300_000, "lower"),  # lowercase: not an id
        _source(6, "zeta", "6.0", 1_740_200_000),  # no changelog at all
    ]
    binary = package(
        7, "delta-libs", "4.0", changelog=[(DAY, "M", "4.0-alt1", changelog_hash(TEXTS["fix"]))]
    )
    load_branch_snapshot(store, "p10", DAY, newer, [binary])
    other = [_source(8, "theta", "8.0", 1_740_950_000, "fix")]
    load_branch_snapshot(store, "p9", DAY, other, [])
    # The API reads the tables, not their Buffers: flush them, as a load does not use them.
    for table in ("Changelog", "Packages", "PackageSet"):
        store.command(f"OPTIMIZE TABLE {table}_buffer")


def test_last_fixed_lists_what_the_altrepo_api_lists(store: Store) -> None:
    _build(store)
    theirs = store.query(ALTREPO_API_SQL.format(branch="p10"))
    ours = last_packages_with_cve_fixed(store, branch="p10")
    # By hand: delta (newest entry names CVE-2024-1234), beta (CVE-2023-1234567 and
    # CVE-2024-21626); not alpha (rebuilt, its newest entry names none), gamma, eps,
    # zeta, the binary, nor theta of p9. Newest build first.
    assert [row[1] for row in theirs] == ["delta", "beta"]
    assert [(p.pkg_hash, p.pkg_name, p.version, p.release) for p in ours] == [
        (int(h), n, v, r) for h, n, v, r, *_ in theirs
    ]
    assert [p.changelog_date for p in ours] == [row[6] for row in theirs]
    assert [p.cves for p in ours] == [["CVE-2024-1234"], ["CVE-2023-1234567", "CVE-2024-21626"]]
