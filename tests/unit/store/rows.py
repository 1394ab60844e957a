"""Row builders for tests that put a few packages into a store directly."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from repotrack.store import Store

PACKAGE_COLUMNS = (
    "pkg_hash",
    "pkg_cs",
    "pkg_name",
    "pkg_arch",
    "pkg_version",
    "pkg_release",
    "pkg_epoch",
    "pkg_buildtime",
    "pkg_sourcepackage",
    "pkg_sourcerpm",
    "pkg_srcrpm_hash",
    "pkg_summary",
    "pkg_license",
    "pkg_packager",
    "pkg_filename",
    "pkg_changelog.date",
    "pkg_changelog.name",
    "pkg_changelog.evr",
    "pkg_changelog.hash",
)
NODE_COLUMNS = (
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
ZERO = uuid.UUID(int=0)


def package(
    pkg_hash: int,
    name: str,
    version: str,
    release: str = "alt1",
    *,
    arch: str = "x86_64",
    epoch: int = 0,
    source: bool = False,
    srcrpm: str = "",
    srcrpm_hash: int = 0,
    changelog: Sequence[tuple[datetime, str, str, int]] = (),
) -> tuple[Any, ...]:
    return (
        pkg_hash,
        b"\x01" * 20,
        name,
        "src" if source else arch,
        version,
        release,
        epoch,
        1700000000,
        int(source),
        srcrpm,
        srcrpm_hash,
        f"{name} summary",
        "GPLv2+",
        "Packager <p@example.org>",
        f"{name}-{version}-{release}.{arch}.rpm",
        [c[0] for c in changelog],
        [c[1] for c in changelog],
        [c[2] for c in changelog],
        [c[3] for c in changelog],
    )


def load_snapshot(
    store: Store,
    branch: str,
    day: datetime,
    packages: Sequence[tuple[Any, ...]],
    *,
    root: uuid.UUID | None = None,
) -> uuid.UUID:
    """Write a repository snapshot the ALTRepo way: content first, the root row last."""
    root = root or uuid.uuid4()
    component = uuid.uuid4()
    store.insert("Packages_buffer", PACKAGE_COLUMNS, packages)
    store.insert(
        "PackageSet_buffer", ("pkgset_uuid", "pkg_hash"), [(component, p[0]) for p in packages]
    )
    store.insert(
        "PackageSetName",
        NODE_COLUMNS,
        [(component, root, root, 1, "classic", day, "", 1, [], [])],
    )
    store.insert(
        "PackageSetName",
        NODE_COLUMNS,
        [
            (
                root,
                ZERO,
                root,
                0,
                branch,
                day,
                f"{branch}-{day:%Y%m%d}",
                1,
                ["class"],
                ["repository"],
            )
        ],
    )
    return root


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def _node(
    node: uuid.UUID, parent: uuid.UUID, root: uuid.UUID, depth: int, name: str, day: datetime
) -> tuple[Any, ...]:
    return (node, parent, root, depth, name, day, "", 1, [], [])


def load_branch_snapshot(
    store: Store,
    branch: str,
    day: datetime,
    sources: Sequence[tuple[Any, ...]],
    binaries: Sequence[tuple[Any, ...]],
    *,
    task: int = 0,
) -> uuid.UUID:
    """A snapshot shaped like ALTRepo's: root -> srpm, root -> x86_64 -> classic."""
    root, srpm, arch, classic = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    store.insert("Packages_buffer", PACKAGE_COLUMNS, [*sources, *binaries])
    store.insert(
        "PackageSet_buffer",
        ("pkgset_uuid", "pkg_hash"),
        [(srpm, p[0]) for p in sources] + [(classic, p[0]) for p in binaries],
    )
    store.insert(
        "PackageSetName",
        NODE_COLUMNS,
        [
            _node(srpm, root, root, 1, "srpm", day),
            _node(arch, root, root, 1, "x86_64", day),
            _node(classic, arch, root, 2, "classic", day),
        ],
    )
    store.insert(
        "PackageSetName",
        NODE_COLUMNS,
        [
            (
                root,
                ZERO,
                root,
                0,
                branch,
                day,
                f"{branch}-{day:%Y%m%d}",
                1,
                ["class", "task"],
                ["repository", str(task)],
            )
        ],
    )
    return root


FOO_SRC = 1001
FOO_BIN = 1002
LIBFOO_BIN = 1003
BAR_SRC = 1004
BAR_BIN = 1005
FOO2_SRC = 2001
FOO2_BIN = 2002
BAZ_SRC = 2003
BAZ_BIN = 2004
CHLOG_1 = 9001
CHLOG_2 = 9002
MAY = datetime(2024, 5, 1, tzinfo=UTC)
JUNE = datetime(2024, 6, 1, tzinfo=UTC)


def load_two_snapshots(store: Store) -> None:
    """p10 on 2024-05-01 (foo 1.0, bar 2.0) and 2024-06-01 (foo 1.10, baz 0.1; bar gone).

    foo 1.0 -> 1.10 is an update only by rpm's rules (a string compare says 1.10 < 1.9 < 1.0
    is not even the question: "1.10" sorts before "1.9" as text, after it for rpm).
    """
    old_entry = (
        datetime(2024, 4, 1, tzinfo=UTC),
        "Ivan <ivan at altlinux.org>",
        "1.0-alt1",
        CHLOG_1,
    )
    new_entry = (
        datetime(2024, 5, 20, tzinfo=UTC),
        "Ivan <ivan at altlinux.org>",
        "1.10-alt1",
        CHLOG_2,
    )
    store.insert(
        "Changelog_buffer",
        ("chlog_hash", "chlog_text"),
        [(CHLOG_1, "- 1.0 released"), (CHLOG_2, "- 1.10 released (fixes CVE-2024-0001)")],
    )
    may_src = [
        package(FOO_SRC, "foo", "1.0", source=True, changelog=[old_entry]),
        package(BAR_SRC, "bar", "2.0", source=True),
    ]
    may_bin = [
        package(
            FOO_BIN,
            "foo",
            "1.0",
            srcrpm="foo-1.0-alt1.src.rpm",
            srcrpm_hash=FOO_SRC,
            changelog=[old_entry],
        ),
        package(LIBFOO_BIN, "libfoo", "1.0", srcrpm="foo-1.0-alt1.src.rpm", srcrpm_hash=FOO_SRC),
        package(
            BAR_BIN, "bar", "2.0", arch="noarch", srcrpm="bar-2.0-alt1.src.rpm", srcrpm_hash=BAR_SRC
        ),
    ]
    load_branch_snapshot(store, "p10", MAY, may_src, may_bin, task=300)
    june_src = [
        package(FOO2_SRC, "foo", "1.10", source=True, changelog=[new_entry, old_entry]),
        package(BAZ_SRC, "baz", "0.1", source=True),
    ]
    june_bin = [
        package(
            FOO2_BIN,
            "foo",
            "1.10",
            srcrpm="foo-1.10-alt1.src.rpm",
            srcrpm_hash=FOO2_SRC,
            changelog=[new_entry, old_entry],
        ),
        package(LIBFOO_BIN, "libfoo", "1.0", srcrpm="foo-1.0-alt1.src.rpm", srcrpm_hash=FOO_SRC),
        package(BAZ_BIN, "baz", "0.1", srcrpm="baz-0.1-alt1.src.rpm", srcrpm_hash=BAZ_SRC),
    ]
    load_branch_snapshot(store, "p10", JUNE, june_src, june_bin, task=301)
    store.insert(
        "Files_insert",
        ("pkg_hash", "file_name", "file_md5", "file_size", "file_mode", "file_class"),
        [
            (FOO2_BIN, "/usr/bin/foo", b"\x11" * 16, 100, 0o100755, "file"),
            (FOO2_BIN, "/usr/share/doc/foo", b"", 0, 0o40755, "directory"),
            (FOO2_BIN, "/usr/share/doc/foo/README", b"\x22" * 16, 10, 0o100644, "file"),
        ],
    )
    store.insert(
        "Depends_buffer",
        ("pkg_hash", "dp_name", "dp_version", "dp_flag", "dp_type"),
        [
            (FOO2_BIN, "libfoo", "1.0", 8 | 4, "require"),
            (FOO2_BIN, "foo", "1.10-alt1", 8, "provide"),
            (LIBFOO_BIN, "libfoo", "1.0", 8, "provide"),
        ],
    )
    store.insert(
        "PackageHash_buffer",
        ("pkgh_mmh", "pkgh_md5", "pkgh_sha1", "pkgh_sha256", "pkgh_blake2b"),
        [(FOO2_BIN, b"\xab" * 16, b"\x01" * 20, b"\xcd" * 32, b"\xef" * 64)],
    )
    store.insert(
        "Specfiles_buffer",
        (
            "pkg_hash",
            "pkg_name",
            "pkg_version",
            "pkg_release",
            "specfile_name",
            "specfile_date",
            "specfile_content",
        ),
        [(FOO2_SRC, "foo", "1.10", "alt1", "foo.spec", JUNE, "Name: foo\nVersion: 1.10\n")],
    )
