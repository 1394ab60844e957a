"""Open a possibly compressed metadata file by its magic bytes, as a binary stream.

Repository metadata arrives as plain text, gzip, xz, bzip2 or zstd depending on
who generated it and when; the file name is not trusted (``primary.xml.gz`` that is
really zstd exists in the wild), the first bytes are.

Only regular files are opened (never blocking on a FIFO or device), and a compressed
file may expand only as far as ``MetadataLimits.expanded_budget`` allows: past that,
reading raises ``InputError`` naming the file and the ratio (see ``sources.limits``).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import zlib
from pathlib import Path
from typing import BinaryIO, cast

import zstandard

from repotrack.errors import InputError
from repotrack.sources.limits import DEFAULT_LIMITS, MetadataLimits, open_regular

__all__ = ["DECOMPRESSION_ERRORS", "ZCHUNK", "ZCHUNK_PROBLEM", "open_metadata"]

#: What a corrupt or truncated compressed stream raises, whichever the format.
DECOMPRESSION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    lzma.LZMAError,
    zlib.error,
    zstandard.ZstdError,
)

_GZIP = b"\x1f\x8b"
_XZ = b"\xfd7zXZ\x00"
_BZIP2 = b"BZh"
_ZSTD = b"\x28\xb5\x2f\xfd"
#: A zstd skippable frame (magic 0x184D2A50..0x184D2A5F, little-endian) may open a zstd
#: file: pzstd and the seekable format put their frame index there.
_ZSTD_SKIPPABLE = b"\x2a\x4d\x18"
#: zchunk (``.zck``): Fedora-style repositories publish it beside a ``.gz``/``.xz`` copy;
#: no Python reader of it exists, so a file of it is named as such, with what to take.
ZCHUNK = b"\x00ZCK1"
ZCHUNK_PROBLEM = (
    "zchunk compression (.zck) is not supported: take the .gz, .xz or .zst copy"
    " the repository publishes beside it"
)


_BUFFER = 256 * 1024


def open_metadata(path: Path, *, limits: MetadataLimits = DEFAULT_LIMITS) -> BinaryIO:
    """A readable binary stream of the decompressed content of ``path``.

    Raises ``InputError`` for anything but a regular file; a compressed stream that
    expands beyond ``limits.expanded_budget(size)`` raises ``InputError`` on read.
    """
    fd, size = open_regular(path)
    raw = os.fdopen(fd, "rb")
    head = raw.read(6)
    raw.seek(0)
    inner: BinaryIO
    if head.startswith(_GZIP):
        inner = cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="rb"))
    elif head.startswith(_XZ):
        inner = cast(BinaryIO, lzma.LZMAFile(raw, mode="rb"))  # noqa: SIM115 - returned
    elif head.startswith(_BZIP2):
        inner = cast(BinaryIO, bz2.BZ2File(raw, mode="rb"))
    elif head.startswith(_ZSTD) or _zstd_skippable(head):
        inner = cast(BinaryIO, zstandard.ZstdDecompressor().stream_reader(raw, closefd=True))
    elif head.startswith(ZCHUNK):
        raw.close()
        raise InputError(ZCHUNK_PROBLEM, path=str(path))
    else:
        return raw
    budget = limits.expanded_budget(size)
    bounded = _Bounded(inner, raw, budget=budget, name=str(path), ratio=limits.max_ratio)
    return cast(BinaryIO, io.BufferedReader(bounded, _BUFFER))


def _zstd_skippable(head: bytes) -> bool:
    return len(head) >= 4 and 0x50 <= head[0] <= 0x5F and head[1:4] == _ZSTD_SKIPPABLE


class _Bounded(io.RawIOBase):
    """The decompressed bytes of one file, refused past ``budget`` bytes.

    A decompressor hands out what it is asked for, so the budget is checked on each
    read before anything beyond it reaches a caller: a 625 KB xz "bomb" costs one
    buffer, not 4 GiB.
    """

    def __init__(
        self, inner: BinaryIO, raw: BinaryIO, *, budget: int, name: str, ratio: int
    ) -> None:
        super().__init__()
        self._inner = inner
        self._raw = raw
        self._left = budget
        self._budget = budget
        self._name = name
        self._ratio = ratio

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), self._left + 1)
        data = self._inner.read(want)
        if len(data) > self._left:
            raise InputError(
                f"decompresses to more than {self._budget} bytes (limit: {self._ratio} times "
                "its size on disk); refusing a likely decompression bomb",
                path=self._name,
            )
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                self._inner.close()
            finally:
                self._raw.close()
        super().close()
