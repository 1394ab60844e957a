"""Package files this process identified before, known again by their ``stat``.

A reload of an unchanged tree spends most of its own work telling which package each
file is: a read of the file's first kilobytes and a parse of its signature, about
30 us a file, 60 ms for 2 000 files. A process that loads the same tree again (the
running service, to which every ``load repo`` is handed while it holds the store, or
the daemon) already knows the answer for every file whose ``stat`` has not changed:
same device, inode, size, modification and change times (nanoseconds). The change
time (``st_ctime``) moves with any write or metadata change and cannot be set back by
a tool, so a file rewritten in place, even with its old size and modification time
restored (``cp -p``, ``touch -r``), is read again.

What is remembered is the ``stat`` taken *before* the file was read, so a file changed
while it was read is read again next time. A file changed in the last two seconds is
not remembered: on a file system with coarse timestamps, another write within the same
tick would leave the same ``stat`` (git's "racily clean" entries). Only the package id
comes from here: whether the store holds that package is still asked of the store, and
``--verify-known`` still reads every known file in full.

The memory is this process's only (a command exits after one load), bounded in size;
the oldest entries go first.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from collections import OrderedDict
from typing import Final

__all__ = ["StatKey", "forget_all", "known_id", "remember", "stat_key"]

#: ``st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns`` packed (compact: a service may
#: remember a few hundred thousand files).
StatKey = bytes
_STAT: Final = struct.Struct("<QQQqq")
_ID: Final = struct.Struct("<Q")

#: Files remembered at most: about 300 bytes each with a path of 75 characters, so at
#: most 60 MB.
LIMIT: Final = 200_000
#: A file changed this recently (seconds) is not remembered.
SETTLED: Final = 2.0

#: path -> its ``StatKey`` followed by its package id (``_ID``).
_known: OrderedDict[str, bytes] = OrderedDict()
_lock = threading.Lock()


def stat_key(path: str) -> StatKey | None:
    """The file's ``stat`` as the key it is remembered by; None if it cannot be read."""
    try:
        st = os.stat(path)  # noqa: PTH116 - called per file of a tree: no Path object
    except OSError:
        return None
    return _STAT.pack(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def known_id(path: str, key: StatKey | None) -> int | None:
    """The package id remembered for ``path`` if its ``stat`` is still ``key``."""
    if key is None:
        return None
    with _lock:
        entry = _known.get(path)
    if entry is None or not entry.startswith(key):
        return None
    (pkg_hash,) = _ID.unpack_from(entry, _STAT.size)
    return int(pkg_hash)


def remember(path: str, key: StatKey | None, pkg_hash: int) -> None:
    """Remember ``path`` as package ``pkg_hash``; ``key`` is its ``stat`` from before it
    was read (a file changed in the last ``SETTLED`` seconds is not remembered)."""
    if key is None:
        return
    _, _, _, mtime, ctime = _STAT.unpack(key)
    if time.time_ns() - max(mtime, ctime) < SETTLED * 1e9:
        return
    with _lock:
        _known[path] = key + _ID.pack(pkg_hash)
        _known.move_to_end(path)
        while len(_known) > LIMIT:
            _known.popitem(last=False)


def forget_all() -> None:
    """Forget every file (tests)."""
    with _lock:
        _known.clear()
