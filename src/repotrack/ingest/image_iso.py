"""ISO images (altrepo §4.2): the RPMs on the medium, and each SquashFS image inside.

A SquashFS image with an rpmdb contributes its installed packages. One without
(typically ``altinst``, the installer's own system) is walked in full: each regular
file's path and digest are looked up among the files of the ``--branch`` snapshot
that best matches the rest of the ISO, restricted to the archs ``noarch``,
``--arch`` and (for x86_64) ``x86_64-i586``. A file matches a package's file when
the path is the same and so is the digest that package recorded: the MD5 (ALT's
packages carry MD5 file digests, which ``Files.file_md5`` stores); for packages
with SHA-256 file digests the schema keeps no digest (``file_md5`` is zero), so
the size must agree instead. Files that match no package become the "orphaned
files" metapackage of that SquashFS image: a Packages row, its file rows and a
PackageHash row whose SHA-1 is the image's, under ``snowflake_id_sqfs`` (§0.4).
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repotrack.errors import InputError
from repotrack.ingest.batch import RowBatcher
from repotrack.ingest.dedupe import known_hashes
from repotrack.ingest.image import (
    DIGEST_KEYS,
    ChildSet,
    child_kv,
    guess_branch,
    mtime_text,
    rpms_child,
)
from repotrack.ingest.image_meta import ImageMeta
from repotrack.ingest.journal import forget
from repotrack.ingest.metadata import metadata_rows
from repotrack.ingest.rows import Digests, PackageRows, file_block
from repotrack.rpm import mmhash, mmhash32
from repotrack.sources.images.iso import (
    IsoSquashFs,
    disk_info,
    iso_rpms,
    iso_squashfs,
    isoinfo_text,
)
from repotrack.sources.images.iso9660 import IsoFileSystem
from repotrack.sources.images.rpmdb import read_installed
from repotrack.sources.images.tree import copy_rpmdb
from repotrack.sources.repodata import MetaPackage

if TYPE_CHECKING:
    from repotrack.store import Store

__all__ = ["IsoReading", "read_iso_image", "snowflake_id_sqfs"]

log = logging.getLogger(__name__)

ORPHAN_PACKAGER = "ISO Loader <iso_loader@altlinux.org>"
ORPHAN_VENDOR = "BASEALT LTD"
_LOOKUP_CHUNK = 2000
_ZERO_MD5 = bytes(16)
#: The ``.disk`` files the original's root kv always has ("" when the ISO lacks one).
DISK_KEYS = ("arch", "date", "info", "commit")


def snowflake_id_sqfs(*, mtime: int, sha1: bytes, size: int) -> int:
    """The id of a SquashFS image's orphaned-files metapackage (altrepo §0.4)."""
    data = (
        sha1
        + mtime.to_bytes((mtime.bit_length() + 7) // 8, "little")
        + size.to_bytes((size.bit_length() + 7) // 8, "little")
    )
    return ((mtime - 1_000_000_000) << 32) | (mmhash32(data) & 0xFFFFFFFF)


@dataclass(slots=True)
class IsoReading:
    """The ISO's nodes (``rpms`` and one per SquashFS), root kv, and metapackages to write."""

    children: list[ChildSet] = field(default_factory=list)
    kv: dict[str, str] = field(default_factory=dict)
    metapackages: list[PackageRows] = field(default_factory=list)

    def write_metapackages(self, store: Store) -> None:
        """Store the metapackages the store lacks (by ``PackageHash``), as any package.

        Why only those: a load killed after a metapackage's ``PackageHash`` row and
        before the image's root row is run again, and writing the metapackage again
        listed it twice, with every orphaned file twice (an ISO loaded again with
        ``--force`` did the same). One half-written (no ``PackageHash``) was removed
        by ``load_image``'s repair before this runs. Two SquashFS images alike (same
        digest, size and mtime) have one metapackage id: it is written once.
        """
        stored = known_hashes(store, [rows.pkg_hash for rows in self.metapackages])
        fresh: dict[int, PackageRows] = {}
        for rows in self.metapackages:
            if rows.pkg_hash not in stored:
                fresh.setdefault(rows.pkg_hash, rows)
        if not fresh:
            return
        batcher = RowBatcher(store)
        for rows in fresh.values():
            batcher.add_package(rows)
        batcher.flush()
        forget(store, batcher.load_id)  # every metapackage is complete


@dataclass(slots=True)
class _WalkedFile:
    path: str
    md5: bytes
    size: int
    mode: int
    mtime: int
    user: str
    group: str


def read_iso_image(store: Store, *, path: Path, meta: ImageMeta, workdir: Path) -> IsoReading:
    """Read the ISO at ``path``; the store is consulted for the ``altinst``-style file walk."""
    reading = IsoReading()
    with path.open("rb") as f:
        iso = IsoFileSystem(f, name=str(path))
        disk = disk_info(iso)
        # The original's order: arch, date, info, commit, isoinfo, the digests (filled
        # in later); then the other .disk files and the ISO's mtime, which it lacked.
        reading.kv.update({key: disk.get(key, "") for key in DISK_KEYS})
        reading.kv["isoinfo"] = isoinfo_text(iso)
        reading.kv.update(dict.fromkeys(DIGEST_KEYS, ""))
        reading.kv.update(disk)
        reading.kv["mtime"] = mtime_text(path.stat().st_mtime)
        rpms = iso_rpms(iso)
        if rpms:  # as the original: no ``rpms`` node for an ISO without RPMs
            reading.children.append(rpms_child(rpms, meta))
        walk_later: list[IsoSquashFs] = []
        for image in iso_squashfs(iso):
            rpmdb = copy_rpmdb(image.fs, workdir)
            if rpmdb is None:
                walk_later.append(image)
                continue
            packages = read_installed(rpmdb)
            child = rpms_child(packages, meta)
            child.name = image.name
            child.kv = _squashfs_kv(image, meta, packages=len(child.hashes), orphans=0)
            reading.children.append(child)
        for image in walk_later:
            reading.children.append(_walked_child(store, image, meta, reading, path, disk))
    if not any(child.hashes for child in reading.children):
        raise InputError("no packages found: no RPMs, no rpmdb, no matching files", path=str(path))
    return reading


def _squashfs_kv(
    image: IsoSquashFs, meta: ImageMeta, *, packages: int, orphans: int
) -> dict[str, str]:
    """``hash`` is the image's id (``snowflake_id_sqfs``) whether or not it has orphans."""
    kv = child_kv("squashfs", packages, meta)
    kv.update(
        {
            "hash": str(snowflake_id_sqfs(mtime=image.mtime, sha1=image.sha1, size=image.size)),
            "sha1": image.sha1.hex(),
            "image_size": str(image.size),
            "orphaned_files": str(orphans),
            "mtime": str(image.mtime),
        }
    )
    return kv


def _walked_child(
    store: Store,
    image: IsoSquashFs,
    meta: ImageMeta,
    reading: IsoReading,
    path: Path,
    disk: dict[str, str],
) -> ChildSet:
    files = list(_walk_files(image))
    known = sorted({h for child in reading.children for h in child.hashes})
    root = _snapshot_root(store, meta, known)
    matched, orphans = _match_files(store, root, files, _archs(meta.arch))
    orphan_hash = 0
    if orphans:
        orphan_hash = snowflake_id_sqfs(mtime=image.mtime, sha1=image.sha1, size=image.size)
        stamp = disk.get("date") or meta.date.strftime("%Y%m%d")
        name = f"{image.name}_orphaned-files_{path.name}_{stamp}"
        reading.metapackages.append(_orphan_rows(orphan_hash, name, image, meta, orphans, stamp))
    hashes = sorted(matched | ({orphan_hash} if orphans else set()))
    log.info(
        "squashfs walked",
        extra={"squashfs": image.name, "files": len(files), "orphans": len(orphans)},
    )
    return ChildSet(
        name=image.name,
        hashes=hashes,
        kv=_squashfs_kv(image, meta, packages=len(hashes), orphans=len(orphans)),
        exempt={orphan_hash} if orphans else set(),
    )


def _archs(arch: str) -> list[str]:
    return ["noarch", arch, *(["x86_64-i586"] if arch == "x86_64" else [])]


def _owners(image: IsoSquashFs, name: str) -> dict[int, str]:
    """uid/gid -> name from the image's own ``etc/passwd`` or ``etc/group``."""
    entry = image.fs.lookup(f"etc/{name}")
    if entry is None or entry.kind != "file" or entry.size > 1 << 20:
        return {}
    buffer = io.BytesIO()
    image.fs.copy_out(f"etc/{name}", buffer)
    owners: dict[int, str] = {}
    for line in buffer.getvalue().decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[2].isdigit():
            owners.setdefault(int(fields[2]), fields[0])
    return owners


def _walk_files(image: IsoSquashFs) -> list[_WalkedFile]:
    users, groups = _owners(image, "passwd"), _owners(image, "group")
    files = []
    for path, inode in image.fs.walk_inodes():
        if inode.kind != "file":
            continue
        md5 = hashlib.md5(usedforsecurity=False)
        for chunk in image.fs.iter_bytes(inode):
            md5.update(chunk)
        files.append(
            _WalkedFile(
                path=path,
                md5=md5.digest(),
                size=inode.size,
                mode=inode.mode,
                mtime=inode.mtime,
                user=users.get(inode.uid, str(inode.uid)),
                group=groups.get(inode.gid, str(inode.gid)),
            )
        )
    return files


def _snapshot_root(store: Store, meta: ImageMeta, known: list[int]) -> Any:
    """The snapshot of ``--branch`` to match files in: best by the ISO's other packages,
    else the newest on or before the image date."""
    match = guess_branch(store, branch=meta.branch, hashes=known) if known else None
    if match is not None:
        return match.root
    rows = store.query(
        "SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_depth = 0 "
        "AND pkgset_nodename = {b:String} AND toDate(pkgset_date) <= {d:Date} "
        "AND pkgset_kv.v[indexOf(pkgset_kv.k, 'class')] = 'repository' "
        "ORDER BY pkgset_date DESC LIMIT 1",
        {"b": meta.branch, "d": meta.date},
    )
    return rows[0][0] if rows else None


def _match_files(
    store: Store, root: Any, files: list[_WalkedFile], archs: list[str]
) -> tuple[set[int], list[_WalkedFile]]:
    """Packages whose files are in ``files`` (path + digest), and the files none claims."""
    if root is None:
        return set(), files
    by_name: dict[int, list[_WalkedFile]] = {}
    for walked in files:
        by_name.setdefault(mmhash(walked.path), []).append(walked)
    names = sorted(by_name)
    matched: set[int] = set()
    claimed: set[str] = set()
    for start in range(0, len(names), _LOOKUP_CHUNK):
        rows = store.query(
            "SELECT DISTINCT pkg_hash, file_hashname, file_md5, file_size FROM Files_buffer "
            "WHERE file_hashname IN {names:Array(UInt64)} AND pkg_hash IN ("
            "  SELECT pkg_hash FROM PackageSet_buffer WHERE pkgset_uuid IN ("
            "    SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = {root:UUID})) "
            "AND pkg_hash IN (SELECT pkg_hash FROM Packages_buffer WHERE pkg_arch IN "
            "  {archs:Array(String)})",
            {"names": names[start : start + _LOOKUP_CHUNK], "root": root, "archs": archs},
        )
        for pkg_hash, hashname, md5, size in rows:
            for walked in by_name.get(int(hashname), []):
                stored = bytes(md5)
                same = walked.md5 == stored if stored != _ZERO_MD5 else walked.size == int(size)
                if same:
                    matched.add(int(pkg_hash))
                    claimed.add(walked.path)
    return matched, [f for f in files if f.path not in claimed]


def _orphan_rows(
    pkg_hash: int,
    name: str,
    image: IsoSquashFs,
    meta: ImageMeta,
    orphans: list[_WalkedFile],
    stamp: str,
) -> PackageRows:
    base = metadata_rows(
        MetaPackage(
            pkgid="",
            checksum_type="",
            name=name,
            arch=meta.arch,
            epoch=0,
            version=stamp,
            release="",
            summary=f"Files of {image.name} that no package of {meta.branch} provides",
            packager=ORPHAN_PACKAGER,
            vendor=ORPHAN_VENDOR,
            time_build=image.mtime,
            sourcerpm=image.name,
        )
    )
    package = dict(base.package)
    package.update({"pkg_hash": pkg_hash, "pkg_srcrpm_hash": 0, "pkg_sourcerpm": image.name})
    count = len(orphans)
    columns: list[list[Any]] = [
        [pkg_hash] * count,
        [f.path for f in orphans],
        [""] * count,
        [f.md5 for f in orphans],
        [min(f.size, 0xFFFFFFFF) for f in orphans],
        [f.mode & 0xFFFF for f in orphans],
        [0] * count,
        [f.mtime for f in orphans],
        [0] * count,
        [f.user for f in orphans],
        [f.group for f in orphans],
        [0] * count,
        [0] * count,
        [""] * count,
        ["file"] * count,
    ]
    return PackageRows(
        pkg_hash=pkg_hash,
        name=name,
        arch=package["pkg_arch"],
        source=False,
        filename="",
        sourcerpm=image.name,
        digests=Digests(sha1=image.sha1),
        package=package,
        files=file_block(columns),
        changelogs=[],
    )
