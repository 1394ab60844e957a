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
    """One RPM file; ``source`` says whether its name ends in ``.src.rpm``/``.nosrc.rpm``."""

    path: Path
    relpath: str
    source: bool


def list_rpm_files(root: Path) -> list[RpmDirEntry]:
    """Every ``*.rpm`` under ``root``, sorted by relative path."""
    if not root.is_dir():
        raise InputError("not a directory", path=str(root))
    found: list[RpmDirEntry] = []
    for directory, subdirs, files in os.walk(root):
        subdirs.sort()
        for name in files:
            if not name.endswith(".rpm"):
                continue
            path = Path(directory) / name
            if path.is_file():
                rel = path.relative_to(root).as_posix()
                source = name.endswith((".src.rpm", ".nosrc.rpm"))
                found.append(RpmDirEntry(path=path, relpath=rel, source=source))
    found.sort(key=lambda e: e.relpath)
    return found
