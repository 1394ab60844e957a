"""The package's file list from its header arrays."""

from __future__ import annotations

import stat
from typing import Final

from repotrack.errors import InputError
from repotrack.rpm.header import Header
from repotrack.rpm.tags import Tag

__all__ = ["file_kind", "file_paths"]


def file_paths(header: Header) -> list[str]:
    """Full paths of the files, in header order.

    ``DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]`` for rpm >= 4 packages, OLDFILENAMES for
    rpm 3.x and ``--nodirtokens`` builds; ``[]`` for a package without files.
    """
    basenames = header.get_strings(Tag.BASENAMES)
    if not basenames:
        return header.get_strings(Tag.OLDFILENAMES)
    dirnames = header.get_strings(Tag.DIRNAMES)
    indexes = header.get_ints(Tag.DIRINDEXES)
    if len(indexes) != len(basenames):
        raise InputError(
            f"{len(basenames)} BASENAMES but {len(indexes)} DIRINDEXES",
            path=header.source,
            offset=header.offset,
        )
    try:
        return [dirnames[d] + b for d, b in zip(indexes, basenames, strict=True)]
    except IndexError:
        raise InputError(
            "DIRINDEXES points past DIRNAMES", path=header.source, offset=header.offset
        ) from None


_KINDS: Final = {
    stat.S_IFREG: "file",
    stat.S_IFDIR: "directory",
    stat.S_IFLNK: "symlink",
    stat.S_IFSOCK: "socket",
    stat.S_IFBLK: "block",
    stat.S_IFCHR: "char",
    stat.S_IFIFO: "fifo",
}


def file_kind(mode: int) -> str:
    """ALTRepo's ``file_class`` value for a FILEMODES entry: file, directory, symlink,
    socket, block, char or fifo (anything unknown counts as "file").

    Taken from the mode rather than the libmagic text in FILECLASS/CLASSDICT, which old
    and v6 packages lack and which rpm itself synthesises for symlinks and directories.
    """
    return _KINDS.get(stat.S_IFMT(mode), "file")
