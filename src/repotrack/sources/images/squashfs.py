"""SquashFS 4.0 read in user space: superblock, metadata blocks, inodes, directories, data.

Layout (little-endian): a 96-byte superblock (magic ``hsqs``, block size, compressor,
and the absolute offsets of the inode, directory, fragment and id tables). Inodes
and directory listings live in metadata blocks of at most 8 KiB, each preceded by a
u16 whose high bit marks it stored uncompressed. An inode is addressed by
``(block << 16) | offset`` relative to the inode table. A directory listing is a
series of headers (entry count - 1, inode block, base inode number) followed by
entries (offset in that block, inode number delta, type, name length - 1, name).
A file's data is a run of blocks (sizes listed in its inode; bit 24 = stored
uncompressed, 0 = a sparse block) and an optional tail in a fragment block.

Compressors: gzip (zlib), xz and lzma (the standard library), zstd (``zstandard``),
lz4 (``lz4``: raw LZ4 blocks, as squashfs-tools writes them, HC or not) and lzo
(LZO1X blocks, decoded by our own ``lzo`` module). Each block is decompressed into
at most the size it may have (8 KiB of metadata, one data block), so a crafted block
cannot grow past it.
Any structure that
does not add up (an inode of unknown type, an offset outside its table, a block
that decompresses to too much) is an InputError naming the image.
"""

from __future__ import annotations

import lzma
import stat
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import lz4.block  # type: ignore[import-untyped]
import zstandard

from repotrack.errors import InputError
from repotrack.sources.images.lzo import LzoError, lzo1x_decompress
from repotrack.sources.images.tree import TreeEntry, resolve_path

__all__ = ["SQUASHFS_MAGIC", "SquashFs", "is_squashfs"]

SQUASHFS_MAGIC = b"hsqs"
_META_MAX = 8192
_NO_FRAGMENT = 0xFFFFFFFF
_UNCOMPRESSED_BLOCK = 1 << 24
_COMPRESSORS = {1: "gzip", 2: "lzma", 3: "lzo", 4: "xz", 5: "lz4", 6: "zstd"}
_SUPPORTED = ("gzip", "lzma", "xz", "zstd", "lz4", "lzo")
_DIR_TYPES = frozenset({1, 8})
_FILE_TYPES = frozenset({2, 9})
_LINK_TYPES = frozenset({3, 10})
_KINDS = {
    1: "directory",
    2: "file",
    3: "symlink",
    4: "block",
    5: "char",
    6: "fifo",
    7: "socket",
}
_IFMT = {
    "directory": stat.S_IFDIR,
    "file": stat.S_IFREG,
    "symlink": stat.S_IFLNK,
    "block": stat.S_IFBLK,
    "char": stat.S_IFCHR,
    "fifo": stat.S_IFIFO,
    "socket": stat.S_IFSOCK,
}
_CACHE_BLOCKS = 4096


def is_squashfs(f: BinaryIO) -> bool:
    f.seek(0)
    return f.read(4) == SQUASHFS_MAGIC


class _Inode:
    __slots__ = (
        "block_count",
        "block_list",
        "blocks_start",
        "dir_block",
        "dir_offset",
        "dir_size",
        "frag_index",
        "frag_offset",
        "gid",
        "kind",
        "mode",
        "mtime",
        "number",
        "size",
        "target",
        "uid",
    )

    def __init__(self) -> None:
        self.block_count = 0
        self.block_list = (0, 0)  # (metadata block, offset) where the block sizes start
        self.blocks_start = self.dir_block = self.dir_offset = self.dir_size = 0
        self.frag_index = _NO_FRAGMENT
        self.frag_offset = self.size = self.mtime = self.number = 0
        self.uid = self.gid = self.mode = 0
        self.kind = ""
        self.target = ""


class SquashFs:
    """One SquashFS image in the seekable ``f`` (a file, or a Window inside an ISO)."""

    def __init__(self, f: BinaryIO, *, name: str) -> None:
        self.f = f
        self.name = name
        f.seek(0, 2)
        self.file_size = f.tell()
        f.seek(0)
        sb = f.read(96)
        if len(sb) < 96 or sb[:4] != SQUASHFS_MAGIC:
            raise InputError("not a SquashFS image (bad magic)", path=name)
        (
            _magic,
            self.inode_count,
            self.mtime,
            self.block_size,
            self.frag_count,
            compressor,
            _block_log,
            self.flags,
            self.id_count,
            major,
            minor,
        ) = struct.unpack_from("<4sIIIIHHHHHH", sb, 0)
        (
            self.root_ref,
            self.bytes_used,
            self.id_table,
            _xattr,
            self.inode_table,
            self.dir_table,
            self.frag_table,
            _export,
        ) = struct.unpack_from("<8Q", sb, 32)
        if (major, minor) != (4, 0):
            raise InputError(f"unsupported SquashFS version {major}.{minor}", path=name)
        if self.bytes_used > self.file_size:
            raise InputError(
                f"truncated SquashFS image: {self.bytes_used} bytes used, {self.file_size} present",
                path=name,
            )
        if not 4096 <= self.block_size <= 1 << 20:
            raise InputError(f"bad SquashFS block size {self.block_size}", path=name)
        self.compressor = _COMPRESSORS.get(compressor, f"#{compressor}")
        if self.compressor not in _SUPPORTED:
            raise InputError(f"{self.compressor} compression is not supported", path=name)
        for table in (self.inode_table, self.dir_table, self.id_table):
            if table >= self.bytes_used:
                raise InputError("SquashFS table offset past the end of the image", path=name)
        self._zstd = zstandard.ZstdDecompressor() if self.compressor == "zstd" else None
        self._meta_cache: dict[int, tuple[bytes, int]] = {}
        self.ids = self._lookup_table(self.id_table, self.id_count, 4, "<I")
        self._fragments: list[tuple[int, int]] | None = None

    # -- raw blocks ----------------------------------------------------------------------
    def _decompress(self, data: bytes, limit: int) -> bytes:
        try:
            if self.compressor == "gzip":
                d = zlib.decompressobj()
                out = d.decompress(data, limit + 1)
            elif self.compressor == "xz":
                out = lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(data, limit + 1)
            elif self.compressor == "lzma":
                out = lzma.LZMADecompressor(lzma.FORMAT_ALONE).decompress(data, limit + 1)
            elif self.compressor == "lz4":
                # into a buffer of ``limit`` bytes: a longer block is an error, not a copy
                out = lz4.block.decompress(data, uncompressed_size=limit)
            elif self.compressor == "lzo":
                out = lzo1x_decompress(data, limit)
            else:
                assert self._zstd is not None
                out = self._zstd.decompress(data, max_output_size=limit + 1)
        except (
            zlib.error,
            lzma.LZMAError,
            zstandard.ZstdError,
            lz4.block.LZ4BlockError,
            LzoError,
        ) as exc:
            raise InputError(f"corrupt {self.compressor} block: {exc}", path=self.name) from exc
        if len(out) > limit:
            raise InputError("a SquashFS block decompresses past its size limit", path=self.name)
        return out

    def _read_at(self, position: int, n: int) -> bytes:
        if position < 0 or position + n > self.bytes_used:
            raise InputError(
                f"read past the end of the SquashFS image at {position}", path=self.name
            )
        self.f.seek(position)
        data = self.f.read(n)
        if len(data) != n:
            raise InputError("truncated SquashFS image", path=self.name, offset=position)
        return data

    def _meta_block(self, position: int) -> tuple[bytes, int]:
        """The metadata block at ``position``: its bytes and where the next one starts."""
        cached = self._meta_cache.get(position)
        if cached is not None:
            return cached
        (header,) = struct.unpack("<H", self._read_at(position, 2))
        size = header & 0x7FFF
        if size == 0 or size > _META_MAX:
            raise InputError(f"bad metadata block header at {position}", path=self.name)
        raw = self._read_at(position + 2, size)
        data = raw if header & 0x8000 else self._decompress(raw, _META_MAX)
        if len(self._meta_cache) >= _CACHE_BLOCKS:
            self._meta_cache.clear()
        self._meta_cache[position] = (data, position + 2 + size)
        return data, position + 2 + size

    def _meta_read(
        self, position: int, offset: int, n: int, *, end: int | None = None
    ) -> tuple[bytes, int, int]:
        """``n`` bytes of metadata from ``offset`` in the block at ``position`` onwards.

        Returns them with the (block, offset) just after them, so callers read on.
        With ``end``, the bytes must come from metadata blocks that start before it
        (the inode table's blocks end where the directory table starts).
        """
        parts: list[bytes] = []
        while n > 0:
            if end is not None and position >= end:
                raise InputError("metadata runs past the end of its table", path=self.name)
            data, following = self._meta_block(position)
            if offset > len(data):
                raise InputError("metadata reference past its block", path=self.name)
            chunk = data[offset : offset + n]
            parts.append(chunk)
            n -= len(chunk)
            offset += len(chunk)
            if offset >= len(data):
                position, offset = following, 0
        return b"".join(parts), position, offset

    def _lookup_table(self, start: int, count: int, width: int, fmt: str) -> list[int]:
        if count == 0:
            return []
        blocks = (count * width + _META_MAX - 1) // _META_MAX
        pointers = struct.unpack(f"<{blocks}Q", self._read_at(start, 8 * blocks))
        raw = b"".join(self._meta_block(p)[0] for p in pointers)
        if len(raw) < count * width:
            raise InputError("truncated SquashFS lookup table", path=self.name)
        return [v[0] for v in struct.iter_unpack(fmt, raw[: count * width])]

    def _fragment(self, index: int) -> tuple[int, int]:
        if self._fragments is None:
            entries = self._lookup_table(self.frag_table, self.frag_count * 2, 8, "<Q")
            self._fragments = [
                (entries[2 * i], entries[2 * i + 1] & 0xFFFFFFFF) for i in range(self.frag_count)
            ]
        if index >= len(self._fragments):
            raise InputError(f"fragment {index} out of range", path=self.name)
        return self._fragments[index]

    # -- inodes --------------------------------------------------------------------------
    def inode(self, ref: int) -> _Inode:
        block, offset = ref >> 16, ref & 0xFFFF
        position = self.inode_table + block
        if position >= self.dir_table or offset >= _META_MAX:
            raise InputError(f"bad inode reference {ref:#x}", path=self.name)
        head, position, offset = self._meta_read(position, offset, 16)
        kind_code, mode, uid_idx, gid_idx, mtime, number = struct.unpack("<HHHHII", head)
        base = kind_code - 7 if kind_code > 7 else kind_code
        if base not in _KINDS:
            raise InputError(f"inode {number} has unknown type {kind_code}", path=self.name)
        if uid_idx >= len(self.ids) or gid_idx >= len(self.ids):
            raise InputError(f"inode {number} has a bad owner index", path=self.name)
        inode = _Inode()
        inode.kind = _KINDS[base]
        inode.mode = _IFMT[inode.kind] | (mode & 0o7777)
        inode.uid, inode.gid = self.ids[uid_idx], self.ids[gid_idx]
        inode.mtime, inode.number = mtime, number

        def take(n: int) -> bytes:
            nonlocal position, offset
            data, position, offset = self._meta_read(position, offset, n)
            return data

        if kind_code == 1:
            start, _links, size, dir_offset, _parent = struct.unpack("<IIHHI", take(16))
            inode.dir_block, inode.dir_offset, inode.dir_size = start, dir_offset, size
        elif kind_code == 8:
            _links, size, start, _parent, _count, dir_offset, _x = struct.unpack(
                "<IIIIHHI", take(24)
            )
            inode.dir_block, inode.dir_offset, inode.dir_size = start, dir_offset, size
        elif kind_code in _FILE_TYPES:
            if kind_code == 2:
                inode.blocks_start, inode.frag_index, inode.frag_offset, inode.size = struct.unpack(
                    "<IIII", take(16)
                )
            else:
                start, size, _sparse, _links, frag, frag_off, _x = struct.unpack(
                    "<QQQIIII", take(40)
                )
                inode.blocks_start, inode.size = start, size
                inode.frag_index, inode.frag_offset = frag, frag_off
            full, tail = divmod(inode.size, self.block_size)
            count = full if inode.frag_index != _NO_FRAGMENT else full + (tail > 0)
            # The block sizes (4 bytes each) follow the inode in the inode table and are
            # read as the data is (a sparse file of terabytes has megabytes of them, in a
            # small image). A metadata block holds at most 8 KiB and takes at least 3
            # bytes of the table, which bounds what the rest of the table can list.
            room = ((self.dir_table - position) // 3 + 1) * _META_MAX
            if 4 * count > room:
                raise InputError(f"inode {number} claims an absurd size", path=self.name)
            inode.block_count, inode.block_list = count, (position, offset)
        elif kind_code in _LINK_TYPES:
            _links, target_size = struct.unpack("<II", take(8))
            if target_size > 4096:
                raise InputError(f"inode {number}: symlink target too long", path=self.name)
            inode.target = take(target_size).decode("utf-8", "surrogateescape")
            inode.size = target_size
        return inode

    # -- directories and data ------------------------------------------------------------
    def entries(self, directory: _Inode) -> Iterator[tuple[str, int]]:
        if directory.kind != "directory":
            return
        left = directory.dir_size - 3
        position, offset = self.dir_table + directory.dir_block, directory.dir_offset
        while left > 0:
            head, position, offset = self._meta_read(position, offset, 12)
            count, start, _base = struct.unpack("<III", head)
            left -= 12
            if count >= 256:
                raise InputError("damaged directory header", path=self.name)
            for _ in range(count + 1):
                raw, position, offset = self._meta_read(position, offset, 8)
                entry_offset, _delta, _kind, name_size = struct.unpack("<HhHH", raw)
                name, position, offset = self._meta_read(position, offset, name_size + 1)
                left -= 8 + name_size + 1
                yield name.decode("utf-8", "surrogateescape"), (start << 16) | entry_offset

    def _block_sizes(self, inode: _Inode) -> Iterator[int]:
        """The size words of the file's data blocks, read from the inode table in chunks."""
        position, offset = inode.block_list
        left = inode.block_count
        while left > 0:
            n = min(left, 2048)
            raw, position, offset = self._meta_read(position, offset, 4 * n, end=self.dir_table)
            yield from struct.unpack(f"<{n}I", raw)
            left -= n

    def iter_bytes(self, inode: _Inode) -> Iterator[bytes]:
        position = inode.blocks_start
        left = inode.size
        for size_word in self._block_sizes(inode):
            size = size_word & ~_UNCOMPRESSED_BLOCK
            expect = min(self.block_size, left)
            if size == 0:
                yield bytes(expect)
            else:
                raw = self._read_at(position, size)
                data = (
                    raw
                    if size_word & _UNCOMPRESSED_BLOCK
                    else self._decompress(raw, self.block_size)
                )
                if len(data) < expect:
                    raise InputError(f"short data block in inode {inode.number}", path=self.name)
                yield data[:expect]
                position += size
            left -= expect
        if left > 0:
            if inode.frag_index == _NO_FRAGMENT:
                raise InputError(f"inode {inode.number} is missing data", path=self.name)
            start, size_word = self._fragment(inode.frag_index)
            size = size_word & ~_UNCOMPRESSED_BLOCK
            raw = self._read_at(start, size)
            data = (
                raw if size_word & _UNCOMPRESSED_BLOCK else self._decompress(raw, self.block_size)
            )
            tail = data[inode.frag_offset : inode.frag_offset + left]
            if len(tail) != left:
                raise InputError(f"bad fragment of inode {inode.number}", path=self.name)
            yield tail

    def _child(self, directory: _Inode, name: str) -> _Inode | None:
        for entry, ref in self.entries(directory):
            if entry == name:
                return self.inode(ref)
        return None

    @staticmethod
    def _link_target(inode: _Inode) -> str | None:
        return inode.target if inode.kind == "symlink" else None

    def _resolve(self, path: str) -> _Inode | None:
        return resolve_path(
            path,
            self.inode(self.root_ref),
            child=self._child,
            link_target=self._link_target,
            source=self.name,
        )

    @staticmethod
    def _entry(path: str, inode: _Inode) -> TreeEntry:
        return TreeEntry(
            path=path,
            kind=inode.kind,
            mode=inode.mode,
            uid=inode.uid,
            gid=inode.gid,
            size=inode.size if inode.kind == "file" else 0,
            mtime=inode.mtime,
            linkto=inode.target,
        )

    # -- FileTree ------------------------------------------------------------------------
    def lookup(self, path: str) -> TreeEntry | None:
        inode = self._resolve(path)
        return None if inode is None else self._entry(path, inode)

    def copy_out(self, path: str, dest: BinaryIO) -> int:
        inode = self._resolve(path)
        if inode is None or inode.kind != "file":
            raise InputError(f"no regular file /{path.lstrip('/')}", path=self.name)
        written = 0
        for chunk in self.iter_bytes(inode):
            dest.write(chunk)
            written += len(chunk)
        return written

    def walk(self) -> Iterator[TreeEntry]:
        for path, inode in self.walk_inodes():
            yield self._entry(path, inode)

    def walk_inodes(self) -> Iterator[tuple[str, _Inode]]:
        """``(absolute path, inode)`` of everything below the root, parents first."""
        stack: list[tuple[str, _Inode]] = [("", self.inode(self.root_ref))]
        while stack:
            prefix, directory = stack.pop()
            for name, ref in self.entries(directory):
                inode = self.inode(ref)
                path = f"{prefix}/{name}"
                yield path, inode
                if inode.kind == "directory":
                    stack.append((path, inode))
