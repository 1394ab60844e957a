"""Typed read queries over stored images, shared by ``repotrack query image(s)`` and /api/v1.

An image is found through ``ImagePackageSetName`` (filled by ``mv_image_pkgset`` from
the image's root ``PackageSetName`` row, which the loader writes last), so a
half-loaded image is never listed. Its packages are the members of its child nodes
(``rpms``, one per SquashFS). Version ranges and differences follow rpm's rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cmp_to_key
from typing import Any

from repotrack.errors import InputError, NotFoundError
from repotrack.rpm import VersionOrder, compare_evr, parse_evr
from repotrack.rpm.vercmp import EVR
from repotrack.store.base import Store
from repotrack.store.branches import branch_name
from repotrack.store.queries import (
    PackageDiff,
    PackageSetRef,
    PackageSummary,
    UpdatedPackage,
    _all_packages,
    find_package_set,
)

__all__ = [
    "ImageContents",
    "ImageHit",
    "ImageRef",
    "diff_image_with_branch",
    "diff_images",
    "find_image",
    "image_packages",
    "images_with_package",
    "list_images",
]

_IMAGE_COLUMNS = (
    "pkgset_uuid, pkgset_date, img_tag, img_branch, img_edition, img_flavor, img_platform, "
    "img_release, img_version_major, img_version_minor, img_version_sub, img_arch, "
    "img_variant, img_type, img_kv"
)


@dataclass(frozen=True)
class ImageRef:
    """One loaded image: its root, date, tag and the metadata it was loaded with."""

    uuid: uuid.UUID
    date: datetime
    tag: str
    branch: str
    edition: str
    flavor: str
    platform: str
    release: str
    version: str
    arch: str
    variant: str
    type: str
    kv: dict[str, str] = field(default_factory=dict)

    def as_set(self) -> PackageSetRef:
        return PackageSetRef(uuid=self.uuid, branch=self.branch, date=self.date, tag=self.tag)


@dataclass(frozen=True)
class ImageContents:
    """An image's packages known to the store, and how many of its members are not."""

    image: ImageRef
    packages: list[PackageSummary]
    unknown: int


@dataclass(frozen=True)
class ImageHit:
    """An image holding a package build."""

    image: ImageRef
    package: PackageSummary


#: The version order of a branch's packages (the settings' ``vulns.order``); librpm's
#: unless the caller knows better. An image is compared in its branch's order.
OrderOf = Callable[[str], VersionOrder]


def _upstream(_branch: str) -> VersionOrder:
    return VersionOrder.RPM


def _ref(row: tuple[Any, ...]) -> ImageRef:
    (root, when, tag, branch, edition, flavor, platform, release, major, minor, sub) = row[:11]
    arch, variant, kind, kv = row[11:]
    return ImageRef(
        uuid=root,
        date=when,
        tag=tag,
        branch=branch,
        edition=edition,
        flavor=flavor,
        platform=platform,
        release=release,
        version=f"{major}.{minor}.{sub}",
        arch=arch,
        variant=variant,
        type=kind,
        kv=dict(kv),
    )


def list_images(
    store: Store, *, branch: str | None = None, edition: str | None = None
) -> list[ImageRef]:
    """Every loaded image (of ``branch`` / ``edition`` when given), newest first.

    Images of one date come by tag, descending, then the last loaded first: the order of
    ALTRepo's ``/image/image_info`` (``sort(key=(date, tag), reverse=True)``), so both
    list the same day's images alike. Unlike it, every load of a tag is listed, not only
    the last: ``query image --date`` can pick the older ones.
    """
    rows = store.query(
        f"SELECT {_IMAGE_COLUMNS} FROM ImagePackageSetName "  # noqa: S608 (constant column list)
        "WHERE ({b:String} = '' OR img_branch = {b:String}) "
        "AND ({e:String} = '' OR img_edition = {e:String}) "
        "ORDER BY pkgset_date DESC, img_tag DESC, ts DESC, pkgset_uuid",
        {"b": branch_name(branch) if branch else "", "e": edition or ""},
    )
    return [_ref(row) for row in rows]


def find_image(store: Store, *, tag: str, day: date | None = None) -> ImageRef:
    """The newest image with ``tag`` dated on or before ``day`` (the newest at all if None)."""
    if not tag or len(tag) > 1000:
        raise InputError("must be an image tag such as p10:alt-workstation:...", field="tag")
    rows = store.query(
        f"SELECT {_IMAGE_COLUMNS} FROM ImagePackageSetName WHERE img_tag = {{tag:String}} "  # noqa: S608 (constant column list)
        "AND ({any_day:UInt8} OR toDate(pkgset_date) <= {day:Date}) "
        "ORDER BY pkgset_date DESC, ts DESC LIMIT 1",
        {"tag": tag, "any_day": day is None, "day": day or date(1970, 1, 1)},
    )
    if not rows:
        when = f" on or before {day.isoformat()}" if day else ""
        raise NotFoundError(f"no image tagged {tag}{when}")
    return _ref(rows[0])


def image_packages(store: Store, *, tag: str, day: date | None = None) -> ImageContents:
    """The packages of an image, by name and arch."""
    image = find_image(store, tag=tag, day=day)
    packages = _all_packages(store, image.as_set())
    ((members,),) = store.query(
        "SELECT uniqExact(pkg_hash) FROM PackageSet_buffer WHERE pkgset_uuid IN "
        "(SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = {root:UUID})",
        {"root": image.uuid},
    )
    return ImageContents(image, packages, int(members) - len({p.pkg_hash for p in packages}))


def images_with_package(
    store: Store,
    *,
    name: str,
    branch: str | None = None,
    min_version: str | None = None,
    max_version: str | None = None,
    order_of: OrderOf = _upstream,
) -> list[ImageHit]:
    """Images holding a package ``name`` whose EVR lies in [min_version, max_version]
    (in the version order of each image's branch)."""
    if not name:
        raise InputError("must not be empty", field="name")
    low = _evr(min_version, "min_version")
    high = _evr(max_version, "max_version")
    rows = store.query(
        f"SELECT {', '.join('i.' + c.strip() for c in _IMAGE_COLUMNS.split(','))}, "  # noqa: S608 (constant column list)
        "p.pkg_hash, p.pkg_name, p.pkg_epoch, p.pkg_version, p.pkg_release, p.pkg_arch, "
        "p.pkg_sourcepackage, p.pkg_buildtime, p.pkg_summary "
        # The big table (PackageSet) is the left side, filtered to the package's builds
        # and to image nodes first; the joined right sides stay small. A build in several
        # nodes of one image (an ISO's RPMS and its live SquashFS) is one (image, build)
        # pair, as in ALTRepo's /image/find_images_by_package_name (SELECT DISTINCT).
        "FROM (SELECT DISTINCT n.pkgset_ruuid AS ruuid, s.pkg_hash AS pkg_hash "
        "  FROM (SELECT pkgset_uuid, pkg_hash FROM PackageSet_buffer "
        "    WHERE pkg_hash IN "
        "      (SELECT pkg_hash FROM Packages_buffer WHERE pkg_name = {name:String}) "
        "    AND pkgset_uuid IN (SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid IN "
        "      (SELECT pkgset_uuid FROM ImagePackageSetName))) AS s "
        "  INNER JOIN (SELECT pkgset_uuid, pkgset_ruuid FROM PackageSetName "
        "    WHERE pkgset_ruuid IN (SELECT pkgset_uuid FROM ImagePackageSetName)) AS n "
        "  ON n.pkgset_uuid = s.pkgset_uuid) AS m "
        "INNER JOIN ImagePackageSetName AS i ON i.pkgset_uuid = m.ruuid "
        "INNER JOIN (SELECT DISTINCT pkg_hash, pkg_name, pkg_epoch, pkg_version, pkg_release, "
        "  pkg_arch, pkg_sourcepackage, pkg_buildtime, pkg_summary FROM Packages_buffer "
        "  WHERE pkg_name = {name:String}) AS p ON p.pkg_hash = m.pkg_hash "
        "WHERE ({b:String} = '' OR i.img_branch = {b:String}) "
        "ORDER BY i.pkgset_date DESC, i.img_tag, p.pkg_arch",
        {"name": name, "b": branch_name(branch) if branch else ""},
    )
    hits = []
    for row in rows:
        image, package = _ref(row[:15]), _package(row[15:])
        order = order_of(image.branch)
        if low is not None and _against(package, low, order) < 0:
            continue
        if high is not None and _against(package, high, order) > 0:
            continue
        hits.append(ImageHit(image, package))
    return hits


def _against(package: PackageSummary, bound: EVR, order: VersionOrder) -> int:
    """rpm order of the package against a bound; a bound without release ignores releases."""
    release = package.release if bound[2] is not None else None
    return compare_evr((package.epoch, package.version, release), bound, order)


def _evr(text: str | None, option: str) -> EVR | None:
    if not text:
        return None
    epoch, version, release = parse_evr(text)
    if not version:
        raise InputError(f"not a version: {text!r}", field=option)
    return (epoch, version, release)


def _package(row: tuple[Any, ...]) -> PackageSummary:
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


def diff_images(
    store: Store,
    *,
    old_tag: str,
    new_tag: str,
    old_day: date | None = None,
    new_day: date | None = None,
    order_of: OrderOf = _upstream,
) -> PackageDiff:
    """What changed between two images (e.g. two releases of the same edition), in the
    version order of the new image's branch."""
    old = find_image(store, tag=old_tag, day=old_day)
    new = find_image(store, tag=new_tag, day=new_day)
    return _diff(store, old.as_set(), new.as_set(), order=order_of(new.branch))


def diff_image_with_branch(
    store: Store, *, tag: str, day: date | None = None, order_of: OrderOf = _upstream
) -> PackageDiff:
    """The image (old side) against its branch's snapshot of the image's date (new side)."""
    image = find_image(store, tag=tag, day=day)
    snapshot = find_package_set(store, branch=image.branch, day=image.date.date())
    order = order_of(image.branch)
    return _diff(store, image.as_set(), snapshot, binary_only=True, order=order)


def _diff(
    store: Store,
    old_set: PackageSetRef,
    new_set: PackageSetRef,
    *,
    binary_only: bool = False,
    order: VersionOrder = VersionOrder.RPM,
) -> PackageDiff:
    """Added, removed and updated packages by (name, arch), every build accounted for.

    An image may hold several builds of one name and arch (kernels stay installed side
    by side), and ``query image`` lists each, as ALTRepo's ``/image/image_packages``
    does. So the builds of a (name, arch) found on one side only are compared: one gone
    and one come is an update; otherwise each is removed or added. Keying on (name, arch)
    alone kept one build per side, chosen by hash, and lost or mislabelled the others.
    """

    def grouped(ref: PackageSetRef) -> dict[tuple[str, str], dict[int, PackageSummary]]:
        builds: dict[tuple[str, str], dict[int, PackageSummary]] = {}
        for p in _all_packages(store, ref):
            if not (binary_only and p.sourcepackage):
                builds.setdefault((p.name, p.arch), {})[p.pkg_hash] = p
        return builds

    old, new = grouped(old_set), grouped(new_set)
    diff = PackageDiff(old_set, new_set)
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key, {}), new.get(key, {})
        gone = _by_evr((p for h, p in before.items() if h not in after), order)
        came = _by_evr((p for h, p in after.items() if h not in before), order)
        if len(gone) == 1 and len(came) == 1:
            newer = compare_evr(_evr_of(gone[0]), _evr_of(came[0]), order)
            diff.updated.append(UpdatedPackage(key[0], key[1], gone[0], came[0], -newer))
            continue
        diff.removed.extend(gone)
        diff.added.extend(came)
    return diff


def _evr_of(package: PackageSummary) -> EVR:
    return (package.epoch, package.version, package.release)


def _by_evr(packages: Iterable[PackageSummary], order: VersionOrder) -> list[PackageSummary]:
    """Builds of one (name, arch) in rpm order, then by hash (equal EVRs, other builds)."""

    def rpm_order(a: PackageSummary, b: PackageSummary) -> int:
        return compare_evr(_evr_of(a), _evr_of(b), order)

    ordered = sorted(packages, key=lambda p: p.pkg_hash)
    return sorted(ordered, key=cmp_to_key(rpm_order))
