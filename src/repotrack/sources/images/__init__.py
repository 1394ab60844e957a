"""Readers of distribution images, in user space: no mounting, no root, no librpm.

``read_image(path, kind, workdir)`` returns the installed packages and the
``os-release`` of a root file system tarball (``tar``), a raw or xz-compressed disk
image (``img``) or a qcow2 image (``qcow``); ISO images, with their SquashFS
images inside, are read by :mod:`repotrack.sources.images.iso`. Every installed
header goes through :mod:`repotrack.rpm`, so the ``pkg_hash`` of each package is the
one a repository load stores for the same package file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from repotrack.errors import InputError
from repotrack.sources.images.checksums import ImageDigests, image_digests
from repotrack.sources.images.disk import raw_image, read_disk
from repotrack.sources.images.installed import InstalledPackage, parse_installed
from repotrack.sources.images.rpmdb import RpmdbFile, read_installed
from repotrack.sources.images.tarball import is_tarball, read_tarball

__all__ = [
    "IMAGE_KINDS",
    "ImageContents",
    "ImageDigests",
    "InstalledPackage",
    "RpmdbFile",
    "image_digests",
    "parse_installed",
    "read_image",
    "read_installed",
]

#: The ``--type`` values of image_loader (altrepo §4.1).
IMAGE_KINDS = ("tar", "img", "qcow")


@dataclass(slots=True)
class ImageContents:
    """What an image holds that the loader stores: packages, os-release, extra kv."""

    packages: list[InstalledPackage]
    os_release: dict[str, str] = field(default_factory=dict)
    rpmdb: str = ""
    rpmdb_format: str = ""
    #: os-release as written in the image, which the root's kv stores (as the original).
    os_release_text: str = ""


def read_image(path: Path, kind: str, workdir: Path) -> ImageContents:
    """The installed packages of the image at ``path`` (``kind`` in IMAGE_KINDS)."""
    name = str(path)
    if not path.is_file():
        raise InputError("no such image file", path=name)
    if kind == "tar":
        if not is_tarball(path):
            raise InputError("not a tar archive (plain, gzip, xz, bzip2 or zstd)", path=name)
        tar = read_tarball(path, workdir)
        rpmdb, os_release, text = tar.rpmdb, tar.os_release, tar.os_release_text
    elif kind in ("img", "qcow"):
        raw = raw_image(path, workdir)
        disk = read_disk(raw, workdir, name=name)
        rpmdb, os_release, text = disk.rpmdb, disk.os_release, disk.os_release_text
    else:
        raise InputError(f"unknown image type {kind!r}", field="--type")
    if rpmdb is None:
        raise InputError("no rpmdb found (var/lib/rpm, usr/lib/sysimage/rpm)", path=name)
    packages = read_installed(rpmdb)
    if not packages:
        raise InputError(f"the rpmdb {rpmdb.source} holds no packages", path=name)
    return ImageContents(
        packages=packages,
        os_release=os_release,
        rpmdb=rpmdb.source,
        rpmdb_format=rpmdb.kind,
        os_release_text=text,
    )
