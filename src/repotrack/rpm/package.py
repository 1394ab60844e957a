"""Read an ``.rpm`` file: lead, signature header and main header, never the payload.

Only ``96 + signature + padding + header`` bytes are read, in three reads whose sizes
are checked against librpm's limits and the file size first, so a hostile file can
neither make us allocate much nor read past what it really holds.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import BinaryIO, Final

from repotrack.errors import InputError
from repotrack.rpm.files_open import open_fd, open_regular
from repotrack.rpm.hashes import pkg_hash
from repotrack.rpm.header import (
    INDEX_ENTRY,
    INTRO_SIZE,
    MAIN_LIMITS,
    SIGNATURE_LIMITS,
    Header,
    parse_intro,
)
from repotrack.rpm.tags import SIGNATURE_TO_MAIN, SigTag, Tag, TagType

__all__ = [
    "LEAD_MAGIC",
    "HeadReader",
    "Lead",
    "RpmFile",
    "quick_pkg_hash",
    "read_rpm",
    "read_rpm_stream",
]

LEAD_MAGIC: Final = b"\xed\xab\xee\xdb"
LEAD_SIZE: Final = 96
_LEAD = struct.Struct(">4sBBHH66sHH16x")

_KEEP_NUMBER: Final = (267, 268, 269, 270, 271, 273, 276, 277, 278, 279)


@dataclass(frozen=True, slots=True)
class Lead:
    """The 96-byte lead. Only the magic matters to rpm; ``type`` hints source (1) or binary."""

    major: int
    minor: int
    type: int
    archnum: int
    name: str
    osnum: int
    signature_type: int


@dataclass(frozen=True)
class RpmFile:
    """A package file's metadata: the two headers and where the payload starts.

    ``header`` is the main header alone (its ``raw_bytes`` are what SHA1HEADER covers);
    ``merged`` is librpm's view with signature tags folded in (SIGMD5 261, SIGGPG 262,
    SHA1HEADER 269, ...), which is what ALTRepo reads its hashes from.
    """

    path: str
    lead: Lead
    signature: Header
    header: Header
    header_offset: int
    payload_offset: int
    file_size: int
    _merged: list[Header] = field(default_factory=list, repr=False, compare=False)

    @property
    def merged(self) -> Header:
        if not self._merged:
            self._merged.append(merge_signature(self.signature, self.header))
        return self._merged[0]

    @property
    def is_source(self) -> bool:
        """rpm's rule: SOURCEPACKAGE set, or no SOURCERPM (old srpms carry neither tag)."""
        return Tag.SOURCEPACKAGE in self.header or Tag.SOURCERPM not in self.header

    @cached_property
    def sha1header(self) -> bytes:
        """SHA-1 of the main header: the signature's tag 269, else computed from the bytes."""
        stored = self.signature.get(SigTag.SHA1)
        if isinstance(stored, str) and len(stored) == 40:
            try:
                return bytes.fromhex(stored)
            except ValueError:
                pass
        return self.computed_sha1header()

    def computed_sha1header(self) -> bytes:
        """SHA-1 over the main header bytes, as rpm computes tag 269."""
        return hashlib.sha1(self.header.raw_bytes, usedforsecurity=False).digest()

    @property
    def pkg_hash(self) -> int:
        """ALTRepo's package id (altrepo §0.2) from this file's headers."""
        return header_pkg_hash(self.merged, sha1header=self.sha1header)


def header_pkg_hash(header: Header, *, sha1header: bytes | None = None) -> int:
    """``pkg_hash`` from a merged header (a package file's or an rpmdb header)."""
    sha1 = sha1header if sha1header is not None else header.get(Tag.SHA1HEADER)
    if sha1 is None:
        raise InputError("no SHA1HEADER (tag 269) to compute pkg_hash from", path=header.source)
    if isinstance(sha1, str) and not _is_sha1_hex(sha1):
        raise InputError(f"SHA1HEADER (tag 269) is not 40 hex digits: {sha1!r}", path=header.source)
    buildtime = header.get_int(Tag.BUILDTIME)
    if buildtime is None:
        raise InputError("no BUILDTIME to compute pkg_hash from", path=header.source)
    return pkg_hash(
        sha1header=sha1,
        sigmd5=header.get_bytes(Tag.SIGMD5) or b"",
        siggpg=header.get_bytes(Tag.SIGGPG) or b"",
        buildtime=buildtime,
    )


def _is_sha1_hex(text: str) -> bool:
    return len(text) == 40 and all(c in "0123456789abcdefABCDEF" for c in text)


def merge_signature(signature: Header, main: Header) -> Header:
    """librpm's ``headerMergeLegacySigs``: the main header plus the signature's tags."""
    extra: list[tuple[int, Header, int]] = []
    for sig_tag, main_tag in SIGNATURE_TO_MAIN.items():
        if sig_tag in signature:
            extra.append((main_tag, signature, sig_tag))
    for tag in _KEEP_NUMBER:
        if tag in signature:
            extra.append((tag, signature, tag))
    return Header.merged(main, extra)


def read_rpm(path: str | Path) -> RpmFile:
    """Read lead, signature and main header of the package at ``path``.

    Raises :class:`InputError` naming the file and byte offset for anything malformed.
    """
    name = os.fspath(path)
    try:
        with open_regular(name, buffering=0) as f:
            size = os.fstat(f.fileno()).st_size
            return read_rpm_stream(f, source=name, file_size=size)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=name) from exc


def read_rpm_stream(f: BinaryIO | HeadReader, *, source: str, file_size: int) -> RpmFile:
    """Read the metadata of a package from the seekable ``f``, positioned at its start.

    ``file_size`` bounds every read; ``source`` names the package in errors.
    """
    check_lead_magic(f.read(len(LEAD_MAGIC)), source)
    f.seek(0)
    first = _read(f, LEAD_SIZE + INTRO_SIZE, source=source, offset=0, file_size=file_size)
    lead = _parse_lead(first, source)
    il, dl = parse_intro(
        first[LEAD_SIZE:], limits=SIGNATURE_LIMITS, source=source, offset=LEAD_SIZE
    )
    sig_len = INTRO_SIZE + 16 * il + dl
    pad = (8 - sig_len % 8) % 8
    header_offset = LEAD_SIZE + sig_len + pad
    rest = _read(
        f,
        sig_len - INTRO_SIZE + pad + INTRO_SIZE,
        source=source,
        offset=LEAD_SIZE + INTRO_SIZE,
        file_size=file_size,
    )
    sig_blob = first[LEAD_SIZE:] + rest[: sig_len - INTRO_SIZE]
    signature = Header.parse(
        sig_blob, source=source, offset=LEAD_SIZE, limits=SIGNATURE_LIMITS, first_wins=True
    )
    intro = rest[-INTRO_SIZE:]
    mil, mdl = parse_intro(intro, limits=MAIN_LIMITS, source=source, offset=header_offset)
    # Re-read the intro with the body: one buffer, no concatenation of a large header.
    f.seek(header_offset)
    blob = _read(
        f, INTRO_SIZE + 16 * mil + mdl, source=source, offset=header_offset, file_size=file_size
    )
    header = Header.parse(
        blob, source=source, offset=header_offset, limits=MAIN_LIMITS, exact_region=True
    )
    payload_offset = header_offset + INTRO_SIZE + 16 * mil + mdl
    return RpmFile(
        path=source,
        lead=lead,
        signature=signature,
        header=header,
        header_offset=header_offset,
        payload_offset=payload_offset,
        file_size=file_size,
    )


class HeadReader:
    """A file-like view of a package file whose first bytes were read already.

    ``read_rpm_stream`` reads the lead and both headers with a few reads and seeks;
    served from ``head`` (one read of the file's start, which as a rule holds both
    headers) they cost no system call, and the caller can hash ``head`` and carry on
    reading the file from where ``head`` ends, so every byte is read once. Bytes past
    ``head`` are read from ``fd`` with ``pread``, which leaves the descriptor's own
    position alone.
    """

    __slots__ = ("_at", "_fd", "_head")

    def __init__(self, fd: int, head: bytes) -> None:
        self._fd = fd
        self._head = head
        self._at = 0

    def read(self, n: int) -> bytes:
        at = self._at
        head = self._head
        data = head[at : at + n] if at + n <= len(head) else os.pread(self._fd, n, at)
        self._at = at + len(data)
        return data

    def seek(self, offset: int) -> int:
        self._at = offset
        return offset


#: Main-header tags that would override what the signature gives ``pkg_hash``.
_OVERRIDES: Final = frozenset({Tag.SIGMD5, Tag.SIGGPG, Tag.SHA1HEADER})


def quick_pkg_hash(path: str | Path) -> tuple[int, bytes] | None:
    """``(pkg_hash, SHA1HEADER)`` from the lead, the signature and one main-header entry.

    Telling whether the store already has a package needs only its id, and the id
    needs only the signature's SHA1/MD5/GPG entries and the main header's BUILDTIME.
    This reads them from the file's first kilobytes (one ``pread`` as a rule), with
    every offset and length checked against the header sizes and the file, instead
    of parsing and checking both headers: a reload of an unchanged tree is mostly
    this. Returns None when the shortcut does not apply (no SHA1 in the signature,
    unusual entry types, or the main header carries its own copies of those tags);
    the caller then reads the package in full, which also names any problem.
    """
    name = os.fspath(path)
    try:
        fd = open_fd(name)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=name) from exc
    try:
        return _QuickReader(fd, name).identity()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=name) from exc
    finally:
        os.close(fd)


class _QuickReader:
    """Bounded reads from the start of a package file, served from one first read."""

    FIRST = 16384

    def __init__(self, fd: int, source: str) -> None:
        self.fd = fd
        self.source = source
        self.size = os.fstat(fd).st_size
        self.head = os.pread(fd, self.FIRST, 0)

    def bytes_at(self, offset: int, n: int) -> bytes:
        _need(offset, n, file_size=self.size, source=self.source)
        if offset + n <= len(self.head):
            return self.head[offset : offset + n]
        data = os.pread(self.fd, n, offset)
        if len(data) != n:
            raise InputError("truncated RPM: unexpected end of file", path=self.source)
        return data

    def identity(self) -> tuple[int, bytes] | None:
        source = self.source
        check_lead_magic(self.head, source)
        _parse_lead(self.bytes_at(0, LEAD_SIZE), source)
        sig_intro = self.bytes_at(LEAD_SIZE, INTRO_SIZE)
        il, dl = parse_intro(sig_intro, limits=SIGNATURE_LIMITS, source=source, offset=LEAD_SIZE)
        sig_index = self.bytes_at(LEAD_SIZE + INTRO_SIZE, 16 * il)
        sig_data_at = LEAD_SIZE + INTRO_SIZE + 16 * il
        sig_data = self.bytes_at(sig_data_at, dl)
        found: dict[int, tuple[int, int, int]] = {}
        for tag, kind, off, count in INDEX_ENTRY.iter_unpack(sig_index):
            found.setdefault(tag, (kind, off, count))  # the first entry of a tag, as librpm
        sha1 = _sig_value(found.get(SigTag.SHA1), sig_data, TagType.STRING)
        md5 = _sig_value(found.get(SigTag.MD5), sig_data, TagType.BIN)
        gpg = _sig_value(found.get(SigTag.GPG), sig_data, TagType.BIN)
        if sha1 is None or len(sha1) != 40 or md5 is _BAD or gpg is _BAD:
            return None
        sig_len = INTRO_SIZE + 16 * il + dl
        header_at = LEAD_SIZE + sig_len + (8 - sig_len % 8) % 8
        mil, mdl = parse_intro(
            self.bytes_at(header_at, INTRO_SIZE),
            limits=MAIN_LIMITS,
            source=source,
            offset=header_at,
        )
        index = self.bytes_at(header_at + INTRO_SIZE, 16 * mil)
        if any(_find_entry(index, tag) for tag in _OVERRIDES):
            return None
        where = _find_entry(index, Tag.BUILDTIME)
        if where is None or where[0] != TagType.INT32 or where[2] < 1:
            return None
        if not 0 <= where[1] <= mdl - 4:
            return None
        data_at = header_at + INTRO_SIZE + 16 * mil
        buildtime = int.from_bytes(self.bytes_at(data_at + where[1], 4), "big")
        try:
            sha1_bytes = bytes.fromhex(sha1.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            return None
        digest = pkg_hash(sha1header=sha1_bytes, sigmd5=md5, siggpg=gpg, buildtime=buildtime)
        return digest, sha1_bytes


_BAD: Final = b"\0bad"


def _find_entry(index: bytes, tag: int) -> tuple[int, int, int] | None:
    """``(type, offset, count)`` of ``tag``'s entry in a header index, found with
    ``bytes.find`` (the index runs to hundreds of entries; a Python loop over them
    was most of the cost of identifying a package)."""
    needle = tag.to_bytes(4, "big")
    at = index.find(needle)
    while at >= 0:
        if at % 16 == 0:
            _, kind, off, count = INDEX_ENTRY.unpack_from(index, at)
            return kind, off, count
        at = index.find(needle, at + 1)
    return None


def _sig_value(entry: tuple[int, int, int] | None, data: bytes, kind: int) -> bytes | None:
    """A signature entry's bytes (a STRING without its NUL); None if absent, _BAD if odd."""
    if entry is None:
        return None
    got, off, count = entry
    if got != kind or off < 0 or count < 1 or off >= len(data):
        return _BAD
    if kind == TagType.STRING:
        end = data.find(b"\0", off)
        return _BAD if end < 0 else data[off:end]
    if off + count > len(data):
        return _BAD
    return data[off : off + count]


#: The lead's signature type of every package since rpm 3: a signature header follows.
_HEADER_SIGNATURE: Final = 5


def check_lead_magic(first: bytes, source: str) -> None:
    """Refuse a file that does not start as an RPM, before any size check.

    A text file or an image is "not an RPM package", never a "truncated RPM"; the
    message never quotes the file's bytes (it may be anything, a secret included).
    """
    if not first.startswith(LEAD_MAGIC):
        raise InputError("not an RPM package (no RPM lead at the start)", path=source, offset=0)


def _parse_lead(first: bytes, source: str) -> Lead:
    """The lead, checked as librpm checks it: a package of format 3 or 4 whose
    signature is a header (type 5). The lead is covered by no digest, so these checks
    are what catches a damaged one; rpm refuses such a file."""
    check_lead_magic(first, source)
    _, major, minor, kind, archnum, name, osnum, sigtype = _LEAD.unpack_from(first)
    if major not in (3, 4):
        raise InputError(f"unsupported RPM package version {major} in the lead", path=source)
    if sigtype != _HEADER_SIGNATURE:
        raise InputError(f"illegal signature type {sigtype} in the lead (5 expected)", path=source)
    text = name.split(b"\0", 1)[0].decode("latin-1")
    return Lead(major, minor, kind, archnum, text, osnum, sigtype)


def _need(offset: int, n: int, *, file_size: int, source: str) -> None:
    """Refuse a read past the end before making it (a hostile size allocates nothing)."""
    if offset + n > file_size:
        raise InputError(
            f"truncated RPM: needs {offset + n} bytes, file has {file_size}",
            path=source,
            offset=offset,
        )


def _read(f: BinaryIO | HeadReader, n: int, *, source: str, offset: int, file_size: int) -> bytes:
    """Read exactly ``n`` bytes at ``offset``, refusing first if the file is too short."""
    _need(offset, n, file_size=file_size, source=source)
    chunks = []
    left = n
    while left:
        chunk = f.read(left)
        if not chunk:
            raise InputError(
                "truncated RPM: unexpected end of file", path=source, offset=offset + n - left
            )
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
