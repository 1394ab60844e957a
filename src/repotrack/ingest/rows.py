"""One package -> the rows ALTRepo keeps for it (altrepo §2.6), from a header or from metadata.

The rules carried over from the original loader:

- ``pkg_arch`` is ``x86_64-i586`` for packages named ``i586-*`` (the biarch compat
  packages), otherwise the header's ARCH;
- the packager ``Name <mail at domain>`` is split into name and e-mail, ``" at "``
  becoming ``@``; changelog names are split at ``>`` into ``Name <mail>`` and EVR;
- header strings that are not UTF-8 are read as latin-1 (done by the header reader),
  so the same bytes always give the same text;
- sources record their own file name as ``pkg_sourcerpm`` and their own hash as
  ``pkg_srcrpm_hash``; a binary's ``pkg_srcrpm_hash`` is filled in by the loader,
  which knows the sources of the set.

``Files.file_md5`` is a ``FixedString(16)``: it holds the file digest only when the
package uses MD5 file digests (ALT does); for SHA-256 digests (Fedora and others) it
stays zero rather than holding a truncated, misleading value.
"""

from __future__ import annotations

import binascii
import re
import stat
import sys
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from repotrack.ingest import tables
from repotrack.rpm import Header, Tag, mmhash
from repotrack.store.native import (
    EncodedColumns,
    RawColumn,
    encode_columns,
    encode_utf8,
    encode_utf8_joined,
)

__all__ = [
    "Digests",
    "PackageRows",
    "RowBlock",
    "changelog_rows",
    "depend_block",
    "file_block",
    "file_class",
    "header_depend_columns",
    "header_file_block",
    "header_file_columns",
    "package_arch",
    "split_changelog_name",
    "split_packager",
]

_PACKAGER = re.compile(r"^\s*(?P<name>[^<]*?)\s*<(?P<email>[^>]*)>")
#: A comment after the packager's name, before the address: ``(QA)``, ``[bot]``, ``"nick"``.
_NAME_COMMENT = re.compile(r"\s+[(\[{\"'].*", re.DOTALL)
_QUOTES = ('"', "'")
_I586_PREFIX = "i586-"
_DIGEST_ALGO_MD5 = 1
_UINT32_MAX = 0xFFFFFFFF
_FILE_CLASSES = {
    stat.S_IFDIR: "directory",
    stat.S_IFLNK: "symlink",
    stat.S_IFSOCK: "socket",
    stat.S_IFBLK: "block",
    stat.S_IFCHR: "char",
    stat.S_IFIFO: "fifo",
}
#: ``Files.file_class`` enum numbers (schema order) by the file-type nibble of a mode.
_CLASS_NUMBER = {
    "file": 0,
    "directory": 1,
    "symlink": 2,
    "socket": 3,
    "block": 4,
    "char": 5,
    "fifo": 6,
}
_CLASS_BY_TYPE = [_CLASS_NUMBER[_FILE_CLASSES.get(nibble << 12, "file")] for nibble in range(16)]
#: The class number by a mode's high byte (its top four bits are the file type).
_CLASS_OF_HIGH_BYTE = bytes(_CLASS_BY_TYPE[byte >> 4] for byte in range(256))
_ZERO_HEX = "0" * 32
_ZERO_HEX_BYTES = b"0" * 32
_LOW_HALF = 0 if sys.byteorder == "little" else 1
_DEPENDENCY_TAGS = (
    ("require", Tag.REQUIRENAME, Tag.REQUIREVERSION, Tag.REQUIREFLAGS),
    ("conflict", Tag.CONFLICTNAME, Tag.CONFLICTVERSION, Tag.CONFLICTFLAGS),
    ("obsolete", Tag.OBSOLETENAME, Tag.OBSOLETEVERSION, Tag.OBSOLETEFLAGS),
    ("provide", Tag.PROVIDENAME, Tag.PROVIDEVERSION, Tag.PROVIDEFLAGS),
)


@dataclass(frozen=True, slots=True)
class Digests:
    """Digests of a package file (md5, sha256, blake2b) and its header SHA-1; ``b""`` if unknown."""

    md5: bytes = b""
    sha256: bytes = b""
    blake2b: bytes = b""
    sha1: bytes = b""


#: Rows of one table for one package, each column already encoded (``store.native``).
#: Per-file rows are most of what a load writes; a worker process encodes them, so
#: what crosses back to the loader is a few ``bytes`` objects per package rather than
#: hundreds of thousands of Python values to pickle, unpickle and convert again.
RowBlock = EncodedColumns
NO_ROWS = EncodedColumns(0, ())


def file_block(columns: Sequence[Sequence[Any]]) -> RowBlock:
    """Per-file columns (``FILE_INPUT_COLUMNS`` order), encoded.

    The store derives ``Files`` and ``FileNames`` from this block as it inserts it
    (``tables.FILES_SELECT``), hashing the names in C++ rather than here.
    """
    return _block("Files_insert", tables.FILE_INPUT_COLUMNS, tables.FILE_INPUT_TYPES, columns)


def depend_block(columns: Sequence[Sequence[Any]]) -> RowBlock:
    """``Depends`` columns (in ``DEPENDS_COLUMNS`` order), encoded."""
    return _block(tables.DEPENDS, tables.DEPENDS_COLUMNS, tables.DEPENDS_TYPES, columns)


def _block(
    table: str, names: Sequence[str], types: Sequence[str], columns: Sequence[Sequence[Any]]
) -> RowBlock:
    block = encode_columns(table, names, types, columns)
    return block if block.rows else NO_ROWS


@dataclass(slots=True)
class PackageRows:
    """Everything one package contributes to the store, ready to insert.

    ``package`` maps Packages columns to values; ``files`` and ``depends`` are
    encoded blocks; ``changelogs`` and ``spec`` are rows in the column order of
    :mod:`repotrack.ingest.tables`.
    """

    pkg_hash: int
    name: str
    arch: str
    source: bool
    filename: str
    sourcerpm: str
    digests: Digests
    package: dict[str, Any]
    files: RowBlock = NO_ROWS
    depends: RowBlock = NO_ROWS
    changelogs: list[tuple[int, str]] = field(default_factory=list)
    spec: tuple[Any, ...] | None = None

    def package_row(self) -> tuple[Any, ...]:
        return tuple(self.package[c] for c in tables.PACKAGES_COLUMNS)

    def hash_row(self) -> tuple[Any, ...]:
        d = self.digests
        return (self.pkg_hash, d.md5, d.sha1, d.sha256, d.blake2b)


def package_arch(name: str, arch: str) -> str:
    """ALTRepo's i586 rule: ``i586-*`` packages live in ``x86_64-i586``."""
    return "x86_64-i586" if name.startswith(_I586_PREFIX) else arch


def split_packager(packager: str) -> tuple[str, str]:
    """``"Joe <joe at example.org>"`` -> ``("Joe", "joe@example.org")``.

    As ALTRepo stores it, the name leaves out a comment between it and the address
    (``Dmitry V. Levin (QA) <...>`` -> ``Dmitry V. Levin``) and the quotes of a
    quoted name (``"John Doe" <...>`` -> ``John Doe``).
    """
    match = _PACKAGER.match(packager)
    if match is None:
        return packager.strip(), ""
    name = _NAME_COMMENT.sub("", match["name"])
    if len(name) > 1 and name[0] in _QUOTES and name[-1] == name[0]:
        name = name[1:-1].strip()
    return name, match["email"].replace(" at ", "@").strip()


def split_changelog_name(text: str) -> tuple[str, str]:
    """``"Joe <joe@example.org> 1.0-alt1"`` -> ``("Joe <joe@example.org>", "1.0-alt1")``.

    Fedora-style names put a dash before the EVR (``<mail> - 1.0-1``); the dash is
    dropped so the EVR reads the same whatever the packaging convention.
    """
    name, sep, evr = text.partition(">")
    if not sep:
        return text.strip(), ""
    evr = evr.strip()
    if evr.startswith("- "):
        evr = evr[2:].strip()
    return name + ">", evr


def file_class(mode: int) -> str:
    """The ``Files.file_class`` enum name for a file mode."""
    return _FILE_CLASSES.get(stat.S_IFMT(mode), "file")


def changelog_rows(
    times: list[int], names: list[str], texts: list[str]
) -> tuple[dict[str, list[Any]], list[tuple[int, str]]]:
    """The ``pkg_changelog`` nested columns and the unique ``Changelog`` rows."""
    nested: dict[str, list[Any]] = {"date": [], "name": [], "evr": [], "hash": []}
    texts_by_hash: dict[int, str] = {}
    for when, who, text in zip(times, names, texts, strict=False):
        name, evr = split_changelog_name(who)
        digest = mmhash(text)
        nested["date"].append(when)
        nested["name"].append(name)
        nested["evr"].append(evr)
        nested["hash"].append(digest)
        texts_by_hash.setdefault(digest, text)
    return nested, list(texts_by_hash.items())


def header_package(
    header: Header, *, pkg_hash: int, sha1: bytes, filename: str, file_size: int, source: bool
) -> dict[str, Any]:
    """The Packages row of a package file's (merged) header; ``pkg_srcrpm_hash`` set to 0."""
    s = _Strings(header)
    name = s.one(Tag.NAME)
    packager, email = split_packager(s.one(Tag.PACKAGER))
    epoch = header.get_int(Tag.EPOCH) or 0
    row: dict[str, Any] = {
        "pkg_hash": pkg_hash,
        "pkg_cs": sha1,
        "pkg_packager": packager,
        "pkg_packager_email": email,
        "pkg_name": name,
        "pkg_arch": package_arch(name, s.one(Tag.ARCH)),
        "pkg_version": s.one(Tag.VERSION),
        "pkg_release": s.one(Tag.RELEASE),
        "pkg_epoch": epoch,
        "pkg_serial_": epoch,
        "pkg_buildtime": header.get_int(Tag.BUILDTIME) or 0,
        "pkg_buildhost": s.one(Tag.BUILDHOST),
        "pkg_size": _first_int(header, Tag.LONGSIZE, Tag.SIZE),
        "pkg_archivesize": _first_int(header, Tag.LONGARCHIVESIZE, Tag.ARCHIVESIZE),
        "pkg_filesize": file_size,
        "pkg_rpmversion": s.one(Tag.RPMVERSION),
        "pkg_cookie": s.one(Tag.COOKIE),
        "pkg_sourcepackage": int(source),
        "pkg_disttag": s.one(Tag.DISTTAG),
        "pkg_sourcerpm": filename if source else s.one(Tag.SOURCERPM),
        "pkg_srcrpm_hash": pkg_hash if source else 0,
        "pkg_filename": filename,
        "pkg_complete": 0,
        "pkg_summary": s.one(Tag.SUMMARY),
        "pkg_description": s.one(Tag.DESCRIPTION),
        "pkg_distribution": s.one(Tag.DISTRIBUTION),
        "pkg_vendor": s.one(Tag.VENDOR),
        "pkg_gif": s.binary(Tag.GIF),
        "pkg_xpm": s.binary(Tag.XPM),
        "pkg_license": s.one(Tag.LICENSE),
        "pkg_group_": s.one(Tag.GROUP),
        "pkg_url": s.one(Tag.URL),
        "pkg_os": s.one(Tag.OS),
        "pkg_prein": s.one(Tag.PREIN),
        "pkg_postin": s.one(Tag.POSTIN),
        "pkg_preun": s.one(Tag.PREUN),
        "pkg_postun": s.one(Tag.POSTUN),
        "pkg_icon": s.binary(Tag.ICON),
        "pkg_preinprog": s.many(Tag.PREINPROG),
        "pkg_postinprog": s.many(Tag.POSTINPROG),
        "pkg_preunprog": s.many(Tag.PREUNPROG),
        "pkg_postunprog": s.many(Tag.POSTUNPROG),
        "pkg_buildarchs": s.many(Tag.BUILDARCHS),
        "pkg_verifyscript": s.one(Tag.VERIFYSCRIPT),
        "pkg_verifyscriptprog": s.many(Tag.VERIFYSCRIPTPROG),
        "pkg_prefixes": s.many(Tag.PREFIXES),
        "pkg_instprefixes": s.many(Tag.INSTPREFIXES),
        "pkg_optflags": s.one(Tag.OPTFLAGS),
        "pkg_disturl": s.one(Tag.DISTURL),
        "pkg_payloadformat": s.one(Tag.PAYLOADFORMAT),
        "pkg_payloadcompressor": s.one(Tag.PAYLOADCOMPRESSOR),
        "pkg_payloadflags": s.one(Tag.PAYLOADFLAGS),
        "pkg_platform": s.one(Tag.PLATFORM),
        "pkg_vcs": s.one(Tag.VCS),
        "pkg_pretrans": s.one(Tag.PRETRANS),
        "pkg_posttrans": s.one(Tag.POSTTRANS),
    }
    return row


def set_changelog(row: dict[str, Any], nested: dict[str, list[Any]]) -> None:
    """Store the ``pkg_changelog`` nested arrays in a Packages row."""
    for sub, values in nested.items():
        row[f"pkg_changelog.{sub}"] = values


def header_changelog(header: Header) -> tuple[dict[str, list[Any]], list[tuple[int, str]]]:
    return changelog_rows(
        header.get_ints(Tag.CHANGELOGTIME),
        header.get_strings(Tag.CHANGELOGNAME),
        header.get_strings(Tag.CHANGELOGTEXT),
    )


def header_depend_columns(header: Header, pkg_hash: int) -> list[list[Any]]:
    """``Depends`` columns (``DEPENDS_COLUMNS`` order) from the header's dependency tags."""
    names: list[str] = []
    versions: list[str] = []
    flags: list[int] = []
    kinds: list[str] = []
    for kind, name_tag, version_tag, flags_tag in _DEPENDENCY_TAGS:
        found = header.get_strings(name_tag)
        if not found:
            continue
        count = len(found)
        names += found
        versions += _fitted(header.get_strings(version_tag), count, "")
        flags += _fitted(header.get_ints(flags_tag), count, 0)
        kinds += [kind] * count
    return [[pkg_hash] * len(names), names, versions, flags, kinds]


def header_file_columns(header: Header, pkg_hash: int) -> list[Sequence[Any]]:
    """Per-file columns (``FILE_INPUT_COLUMNS`` order) from the header's per-file arrays.

    Integer columns stay ``array``s straight from the header (the Native encoder
    writes them with one copy); only names, digests and the file class are built
    value by value. Arrays shorter than the file list (old or odd headers) are
    padded with zeros/empty strings, longer ones cut.
    """
    names = _file_names(header)
    return _file_columns(header, pkg_hash, names, len(names), _decoded_strings)


def header_file_block(header: Header, pkg_hash: int) -> RowBlock:
    """``file_block(header_file_columns(header, pkg_hash))``: the same bytes, sooner.

    Building the per-file strings was most of a worker's time per package: decoded
    from the header's UTF-8 into ``str``, then encoded back into the same bytes for
    the block. Here a string column that is valid UTF-8 goes from the header into
    the block as it is (``Header.get_utf8_strings``); a column holding other bytes
    (latin-1 names) takes the decoding path, alone. A test checks that both paths
    give the same block for every test package.
    """
    names = _utf8_file_names(header)
    if names is None:
        return file_block(header_file_columns(header, pkg_hash))
    count = names.rows
    columns = _file_columns(header, pkg_hash, names, count, _utf8_strings)
    classes = columns[-1]  # numbers from a fixed table, all valid: no check value by value
    columns[-1] = RawColumn(count, bytes(classes))
    return file_block(columns)


#: How ``_file_columns`` gets a per-file string column: decoded values, or encoded.
_StringColumn = Callable[[Header, int, int], "list[str] | RawColumn"]


def _decoded_strings(header: Header, tag: int, count: int) -> list[str]:
    return _fitted(header.get_strings(tag), count, "")


def _utf8_strings(header: Header, tag: int, count: int) -> list[str] | RawColumn:
    items = header.get_utf8_strings(tag)
    if items is None:
        return _decoded_strings(header, tag, count)
    return RawColumn(count, encode_utf8(_fitted(items, count, b"")))


def _file_columns(
    header: Header,
    pkg_hash: int,
    names: Sequence[Any],
    count: int,
    strings: _StringColumn,
) -> list[Sequence[Any]]:
    md5_ok = (header.get_int(Tag.FILEDIGESTALGO) or _DIGEST_ALGO_MD5) == _DIGEST_ALGO_MD5
    md5: Sequence[bytes] | RawColumn
    if md5_ok:
        digests = header.get_utf8_strings(Tag.FILEDIGESTS)
        if digests is None:
            md5 = _md5_column(_fitted(header.get_strings(Tag.FILEDIGESTS), count, ""))
        else:
            md5 = _md5_column(_fitted(digests, count, b""))
    else:
        md5 = RawColumn(count, bytes(16 * count))
    long_sizes = header.get_array(Tag.LONGFILESIZES)
    if long_sizes is not None:
        sizes = array("I", [min(v, _UINT32_MAX) for v in _ints(long_sizes, count, "Q")])
    else:
        sizes = _ints(header.get_array(Tag.FILESIZES), count, "I")
    modes = _ints(header.get_array(Tag.FILEMODES), count, "H")
    return [
        array("Q", [pkg_hash]) * count,
        names,
        strings(header, Tag.FILELINKTOS, count),
        md5,
        sizes,
        modes,
        _ints(header.get_array(Tag.FILERDEVS), count, "H"),
        _ints(header.get_array(Tag.FILEMTIMES), count, "I"),
        _low16(_ints(header.get_array(Tag.FILEFLAGS), count, "I")),
        strings(header, Tag.FILEUSERNAME, count),
        strings(header, Tag.FILEGROUPNAME, count),
        _ints(header.get_array(Tag.FILEVERIFYFLAGS), count, "I"),
        _ints(header.get_array(Tag.FILEDEVICES), count, "I"),
        strings(header, Tag.FILELANGS, count),
        array("b", _high_bytes(modes).translate(_CLASS_OF_HIGH_BYTE)),
    ]


def _md5_column(hexdigests: list[str] | list[bytes]) -> RawColumn | list[bytes]:
    """``file_md5`` from the header's hex digests; empty (directories) or odd ones zero."""
    joined: str | bytes
    if hexdigests and isinstance(hexdigests[0], str):
        joined = "".join([d if len(d) == 32 else _ZERO_HEX for d in hexdigests])
    else:
        raw = cast(list[bytes], hexdigests)
        joined = b"".join([d if len(d) == 32 else _ZERO_HEX_BYTES for d in raw])
    try:
        return RawColumn(len(hexdigests), binascii.unhexlify(joined))
    except ValueError:  # binascii.Error, or a str that is not ASCII
        return [_md5(d) for d in hexdigests]


def _ints(values: array[int] | None, count: int, code: str) -> array[int]:
    """``values`` as an exactly ``count`` long array of ``code``.

    An entry written with another integer width than usual keeps its low bits, as a
    C cast to the column's width would.
    """
    if values is None:
        return array(code, bytes(array(code).itemsize * count))
    if values.typecode != code:
        mask = (1 << (8 * array(code).itemsize)) - 1
        values = array(code, [v & mask for v in values])
    if len(values) < count:
        values.extend(array(code, bytes(values.itemsize * (count - len(values)))))
    return values[:count] if len(values) > count else values


def _low16(values: array[int]) -> array[int]:
    """The low 16 bits of each 32-bit value (``Files.file_flag`` is a UInt16)."""
    halves = array("H", values.tobytes())
    return halves[_LOW_HALF::2]


def spec_row(package: dict[str, Any], *, name: str, mtime: int, content: bytes) -> tuple[Any, ...]:
    """A ``Specfiles`` row; the content is the spec file's bytes as they are."""
    return (
        package["pkg_hash"],
        package["pkg_name"],
        package["pkg_epoch"],
        package["pkg_version"],
        package["pkg_release"],
        name,
        datetime.fromtimestamp(max(mtime, 0), UTC),
        content,
    )


def _utf8_file_names(header: Header) -> RawColumn | None:
    """The ``file_name`` column of ``_file_names``, encoded from the header's bytes; None
    when some name is not UTF-8 (or the arrays disagree), for ``_file_names`` to decide."""
    basenames = header.get_utf8_strings(Tag.BASENAMES)
    if basenames is None:
        return None
    if not basenames:
        old = header.get_utf8_strings(Tag.OLDFILENAMES)
        return None if old is None else RawColumn(len(old), encode_utf8(old))
    dirnames = header.get_utf8_strings(Tag.DIRNAMES)
    indexes = header.get_array(Tag.DIRINDEXES)
    count = len(basenames)
    if dirnames is None or indexes is None or len(indexes) < count:
        return None
    if len(indexes) > count:
        indexes = indexes[:count]
    if max(indexes) >= len(dirnames):
        return None
    return RawColumn(count, encode_utf8_joined(list(map(dirnames.__getitem__, indexes)), basenames))


def _file_names(header: Header) -> list[str]:
    basenames = header.get_strings(Tag.BASENAMES)
    if basenames:
        dirnames = header.get_strings(Tag.DIRNAMES)
        indexes = header.get_ints(Tag.DIRINDEXES)
        if len(indexes) >= len(basenames) and max(indexes) < len(dirnames):
            dirs = map(dirnames.__getitem__, indexes)
            return list(map(str.__add__, dirs, basenames))
        return [
            (dirnames[indexes[i]] if i < len(indexes) and indexes[i] < len(dirnames) else "") + b
            for i, b in enumerate(basenames)
        ]
    return header.get_strings(Tag.OLDFILENAMES)


def _md5(hexdigest: str | bytes) -> bytes:
    if len(hexdigest) != 32:
        return b""
    try:
        return binascii.unhexlify(hexdigest)
    except ValueError:
        return b""


def _high_bytes(values: array[int]) -> bytes:
    """The high byte of each 16-bit value, in order."""
    raw = values.tobytes()
    return raw[1::2] if sys.byteorder == "little" else raw[0::2]


def _fitted(values: list[Any], count: int, fill: Any) -> list[Any]:
    """``values`` cut or padded with ``fill`` to exactly ``count`` items."""
    if len(values) == count:
        return values
    if len(values) > count:
        return values[:count]
    return values + [fill] * (count - len(values))


def _first_int(header: Header, *tags: int) -> int:
    for tag in tags:
        value = header.get_int(tag)
        if value is not None:
            return value
    return 0


class _Strings:
    """String access with ALTRepo's defaults: absent -> ``""`` / ``[]``."""

    def __init__(self, header: Header) -> None:
        self._header = header

    def one(self, tag: int) -> str:
        return self._header.get_str(tag) or ""

    def many(self, tag: int) -> list[str]:
        return self._header.get_strings(tag)

    def binary(self, tag: int) -> str:
        value = self._header.get_bytes(tag)
        return value.decode("latin-1") if value else ""
