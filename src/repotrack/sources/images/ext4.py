"""ext2/3/4 read in user space: superblock, group descriptors, inodes, extents, directories.

Enough of the on-disk format to find files by path and copy them out, read-only,
from a file system that starts at ``offset`` of an image file (a partition):

- superblock at byte 1024 (magic 0xEF53 at 56), block size ``1024 << s_log_block_size``;
- group descriptors in the block after the superblock's, 32 bytes each (or
  ``s_desc_size`` with the 64bit feature), giving each group's inode table;
- inodes of ``s_inode_size`` bytes: mode, uid/gid (low and high halves), size,
  mtime (signed seconds, extended past 2038 by the epoch bits of ``i_mtime_extra``
  when the inode is large enough to hold it), flags, and ``i_block``: an extent tree
  (flag 0x80000, header magic 0xF30A) or the classic 12 direct + indirect, double and
  triple indirect block map;
- directories as linear ``ext4_dir_entry_2`` records; hashed (htree) directories keep
  their index in entries that look empty to a linear scan, so every name is found.

Features it cannot read (inline data, meta_bg, encryption) are refused with an
InputError naming the image, never guessed around. Unallocated extents and holes
read as zeros, as the kernel returns them.
"""

from __future__ import annotations

import stat
import struct
from collections.abc import Iterator
from typing import BinaryIO

from repotrack.errors import InputError
from repotrack.sources.images.tree import TreeEntry, resolve_path

__all__ = ["EXT_MAGIC", "ExtFileSystem", "is_ext"]

EXT_MAGIC = 0xEF53
_SUPERBLOCK = 1024
_ROOT_INODE = 2
_EXTENTS_FL = 0x80000
_INLINE_DATA_FL = 0x10000000
_ENCRYPT_FL = 0x800
_EXTENT_MAGIC = 0xF30A
_INCOMPAT_FILETYPE = 0x2
_INCOMPAT_META_BG = 0x10
_INCOMPAT_64BIT = 0x80
_INCOMPAT_INLINE_DATA = 0x8000
_MAX_DIR_BYTES = 256 << 20
#: The bytes of an inode read: the 128 of the original layout and the extra fields up
#: to i_mtime_extra.
_INODE_READ = 0x8C
_KINDS = {
    stat.S_IFREG: "file",
    stat.S_IFDIR: "directory",
    stat.S_IFLNK: "symlink",
    stat.S_IFCHR: "char",
    stat.S_IFBLK: "block",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
}


def is_ext(f: BinaryIO, offset: int = 0) -> bool:
    """Whether an ext2/3/4 superblock starts at ``offset``."""
    f.seek(offset + _SUPERBLOCK + 56)
    raw = f.read(2)
    return len(raw) == 2 and struct.unpack("<H", raw)[0] == EXT_MAGIC


class _Inode:
    __slots__ = ("block", "flags", "gid", "mode", "mtime", "number", "size", "uid")

    def __init__(self, number: int, raw: bytes) -> None:
        self.number = number
        self.mode = struct.unpack_from("<H", raw, 0)[0]
        uid_lo, size_lo, _atime, _ctime, mtime, _dtime, gid_lo = struct.unpack_from(
            "<HIIIiIH", raw, 2
        )
        self.flags = struct.unpack_from("<I", raw, 32)[0]
        self.block = raw[40:100]
        size_hi = struct.unpack_from("<I", raw, 108)[0]
        uid_hi, gid_hi = struct.unpack_from("<HH", raw, 120)
        self.size = size_lo | (size_hi << 32)
        # i_mtime is signed (before 1970 is negative); where the inode's extra fields
        # reach i_mtime_extra (at 0x88), its low two bits add multiples of 2**32, as the
        # kernel and debugfs decode them.
        if len(raw) >= 0x8C and struct.unpack_from("<H", raw, 0x80)[0] >= 0x8C - 0x80:
            mtime += (struct.unpack_from("<I", raw, 0x88)[0] & 3) << 32
        self.mtime = mtime
        self.uid = uid_lo | (uid_hi << 16)
        self.gid = gid_lo | (gid_hi << 16)

    @property
    def kind(self) -> str:
        return _KINDS.get(stat.S_IFMT(self.mode), "unknown")


class ExtFileSystem:
    """One ext2/3/4 file system inside ``f``, starting at byte ``offset``."""

    def __init__(self, f: BinaryIO, *, name: str, offset: int = 0, size: int | None = None) -> None:
        self.f = f
        self.name = name
        self.offset = offset
        f.seek(0, 2)
        self.limit = f.tell() if size is None else offset + size
        sb = self._read_abs(offset + _SUPERBLOCK, 1024, what="superblock")
        if struct.unpack_from("<H", sb, 56)[0] != EXT_MAGIC:
            raise InputError("no ext2/3/4 superblock (bad magic)", path=name, offset=offset + 1080)
        (
            self.inodes_count,
            blocks_lo,
            _r,
            _free_b,
            _free_i,
            self.first_data_block,
            log_block,
        ) = struct.unpack_from("<IIIIIII", sb, 0)
        if log_block > 6:
            raise InputError(f"bad block size exponent {log_block}", path=name)
        self.block_size = 1024 << log_block
        self.inodes_per_group = struct.unpack_from("<I", sb, 40)[0]
        rev = struct.unpack_from("<I", sb, 76)[0]
        self.inode_size = struct.unpack_from("<H", sb, 88)[0] if rev >= 1 else 128
        incompat = struct.unpack_from("<I", sb, 96)[0]
        self.filetype = bool(incompat & _INCOMPAT_FILETYPE)
        if incompat & _INCOMPAT_META_BG:
            raise InputError("ext4 meta_bg layout is not supported", path=name)
        if incompat & _INCOMPAT_INLINE_DATA:
            raise InputError("ext4 inline_data is not supported", path=name)
        wide = bool(incompat & _INCOMPAT_64BIT)
        self.desc_size = struct.unpack_from("<H", sb, 254)[0] if wide else 32
        blocks_hi = struct.unpack_from("<I", sb, 0x150)[0] if wide else 0
        self.blocks_count = blocks_lo | (blocks_hi << 32)
        if self.inodes_per_group == 0 or self.inode_size < 128 or self.desc_size < 32:
            raise InputError("damaged ext superblock", path=name)
        if self.offset + self.blocks_count * self.block_size > self.limit:
            raise InputError(
                f"file system of {self.blocks_count * self.block_size} bytes does not fit "
                f"in the {self.limit - self.offset} bytes available (truncated image?)",
                path=name,
                offset=offset,
            )
        self.wide = wide
        groups = (self.inodes_count + self.inodes_per_group - 1) // self.inodes_per_group
        table = self._read_abs(
            self._block_pos(self.first_data_block + 1), groups * self.desc_size, what="group table"
        )
        self.inode_tables = [self._inode_table(table, g) for g in range(groups)]

    # -- raw access ------------------------------------------------------------------
    def _read_abs(self, position: int, n: int, *, what: str) -> bytes:
        if position < self.offset or position + n > self.limit:
            raise InputError(
                f"{what} lies outside the file system", path=self.name, offset=position
            )
        self.f.seek(position)
        data = self.f.read(n)
        if len(data) != n:
            raise InputError(f"truncated image reading the {what}", path=self.name, offset=position)
        return data

    def _block_pos(self, block: int) -> int:
        return int(self.offset + block * self.block_size)

    def _block(self, block: int) -> bytes:
        if block >= self.blocks_count:
            raise InputError(f"block {block} past the end of the file system", path=self.name)
        return self._read_abs(self._block_pos(block), self.block_size, what=f"block {block}")

    def _inode_table(self, table: bytes, group: int) -> int:
        base = group * self.desc_size
        lo = struct.unpack_from("<I", table, base + 8)[0]
        hi = (
            struct.unpack_from("<I", table, base + 0x28)[0]
            if self.wide and self.desc_size >= 64
            else 0
        )
        return int(lo | (hi << 32))

    def inode(self, number: int) -> _Inode:
        if not 1 <= number <= self.inodes_count:
            raise InputError(f"inode number {number} out of range", path=self.name)
        group, index = divmod(number - 1, self.inodes_per_group)
        position = self._block_pos(self.inode_tables[group]) + index * self.inode_size
        length = min(self.inode_size, _INODE_READ)
        inode = _Inode(number, self._read_abs(position, length, what=f"inode {number}"))
        if inode.flags & _ENCRYPT_FL:
            raise InputError(f"inode {number} is encrypted", path=self.name)
        return inode

    # -- file contents ---------------------------------------------------------------
    def _runs(self, inode: _Inode) -> Iterator[tuple[int, int, int]]:
        """``(logical block, physical block or 0 for a hole, count)`` in logical order."""
        if inode.flags & _INLINE_DATA_FL:
            raise InputError(f"inode {inode.number} has inline data (unsupported)", path=self.name)
        if inode.flags & _EXTENTS_FL:
            yield from self._extent_runs(inode.block, depth_limit=5)
        else:
            yield from self._map_runs(inode)

    def _extent_runs(self, node: bytes, *, depth_limit: int) -> Iterator[tuple[int, int, int]]:
        magic, entries, _max, depth = struct.unpack_from("<HHHH", node, 0)
        if magic != _EXTENT_MAGIC or 12 + 12 * entries > len(node) or depth_limit < 0:
            raise InputError("damaged extent tree", path=self.name)
        for i in range(entries):
            pos = 12 + 12 * i
            if depth == 0:
                logical, length, start_hi, start_lo = struct.unpack_from("<IHHI", node, pos)
                unwritten = length > 32768
                count = length - 32768 if unwritten else length
                physical = 0 if unwritten else start_lo | (start_hi << 32)
                yield logical, physical, count
            else:
                _logical, leaf_lo, leaf_hi = struct.unpack_from("<IIH", node, pos)
                child = self._block(leaf_lo | (leaf_hi << 32))
                yield from self._extent_runs(child, depth_limit=depth_limit - 1)

    def _map_runs(self, inode: _Inode) -> Iterator[tuple[int, int, int]]:
        pointers = struct.unpack_from("<15I", inode.block, 0)
        per_block = self.block_size // 4
        needed = (inode.size + self.block_size - 1) // self.block_size
        logical = 0
        for block in pointers[:12]:
            if logical >= needed:
                return
            yield logical, block, 1
            logical += 1
        for level, block in enumerate(pointers[12:], start=1):
            span = per_block**level
            if logical >= needed:
                return
            if block == 0:
                yield logical, 0, min(span, needed - logical)
                logical += span
                continue
            yield from self._indirect(block, level, logical, needed)
            logical += span

    def _indirect(
        self, block: int, level: int, logical: int, needed: int
    ) -> Iterator[tuple[int, int, int]]:
        per_block = self.block_size // 4
        span = per_block ** (level - 1)
        for pointer in struct.unpack(f"<{per_block}I", self._block(block)):
            if logical >= needed:
                return
            if level == 1 or pointer == 0:
                yield logical, pointer, min(span, needed - logical)
            else:
                yield from self._indirect(pointer, level - 1, logical, needed)
            logical += span

    def iter_bytes(self, inode: _Inode) -> Iterator[bytes]:
        """The file's bytes in chunks of at most 1 MiB."""
        left = inode.size
        position = 0  # logical byte reached so far
        chunk_blocks = max(1, (1 << 20) // self.block_size)
        for logical, physical, count in sorted(self._runs(inode)):
            start = logical * self.block_size
            if start >= inode.size:
                break
            if start > position:  # a hole before this run
                gap = min(start - position, left)
                yield from _zeros(gap)
                left -= gap
                position = start
            for first in range(0, count, chunk_blocks):
                n = min(chunk_blocks, count - first) * self.block_size
                n = min(n, left)
                if n <= 0:
                    break
                if physical == 0:
                    yield bytes(n)
                else:
                    if (
                        physical + first + (n + self.block_size - 1) // self.block_size
                        > self.blocks_count
                    ):
                        raise InputError("extent past the end of the file system", path=self.name)
                    yield self._read_abs(self._block_pos(physical + first), n, what="file data")
                left -= n
                position += n
        if left > 0:
            yield from _zeros(left)

    def read_all(self, inode: _Inode, limit: int) -> bytes:
        if inode.size > limit:
            raise InputError(
                f"inode {inode.number} is too large ({inode.size} bytes)", path=self.name
            )
        return b"".join(self.iter_bytes(inode))

    # -- directories and paths -------------------------------------------------------
    def entries(self, directory: _Inode) -> Iterator[tuple[str, int]]:
        data = self.read_all(directory, _MAX_DIR_BYTES)
        pos = 0
        while pos + 8 <= len(data):
            number, rec_len, name_len = struct.unpack_from("<IHB", data, pos)
            if rec_len < 8 or pos + rec_len > len(data):
                raise InputError(
                    f"damaged directory entry in inode {directory.number}", path=self.name
                )
            if not self.filetype:
                name_len |= data[pos + 7] << 8
            if number and name_len:
                name = data[pos + 8 : pos + 8 + name_len].decode("utf-8", "surrogateescape")
                if name not in (".", ".."):
                    yield name, number
            pos += rec_len

    def _child(self, directory: _Inode, name: str) -> _Inode | None:
        if directory.kind != "directory":
            return None
        for entry, number in self.entries(directory):
            if entry == name:
                return self.inode(number)
        return None

    def _link_target(self, inode: _Inode) -> str | None:
        if inode.kind != "symlink":
            return None
        if inode.size < 60 and not inode.flags & _EXTENTS_FL:
            # A fast symlink: the target sits in i_block itself.
            return inode.block[: inode.size].decode("utf-8", "surrogateescape")
        return self.read_all(inode, 4096).decode("utf-8", "surrogateescape")

    def _entry(self, path: str, inode: _Inode) -> TreeEntry:
        return TreeEntry(
            path=path,
            kind=inode.kind,
            mode=inode.mode,
            uid=inode.uid,
            gid=inode.gid,
            size=inode.size,
            mtime=inode.mtime,
            linkto=(self._link_target(inode) or "") if inode.kind == "symlink" else "",
        )

    def _resolve(self, path: str) -> _Inode | None:
        return resolve_path(
            path,
            self.inode(_ROOT_INODE),
            child=self._child,
            link_target=self._link_target,
            source=self.name,
        )

    # -- FileTree --------------------------------------------------------------------
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
        stack: list[tuple[str, _Inode]] = [("", self.inode(_ROOT_INODE))]
        while stack:
            prefix, directory = stack.pop()
            for name, number in sorted(self.entries(directory)):
                inode = self.inode(number)
                path = f"{prefix}/{name}"
                yield self._entry(path, inode)
                if inode.kind == "directory":
                    stack.append((path, inode))


def _zeros(n: int) -> Iterator[bytes]:
    while n > 0:
        step = min(n, 1 << 20)
        yield bytes(step)
        n -= step
