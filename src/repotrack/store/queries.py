"""Typed read queries over the ALTRepo schema, shared by ``repotrack query`` and the REST API.

A package set is found through its ROOT ``PackageSetName`` row (depth 0, nodename =
branch): loaders write that row last, so a set is either complete or invisible. A
date means a UTC day: the set chosen is the newest whose ``pkgset_date`` falls on or
before that day. Version differences are decided by rpm's rules (``repotrack.rpm``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from repotrack.errors import InputError, NotFoundError
from repotrack.rpm import VersionOrder, compare_evr
from repotrack.store.base import Store
from repotrack.store.branches import branch_name

__all__ = [
    "ChangelogEntry",
    "Dependency",
    "PackageDetail",
    "PackageDiff",
    "PackageInfo",
    "PackageList",
    "PackageSetRef",
    "PackageSummary",
    "UpdatedPackage",
    "diff_package_sets",
    "find_package_set",
    "glob_to_like",
    "list_packages",
    "package_info",
    "to_plain",
]

#: Largest page a caller may ask for.
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class PackageSetRef:
    """The root node of one repository snapshot."""

    uuid: uuid.UUID
    branch: str
    date: datetime
    tag: str


@dataclass(frozen=True)
class PackageSummary:
    """One package of a set: identity and version."""

    pkg_hash: int
    name: str
    epoch: int
    version: str
    release: str
    arch: str
    sourcepackage: bool
    buildtime: int
    summary: str

    @property
    def evr(self) -> str:
        prefix = f"{self.epoch}:" if self.epoch else ""
        return f"{prefix}{self.version}-{self.release}"


@dataclass(frozen=True)
class PackageList:
    """A page of a set's packages and the total that matched."""

    package_set: PackageSetRef
    total: int
    packages: list[PackageSummary]


@dataclass(frozen=True)
class Dependency:
    type: str
    name: str
    version: str
    flag: int


@dataclass(frozen=True)
class ChangelogEntry:
    date: datetime
    name: str
    evr: str
    text: str


@dataclass(frozen=True)
class PackageDetail:
    """Everything stored about one package build."""

    package: PackageSummary
    license: str
    url: str
    packager: str
    sourcerpm: str
    filename: str
    hashes: dict[str, str]
    files: list[str]
    depends: list[Dependency]
    changelog: list[ChangelogEntry]


@dataclass(frozen=True)
class PackageInfo:
    package_set: PackageSetRef
    builds: list[PackageDetail]


@dataclass(frozen=True)
class UpdatedPackage:
    name: str
    arch: str
    old: PackageSummary
    new: PackageSummary
    #: 1 when the new build is newer by rpm's rules, -1 for a downgrade, 0 for a rebuild.
    direction: int


@dataclass(frozen=True)
class PackageDiff:
    old_set: PackageSetRef
    new_set: PackageSetRef
    added: list[PackageSummary] = field(default_factory=list)
    removed: list[PackageSummary] = field(default_factory=list)
    updated: list[UpdatedPackage] = field(default_factory=list)


# -- package sets -------------------------------------------------------------------------


#: Roots of one branch, newest date first; of roots sharing a date (``load repo --force``
#: stores the same day again) the one published last, by the time
#: ``mv_last_packages_stage1`` recorded its root row. ``PackageSetName`` itself keeps no
#: load order: its rows sort by the random root id once merged, so ``pkgset_date`` alone
#: answered from either load, changing as background merges ran.
_FIND_ROOT = """
    SELECT R.pkgset_uuid, R.pkgset_nodename, R.pkgset_date, R.pkgset_tag
    FROM PackageSetName AS R
    LEFT JOIN
    (
        SELECT pkgset_ruuid, max(ts) AS published FROM last_packages_stage1
        WHERE pkgset_name = {branch:String} GROUP BY pkgset_ruuid
    ) AS S ON S.pkgset_ruuid = R.pkgset_uuid
    WHERE R.pkgset_depth = 0 AND R.pkgset_nodename = {branch:String}
      AND R.pkgset_kv.v[indexOf(R.pkgset_kv.k, 'class')] = 'repository'
      AND ({any_day:UInt8} OR toDate(R.pkgset_date) <= {day:Date})
    ORDER BY R.pkgset_date DESC, S.published DESC, R.pkgset_uuid DESC
    LIMIT 1
"""


def find_package_set(store: Store, *, branch: str, day: date | None = None) -> PackageSetRef:
    """The newest root of ``branch`` dated on or before ``day`` (the newest at all if None).

    Only repository roots are branches: an image's root is named by its edition
    (``alt-server``) and is found by the image queries, so a branch query never starts
    from an image.

    Where a day was loaded more than once, the load published last answers: a forced
    reload replaces what the earlier load showed (ALTRepo's ``last_packages`` views show
    both loads' packages together).
    """
    branch = branch_name(branch)
    rows = store.query(
        _FIND_ROOT,
        {"branch": branch, "any_day": day is None, "day": day or date(1970, 1, 1)},
    )
    if not rows:
        when = f" on or before {day.isoformat()}" if day else ""
        raise NotFoundError(f"no package set of branch {branch}{when}")
    set_uuid, name, when_loaded, tag = rows[0]
    return PackageSetRef(uuid=set_uuid, branch=name, date=when_loaded, tag=tag)


_SET_PACKAGES = """
    FROM Packages_buffer
    WHERE pkg_hash IN
    (
        SELECT pkg_hash FROM PackageSet_buffer
        WHERE pkgset_uuid IN
            (SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = {root:UUID})
    )
    AND ({arch:String} = '' OR if(pkg_sourcepackage = 1, 'src', pkg_arch) = {arch:String})
    AND ({pattern:String} = '' OR pkg_name LIKE {pattern:String})
"""

#: The arch a package is shown, filtered and matched by: ``src`` for a source package
#: (its header names the build host's arch, often the same as its binaries'), else
#: ``pkg_arch``. One rule everywhere, so (name, arch) tells a source from a binary.
SHOWN_ARCH = "if(pkg_sourcepackage = 1, 'src', pkg_arch)"

_SUMMARY_COLUMNS = (
    f"pkg_hash, pkg_name, pkg_epoch, pkg_version, pkg_release, {SHOWN_ARCH} AS arch, "
    "pkg_sourcepackage, pkg_buildtime, pkg_summary"
)


def list_packages(
    store: Store,
    *,
    branch: str,
    day: date | None = None,
    arch: str | None = None,
    name_glob: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> PackageList:
    """A page of the packages of ``branch`` as of ``day``, ordered by name and arch."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"must be between 1 and {MAX_LIMIT}", field="limit")
    if offset < 0:
        raise InputError("must not be negative", field="offset")
    package_set = find_package_set(store, branch=branch, day=day)
    params: dict[str, Any] = {
        "root": package_set.uuid,
        "arch": arch or "",
        "pattern": glob_to_like(name_glob) if name_glob else "",
    }
    ((total,),) = store.query("SELECT countDistinct(pkg_hash) " + _SET_PACKAGES, params)
    rows = store.query(
        f"SELECT DISTINCT {_SUMMARY_COLUMNS} {_SET_PACKAGES} "
        "ORDER BY pkg_name, arch, pkg_hash LIMIT {limit:UInt64} OFFSET {offset:UInt64}",
        {**params, "limit": limit, "offset": offset},
    )
    return PackageList(package_set, int(total), [_summary(row) for row in rows])


def glob_to_like(pattern: str) -> str:
    """A shell glob (``*`` and ``?``) as a LIKE pattern; everything else is literal."""
    out: list[str] = []
    for ch in pattern:
        if ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        elif ch in "%_\\":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _summary(row: tuple[Any, ...]) -> PackageSummary:
    pkg_hash, name, epoch, version, release, arch, source, buildtime, summary = row
    return PackageSummary(
        pkg_hash=int(pkg_hash),
        name=name,
        epoch=int(epoch),
        version=version,
        release=release,
        arch=arch,
        sourcepackage=bool(source),
        buildtime=int(buildtime),
        summary=summary,
    )


def _all_packages(store: Store, package_set: PackageSetRef) -> list[PackageSummary]:
    rows = store.query(
        f"SELECT DISTINCT {_SUMMARY_COLUMNS} {_SET_PACKAGES} ORDER BY pkg_name, arch, pkg_hash",
        {"root": package_set.uuid, "arch": "", "pattern": ""},
    )
    return [_summary(row) for row in rows]


# -- one package --------------------------------------------------------------------------


def package_info(store: Store, *, name: str, branch: str, day: date | None = None) -> PackageInfo:
    """Every build named ``name`` in the set (one per arch, plus the source package)."""
    if not name:
        raise InputError("must not be empty", field="name")
    package_set = find_package_set(store, branch=branch, day=day)
    rows = store.query(
        f"SELECT DISTINCT {_SUMMARY_COLUMNS}, pkg_license, pkg_url, pkg_packager, "
        "pkg_sourcerpm, pkg_filename, pkg_changelog.date, pkg_changelog.name, "
        "pkg_changelog.evr, pkg_changelog.hash "
        f"{_SET_PACKAGES} AND pkg_name = {{name:String}} ORDER BY pkg_sourcepackage DESC, arch",
        {"root": package_set.uuid, "arch": "", "pattern": "", "name": name},
    )
    if not rows:
        raise NotFoundError(
            f"package {name} is not in {branch} as of {package_set.date.date().isoformat()}"
        )
    return PackageInfo(package_set, [_detail(store, row) for row in rows])


def _detail(store: Store, row: tuple[Any, ...]) -> PackageDetail:
    summary = _summary(row[:9])
    license_, url, packager, sourcerpm, filename = row[9:14]
    dates, names, evrs, hashes = row[14:18]
    texts = _changelog_texts(store, hashes)
    changelog = [
        ChangelogEntry(d, n, e, texts.get(h, ""))
        for d, n, e, h in zip(dates, names, evrs, hashes, strict=True)
    ]
    return PackageDetail(
        package=summary,
        license=license_,
        url=url,
        packager=packager,
        sourcerpm=sourcerpm,
        filename=filename,
        hashes=_hashes(store, summary.pkg_hash),
        files=_files(store, summary.pkg_hash),
        depends=_depends(store, summary.pkg_hash),
        changelog=changelog,
    )


def _hashes(store: Store, pkg_hash: int) -> dict[str, str]:
    rows = store.query_dicts(
        "SELECT pkgh_md5 AS md5, pkgh_sha1 AS sha1, pkgh_sha256 AS sha256, "
        "pkgh_blake2b AS blake2b FROM PackageHash_view WHERE pkgh_mmh = {h:UInt64} LIMIT 1",
        {"h": pkg_hash},
    )
    return {k: str(v) for k, v in rows[0].items()} if rows else {}


def _files(store: Store, pkg_hash: int) -> list[str]:
    rows = store.query(
        "SELECT DISTINCT fn_name FROM FileNames_buffer WHERE fn_hash IN "
        "(SELECT file_hashname FROM Files_buffer WHERE pkg_hash = {h:UInt64}) ORDER BY fn_name",
        {"h": pkg_hash},
    )
    return [name for (name,) in rows]


def _depends(store: Store, pkg_hash: int) -> list[Dependency]:
    rows = store.query(
        "SELECT DISTINCT dp_type, dp_name, dp_version, dp_flag FROM Depends_buffer "
        "WHERE pkg_hash = {h:UInt64} ORDER BY dp_type, dp_name",
        {"h": pkg_hash},
    )
    return [Dependency(t, n, v, int(f)) for t, n, v, f in rows]


def _changelog_texts(store: Store, hashes: list[int]) -> dict[int, str]:
    if not hashes:
        return {}
    rows = store.query(
        "SELECT chlog_hash, any(chlog_text) FROM Changelog_buffer "
        "WHERE chlog_hash IN {hashes:Array(UInt64)} GROUP BY chlog_hash",
        {"hashes": list(hashes)},
    )
    return {int(h): text for h, text in rows}


# -- differences between two snapshots ----------------------------------------------------


def diff_package_sets(
    store: Store,
    *,
    branch: str,
    old_day: date,
    new_day: date,
    order: VersionOrder = VersionOrder.RPM,
) -> PackageDiff:
    """What changed in ``branch`` between the sets of ``old_day`` and ``new_day``.

    A package is identified by (name, shown arch): ``src`` for a source package, so a
    source never stands in for its binary of the same arch. Where a set holds one
    build of an identity and the other set a different one, that is an update whose
    direction rpm's comparison decides, in the branch's version ``order`` (ALT's rpm
    calls ``1.0.rc1`` -> ``1.0.0`` a downgrade, librpm an update); where either holds
    several builds of it, the builds both sets share are unchanged and the rest are
    removed and added. The counts always add up: old - removed + added = new.
    """
    if new_day < old_day:
        raise InputError("the second date is before the first", field="to")
    old_set = find_package_set(store, branch=branch, day=old_day)
    new_set = find_package_set(store, branch=branch, day=new_day)
    old = _by_identity(_all_packages(store, old_set))
    new = _by_identity(_all_packages(store, new_set))
    diff = PackageDiff(old_set, new_set)
    for key in sorted(old.keys() | new.keys()):
        before_all, after_all = old.get(key, []), new.get(key, [])
        shared = {p.pkg_hash for p in before_all} & {p.pkg_hash for p in after_all}
        before = [p for p in before_all if p.pkg_hash not in shared]
        after = [p for p in after_all if p.pkg_hash not in shared]
        if len(before) == 1 and len(after) == 1:
            direction = compare_evr(
                (before[0].epoch, before[0].version, before[0].release),
                (after[0].epoch, after[0].version, after[0].release),
                order,
            )
            diff.updated.append(UpdatedPackage(key[0], key[1], before[0], after[0], -direction))
            continue
        diff.removed.extend(before)
        diff.added.extend(after)
    return diff


def _by_identity(packages: list[PackageSummary]) -> dict[tuple[str, str], list[PackageSummary]]:
    grouped: dict[tuple[str, str], list[PackageSummary]] = {}
    for package in packages:
        grouped.setdefault((package.name, package.arch), []).append(package)
    return grouped


def to_plain(value: Any) -> Any:
    """Query results as JSON-ready data: dataclasses to dicts, dates to ISO 8601 text.

    ``pkg_hash`` values become strings, as in ALTRepo's API: they exceed 2**53, where
    JavaScript numbers lose precision.
    """
    if hasattr(value, "__dataclass_fields__"):
        out = {name: to_plain(getattr(value, name)) for name in value.__dataclass_fields__}
        if "pkg_hash" in out:
            out["pkg_hash"] = str(out["pkg_hash"])
        if isinstance(value, PackageSummary):
            out["evr"] = value.evr
        return out
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
