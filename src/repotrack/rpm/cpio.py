"""Streaming reader for RPM payload archives: cpio "newc" (070701/070702) and the
stripped "07070X" form, where names and sizes come from the package header.

The reader never seeks and never holds more than one bounded chunk of file data;
entry names are checked so that no caller can be led outside a target directory.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Final

from repotrack.errors import InputError
from repotrack.rpm.compression import read_exact

__all__ = ["CpioEntry", "CpioReader", "safe_member_name"]

_NEWC: Final = (b"070701", b"070702")
_STRIPPED: Final = b"07070X"
_TRAILER: Final = "TRAILER!!!"
_MAX_NAME: Final = 4096
_CHUNK: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class CpioEntry:
    """One archive member; ``index`` is the header file index for stripped archives."""

    name: str
    mode: int
    mtime: int
    size: int
    index: int | None = None

    @property
    def is_regular(self) -> bool:
        return stat.S_ISREG(self.mode)


# For stripped archives: file index -> (name, mode, mtime, data size).
StrippedLookup = Callable[[int], tuple[str, int, int, int]]


def safe_member_name(name: str, *, source: str, offset: int) -> str:
    """The member name without its leading "./" or "/"; refuses ".." and empty parts.

    The archive root itself ("." or "./", which e.g. the filesystem package owns) is
    returned as ".".
    """
    if name in (".", "./", "/"):
        return "."
    clean = (name[2:] if name.startswith("./") else name).lstrip("/")
    parts = clean.split("/")
    if not clean or "\0" in clean or any(p in ("", ".", "..") for p in parts):
        raise InputError(f"unsafe payload member name {name!r}", path=source, offset=offset)
    return clean


class CpioReader:
    """Iterate over members with :meth:`next`; read or skip each one's data before the next."""

    def __init__(
        self, stream: BinaryIO, *, source: str, stripped: StrippedLookup | None = None
    ) -> None:
        self.stream = stream
        self.source = source
        self.stripped = stripped
        self.pos = 0
        self._left = 0
        self._pad = 0

    def _read(self, n: int, what: str) -> bytes:
        data = read_exact(self.stream, n, source=self.source, offset=self.pos, what=what)
        if len(data) < n:
            raise InputError(f"truncated payload: {what}", path=self.source, offset=self.pos)
        self.pos += n
        return data

    def _align(self) -> None:
        pad = (4 - self.pos % 4) % 4
        if pad:
            self._read(pad, "padding")

    def next(self) -> CpioEntry | None:
        """The next member, or None after the trailer. Unread data of the last one is skipped."""
        self.skip()
        start = self.pos
        magic = self._read(6, "member header")
        if magic == _STRIPPED:
            return self._next_stripped(start)
        if magic not in _NEWC:
            raise InputError("bad cpio member magic", path=self.source, offset=start)
        fields = self._read(104, "member header")
        try:
            values = [int(fields[i : i + 8], 16) for i in range(0, 104, 8)]
        except ValueError as exc:
            raise InputError("bad cpio header field", path=self.source, offset=start) from exc
        mode, mtime, size, namesize = values[1], values[5], values[6], values[11]
        if not 1 <= namesize <= _MAX_NAME:
            raise InputError(
                f"cpio name size {namesize} out of range", path=self.source, offset=start
            )
        raw_name = self._read(namesize, "member name")
        self._align()
        name = raw_name[:-1].decode("utf-8", "surrogateescape")
        if name == _TRAILER:
            return None
        self._left = size
        return CpioEntry(
            safe_member_name(name, source=self.source, offset=start), mode, mtime, size
        )

    def _next_stripped(self, start: int) -> CpioEntry | None:
        if self.stripped is None:
            raise InputError(
                "stripped cpio member without header file list", path=self.source, offset=start
            )
        raw = self._read(8, "member index")
        try:
            index = int(raw, 16)
        except ValueError as exc:
            raise InputError("bad stripped cpio index", path=self.source, offset=start) from exc
        self._align()
        if index == 0xFFFFFFFF:
            return None
        name, mode, mtime, size = self.stripped(index)
        self._left = size
        entry_name = safe_member_name(name, source=self.source, offset=start)
        return CpioEntry(entry_name, mode, mtime, size, index)

    def read(self, limit: int) -> bytes:
        """All data of the current member; InputError if it is larger than ``limit``."""
        if self._left > limit:
            raise InputError(
                f"payload member of {self._left} bytes exceeds the limit of {limit}",
                path=self.source,
                offset=self.pos,
            )
        data = self._read(self._left, "member data")
        self._left = 0
        self._align()
        return data

    def skip(self) -> None:
        """Discard what is left of the current member's data, chunk by chunk."""
        if not self._left and self.pos % 4 == 0:
            return
        while self._left:
            n = min(self._left, _CHUNK)
            self._read(n, "member data")
            self._left -= n
        self._align()
