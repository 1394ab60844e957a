"""Whole-file digests stored in ``PackageHash`` (MD5, SHA-256, BLAKE2b-512), one pass."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from repotrack.errors import InputError
from repotrack.rpm.files_open import open_fd

__all__ = ["CHUNK", "FileDigests", "file_digests", "read_chunks", "read_rest"]

#: Bytes read at a time (one buffer, reused).
CHUNK: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class FileDigests:
    """Raw digest bytes of one file (hex them with ``.hex()``)."""

    md5: bytes
    sha256: bytes
    blake2b: bytes


def file_digests(path: str | Path) -> FileDigests:
    """MD5, SHA-256 and BLAKE2b-512 of the file at ``path``, reading it once in chunks."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    blake = hashlib.blake2b()
    for _position, part in read_chunks(path):
        md5.update(part)
        sha256.update(part)
        blake.update(part)
    return FileDigests(md5.digest(), sha256.digest(), blake.digest())


def read_chunks(path: str | Path) -> Iterator[tuple[int, memoryview]]:
    """``(offset, bytes)`` of the file in 1 MiB chunks, one buffer reused throughout.

    Each chunk is valid only until the next is read. A read error is an InputError
    naming the file.
    """
    name = os.fspath(path)
    position = 0
    try:
        with os.fdopen(open_fd(name), "rb", buffering=0) as f:
            for part in read_rest(f.fileno()):
                yield position, part
                position += len(part)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=name) from exc


def read_rest(fd: int) -> Iterator[memoryview]:
    """The bytes of ``fd`` from its current position to the end, in ``CHUNK`` pieces.

    One buffer is reused: each piece is valid only until the next is read.
    """
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    while n := os.readv(fd, [buf]):
        yield view[:n]
