"""The feed queries give what the ALTRepo API's own queries give on the same store.

``query feeds|ftbfs|newer|maintainer`` (``repotrack.store.enrichment``) answer
questions that endpoints of the ALTRepo API (liannnix/altrepoapi at e18bcd4d) answer
too: ``/acl/by_packages`` and ``/acl/groups``, ``/bug/bugzilla_by_package``,
``/package/repocop``, the package page's acl and beehive status (``site_package``),
``/export/beehive/ftbfs`` and the maintainer pages' packages, bugs, repocop, beehive
and watch (``by_acl=by_nick_or_group``: the nick's packages, directly or through a
group). Their SQL is quoted below as compatibility fixtures, byte for byte, with only
its placeholders filled in (``{name}`` with ``str.format``, as the endpoints do; the
one ``%(srcpkg_name)s`` as a server-side parameter). One hand-built store holds the
edge cases; each test asks it both ways and checks both answers against a hand count.

Deliberate differences, which the tests leave out (docs/feeds.md, module docstring):
bugs are only the open ones (the API lists closed ones too), repocop and watch read the
newest snapshot only, and a branch's maintainer packages come from that branch's acl
(the API's site reads sisyphus's acl for every branch), so maintainer pages are
compared on sisyphus.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from repotrack.errors import NotFoundError
from repotrack.rpm import rpmvercmp
from repotrack.store import Store, open_store
from repotrack.store.enrichment import (
    CLOSED_STATUSES,
    failing_to_build,
    maintainer_dashboard,
    newer_upstream,
    package_feeds,
)
from tests.unit.store.rows import load_branch_snapshot, package, utc
from tests.unit.store.storeutil import fresh_store_url

# The API's SQL (liannnix/altrepoapi e18bcd4d), verbatim: path and attribute above each.

# altrepo_api/api/export/sql.py, get_beehive_errors_by_branch_and_arch
GET_BEEHIVE_ERRORS_BY_BRANCH_AND_ARCH = """
WITH
last_bh_updated AS
(
    SELECT
        pkgset_name,
        bh_arch as arch,
        max(bh_updated) AS updated
    FROM BeehiveStatus
    WHERE pkgset_name = '{branch}' AND bh_arch IN {archs}
    GROUP BY
        pkgset_name,
        bh_arch
),
src_packages AS
(
    SELECT
        pkg_hash,
        pkg_epoch
    FROM last_packages
    WHERE pkgset_name = '{branch}' AND pkg_sourcepackage = 1
)
SELECT
    pkgset_name,
    pkg_hash,
    pkg_name,
    Pkg.pkg_epoch,
    pkg_version,
    pkg_release,
    bh_arch,
    bh_updated,
    bh_ftbfs_since
FROM BeehiveStatus
LEFT JOIN
(SELECT pkg_hash, pkg_epoch FROM src_packages) AS Pkg USING (pkg_hash)
WHERE pkgset_name = '{branch}'
    AND bh_status = 'error'
    AND (bh_arch, bh_updated) IN (
        SELECT arch, updated FROM last_bh_updated
    )
    AND pkg_hash IN (
        SELECT pkg_hash FROM src_packages
    )
ORDER BY pkg_name
"""

# altrepo_api/api/site_package/sql.py, get_last_bh_rebuild_status_by_hsh
GET_LAST_BH_REBUILD_STATUS_BY_HSH = """
SELECT
    bh_arch,
    bh_status,
    bh_build_time,
    bh_updated,
    bh_ftbfs_since
FROM BeehiveStatus
WHERE pkgset_name = '{branch}'
    AND pkg_hash = {pkghash}
    AND (bh_arch, bh_updated) IN (
        SELECT bh_arch, max(bh_updated)
        FROM BeehiveStatus
        WHERE pkgset_name = '{branch}'
        GROUP BY bh_arch
    )
"""

# altrepo_api/api/site_package/sql.py, get_pkg_acl
GET_PKG_ACL = """
SELECT acl_list
FROM last_acl
WHERE acl_for = '{name}'
    AND acl_branch = '{branch}'
"""

# altrepo_api/api/acl/sql.py, get_acl_by_packages
GET_ACL_BY_PACKAGES = """
SELECT
    argMax(acl_for, acl_date),
    max(acl_date),
    argMax(acl_list, acl_date)
FROM Acl
WHERE (acl_branch = '{branch}')
    AND (acl_for IN (SELECT pkg_name FROM {tmp_table}))
GROUP BY
    acl_for,
    acl_branch
"""

# altrepo_api/api/acl/sql.py, get_acl_group
GET_ACL_GROUP = """
SELECT
    acl_for,
    argMax(acl_list, acl_date),
    max(acl_date)
FROM Acl
WHERE acl_branch = '{branch}'
    AND acl_for = '@{acl_group}'
GROUP BY acl_for
"""

# altrepo_api/api/bug/sql.py, get_pkg_name_by_srcpkg
GET_PKG_NAME_BY_SRCPKG = """
SELECT DISTINCT pkg_name
FROM Packages
WHERE pkg_srcrpm_hash IN
(
    SELECT DISTINCT pkg_hash
    FROM Packages
    WHERE pkg_name = %(srcpkg_name)s
        AND pkg_sourcepackage = 1
)
    AND pkg_sourcepackage = 0
"""

# altrepo_api/api/bug/sql.py, get_bugzilla_info_by_srcpkg
GET_BUGZILLA_INFO_BY_SRCPKG = """
WITH bugs AS (
    SELECT DISTINCT
        bz_id,
        argMax(bz_component, ts) AS comp
    FROM Bugzilla
    GROUP BY bz_id
    HAVING comp IN {packages}
)
SELECT *
FROM
(
    SELECT
        bz_id,
        argMax(bz_status, ts),
        argMax(bz_resolution, ts),
        argMax(bz_severity, ts),
        argMax(bz_product, ts),
        argMax(bz_component, ts) AS component,
        argMax(bz_assignee, ts),
        argMax(bz_reporter, ts),
        argMax(bz_summary, ts),
        argMax(bz_last_changed, ts) as last_changed
    FROM Bugzilla
    WHERE bz_id IN (
        SELECT bz_id
        FROM bugs
    )
    GROUP BY bz_id
    ORDER BY last_changed DESC
)
WHERE component IN (
    SELECT comp
    FROM bugs
)
"""

# altrepo_api/api/bug/sql.py, get_bugzilla_info_by_nick_acl: the bug/sql.py query that
# takes a nick's groups in (its get_bugzilla_info_by_nick_or_group_acl does not, unlike
# site_maintainer/sql.py's queries of that name).
GET_BUGZILLA_INFO_BY_NICK_ACL = """
WITH
(
    SELECT groupUniqArray(acl_for)
    FROM last_acl_stage1
    WHERE has(acl_list, '{maintainer_nickname}')
        AND acl_for LIKE ('@%')
        AND acl_branch = 'sisyphus'
) AS acl_group,
bugs AS (
    SELECT DISTINCT
        bz_id,
        argMax(bz_component, ts) AS comp
    FROM Bugzilla
    GROUP BY bz_id
    HAVING comp IN (
        SELECT DISTINCT bin_pkg_name
        FROM PackagesSourceAndBinaries
        WHERE src_pkg_name IN (
            SELECT acl_for
                FROM last_acl_stage1
                WHERE acl_branch = 'sisyphus'
                    AND (has(acl_list, '{maintainer_nickname}')
                    OR hasAny(acl_list, acl_group))
            )
    )
)
SELECT *
FROM
(
    SELECT
        bz_id,
        argMax(bz_status, ts),
        argMax(bz_resolution, ts),
        argMax(bz_severity, ts),
        argMax(bz_product, ts),
        argMax(bz_component, ts) AS bz_cmp,
        argMax(bz_assignee, ts) AS assignee,
        argMax(bz_reporter, ts),
        argMax(bz_summary, ts),
        argMax(bz_last_changed, ts) as last_changed
    FROM Bugzilla
    WHERE (bz_id, bz_component) IN bugs
    GROUP BY bz_id
    ORDER BY last_changed DESC
) AS bugzilla
LEFT JOIN
(
    SELECT
        argMax(src_pkg_name, buildtime),
        bin_pkg_name
    FROM PackagesSourceAndBinaries
    GROUP BY bin_pkg_name
) AS TT ON TT.bin_pkg_name = bugzilla.bz_cmp
"""

# altrepo_api/api/site_maintainer/sql.py, get_maintainer_pkg_by_nick_or_group_acl
GET_MAINTAINER_PKG_BY_NICK_OR_GROUP_ACL = """
WITH
(
    SELECT groupUniqArray(acl_for)
    FROM last_acl_stage1
    WHERE has(acl_list, '{maintainer_nickname}')
        AND acl_for LIKE ('@%')
        AND acl_branch = 'sisyphus'
) AS acl_group
SELECT
    pkg_name,
    pkg_buildtime,
    pkg_url,
    pkg_summary,
    pkg_version,
    pkg_release
FROM last_packages
WHERE pkg_sourcepackage = 1
      AND pkgset_name = '{branch}'
      AND pkg_name IN (
        SELECT acl_for
        FROM last_acl_stage1
        WHERE acl_branch = 'sisyphus'
          AND (has(acl_list, '{maintainer_nickname}')
          OR hasAny(acl_list, acl_group))
    )
GROUP BY
    pkg_name,
    pkg_buildtime,
    pkg_url,
    pkg_summary,
    pkg_version,
    pkg_release
ORDER BY pkg_buildtime DESC
"""

# altrepo_api/api/site_maintainer/sql.py, get_repocop_by_nick_or_group_acl
GET_REPOCOP_BY_NICK_OR_GROUP_ACL = """
WITH
(
    SELECT groupUniqArray(acl_for)
    FROM last_acl_stage1
    WHERE has(acl_list, '{maintainer_nickname}')
        AND acl_for LIKE ('@%')
        AND acl_branch = 'sisyphus'
) AS acl_group
SELECT
    pkg_name,
    pkg_version,
    pkg_release,
    pkg_arch,
    rc_srcpkg_name,
    pkgset_name,
    rc_test_name,
    argMax(rc_test_status, rc_test_date),
    argMax(rc_test_message, rc_test_date),
    max(rc_test_date)
FROM PackagesRepocop
WHERE rc_test_status NOT IN ('ok', 'skip')
    AND (rc_srcpkg_name, rc_srcpkg_version, rc_srcpkg_release, pkgset_name) IN
(SELECT DISTINCT
    pkg_name,
    pkg_version,
    pkg_release,
    pkgset_name
FROM last_packages
WHERE pkgset_name = '{branch}'
    and pkg_sourcepackage = 1
    and pkg_name in (
        SELECT acl_for
            FROM last_acl_stage1
            WHERE acl_branch = 'sisyphus'
                AND (has(acl_list, '{maintainer_nickname}')
                OR hasAny(acl_list, acl_group))
    )
)
GROUP BY
    pkg_name,
    pkg_version,
    pkg_release,
    pkg_arch,
    rc_srcpkg_name,
    pkgset_name,
    rc_test_name
ORDER BY
    pkg_name ASC,
    pkg_arch ASC
"""

# altrepo_api/api/site_maintainer/sql.py, get_beehive_errors_by_nick_or_group_acl
GET_BEEHIVE_ERRORS_BY_NICK_OR_GROUP_ACL = """
WITH
last_bh_updated AS
(
    SELECT
        pkgset_name,
        bh_arch as arch,
        max(bh_updated) AS updated
    FROM BeehiveStatus
    WHERE pkgset_name = '{branch}'
    GROUP BY
        pkgset_name,
        bh_arch
),
(
    SELECT groupUniqArray(acl_for)
    FROM last_acl_stage1
    WHERE has(acl_list, '{maintainer_nickname}')
        AND acl_for LIKE ('@%')
        AND acl_branch = 'sisyphus'
) AS acl_group,
maintainer_packages AS
(
    SELECT
        pkg_hash,
        pkg_epoch
    FROM last_packages
    WHERE pkg_sourcepackage = 1
        AND pkgset_name = '{branch}'
        AND pkg_name IN (
            SELECT acl_for
            FROM last_acl_stage1
            WHERE acl_branch = 'sisyphus'
                AND (has(acl_list, '{maintainer_nickname}')
                OR hasAny(acl_list, acl_group))
        )
)
SELECT
    pkg_hash,
    pkgset_name,
    pkg_name,
    pkg_version,
    pkg_release,
    bh_arch,
    bh_build_time,
    bh_updated,
    bh_ftbfs_since,
    Pkg.pkg_epoch
FROM BeehiveStatus
LEFT JOIN
(SELECT pkg_hash, pkg_epoch FROM maintainer_packages) AS Pkg USING (pkg_hash)
WHERE pkgset_name = '{branch}'
    AND bh_status = 'error'
    AND (bh_arch, bh_updated) IN
    (
        SELECT arch, updated FROM last_bh_updated
    )
    AND pkg_hash IN
    (
        SELECT pkg_hash FROM maintainer_packages
    )
ORDER BY pkg_name
"""

# altrepo_api/api/site_maintainer/sql.py, get_watch_by_nick_or_group_acl
GET_WATCH_BY_NICK_OR_GROUP_ACL = """
WITH
(
    SELECT groupUniqArray(acl_for)
    FROM last_acl_stage1
    WHERE has(acl_list, '{maintainer_nickname}')
        AND acl_for LIKE ('@%')
        AND acl_branch = 'sisyphus'
) AS acl_group,
(
    SELECT max(toDate(date_update))
    FROM PackagesWatch
) AS max_watch_date
SELECT PW.*, CP.pnc_result
FROM (
    SELECT
        argMax(pkg_name, date_update) as package,
        argMax(old_version, date_update),
        argMax(new_version, date_update),
        argMax(url, date_update),
        max(date_update)
    FROM PackagesWatch
    WHERE pkg_name IN (
        SELECT acl_for
        FROM last_acl_stage1
        WHERE acl_branch = 'sisyphus'
            AND (has(acl_list, '{maintainer_nickname}')
            OR hasAny(acl_list, acl_group))
        )
        AND toDate(date_update) = max_watch_date
        AND url NOT LIKE 'watch_file_error%'
    GROUP BY
        pkg_name,
        url
    ORDER BY pkg_name ASC
) AS PW
LEFT JOIN ({last_repology_pnc}) AS CP ON CP.pkg_name = package
"""

# altrepo_api/api/site_maintainer/sql.py, last_repology_name_conversion
LAST_REPOLOGY_NAME_CONVERSION = """
SELECT DISTINCT
    pkg_name,
    result AS pnc_result,
    type AS pnc_type
FROM (
    SELECT
        pkg_name,
        argMax(pnc_result, ts) AS result,
        argMax(pnc_type, ts) AS type,
        argMax(pnc_state, ts) AS state
    FROM PackagesNameConversion
    WHERE pnc_type = 'altsisyphus'
        AND pnc_source = 'repology'
    GROUP BY
        pkg_name,
        pnc_type,
        pnc_result
    HAVING state = 'active'
)
"""

# altrepo_api/api/package/sql.py, get_last_repocop_results
GET_LAST_REPOCOP_RESULTS = """
SELECT
    pkg_name,
    pkg_version,
    pkg_release,
    pkg_arch,
    pkgset_name,
    rc_test_name,
    argMax(rc_test_status, rc_test_date),
    argMax(rc_test_message, rc_test_date),
    max(rc_test_date)
FROM PackagesRepocop
WHERE {pkgs}
    AND pkgset_name = '{branch}'
    {srcpkg_version}
    {srcpkg_release}
    {arch}
GROUP BY
    pkg_name,
    pkg_version,
    pkg_release,
    pkg_arch,
    pkgset_name,
    rc_test_name
ORDER BY
    pkg_name ASC,
    pkg_arch ASC
"""


def bind(sql: str) -> str:
    """The API's ``%(srcpkg_name)s`` (a client-side parameter) as a server-side one."""
    return sql.replace("%(srcpkg_name)s", "{srcpkg_name:String}")


D1, D2 = utc(2025, 3, 1), utc(2025, 3, 8)
FOO_1_0, OLD, BAZ, FOO_1_10, FOO_BIN, LIBFOO_BIN = 1, 4, 12, 11, 111, 112
FOO_1_11, FOO_S_BIN, LIBFOO_S_BIN, QUX, QUX_BIN = 21, 211, 212, 23, 231


def _binary(pkg_hash: int, name: str, source: str, version: str, src_hash: int) -> Any:
    return package(
        pkg_hash, name, version, srcrpm=f"{source}-{version}-alt1.src.rpm", srcrpm_hash=src_hash
    )


def _packages(store: Store) -> None:
    """p10: foo 1.0, old, baz (D1), then foo 1.10 (foo, libfoo), baz (D2; old gone);
    sisyphus: foo 1.11 (foo, libfoo) and qux 2.1 (D2)."""
    load_branch_snapshot(
        store,
        "p10",
        D1,
        [package(i, n, v, source=True) for i, n, v in ((1, "foo", "1.0"), (4, "old", "1.0"),
                                                       (12, "baz", "0.1"))],
        [],
    )  # fmt: skip
    load_branch_snapshot(
        store,
        "p10",
        D2,
        [package(FOO_1_10, "foo", "1.10", source=True), package(BAZ, "baz", "0.1", source=True)],
        [
            _binary(FOO_BIN, "foo", "foo", "1.10", FOO_1_10),
            _binary(LIBFOO_BIN, "libfoo", "foo", "1.10", FOO_1_10),
        ],
    )
    load_branch_snapshot(
        store,
        "sisyphus",
        D2,
        [package(FOO_1_11, "foo", "1.11", source=True), package(QUX, "qux", "2.1", source=True)],
        [
            _binary(FOO_S_BIN, "foo", "foo", "1.11", FOO_1_11),
            _binary(LIBFOO_S_BIN, "libfoo", "foo", "1.11", FOO_1_11),
            _binary(QUX_BIN, "qux", "qux", "2.1", QUX),
        ],
    )


def _acl(store: Store) -> None:
    """Two loads: p10's baz gains ivan; in sisyphus qux passes from ivan to @qa, which
    ivan joins (so ivan keeps qux through the group, no longer as its leader)."""
    columns = ("acl_date", "acl_branch", "acl_for", "acl_list")
    store.insert(
        "Acl",
        columns,
        [
            (D1, "p10", "foo", ["ivan", "@qa"]),
            (D1, "p10", "baz", ["petr"]),
            (D1, "p10", "@qa", ["anna", "ivan"]),
            (D1, "sisyphus", "foo", ["ivan"]),
            (D1, "sisyphus", "qux", ["ivan"]),
            (D1, "sisyphus", "@qa", ["anna"]),
        ],
    )
    store.insert(
        "Acl",
        columns,
        [
            (D2, "p10", "baz", ["petr", "ivan"]),
            (D2, "sisyphus", "qux", ["@qa"]),
            (D2, "sisyphus", "@qa", ["anna", "ivan"]),
        ],
    )


def _beehive(store: Store) -> None:
    """p10 x86_64 ran twice (foo 1.0 failed in the older run); its newest run also failed
    ``old`` (no longer in p10) and ``ghost`` (in no snapshot: hash 0). i586 ran once."""
    columns = ("pkg_hash", "pkg_name", "pkg_version", "pkg_release", "pkgset_name", "bh_arch",
               "bh_status", "bh_build_time", "bh_updated", "bh_ftbfs_since")  # fmt: skip
    run1, run2, i586 = utc(2025, 3, 2, 12), utc(2025, 3, 9, 12), utc(2025, 3, 8, 12)
    since = utc(2025, 3, 5)
    store.insert(
        "BeehiveStatus",
        columns,
        [
            (FOO_1_0, "foo", "1.0", "alt1", "p10", "x86_64", "error", 5.0, run1, run1),
            (BAZ, "baz", "0.1", "alt1", "p10", "x86_64", "success", 2.0, run1, run1),
            (FOO_1_10, "foo", "1.10", "alt1", "p10", "x86_64", "error", 5.0, run2, since),
            (BAZ, "baz", "0.1", "alt1", "p10", "x86_64", "success", 2.0, run2, run2),
            (OLD, "old", "1.0", "alt1", "p10", "x86_64", "error", 1.0, run2, since),
            (0, "ghost", "0.5", "alt1", "p10", "x86_64", "error", 1.0, run2, run2),
            (FOO_1_10, "foo", "1.10", "alt1", "p10", "i586", "success", 6.0, i586, i586),
            (BAZ, "baz", "0.1", "alt1", "p10", "i586", "error", 3.0, i586, i586),
            (FOO_1_11, "foo", "1.11", "alt1", "sisyphus", "x86_64", "error", 5.0, run2, since),
            (QUX, "qux", "2.1", "alt1", "sisyphus", "x86_64", "success", 4.0, run2, run2),
            (QUX, "qux", "2.1", "alt1", "sisyphus", "i586", "error", 4.0, i586, i586),
        ],
    )


def _bugs(store: Store) -> None:
    """Bug 2 is filed against foo's binary libfoo; bug 4 moves from foo to qux, bug 5 is
    closed later. Each state is its own insert, so that ``ts`` orders them."""
    columns = ("bz_id", "bz_status", "bz_resolution", "bz_severity", "bz_product",
               "bz_component", "bz_assignee", "bz_reporter", "bz_summary",
               "bz_last_changed")  # fmt: skip

    def bug(bz_id: int, status: str, component: str, day: int) -> tuple[Any, ...]:
        return (bz_id, status, "", "normal", "Sisyphus", component, "ivan", "petr",
                f"bug {bz_id}", utc(2025, 3, day))  # fmt: skip

    store.insert(
        "Bugzilla",
        columns,
        [bug(1, "NEW", "foo", 1), bug(2, "NEW", "libfoo", 3), bug(3, "RESOLVED", "foo", 2),
         bug(4, "ASSIGNED", "foo", 4), bug(5, "NEW", "qux", 5)],
    )  # fmt: skip
    time.sleep(0.01)
    store.insert("Bugzilla", columns, [bug(4, "ASSIGNED", "qux", 6), bug(5, "CLOSED", "qux", 7)])


def _repocop(store: Store) -> None:
    """sisyphus: an older snapshot of foo 1.10, the newest of foo 1.11 with every status."""
    columns = ("pkg_name", "pkg_version", "pkg_release", "pkg_arch", "pkgset_name",
               "rc_srcpkg_name", "rc_srcpkg_version", "rc_srcpkg_release", "rc_test_name",
               "rc_test_date", "rc_test_status", "rc_test_message")  # fmt: skip

    def result(name: str, src: str, version: str, test: str, status: str, day: datetime) -> Any:
        return (name, version, "alt1", "x86_64", "sisyphus", src, version, "alt1", test, day,
                status, f"{test} says {status}")  # fmt: skip

    store.insert(
        "PackagesRepocop",
        columns,
        [
            result("foo", "foo", "1.10", "t-old", "warn", D1),
            *(result("foo", "foo", "1.11", f"t-{s}", s, D2) for s in
              ("warn", "fail", "ok", "skip", "info")),
            result("libfoo", "foo", "1.11", "t-exp", "experimental", D2),
            result("qux", "qux", "2.1", "t-ok", "ok", D2),
        ],
    )  # fmt: skip


WATCH_ERROR = "watch_file_error: 404 Not Found"


def _watch(store: Store) -> None:
    """Two snapshots; the newest has foo 1.9 (older than foo 1.11 by rpm's rules) and 1.12,
    qux 2.10 and 2.9 (2.10 is the newest, though it sorts first as text) and qux's
    watch file error."""
    columns = ("acl", "pkg_name", "old_version", "new_version", "url", "date_update")
    w1, w2 = utc(2025, 3, 1, 3), utc(2025, 3, 8, 3)
    store.insert("PackagesWatch", columns, [("ivan", "foo", "1.11", "1.13", "https://f/old", w1)])
    store.insert(
        "PackagesWatch",
        columns,
        [
            ("ivan", "foo", "1.11", "1.9", "https://f/1.9", w2),
            ("ivan", "foo", "1.11", "1.12", "https://f/1.12", w2),
            ("anna", "qux", "2.1", "2.10", "https://q/2.10", w2),
            ("anna", "qux", "2.1", "2.9", "https://q/2.9", w2),
            ("anna", "qux", "2.1", "2.1", WATCH_ERROR, w2),
        ],
    )


@pytest.fixture
def fed(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    with open_store(fresh_store_url(tmp_path_factory, tmp_path / "store")) as store:
        _packages(store)
        _acl(store)
        _beehive(store)
        _bugs(store)
        _repocop(store)
        _watch(store)
        # The API reads the tables, not their Buffers (flushing also feeds
        # PackagesSourceAndBinaries), and last_acl_stage1 merged, as it would be by now.
        for table in ("Packages", "PackageSet"):
            store.command(f"OPTIMIZE TABLE {table}_buffer")
        # baz is in both p10 sets; a loader stores a package once, this builder twice.
        store.command("OPTIMIZE TABLE Packages FINAL")
        store.command("OPTIMIZE TABLE last_acl_stage1 FINAL")
        yield store


def _open(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The API's bugs without the closed ones (status is the second column)."""
    return [r for r in rows if r[1] not in CLOSED_STATUSES]


def test_acl_agrees_with_the_api(fed: Store) -> None:
    foo = package_feeds(fed, branch="p10", name="foo")
    ((theirs,),) = fed.query(GET_PKG_ACL.format(name="foo", branch="p10"))
    assert foo.acl == list(theirs) == ["ivan", "@qa"]
    ((_, members, _),) = fed.query(GET_ACL_GROUP.format(branch="p10", acl_group="qa"))
    assert foo.groups == {"@qa": list(members)} == {"@qa": ["anna", "ivan"]}
    # baz's list changed between the two loads: the newest one counts.
    names = "(SELECT arrayJoin(['foo', 'baz']) AS pkg_name)"
    rows = fed.query(GET_ACL_BY_PACKAGES.format(branch="p10", tmp_table=names))
    by_api = {name: list(members) for name, _, members in rows}
    assert by_api == {"foo": ["ivan", "@qa"], "baz": ["petr", "ivan"]}
    assert package_feeds(fed, branch="p10", name="baz").acl == by_api["baz"]


def test_ftbfs_lists_only_the_branchs_packages(fed: Store) -> None:
    def theirs(archs: tuple[str, ...]) -> list[tuple[str, str, str]]:
        sql = GET_BEEHIVE_ERRORS_BY_BRANCH_AND_ARCH.format(branch="p10", archs=archs)
        return sorted((r[2], r[6], r[4]) for r in fed.query(sql))

    # By hand: the newest x86_64 run failed foo 1.10, old and ghost; i586 failed baz.
    # old is no longer in p10 and ghost never was: the API leaves both out.
    both = theirs(("i586", "x86_64"))
    assert both == [("baz", "i586", "0.1"), ("foo", "x86_64", "1.10")]
    ours = failing_to_build(fed, branch="p10")
    assert [(f.name, f.arch, f.version) for f in ours] == both
    only = failing_to_build(fed, branch="p10", arch="x86_64")
    assert [(f.name, f.arch, f.version) for f in only] == theirs(("x86_64", "x86_64"))
    with pytest.raises(NotFoundError, match=r"^no source package old in p10, nor a feed"):
        package_feeds(fed, branch="p10", name="old")  # its failed build is of no p10 set
    with pytest.raises(NotFoundError, match="no package set of branch p9"):
        failing_to_build(fed, branch="p9")  # the API has no data for it either (404)


def test_package_beehive_agrees_with_the_package_page(fed: Store) -> None:
    sql = GET_LAST_BH_REBUILD_STATUS_BY_HSH.format(branch="p10", pkghash=FOO_1_10)
    theirs = sorted((arch, status, updated) for arch, status, _, updated, _ in fed.query(sql))
    # By hand: x86_64's newest run (not the older one that failed foo 1.0), and i586's.
    assert [(a, s) for a, s, _ in theirs] == [("i586", "success"), ("x86_64", "error")]
    ours = package_feeds(fed, branch="p10", name="foo").beehive
    assert [(b.arch, b.status, b.updated) for b in ours] == theirs
    assert [b.version for b in ours] == ["1.10", "1.10"]


def test_package_bugs_include_its_binaries_components(fed: Store) -> None:
    def theirs(name: str) -> list[int]:
        binaries = fed.query(bind(GET_PKG_NAME_BY_SRCPKG), {"srcpkg_name": name})
        packages = tuple(sorted({name} | {b for (b,) in binaries}))
        rows = fed.query(GET_BUGZILLA_INFO_BY_SRCPKG.format(packages=packages))
        return [int(r[0]) for r in _open(rows)]

    # By hand: foo's open bugs are 2 (on its binary libfoo, newest) and 1; 3 is resolved
    # and 4 moved to qux. qux has 4 (5 is closed).
    assert theirs("foo") == [2, 1]
    assert [b.bz_id for b in package_feeds(fed, branch="sisyphus", name="foo").bugs] == [2, 1]
    assert [b.bz_id for b in package_feeds(fed, branch="sisyphus", name="qux").bugs] == [4]


def test_maintainer_packages_and_bugs_agree(fed: Store) -> None:
    sql = GET_MAINTAINER_PKG_BY_NICK_OR_GROUP_ACL.format(maintainer_nickname="ivan",
                                                         branch="sisyphus")  # fmt: skip
    theirs = sorted(row[0] for row in fed.query(sql))
    ours = {p.name: p for p in maintainer_dashboard(fed, branch="sisyphus", nick="ivan")}
    # By hand: foo directly, qux through @qa (which ivan joined when qux passed to it).
    assert sorted(ours) == theirs == ["foo", "qux"]
    assert (ours["foo"].leader, ours["qux"].leader) == (True, False)
    assert (ours["foo"].version, ours["qux"].version) == ("1.11", "2.1")
    bugs = fed.query(GET_BUGZILLA_INFO_BY_NICK_ACL.format(maintainer_nickname="ivan"))
    per_source = Counter(row[10] for row in _open(bugs))
    assert per_source == {"foo": 2, "qux": 1}
    assert {n: p.open_bugs for n, p in ours.items()} == per_source
    # The same nick in p10 has that branch's acl: foo, and baz since the second load.
    p10 = maintainer_dashboard(fed, branch="p10", nick="ivan")
    assert [(p.name, p.leader) for p in p10] == [("baz", False), ("foo", True)]


def test_maintainer_beehive_agrees(fed: Store) -> None:
    sql = GET_BEEHIVE_ERRORS_BY_NICK_OR_GROUP_ACL.format(maintainer_nickname="ivan",
                                                         branch="sisyphus")  # fmt: skip
    theirs = sorted((row[2], row[5]) for row in fed.query(sql))
    assert theirs == [("foo", "x86_64"), ("qux", "i586")]
    ours = maintainer_dashboard(fed, branch="sisyphus", nick="ivan")
    assert sorted((p.name, a) for p in ours for a in p.failing_arches) == theirs


def test_repocop_warnings_leave_out_skipped_tests(fed: Store) -> None:
    sql = GET_REPOCOP_BY_NICK_OR_GROUP_ACL.format(maintainer_nickname="ivan", branch="sisyphus")
    theirs = sorted((row[0], row[6], row[7]) for row in fed.query(sql))
    # By hand: foo 1.11's warn, fail, info and libfoo's experimental; not ok, not skip,
    # not foo 1.10's older result.
    assert theirs == [
        ("foo", "t-fail", "fail"),
        ("foo", "t-info", "info"),
        ("foo", "t-warn", "warn"),
        ("libfoo", "t-exp", "experimental"),
    ]
    ours = package_feeds(fed, branch="sisyphus", name="foo").repocop
    assert sorted((w.package, w.test, w.status) for w in ours) == theirs
    dashboard = {p.name: p for p in maintainer_dashboard(fed, branch="sisyphus", nick="ivan")}
    assert (dashboard["foo"].repocop_warnings, dashboard["qux"].repocop_warnings) == (4, 0)
    # The package page's query (the site passes the version it shows) agrees as well.
    pkgs = "pkg_name IN (SELECT pkg_name FROM PackagesRepocop WHERE rc_srcpkg_name = 'foo')"
    page = GET_LAST_REPOCOP_RESULTS.format(
        pkgs=pkgs, branch="sisyphus", srcpkg_version="AND rc_srcpkg_version = '1.11'",
        srcpkg_release="AND rc_srcpkg_release = 'alt1'", arch="",
    )  # fmt: skip
    shown = sorted((r[0], r[5], r[6]) for r in fed.query(page) if r[6] not in ("ok", "skip"))
    assert shown == theirs


def _watch_of(fed: Store) -> list[tuple[str, str, str]]:
    sql = GET_WATCH_BY_NICK_OR_GROUP_ACL.format(
        maintainer_nickname="ivan", last_repology_pnc=LAST_REPOLOGY_NAME_CONVERSION
    )
    return sorted((row[0], row[2], row[3]) for row in fed.query(sql))


def test_watch_leaves_out_watch_file_errors(fed: Store) -> None:
    theirs = _watch_of(fed)
    # By hand: the newest snapshot's foo and qux entries, without qux's watch file error.
    assert theirs == [
        ("foo", "1.12", "https://f/1.12"),
        ("foo", "1.9", "https://f/1.9"),
        ("qux", "2.10", "https://q/2.10"),
        ("qux", "2.9", "https://q/2.9"),
    ]
    for name in ("foo", "qux"):
        ours = package_feeds(fed, branch="sisyphus", name=name).watch
        assert sorted((name, u.new_version, u.url) for u in ours) == [
            t for t in theirs if t[0] == name
        ]


def test_newer_upstream_agrees_and_names_the_newest(fed: Store) -> None:
    versions = {"foo": "1.11", "qux": "2.1"}
    newer = [t for t in _watch_of(fed) if rpmvercmp(t[1], versions[t[0]]) > 0]
    # foo's 1.9 is older than 1.11 by rpm's rules; qux's 2.10 and 2.9 are both newer.
    assert [(n, v) for n, v, _ in newer] == [("foo", "1.12"), ("qux", "2.10"), ("qux", "2.9")]
    ours = newer_upstream(fed, branch="sisyphus")
    assert sorted((n.name, n.new_version, n.url) for n in ours) == newer
    dashboard = {p.name: p for p in maintainer_dashboard(fed, branch="sisyphus", nick="ivan")}
    assert (dashboard["foo"].newer_version, dashboard["foo"].newer_url) == (
        "1.12",
        "https://f/1.12",
    )
    assert (dashboard["qux"].newer_version, dashboard["qux"].newer_url) == (
        "2.10",
        "https://q/2.10",
    )
