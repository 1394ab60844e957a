"""createrepo ``repodata/``: repomd.xml, then primary, filelists and other, streamed.

The three package files are read side by side, one package at a time: createrepo
writes them in the same order, so matching them by ``pkgid`` costs no memory; when a
generator wrote them in a different order, the entries that arrive early wait in a
small dict until their package comes up.

All XML goes through :func:`repotrack.sources.xmlstream.iter_elements`, which refuses
DTDs (and with them entity expansion) before parsing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar
from xml.etree.ElementTree import Element

from repotrack.errors import InputError
from repotrack.sources.compression import DECOMPRESSION_ERRORS, open_metadata
from repotrack.sources.limits import DEFAULT_LIMITS, MetadataLimits, open_regular
from repotrack.sources.xmlstream import iter_elements, local_name

__all__ = [
    "MetaChangelog",
    "MetaDependency",
    "MetaFile",
    "MetaPackage",
    "RepomdEntry",
    "check_metadata_files",
    "is_repodata_tree",
    "iter_repodata_packages",
    "metadata_path",
    "read_repomd",
]

#: rpm's RPMSENSE_* bits for the comparison names createrepo writes.
_SENSE = {"LT": 2, "GT": 4, "EQ": 8, "LE": 10, "GE": 12}
RPMSENSE_PREREQ = 64
_DEP_KINDS = ("requires", "conflicts", "obsoletes", "provides")
_PACKAGE = frozenset({"package"})

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RepomdEntry:
    """One ``<data>`` element of repomd.xml."""

    type: str
    href: str
    checksum_type: str
    checksum: str
    open_checksum_type: str = ""
    open_checksum: str = ""


@dataclass(frozen=True, slots=True)
class MetaDependency:
    """A dependency as rpm would store it: name, RPMSENSE flags and ``[E:]V[-R]``."""

    name: str
    flags: int
    version: str


@dataclass(frozen=True, slots=True)
class MetaFile:
    """A path of filelists.xml; ``kind`` is ``file``, ``dir`` or ``ghost``."""

    path: str
    kind: str


@dataclass(frozen=True, slots=True)
class MetaChangelog:
    """A changelog entry of other.xml; ``author`` is rpm's CHANGELOGNAME (``Name <mail> evr``)."""

    author: str
    date: int
    text: str


@dataclass(slots=True)
class MetaPackage:
    """What the metadata says about one package; no header, so no SHA1HEADER."""

    pkgid: str
    checksum_type: str
    name: str
    arch: str
    epoch: int
    version: str
    release: str
    summary: str = ""
    description: str = ""
    packager: str = ""
    url: str = ""
    time_file: int = 0
    time_build: int = 0
    size_package: int = 0
    size_installed: int = 0
    size_archive: int = 0
    location_href: str = ""
    location_base: str = ""
    license: str = ""
    vendor: str = ""
    group: str = ""
    buildhost: str = ""
    sourcerpm: str = ""
    dependencies: dict[str, list[MetaDependency]] = field(default_factory=dict)
    files: list[MetaFile] = field(default_factory=list)
    changelogs: list[MetaChangelog] = field(default_factory=list)

    @property
    def is_source(self) -> bool:
        return self.arch in ("src", "nosrc")

    @property
    def filename(self) -> str:
        return self.location_href.rpartition("/")[2]


def is_repodata_tree(root: Path) -> bool:
    """Whether ``root`` holds ``repodata/repomd.xml``."""
    return (root / "repodata" / "repomd.xml").is_file()


def read_repomd(
    repo_root: Path, *, limits: MetadataLimits = DEFAULT_LIMITS
) -> dict[str, RepomdEntry]:
    """The ``<data>`` entries of ``repo_root/repodata/repomd.xml`` by type."""
    path = repo_root / "repodata" / "repomd.xml"
    entries: dict[str, RepomdEntry] = {}
    with open_metadata(path, limits=limits) as stream:
        tags = frozenset({"data"})
        for elem in iter_elements(stream, name=str(path), tags=tags, limits=limits):
            entry = _repomd_entry(elem, path)
            entries[entry.type] = entry
    for needed in ("primary",):
        if needed not in entries:
            raise InputError(f"no <data type={needed!r}>", path=str(path))
    return entries


#: repomd.xml's checksum types by hashlib's names (yum's ``sha`` is SHA-1).
_CHECKSUMS = {"md5": "md5", "sha": "sha1", "sha1": "sha1", "sha224": "sha224",
              "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}  # fmt: skip


def check_metadata_files(
    repo_root: Path,
    kinds: tuple[str, ...] = ("primary", "filelists", "other"),
    *,
    limits: MetadataLimits = DEFAULT_LIMITS,
) -> None:
    """Check each metadata file of ``kinds`` against what repomd.xml records of it, as
    dnf and librepo do before they read one. A mirror caught between two syncs serves
    repomd.xml of one generation and a file of another: read as it was, a primary.xml
    that lacked packages published a snapshot without them (before 2026-12-07).

    The file's checksum decides; where it differs, the checksum of the decompressed
    content (``open-checksum``) may still match: the same metadata compressed again
    (createrepo_c's own test repository ``repo_01`` ships such a primary.xml.gz). A
    file with neither recorded in a type of ``_CHECKSUMS`` is not checked. Raises
    InputError naming the file."""
    repomd = repo_root / "repodata" / "repomd.xml"
    entries = read_repomd(repo_root, limits=limits)
    for kind in kinds:
        entry = entries.get(kind)
        if entry is None:
            continue
        path = metadata_path(repo_root, entry.href)
        found = _digest(path, entry.checksum_type, entry.checksum)
        if found is None:
            continue
        recompressed = _CHECKSUMS.get(entry.open_checksum_type.lower()) and entry.open_checksum
        if (
            recompressed
            and _digest(path, entry.open_checksum_type, entry.open_checksum, limits=limits) is None
        ):
            continue
        raise InputError(
            f"its {entry.checksum_type} is {found}, not {entry.checksum} as {repomd} "
            "records (a mirror caught between two syncs?)",
            path=str(path),
        )


def _digest(
    path: Path, kind: str, want: str, *, limits: MetadataLimits | None = None
) -> str | None:
    """The ``kind`` digest of the file (decompressed within ``limits`` when given) if
    it is not ``want``; None when it is, or when nothing checkable is recorded."""
    algorithm = _CHECKSUMS.get(kind.lower())
    if algorithm is None or not want:
        return None
    digest = hashlib.new(algorithm)
    try:
        # a regular file only, opened without blocking: a FIFO in its place hung the check
        stream = (
            os.fdopen(open_regular(path)[0], "rb")
            if limits is None
            else open_metadata(path, limits=limits)
        )
        with stream:
            while block := stream.read(1 << 20):
                digest.update(block)
    except DECOMPRESSION_ERRORS as exc:
        raise InputError(f"cannot decompress: {exc}", path=str(path)) from exc
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=str(path)) from exc
    found = digest.hexdigest()
    return None if found == want.lower() else found


def _repomd_entry(elem: Element, path: Path) -> RepomdEntry:
    kind = elem.get("type", "")
    location = _child(elem, "location")
    checksum = _child(elem, "checksum")
    href = location.get("href", "") if location is not None else ""
    if not kind or not href:
        raise InputError("<data> without type or location", path=str(path))
    opened = _child(elem, "open-checksum")
    return RepomdEntry(
        type=kind,
        href=href,
        checksum_type=checksum.get("type", "") if checksum is not None else "",
        checksum=(checksum.text or "").strip() if checksum is not None else "",
        open_checksum_type=opened.get("type", "") if opened is not None else "",
        open_checksum=(opened.text or "").strip() if opened is not None else "",
    )


def metadata_path(repo_root: Path, href: str) -> Path:
    """The file ``href`` names, refusing anything that would leave ``repo_root``."""
    candidate = (repo_root / href).resolve()
    if not candidate.is_relative_to(repo_root.resolve()):
        raise InputError("a <location href> leaves the repository", path=str(repo_root))
    return candidate


def iter_repodata_packages(
    repo_root: Path,
    *,
    sources: bool | None = None,
    details: bool = True,
    limits: MetadataLimits = DEFAULT_LIMITS,
) -> Iterator[MetaPackage]:
    """The packages of the repository, with their files and changelog joined in.

    ``sources`` keeps only source (True) or only binary (False) packages; ``details``
    False reads primary.xml alone (no filelists/other), for a quick survey. Every file
    is read within ``limits``.
    """
    entries = read_repomd(repo_root, limits=limits)
    primary = metadata_path(repo_root, entries["primary"].href)
    filelists = entries.get("filelists") if details else None
    files = _Aligned(_iter_side(repo_root, filelists, _parse_filelist, limits))
    other = _Aligned(
        _iter_side(repo_root, entries.get("other") if details else None, _parse_other, limits)
    )
    try:
        with open_metadata(primary, limits=limits) as stream:
            for elem in iter_elements(stream, name=str(primary), tags=_PACKAGE, limits=limits):
                if elem.get("type", "rpm") != "rpm":
                    continue
                package = _parse_primary(elem, primary)
                if sources is not None and package.is_source != sources:
                    files.take(package.pkgid)
                    other.take(package.pkgid)
                    continue
                side_files = files.take(package.pkgid)
                if side_files is not None:
                    package.files = side_files
                package.changelogs = other.take(package.pkgid) or []
                yield package
    finally:
        files.close()
        other.close()


def _iter_side(
    repo_root: Path,
    entry: RepomdEntry | None,
    parse: Callable[[Element], T],
    limits: MetadataLimits,
) -> Generator[tuple[str, T], None, None]:
    if entry is None:
        return
    path = metadata_path(repo_root, entry.href)
    with open_metadata(path, limits=limits) as stream:
        for elem in iter_elements(stream, name=str(path), tags=_PACKAGE, limits=limits):
            yield elem.get("pkgid", ""), parse(elem)


class _Aligned(Generic[T]):
    """Entries of a side file looked up by pkgid, reading ahead only as far as needed."""

    def __init__(self, items: Generator[tuple[str, T], None, None]) -> None:
        self._items = items
        self._early: dict[str, T] = {}
        self._done = False

    def take(self, pkgid: str) -> T | None:
        if pkgid in self._early:
            return self._early.pop(pkgid)
        while not self._done:
            item = next(self._items, None)
            if item is None:
                self._done = True
                break
            if item[0] == pkgid:
                return item[1]
            self._early[item[0]] = item[1]
        return None

    def close(self) -> None:
        self._items.close()


def _child(elem: Element, name: str) -> Element | None:
    for child in elem:
        if local_name(child.tag) == name:
            return child
    return None


def _text(elem: Element, name: str) -> str:
    child = _child(elem, name)
    return (child.text or "") if child is not None else ""


def _int(value: str | None, *, path: Path, field_name: str) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(value)
    except ValueError:
        raise InputError("not an integer", path=str(path), field=field_name) from None


def _parse_primary(elem: Element, path: Path) -> MetaPackage:
    version = _child(elem, "version")
    checksum = _child(elem, "checksum")
    if version is None or checksum is None or not _text(elem, "name"):
        raise InputError("<package> without name, version or checksum", path=str(path))
    times = _child(elem, "time")
    sizes = _child(elem, "size")
    location = _child(elem, "location")
    package = MetaPackage(
        pkgid=(checksum.text or "").strip().lower(),
        checksum_type=checksum.get("type", ""),
        name=_text(elem, "name"),
        arch=_text(elem, "arch"),
        epoch=_int(version.get("epoch"), path=path, field_name="version/@epoch"),
        version=version.get("ver", ""),
        release=version.get("rel", ""),
        summary=_text(elem, "summary"),
        description=_text(elem, "description"),
        packager=_text(elem, "packager"),
        url=_text(elem, "url"),
        location_href=location.get("href", "") if location is not None else "",
        location_base=location.get("{http://www.w3.org/XML/1998/namespace}base", "")
        if location is not None
        else "",
    )
    if times is not None:
        package.time_file = _int(times.get("file"), path=path, field_name="time/@file")
        package.time_build = _int(times.get("build"), path=path, field_name="time/@build")
    if sizes is not None:
        package.size_package = _int(sizes.get("package"), path=path, field_name="size/@package")
        package.size_installed = _int(
            sizes.get("installed"), path=path, field_name="size/@installed"
        )
        package.size_archive = _int(sizes.get("archive"), path=path, field_name="size/@archive")
    fmt = _child(elem, "format")
    if fmt is not None:
        _parse_format(fmt, package)
    return package


def _parse_format(fmt: Element, package: MetaPackage) -> None:
    package.license = _text(fmt, "license")
    package.vendor = _text(fmt, "vendor")
    package.group = _text(fmt, "group")
    package.buildhost = _text(fmt, "buildhost")
    package.sourcerpm = _text(fmt, "sourcerpm")
    for kind in _DEP_KINDS:
        deps = _child(fmt, kind)
        if deps is not None:
            package.dependencies[kind] = [_dependency(entry) for entry in deps]
    package.files = [_meta_file(f) for f in fmt if local_name(f.tag) == "file"]


def _dependency(entry: Element) -> MetaDependency:
    flags = _SENSE.get(entry.get("flags", ""), 0)
    if entry.get("pre") in ("1", "true"):
        flags |= RPMSENSE_PREREQ
    version = entry.get("ver", "")
    epoch = entry.get("epoch", "")
    if version and epoch and epoch != "0":
        version = f"{epoch}:{version}"
    if version and entry.get("rel"):
        version = f"{version}-{entry.get('rel')}"
    return MetaDependency(name=entry.get("name", ""), flags=flags, version=version)


def _meta_file(elem: Element) -> MetaFile:
    return MetaFile(path=elem.text or "", kind=elem.get("type", "file"))


def _parse_filelist(elem: Element) -> list[MetaFile]:
    return [_meta_file(f) for f in elem if local_name(f.tag) == "file"]


def _parse_other(elem: Element) -> list[MetaChangelog]:
    return [
        MetaChangelog(
            author=c.get("author", ""),
            date=int(c.get("date", "0") or 0) if (c.get("date") or "0").isdigit() else 0,
            text=c.text or "",
        )
        for c in elem
        if local_name(c.tag) == "changelog"
    ]
