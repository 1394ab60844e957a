"""Rows from createrepo metadata alone, for repositories whose RPM files are not at hand.

There is no header, so no SHA1HEADER and no ALTRepo ``pkg_hash``. The id used instead
is built the same snowflake way (ALTRepo §0.2) but from what the metadata has::

    pkg_hash = 1 << 63
             | (clamp(buildtime - 1_000_000_000, 0, 2**31 - 1) << 32)
             | mmh3_32("repodata:" + checksum_type + ":" + pkgid)

Bit 63 is the marker: a header-derived id has ``buildtime - 1e9`` in its high half,
which stays below 2**31 until the year 2038 + 31 (buildtime 3 147 483 648), so the two
kinds cannot collide before then. The same package file always gets the same id (the
``pkgid`` is the file's checksum), ids still sort by build time, and loading the same
metadata twice dedupes. If the RPM file is loaded later, it gets its real id: a
metadata-derived row is a stand-in, never merged with the header-derived one.

Digests: ``pkgh_sha256`` holds the ``pkgid`` when it is a SHA-256 (the usual case);
MD5, SHA1HEADER and BLAKE2b stay zero. File rows carry names and kinds only (no
modes, sizes or digests: filelists.xml has none); ``ghost`` files get RPMFILE_GHOST.
"""

from __future__ import annotations

from typing import Any

from repotrack.ingest.rows import (
    Digests,
    PackageRows,
    changelog_rows,
    depend_block,
    file_block,
    package_arch,
    set_changelog,
    split_packager,
)
from repotrack.rpm import mmhash32
from repotrack.sources import MetaChangelog, MetaPackage

__all__ = [
    "METADATA_ID_BIT",
    "metadata_depend_columns",
    "metadata_file_columns",
    "metadata_pkg_hash",
    "metadata_rows",
]

METADATA_ID_BIT = 1 << 63
_EPOCH = 1_000_000_000
_RPMFILE_GHOST = 1 << 6
_MODE_DIR = 0o040755
_MODE_FILE = 0o100644
_DEP_TYPES = {
    "requires": "require",
    "conflicts": "conflict",
    "obsoletes": "obsolete",
    "provides": "provide",
}


def metadata_pkg_hash(meta: MetaPackage) -> int:
    """The deterministic stand-in id of a package known only from metadata."""
    high = min(max(meta.time_build - _EPOCH, 0), 0x7FFFFFFF)
    low = mmhash32(f"repodata:{meta.checksum_type}:{meta.pkgid}")
    return METADATA_ID_BIT | (high << 32) | (low & 0xFFFFFFFF)


def metadata_digests(meta: MetaPackage) -> Digests:
    sha256 = b""
    if meta.checksum_type == "sha256" and len(meta.pkgid) == 64:
        try:
            sha256 = bytes.fromhex(meta.pkgid)
        except ValueError:
            sha256 = b""
    return Digests(sha256=sha256)


def newest_first(entries: list[MetaChangelog]) -> list[MetaChangelog]:
    """The entries in a header's order, newest first, as every reader of ``pkg_changelog``
    expects (entry 1 is the package's latest change: ``SrcPackagesLastChangelog``, errata
    made from changelogs). createrepo_c (and yum's createrepo before it) writes
    ``other.xml`` oldest first, the header's list turned around; SUSE's generator of
    openSUSE 10.x wrote it newest first, the header's list as it is. Which one a package
    has is told by its first and last dates: a list that starts newer than it ends is
    kept, any other is turned around. Entries of one date then stay in the header's
    order either way; turning a newest-first list around too would swap them (a second
    entry of the same day would become the "latest change"). The stable sort by date
    after that only reorders a list that is in neither order."""
    ordered = entries if entries and entries[0].date > entries[-1].date else entries[::-1]
    return sorted(ordered, key=lambda entry: entry.date, reverse=True)


def metadata_rows(meta: MetaPackage) -> PackageRows:
    pkg_hash = metadata_pkg_hash(meta)
    package = _package(meta, pkg_hash)
    entries = newest_first(meta.changelogs)
    nested, changelogs = changelog_rows(
        [c.date for c in entries], [c.author for c in entries], [c.text for c in entries]
    )
    set_changelog(package, nested)
    return PackageRows(
        pkg_hash=pkg_hash,
        name=meta.name,
        arch=package["pkg_arch"],
        source=meta.is_source,
        filename=meta.filename,
        sourcerpm=package["pkg_sourcerpm"],
        digests=metadata_digests(meta),
        package=package,
        files=file_block(metadata_file_columns(meta, pkg_hash)),
        depends=depend_block(metadata_depend_columns(meta, pkg_hash)),
        changelogs=changelogs,
    )


def metadata_depend_columns(meta: MetaPackage, pkg_hash: int) -> list[list[Any]]:
    """``Depends`` columns (``DEPENDS_COLUMNS`` order) from the metadata's dependency lists."""
    deps = [(_DEP_TYPES[kind], dep) for kind, found in meta.dependencies.items() for dep in found]
    return [
        [pkg_hash] * len(deps),
        [dep.name for _, dep in deps],
        [dep.version for _, dep in deps],
        [dep.flags for _, dep in deps],
        [kind for kind, _ in deps],
    ]


def metadata_file_columns(meta: MetaPackage, pkg_hash: int) -> list[list[Any]]:
    """Per-file columns (``FILE_INPUT_COLUMNS`` order): names and kinds, the rest zero."""
    count = len(meta.files)
    dirs = [f.kind == "dir" for f in meta.files]
    zeros = [0] * count
    empty = [""] * count
    return [
        [pkg_hash] * count,
        [f.path for f in meta.files],
        empty,
        [b""] * count,
        zeros,
        [_MODE_DIR if is_dir else _MODE_FILE for is_dir in dirs],
        zeros,
        zeros,
        [_RPMFILE_GHOST if f.kind == "ghost" else 0 for f in meta.files],
        empty,
        empty,
        zeros,
        zeros,
        empty,
        ["directory" if is_dir else "file" for is_dir in dirs],
    ]


def _package(meta: MetaPackage, pkg_hash: int) -> dict[str, Any]:
    packager, email = split_packager(meta.packager)
    source = meta.is_source
    empty: list[str] = []
    return {
        "pkg_hash": pkg_hash,
        "pkg_cs": b"",
        "pkg_packager": packager,
        "pkg_packager_email": email,
        "pkg_name": meta.name,
        "pkg_arch": package_arch(meta.name, meta.arch),
        "pkg_version": meta.version,
        "pkg_release": meta.release,
        "pkg_epoch": meta.epoch,
        "pkg_serial_": meta.epoch,
        "pkg_buildtime": max(meta.time_build, 0),
        "pkg_buildhost": meta.buildhost,
        "pkg_size": meta.size_installed,
        "pkg_archivesize": meta.size_archive,
        "pkg_filesize": meta.size_package,
        "pkg_rpmversion": "",
        "pkg_cookie": "",
        "pkg_sourcepackage": int(source),
        "pkg_disttag": "",
        "pkg_sourcerpm": meta.filename if source else meta.sourcerpm,
        "pkg_srcrpm_hash": pkg_hash if source else 0,
        "pkg_filename": meta.filename,
        "pkg_complete": 0,
        "pkg_summary": meta.summary,
        "pkg_description": meta.description,
        "pkg_distribution": "",
        "pkg_vendor": meta.vendor,
        "pkg_gif": "",
        "pkg_xpm": "",
        "pkg_license": meta.license,
        "pkg_group_": meta.group,
        "pkg_url": meta.url,
        "pkg_os": "linux",
        "pkg_prein": "",
        "pkg_postin": "",
        "pkg_preun": "",
        "pkg_postun": "",
        "pkg_icon": "",
        "pkg_preinprog": empty,
        "pkg_postinprog": empty,
        "pkg_preunprog": empty,
        "pkg_postunprog": empty,
        "pkg_buildarchs": empty,
        "pkg_verifyscript": "",
        "pkg_verifyscriptprog": empty,
        "pkg_prefixes": empty,
        "pkg_instprefixes": empty,
        "pkg_optflags": "",
        "pkg_disturl": "",
        "pkg_payloadformat": "",
        "pkg_payloadcompressor": "",
        "pkg_payloadflags": "",
        "pkg_platform": "",
        "pkg_vcs": "",
        "pkg_pretrans": "",
        "pkg_posttrans": "",
    }
