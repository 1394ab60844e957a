"""The ALTRepo tables a repository load writes, with their column lists.

Rows are built as tuples in exactly these orders; ``Nested`` columns appear as their
flattened ``col.sub`` arrays, as the store's ``insert`` expects.

Loads write the target tables themselves (``Files``, ``FileNames``, ``Specfiles``,
``Packages``, ...), not the schema's ``*_buffer`` and ``*_insert`` tables:

- a ``Buffer`` keeps rows in memory and flushes each table on its own timer, so a
  killed loader lost some tables' rows and kept others' (``PackageHash`` flushed,
  ``Packages`` not): a rerun then believed half-written packages complete. Rows
  written straight to a MergeTree table are on disk when the insert returns, so
  writing ``PackageHash`` last makes it a true "this package is stored" mark;
- the ``*_insert`` tables are ``Null`` tables whose materialized views compute file
  name hashes and decode spec files. The loader sends the per-file block in the
  ``Files_insert`` layout through ``FILES_SELECT`` and ``FILE_NAMES_SELECT`` instead,
  the same expressions as the views, straight into ``Files`` and ``FileNames``; the
  spec content goes in as it is. A test loads the same packages both ways and
  compares every table.

Per-file and Depends rows are encoded into Native blocks by the worker processes,
which have no store to ask for column types; their types are therefore written down
here, as the schema (``store/schema/0001_packages.sql``) declares them.
A test compares them with the store's ``system.columns``, so the two cannot drift
apart unnoticed.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CHANGELOG",
    "CHANGELOG_COLUMNS",
    "DEPENDS",
    "DEPENDS_COLUMNS",
    "DEPENDS_TYPES",
    "FILES",
    "FILES_COLUMNS",
    "FILES_SELECT",
    "FILE_INPUT_COLUMNS",
    "FILE_INPUT_TYPES",
    "FILE_NAMES",
    "FILE_NAMES_COLUMNS",
    "FILE_NAMES_SELECT",
    "FILE_NAME_INPUT_COLUMNS",
    "FILE_NAME_INPUT_TYPES",
    "PACKAGES",
    "PACKAGES_COLUMNS",
    "PACKAGE_HASH",
    "PACKAGE_HASH_COLUMNS",
    "PACKAGE_SET",
    "PACKAGE_SET_COLUMNS",
    "PACKAGE_SET_NAME",
    "PACKAGE_SET_NAME_COLUMNS",
    "SPECFILES",
    "SPECFILES_COLUMNS",
]

CHANGELOG: Final = "Changelog"
CHANGELOG_COLUMNS: Final = ("chlog_hash", "chlog_text")

#: Per-file columns as headers and metadata give them (the ``Files_insert`` layout):
#: the path itself where ``Files`` keeps its two hashes.
FILE_INPUT_COLUMNS: Final = (
    "pkg_hash",
    "file_name",
    "file_linkto",
    "file_md5",
    "file_size",
    "file_mode",
    "file_rdev",
    "file_mtime",
    "file_flag",
    "file_username",
    "file_groupname",
    "file_verifyflag",
    "file_device",
    "file_lang",
    "file_class",
)

FILE_INPUT_TYPES: Final = (
    "UInt64",
    "String",
    "String",
    "FixedString(16)",
    "UInt32",
    "UInt16",
    "UInt16",
    "DateTime",
    "UInt16",
    "LowCardinality(String)",
    "LowCardinality(String)",
    "UInt32",
    "UInt32",
    "LowCardinality(String)",
    "Enum8('file' = 0, 'directory' = 1, 'symlink' = 2, 'socket' = 3, 'block' = 4, "
    "'char' = 5, 'fifo' = 6)",
)

#: A file's directory as the schema's views compute it: the path without its last
#: ``/`` component (``""`` when there is none).
_DIRECTORY: Final = "arrayStringConcat(arrayPopBack(splitByChar('/', file_name)), '/')"

FILES: Final = "Files"
FILES_COLUMNS: Final = ("pkg_hash", "file_hashname", "file_hashdir", *FILE_INPUT_COLUMNS[2:])

#: Settings of the two inserts below. ``optimize_on_insert`` collapses the rows of one
#: block that share a sorting key before they are written, which a load never has to
#: do: a block holds each package once, each file once, and each name once (DISTINCT);
#: switched off, the insert skips that pass (measured: a quarter of the ``Files``
#: insert's CPU). Rows repeated across blocks are left to merges, as before.
_INSERT_SETTINGS: Final = " SETTINGS optimize_on_insert = 0"

#: ``Files`` rows from a block in the ``FILE_INPUT_COLUMNS`` layout (``mv_files``'s SELECT).
FILES_SELECT: Final = (
    "SELECT pkg_hash, murmurHash3_64(file_name), "  # noqa: S608 - constant text
    f"murmurHash3_64({_DIRECTORY}), "
    + ", ".join(FILE_INPUT_COLUMNS[2:])
    + " FROM {source}"
    + _INSERT_SETTINGS
)

FILE_NAMES: Final = "FileNames"
FILE_NAMES_COLUMNS: Final = ("fn_name",)
#: The block ``FILE_NAMES_SELECT`` reads: the ``file_name`` column of the per-file
#: block alone (the other fourteen columns would be written, read and parsed again
#: for nothing).
FILE_NAME_INPUT_COLUMNS: Final = FILE_INPUT_COLUMNS[1:2]
FILE_NAME_INPUT_TYPES: Final = FILE_INPUT_TYPES[1:2]
#: ``FileNames`` rows: every path and its directory, once per block (the two
#: ``mv_filenames_*`` views; the table keeps one row per name after merges).
FILE_NAMES_SELECT: Final = (
    f"SELECT DISTINCT arrayJoin([file_name, {_DIRECTORY}]) FROM {{source}}"  # noqa: S608
    + _INSERT_SETTINGS
)

DEPENDS: Final = "Depends"
DEPENDS_COLUMNS: Final = ("pkg_hash", "dp_name", "dp_version", "dp_flag", "dp_type")
DEPENDS_TYPES: Final = (
    "UInt64",
    "String",
    "String",
    "UInt32",
    "Enum8('require' = 1, 'conflict' = 2, 'obsolete' = 3, 'provide' = 4)",
)

PACKAGES: Final = "Packages"
PACKAGES_COLUMNS: Final = (
    "pkg_hash",
    "pkg_cs",
    "pkg_packager",
    "pkg_packager_email",
    "pkg_name",
    "pkg_arch",
    "pkg_version",
    "pkg_release",
    "pkg_epoch",
    "pkg_serial_",
    "pkg_buildtime",
    "pkg_buildhost",
    "pkg_size",
    "pkg_archivesize",
    "pkg_filesize",
    "pkg_rpmversion",
    "pkg_cookie",
    "pkg_sourcepackage",
    "pkg_disttag",
    "pkg_sourcerpm",
    "pkg_srcrpm_hash",
    "pkg_filename",
    "pkg_complete",
    "pkg_summary",
    "pkg_description",
    "pkg_changelog.date",
    "pkg_changelog.name",
    "pkg_changelog.evr",
    "pkg_changelog.hash",
    "pkg_distribution",
    "pkg_vendor",
    "pkg_gif",
    "pkg_xpm",
    "pkg_license",
    "pkg_group_",
    "pkg_url",
    "pkg_os",
    "pkg_prein",
    "pkg_postin",
    "pkg_preun",
    "pkg_postun",
    "pkg_icon",
    "pkg_preinprog",
    "pkg_postinprog",
    "pkg_preunprog",
    "pkg_postunprog",
    "pkg_buildarchs",
    "pkg_verifyscript",
    "pkg_verifyscriptprog",
    "pkg_prefixes",
    "pkg_instprefixes",
    "pkg_optflags",
    "pkg_disturl",
    "pkg_payloadformat",
    "pkg_payloadcompressor",
    "pkg_payloadflags",
    "pkg_platform",
    # Added by migration 0007 (the ALTRepo API reads them).
    "pkg_vcs",
    "pkg_pretrans",
    "pkg_posttrans",
)

SPECFILES: Final = "Specfiles"
SPECFILES_COLUMNS: Final = (
    "pkg_hash",
    "pkg_name",
    "pkg_epoch",
    "pkg_version",
    "pkg_release",
    "specfile_name",
    "specfile_date",
    "specfile_content",
)

PACKAGE_HASH: Final = "PackageHash"
PACKAGE_HASH_COLUMNS: Final = ("pkgh_mmh", "pkgh_md5", "pkgh_sha1", "pkgh_sha256", "pkgh_blake2b")

PACKAGE_SET: Final = "PackageSet"
PACKAGE_SET_COLUMNS: Final = ("pkgset_uuid", "pkg_hash")

PACKAGE_SET_NAME: Final = "PackageSetName"
PACKAGE_SET_NAME_COLUMNS: Final = (
    "pkgset_uuid",
    "pkgset_puuid",
    "pkgset_ruuid",
    "pkgset_depth",
    "pkgset_nodename",
    "pkgset_date",
    "pkgset_tag",
    "pkgset_complete",
    "pkgset_kv.k",
    "pkgset_kv.v",
)
