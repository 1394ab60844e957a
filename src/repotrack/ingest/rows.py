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

import base64
import re
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from repotrack.ingest.tables import PACKAGES_COLUMNS
from repotrack.rpm import Header, Tag, mmhash

__all__ = [
    "Digests",
    "PackageRows",
    "changelog_rows",
    "file_class",
    "package_arch",
    "split_changelog_name",
    "split_packager",
]

_PACKAGER = re.compile(r"^\s*(?P<name>[^<]*?)\s*<(?P<email>[^>]*)>")
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


@dataclass(slots=True)
class PackageRows:
    """Everything one package contributes to the store, ready to insert.

    ``package`` maps Packages columns to values; the other lists hold tuples in the
    column order of :mod:`repotrack.ingest.tables`.
    """

    pkg_hash: int
    name: str
    arch: str
    source: bool
    filename: str
    sourcerpm: str
    digests: Digests
    package: dict[str, Any]
    files: list[tuple[Any, ...]] = field(default_factory=list)
    depends: list[tuple[Any, ...]] = field(default_factory=list)
    changelogs: list[tuple[int, str]] = field(default_factory=list)
    spec: tuple[Any, ...] | None = None

    def package_row(self) -> tuple[Any, ...]:
        return tuple(self.package[c] for c in PACKAGES_COLUMNS)

    def hash_row(self) -> tuple[Any, ...]:
        d = self.digests
        return (self.pkg_hash, d.md5, d.sha1, d.sha256, d.blake2b)


def package_arch(name: str, arch: str) -> str:
    """ALTRepo's i586 rule: ``i586-*`` packages live in ``x86_64-i586``."""
    return "x86_64-i586" if name.startswith(_I586_PREFIX) else arch


def split_packager(packager: str) -> tuple[str, str]:
    """``"Joe <joe at example.org>"`` -> ``("Joe", "joe@example.org")``."""
    match = _PACKAGER.match(packager)
    if match is None:
        return packager.strip(), ""
    return match["name"], match["email"].replace(" at ", "@").strip()


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


def header_depends(header: Header, pkg_hash: int) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for kind, name_tag, version_tag, flags_tag in _DEPENDENCY_TAGS:
        names = header.get_strings(name_tag)
        versions = header.get_strings(version_tag)
        flags = header.get_ints(flags_tag)
        for i, dep in enumerate(names):
            version = versions[i] if i < len(versions) else ""
            flag = flags[i] if i < len(flags) else 0
            rows.append((pkg_hash, dep, version, flag, kind))
    return rows


def header_files(header: Header, pkg_hash: int) -> list[tuple[Any, ...]]:
    """Files_insert rows from the header's parallel per-file arrays."""
    names = _file_names(header)
    if not names:
        return []
    count = len(names)
    md5_ok = (header.get_int(Tag.FILEDIGESTALGO) or _DIGEST_ALGO_MD5) == _DIGEST_ALGO_MD5
    digests = _padded(header.get_strings(Tag.FILEDIGESTS), count, "")
    sizes = _padded(header.get_ints(Tag.LONGFILESIZES) or header.get_ints(Tag.FILESIZES), count, 0)
    modes = _padded(header.get_ints(Tag.FILEMODES), count, 0)
    rdevs = _padded(header.get_ints(Tag.FILERDEVS), count, 0)
    mtimes = _padded(header.get_ints(Tag.FILEMTIMES), count, 0)
    flags = _padded(header.get_ints(Tag.FILEFLAGS), count, 0)
    users = _padded(header.get_strings(Tag.FILEUSERNAME), count, "")
    groups = _padded(header.get_strings(Tag.FILEGROUPNAME), count, "")
    verify = _padded(header.get_ints(Tag.FILEVERIFYFLAGS), count, 0)
    devices = _padded(header.get_ints(Tag.FILEDEVICES), count, 0)
    langs = _padded(header.get_strings(Tag.FILELANGS), count, "")
    links = _padded(header.get_strings(Tag.FILELINKTOS), count, "")
    rows = []
    for i, name in enumerate(names):
        rows.append(
            (
                pkg_hash,
                name,
                links[i],
                _md5(digests[i]) if md5_ok else b"",
                min(sizes[i], _UINT32_MAX),
                modes[i] & 0xFFFF,
                rdevs[i] & 0xFFFF,
                mtimes[i],
                flags[i] & 0xFFFF,
                users[i],
                groups[i],
                verify[i] & _UINT32_MAX,
                devices[i] & _UINT32_MAX,
                langs[i],
                file_class(modes[i]),
            )
        )
    return rows


def spec_row(package: dict[str, Any], *, name: str, mtime: int, content: bytes) -> tuple[Any, ...]:
    """A Specfiles_insert row; the content travels base64-encoded, as the original's MV expects."""
    return (
        package["pkg_hash"],
        package["pkg_name"],
        package["pkg_epoch"],
        package["pkg_version"],
        package["pkg_release"],
        name,
        datetime.fromtimestamp(max(mtime, 0), UTC),
        base64.b64encode(content).decode("ascii"),
    )


def _file_names(header: Header) -> list[str]:
    basenames = header.get_strings(Tag.BASENAMES)
    if basenames:
        dirnames = header.get_strings(Tag.DIRNAMES)
        indexes = header.get_ints(Tag.DIRINDEXES)
        return [
            (dirnames[indexes[i]] if i < len(indexes) and indexes[i] < len(dirnames) else "") + b
            for i, b in enumerate(basenames)
        ]
    return header.get_strings(Tag.OLDFILENAMES)


def _md5(hexdigest: str) -> bytes:
    if len(hexdigest) != 32:
        return b""
    try:
        return bytes.fromhex(hexdigest)
    except ValueError:
        return b""


def _padded(values: list[Any], count: int, fill: Any) -> list[Any]:
    if len(values) >= count:
        return values
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
