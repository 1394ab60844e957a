"""Decompressing readers chosen by magic bytes, never by file name or header claims.

Every reader returned here yields at most the number of bytes asked for per ``read``,
so callers control memory however well the input compresses.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import zlib
from pathlib import Path
from typing import BinaryIO, Final, cast

import zstandard

from repotrack.errors import InputError

__all__ = [
    "DECOMPRESSION_ERRORS",
    "detect_compression",
    "open_compressed",
    "open_payload",
    "read_exact",
]

_MAGICS: Final = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"07070", "none"),
)
_CHUNK: Final = 1 << 20
#: What the decompressors raise on a corrupt stream (gzip: ``zlib.error`` or
#: ``BadGzipFile``/``EOFError``; bz2: ``OSError``; xz: ``LZMAError``; zstd: ``ZstdError``).
DECOMPRESSION_ERRORS: Final = (
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    zstandard.ZstdError,
    ValueError,
)


def detect_compression(head: bytes) -> str | None:
    """Name the compression of data starting with ``head``: gzip, bzip2, xz, zstd,
    lzma (legacy "alone" stream), none (a cpio archive), or None when unknown."""
    for magic, name in _MAGICS:
        if head.startswith(magic):
            return name
    if len(head) >= 3 and head[0] == 0x5D and head[1:3] == b"\x00\x00":
        return "lzma"
    return None


def _wrap(raw: BinaryIO, kind: str | None) -> BinaryIO:
    if kind == "gzip":
        return cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="rb"))
    if kind == "bzip2":
        return cast(BinaryIO, bz2.BZ2File(raw, "rb"))
    if kind == "xz":
        return cast(BinaryIO, lzma.LZMAFile(raw, "rb", format=lzma.FORMAT_XZ))
    if kind == "lzma":
        return cast(BinaryIO, lzma.LZMAFile(raw, "rb", format=lzma.FORMAT_ALONE))
    if kind == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        return cast(BinaryIO, io.BufferedReader(reader, _CHUNK))
    return raw


def open_compressed(path: str | Path) -> BinaryIO:
    """Open ``path`` for reading, transparently decompressing gz, bz2, xz or zst content.

    Anything else is returned as the plain file. Errors from a corrupt stream surface
    on ``read`` as the library's exception; :func:`read_exact` turns them into InputError.
    """
    name = os.fspath(path)
    try:
        raw = Path(name).open("rb")  # noqa: SIM115 - ownership passes to the caller
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror or exc}", path=name) from exc
    head = raw.peek(6)[:6]
    kind = detect_compression(head)
    if kind in (None, "none", "lzma"):
        return raw
    return _wrap(raw, kind)


def open_payload(raw: BinaryIO, *, source: str, offset: int) -> BinaryIO:
    """A reader of the uncompressed payload that starts at ``raw``'s current position."""
    head = raw.read(6)
    raw.seek(offset)
    kind = detect_compression(head)
    if kind is None:
        raise InputError("unknown payload compression (no known magic)", path=source, offset=offset)
    return _wrap(raw, kind)


def read_exact(stream: BinaryIO, n: int, *, source: str, offset: int, what: str) -> bytes:
    """Read exactly ``n`` bytes (b"" only at a clean end when n > 0 and nothing was read).

    Reads in bounded chunks so that a size claimed by the input is never allocated
    before the bytes really arrive; decompression failures become InputError.
    """
    chunks: list[bytes] = []
    got = 0
    while got < n:
        try:
            chunk = stream.read(min(n - got, _CHUNK))
        except DECOMPRESSION_ERRORS as exc:
            raise InputError(
                f"cannot decompress {what}: {exc}", path=source, offset=offset + got
            ) from exc
        if not chunk:
            if got == 0:
                return b""
            raise InputError(
                f"truncated {what}: {got} of {n} bytes", path=source, offset=offset + got
            )
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
