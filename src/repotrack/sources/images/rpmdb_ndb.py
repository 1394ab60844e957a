"""SUSE's ndb rpmdb (``Packages.db``): a slot table, then checksummed blobs.

Layout (all little-endian u32): a 32-byte file header (``RpmP``, version 0,
generation, number of 4096-byte slot pages, next package index); the rest of the
slot pages is an array of 16-byte slots (``Slot``, package index, block offset, block
count; offset 0 = free). Blocks are 16 bytes. A blob at ``offset*16`` starts with
``BlbS``, the package index, a timestamp and the blob length, then the header blob,
zero padding, and ends (last 12 bytes of its blocks) with an Adler-32 of everything
before it, the length again and ``BlbE``. Every check librpm makes on read is made
here too, so a damaged file is refused rather than half read.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from repotrack.errors import InputError

__all__ = ["NDB_MAGIC", "iter_ndb_blobs"]

NDB_MAGIC = b"RpmP"
_SLOT_MAGIC = b"Slot"
_HEAD_MAGIC = b"BlbS"
_TAIL_MAGIC = b"BlbE"
_PAGE = 4096
_SLOT = 16
_BLOCK = 16
_HEADER = 32
_HEAD = 16
_TAIL = 12


def _slots(f: BinaryIO, source: str, pages: int, file_blocks: int) -> list[tuple[int, int, int]]:
    slots: list[tuple[int, int, int]] = []
    first_data = pages * (_PAGE // _BLOCK)
    table = f.read(pages * _PAGE)
    if len(table) != pages * _PAGE:
        raise InputError("truncated ndb slot table", path=source)
    for pos in range(_HEADER, pages * _PAGE, _SLOT):
        magic, index, offset, count = struct.unpack_from("<4sIII", table, pos)
        if magic != _SLOT_MAGIC:
            raise InputError("bad ndb slot magic", path=source, offset=pos)
        if offset == 0:
            continue
        if not index or not count or offset < first_data or offset + count > file_blocks:
            raise InputError(f"bad ndb slot for package {index}", path=source, offset=pos)
        slots.append((index, offset, count))
    return sorted(slots, key=lambda s: s[1])


def iter_ndb_blobs(path: Path, *, source: str) -> Iterator[tuple[int, bytes]]:
    """``(package index, header blob)`` of every package in ``Packages.db``, in file order."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(_HEADER)
        if len(head) < _HEADER or head[:4] != NDB_MAGIC:
            raise InputError("not an ndb rpmdb (bad magic)", path=source)
        version, _generation, pages, _next = struct.unpack_from("<IIII", head, 4)
        if version != 0:
            raise InputError(f"unsupported ndb version {version}", path=source)
        if pages < 1 or size % _BLOCK or pages * _PAGE > size:
            raise InputError("truncated or damaged ndb file", path=source)
        f.seek(0)
        for index, offset, count in _slots(f, source, pages, size // _BLOCK):
            f.seek(offset * _BLOCK)
            yield index, _blob(f.read(count * _BLOCK), index, source, offset * _BLOCK)


def _blob(raw: bytes, index: int, source: str, at: int) -> bytes:
    if len(raw) < _HEAD + _TAIL:
        raise InputError(f"ndb blob of package {index} is truncated", path=source, offset=at)
    magic, got_index, _stamp, length = struct.unpack_from("<4sIII", raw, 0)
    if magic != _HEAD_MAGIC or got_index != index:
        raise InputError(f"bad ndb blob head for package {index}", path=source, offset=at)
    if (_HEAD + length + _TAIL + _BLOCK - 1) // _BLOCK * _BLOCK != len(raw):
        raise InputError(f"ndb blob length mismatch for package {index}", path=source, offset=at)
    adler, tail_length, tail_magic = struct.unpack_from("<II4s", raw, len(raw) - _TAIL)
    if tail_magic != _TAIL_MAGIC or tail_length != length:
        raise InputError(f"bad ndb blob tail for package {index}", path=source, offset=at)
    if zlib.adler32(raw[: len(raw) - _TAIL]) != adler:
        raise InputError(f"ndb blob checksum mismatch for package {index}", path=source, offset=at)
    return raw[_HEAD : _HEAD + length]
