"""What identifies a task directory cheaply: its id from its name, and a fingerprint.

Kept apart from the reader, with nothing but the standard library and ``mmh3``
imported, because a reload of unchanged tasks needs only these two and must not pay
for importing the task and RPM readers (``ingest.task_marks``).
"""

from __future__ import annotations

import os
from pathlib import Path

import mmh3

__all__ = ["fingerprint", "task_id_of"]


def task_id_of(path: Path) -> int:
    """The task id a directory is named by (its last component must be an integer)."""
    from repotrack.errors import InputError

    name = Path(path).name
    if not name.isdigit() or int(name) == 0:
        raise InputError(
            f"the task directory must be named by its integer id, got {name!r}", path=str(path)
        )
    return int(name)


def fingerprint(path: Path, *extra: object) -> int:
    """A 64-bit digest of every entry's path, type, size and mtime under ``path`` (and ``extra``).

    girar changes a task only by writing files in its directory, so an equal
    fingerprint means an unchanged task; it costs one ``stat`` per entry, far less
    than reading and parsing the task.
    """
    parts = [repr(extra), f"d . {os.lstat(path).st_mtime_ns}"]
    _fingerprint_dir(str(path), "", parts)
    return _mmhash("\n".join(parts))


def _fingerprint_dir(directory: str, rel: str, parts: list[str]) -> None:
    with os.scandir(directory) as scan:
        entries = sorted(scan, key=lambda e: e.name)
    for entry in entries:
        st = entry.stat(follow_symlinks=False)
        name = f"{rel}/{entry.name}"
        if entry.is_symlink():
            parts.append(f"l {name} {os.readlink(entry.path)}")  # noqa: PTH115 - a DirEntry
        elif entry.is_dir(follow_symlinks=False):
            parts.append(f"d {name} {st.st_mtime_ns}")
            _fingerprint_dir(entry.path, name, parts)
        else:
            parts.append(f"f {name} {st.st_size} {st.st_mtime_ns}")


def _mmhash(text: str) -> int:
    """``repotrack.rpm.mmhash`` of a string (its value is what ``TaskLoadMarks`` holds)."""
    low, high = mmh3.hash64(text.encode(), 0, signed=False)
    return int(low ^ high)
