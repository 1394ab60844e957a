"""Give back the pages of chDB's shared library that only its start-up touched.

chDB is one 530 MiB shared library (``chdb/_chdb.abi3.so``). Loading it runs about
2 700 static initializers spread over its whole text and applies 28 MiB of
relocations; starting the embedded server touches more. Measured with chDB 4.4.0: a
process that opened a store had 160–200 MiB of the library resident, of which a query
needs 50–60 MiB; the rest was start-up code and relocation tables that are never read
again, and made a short ``repotrack load image`` peak at 330–340 MiB resident (issue
16 wants an image load under 300 MiB).

Those pages are clean copies of the file: ``madvise(MADV_DONTNEED)`` takes them out of
this process's page tables (they stay in the page cache, shared with every other
process mapping the library) and the few that are needed again come back on their
next use by a minor fault, as after any reclaim. Measured: the call takes 0.05–0.1 s,
and the next queries' extra faults a few ms.

Only mappings that can hold nothing but the file's bytes are dropped: read-only ones
(no ``w``) without a single private copy (``Anonymous: 0 kB`` in ``smaps``). A private
mapping the process once wrote to, such as the library's relocated ``RELRO`` part,
keeps its copies there, and ``MADV_DONTNEED`` would replace them with the file's
original bytes; such a mapping is always kept. Anything that does not work as
expected (no ``/proc``, no ``madvise``) leaves memory as it is: this is an economy,
never a condition for the store to work.
"""

from __future__ import annotations

import ctypes
import logging
import mmap
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Mapping",
    "drop_clean_pages",
    "droppable_library_kib",
    "file_mappings",
    "release_startup_pages",
]

log = logging.getLogger(__name__)

#: The platform's value, as Python's mmap module names it (Linux: 4, Alpha: 6).
MADV_DONTNEED: int | None = getattr(mmap, "MADV_DONTNEED", None)
SMAPS = Path("/proc/self/smaps")


@dataclass(frozen=True, slots=True)
class Mapping:
    """One mapping of a file in this process (a line of ``smaps`` and its counters, KiB)."""

    start: int
    end: int
    perms: str
    rss: int
    anonymous: int

    @property
    def droppable(self) -> bool:
        """Read-only and holding no private copy: its pages are the file's own bytes."""
        return "w" not in self.perms and self.anonymous == 0


def file_mappings(path: str, smaps: Path = SMAPS) -> list[Mapping]:
    """This process's mappings of ``path`` (as the kernel names it), in address order."""
    found: list[Mapping] = []
    current: dict[str, int | str] | None = None
    for line in smaps.read_text().splitlines():
        head = line.split(maxsplit=5)
        if len(head) >= 5 and "-" in head[0] and ":" not in head[0]:
            if current is not None:
                found.append(_mapping(current))
            current = None
            if len(head) == 6 and head[5] == path:
                start, end = (int(part, 16) for part in head[0].split("-"))
                current = {"start": start, "end": end, "perms": head[1]}
        elif current is not None and head[0] in ("Rss:", "Anonymous:"):
            current[head[0][:-1].lower()] = int(head[1])
    if current is not None:
        found.append(_mapping(current))
    return found


def _mapping(fields: dict[str, int | str]) -> Mapping:
    return Mapping(
        start=int(fields["start"]),
        end=int(fields["end"]),
        perms=str(fields["perms"]),
        rss=int(fields.get("rss", 0)),
        # unknown counts as "has private copies": the mapping is then kept
        anonymous=int(fields.get("anonymous", 1)),
    )


def drop_clean_pages(path: str) -> int:
    """``MADV_DONTNEED`` over every droppable mapping of ``path``; the KiB they held."""
    madvise = _madvise()
    if madvise is None or MADV_DONTNEED is None:
        return 0
    released = 0
    for mapping in file_mappings(path):
        if not mapping.droppable:
            continue
        if madvise(mapping.start, mapping.end - mapping.start, MADV_DONTNEED) != 0:
            log.debug("madvise failed", extra={"errno": ctypes.get_errno(), "file": path})
            continue
        released += mapping.rss
    return released


def release_startup_pages() -> int:
    """Drop the clean pages of chDB's library this process holds; the KiB released.

    Called once chDB is imported and once its embedded server has started (see
    ``chdb_backend``). Does nothing where ``/proc/self/smaps`` is missing.
    """
    library = _chdb_library()
    if library is None or not SMAPS.exists():
        return 0
    try:
        released = drop_clean_pages(library)
    except (OSError, ValueError) as exc:  # an unreadable smaps: keep memory as it is
        log.debug("chDB pages kept", extra={"reason": str(exc)})
        return 0
    log.debug("chDB start-up pages released", extra={"kib": released})
    return released


def droppable_library_kib() -> int:
    """KiB of chDB's library resident in this process that a release would drop."""
    library = _chdb_library()
    if library is None or not SMAPS.exists():
        return 0
    return sum(m.rss for m in file_mappings(library) if m.droppable)


def _chdb_library() -> str | None:
    module = sys.modules.get("chdb._chdb")
    filename = getattr(module, "__file__", None)
    return os.path.realpath(filename) if filename else None


def _madvise() -> Callable[[int, int, int], int] | None:
    try:
        function = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    function.restype = ctypes.c_int
    madvise: Callable[[int, int, int], int] = function
    return madvise
