"""Installed-package headers (rpmdb blobs) -> :class:`InstalledPackage` records.

An rpmdb stores each package's main header as ``headerExport`` writes it: the
header without its 8-byte magic and reserved bytes, with the signature tags
(SHA1HEADER, SIGMD5, SIGGPG) merged into it. Putting the magic back gives a blob
that repotrack's own header reader parses, and ``header_pkg_hash`` then yields the
same ``pkg_hash`` a repository load computes from the package file (altrepo §0.2) —
which is how an image's packages are matched with the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from repotrack.errors import InputError
from repotrack.rpm import Header, Tag, header_pkg_hash
from repotrack.rpm.header import HEADER_MAGIC

__all__ = ["GPG_PUBKEY", "InstalledPackage", "package_from_header", "parse_installed"]

#: rpm keeps imported signing keys as pseudo-packages of this name; they are not packages.
GPG_PUBKEY = "gpg-pubkey"
_BLOB_PREFIX = HEADER_MAGIC + b"\0\0\0\0"


@dataclass(frozen=True, slots=True)
class InstalledPackage:
    """What the image loader keeps of one installed package (the original's ``Package``)."""

    pkg_hash: int
    name: str
    epoch: int
    version: str
    release: str
    arch: str
    disttag: str
    is_srpm: bool
    buildtime: int

    @property
    def nevra(self) -> str:
        epoch = f"{self.epoch}:" if self.epoch else ""
        return f"{self.name}-{epoch}{self.version}-{self.release}.{self.arch}"


def parse_installed(blob: bytes, *, source: str, offset: int = 0) -> InstalledPackage | None:
    """One rpmdb blob -> its package; ``None`` for gpg-pubkey pseudo-packages.

    Raises InputError (naming ``source``) for a blob that is not a valid header.
    """
    header = Header.parse(_BLOB_PREFIX + blob, source=source, offset=offset)
    if (header.get_str(Tag.NAME) or "") == GPG_PUBKEY:
        return None
    return package_from_header(header, pkg_hash=header_pkg_hash(header))


def package_from_header(header: Header, *, pkg_hash: int) -> InstalledPackage:
    """The record of a (merged) package header whose ``pkg_hash`` is known."""
    name = header.get_str(Tag.NAME) or ""
    if not name:
        raise InputError("package header without a NAME", path=header.source)
    buildtime = header.get_int(Tag.BUILDTIME) or 0
    return InstalledPackage(
        pkg_hash=pkg_hash,
        name=name,
        epoch=header.get_int(Tag.EPOCH) or 0,
        version=header.get_str(Tag.VERSION) or "",
        release=header.get_str(Tag.RELEASE) or "",
        arch=header.get_str(Tag.ARCH) or "",
        disttag=header.get_str(Tag.DISTTAG) or "",
        is_srpm=Tag.SOURCERPM not in header,
        buildtime=buildtime,
    )
