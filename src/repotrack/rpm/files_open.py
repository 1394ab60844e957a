"""Opening package files so that nothing but a regular file is ever read.

A FIFO or a device named like a package (``x.rpm -> /dev/zero``, a FIFO left in a
mirror) would block ``open`` forever, or feed a reader without end. Files are opened
with ``O_NONBLOCK`` (which never blocks, whatever the file is) and refused unless the
opened file is a regular one; then the flag is cleared for ordinary reads.
"""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path
from typing import BinaryIO

from repotrack.errors import InputError

__all__ = ["open_fd", "open_regular"]


def open_fd(path: str | Path) -> int:
    """A read-only descriptor of the regular file at ``path`` (InputError otherwise)."""
    name = os.fspath(path)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=name) from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError("refused: not a regular file", path=name)
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_regular(path: str | Path, *, buffering: int = -1) -> BinaryIO:
    """``open(path, "rb")`` for a regular file only (see the module docstring)."""
    return os.fdopen(open_fd(path), "rb", buffering=buffering)
