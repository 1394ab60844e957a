"""Find and read the rpmdb of an image: SQLite, Berkeley DB hash or ndb, without librpm.

Where an image keeps it: ``var/lib/rpm`` (ALT, older distributions) or
``usr/lib/sysimage/rpm`` (newer Fedora, openSUSE; ``var/lib/rpm`` is then often a
symlink to it). Which format: ``rpmdb.sqlite`` (rpm >= 4.16 default), ``Packages``
(Berkeley DB hash) or ``Packages.db`` (SUSE's ndb). When several are present the
newest format wins, as rpm's own backend detection prefers it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from repotrack.errors import InputError
from repotrack.sources.images.installed import InstalledPackage, parse_installed
from repotrack.sources.images.rpmdb_bdb import iter_bdb_blobs
from repotrack.sources.images.rpmdb_ndb import iter_ndb_blobs
from repotrack.sources.images.rpmdb_sqlite import iter_sqlite_blobs

__all__ = [
    "RPMDB_DIRS",
    "RPMDB_FILES",
    "RpmdbFile",
    "read_installed",
]

log = logging.getLogger(__name__)

#: Directories (relative to the root of the file system) that hold an rpmdb.
RPMDB_DIRS = ("var/lib/rpm", "usr/lib/sysimage/rpm")
#: File name -> format, in order of preference.
RPMDB_FILES = {"rpmdb.sqlite": "sqlite", "Packages.db": "ndb", "Packages": "bdb"}


@dataclass(frozen=True, slots=True)
class RpmdbFile:
    """An rpmdb file copied out of an image: its local copy, format and name inside the image."""

    path: Path
    kind: str
    source: str


def read_installed(db: RpmdbFile) -> list[InstalledPackage]:
    """Every installed package of ``db`` (gpg-pubkey pseudo-packages left out).

    In instance-number order (SQLite's hnum, the BDB key, ndb's package index), whatever
    order the file keeps them in: Berkeley DB's is its hash buckets' and ndb's the blobs'
    places in the file, which change with every ``--rebuilddb``.
    """
    readers = {"sqlite": iter_sqlite_blobs, "bdb": iter_bdb_blobs, "ndb": iter_ndb_blobs}
    try:
        reader = readers[db.kind]
    except KeyError:
        raise InputError(f"unknown rpmdb format {db.kind!r}", path=db.source) from None
    found: list[tuple[int, InstalledPackage]] = []
    keys: set[int] = set()
    for key, blob in reader(db.path, source=db.source):
        if key in keys:
            raise InputError(f"package {key} found twice", path=db.source)
        keys.add(key)
        package = parse_installed(blob, source=f"{db.source} (package {key})")
        if package is not None:
            found.append((key, package))
    packages = [package for _key, package in sorted(found, key=lambda item: item[0])]
    log.info("rpmdb read", extra={"rpmdb": db.source, "format": db.kind, "packages": len(packages)})
    return packages


def rpmdb_candidates() -> Iterator[tuple[str, str]]:
    """``(relative path, format)`` of every place an rpmdb may be, preferred first."""
    for name, kind in RPMDB_FILES.items():
        for directory in RPMDB_DIRS:
            yield f"{directory}/{name}", kind
