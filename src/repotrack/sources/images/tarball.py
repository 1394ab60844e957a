"""Root file system tarballs (plain, gzip, xz, bzip2, zstd): the rpmdb and os-release out of them.

A tarball is read once, as a stream (compressed tarballs allow nothing else
cheaply): members under an rpmdb directory (``var/lib/rpm``, ``usr/lib/sysimage/rpm``)
and the ``os-release`` files are copied into a work directory, nothing else is
written. Symbolic links among them (``var/lib/rpm -> ../../usr/lib/sysimage/rpm``,
``etc/os-release -> ../usr/lib/os-release``) are resolved afterwards against what
was copied. Member names are normalised (``./`` dropped) and never used as paths
on the host: each copy goes to a fixed name in the work directory.
"""

from __future__ import annotations

import posixpath
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from repotrack.errors import InputError
from repotrack.sources.compression import DECOMPRESSION_ERRORS, open_metadata
from repotrack.sources.images.rpmdb import RPMDB_DIRS, RpmdbFile, rpmdb_candidates
from repotrack.sources.images.rpmdb_sqlite import WAL_SUFFIX
from repotrack.sources.images.tree import MAX_RPMDB_BYTES, OS_RELEASE_PATHS, parse_os_release

__all__ = ["TarContents", "is_tarball", "read_tarball"]

_RPMDB_FILES = {path for path, _kind in rpmdb_candidates()}
_WANTED_FILES = _RPMDB_FILES | {p + WAL_SUFFIX for p in _RPMDB_FILES} | set(OS_RELEASE_PATHS)
_OS_RELEASE_MAX = 64 * 1024
_TAR_ERRORS: tuple[type[BaseException], ...] = (tarfile.TarError, *DECOMPRESSION_ERRORS)
_NOT_TAR: tuple[type[BaseException], ...] = (InputError, *_TAR_ERRORS)


@dataclass(slots=True)
class TarContents:
    """What was found in a tarball: the rpmdb copied out, and the os-release (parsed, text)."""

    rpmdb: RpmdbFile | None = None
    os_release: dict[str, str] = field(default_factory=dict)
    os_release_text: str = ""


def is_tarball(path: Path) -> bool:
    """Whether ``path`` is a (possibly compressed) tar archive."""
    try:
        with open_metadata(path) as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            return tar.next() is not None
    except _NOT_TAR:
        return False


def _normal(name: str) -> str:
    return posixpath.normpath("/" + name).lstrip("/")


def read_tarball(path: Path, workdir: Path) -> TarContents:
    """Copy the rpmdb and os-release of the tarball at ``path`` into ``workdir``."""
    source = str(path)
    files: dict[str, Path] = {}
    links: dict[str, str] = {}
    try:
        with open_metadata(path) as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            for number, member in enumerate(tar):
                name = _normal(member.name)
                if member.issym() or member.islnk():
                    if _interesting(name):
                        links[name] = member.linkname
                    continue
                if not member.isfile() or name not in _WANTED_FILES:
                    continue
                if member.size > MAX_RPMDB_BYTES:
                    raise InputError(
                        f"/{name} claims {member.size} bytes: not a plausible rpmdb", path=source
                    )
                extracted = tar.extractfile(member)
                if extracted is None:
                    continue
                target = workdir / f"member-{number}"
                with extracted, target.open("wb") as out:
                    shutil.copyfileobj(extracted, out, 1 << 20)
                files[name] = target
    except _TAR_ERRORS as exc:
        raise InputError(f"bad or truncated tar archive: {exc}", path=source) from exc
    text = _os_release(files, links)
    return TarContents(
        rpmdb=_rpmdb(files, links, source),
        os_release=parse_os_release(text),
        os_release_text=text,
    )


def _interesting(name: str) -> bool:
    return any(
        name == d or d.startswith(name + "/") or name.startswith(d + "/")
        for d in (*RPMDB_DIRS, *OS_RELEASE_PATHS)
    ) or name in ("etc", "usr", "var")


def _resolve(name: str, files: dict[str, Path], links: dict[str, str]) -> Path | None:
    """``name`` with symlinked directories and files replaced by their targets."""
    for _hop in range(40):
        if name in files:
            return files[name]
        parts = name.split("/")
        for i in range(len(parts), 0, -1):
            prefix = "/".join(parts[:i])
            if prefix in links:
                target = links[prefix]
                base = "" if target.startswith("/") else posixpath.dirname(prefix)
                joined = posixpath.join(base, target, *parts[i:])
                name = _normal(joined)
                break
        else:
            return None
    return None


def _rpmdb(files: dict[str, Path], links: dict[str, str], source: str) -> RpmdbFile | None:
    for relative, kind in rpmdb_candidates():
        local = _resolve(relative, files, links)
        if local is not None:
            wal = _resolve(relative + WAL_SUFFIX, files, links)
            if wal is not None:
                wal.replace(local.with_name(local.name + WAL_SUFFIX))
            return RpmdbFile(path=local, kind=kind, source=f"{source}:/{relative}")
    return None


def _os_release(files: dict[str, Path], links: dict[str, str]) -> str:
    for relative in OS_RELEASE_PATHS:
        local = _resolve(relative, files, links)
        if local is not None and local.stat().st_size <= _OS_RELEASE_MAX:
            return local.read_bytes().decode("utf-8", "replace")
    return ""
