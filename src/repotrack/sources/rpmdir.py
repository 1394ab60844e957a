"""A plain directory tree of ``.rpm`` files, with no index at all.

Files are listed in a stable order (sorted relative paths) so two runs over the same
tree do the same work in the same order. Symlinks to files are followed (ALT's
``RPMS.classic`` is mostly symlinks into ``files/``); symlinked directories are not,
so a loop cannot make the walk endless.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from repotrack.errors import InputError

__all__ = ["RpmDirEntry", "list_rpm_files"]


@dataclass(frozen=True, slots=True)
class RpmDirEntry:
    """One RPM file; ``source`` says whether its name ends in ``.src.rpm``/``.nosrc.rpm``.

    ``path`` is a plain string: listings run to tens of thousands of entries, and
    the loader only ever passes the path on.
    """

    path: str
    relpath: str
    source: bool


def list_rpm_files(root: Path) -> list[RpmDirEntry]:
    """Every ``*.rpm`` under ``root``, sorted by relative path.

    Walks with ``os.scandir`` and plain strings: on an unchanged tree the listing is
    a good part of a reload's time, and pathlib objects per file cost several times
    what the directory entries themselves do.
    """
    if not root.is_dir():
        raise InputError("not a directory", path=str(root))
    found: list[tuple[str, str]] = []
    pending = [("", os.fspath(root))]
    while pending:
        prefix, directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            raise InputError(f"cannot list: {exc.strerror or exc}", path=directory) from exc
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                pending.append((rel + "/", entry.path))
            elif entry.name.endswith(".rpm") and entry.is_file():
                found.append((rel, entry.path))
    found.sort()
    return [
        RpmDirEntry(path=path, relpath=rel, source=rel.endswith((".src.rpm", ".nosrc.rpm")))
        for rel, path in found
    ]
