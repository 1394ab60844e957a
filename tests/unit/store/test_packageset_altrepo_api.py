"""``query packages|package|diff`` tell what the ALTRepo API's own queries tell.

The SQL texts below are quoted from the ALTRepo API (liannnix/altrepoapi at e18bcd4d,
``altrepo_api/api/*/sql.py``) as compatibility fixtures, only their placeholders
filled the way the endpoint code beside them fills them. Each test builds one small
store by hand (``_build``), asks it both ways and checks both answers against a hand
count of the packages below. The API reads the plain tables, not their Buffers, so the
buffers are flushed first (``OPTIMIZE TABLE X_buffer``), as a load does not use them.

The store: branch p10 on 2024-05-01 and 2024-06-01, branch p9 on 2024-06-01.

========  ===============================  ==================================
name      p10 2024-05-01                   p10 2024-06-01
========  ===============================  ==================================
foo       src, x86_64, aarch64 1.9-alt1    src, x86_64, aarch64 1.10-alt1
foo-doc   noarch 1.9-alt1                  noarch 1.10-alt1
bar       src, noarch 2.0-alt1             (removed)
epo       src, x86_64 1:3.0-alt1           src, x86_64 2:1.0-alt1 (epoch bump)
reb       src, x86_64 1.0-alt1             src, x86_64 1.0-alt1 rebuilt (new hashes)
libfoo    x86_64 1.9-alt1 (of foo)         the same build, kept
baz                                        src, noarch 0.1-alt1 (added)
========  ===============================  ==================================

p9 holds foo 0.9-alt1 (src, x86_64) only: nothing of it may appear in p10's answers.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import pytest

from repotrack.rpm import changelog_hash
from repotrack.store import Store
from repotrack.store.queries import diff_package_sets, list_packages, package_info
from tests.unit.store.rows import load_branch_snapshot, load_snapshot, package, utc
from tests.unit.store.test_altrepo_queries import (
    GET_PKGSET_PACKAGES,
    PKG_INFO_GET_DEPENDS,
    PKG_INFO_GET_FILES,
)

MAY = utc(2024, 5, 1)
JUNE = utc(2024, 6, 1)

# altrepo_api/api/packageset/sql.py, get_repo_packages (/packageset/repository_packages):
# the packages of a branch's newest set. The endpoint fills {src} with (1, 0), (1,) or
# (0,) and {archs} with "" or "AND pkg_arch IN (...)" (noarch added to any arch asked).
GET_REPO_PACKAGES = """
SELECT
    pkg_hash,
    pkg_name,
    pkg_version,
    pkg_release,
    pkg_summary,
    groupUniqArray(pkg_packager_email) AS packagers,
    pkg_url,
    pkg_license,
    pkg_group_,
    groupUniqArray(pkg_arch),
    acl_list
FROM last_packages
LEFT JOIN
(
    SELECT
        acl_for AS pkg_name,
        acl_list
    FROM last_acl
    WHERE acl_branch = '{branch}'
) AS Acl USING pkg_name
WHERE pkgset_name = '{branch}'
    AND pkg_sourcepackage IN {src}
    {archs}
    AND pkg_name NOT LIKE '%%-debuginfo'
GROUP BY
    pkg_hash,
    pkg_name,
    pkg_version,
    pkg_release,
    pkg_summary,
    pkg_url,
    pkg_license,
    pkg_group_,
    acl_list
ORDER BY pkg_name
"""

# altrepo_api/api/package/sql.py, pkg_info_get_pkgs_template (/package/package_info); the
# endpoint fills {p_params} with its output columns, {p_values} with
# "pkg_name = '<name>' AND pkg_sourcepackage = <0|1>" and {branch} with
# "AND pkgset_name = %(branch)s".
PKG_INFO_GET_PKGS_TEMPLATE = """
SELECT DISTINCT
    pkg_hash,
    {p_params}
FROM last_packages
WHERE {p_values} {branch}
"""

# altrepo_api/api/package/sql.py: the full=true parts of /package/package_info.
PKG_INFO_GET_CHANGELOG = """
SELECT
    pkg_hash,
    changelog
FROM PackageChangelog_view
WHERE pkg_hash IN %(pkghshs)s
"""

# altrepo_api/api/packageset/sql.py, get_compare_info (/packageset/compare_packagesets):
# source packages of pkgset1 whose (name, version, release) pkgset2 lacks, each beside
# pkgset2's build of that name, or beside '' where pkgset2 has no such name.
GET_COMPARE_INFO = """
SELECT
    pkg_name,
    pkg_version,
    pkg_release,
    Df.pkg_name,
    Df.pkg_version,
    Df.pkg_release
FROM
(
    SELECT
        pkg_name,
        pkg_version,
        pkg_release
    FROM static_last_packages
    WHERE pkgset_name = %(pkgset1)s
        AND pkg_sourcepackage = 1
        AND
        (
            pkg_name,
            pkg_version,
            pkg_release
        ) NOT IN
        (
            SELECT
                pkg_name,
                pkg_version,
                pkg_release
            FROM static_last_packages
            WHERE pkgset_name = %(pkgset2)s
                AND pkg_sourcepackage = 1
        )
        AND pkg_name IN
        (
            SELECT pkg_name
            FROM static_last_packages
            WHERE pkgset_name = %(pkgset2)s
                AND pkg_sourcepackage = 1
        )
) AS PkgSet2
INNER JOIN
(
    SELECT
        pkg_name,
        pkg_version,
        pkg_release
    FROM static_last_packages
    WHERE pkgset_name = %(pkgset2)s
        AND pkg_sourcepackage = 1
) AS Df USING pkg_name
UNION ALL
SELECT
    pkg_name,
    pkg_version,
    pkg_release,
    '',
    '',
    ''
FROM static_last_packages
WHERE pkgset_name = %(pkgset1)s
    AND pkg_sourcepackage = 1
    AND pkg_name NOT IN
    (
        SELECT pkg_name
        FROM static_last_packages
        WHERE pkgset_name = %(pkgset2)s
            AND pkg_sourcepackage = 1
    )
"""

# altrepo_api/api/site_packageset/sql.py, get_last_branch_src_diff (/site/last_packages):
# the source packages of the branch's newest set that its previous set lacked.
GET_LAST_BRANCH_SRC_DIFF = """
CREATE TEMPORARY TABLE {tmp_table} AS
SELECT DISTINCT pkg_hash
FROM static_last_packages
WHERE pkgset_name = '{branch}'
    AND pkg_sourcepackage = 1
    AND pkg_hash NOT IN
    (
        SELECT pkg_hash
        FROM PackageSet
        WHERE pkgset_uuid = (
            SELECT pkgset_uuid
            FROM PackageSetName
            WHERE pkgset_nodename = 'srpm'
                AND pkgset_ruuid = (
                    SELECT argMax(pkgset_ruuid, pkgset_date)
                    FROM PackageSetName
                    WHERE pkgset_depth = 0
                        AND pkgset_nodename = '{branch}'
                        AND pkgset_date < '{last_pkgset_date}'
                )
        )
    )
"""


def bind(sql: str, **types: str) -> str:
    """The API's Python-side ``%(name)s`` placeholders as ``{name:Type}`` parameters."""
    for name, type_ in types.items():
        sql = sql.replace(f"%({name})s", f"{{{name}:{type_}}}")
    return sql


def _pkg(
    pkg_hash: int,
    name: str,
    version: str,
    *,
    arch: str = "x86_64",
    source: bool = False,
    epoch: int = 0,
    of: tuple[str, int] | None = None,
    built: int = 1_700_000_000,
    changelog: tuple[tuple[datetime, str, str, int], ...] = (),
) -> tuple[Any, ...]:
    """One Packages row; ``of`` names the source (its file name's stem and hash)."""
    srcrpm, srcrpm_hash = (f"{of[0]}.src.rpm", of[1]) if of else ("", 0)
    row = list(
        package(
            pkg_hash,
            name,
            version,
            arch=arch,
            epoch=epoch,
            source=source,
            srcrpm=srcrpm,
            srcrpm_hash=srcrpm_hash,
            changelog=changelog,
        )
    )
    row[7] = built  # pkg_buildtime
    return tuple(row)


def _may() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    foo = ("foo-1.9-alt1", 101)
    sources = [
        _pkg(101, "foo", "1.9", source=True),
        _pkg(105, "bar", "2.0", source=True),
        _pkg(107, "epo", "3.0", source=True, epoch=1),
        _pkg(109, "reb", "1.0", source=True),
    ]
    binaries = [
        _pkg(102, "foo", "1.9", of=foo),
        _pkg(103, "foo", "1.9", arch="aarch64", of=foo),
        _pkg(104, "foo-doc", "1.9", arch="noarch", of=foo),
        _pkg(106, "bar", "2.0", arch="noarch", of=("bar-2.0-alt1", 105)),
        _pkg(108, "epo", "3.0", epoch=1, of=("epo-3.0-alt1", 107)),
        _pkg(110, "reb", "1.0", of=("reb-1.0-alt1", 109)),
        _pkg(111, "libfoo", "1.9", of=foo),
    ]
    return sources, binaries


#: foo 1.10's changelog, newest first as a header holds it: (date, name, evr, text).
CHANGES = (
    (utc(2024, 5, 20), "Ivan <ivan@altlinux>", "1.10-alt1", "- 1.10 released."),
    (utc(2024, 4, 2), "Ivan <ivan@altlinux>", "1.9-alt1", "- 1.9 released."),
)
CHANGELOG = tuple((d, n, e, changelog_hash(t)) for d, n, e, t in CHANGES)


def _june() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    foo = ("foo-1.10-alt1", 201)
    sources = [
        _pkg(201, "foo", "1.10", source=True, changelog=CHANGELOG),
        _pkg(207, "epo", "1.0", source=True, epoch=2),
        _pkg(209, "reb", "1.0", source=True, built=1_710_000_000),
        _pkg(211, "baz", "0.1", source=True),
    ]
    binaries = [
        _pkg(202, "foo", "1.10", of=foo, changelog=CHANGELOG),
        _pkg(203, "foo", "1.10", arch="aarch64", of=foo, changelog=CHANGELOG),
        _pkg(204, "foo-doc", "1.10", arch="noarch", of=foo),
        _pkg(208, "epo", "1.0", epoch=2, of=("epo-1.0-alt1", 207)),
        _pkg(210, "reb", "1.0", of=("reb-1.0-alt1", 209), built=1_710_000_000),
        _pkg(111, "libfoo", "1.9", of=("foo-1.9-alt1", 101)),
        _pkg(212, "baz", "0.1", arch="noarch", of=("baz-0.1-alt1", 211)),
    ]
    return sources, binaries


def _flush(store: Store) -> None:
    for table in ("Packages", "PackageSet", "Depends", "Files", "FileNames", "Changelog"):
        store.command(f"OPTIMIZE TABLE {table}_buffer")


def _contents(store: Store) -> None:
    """Changelog texts, files and dependencies of foo 1.10's x86_64 and aarch64 builds."""
    store.insert(
        "Changelog_buffer",
        ("chlog_hash", "chlog_text"),
        [(changelog_hash(t), t) for *_, t in CHANGES],
    )
    files = [("/usr/bin/foo", 0o100755, "file"), ("/usr/share/foo", 0o40755, "directory")]
    store.insert(
        "Files_insert",
        ("pkg_hash", "file_name", "file_md5", "file_size", "file_mode", "file_class"),
        [(h, n, b"\x11" * 16, 1, m, c) for h in (202, 203) for n, m, c in files],
    )
    store.insert(
        "Depends_buffer",
        ("pkg_hash", "dp_name", "dp_version", "dp_flag", "dp_type"),
        [
            (h, n, v, f, t)
            for h in (202, 203)
            for n, v, f, t in (
                ("libfoo", "1.9", 8 | 4, "require"),
                ("foo-data", "", 0, "require"),
                ("foo", "1.10-alt1", 8, "provide"),
                ("oldfoo", "", 0, "obsolete"),
            )
        ],
    )


@pytest.fixture
def loaded(store: Store) -> Store:
    _contents(store)
    load_branch_snapshot(store, "p10", MAY, *_may(), task=300)
    load_branch_snapshot(store, "p10", JUNE, *_june(), task=301)
    p9 = [_pkg(301, "foo", "0.9", source=True)], [_pkg(302, "foo", "0.9", of=("foo-0.9", 301))]
    load_branch_snapshot(store, "p9", JUNE, *p9, task=302)
    _flush(store)
    return store


def _nvr(rows: list[tuple[Any, ...]]) -> list[tuple[int, str, str, str]]:
    return [(int(h), n, v, r) for h, n, v, r, *_ in rows]


# -- query packages ------------------------------------------------------------------------


def test_packages_of_the_newest_set_as_the_api_lists_them(loaded: Store) -> None:
    theirs = loaded.query(GET_REPO_PACKAGES.format(branch="p10", src=(1, 0), archs=""))
    ours = list_packages(loaded, branch="p10")
    # By hand: 4 sources and 7 binaries of 2024-06-01; nothing of p9 nor of 2024-05-01.
    assert ours.total == len(theirs) == 11
    assert sorted(_nvr(theirs)) == sorted(
        (p.pkg_hash, p.name, p.version, p.release) for p in ours.packages
    )
    # The API orders by name only; ours by name, then arch.
    assert [p.name for p in ours.packages] == [row[1] for row in theirs]
    assert {p.pkg_hash: [p.arch] for p in ours.packages} == {int(r[0]): r[9] for r in theirs}


def test_sources_of_a_dated_set_as_the_api_lists_them(loaded: Store) -> None:
    sql = bind(GET_PKGSET_PACKAGES, branch="String", date="DateTime")
    for day, when in ((date(2024, 5, 31), MAY), (date(2024, 6, 1), JUNE)):
        theirs = loaded.query(sql, {"branch": "p10", "date": when})
        ours = list_packages(loaded, branch="p10", day=day, arch="src")
        assert len(theirs) == ours.total == 4
        assert sorted(_nvr(theirs)) == sorted(
            (p.pkg_hash, p.name, p.version, p.release) for p in ours.packages
        )


def test_sources_and_binaries_apart_as_the_api_filters_them(loaded: Store) -> None:
    sources = loaded.query(GET_REPO_PACKAGES.format(branch="p10", src=(1,), archs=""))
    ours = list_packages(loaded, branch="p10", arch="src")
    assert [p.pkg_hash for p in ours.packages] == [int(r[0]) for r in sources]
    assert [p.name for p in ours.packages] == ["baz", "epo", "foo", "reb"]
    # The API adds noarch to any arch asked for; ``--arch`` is one arch exactly
    # (docs/store.md), so noarch is asked for on its own.
    archs = "AND pkg_arch IN ('aarch64', 'noarch')"
    binaries = loaded.query(GET_REPO_PACKAGES.format(branch="p10", src=(0,), archs=archs))
    aarch64 = list_packages(loaded, branch="p10", arch="aarch64").packages
    noarch = list_packages(loaded, branch="p10", arch="noarch").packages
    assert sorted(int(r[0]) for r in binaries) == sorted(p.pkg_hash for p in aarch64 + noarch)
    assert sorted(p.pkg_hash for p in aarch64 + noarch) == [203, 204, 212]


@pytest.mark.parametrize("later_sorts_first", [True, False])
def test_a_reloaded_day_answers_from_the_load_made_last(
    store: Store, later_sorts_first: bool
) -> None:
    # ``load repo --force`` stores a second root of the same branch and day. The API's
    # last_packages (StaticLastPackages at the newest date) shows both loads' packages
    # together; ours shows the later load, whichever way its random root id sorts.
    first, later = (uuid.UUID(int=2), uuid.UUID(int=1))[:: 1 if later_sorts_first else -1]
    load_snapshot(store, "p10", JUNE, [_pkg(1, "foo", "1.0", source=True)], root=first)
    load_snapshot(store, "p10", JUNE, [_pkg(2, "foo", "1.1", source=True)], root=later)
    _flush(store)
    store.command("OPTIMIZE TABLE PackageSetName FINAL")  # as background merges leave it
    theirs = store.query(GET_REPO_PACKAGES.format(branch="p10", src=(1,), archs=""))
    assert sorted(int(r[0]) for r in theirs) == [1, 2]
    ours = list_packages(store, branch="p10", day=JUNE.date())
    assert ours.package_set.uuid == later
    assert [(p.pkg_hash, p.version) for p in ours.packages] == [(2, "1.1")]
    detail = package_info(store, name="foo", branch="p10")
    assert [b.package.version for b in detail.builds] == ["1.1"]


# -- query package ------------------------------------------------------------------------

#: The output columns /package/package_info returns without full=true.
PKG_INFO_COLUMNS = (
    "pkg_name, pkg_arch, pkg_version, pkg_release, pkg_epoch, pkg_sourcepackage, pkg_sourcerpm"
)


def _package_info_sql(name: str, *, source: bool) -> str:
    """The request line the endpoint builds (values formatted in, as it does)."""
    return PKG_INFO_GET_PKGS_TEMPLATE.format(
        p_params=PKG_INFO_COLUMNS,
        p_values=f"pkg_name = '{name}' AND pkg_sourcepackage = {int(source)}",
        branch="AND pkgset_name = {branch:String}",
    )


def test_package_builds_as_the_api_finds_them(loaded: Store) -> None:
    theirs = [
        row
        for source in (True, False)
        for row in loaded.query(_package_info_sql("foo", source=source), {"branch": "p10"})
    ]
    ours = package_info(loaded, name="foo", branch="p10")
    # By hand: foo 1.10-alt1 as source, x86_64 and aarch64; not foo-doc, libfoo, nor p9's.
    assert sorted(int(r[0]) for r in theirs) == [201, 202, 203]
    assert sorted(
        (int(h), n, a, v, r, e, s, srpm) for h, n, a, v, r, e, s, srpm in theirs
    ) == sorted(
        (
            b.package.pkg_hash,
            b.package.name,
            "src" if b.package.sourcepackage else b.package.arch,
            b.package.version,
            b.package.release,
            b.package.epoch,
            int(b.package.sourcepackage),
            b.sourcerpm,
        )
        for b in ours.builds
    )


def test_package_details_as_the_api_gives_them(loaded: Store) -> None:
    hashes = [201, 202, 203]
    ours = {b.package.pkg_hash: b for b in package_info(loaded, name="foo", branch="p10").builds}
    changelogs = loaded.query(
        bind(PKG_INFO_GET_CHANGELOG, pkghshs="Array(UInt64)"), {"pkghshs": hashes}
    )
    assert len(changelogs) == 3
    for pkg_hash, entries in changelogs:
        mine = ours[int(pkg_hash)].changelog
        assert [(c.date, c.name, c.evr, c.text) for c in mine] == [tuple(e) for e in entries]
        assert [c.text for c in mine] == [t for *_, t in CHANGES]  # newest first
    files = loaded.query(bind(PKG_INFO_GET_FILES, pkghshs="Array(UInt64)"), {"pkghshs": hashes})
    assert {int(h): sorted(f) for h, f in files} == {
        h: ours[h].files for h in hashes if ours[h].files
    }
    assert sorted(ours[202].files) == ["/usr/bin/foo", "/usr/share/foo"]
    depends = loaded.query(bind(PKG_INFO_GET_DEPENDS, pkghshs="Array(UInt64)"), {"pkghshs": hashes})
    assert sorted((int(h), t, n) for h, t, n in depends) == sorted(
        (h, d.type, d.name) for h in hashes for d in ours[h].depends
    )
    assert len(depends) == 8


# -- query diff ----------------------------------------------------------------------------


def test_new_sources_as_the_api_finds_them(loaded: Store) -> None:
    loaded.command(
        GET_LAST_BRANCH_SRC_DIFF.format(
            tmp_table="new_src", branch="p10", last_pkgset_date=f"{JUNE:%Y-%m-%d %H:%M:%S}"
        )
    )
    theirs = sorted(int(h) for (h,) in loaded.query("SELECT pkg_hash FROM new_src"))
    diff = diff_package_sets(loaded, branch="p10", old_day=date(2024, 5, 1), new_day=JUNE.date())
    ours = [p.pkg_hash for p in diff.added if p.sourcepackage] + [
        u.new.pkg_hash for u in diff.updated if u.arch == "src"
    ]
    # By hand: foo 1.10, epo 2:1.0, the rebuilt reb and the new baz.
    assert theirs == sorted(ours) == [201, 207, 209, 211]


def test_source_changes_as_the_api_compares_them(loaded: Store) -> None:
    # compare_packagesets compares the newest sets of two names: the same two snapshots,
    # stored once more under the names "old" and "new", are compared there.
    load_branch_snapshot(loaded, "old", MAY, *_may())
    load_branch_snapshot(loaded, "new", JUNE, *_june())
    _flush(loaded)
    sql = bind(GET_COMPARE_INFO, pkgset1="String", pkgset2="String")
    gone_or_changed = loaded.query(sql, {"pkgset1": "old", "pkgset2": "new"})
    new_or_changed = loaded.query(sql, {"pkgset1": "new", "pkgset2": "old"})
    diff = diff_package_sets(loaded, branch="p10", old_day=date(2024, 5, 1), new_day=JUNE.date())
    # By hand: bar removed; baz added; foo 1.9 -> 1.10 and epo 3.0 -> 1.0 (by its epoch)
    # changed. reb's rebuild keeps its version: the API does not list it, ours calls it a
    # rebuild (direction 0).
    assert sorted(gone_or_changed) == [
        ("bar", "2.0", "alt1", "", "", ""),
        ("epo", "3.0", "alt1", "epo", "1.0", "alt1"),
        ("foo", "1.9", "alt1", "foo", "1.10", "alt1"),
    ]
    assert sorted(r[:3] for r in new_or_changed if not r[3]) == [("baz", "0.1", "alt1")]
    assert [(p.name, p.version, p.release) for p in diff.removed if p.sourcepackage] == [
        r[:3] for r in sorted(gone_or_changed) if not r[3]
    ]
    assert [(p.name, p.version, p.release) for p in diff.added if p.sourcepackage] == [
        r[:3] for r in new_or_changed if not r[3]
    ]
    changed = [u for u in diff.updated if u.arch == "src" and u.direction != 0]
    assert [
        (u.name, u.old.version, u.old.release, u.name, u.new.version, u.new.release)
        for u in changed
    ] == sorted(r for r in gone_or_changed if r[3])
    assert [u.direction for u in changed] == [1, 1]
    assert [
        (u.name, u.direction) for u in diff.updated if u.arch == "src" and u not in changed
    ] == [("reb", 0)]


def test_diff_counts_add_up(loaded: Store) -> None:
    diff = diff_package_sets(loaded, branch="p10", old_day=date(2024, 5, 1), new_day=JUNE.date())
    old = list_packages(loaded, branch="p10", day=date(2024, 5, 1)).total
    new = list_packages(loaded, branch="p10", day=JUNE.date()).total
    assert (old, new) == (11, 11)
    assert old - len(diff.removed) + len(diff.added) == new
    assert sorted((p.name, p.arch) for p in diff.removed) == [("bar", "noarch"), ("bar", "src")]
    assert sorted((p.name, p.arch) for p in diff.added) == [("baz", "noarch"), ("baz", "src")]
    assert sorted((u.name, u.arch, u.direction) for u in diff.updated) == [
        ("epo", "src", 1),
        ("epo", "x86_64", 1),
        ("foo", "aarch64", 1),
        ("foo", "src", 1),
        ("foo", "x86_64", 1),
        ("foo-doc", "noarch", 1),
        ("reb", "src", 0),
        ("reb", "x86_64", 0),
    ]
