"""Task rows as ALTRepo's own loader stores them, for the girar fixture's tasks.

The expected values below were produced by altrepodb 647565d (``altrepodb/task``, run
with its ClickHouse client replaced by one capturing the inserted rows) from the tasks
of ``tests/fixtures/girar.py``; these tests do not need altrepodb.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from repotrack.ingest import load_task
from repotrack.ingest.task_rows import log_rows, plan_rows
from repotrack.sources.task import read_task
from repotrack.store import Store
from tests.fixtures.girar import T0, task_tree

NOW = datetime(2024, 6, 11, 12, 0, tzinfo=UTC)


@pytest.fixture
def tasks(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> dict[str, Path]:
    return task_tree(tmp_path_factory.mktemp("girar"), tmp_path / "tasks")


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def test_source_plan_entries_name_their_file_as_bin_file(tasks: dict[str, Path]) -> None:
    packages, _ = plan_rows(read_task(tasks["done"]))
    src = sorted(row for row in packages if row[6] == "src")
    # altrepodb 647565d, task 1100: TaskPlanPackages rows of src.list.diff
    assert src == [
        (
            14158651466343736380,
            "add",
            "rt-alpha",
            "1.0-alt1",
            "rt-alpha-1.0-alt1.src.rpm",
            "rt-alpha-1.0-alt1.src.rpm",
            "src",
            "",
            1,
        ),
        (
            14158651466343736380,
            "add",
            "rt-beta",
            "2.0-alt1",
            "rt-beta-2.0-alt1.src.rpm",
            "rt-beta-2.0-alt1.src.rpm",
            "src",
            "",
            2,
        ),
        (
            14158651466343736380,
            "delete",
            "rt-tilde",
            "2.0~rc1-1",
            "rt-tilde-2.0~rc1-1.src.rpm",
            "rt-tilde-2.0~rc1-1.src.rpm",
            "src",
            "",
            0,
        ),
    ]


def test_build_log_lines_without_offset_are_dated_at_the_log_start(
    tasks: dict[str, Path],
) -> None:
    task = read_task(tasks["failed"])
    log = next(it.buildlog for it in task.iterations if it.arch == "i586")
    assert log is not None
    # altrepodb 647565d, task 2001, build/1/i586/log (mtime T0 + 1021)
    assert log_rows(log) == [
        (12911086717388567343, 1, _at(1718001022), "building rt-delta for i586"),
        (12911086717388567343, 2, _at(1718001023), "gcc -c delta.c"),
        (
            12911086717388567343,
            3,
            _at(1718001021),
            "delta.c:3: error: expected ';' before '}' token",
        ),
        (
            12911086717388567343,
            4,
            _at(1718001024),
            "error: Bad exit status from /usr/src/tmp/rpm-tmp (%build)",
        ),
    ]


def test_log_messages_are_stripped(tasks: dict[str, Path]) -> None:
    arch_dir = tasks["failed"] / "build" / "1" / "x86_64"
    (arch_dir / "log").write_text(
        "[00:00:01] building rt-delta for x86_64\n"
        "[00:00:02]    + make -j2  \n"
        "\t  note: an untimed line \n"
        "[00:00:05] done\n"
    )
    (arch_dir / "srpm.log").write_text(
        "<13>Jun 10 05:59:58 rpmbuild:   Building source package  \n  continued line\n"
    )
    for name in ("log", "srpm.log"):
        os.utime(arch_dir / name, (T0 + 1020, T0 + 1020))
    task = read_task(tasks["failed"])
    it = next(it for it in task.iterations if it.arch == "x86_64")
    assert it.buildlog is not None and it.srpmlog is not None
    # altrepodb 647565d, task 2001 with these two logs
    assert log_rows(it.buildlog) == [
        (9488679409791881082, 1, _at(1718001021), "building rt-delta for x86_64"),
        (9488679409791881082, 2, _at(1718001022), "+ make -j2"),
        (9488679409791881082, 3, _at(1718001020), "note: an untimed line"),
        (9488679409791881082, 4, _at(1718001025), "done"),
    ]
    assert log_rows(it.srpmlog) == [
        (17686916418738671178, 1, _at(1717999198), "rpmbuild:   Building source package"),
        (17686916418738671178, 2, _at(1717999198), "continued line"),
    ]


def test_a_failed_arch_shares_the_subtask_source_package(
    store: Store, tasks: dict[str, Path]
) -> None:
    load_task(store, path=tasks["failed"], now=NOW)
    rows = dict(
        store.query(
            "SELECT subtask_arch, titer_srcrpm_hash FROM TaskIterations WHERE task_id = 2001"
        )
    )
    src = store.query(
        "SELECT pkg_hash FROM Packages WHERE pkg_filename = 'rt-delta-0.5-alt1.src.rpm'"
    )[0][0]
    # altrepodb 647565d, task 2001: titer_srcrpm_hash 3083772348825728541 (the pkg_hash of
    # build/1/x86_64/srpm/rt-delta-0.5-alt1.src.rpm) on x86_64 and on the failed i586
    assert rows == {"x86_64": src, "i586": src}
    assert int(store.query("SELECT count() FROM Packages WHERE pkg_sourcepackage = 1")[0][0]) == 1


def test_every_arch_gets_the_planned_source_package(tasks: dict[str, Path]) -> None:
    task = read_task(tasks["done"])
    planned = {
        (it.subtask_id, it.arch): it.srpm.relative_to(task.path).as_posix()
        for it in task.iterations
        if it.srpm is not None
    }
    # altrepodb 647565d reads plan/add-src's path (/tasks/1100/build/<N>/x86_64/srpm)
    assert planned == {
        (1, "x86_64"): "build/1/x86_64/srpm/rt-alpha-1.0-alt1.src.rpm",
        (1, "i586"): "build/1/x86_64/srpm/rt-alpha-1.0-alt1.src.rpm",
        (2, "x86_64"): "build/2/x86_64/srpm/rt-beta-2.0-alt1.src.rpm",
        (2, "i586"): "build/2/x86_64/srpm/rt-beta-2.0-alt1.src.rpm",
    }
