"""Find and read the spec file inside a source package's payload, streaming.

The payload is decompressed on the fly (gzip, bzip2, xz, legacy lzma, zstd or none,
sniffed by magic) and walked member by member; only the spec's bytes are kept, and
only up to ``max_bytes``. This replaces ALTRepo's per-SRPM subprocess, which existed
because its extractor leaked memory.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from repotrack.rpm.cpio import CpioEntry
from repotrack.rpm.files import file_paths
from repotrack.rpm.header import Header
from repotrack.rpm.package import RpmFile, read_rpm
from repotrack.rpm.payload import iter_payload
from repotrack.rpm.tags import Tag

__all__ = ["DEFAULT_MAX_SPEC_BYTES", "SpecFile", "extract_spec"]

DEFAULT_MAX_SPEC_BYTES: Final = 16 << 20
_SPECFILE_FLAG: Final = 32


@dataclass(frozen=True, slots=True)
class SpecFile:
    """The spec file of a source package: member name, cpio mtime and raw bytes."""

    name: str
    mtime: int
    content: bytes


def extract_spec(
    path: str | Path | RpmFile, *, max_bytes: int = DEFAULT_MAX_SPEC_BYTES
) -> SpecFile | None:
    """The spec file of the source package at ``path``; None for a binary package or a
    source package without one. An already read :class:`RpmFile` may be passed instead
    of a path, to save reading its headers twice.

    The member flagged %spec (RPMFILE_SPECFILE) in the header wins; otherwise the first
    regular member whose name ends in ".spec" (ALTRepo's rule). Raises InputError for a
    corrupt payload, an unsafe member name or a spec larger than ``max_bytes``.
    """
    package = path if isinstance(path, RpmFile) else read_rpm(path)
    if not package.is_source:
        return None
    flagged = _flagged_spec(package.header)

    def wanted(entry: CpioEntry) -> bool:
        if not entry.is_regular:
            return False
        return entry.name == flagged if flagged else entry.name.endswith(".spec")

    with closing(iter_payload(package, wanted, max_bytes=max_bytes)) as members:
        for entry, content in members:
            return SpecFile(entry.name, entry.mtime, content)
    return None


def _flagged_spec(header: Header) -> str | None:
    flags = header.get_ints(Tag.FILEFLAGS)
    if not any(f & _SPECFILE_FLAG for f in flags):
        return None
    for path, flag in zip(file_paths(header), flags, strict=False):
        if flag & _SPECFILE_FLAG:
            return path.lstrip("/")
    return None
