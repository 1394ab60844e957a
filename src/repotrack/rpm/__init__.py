"""RPM reading: package files, apt-rpm header lists, hashes and version comparison.

The bottom layer of repotrack: pure Python (plus mmh3 and zstandard), no database, no
network. Readers raise :class:`repotrack.errors.InputError` naming the file and byte
offset for every malformed input, and bound every size they read by the file and by
librpm's own limits.
"""

from __future__ import annotations

from repotrack.rpm.compression import detect_compression, open_compressed
from repotrack.rpm.cpio import CpioEntry
from repotrack.rpm.digests import FileDigests, file_digests
from repotrack.rpm.files import file_kind, file_paths
from repotrack.rpm.hashes import changelog_hash, mmhash, mmhash32, pkg_hash
from repotrack.rpm.header import Header
from repotrack.rpm.headerlist import iter_header_list
from repotrack.rpm.package import (
    Lead,
    RpmFile,
    header_pkg_hash,
    merge_signature,
    quick_pkg_hash,
    read_rpm,
)
from repotrack.rpm.payload import iter_payload
from repotrack.rpm.spec import SpecFile, extract_spec
from repotrack.rpm.tags import SigTag, Tag, TagType
from repotrack.rpm.vercmp import compare_evr, parse_evr, rpmvercmp
from repotrack.rpm.verkey import VersionOrder, evr_key, version_key

__all__ = [
    "CpioEntry",
    "FileDigests",
    "Header",
    "Lead",
    "RpmFile",
    "SigTag",
    "SpecFile",
    "Tag",
    "TagType",
    "VersionOrder",
    "changelog_hash",
    "compare_evr",
    "detect_compression",
    "evr_key",
    "extract_spec",
    "file_digests",
    "file_kind",
    "file_paths",
    "header_pkg_hash",
    "iter_header_list",
    "iter_payload",
    "merge_signature",
    "mmhash",
    "mmhash32",
    "open_compressed",
    "parse_evr",
    "pkg_hash",
    "quick_pkg_hash",
    "read_rpm",
    "rpmvercmp",
    "version_key",
]
