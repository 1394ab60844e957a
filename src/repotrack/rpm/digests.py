"""Whole-file digests stored in ``PackageHash`` (MD5, SHA-256, BLAKE2b-512), one pass."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from repotrack.errors import InputError

__all__ = ["FileDigests", "file_digests"]

_CHUNK: Final = 1 << 20


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
    name = os.fspath(path)
    try:
        with Path(name).open("rb", buffering=0) as f:
            buf = bytearray(_CHUNK)
            view = memoryview(buf)
            while n := f.readinto(buf):
                part = view[:n]
                md5.update(part)
                sha256.update(part)
                blake.update(part)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=name) from exc
    return FileDigests(md5.digest(), sha256.digest(), blake.digest())
