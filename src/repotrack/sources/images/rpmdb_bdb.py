"""Berkeley DB hash ``Packages`` files (rpm < 4.16, and ALT's rpm to this day), read in Python.

The file is a sequence of pages of ``pagesize`` bytes. Page 0 is the hash metadata:
magic 0x061561 at byte 12 (its byte order gives the file's), version (8..10), page
size, last page number, then ``max_bucket``, ``high_mask``, ``low_mask`` and the 32
``spares`` that map a bucket to its first page (``bucket + spares[log2(bucket)+1]``).
Every page starts with a 26-byte header (page number at 8, next page at 16, item
count at 20, free offset at 22, type at 25). A hash page (type 2 or 13) holds an
index of u16 item offsets after its header, items alternating key and value; an
item's first byte says whether the bytes follow (1, H_KEYDATA) or live on a chain of
overflow pages (3, H_OFFPAGE: page number at +4, total length at +8). Overflow pages
(type 7) carry their share of the bytes after the header, its length in the
free-offset field. This is the layout librpm's own read-only BDB backend walks.

rpm keys its records by a 4-byte instance number (native byte order); record 0
holds the next free instance, not a header, and is skipped.

Berkeley DB writes a hash page only once something is put on it: a freshly
initialised ``Packages`` (``rpm --initdb``, or a first transaction that failed) has
bucket pages that are still holes, all zero bytes (no page number, no type). Berkeley
DB reads such a page as an empty bucket, and so does this reader; only a bucket's
first page may be one, and only when every byte of it is zero.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from repotrack.errors import InputError

__all__ = ["HASH_MAGIC", "iter_bdb_blobs"]

HASH_MAGIC = 0x00061561
_PAGE_HEADER = 26
_HASH_PAGES = frozenset({2, 8, 13})
_OVERFLOW = 7
_KEYDATA = 1
_OFFPAGE = 3
_MAX_PAGE = 65536


class _Db:
    def __init__(self, f: BinaryIO, source: str, file_size: int) -> None:
        self.f = f
        self.source = source
        meta = f.read(512)
        if len(meta) < 512:
            raise InputError("truncated Berkeley DB file (no metadata page)", path=source)
        for order in ("<", ">"):
            if struct.unpack_from(order + "I", meta, 12)[0] == HASH_MAGIC:
                self.order = order
                break
        else:
            raise InputError("not a Berkeley DB hash file (bad magic)", path=source)
        u32 = struct.Struct(self.order + "I")
        version = u32.unpack_from(meta, 16)[0]
        if not 8 <= version <= 10:
            raise InputError(f"unsupported Berkeley DB hash version {version}", path=source)
        self.pagesize = u32.unpack_from(meta, 20)[0]
        if self.pagesize < 512 or self.pagesize > _MAX_PAGE or self.pagesize & (self.pagesize - 1):
            raise InputError(f"bad Berkeley DB page size {self.pagesize}", path=source)
        self.last = u32.unpack_from(meta, 32)[0]
        if (self.last + 1) * self.pagesize > file_size:
            raise InputError(
                f"truncated Berkeley DB file: {self.last + 1} pages of {self.pagesize} bytes "
                f"declared, {file_size} bytes present",
                path=source,
            )
        self.max_bucket, self.high_mask, self.low_mask = struct.unpack_from(
            self.order + "III", meta, 72
        )
        self.spares = struct.unpack_from(self.order + "32I", meta, 96)
        self.u16 = struct.Struct(self.order + "H")
        self.u32 = u32
        # every hash or overflow page belongs to one chain: a page reached twice is damage
        # (it would give the same records twice), and this bounds the work by the file size
        self.seen: set[int] = set()

    def visit(self, number: int) -> None:
        if number in self.seen:
            raise InputError(f"page {number} reached twice", path=self.source)
        self.seen.add(number)

    def page(self, number: int, *, unwritten_ok: bool = False) -> bytes:
        if not 0 < number <= self.last:
            raise InputError(f"page number {number} outside 1..{self.last}", path=self.source)
        self.f.seek(number * self.pagesize)
        page = self.f.read(self.pagesize)
        if unwritten_ok and len(page) == self.pagesize and not any(page):
            return page
        if len(page) != self.pagesize or self.u32.unpack_from(page, 8)[0] != number:
            raise InputError(
                f"damaged Berkeley DB page {number}",
                path=self.source,
                offset=number * self.pagesize,
            )
        return page

    def bucket_page(self, bucket: int) -> int:
        return bucket + int(self.spares[bucket.bit_length()])

    def overflow(self, first: int, length: int) -> bytes:
        parts: list[bytes] = []
        left, number = length, first
        while left > 0:
            self.visit(number)
            page = self.page(number)
            if page[25] != _OVERFLOW:
                raise InputError(f"page {number} is not an overflow page", path=self.source)
            chunk = self.u16.unpack_from(page, 22)[0]
            if chunk == 0 or chunk > left or _PAGE_HEADER + chunk > self.pagesize:
                raise InputError(f"bad overflow page {number}", path=self.source)
            parts.append(page[_PAGE_HEADER : _PAGE_HEADER + chunk])
            left -= chunk
            number = self.u32.unpack_from(page, 16)[0]
        return b"".join(parts)

    def item(self, page: bytes, start: int, end: int, number: int) -> bytes:
        if not _PAGE_HEADER <= start < end <= self.pagesize:
            raise InputError(f"bad item offset on page {number}", path=self.source)
        kind = page[start]
        if kind == _KEYDATA:
            return page[start + 1 : end]
        if kind == _OFFPAGE and end - start >= 12:
            first, length = struct.unpack_from(self.order + "II", page, start + 4)
            return self.overflow(first, length)
        raise InputError(f"unsupported hash item type {kind} on page {number}", path=self.source)

    def records(self) -> Iterator[tuple[bytes, bytes]]:
        for bucket in range(self.max_bucket + 1):
            number, first = self.bucket_page(bucket), True
            while number:
                self.visit(number)
                page = self.page(number, unwritten_ok=first)
                if not any(page):
                    break  # a bucket page never written: an empty bucket
                if page[25] not in _HASH_PAGES:
                    raise InputError(
                        f"bucket {bucket}: page {number} is not a hash page", path=self.source
                    )
                yield from self._page_records(page, number)
                number, first = self.u32.unpack_from(page, 16)[0], False

    def _page_records(self, page: bytes, number: int) -> Iterator[tuple[bytes, bytes]]:
        count = self.u16.unpack_from(page, 20)[0]
        if _PAGE_HEADER + 2 * count > self.pagesize:
            raise InputError(f"bad item count on page {number}", path=self.source)
        offsets = struct.unpack_from(f"{self.order}{count}H", page, _PAGE_HEADER)
        for i in range(0, count - 1, 2):
            key_end = self.pagesize if i == 0 else offsets[i - 1]
            key = self.item(page, offsets[i], key_end, number)
            value = self.item(page, offsets[i + 1], offsets[i], number)
            yield key, value


def iter_bdb_blobs(path: Path, *, source: str) -> Iterator[tuple[int, bytes]]:
    """``(instance, header blob)`` of every package record of a BDB hash ``Packages``."""
    size = path.stat().st_size
    with path.open("rb") as f:
        db = _Db(f, source, size)
        key_order = "<" if db.order == "<" else ">"
        for key, value in db.records():
            if len(key) != 4:
                raise InputError(f"record key of {len(key)} bytes (expected 4)", path=source)
            instance = struct.unpack(key_order + "I", key)[0]
            if instance == 0:
                continue
            yield instance, value
