"""Parse one RPM header blob (intro, index, data) into a lazily decoding :class:`Header`.

The same structure serves the signature header, the main header and every entry of an
apt-rpm header list. Parsing validates the index up front, the way librpm's
``hdrblobVerifyInfo`` does, so that a hostile header is refused before anything is
decoded: types, counts, alignment, offsets, the region trailer and non-overlapping data.
Values are decoded only when asked for, which keeps reading thousands of headers cheap.

Strings are decoded as UTF-8; a string that is not valid UTF-8 is decoded as latin-1
instead (the ALTRepo loader's rule for byte strings), so no value is ever lost and the
same bytes always give the same text.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Any, Final

from repotrack.errors import InputError
from repotrack.rpm.tags import TagType

__all__ = [
    "HEADER_MAGIC",
    "INDEX_ENTRY",
    "INTRO_SIZE",
    "MAIN_LIMITS",
    "SIGNATURE_LIMITS",
    "Header",
    "HeaderLimits",
    "parse_intro",
]

HEADER_MAGIC: Final = b"\x8e\xad\xe8\x01"
INTRO_SIZE: Final = 16
#: Magic, four reserved bytes (zero: librpm compares all eight), index count, data length.
_INTRO = struct.Struct(">8sII")
_MAGIC_AND_RESERVED: Final = HEADER_MAGIC + bytes(4)
#: One index entry: tag, type, offset, count (big-endian; the offset may be negative).
INDEX_ENTRY = struct.Struct(">IIiI")
_REGION_TAGS: Final = frozenset({61, 62, 63})
_MAX_ARRAY: Final = 0xFFFFF
#: librpm reads a tag number as a signed 32-bit integer: a larger one is negative there.
_MAX_TAG: Final = 0x7FFFFFFF
_FIXED_SIZE: Final = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1}
#: ``_FIXED_SIZE`` by type number 0..9; 0 for the string types (and the invalid 0).
_SIZE_BY_KIND: Final = tuple(_FIXED_SIZE.get(kind, 0) for kind in range(10))
_OFFSET: Final = itemgetter(2)
_STRINGS: Final = frozenset({TagType.STRING, TagType.STRING_ARRAY, TagType.I18NSTRING})
_ARRAY_CODES: Final = {3: "H", 4: "I", 5: "Q"}
_SWAP: Final = sys.byteorder == "little"


class HeaderLimits:
    """Upper bounds for one kind of header (librpm's, from lib/header.cc)."""

    __slots__ = ("max_data", "max_index", "what")

    def __init__(self, what: str, max_index: int, max_data: int) -> None:
        self.what = what
        self.max_index = max_index
        self.max_data = max_data


MAIN_LIMITS: Final = HeaderLimits("header", 65535, 0x0FFFFFFF)
SIGNATURE_LIMITS: Final = HeaderLimits("signature header", 32, 64 << 20)

# (type, offset of the value in the buffer, count, bound its bytes may reach, buffer)
_Entry = tuple[int, int, int, int, bytes]


def parse_intro(intro: bytes, *, limits: HeaderLimits, source: str, offset: int) -> tuple[int, int]:
    """Check a 16-byte header intro and return ``(il, dl)`` within ``limits``."""
    if len(intro) < INTRO_SIZE:
        raise InputError(
            f"truncated {limits.what}: no room for its intro", path=source, offset=offset
        )
    magic, il, dl = _INTRO.unpack_from(intro)
    if magic != _MAGIC_AND_RESERVED:
        raise InputError(f"bad {limits.what} magic (expected 8eade801)", path=source, offset=offset)
    if il < 1 or il > limits.max_index:
        raise InputError(
            f"{limits.what} index count {il} outside 1..{limits.max_index}",
            path=source,
            offset=offset + 8,
        )
    if dl > limits.max_data:
        raise InputError(
            f"{limits.what} data length {dl} exceeds {limits.max_data}",
            path=source,
            offset=offset + 12,
        )
    return il, dl


class Header:
    """A parsed header; values are decoded on first access and then cached.

    ``get`` returns what the entry's on-disk type says: STRING and I18NSTRING give
    ``str`` (I18NSTRING's first, "C"-locale string), STRING_ARRAY gives ``list[str]``,
    CHAR/INT8/16/32/64 give ``list[int]``, BIN gives ``bytes``. ``get_strings`` and
    ``get_ints`` normalise the string and integer classes to lists, for tags that old
    builders wrote with a neighbouring type (PREINPROG as STRING in rpm 4.4).

    Decoded values are cached and shared between calls: copy a list before changing it.
    """

    __slots__ = ("_cache", "_entries", "has_region", "offset", "raw_bytes", "source")

    def __init__(
        self,
        entries: dict[int, _Entry],
        *,
        raw_bytes: bytes,
        source: str,
        offset: int,
        has_region: bool,
    ) -> None:
        self._entries = entries
        self._cache: dict[int, Any] = {}
        self.raw_bytes = raw_bytes
        self.source = source
        self.offset = offset
        self.has_region = has_region

    @classmethod
    def parse(
        cls,
        blob: bytes,
        *,
        source: str,
        offset: int = 0,
        limits: HeaderLimits = MAIN_LIMITS,
        exact_region: bool = False,
        first_wins: bool = False,
    ) -> Header:
        """Parse ``blob`` (intro, index, data; nothing after) found at ``offset`` in ``source``.

        ``exact_region`` demands what a package file's main header must satisfy: a
        region covering the whole index and data. A tag with two index entries reads
        as its last one (a header's later "dribble" entries replace the region's), or
        with ``first_wins`` as its first: librpm reads a package's signature header
        entry by entry (``hdrblobGet``) and takes the first. Raises :class:`InputError`.
        """
        il, dl = parse_intro(blob, limits=limits, source=source, offset=offset)
        data_start = INTRO_SIZE + 16 * il
        if len(blob) != data_start + dl:
            raise InputError(
                f"truncated {limits.what}: {len(blob)} bytes where {data_start + dl} are needed",
                path=source,
                offset=offset,
            )
        raw_entries = list(INDEX_ENTRY.iter_unpack(memoryview(blob)[INTRO_SIZE:data_start]))
        checker = _IndexChecker(source=source, base=offset, data_start=data_start, blob=blob)
        entries, has_region = checker.check(
            raw_entries, exact_region=exact_region, what=limits.what, first_wins=first_wins
        )
        return cls(entries, raw_bytes=blob, source=source, offset=offset, has_region=has_region)

    @classmethod
    def merged(cls, main: Header, extra: Iterable[tuple[int, Header, int]]) -> Header:
        """A view of ``main`` with entries of other headers added under new tag numbers.

        ``extra`` yields ``(target_tag, header, source_tag)``; targets already in ``main``
        are left alone. Used for librpm's merged signature view.
        """
        entries = dict(main._entries)
        for target, header, tag in extra:
            entry = header._entries.get(tag)
            if entry is not None and target not in entries:
                entries[target] = entry
        return cls(
            entries,
            raw_bytes=main.raw_bytes,
            source=main.source,
            offset=main.offset,
            has_region=main.has_region,
        )

    # -- access -------------------------------------------------------------------
    def __contains__(self, tag: object) -> bool:
        return tag in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[int]:
        return iter(self._entries)

    def __repr__(self) -> str:
        return f"<Header {self.source}@{self.offset}: {len(self._entries)} tags>"

    def tags(self) -> list[int]:
        """Tag numbers present, in index order."""
        return list(self._entries)

    def type_of(self, tag: int) -> TagType | None:
        """The on-disk type of ``tag``'s entry, or None when absent."""
        entry = self._entries.get(tag)
        return None if entry is None else TagType(entry[0])

    def get(self, tag: int, default: Any = None) -> Any:
        """The decoded value of ``tag`` (see the class docstring), or ``default``."""
        try:
            return self._cache[tag]
        except KeyError:
            pass
        entry = self._entries.get(tag)
        if entry is None:
            return default
        value = _decode(entry)
        self._cache[tag] = value
        return value

    def get_int(self, tag: int, default: int | None = None) -> int | None:
        """The first integer of an integer entry, or ``default`` when absent."""
        values = self.get_ints(tag)
        return values[0] if values else default

    def get_ints(self, tag: int) -> list[int]:
        """All integers of an integer entry; ``[]`` when absent."""
        value = self.get(tag)
        if value is None:
            return []
        if isinstance(value, list) and (not value or isinstance(value[0], int)):
            return value
        raise InputError(f"tag {tag} is not an integer entry", path=self.source, offset=self.offset)

    def get_array(self, tag: int) -> array[int] | None:
        """An integer entry as a fresh machine-order ``array`` (unsigned codes), or None.

        The bulk path for per-file columns: no Python int per value is made.
        """
        entry = self._entries.get(tag)
        if entry is None:
            return None
        kind, off, count, _, data = entry
        if kind in (TagType.CHAR, TagType.INT8):
            return array("B", data[off : off + count])
        code = _ARRAY_CODES.get(kind)
        if code is None:
            raise InputError(
                f"tag {tag} is not an integer entry", path=self.source, offset=self.offset
            )
        values = array(code)
        values.frombytes(data[off : off + count * values.itemsize])
        if _SWAP:
            values.byteswap()
        return values

    def get_str(self, tag: int, default: str | None = None) -> str | None:
        """A single string (the first of an array), or ``default`` when absent."""
        entry = self._entries.get(tag)
        if entry is None:
            return default
        kind, off, _, bound, data = entry
        if kind == TagType.STRING or kind == TagType.I18NSTRING:
            # The common case, read directly (a package row reads some fifty of them).
            return _text(data[off : data.index(b"\0", off, bound)])
        values = self.get_strings(tag)
        return values[0] if values else default

    def get_strings(self, tag: int) -> list[str]:
        """All strings of a string entry (every locale of an I18NSTRING); ``[]`` when absent."""
        entry = self._entries.get(tag)
        if entry is None:
            return []
        kind = entry[0]
        if kind == TagType.I18NSTRING:
            return _decode_strings(entry)
        value = self.get(tag)
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and (not value or isinstance(value[0], str)):
            return value
        raise InputError(f"tag {tag} is not a string entry", path=self.source, offset=self.offset)

    def get_raw_strings(self, tag: int) -> list[bytes]:
        """The undecoded bytes of each string of a string entry; ``[]`` when absent."""
        entry = self._entries.get(tag)
        if entry is None or entry[0] not in _STRINGS:
            return []
        _, off, count, bound, data = entry
        return data[off:bound].split(b"\0", count)[:count]

    def get_utf8_strings(self, tag: int) -> list[bytes] | None:
        """What ``get_strings`` gives, each string as its UTF-8 bytes, without decoding.

        Only when every string is valid UTF-8 (then decoding and encoding again would
        give back the same bytes); None otherwise, and for an entry that is not a
        string entry, so that the caller takes ``get_strings`` and its rules (latin-1
        for other bytes, an error for a non-string entry). ``[]`` when absent.
        """
        entry = self._entries.get(tag)
        if entry is None:
            return []
        kind, off, count, bound, data = entry
        if kind not in _STRINGS:
            return None
        area = data[off:bound]
        items = area.split(b"\0", count)[:count]
        if not area.isascii():
            try:
                for item in items:
                    item.decode("utf-8")
            except UnicodeDecodeError:
                return None
        return items

    def get_bytes(self, tag: int) -> bytes | None:
        """The raw data bytes of an entry (BIN values; strings without their NULs)."""
        entry = self._entries.get(tag)
        if entry is None:
            return None
        kind, off, count, bound, data = entry
        if kind in _STRINGS:
            return b"\0".join(data[off:bound].split(b"\0", count)[:count])
        return data[off : off + count * _FIXED_SIZE[kind]]


class _IndexChecker:
    """Validates index entries against the data section and builds the entry table.

    The common case (a well-formed header) is checked with whole-column min/max tests
    and one pass over the entries in data order; only when something is wrong does the
    slower per-entry walk run, to name the exact entry and reason.
    """

    def __init__(self, *, source: str, base: int, data_start: int, blob: bytes) -> None:
        self.source = source
        self.base = base
        self.data_start = data_start
        self.blob = blob  # the whole header; data offsets are relative to data_start
        self.dl = len(blob) - data_start

    def fail(self, message: str, position: int) -> InputError:
        return InputError(message, path=self.source, offset=self.base + position)

    def check(
        self,
        raw: list[tuple[int, int, int, int]],
        *,
        exact_region: bool,
        what: str,
        first_wins: bool = False,
    ) -> tuple[dict[int, _Entry], bool]:
        tags, kinds, offs, counts = zip(*raw, strict=True)
        has_region = tags[0] in _REGION_TAGS
        first = 1 if has_region else 0
        dl = self.dl
        if not (
            min(kinds) >= 1
            and max(kinds) <= 9
            and (len(tags) == first or min(tags[first:]) >= 100)
            and max(tags) <= _MAX_TAG
            and min(counts) >= 1
            and max(counts) <= dl
            and min(offs) >= 0
            and max(offs) < dl
        ):
            self._explain(raw, has_region)
        limit = self._check_region(raw, exact_region=exact_region, what=what) if has_region else dl
        data_offs = offs[first:]
        if list(data_offs) != sorted(data_offs):
            self._out_of_order(raw, first, what)
        bounds = self._check_layout(raw, offs, limit, what)
        blob = self.blob
        ds = self.data_start
        listed = raw[first:]
        entries = {
            tag: (kind, ds + off, count, ds + bounds[off], blob)
            for tag, kind, off, count in (reversed(listed) if first_wins else listed)
        }
        return entries, has_region

    def _explain(self, raw: list[tuple[int, int, int, int]], has_region: bool) -> None:
        for i, (tag, kind, off, count) in enumerate(raw):
            self._check_entry(i, tag, kind, off, count, INTRO_SIZE + 16 * i, has_region)

    def _check_entry(
        self, i: int, tag: int, kind: int, off: int, count: int, position: int, has_region: bool
    ) -> None:
        if not 1 <= kind <= 9:
            raise self.fail(f"tag {tag}: invalid data type {kind}", position)
        if (tag < 100 and not (i == 0 and has_region)) or tag > _MAX_TAG:
            raise self.fail(f"illegal tag number {tag}", position)
        if count < 1 or count > self.dl:
            raise self.fail(f"tag {tag}: count {count} outside 1..{self.dl}", position)
        if kind != TagType.BIN and count > _MAX_ARRAY:
            raise self.fail(f"tag {tag}: {count} items is more than {_MAX_ARRAY}", position)
        if kind == TagType.STRING and count != 1:
            raise self.fail(f"tag {tag}: STRING with count {count}", position)
        if off < 0 or off >= self.dl:
            raise self.fail(f"tag {tag}: data offset {off} outside the data ({self.dl})", position)
        align = _FIXED_SIZE.get(kind, 1)
        if kind in (3, 4, 5) and off % align:
            raise self.fail(f"tag {tag}: data offset {off} not aligned to {align}", position)

    def _check_region(
        self, raw: list[tuple[int, int, int, int]], *, exact_region: bool, what: str
    ) -> int:
        tag, kind, off, count = raw[0]
        if kind != TagType.BIN or count != 16 or off + 16 > self.dl:
            raise self.fail(f"{what}: malformed region tag {tag}", INTRO_SIZE)
        ttag, tkind, toff, tcount = INDEX_ENTRY.unpack_from(self.blob, self.data_start + off)
        ril = -toff // 16 if toff < 0 and toff % 16 == 0 else 0
        if (
            ttag != tag  # the trailer names the region it ends
            or tkind != TagType.BIN
            or tcount != 16
            or not 1 <= ril <= len(raw)
        ):
            raise self.fail(f"{what}: malformed region trailer", self.data_start + off)
        if exact_region and (ril != len(raw) or off + 16 != self.dl):
            raise self.fail(
                f"{what}: region does not cover the whole header", self.data_start + off
            )
        return self.dl

    def _check_layout(
        self,
        raw: list[tuple[int, int, int, int]],
        offs: tuple[int, ...],
        limit: int,
        what: str,
    ) -> dict[int, int]:
        """Entries in data order: alignment, item limits, no overlap, strings ending
        before the next entry (or ``limit``).

        Returns, per data offset, the bound up to which that entry's bytes may reach
        (the next entry's offset), used to decode strings without rescanning. The
        checks run as one comprehension over the sorted entries (a header has dozens);
        the first entry that fails is then explained as it was found.
        """
        ordered = sorted(raw, key=_OFFSET)
        starts = [entry[2] for entry in ordered]
        ends = starts[1:]
        ends.append(limit)
        size = _SIZE_BY_KIND
        nuls = self.blob.count
        ds = self.data_start
        bad = [
            (entry, end)
            for entry, end in zip(ordered, ends, strict=True)
            if (
                (
                    entry[2] % width
                    or (entry[1] != 7 and entry[3] > _MAX_ARRAY)
                    or entry[2] + width * entry[3] > end
                )
                if (width := size[entry[1]])
                else (
                    (entry[1] == 6 and entry[3] != 1)
                    or entry[3] > _MAX_ARRAY
                    or nuls(b"\0", ds + entry[2], ds + end) < entry[3]
                )
            )
        ]
        if bad:
            entry, _ = bad[0]
            k = next(i for i, item in enumerate(raw) if item is entry)
            kind, count = entry[1], entry[3]
            if size[kind]:
                reason = "data overlaps the next entry or the end"
            elif (kind == 6 and count != 1) or count > _MAX_ARRAY:
                reason = "bad string entry"
            else:
                reason = "strings overlap the next entry or the end"
            self._explain_layout(raw, k, what, reason)
        return dict(zip(starts, ends, strict=True))

    def _out_of_order(self, raw: list[tuple[int, int, int, int]], first: int, what: str) -> None:
        """librpm reads the data of the entries (the region's aside) in index order and
        refuses one whose data starts before the previous one's: so does this reader,
        which is what notices a damaged signature header (no digest covers it)."""
        for k in range(first + 1, len(raw)):
            if raw[k][2] < raw[k - 1][2]:
                tag = raw[k][0]
                raise self.fail(
                    f"{what} tag {tag}: data before the previous entry's", INTRO_SIZE + 16 * k
                )

    def _explain_layout(
        self, raw: list[tuple[int, int, int, int]], k: int, what: str, reason: str
    ) -> None:
        tag, kind, off, count = raw[k]
        position = INTRO_SIZE + 16 * k
        self._check_entry(k, tag, kind, off, count, position, k == 0)
        raise self.fail(f"{what} tag {tag}: {reason}", position)


def _decode(entry: _Entry) -> Any:
    kind, off, count, bound, data = entry
    if kind == TagType.STRING:
        return _text(data[off : data.index(b"\0", off, bound)])
    if kind == TagType.I18NSTRING:
        return _text(data[off : data.index(b"\0", off, bound)])
    if kind == TagType.STRING_ARRAY:
        return _decode_strings(entry)
    if kind == TagType.BIN:
        return data[off : off + count]
    if kind in (TagType.CHAR, TagType.INT8):
        return list(data[off : off + count])
    code = _ARRAY_CODES[kind]
    values = array(code)
    values.frombytes(data[off : off + count * values.itemsize])
    if _SWAP:
        values.byteswap()
    return values.tolist()


def _decode_strings(entry: _Entry) -> list[str]:
    _, off, count, bound, data = entry
    items = data[off:bound].split(b"\0", count)[:count]
    try:
        return b"\0".join(items).decode("utf-8").split("\0")
    except UnicodeDecodeError:
        return [_text(item) for item in items]


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
