"""The contract of a read-only file system inside an image, and what all of them share.

Each reader (ext2/3/4, SquashFS, ISO 9660) resolves paths from its own root and
copies a file's bytes out in chunks; none mounts anything. ``copy_rpmdb`` and
``read_os_release`` work on any of them, which is how an image's rpmdb and its
``os-release`` are read from the image itself, never from the host.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, TypeVar

from repotrack.errors import InputError
from repotrack.sources.images.rpmdb import RpmdbFile, rpmdb_candidates
from repotrack.sources.images.rpmdb_sqlite import WAL_SUFFIX

__all__ = [
    "OS_RELEASE_PATHS",
    "FileTree",
    "TreeEntry",
    "copy_rpmdb",
    "parse_os_release",
    "read_os_release",
    "read_os_release_text",
    "resolve_path",
]

N = TypeVar("N")

log = logging.getLogger(__name__)

OS_RELEASE_PATHS = ("etc/os-release", "usr/lib/os-release")
#: os-release is a few hundred bytes; anything larger is not one.
_OS_RELEASE_MAX = 64 * 1024
#: The largest rpmdb file copied out (a distribution's is a few hundred MiB at most);
#: a damaged or hostile size never fills the work directory.
MAX_RPMDB_BYTES = 4 << 30
#: How many symbolic links a path lookup follows before giving up (Linux's limit).
MAX_SYMLINKS = 40


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One file system object: enough for the file walk (altrepo §4.2) and for lookups."""

    path: str
    kind: str  # file, directory, symlink, char, block, fifo, socket
    mode: int
    uid: int
    gid: int
    size: int
    mtime: int
    linkto: str = ""


class FileTree(Protocol):
    """A file system read in user space: ``name`` is used in error messages."""

    name: str

    def lookup(self, path: str) -> TreeEntry | None:
        """The entry at ``path`` (relative to the root; symlinks followed), or None."""
        ...

    def copy_out(self, path: str, dest: BinaryIO) -> int:
        """Write the bytes of the regular file at ``path`` to ``dest``; return the count."""
        ...

    def walk(self) -> Iterator[TreeEntry]:
        """Every entry below the root (symlinks not followed), parents before children."""
        ...


def copy_rpmdb(tree: FileTree, workdir: Path) -> RpmdbFile | None:
    """Copy the preferred rpmdb file of ``tree`` into ``workdir``; None if it has none."""
    for relative, kind in rpmdb_candidates():
        entry = tree.lookup(relative)
        if entry is None or entry.kind != "file":
            continue
        if entry.size > MAX_RPMDB_BYTES:
            raise InputError(
                f"/{relative} claims {entry.size} bytes: not a plausible rpmdb", path=tree.name
            )
        target = workdir / Path(relative).name
        with target.open("wb") as out:
            tree.copy_out(relative, out)
        wal = tree.lookup(relative + WAL_SUFFIX) if kind == "sqlite" else None
        if wal is not None and wal.kind == "file" and wal.size:
            with target.with_name(target.name + WAL_SUFFIX).open("wb") as out:
                tree.copy_out(relative + WAL_SUFFIX, out)
        return RpmdbFile(path=target, kind=kind, source=f"{tree.name}:/{relative}")
    return None


def read_os_release(tree: FileTree) -> dict[str, str]:
    """The image's own os-release (never the host's), parsed; empty when it has none."""
    return parse_os_release(read_os_release_text(tree))


def read_os_release_text(tree: FileTree) -> str:
    """The image's own os-release as it is written (the root's kv stores it so); or ""."""
    for relative in OS_RELEASE_PATHS:
        entry = tree.lookup(relative)
        if entry is None or entry.kind != "file" or entry.size > _OS_RELEASE_MAX:
            continue
        buffer = io.BytesIO()
        tree.copy_out(relative, buffer)
        return buffer.getvalue().decode("utf-8", "replace")
    return ""


def parse_os_release(text: str) -> dict[str, str]:
    """``KEY=value`` lines (values optionally quoted), as os-release(5) describes them."""
    result: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        result[key.strip()] = value
    return result


def resolve_path(
    path: str,
    root: N,
    *,
    child: Callable[[N, str], N | None],
    link_target: Callable[[N], str | None],
    source: str,
) -> N | None:
    """Walk ``path`` from ``root`` the way the kernel would, inside the image.

    ``child(dir, name)`` looks a name up in a directory (None when absent or when
    ``dir`` is not a directory); ``link_target(node)`` is a symlink's target or None.
    Absolute targets restart at the image's root and ``..`` never climbs above it,
    so a link can never lead out of the image. Too many links (a loop) means None.
    """
    pending = [p for p in path.split("/") if p not in ("", ".")]
    stack: list[N] = [root]
    hops = 0
    while pending:
        name = pending.pop(0)
        if name == "..":
            if len(stack) > 1:
                stack.pop()
            continue
        node = child(stack[-1], name)
        if node is None:
            return None
        target = link_target(node)
        if target is None:
            stack.append(node)
            continue
        hops += 1
        if hops > MAX_SYMLINKS:
            log.warning("too many symbolic links", extra={"image": source, "path": path})
            return None
        if target.startswith("/"):
            stack = [root]
        pending = [p for p in target.split("/") if p not in ("", ".")] + pending
    return stack[-1]
