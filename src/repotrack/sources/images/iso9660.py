"""ISO 9660 read in user space, with Rock Ridge names and Joliet as a fallback.

Volume descriptors start at sector 16 (2048-byte sectors): type 1 is the primary
(``CD001``; volume identifiers, size, the root directory record at byte 156), type 2
a supplementary one (Joliet when its escape sequence is ``%/@``, ``%/C`` or ``%/E``;
names in UCS-2 big-endian), type 255 ends the list. A directory is a run of records
(length, extent LBA at 2, data length at 10, flags at 25 with 0x02 = directory and
0x80 = more extents follow, recording time at 18, name length at 32, name at 33, then
the System Use area). Rock Ridge ``NM`` entries in that area carry the real (POSIX)
name, ``SL`` a symlink target, ``PX`` the mode (file type included: devices, FIFOs
and sockets are told apart by it), owner and group, ``TF`` the modification time
(else the recording time is the file's time); ``CE`` continues the area elsewhere.
A directory deeper than 8 levels may have been moved to ``rr_moved``: a ``CL`` entry
where it belongs points at it, and its own record there carries ``RE`` (hidden).
A ``ZF`` entry marks a file stored zisofs-compressed (read through ``zisofs``). Files over
4 GiB are several records of the same name, one extent each.

``volume_info`` gives the primary descriptor's fields as ``isoinfo -d`` shows them;
the loader stores that text as the image's ``isoinfo``.
"""

from __future__ import annotations

import calendar
import io
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from repotrack.errors import InputError
from repotrack.sources.images.tree import TreeEntry, resolve_path
from repotrack.sources.images.window import Window
from repotrack.sources.images.zisofs import ZisofsFile

__all__ = ["SECTOR", "IsoFileSystem", "is_iso"]

SECTOR = 2048
_FIRST_DESCRIPTOR = 16
_MAX_DESCRIPTORS = 64
_DIRECTORY = 0x02
_MULTI_EXTENT = 0x80
_JOLIET_ESCAPES = (b"%/@", b"%/C", b"%/E")
_MAX_DIR_BYTES = 64 << 20


def is_iso(f: BinaryIO) -> bool:
    f.seek(_FIRST_DESCRIPTOR * SECTOR + 1)
    return f.read(5) == b"CD001"


@dataclass(slots=True)
class _Node:
    name: str
    extents: list[tuple[int, int]]
    is_dir: bool
    mode: int = 0
    mtime: int = 0
    uid: int = 0
    gid: int = 0
    target: str | None = None
    #: Rock Ridge deep-directory relocation: CL's directory sector, RE's "moved here"
    child_link: int | None = None
    relocated: bool = False
    #: a ZF entry: the algorithm and the size once decompressed
    zisofs: tuple[bytes, int] | None = None
    children: dict[str, _Node] | None = field(default=None, repr=False)

    @property
    def stored_size(self) -> int:
        return sum(length for _o, length in self.extents)

    @property
    def size(self) -> int:
        return self.zisofs[1] if self.zisofs is not None else self.stored_size


def _text(raw: bytes) -> str:
    return raw.decode("ascii", "replace").rstrip(" \0")


class IsoFileSystem:
    """One ISO 9660 image in ``f``; ``name`` is used in error messages."""

    def __init__(self, f: BinaryIO, *, name: str) -> None:
        self.f = f
        self.name = name
        f.seek(0, 2)
        self.file_size = f.tell()
        self.primary: bytes | None = None
        joliet: bytes | None = None
        for index in range(_MAX_DESCRIPTORS):
            descriptor = self._read((_FIRST_DESCRIPTOR + index) * SECTOR, SECTOR, "descriptor")
            if descriptor[1:6] != b"CD001":
                raise InputError("not an ISO 9660 image (bad magic)", path=name)
            kind = descriptor[0]
            if kind == 255:
                break
            if kind == 1 and self.primary is None:
                self.primary = descriptor
            elif kind == 2 and descriptor[88:91] in _JOLIET_ESCAPES:
                joliet = descriptor
        if self.primary is None:
            raise InputError("ISO 9660 image without a primary volume descriptor", path=name)
        blocks = struct.unpack_from("<I", self.primary, 80)[0]
        if blocks * SECTOR > self.file_size:
            raise InputError(
                f"truncated ISO image: {blocks * SECTOR} bytes declared, {self.file_size} present",
                path=name,
            )
        self.joliet = False
        self.root = self._root(self.primary)
        self.rock_ridge = self._has_rock_ridge()
        if not self.rock_ridge and joliet is not None:
            self.joliet = True
            self.root = self._root(joliet)

    # -- raw -----------------------------------------------------------------------------
    def _read(self, position: int, n: int, what: str) -> bytes:
        if position + n > self.file_size:
            raise InputError(
                f"{what} lies past the end of the image", path=self.name, offset=position
            )
        self.f.seek(position)
        data = self.f.read(n)
        if len(data) != n:
            raise InputError(f"truncated image reading the {what}", path=self.name, offset=position)
        return data

    def _root(self, descriptor: bytes) -> _Node:
        record = descriptor[156:190]
        extent, size = struct.unpack_from("<I4xI", record, 2)
        return _Node("", [(extent * SECTOR, size)], True)

    def volume_info(self) -> dict[str, str]:
        """The primary volume descriptor's identifiers (``isoinfo -d``'s lines)."""
        d = self.primary
        assert d is not None
        return {
            "System id": _text(d[8:40]),
            "Volume id": _text(d[40:72]),
            "Volume set id": _text(d[190:318]),
            "Publisher id": _text(d[318:446]),
            "Data preparer id": _text(d[446:574]),
            "Application id": _text(d[574:702]),
            "Copyright File id": _text(d[702:739]),
            "Abstract File id": _text(d[739:776]),
            "Bibliographic File id": _text(d[776:813]),
            "Volume set size is": str(struct.unpack_from("<H", d, 120)[0]),
            "Volume set sequence number is": str(struct.unpack_from("<H", d, 124)[0]),
            "Logical block size is": str(struct.unpack_from("<H", d, 128)[0]),
            "Volume size is": str(struct.unpack_from("<I", d, 80)[0]),
            "Creation Date": _text(d[813:829]),
        }

    # -- directories ---------------------------------------------------------------------
    def _records(self, directory: _Node) -> Iterator[bytes]:
        offset, size = directory.extents[0]
        if size > _MAX_DIR_BYTES:
            raise InputError("directory too large", path=self.name)
        data = self._read(offset, size, "directory")
        pos = 0
        while pos < len(data):
            length = data[pos]
            if length == 0:  # the rest of this sector is padding
                pos = (pos // SECTOR + 1) * SECTOR
                continue
            if length < 34 or pos + length > len(data):
                raise InputError("damaged directory record", path=self.name, offset=offset + pos)
            yield data[pos : pos + length]
            pos += length

    def _susp(self, record: bytes) -> Iterator[tuple[bytes, bytes]]:
        """(signature, body) of each System Use entry, following CE continuations."""
        name_len = record[32]
        start = 33 + name_len + (1 - name_len % 2)
        area = record[start:]
        hops = 0
        while area:
            pos, continuation = 0, None
            while pos + 4 <= len(area):
                sig, length = area[pos : pos + 2], area[pos + 2]
                if length < 4 or pos + length > len(area):
                    break
                body = area[pos + 4 : pos + length]
                if sig == b"CE" and len(body) >= 24:
                    block, off, size = struct.unpack_from("<I4xI4xI", body, 0)
                    continuation = (block * SECTOR + off, size)
                elif sig == b"ST":
                    break
                else:
                    yield sig, body
                pos += length
            hops += 1
            if continuation is None or hops > 16:
                return
            area = self._read(continuation[0], min(continuation[1], SECTOR), "continuation area")

    def _has_rock_ridge(self) -> bool:
        for record in self._records(self.root):
            return any(sig in (b"SP", b"RR", b"NM", b"PX") for sig, _b in self._susp(record))
        return False

    def _children(self, directory: _Node) -> dict[str, _Node]:
        if directory.children is not None:
            return directory.children
        children: dict[str, _Node] = {}
        pending: _Node | None = None
        for record in self._records(directory):
            name_len = record[32]
            raw_name = record[33 : 33 + name_len]
            if raw_name in (b"\0", b"\1"):
                continue
            extent, size = struct.unpack_from("<I4xI", record, 2)
            flags = record[25]
            # An empty file has no data, so its extent location means nothing (libarchive
            # records 0xFFFFFFF0 there).
            if size == 0:
                extent = 0
            elif extent * SECTOR + size > self.file_size:
                raise InputError(
                    f"file extent past the end of the image ({raw_name!r})", path=self.name
                )
            if pending is not None:  # continuing a multi-extent file
                pending.extents.append((extent * SECTOR, size))
            else:
                pending = self._node(record, raw_name, extent, size, flags)
            if not flags & _MULTI_EXTENT:
                if pending.child_link is not None:
                    self._follow_child_link(pending)
                if not pending.relocated:
                    children[pending.name] = pending
                pending = None
        directory.children = children
        return children

    def _node(self, record: bytes, raw_name: bytes, extent: int, size: int, flags: int) -> _Node:
        is_dir = bool(flags & _DIRECTORY)
        if self.joliet:
            name = raw_name.decode("utf-16-be", "replace")
        else:
            name = raw_name.decode("ascii", "replace")
        name = name.split(";")[0]
        if not is_dir and name.endswith("."):
            name = name[:-1]
        node = _Node(name, [(extent * SECTOR, size)], is_dir)
        node.mode = (stat.S_IFDIR | 0o755) if is_dir else (stat.S_IFREG | 0o644)
        node.mtime = _short_time(record[18:25])
        if self.rock_ridge:
            self._apply_rock_ridge(node, record)
        return node

    def _apply_rock_ridge(self, node: _Node, record: bytes) -> None:
        parts: list[bytes] = []
        link: list[tuple[int, bytes]] = []
        for sig, body in self._susp(record):
            if sig == b"NM" and body:
                if not body[0] & 0x06:  # not "." or ".."
                    parts.append(body[1:])
            elif sig == b"PX" and len(body) >= 8:
                node.mode = struct.unpack_from("<I", body, 0)[0]
                if len(body) >= 32:  # both-endian mode, links, uid, gid (8 bytes each)
                    node.uid = struct.unpack_from("<I", body, 16)[0]
                    node.gid = struct.unpack_from("<I", body, 24)[0]
            elif sig == b"TF" and body:
                stamp = _tf_modified(body)
                if stamp is not None:
                    node.mtime = stamp
            elif sig == b"CL" and len(body) >= 4:
                node.child_link = struct.unpack_from("<I", body, 0)[0]
            elif sig == b"RE":
                node.relocated = True
            elif sig == b"ZF" and len(body) >= 8:  # algorithm, header/4, log2 block, size
                node.zisofs = (body[0:2], struct.unpack_from("<I", body, 4)[0])
            elif sig == b"SL" and body:
                link.extend(_sl_records(body[1:]))
        if parts:
            node.name = b"".join(parts).decode("utf-8", "surrogateescape")
        if stat.S_ISLNK(node.mode):
            node.target = _sl_target(link)

    def _follow_child_link(self, node: _Node) -> None:
        """A CL entry stands for a directory moved elsewhere (RRIP 4.1.5.1: ``rr_moved``,
        where its own record carries RE and is hidden); the directory is read there,
        its size and attributes from its "." record, its name from the CL record."""
        assert node.child_link is not None
        position = node.child_link * SECTOR
        length = self._read(position, 1, "relocated directory")[0]
        if length < 34:
            raise InputError("damaged relocated directory record", path=self.name)
        record = self._read(position, length, "relocated directory")
        extent, size = struct.unpack_from("<I4xI", record, 2)
        if extent * SECTOR + size > self.file_size:
            raise InputError("relocated directory past the end of the image", path=self.name)
        name = node.name
        node.is_dir = True
        node.extents = [(extent * SECTOR, size)]
        node.child_link = None
        self._apply_rock_ridge(node, record)
        node.child_link = None
        node.relocated = False
        node.name = name

    # -- paths ---------------------------------------------------------------------------
    def _child(self, directory: _Node, name: str) -> _Node | None:
        if not directory.is_dir:
            return None
        children = self._children(directory)
        found = children.get(name)
        if found is None and not (self.rock_ridge or self.joliet):
            upper = name.upper().replace(".", "_") if name.startswith(".") else name.upper()
            found = children.get(upper)
        return found

    def _resolve(self, path: str) -> _Node | None:
        return resolve_path(
            path,
            self.root,
            child=self._child,
            link_target=lambda n: n.target,
            source=self.name,
        )

    @staticmethod
    def _entry(path: str, node: _Node) -> TreeEntry:
        return TreeEntry(
            path=path,
            kind=_kind(node),
            mode=node.mode,
            uid=node.uid,
            gid=node.gid,
            size=0 if node.is_dir else node.size,
            mtime=node.mtime,
            linkto=node.target or "",
        )

    # -- FileTree ------------------------------------------------------------------------
    def lookup(self, path: str) -> TreeEntry | None:
        node = self._resolve(path)
        return None if node is None else self._entry(path, node)

    def open_file(self, path: str) -> Window | ZisofsFile:
        """A file object over the regular file at ``path`` (its extents, in order; the
        bytes decompressed when it is stored zisofs-compressed)."""
        node = self._resolve(path)
        if node is None or _kind(node) != "file":
            raise InputError(f"no regular file /{path.lstrip('/')}", path=self.name)
        window = Window(self.f, node.extents)
        if node.zisofs is None:
            return window
        algorithm, size = node.zisofs
        if algorithm != b"pz":
            raise InputError(
                f"/{path.lstrip('/')} is compressed with zisofs {algorithm!r} (unsupported)",
                path=self.name,
            )
        stored = io.BufferedReader(window, 1 << 16)
        return ZisofsFile(stored, node.stored_size, size, name=f"{self.name}:/{path.lstrip('/')}")

    def copy_out(self, path: str, dest: BinaryIO) -> int:
        window = self.open_file(path)
        written = 0
        while chunk := window.read(1 << 20):
            dest.write(chunk)
            written += len(chunk)
        return written

    def list_dir(self, path: str) -> list[TreeEntry]:
        node = self._resolve(path)
        if node is None or not node.is_dir:
            return []
        prefix = path.strip("/")
        return [
            self._entry(f"{prefix}/{name}" if prefix else name, child)
            for name, child in sorted(self._children(node).items())
        ]

    def walk(self) -> Iterator[TreeEntry]:
        stack = [("", self.root)]
        seen = {self.root.extents[0][0]}
        while stack:
            prefix, directory = stack.pop()
            for name, child in sorted(self._children(directory).items()):
                path = f"{prefix}/{name}"
                yield self._entry(path, child)
                if child.is_dir:
                    # a directory reached twice (a CL entry pointing back up) is a loop
                    where, length = child.extents[0]
                    if length and where in seen:
                        raise InputError(f"directory loop at {path}", path=self.name)
                    seen.add(where)
                    stack.append((path, child))


_KINDS = {
    stat.S_IFCHR: "char",
    stat.S_IFBLK: "block",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
}


def _kind(node: _Node) -> str:
    """directory, symlink, file, or the device/fifo/socket type Rock Ridge's PX gives."""
    if node.is_dir:
        return "directory"
    if node.target is not None:
        return "symlink"
    return _KINDS.get(stat.S_IFMT(node.mode), "file")


def _short_time(raw: bytes) -> int:
    """ECMA-119 9.1.5: years since 1900, month, day, hour, minute, second, and the offset
    from GMT in 15-minute units (signed); seconds since the epoch, 0 when unset or bad."""
    if len(raw) < 7 or not any(raw[:6]):
        return 0
    year, month, day, hour, minute, second = raw[:6]
    offset = raw[6] - 256 if raw[6] > 127 else raw[6]
    return _seconds(1900 + year, month, day, hour, minute, second, offset)


def _long_time(raw: bytes) -> int:
    """ECMA-119 8.4.26.1: ``YYYYMMDDHHMMSScc`` in ASCII digits, then the GMT offset byte."""
    digits = raw[:16].decode("ascii", "replace")
    if len(raw) < 17 or not digits.isdigit() or not int(digits):
        return 0
    offset = raw[16] - 256 if raw[16] > 127 else raw[16]
    fields = (digits[0:4], digits[4:6], digits[6:8], digits[8:10], digits[10:12], digits[12:14])
    year, month, day, hour, minute, second = (int(x) for x in fields)
    return _seconds(year, month, day, hour, minute, second, offset)


def _seconds(
    year: int, month: int, day: int, hour: int, minute: int, second: int, offset: int
) -> int:
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        return 0
    try:
        local = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        return 0
    return local - offset * 15 * 60


def _tf_modified(body: bytes) -> int | None:
    """The modification time of a Rock Ridge TF entry (RRIP 4.1.6), if it records one.

    The flags byte says which stamps follow, in the order creation, modify, access,
    attributes, backup, expiration, effective; bit 7 chooses 17-byte stamps over 7-byte.
    """
    flags = body[0]
    if not flags & 0x02:
        return None
    width = 17 if flags & 0x80 else 7
    start = 1 + (width if flags & 0x01 else 0)
    raw = body[start : start + width]
    if len(raw) < width:
        return None
    return _long_time(raw) if width == 17 else _short_time(raw)


def _sl_records(body: bytes) -> list[tuple[int, bytes]]:
    """The component records of one Rock Ridge SL entry: (flags, content) pairs."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos + 2 <= len(body):
        flags, length = body[pos], body[pos + 1]
        out.append((flags, body[pos + 2 : pos + 2 + length]))
        pos += 2 + length
    return out


def _sl_target(records: list[tuple[int, bytes]]) -> str:
    """A symlink target from its SL component records, over all of a file's SL entries.

    Flags (RRIP 4.1.3.1): 0x01 the component goes on in the next record (a long one
    is split over two SL entries), 0x02 ``.``, 0x04 ``..``, 0x08 the root.
    """
    components: list[bytes] = []
    joined = False
    for flags, content in records:
        if flags & 0x08:
            text = b""
        elif flags & 0x02:
            text = b"."
        elif flags & 0x04:
            text = b".."
        else:
            text = content
        if joined and components:
            components[-1] += text
        else:
            components.append(text)
        joined = bool(flags & 0x01)
    target = b"/".join(components)
    if components and components[0] == b"":  # absolute: "/" alone, or "/" + the rest
        target = b"/" + b"/".join(components[1:])
    return target.decode("utf-8", "surrogateescape")
