"""Bounds on repository metadata, so a hostile tree costs an error, not the machine.

Metadata files come from whoever built the mirror. Probed with hostile trees, an
unbounded reader ran to ``MemoryError`` or blocked for good: ``base/release`` as a
symlink to ``/dev/zero`` or a FIFO, a 625 KB ``.xz`` list that expands to 4 GiB with
no newline, a ``primary.xml.gz`` of 31 M sibling elements, a 3 GiB text node. Every
reader in ``sources/`` therefore:

* opens only regular files (after following symlinks), and opens them with
  ``O_NONBLOCK``, so neither a FIFO nor a device can block or feed it forever;
* refuses a compressed file that expands beyond ``max_ratio`` times its size (with a
  floor of ``min_expanded`` bytes so small files are never a problem);
* refuses a text line longer than ``max_line``, a plain-text file (``release``,
  ``task.info``) longer than ``max_text_file``, an XML element (one ``<package>`` with
  everything in it, or anything between two of them) longer than ``max_element`` bytes
  of XML, and an XML text field longer than ``max_field`` characters.

A refusal is an ``InputError`` naming the file and the limit it crossed. The defaults
are far above anything real repositories hold (the largest ``<package>`` of Fedora's
``filelists.xml``, texlive's, is a few MB; xz lists compress 5-15 times); tests pass a
smaller ``MetadataLimits`` to keep hostile inputs small.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from repotrack.errors import InputError

__all__ = ["DEFAULT_LIMITS", "MetadataLimits", "open_regular"]

_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class MetadataLimits:
    """The bounds one read of repository metadata respects (see the module docstring)."""

    #: Longest line of a line-oriented file (hash lists, release, task.info), in bytes.
    max_line: int = 64 * 1024
    #: Largest plain-text file read whole (``base/release``, ``files/list/task.info``).
    max_text_file: int = 16 * _MIB
    #: Most bytes of XML one element may span, children and text included.
    max_element: int = 256 * _MIB
    #: Longest text or attribute value of a field the parsers keep, in characters.
    max_field: int = 16 * _MIB
    #: Most a compressed file may expand, as a multiple of its size on disk...
    max_ratio: int = 200
    #: ...except that any file may expand to this many bytes.
    min_expanded: int = 64 * _MIB

    def expanded_budget(self, compressed_size: int) -> int:
        """How many decompressed bytes a file of ``compressed_size`` bytes may yield."""
        return max(self.min_expanded, self.max_ratio * compressed_size)


DEFAULT_LIMITS = MetadataLimits()


def open_regular(path: Path) -> tuple[int, int]:
    """Open ``path`` read-only and return (file descriptor, size); refuse anything else.

    Symlinks are followed (snapshots link between trees), but what they lead to must
    be a regular file: a FIFO, a device or a socket is refused before it is opened,
    and the open itself is non-blocking, so a file swapped for a FIFO in between
    cannot block either. The descriptor is checked again after opening.
    """
    name = str(path)
    try:
        before = path.stat()
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror or exc}", path=name) from exc
    _require_regular(before.st_mode, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror or exc}", path=name) from exc
    after = os.fstat(fd)
    if not stat.S_ISREG(after.st_mode):
        os.close(fd)
        _require_regular(after.st_mode, name)
    return fd, after.st_size


def _require_regular(mode: int, name: str) -> None:
    if stat.S_ISREG(mode):
        return
    kind = (
        "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a directory"
        if stat.S_ISDIR(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    raise InputError(f"refused: {kind}, not a regular file", path=name)
