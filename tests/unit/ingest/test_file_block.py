"""The per-file block straight from header bytes equals the block of decoded values.

``header_file_block`` (the workers' path) skips decoding the per-file strings when
they are UTF-8; ``file_block(header_file_columns(...))`` decodes every value (latin-1
where UTF-8 fails) and encodes it again. Both must give the same bytes: on every
test package, and on made-up headers with the odd cases (latin-1 names and owners,
short arrays, old-style file names, bad directory indexes, odd digests, long names,
entries of the wrong type).
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.ingest.rows import file_block, header_file_block, header_file_columns
from repotrack.rpm import Header, Tag, TagType, read_rpm
from tests.unit.rpm.support import all_rpms, rpm_id

PKG_HASH = 0x0123456789ABCDEF


def _both(header: Header) -> tuple[object, object]:
    return header_file_block(header, PKG_HASH), file_block(header_file_columns(header, PKG_HASH))


@pytest.mark.parametrize("path", all_rpms(), ids=rpm_id)
def test_real_packages_give_the_same_block(path: Path) -> None:
    header = read_rpm(path).merged
    fast, decoded = _both(header)
    assert fast == decoded


def _strings(*values: bytes) -> tuple[int, bytes, int]:
    return TagType.STRING_ARRAY, b"".join(v + b"\0" for v in values), len(values)


def _ints(kind: int, *values: int) -> tuple[int, bytes, int]:
    code = {TagType.INT16: "H", TagType.INT32: "I", TagType.INT64: "Q"}[TagType(kind)]
    return kind, struct.pack(f">{len(values)}{code}", *values), len(values)


def _header(entries: dict[int, tuple[int, bytes, int]]) -> Header:
    """A region-less header of ``{tag: (type, data, count)}``, entries aligned."""
    index = b""
    data = b""
    for tag, (kind, payload, count) in sorted(entries.items()):
        align = {3: 2, 4: 4, 5: 8}.get(kind, 1)
        data += b"\0" * ((align - len(data) % align) % align)
        index += struct.pack(">IIiI", tag, kind, len(data), count)
        data += payload
    intro = b"\x8e\xad\xe8\x01\0\0\0\0" + struct.pack(">II", len(entries), len(data))
    return Header.parse(intro + index + data, source="made-up")


def _files(**changes: tuple[int, bytes, int] | None) -> Header:
    entries: dict[int, tuple[int, bytes, int]] = {
        Tag.NAME: (TagType.STRING, b"x\0", 1),
        Tag.BASENAMES: _strings(b"a", b"b", b"c"),
        Tag.DIRNAMES: _strings(b"/usr/", b"/etc/"),
        Tag.DIRINDEXES: _ints(TagType.INT32, 0, 1, 0),
        Tag.FILEUSERNAME: _strings(b"root", b"root", b"bin"),
        Tag.FILEGROUPNAME: _strings(b"root", b"root", b"root"),
        Tag.FILELANGS: _strings(b"", b"", b"ru"),
        Tag.FILELINKTOS: _strings(b"", b"a", b""),
        Tag.FILEMD5S: _strings(b"0123456789abcdef" * 2, b"", b"f" * 32),
        Tag.FILEMODES: _ints(TagType.INT16, 0o100644, 0o040755, 0o120777),
        Tag.FILESIZES: _ints(TagType.INT32, 1, 4096, 1),
    }
    for name, value in changes.items():
        tag = Tag[name]
        if value is None:
            entries.pop(tag, None)
        else:
            entries[tag] = value
    return _header(entries)


CASES = {
    "plain": {},
    "latin-1 base name": {"BASENAMES": _strings(b"caf\xe9", b"b", b"c")},
    "latin-1 directory": {"DIRNAMES": _strings(b"/usr/", b"/\xe9t\xe9/")},
    "UTF-8 names": {"BASENAMES": _strings("café".encode(), "日本".encode(), b"c")},
    "latin-1 owner": {"FILEUSERNAME": _strings(b"r\xf4ot", b"root", b"bin")},
    "latin-1 language": {"FILELANGS": _strings(b"", b"\xe9", b"")},
    "short owners": {"FILEUSERNAME": _strings(b"root")},
    "long owners": {"FILEGROUPNAME": _strings(b"a", b"b", b"c", b"d", b"e")},
    "no owners": {"FILEUSERNAME": None, "FILEGROUPNAME": None},
    "long name": {"BASENAMES": _strings(b"n" * 300, b"b", b"c")},
    "old file names": {
        "BASENAMES": None,
        "DIRNAMES": None,
        "DIRINDEXES": None,
        "OLDFILENAMES": _strings(b"/a", b"/b\xe9", b"/c"),
    },
    "old UTF-8 file names": {
        "BASENAMES": None,
        "DIRNAMES": None,
        "DIRINDEXES": None,
        "OLDFILENAMES": _strings(b"/a", b"/b", b"/c"),
    },
    "no files": {
        "BASENAMES": None,
        "DIRNAMES": None,
        "DIRINDEXES": None,
        "FILEUSERNAME": None,
        "FILEGROUPNAME": None,
        "FILELANGS": None,
        "FILELINKTOS": None,
        "FILEMD5S": None,
        "FILEMODES": None,
        "FILESIZES": None,
    },
    "index past the directories": {"DIRINDEXES": _ints(TagType.INT32, 0, 5, 1)},
    "short indexes": {"DIRINDEXES": _ints(TagType.INT32, 0, 1)},
    "long indexes": {"DIRINDEXES": _ints(TagType.INT32, 0, 1, 0, 9)},
    "no indexes": {"DIRINDEXES": None},
    "16-bit indexes": {"DIRINDEXES": _ints(TagType.INT16, 1, 1, 0)},
    "odd digests": {"FILEMD5S": _strings(b"xyz" * 10 + b"zz", b"0" * 31, b" " + b"a" * 31)},
    "non-ASCII digest": {"FILEMD5S": _strings(b"\xe9" * 32, b"", b"")},
    "SHA-256 digests": {
        "FILEMD5S": _strings(b"ab" * 32, b"", b"cd" * 32),
        "FILEDIGESTALGO": _ints(TagType.INT32, 8),
    },
    "short modes": {"FILEMODES": _ints(TagType.INT16, 0o020666)},
}


@pytest.mark.parametrize("changes", CASES.values(), ids=CASES.keys())
def test_made_up_headers_give_the_same_block(
    changes: dict[str, tuple[int, bytes, int] | None],
) -> None:
    fast, decoded = _both(_files(**changes))
    assert fast == decoded


def test_a_name_entry_of_the_wrong_type_is_the_same_error_both_ways() -> None:
    for tag in ("BASENAMES", "DIRNAMES", "FILEUSERNAME", "FILEMD5S"):
        header = _files(**{tag: _ints(TagType.INT32, 1, 2, 3)})
        with pytest.raises(InputError) as fast:
            header_file_block(header, PKG_HASH)
        with pytest.raises(InputError) as decoded:
            file_block(header_file_columns(header, PKG_HASH))
        assert str(fast.value) == str(decoded.value)
