"""Read queries over the enrichment tables: one package's feeds, and a branch's dashboards.

Every answer reads the newest state the loaders left, by each table's own rule:

- acl: the ``last_acl`` view (newest list per package or group; the first nick leads);
  a maintainer's packages come from ``last_acl_with_groups`` (group members included);
- beehive: per arch, the rows of the newest run (``max(bh_updated)`` of the arch) of
  the source packages in the branch's newest set (by ``pkg_hash``, as ALTRepo's API
  does), so a package removed since, or one beehive built from no snapshot (hash 0),
  is not reported as failing;
- bugs: each bug's newest row (``argMax(..., ts)``) whose component is the package or
  one of the binary packages ever built from a source package of that name (Bugzilla's
  components are often binary names; the API's ``/bug/bugzilla_by_package`` does the
  same) and whose status is not closed (``CLOSED_STATUSES``);
- repocop and watch: the newest snapshot (``max(rc_test_date)`` of the branch,
  ``max(date_update)``); repocop rows whose status is ``ok`` or ``skip`` are not
  warnings, and watch lines whose URL is a ``watch_file_error`` report name no
  upstream version (the API leaves both out of its maintainer pages);
- licenses: the source package's License tag, each identifier found in it directly in
  ``SPDXLicenses`` or through ``LicenseAliases``.

"Newer upstream" compares watch's new version with the branch's source package by
rpm's rules (``rpmvercmp``, in the branch's version order: ALT's rpm calls ``2.0.beta``
newer than ``2.0.1``), not as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from repotrack.errors import InputError, NotFoundError
from repotrack.rpm import VersionOrder, rpmvercmp
from repotrack.store.base import Store
from repotrack.store.branches import branch_name
from repotrack.store.queries import find_package_set

__all__ = [
    "CLOSED_STATUSES",
    "BuildStatus",
    "FailingBuild",
    "LicenseDetail",
    "MaintainerPackage",
    "NewerUpstream",
    "OpenBug",
    "PackageFeeds",
    "RepocopWarning",
    "Upstream",
    "failing_to_build",
    "latest_watch",
    "license_details",
    "maintainer_dashboard",
    "newer_upstream",
    "open_bugs",
    "package_feeds",
    "repocop_warnings",
    "source_versions",
]

CLOSED_STATUSES = ("RESOLVED", "CLOSED", "VERIFIED")
#: repocop statuses that are not warnings: passed, or not run for the package.
_QUIET_REPOCOP = ("ok", "skip")
#: How watch marks a package whose watch file could not be read (in the URL column).
_WATCH_ERROR = "watch_file_error%"
_LICENSE_WORDS = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+\-_]*")
_LICENSE_OPERATORS = frozenset({"and", "or", "with", "AND", "OR", "WITH"})


@dataclass(frozen=True)
class BuildStatus:
    arch: str
    version: str
    release: str
    status: str
    build_time: float
    updated: datetime
    ftbfs_since: datetime


@dataclass(frozen=True)
class OpenBug:
    bz_id: int
    status: str
    resolution: str
    severity: str
    product: str
    assignee: str
    summary: str
    last_changed: datetime


@dataclass(frozen=True)
class RepocopWarning:
    package: str
    arch: str
    test: str
    status: str
    message: str


@dataclass(frozen=True)
class Upstream:
    maintainer: str
    old_version: str
    new_version: str
    url: str


@dataclass(frozen=True)
class LicenseDetail:
    token: str
    spdx_id: str
    name: str
    type: str
    urls: list[str]


@dataclass
class PackageFeeds:
    """Everything the feeds say about one source package of a branch."""

    branch: str
    name: str
    acl: list[str] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)
    beehive: list[BuildStatus] = field(default_factory=list)
    bugs: list[OpenBug] = field(default_factory=list)
    repocop: list[RepocopWarning] = field(default_factory=list)
    watch: list[Upstream] = field(default_factory=list)
    license: str = ""
    licenses: list[LicenseDetail] = field(default_factory=list)


@dataclass(frozen=True)
class FailingBuild:
    name: str
    version: str
    release: str
    arch: str
    ftbfs_since: datetime
    updated: datetime


@dataclass(frozen=True)
class NewerUpstream:
    name: str
    version: str
    new_version: str
    url: str
    maintainer: str


@dataclass
class MaintainerPackage:
    """One package of the dashboard: whether ``nick`` leads it, and what the feeds say."""

    name: str
    leader: bool
    version: str = ""
    failing_arches: list[str] = field(default_factory=list)
    open_bugs: int = 0
    repocop_warnings: int = 0
    newer_version: str = ""
    newer_url: str = ""


# -- one package -----------------------------------------------------------------------


def package_feeds(store: Store, *, branch: str, name: str) -> PackageFeeds:
    """acl (leader first) and groups, beehive per arch, open bugs, repocop, watch, licenses.

    A branch the store knows nothing of (no package set, no acl, beehive or repocop
    rows) is a NotFoundError, and so is a name that is neither a source package of the
    branch's newest set nor named by any feed: before 2026-12-07 both printed "-" for
    every feed, which reads as "no bugs, no warnings" (for a typo of the branch, with
    the branch-independent feeds filled in)."""
    branch = branch_name(branch)
    _check(name=name)
    if not _branch_known(store, branch):
        raise NotFoundError(
            f"no package set of branch {branch}, nor any acl, beehive or repocop data of it"
        )
    feeds = PackageFeeds(branch=branch, name=name)
    lists = _acl_lists(store, branch, [name])
    feeds.acl = lists.get(name, [])
    groups = [m for m in feeds.acl if m.startswith("@")]
    feeds.groups = {g: members for g, members in _acl_lists(store, branch, groups).items()}
    feeds.beehive = _beehive(store, branch, name)
    feeds.bugs = open_bugs(store, [name]).get(name, [])
    feeds.repocop = repocop_warnings(store, branch, [name]).get(name, [])
    feeds.watch = latest_watch(store, [name]).get(name, [])
    source = source_versions(store, branch, [name]).get(name)
    feeds.license = source[1] if source else ""
    feeds.licenses = license_details(store, feeds.license)
    named = feeds.acl or feeds.beehive or feeds.bugs or feeds.repocop or feeds.watch
    if source is None and not named:
        raise NotFoundError(f"no source package {name} in {branch}, nor a feed naming it")
    return feeds


def _branch_known(store: Store, branch: str) -> bool:
    """Whether the store holds a package set of ``branch`` or a branch's feed of it."""
    return (
        _newest_set(store, branch) is not None
        or bool(_count(store, "Acl", "acl_branch", branch))
        or bool(_count(store, "BeehiveStatus", "pkgset_name", branch))
        or bool(_count(store, "PackagesRepocop", "pkgset_name", branch))
    )


def _acl_lists(store: Store, branch: str, names: list[str]) -> dict[str, list[str]]:
    if not names:
        return {}
    rows = store.query(
        "SELECT acl_for, acl_list FROM last_acl "
        "WHERE acl_branch = {b:String} AND acl_for IN {names:Array(String)}",
        {"b": branch, "names": names},
    )
    return {acl_for: list(members) for acl_for, members in rows}


def _newest_set(store: Store, branch: str) -> UUID | None:
    """The root of the branch's newest package set, None when the branch has none."""
    try:
        return find_package_set(store, branch=branch).uuid
    except NotFoundError:
        return None


def _beehive(store: Store, branch: str, name: str) -> list[BuildStatus]:
    """The newest run per arch of the package as the branch's newest set has it."""
    root = _newest_set(store, branch)
    if root is None:
        return []
    rows = store.query(
        "SELECT bh_arch, pkg_version, pkg_release, toString(bh_status), bh_build_time, "
        "bh_updated, bh_ftbfs_since FROM BeehiveStatus "
        "WHERE pkgset_name = {b:String} AND pkg_name = {n:String} AND (bh_arch, bh_updated) IN "
        "(SELECT bh_arch, max(bh_updated) FROM BeehiveStatus WHERE pkgset_name = {b:String} "
        "GROUP BY bh_arch) AND pkg_hash IN "
        "(SELECT pkg_hash FROM PackageSet_buffer WHERE pkgset_uuid IN "
        "(SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = {root:UUID})) "
        "ORDER BY bh_arch",
        {"b": branch, "n": name, "root": root},
    )
    return [BuildStatus(a, v, r, s, round(float(t), 3), u, f) for a, v, r, s, t, u, f in rows]


def open_bugs(store: Store, names: list[str]) -> dict[str, list[OpenBug]]:
    """Open bugs per source package name, newest first.

    A bug counts for a source package when its component is the package's name or the
    name of a binary package built from a source package of that name (at any time, as
    the API asks ``Packages``): bugs are often filed against ``libfoo`` rather than
    ``foo``. A component that several of ``names`` built counts for each of them.
    """
    if not names:
        return {}
    owners: dict[str, set[str]] = {name: {name} for name in names}
    for source, binary in store.query(
        "SELECT DISTINCT S.pkg_name, B.pkg_name FROM Packages_buffer AS B INNER JOIN "
        "(SELECT DISTINCT pkg_hash, pkg_name FROM Packages_buffer WHERE pkg_sourcepackage = 1 "
        "AND pkg_name IN {n:Array(String)}) AS S ON S.pkg_hash = B.pkg_srcrpm_hash "
        "WHERE B.pkg_sourcepackage = 0",
        {"n": names},
    ):
        owners.setdefault(binary, set()).add(source)
    components = sorted(owners)
    rows = store.query(
        "SELECT bz_id, s.1, s.2, s.3, s.4, s.5, s.6, s.7, s.8 FROM ("
        " SELECT bz_id, argMax(tuple(bz_component, bz_status, bz_resolution, bz_severity,"
        " bz_product, bz_assignee, bz_summary, bz_last_changed), ts) AS s FROM Bugzilla"
        " WHERE bz_id IN (SELECT bz_id FROM Bugzilla WHERE bz_component IN {n:Array(String)})"
        " GROUP BY bz_id)"
        " WHERE s.1 IN {n:Array(String)} AND s.2 NOT IN {closed:Array(String)}"
        " ORDER BY s.8 DESC, bz_id DESC",
        {"n": components, "closed": list(CLOSED_STATUSES)},
    )
    found: dict[str, list[OpenBug]] = {}
    for bz_id, component, *rest in rows:
        for source in sorted(owners[component]):
            found.setdefault(source, []).append(OpenBug(int(bz_id), *rest))
    return found


def repocop_warnings(
    store: Store, branch: str, names: list[str]
) -> dict[str, list[RepocopWarning]]:
    """Warnings (neither ``ok`` nor ``skip``) of the branch's newest repocop snapshot,
    per source package."""
    if not names:
        return {}
    rows = store.query(
        "SELECT DISTINCT rc_srcpkg_name, pkg_name, pkg_arch, rc_test_name, rc_test_status, "
        "rc_test_message FROM PackagesRepocop WHERE pkgset_name = {b:String} "
        "AND rc_srcpkg_name IN {n:Array(String)} "
        "AND rc_test_status NOT IN {quiet:Array(String)} "
        "AND rc_test_date = (SELECT max(rc_test_date) FROM PackagesRepocop "
        "WHERE pkgset_name = {b:String}) ORDER BY rc_srcpkg_name, pkg_name, rc_test_name",
        {"b": branch, "n": names, "quiet": list(_QUIET_REPOCOP)},
    )
    found: dict[str, list[RepocopWarning]] = {}
    for source, *rest in rows:
        found.setdefault(source, []).append(RepocopWarning(*rest))
    return found


def latest_watch(store: Store, names: list[str] | None = None) -> dict[str, list[Upstream]]:
    """The newest watch snapshot, per package (all packages when ``names`` is None),
    without the lines that report a watch file error instead of an upstream version."""
    rows = store.query(
        "SELECT DISTINCT pkg_name, acl, old_version, new_version, url FROM PackagesWatch "
        "WHERE date_update = (SELECT max(date_update) FROM PackagesWatch) "
        "AND url NOT LIKE {error:String} "
        "AND ({all:UInt8} OR pkg_name IN {n:Array(String)}) ORDER BY pkg_name, new_version",
        {"all": names is None, "n": names or [], "error": _WATCH_ERROR},
    )
    found: dict[str, list[Upstream]] = {}
    for name, *rest in rows:
        found.setdefault(name, []).append(Upstream(*rest))
    return found


def source_versions(
    store: Store, branch: str, names: list[str] | None = None
) -> dict[str, tuple[str, str]]:
    """Source package name -> (version, License tag) in the branch's newest set."""
    try:
        root = find_package_set(store, branch=branch)
    except NotFoundError:
        return {}
    rows = store.query(
        "SELECT DISTINCT pkg_name, pkg_version, pkg_license FROM Packages_buffer "
        "WHERE pkg_sourcepackage = 1 AND ({all:UInt8} OR pkg_name IN {n:Array(String)}) "
        "AND pkg_hash IN (SELECT pkg_hash FROM PackageSet_buffer WHERE pkgset_uuid IN "
        "(SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = {root:UUID}))",
        {"all": names is None, "n": names or [], "root": root.uuid},
    )
    return {name: (version, license_) for name, version, license_ in rows}


def license_details(store: Store, license_tag: str) -> list[LicenseDetail]:
    """The SPDX records named in a License tag, directly or through an alias."""
    tokens = list(dict.fromkeys(_license_tokens(license_tag)))
    if not tokens:
        return []
    rows = store.query(
        "SELECT t.token, s.spdx_id, any(s.spdx_name), any(toString(s.spdx_type)), "
        "any(s.spdx_urls) FROM (SELECT arrayJoin({t:Array(String)}) AS token) AS t "
        "LEFT JOIN (SELECT alias, any(spdx_id) AS target FROM LicenseAliases GROUP BY alias) AS a"
        " ON a.alias = t.token "
        "INNER JOIN SPDXLicenses AS s ON s.spdx_id = if(a.target != '', a.target, t.token) "
        "GROUP BY t.token, s.spdx_id",
        {"t": tokens},
    )
    order = {token: i for i, token in enumerate(tokens)}
    details = [LicenseDetail(t, i, n, k, list(u)) for t, i, n, k, u in rows]
    return sorted(details, key=lambda d: order[d.token])


def _license_tokens(tag: str) -> list[str]:
    """``GPLv2+ and (MIT or BSD)`` -> the whole tag, then ``GPLv2+``, ``MIT``, ``BSD``."""
    words = [w for w in _LICENSE_WORDS.findall(tag) if w not in _LICENSE_OPERATORS]
    whole = tag.strip()
    return ([whole] if whole and whole not in words else []) + words


# -- a branch --------------------------------------------------------------------------


def failing_to_build(store: Store, *, branch: str, arch: str | None = None) -> list[FailingBuild]:
    """Source packages of the branch's newest set whose newest beehive run of each arch
    failed.

    Only the set's packages, by hash, as ``/export/beehive/ftbfs`` has it: a package
    removed since, or a build beehive made of a version no snapshot has (hash 0), is
    not something the branch fails to build. A branch with no package set is a
    NotFoundError: before 2026-12-07 it answered "0 failing build(s)", for a typo too.
    """
    branch = branch_name(branch)
    root = _newest_set(store, branch)
    if root is None:
        raise NotFoundError(f"no package set of branch {branch}")
    if not _count(store, "BeehiveStatus", "pkgset_name", branch):
        raise NotFoundError(f"no beehive run of {branch} is loaded (`repotrack load beehive`)")
    return _failing(store, branch, root, arch)


def _count(store: Store, table: str, column: str, value: str) -> int:
    """Whether ``table`` has a row whose ``column`` is ``value`` (1 or 0): a feed that
    was never loaded is no answer, where an empty one reads as "all is well"."""
    ((found,),) = store.query(
        f"SELECT count() > 0 FROM {table} WHERE {column} = {{v:String}}",  # noqa: S608
        {"v": value},
    )
    return int(found)


def _failing(store: Store, branch: str, root: UUID, arch: str | None) -> list[FailingBuild]:
    rows = store.query(
        "SELECT DISTINCT pkg_name, pkg_version, pkg_release, bh_arch, bh_ftbfs_since, bh_updated "
        "FROM BeehiveStatus WHERE pkgset_name = {b:String} AND bh_status = 'error' "
        "AND ({arch:String} = '' OR bh_arch = {arch:String}) AND (bh_arch, bh_updated) IN "
        "(SELECT bh_arch, max(bh_updated) FROM BeehiveStatus WHERE pkgset_name = {b:String} "
        "GROUP BY bh_arch) AND pkg_hash IN "
        "(SELECT pkg_hash FROM PackageSet_buffer WHERE pkgset_uuid IN "
        "(SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = {root:UUID})) "
        "ORDER BY pkg_name, bh_arch",
        {"b": branch, "arch": arch or "", "root": root},
    )
    return [FailingBuild(*row) for row in rows]


def newer_upstream(
    store: Store, *, branch: str, order: VersionOrder = VersionOrder.RPM
) -> list[NewerUpstream]:
    """Source packages of the branch's newest set that watch knows a newer version of
    (in the branch's version ``order``)."""
    branch = branch_name(branch)
    versions = source_versions(store, branch)
    if not versions:
        raise NotFoundError(f"no package set of branch {branch}")
    ((watched,),) = store.query("SELECT count() > 0 FROM PackagesWatch")
    if not watched:
        raise NotFoundError("no watch data is loaded (`repotrack load watch`)")
    found = []
    for name, upstreams in latest_watch(store, sorted(versions)).items():
        version = versions[name][0]
        for up in upstreams:
            if rpmvercmp(up.new_version, version, order) > 0:
                found.append(NewerUpstream(name, version, up.new_version, up.url, up.maintainer))
    return found


def maintainer_dashboard(
    store: Store, *, branch: str, nick: str, order: VersionOrder = VersionOrder.RPM
) -> list[MaintainerPackage]:
    """The packages ``nick`` may commit to (directly or through a group), with their feeds
    (a newer upstream version in the branch's version ``order``)."""
    branch = branch_name(branch)
    _check(name=nick)
    rows = store.query(
        "SELECT pkgname, max(order_u = 1 AND order_g <= 1) FROM last_acl_with_groups "
        "WHERE acl_branch = {b:String} AND acl_user = {u:String} GROUP BY pkgname "
        "ORDER BY pkgname",
        {"b": branch, "u": nick},
    )
    if not rows:  # "no packages" would read as an answer for a typo, or with no acl loaded
        if not _count(store, "Acl", "acl_branch", branch):
            raise NotFoundError(f"no acl of {branch} is loaded (`repotrack load acl`)")
        raise NotFoundError(f"no acl of {branch} names {nick}")
    packages = [MaintainerPackage(name=name, leader=bool(lead)) for name, lead in rows]
    names = [p.name for p in packages]
    root = _newest_set(store, branch)
    failing = _by_name([] if root is None else _failing(store, branch, root, None), names)
    bugs = open_bugs(store, names)
    warnings = repocop_warnings(store, branch, names)
    versions = source_versions(store, branch, names)
    watch = latest_watch(store, names)
    for package in packages:
        _fill(package, failing, bugs, warnings, versions, watch, order)
    return packages


def _fill(
    package: MaintainerPackage,
    failing: dict[str, list[FailingBuild]],
    bugs: dict[str, list[OpenBug]],
    warnings: dict[str, list[RepocopWarning]],
    versions: dict[str, tuple[str, str]],
    watch: dict[str, list[Upstream]],
    order: VersionOrder,
) -> None:
    name = package.name
    package.version = versions.get(name, ("", ""))[0]
    package.failing_arches = [f.arch for f in failing.get(name, [])]
    package.open_bugs = len(bugs.get(name, []))
    package.repocop_warnings = len(warnings.get(name, []))
    # The newest of the newer versions by rpm's rules: watch may list several URLs, and
    # their text order ("2.10" < "2.9") is not the version order.
    for up in watch.get(name, []):
        if package.version and rpmvercmp(up.new_version, package.version, order) <= 0:
            continue
        newer = package.newer_version
        if not newer or rpmvercmp(up.new_version, newer, order) > 0:
            package.newer_version, package.newer_url = up.new_version, up.url


def _by_name(builds: list[FailingBuild], names: list[str]) -> dict[str, list[FailingBuild]]:
    wanted = set(names)
    found: dict[str, list[FailingBuild]] = {}
    for build in builds:
        if build.name in wanted:
            found.setdefault(build.name, []).append(build)
    return found


def _check(**values: str) -> None:
    for key, value in values.items():
        if not value or len(value) > 200:
            raise InputError("must be 1 to 200 characters", field=key)
