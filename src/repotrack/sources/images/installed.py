"""Installed-package headers (rpmdb blobs) -> :class:`InstalledPackage` records.

An rpmdb stores each package's main header as ``headerExport`` writes it: the
header without its 8-byte magic and reserved bytes, with the signature tags
(SHA1HEADER, SIGMD5, SIGGPG) merged into it. Putting the magic back gives a blob
that repotrack's own header reader parses, and ``header_pkg_hash`` then yields the
same ``pkg_hash`` a repository load computes from the package file (altrepo §0.2) —
which is how an image's packages are matched with the store.

A package whose signature carried no SHA1HEADER (rpm 6's v6 packages, nFPM's) has
none in the rpmdb either; a repository load then uses the SHA-1 of the file's main
header. The rpmdb header still holds that main header as its immutable region: the
region's index entries come first in the index and its data first in the data, with
the install-time tags after them (it is what rpm digests when it checks a header read
from the rpmdb). The SHA-1 of magic, region counts, region entries and region data is
therefore the SHA-1 of the file's main header, and gives the same ``pkg_hash``.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from repotrack.errors import InputError
from repotrack.rpm import Header, Tag, header_pkg_hash
from repotrack.rpm.header import HEADER_MAGIC

__all__ = [
    "GPG_PUBKEY",
    "InstalledPackage",
    "package_from_header",
    "parse_installed",
    "region_sha1",
]

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
    sha1 = None if Tag.SHA1HEADER in header else region_sha1(header)
    return package_from_header(header, pkg_hash=header_pkg_hash(header, sha1header=sha1))


def region_sha1(header: Header) -> bytes | None:
    """SHA-1 of the immutable region of an rpmdb header (the package's main header).

    ``None`` when the header has no HEADERIMMUTABLE region (rpm 3-era headers); the
    region itself was checked when the header was parsed.
    """
    raw = header.raw_bytes
    if not header.has_region or len(raw) < 32:
        return None
    il = struct.unpack_from(">I", raw, 8)[0]
    tag, _kind, trailer, _count = struct.unpack_from(">IIiI", raw, 16)
    if tag != Tag.HEADERIMMUTABLE:
        return None
    data = 16 + 16 * il
    region_index = -struct.unpack_from(">i", raw, data + trailer + 8)[0]
    ril, rdl = region_index // 16, trailer + 16
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(raw[:8] + struct.pack(">II", ril, rdl))
    digest.update(raw[16 : 16 + 16 * ril])
    digest.update(raw[data : data + rdl])
    return digest.digest()


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
