"""ALT Linux apt-rpm "date" snapshots: the tree layout, release files, task.info, hash lists.

Layout (ALTRepo §2.2)::

    <root>/<arch>/base/release            "Components: classic debuginfo", maybe "BLAKE2b:"
    <root>/<arch>/base/pkglist.<comp>.xz  apt header list of the binaries of a component
    <root>/<arch>/base/srclist.classic.xz apt header list of the sources
    <root>/<arch>/RPMS.<comp>/<file>.rpm
    <root>/files/SRPMS/<file>.src.rpm     every source package is read from here
    <root>/files/list/task.info           "key value" lines (the "task" key is load-bearing)
    <root>/files/list/<arch>.hash.xz      "<sha256>  <filename>" lines

Unlike the original, a component named in a release file without its pkglist is an
error naming the missing file (the original died with a KeyError). Every file is read
within ``sources.limits.MetadataLimits`` (regular files only, bounded lines, bounded
expansion).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from repotrack.errors import InputError
from repotrack.sources.compression import DECOMPRESSION_ERRORS, open_metadata
from repotrack.sources.limits import DEFAULT_LIMITS, MetadataLimits, open_regular

__all__ = [
    "ARCHS",
    "AptComponent",
    "AptTree",
    "IndexEntry",
    "Release",
    "is_apt_tree",
    "iter_header_index",
    "read_hash_list",
    "read_release",
    "read_task_info",
    "scan_apt_tree",
]

#: Architecture directories a snapshot may hold, in the order the original visits them.
ARCHS = (
    "src",
    "aarch64",
    "armh",
    "i586",
    "ppc64le",
    "x86_64",
    "x86_64-i586",
    "noarch",
    "mipsel",
    "riscv64",
    "e2k",
    "e2kv4",
    "e2kv5",
    "e2kv6",
)


@dataclass(frozen=True, slots=True)
class Release:
    """An APT ``base/release`` file: its components and whether it lists BLAKE2b sums."""

    components: tuple[str, ...]
    has_blake2b: bool


@dataclass(frozen=True, slots=True)
class AptComponent:
    """One ``<arch>/RPMS.<comp>`` with the pkglist that enumerates it."""

    arch: str
    name: str
    pkglist: Path
    rpms_dir: Path

    @property
    def path(self) -> str:
        """The path the package-set kv records, ``<arch>/RPMS.<comp>``."""
        return f"{self.arch}/RPMS.{self.name}"


@dataclass(frozen=True, slots=True)
class AptTree:
    """A validated snapshot tree: what to read, and the metadata for the root node."""

    root: Path
    archs: tuple[str, ...]
    components: tuple[AptComponent, ...]
    srclists: tuple[Path, ...]
    srpms_paths: tuple[str, ...]
    task_info: dict[str, str]
    use_blake2b: bool

    @property
    def srpms_dir(self) -> Path:
        return self.root / "files" / "SRPMS"

    @property
    def list_dir(self) -> Path:
        return self.root / "files" / "list"

    def hash_list(self, arch: str) -> Path:
        return self.list_dir / f"{arch}.hash.xz"


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """A package as an apt header list names it, with the file digests it records."""

    filename: str
    md5: bytes
    blake2b: bytes


def is_apt_tree(root: Path) -> bool:
    """Whether ``root`` looks like an apt-rpm snapshot (has ``files/list``)."""
    return (root / "files" / "list").is_dir()


def scan_apt_tree(root: Path, *, limits: MetadataLimits = DEFAULT_LIMITS) -> AptTree:
    """Check the layout and collect the parts of a snapshot; nothing is decompressed yet."""
    list_dir = root / "files" / "list"
    if not list_dir.is_dir():
        raise InputError("not an apt-rpm snapshot: files/list is missing", path=str(root))
    archs = tuple(a for a in ARCHS if (root / a).is_dir())
    if not archs:
        raise InputError(f"no architecture directory ({', '.join(ARCHS)})", path=str(root))
    components: list[AptComponent] = []
    srclists: list[Path] = []
    use_blake2b = False
    for arch in archs:
        base = root / arch / "base"
        if not base.is_dir():
            continue
        release = read_release(base / "release", limits=limits)
        use_blake2b = use_blake2b or release.has_blake2b
        srclist = base / "srclist.classic.xz"
        if srclist.is_file():
            srclists.append(srclist)
        for comp in release.components:
            pkglist = base / f"pkglist.{comp}.xz"
            if not pkglist.is_file():
                raise InputError(
                    f"component {comp!r} is listed in base/release but its pkglist is missing",
                    path=str(pkglist),
                )
            components.append(AptComponent(arch, comp, pkglist, root / arch / f"RPMS.{comp}"))
    task_info_path = list_dir / "task.info"
    return AptTree(
        root=root,
        archs=archs,
        components=tuple(components),
        srclists=tuple(srclists),
        srpms_paths=tuple(f"{arch}/SRPMS.classic" for arch in archs),
        task_info=read_task_info(task_info_path, limits=limits) if task_info_path.exists() else {},
        use_blake2b=use_blake2b,
    )


def read_release(path: Path, *, limits: MetadataLimits = DEFAULT_LIMITS) -> Release:
    """Parse ``Key: value`` lines; only ``Components`` and the presence of ``BLAKE2b`` matter."""
    text = _read_text(path, limits)
    components: tuple[str, ...] = ()
    has_blake2b = False
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep or line[:1].isspace():
            continue
        if key == "Components":
            components = tuple(value.split())
        elif key == "BLAKE2b":
            has_blake2b = True
    for comp in components:
        if "/" in comp or comp.startswith("."):
            raise InputError(
                "a component name holds '/' or starts with '.'", path=str(path), field="Components"
            )
    return Release(components=components, has_blake2b=has_blake2b)


def read_task_info(path: Path, *, limits: MetadataLimits = DEFAULT_LIMITS) -> dict[str, str]:
    """``key value`` lines; other lines are ignored (the original's load stopped on a
    line that was not two words)."""
    info: dict[str, str] = {}
    for line in _read_text(path, limits).splitlines():
        tokens = line.split()
        if len(tokens) == 2:
            info[tokens[0]] = tokens[1]
    return info


def read_hash_list(path: Path, *, limits: MetadataLimits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """``<sha256 hex>  <filename>`` lines (sha256sum format) -> {filename: 32-byte digest}."""
    digests: dict[str, bytes] = {}
    try:
        with open_metadata(path, limits=limits) as stream:
            for number, raw in enumerate(_lines(stream, path, limits), start=1):
                line = raw.decode("utf-8", "replace").strip()
                if not line:
                    continue
                digest, _, name = line.partition(" ")
                name = name.strip().lstrip("*")
                if len(digest) != 64 or not name:
                    raise InputError(f"line {number}: expected '<sha256>  <file>'", path=str(path))
                try:
                    digests[name] = bytes.fromhex(digest)
                except ValueError:
                    raise InputError(f"line {number}: bad sha256", path=str(path)) from None
    except DECOMPRESSION_ERRORS as exc:
        raise InputError(f"cannot read: {exc}", path=str(path)) from exc
    return digests


def iter_header_index(
    path: Path, *, limits: MetadataLimits = DEFAULT_LIMITS
) -> Iterator[IndexEntry]:
    """The file names and digests of an apt header list (pkglist/srclist, any compression)."""
    from repotrack.rpm import Tag, iter_header_list

    try:
        with open_metadata(path, limits=limits) as stream:
            for header in iter_header_list(stream, source=str(path)):
                filename = header.get(Tag.APTINDEXLEGACYFILENAME)
                if not isinstance(filename, str) or not filename:
                    raise InputError("header without CRPMTAG_FILENAME", path=str(path))
                yield IndexEntry(
                    filename=filename,
                    md5=_hex_tag(header.get(Tag.APTINDEXLEGACYMD5), path, "CRPMTAG_MD5"),
                    blake2b=_hex_tag(
                        header.get(Tag.APTINDEXLEGACYBLAKE2B), path, "CRPMTAG_BLAKE2B"
                    ),
                )
    except DECOMPRESSION_ERRORS as exc:
        raise InputError(f"cannot read: {exc}", path=str(path)) from exc


def _hex_tag(value: object, path: Path, name: str) -> bytes:
    if value is None or value == "":
        return b""
    if not isinstance(value, str):
        raise InputError("expected a hex string", path=str(path), field=name)
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise InputError("not a hex string", path=str(path), field=name) from None


def _lines(stream: BinaryIO, path: Path, limits: MetadataLimits) -> Iterator[bytes]:
    """The lines of ``stream``, refusing one longer than ``limits.max_line`` bytes."""
    while True:
        line = stream.readline(limits.max_line + 1)
        if not line:
            return
        if len(line) > limits.max_line and not line.endswith(b"\n"):
            raise InputError(
                f"a line is longer than {limits.max_line} bytes (the line limit)", path=str(path)
            )
        yield line


def _read_text(path: Path, limits: MetadataLimits) -> str:
    """A small text file, whole: a regular file of at most ``limits.max_text_file`` bytes."""
    fd, _ = open_regular(path)
    with os.fdopen(fd, "rb") as stream:
        try:
            data = stream.read(limits.max_text_file + 1)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from exc
    if len(data) > limits.max_text_file:
        raise InputError(
            f"larger than {limits.max_text_file} bytes (the limit for this file)", path=str(path)
        )
    for line in data.splitlines():
        if len(line) > limits.max_line:
            raise InputError(
                f"a line is longer than {limits.max_line} bytes (the line limit)", path=str(path)
            )
    return data.decode("utf-8", errors="replace")
