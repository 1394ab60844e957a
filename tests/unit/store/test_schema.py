"""The schema's derived data: materialized views, Null tables, buffers, hashes.

Expected hashes are the test vectors of reference/altrepo.md §0.1 (mmhash equals
ClickHouse's murmurHash3_64 for strings).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from repotrack.store import Store, migration_status
from repotrack.store.migrations import available_migrations
from tests.unit.store.rows import load_branch_snapshot, load_snapshot, package, utc

FILE_COLUMNS = (
    "pkg_hash",
    "file_name",
    "file_linkto",
    "file_md5",
    "file_size",
    "file_mode",
    "file_mtime",
    "file_username",
    "file_groupname",
    "file_class",
)
USR_BIN = 18015308893723861606


def _file(pkg_hash: int, name: str, kind: str = "file") -> tuple[object, ...]:
    return (pkg_hash, name, "", b"\xaa" * 16, 10, 0o100644, utc(2024, 1, 1), "root", "root", kind)


def test_every_migration_applied(store: Store) -> None:
    states = migration_status(store)
    assert [s.version for s in states] == [m.version for m in available_migrations()]
    assert all(s.applied for s in states)


def test_files_insert_derives_hashes_and_names(store: Store) -> None:
    store.insert(
        "Files_insert", FILE_COLUMNS, [_file(7, "/usr/bin/foo"), _file(7, "/usr/bin", "directory")]
    )
    rows = store.query(
        "SELECT file_hashname, file_hashdir, file_class FROM Files_buffer ORDER BY file_class"
    )
    foo_hash = store.query("SELECT murmurHash3_64('/usr/bin/foo')")[0][0]
    assert rows[0] == (foo_hash, USR_BIN, "file")
    assert rows[1][0] == USR_BIN
    names = store.query("SELECT DISTINCT fn_name, fn_hash FROM FileNames_buffer ORDER BY fn_name")
    assert ("/usr/bin", USR_BIN) in names
    assert ("/usr/bin/foo", foo_hash) in names
    view = store.query("SELECT file_name FROM Files_view ORDER BY file_name")
    assert view == [("/usr/bin",), ("/usr/bin/foo",)]
    assert store.query("SELECT count() FROM Files_insert") == [(0,)]


def test_buffer_flush_reaches_the_table(store: Store) -> None:
    store.insert("Files_insert", FILE_COLUMNS, [_file(1, "/etc/x")])
    assert store.query("SELECT count() FROM Files") == [(0,)]
    store.command("OPTIMIZE TABLE Files_buffer")
    store.command("OPTIMIZE TABLE FileNames_buffer")
    assert store.query("SELECT count() FROM Files") == [(1,)]
    assert store.query("SELECT count() FROM FileNames WHERE fn_name = '/etc'") == [(1,)]


def test_specfiles_insert_decodes_base64(store: Store) -> None:
    content = "Name: foo\n%description\nü\n"
    store.insert(
        "Specfiles_insert",
        ("pkg_hash", "pkg_name", "specfile_name", "specfile_date", "specfile_content_base64"),
        [(5, "foo", "foo.spec", utc(2024, 1, 1), base64.b64encode(content.encode()).decode())],
    )
    assert store.query("SELECT specfile_content FROM Specfiles_buffer") == [(content,)]


def test_root_row_last_fills_static_last_packages(store: Store) -> None:
    day = utc(2024, 5, 1)
    load_snapshot(store, "p10", day, [package(1, "foo", "1.0"), package(2, "bar", "2.0")])
    rows = store.query(
        "SELECT pkgset_name, pkgset_date, pkg_name, pkg_version FROM StaticLastPackages "
        "ORDER BY pkg_name"
    )
    assert rows == [("p10", day, "bar", "2.0"), ("p10", day, "foo", "1.0")]
    later = utc(2024, 6, 1)
    load_snapshot(store, "p10", later, [package(3, "foo", "1.1")])
    latest = store.query("SELECT pkg_name, pkg_version, pkgset_date FROM static_last_packages")
    assert latest == [("foo", "1.1", later)]
    assert store.query("SELECT pkgset_name, pkg_cs FROM last_packages") == [("p10", "01" * 20)]
    stage1 = store.query("SELECT pkgset_name FROM last_packages_stage1 ORDER BY pkgset_date")
    assert stage1 == [("p10",), ("p10",)]


def test_publishing_a_root_lists_that_snapshot_only(store: Store) -> None:
    """Migration 0013's view reads only the new root's nodes and their packages: other
    branches, older snapshots and a package in two nodes of the same snapshot change
    nothing in what it writes (the hand count: each snapshot's own distinct packages)."""
    day, later = utc(2024, 5, 1), utc(2024, 6, 1)
    load_snapshot(store, "p10", day, [package(1, "foo", "1.0"), package(2, "bar", "2.0")])
    load_snapshot(store, "p11", day, [package(2, "bar", "2.0"), package(4, "baz", "4.0")])
    sources = [package(5, "foo", "1.1", source=True), package(6, "qux", "6.0", source=True)]
    binaries = [package(3, "foo", "1.1"), package(5, "foo", "1.1", source=True)]
    load_branch_snapshot(store, "p10", later, sources, binaries)
    rows = store.query(
        "SELECT pkgset_name, toDate(pkgset_date), pkg_hash, pkg_name, pkg_version, "
        "pkg_sourcepackage FROM StaticLastPackages ORDER BY pkgset_date, pkgset_name, pkg_hash"
    )
    assert rows == [
        ("p10", day.date(), 1, "foo", "1.0", 0),
        ("p10", day.date(), 2, "bar", "2.0", 0),
        ("p11", day.date(), 2, "bar", "2.0", 0),
        ("p11", day.date(), 4, "baz", "4.0", 0),
        ("p10", later.date(), 3, "foo", "1.1", 0),
        ("p10", later.date(), 5, "foo", "1.1", 1),
        ("p10", later.date(), 6, "qux", "6.0", 1),
    ]


def test_source_package_derivations(store: Store) -> None:
    entry = (utc(2024, 4, 1), "Ivan Ivanov <ivan at altlinux.org>", "1.0-alt1", 42)
    store.insert("Changelog_buffer", ("chlog_hash", "chlog_text"), [(42, "- new version")])
    store.insert(
        "Packages_buffer",
        (
            "pkg_hash",
            "pkg_name",
            "pkg_arch",
            "pkg_sourcepackage",
            "pkg_sourcerpm",
            "pkg_srcrpm_hash",
            "pkg_buildtime",
            "pkg_changelog.date",
            "pkg_changelog.name",
            "pkg_changelog.evr",
            "pkg_changelog.hash",
        ),
        [
            (10, "foo", "src", 1, "", 0, 1, [entry[0]], [entry[1]], [entry[2]], [entry[3]]),
            (11, "libfoo", "x86_64", 0, "foo-1.0-alt1.src.rpm", 10, 5, [], [], [], []),
            (12, "i586-libfoo", "x86_64-i586", 0, "foo-1.0-alt1.src.rpm", 10, 5, [], [], [], []),
        ],
    )
    store.command("OPTIMIZE TABLE Changelog_buffer")
    store.command("OPTIMIZE TABLE Packages_buffer")
    assert store.query("SELECT * FROM SrcPackagesLastChangelog") == [
        (10, "ivan", entry[1], entry[0], "1.0-alt1", "- new version")
    ]
    assert store.query(
        "SELECT buildtime, src_pkg_name, bin_pkg_name FROM PackagesSourceAndBinaries"
    ) == [(5, "foo", "libfoo")]


def test_image_roots_fill_image_package_set_name(store: Store) -> None:
    import uuid

    root = uuid.uuid4()
    kv = {
        "class": "iso",
        "branch": "p10",
        "edition": "kworkstation",
        "version_major": "10",
        "arch": "x86_64",
        "image_type": "iso",
        "extra": "1",
    }
    store.insert(
        "PackageSetName",
        (
            "pkgset_uuid",
            "pkgset_ruuid",
            "pkgset_depth",
            "pkgset_nodename",
            "pkgset_date",
            "pkgset_tag",
            "pkgset_kv.k",
            "pkgset_kv.v",
        ),
        [(root, root, 0, "iso", utc(2024, 1, 2), "tag1", list(kv), list(kv.values()))],
    )
    rows = store.query_dicts("SELECT * FROM ImagePackageSetName")
    assert len(rows) == 1
    row = rows[0]
    assert (row["img_branch"], row["img_edition"], row["img_version_major"]) == (
        "p10",
        "kworkstation",
        10,
    )
    # ``class`` stays in img_kv, as in ALTRepo's view (the API names the root by it).
    assert (row["img_type"], row["img_tag"], row["img_kv"]) == (
        "iso",
        "tag1",
        {"class": "iso", "extra": "1"},
    )
    assert store.query("SELECT count() FROM last_packages_stage1") == [(0,)]


def test_done_task_fills_branch_package_history(store: Store) -> None:
    sha = b"\x05" * 32
    changed = datetime(2024, 5, 2, 10, tzinfo=UTC)
    store.insert(
        "Tasks", ("task_id", "subtask_id", "task_repo", "task_changed"), [(100, 1, "p10", changed)]
    )
    store.insert(
        "TaskIterations",
        ("task_id", "task_changed", "subtask_id", "subtask_arch", "task_try", "task_iter"),
        [(100, changed, 1, "x86_64", 1, 1)],
    )
    plan_hash = store.query("SELECT murmurHash3_64('10011x86_64')")[0][0]
    store.insert(
        "TaskPlanPkgHash", ("tplan_hash", "tplan_action", "tplan_sha256"), [(plan_hash, "add", sha)]
    )
    store.insert("PackageHash", ("pkgh_mmh", "pkgh_sha256"), [(77, sha)])
    store.insert(
        "Packages",
        ("pkg_hash", "pkg_name", "pkg_version", "pkg_release", "pkg_arch"),
        [(77, "foo", "1.0", "alt1", "x86_64")],
    )
    store.insert(
        "TaskStates",
        ("task_changed", "task_id", "task_state", "task_message"),
        [(changed, 100, "DONE", "built")],
    )
    rows = store.query(
        "SELECT pkgset_name, task_id, tplan_action, pkg_hash, pkg_name FROM BranchPackageHistory"
    )
    assert rows == [("p10", 100, "add", 77, "foo")]
    assert store.query("SELECT tplan_hash FROM task_plan_hashes WHERE tplan_arch = 'x86_64'") == [
        (plan_hash,)
    ]


def _planned_task(store: Store, task_id: int, pkg_hash: int, name: str, chlog: int) -> None:
    """A task of p10 whose plan adds one x86_64 package with a changelog entry."""
    changed = datetime(2024, 5, 2, 10, tzinfo=UTC)
    sha = bytes([task_id % 256]) * 32
    store.insert(
        "Tasks",
        ("task_id", "subtask_id", "task_repo", "task_changed"),
        [(task_id, 1, "p10", changed)],
    )
    store.insert(
        "TaskIterations",
        ("task_id", "task_changed", "subtask_id", "subtask_arch", "task_try", "task_iter"),
        [(task_id, changed, 1, "x86_64", 1, 1)],
    )
    plan_hash = store.query(f"SELECT murmurHash3_64('{task_id}11x86_64')")[0][0]
    store.insert(
        "TaskPlanPkgHash", ("tplan_hash", "tplan_action", "tplan_sha256"), [(plan_hash, "add", sha)]
    )
    store.insert("PackageHash", ("pkgh_mmh", "pkgh_sha256"), [(pkg_hash, sha)])
    store.insert(
        "Packages",
        (
            "pkg_hash",
            "pkg_name",
            "pkg_version",
            "pkg_release",
            "pkg_arch",
            "pkg_changelog.date",
            "pkg_changelog.name",
            "pkg_changelog.evr",
            "pkg_changelog.hash",
        ),
        [
            (
                pkg_hash,
                name,
                "1.0",
                "alt1",
                "x86_64",
                [changed],
                ["A <a at b>"],
                ["1.0-alt1"],
                [chlog],
            )
        ],
    )
    store.insert("Changelog", ("chlog_hash", "chlog_text"), [(chlog, f"- {name} changed")])


def test_branch_package_history_has_the_done_tasks_of_the_block_only(store: Store) -> None:
    """Migration 0013's view reads only the inserted tasks' rows: a task that is not DONE,
    or was DONE in an earlier block, and other packages and changelog texts in the store
    add nothing; each row carries its own package's newest changelog text."""
    for task_id, pkg_hash, name, chlog in (
        (100, 77, "foo", 7),
        (200, 88, "bar", 8),
        (300, 99, "qux", 9),
    ):
        _planned_task(store, task_id, pkg_hash, name, chlog)
    store.insert("Changelog", ("chlog_hash", "chlog_text"), [(1, "- unrelated")])
    columns = ("task_changed", "task_id", "task_state", "task_message")
    when = datetime(2024, 5, 2, 11, tzinfo=UTC)
    store.insert("TaskStates", columns, [(when, 300, "DONE", "earlier")])
    store.insert("TaskStates", columns, [(when, 100, "DONE", "built"), (when, 200, "FAILED", "")])
    rows = store.query(
        "SELECT task_id, task_message, pkg_hash, pkg_name, chlog_nick, chlog_text "
        "FROM BranchPackageHistory ORDER BY task_id"
    )
    assert rows == [
        (100, "built", 77, "foo", "a", "- foo changed"),
        (300, "earlier", 99, "qux", "a", "- qux changed"),
    ]
