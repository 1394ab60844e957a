"""Open a possibly compressed metadata file by its magic bytes, as a binary stream.

Repository metadata arrives as plain text, gzip, xz, bzip2 or zstd depending on
who generated it and when; the file name is not trusted (``primary.xml.gz`` that is
really zstd exists in the wild), the first bytes are.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from pathlib import Path
from typing import BinaryIO

import zstandard

from repotrack.errors import InputError

__all__ = ["DECOMPRESSION_ERRORS", "open_metadata"]

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
_ZCHUNK = b"\x00ZCK1"


def open_metadata(path: Path) -> BinaryIO:
    """A readable binary stream of the decompressed content of ``path``."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", path=str(path)) from exc
    head = raw.read(6)
    raw.seek(0)
    if head.startswith(_GZIP):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if head.startswith(_XZ):
        return lzma.LZMAFile(raw, mode="rb")  # type: ignore[return-value]
    if head.startswith(_BZIP2):
        return bz2.BZ2File(raw, mode="rb")  # type: ignore[return-value]
    if head.startswith(_ZSTD):
        reader = zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)
        return io.BufferedReader(reader)
    if head.startswith(_ZCHUNK):
        raw.close()
        raise InputError("zchunk compression is not supported", path=str(path))
    return raw
