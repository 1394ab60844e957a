"""A read-only file object over byte ranges of another file (a partition, a file in an ISO).

Readers that expect a whole file (SquashFS, RPM headers) run unchanged on a file
stored inside an image: the window maps their offsets onto the image's extents and
ends where the inner file ends, so a reader can never stray outside it.
"""

from __future__ import annotations

import io
from typing import BinaryIO

__all__ = ["SizedReader", "Window"]


class SizedReader(io.RawIOBase):
    """A read-only, seekable file of a known ``size`` whose position is ``_pos``: what a
    file stored inside an image is to the readers that take it (a window onto the
    image's extents, a zisofs file's uncompressed bytes); subclasses read."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self._size = size
        self._pos = 0

    @property
    def size(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos


class Window(SizedReader):
    """The concatenation of ``extents`` (``(offset, length)`` pairs) of ``f``."""

    def __init__(self, f: BinaryIO, extents: list[tuple[int, int]]) -> None:
        super().__init__(sum(length for _o, length in extents))
        self._f = f
        self._extents = extents

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        want = min(len(view), max(0, self._size - self._pos))
        done = 0
        start = 0
        for offset, length in self._extents:
            if done >= want:
                break
            end = start + length
            if self._pos + done < end:
                inner = self._pos + done - start
                n = min(length - inner, want - done)
                self._f.seek(offset + inner)
                chunk = self._f.read(n)
                view[done : done + len(chunk)] = chunk
                done += len(chunk)
                if len(chunk) < n:
                    break
            start = end
        self._pos += done
        return done
