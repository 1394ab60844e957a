"""zisofs: files an ISO 9660 image stores zlib-compressed, marked by a Rock Ridge ZF entry.

The ZF entry (``pz`` algorithm) gives the real size. The stored bytes start with a
16-byte header (magic ``37 E4 53 96 C9 DB D6 07``, uncompressed size, header size / 4,
log2 of the block size), then a table of block-count + 1 little-endian u32 offsets
from the start of the stored file: block ``i`` is the zlib stream between offsets
``i`` and ``i + 1``, or zeros when the two are equal. ``ZisofsFile`` reads such a file
with random access, one block decompressed at a time, never past the block size.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

from repotrack.errors import InputError
from repotrack.sources.images.window import SizedReader

__all__ = ["ZISOFS_MAGIC", "ZisofsFile"]

ZISOFS_MAGIC = bytes.fromhex("37e45396c9dbd607")


class ZisofsFile(SizedReader):
    """The uncompressed bytes of a zisofs file whose stored bytes are ``stored``."""

    def __init__(self, stored: BinaryIO, stored_size: int, size: int, *, name: str) -> None:
        super().__init__(size)
        self._stored = stored
        self._name = name
        stored.seek(0)
        header = stored.read(16)
        if len(header) < 16 or header[:8] != ZISOFS_MAGIC:
            raise InputError("zisofs file without its header", path=name)
        declared, header_div4, block_log = struct.unpack_from("<IBB", header, 8)
        if declared != size or header_div4 < 4 or not 15 <= block_log <= 17:
            raise InputError("damaged zisofs header", path=name)
        self._block = 1 << block_log
        blocks = (size + self._block - 1) // self._block
        stored.seek(header_div4 * 4)
        table = stored.read(4 * (blocks + 1))
        if len(table) != 4 * (blocks + 1):
            raise InputError("truncated zisofs block table", path=name)
        self._offsets = struct.unpack(f"<{blocks + 1}I", table)
        if any(b < a for a, b in zip(self._offsets, self._offsets[1:], strict=False)) or (
            self._offsets[-1] > stored_size
        ):
            raise InputError("damaged zisofs block table", path=name)
        self._cached: tuple[int, bytes] = (-1, b"")

    def _data(self, index: int) -> bytes:
        if self._cached[0] == index:
            return self._cached[1]
        want = min(self._block, self._size - index * self._block)
        start, end = self._offsets[index], self._offsets[index + 1]
        if start == end:
            data = bytes(want)
        else:
            self._stored.seek(start)
            raw = self._stored.read(end - start)
            try:
                data = zlib.decompressobj().decompress(raw, want)
            except zlib.error as exc:
                raise InputError(f"corrupt zisofs block: {exc}", path=self._name) from exc
            if len(data) != want:
                raise InputError("a zisofs block is short", path=self._name)
        self._cached = (index, data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._pos >= self._size or not len(view):
            return 0
        index, inner = divmod(self._pos, self._block)
        data = self._data(index)[inner : inner + len(view)]
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)
