"""Root file system tarballs (plain, gzip, xz, bzip2, zstd): the rpmdb and os-release out of them.

A tarball is read as a stream (compressed tarballs allow nothing else cheaply):
members under an rpmdb directory (``var/lib/rpm``, ``usr/lib/sysimage/rpm``) and the
``os-release`` files are copied into a work directory, nothing else is written.
Symbolic and hard links (``var/lib/rpm -> ../../usr/lib/sysimage/rpm``,
``etc/os-release -> ../usr/lib/os-release``) are resolved afterwards against the
members seen; when they lead to members of other names, which the first pass did
not copy, a second pass copies those. Member names are normalised (``./`` dropped)
and never used as paths on the host: each copy goes to a fixed name in the work
directory.
"""

from __future__ import annotations

import posixpath
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from repotrack.errors import InputError
from repotrack.sources.compression import DECOMPRESSION_ERRORS, open_metadata
from repotrack.sources.images.rpmdb import RpmdbFile, rpmdb_candidates
from repotrack.sources.images.rpmdb_sqlite import WAL_SUFFIX
from repotrack.sources.images.tree import MAX_RPMDB_BYTES, OS_RELEASE_PATHS, parse_os_release

__all__ = ["TarContents", "is_tarball", "read_tarball"]

_RPMDB_FILES = {path for path, _kind in rpmdb_candidates()}
_OS_RELEASE_MAX = 64 * 1024
#: The members read (as named, or reached through links), each with its size limit.
_WANTED = {
    **{p: MAX_RPMDB_BYTES for p in sorted(_RPMDB_FILES)},
    **{p + WAL_SUFFIX: MAX_RPMDB_BYTES for p in sorted(_RPMDB_FILES)},
    **dict.fromkeys(OS_RELEASE_PATHS, _OS_RELEASE_MAX),
}
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


@dataclass(slots=True)
class _Members:
    """What a pass over the archive learnt: copies made, links, regular member names."""

    files: dict[str, Path] = field(default_factory=dict)
    #: symlink name -> target as written (relative to the link's directory, or absolute)
    symlinks: dict[str, str] = field(default_factory=dict)
    #: hard link name -> archive name of the member holding the bytes
    hardlinks: dict[str, str] = field(default_factory=dict)
    regular: set[str] = field(default_factory=set)


def read_tarball(path: Path, workdir: Path) -> TarContents:
    """Copy the rpmdb and os-release of the tarball at ``path`` into ``workdir``.

    One pass copies the members at the rpmdb and os-release paths and notes every link.
    When those paths lead, through symbolic or hard links, to members of other names
    (``var/lib/rpm -> ../../usr/share/rpm`` as rpm-ostree has it, or a hard link to a
    file archived earlier under another name), a second pass copies those members.
    """
    members = _Members()
    _copy_members(path, workdir, members, _WANTED, prefix="member")
    more: dict[str, int] = {}
    for wanted, limit in _WANTED.items():
        name = _follow(wanted, members)
        if name is not None and name not in members.files and name in members.regular:
            more[name] = max(limit, more.get(name, 0))
    if more:
        _copy_members(path, workdir, members, more, prefix="linked")
    text = _os_release(members)
    return TarContents(
        rpmdb=_rpmdb(members, str(path)),
        os_release=parse_os_release(text),
        os_release_text=text,
    )


def _copy_members(
    path: Path, workdir: Path, members: _Members, names: dict[str, int], *, prefix: str
) -> None:
    """One pass over the archive: copy the regular members in ``names``, note the links.

    ``names`` maps each member wanted to the most bytes it may have: an rpmdb file
    larger than that is refused, an os-release file larger than that is no os-release.
    """
    source = str(path)
    try:
        with open_metadata(path) as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            for number, member in enumerate(tar):
                name = _normal(member.name)
                if member.issym():
                    members.symlinks[name] = member.linkname
                    continue
                if member.islnk():
                    members.hardlinks[name] = _normal(member.linkname)
                    continue
                if not member.isfile():
                    continue
                members.regular.add(name)
                if name not in names or name in members.files:
                    continue
                if member.size > names[name]:
                    if names[name] < MAX_RPMDB_BYTES:
                        continue
                    raise InputError(
                        f"/{name} claims {member.size} bytes: not a plausible rpmdb", path=source
                    )
                extracted = tar.extractfile(member)
                if extracted is None:
                    continue
                target = workdir / f"{prefix}-{number}"
                with extracted, target.open("wb") as out:
                    shutil.copyfileobj(extracted, out, 1 << 20)
                members.files[name] = target
    except _TAR_ERRORS as exc:
        raise InputError(f"bad or truncated tar archive: {exc}", path=source) from exc


def _follow(name: str, members: _Members) -> str | None:
    """The member name ``name`` leads to once symbolic and hard links are followed.

    Symbolic links are taken from the leftmost component on, as the kernel walks a
    path, relative to the link's directory (absolute ones from the archive's root,
    which ``..`` never climbs above); a hard link names its member from the root.
    None after 40 links (a loop).
    """
    for _hop in range(40):
        if name in members.files or name in members.regular:
            return name
        if name in members.hardlinks:
            name = members.hardlinks[name]
            continue
        parts = name.split("/")
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            if prefix in members.symlinks:
                target = members.symlinks[prefix]
                base = "" if target.startswith("/") else posixpath.dirname(prefix)
                name = _normal(posixpath.join(base, target, *parts[i:]))
                break
        else:
            return name
    return None


def _local(name: str, members: _Members) -> Path | None:
    followed = _follow(name, members)
    return None if followed is None else members.files.get(followed)


def _rpmdb(members: _Members, source: str) -> RpmdbFile | None:
    for relative, kind in rpmdb_candidates():
        local = _local(relative, members)
        if local is not None:
            wal = _local(relative + WAL_SUFFIX, members)
            if wal is not None:
                shutil.copyfile(wal, local.with_name(local.name + WAL_SUFFIX))
            return RpmdbFile(path=local, kind=kind, source=f"{source}:/{relative}")
    return None


def _os_release(members: _Members) -> str:
    for relative in OS_RELEASE_PATHS:
        local = _local(relative, members)
        if local is not None and local.stat().st_size <= _OS_RELEASE_MAX:
            return local.read_bytes().decode("utf-8", "replace")
    return ""
