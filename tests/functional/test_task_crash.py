"""Task and package loads killed at any write, then run again, leave what a clean load leaves.

Each case SIGKILLs ``repotrack load task`` or ``repotrack load package`` right after
its k-th write to the store (``crashing_cli.py``), for every k from the first write of
the load to the last, runs the same command again (normally), and compares what
readers see with a single clean load: every package and task table as a multiset of
rows (a row written twice is a wrong answer: ``TaskLogs`` lines shown twice, a
package counted twice), the tables keyed by content (``FileNames``, ``Changelog``) as
sets, ``BranchPackageHistory`` (what a DONE state's materialized view derived), each
task as ``query task`` shows it, the task load marks (the table and the file beside
the store that lets the CLI skip an unchanged task without starting the store) and
the load journal, which must be empty again.

Inserts are sent ``CRASH_INSERT_ROWS`` rows a statement, so that these few tasks show
what a large load does: a kill can fall between two statements of one insert (the
log lines of a task, its plan, the packages of a batch).

The inputs are the girar tasks of ``tests.fixtures.girar``: the first load of tasks
1100 (DONE, with the file-provides patch to do), 2001 (FAILED) and 2002 (NEW) in one
command; task 2001's next run (TESTED, a new iteration, log lines added, an approval
revoked and another added) loaded into a store holding the three; and a source RPM
loaded alone.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from repotrack.errors import NotFoundError
from repotrack.ingest.task_marks import MARKS_FILE, read_marks
from repotrack.store import Store, open_store
from repotrack.store.task_queries import task_info
from tests.fixtures.girar import advance_failed_task, task_tree
from tests.functional.killing import Dump, every_kill, home_from, rows, run_cli
from tests.unit.store.storeutil import settle_mutations, template_store

#: Rows per insert statement in the killed runs.
INSERT_ROWS = 4
#: Package tables compared row for row.
PACKAGE_TABLES = (
    "Packages",
    "Files",
    "Depends",
    "Specfiles",
    "PackageHash",
    "SrcPackagesLastChangelog",
)
#: Tables keyed by content whose repeats are harmless (a name, a text by its hash).
DISTINCT = ("FileNames", "Changelog")
#: Task tables compared row for row (``ts``, the time of the load, is MATERIALIZED: not in ``*``).
TASK_TABLES = (
    "Tasks",
    "TaskStates",
    "TaskIterations",
    "TaskChroots",
    "TaskLogs",
    "TaskPlanPackages",
    "TaskPlanPkgHash",
    "TaskLoadMarks",
    "BranchPackageHistory",
)
#: An approval revoked by a load is dated by that load's clock: the date is left out.
APPROVALS = (
    "SELECT task_id, subtask_id, toString(tapp_type), tapp_revoked, "
    "if(tapp_revoked = 1, toDateTime(0), tapp_date), tapp_name, tapp_message FROM TaskApprovals"
)
TASK_IDS = (1100, 2001, 2002)


def package_tables(store: Store) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for table in PACKAGE_TABLES:
        out[table] = rows(store, f"SELECT * FROM {table}")  # noqa: S608
    for table in DISTINCT:
        out[table] = set(rows(store, f"SELECT DISTINCT * FROM {table}"))  # noqa: S608
    out["PackagesSourceAndBinaries"] = set(
        store.query(
            "SELECT src_pkg_name, bin_pkg_name, max(buildtime) "
            "FROM PackagesSourceAndBinaries GROUP BY src_pkg_name, bin_pkg_name"
        )
    )
    settle_mutations(store)  # journal entries are deleted without waiting
    out["journal"] = store.query(
        "SELECT (SELECT count() FROM repotrack_load_journal), "
        "(SELECT count() FROM repotrack_pending_sets)"
    )
    return out


def _task_seen(store: Store, task_id: int) -> Any:
    """``query task`` of ``task_id`` (revoked approvals undated, see ``APPROVALS``)."""
    try:
        info = task_info(store, task_id=task_id)
    except NotFoundError:
        return None
    approvals = [replace(a, date=datetime.min) if a.revoked else a for a in info.approvals]
    return replace(info, approvals=approvals)


def _dump_tasks(home: Path) -> dict[str, Any]:
    """What readers of the task and package tables see, and the task load marks."""
    with open_store(f"chdb://{home / 'store'}") as store:
        out = package_tables(store)
        for table in TASK_TABLES:
            out[table] = rows(store, f"SELECT * FROM {table}")  # noqa: S608
        out["TaskApprovals"] = rows(store, APPROVALS)
        for task_id in TASK_IDS:
            out[f"task {task_id}"] = _task_seen(store, task_id)
    out["marks file"] = read_marks(home / "store" / MARKS_FILE)
    return out


def _dump_packages(home: Path) -> dict[str, Any]:
    with open_store(f"chdb://{home / 'store'}") as store:
        return package_tables(store)


def every_kill_of(
    factory: pytest.TempPathFactory,
    template: Path,
    args: list[str],
    dump: Dump,
    *,
    published: str | None = None,
) -> tuple[list[str], dict[str, Any]]:
    """``killing.every_kill`` with the inserts of the killed runs sent ``INSERT_ROWS``
    rows a statement."""
    return every_kill(factory, template, args, dump, published=published, insert_rows=INSERT_ROWS)


@pytest.fixture(scope="module")
def tasks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return task_tree(tmp_path_factory.mktemp("girar"), tmp_path_factory.mktemp("tasks") / "t")


def _task_args(tasks: dict[str, Path]) -> list[str]:
    return ["load", "task", str(tasks["done"]), str(tasks["failed"]), str(tasks["new"])]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_killed_first_task_load_then_rerun_equals_a_clean_one(
    tmp_path_factory: pytest.TempPathFactory, tasks: dict[str, Path]
) -> None:
    template = template_store(tmp_path_factory)
    writes, want = every_kill_of(tmp_path_factory, template, _task_args(tasks), _dump_tasks)
    assert writes.count("insert PackageHash") >= 2  # a batch's packages in several statements
    assert writes.count("insert TaskLogs") >= 2
    assert writes[-2:] == ["insert TaskStates", "insert TaskLoadMarks"]
    # The file-provides patch: rt-beta requires a file of rt-alpha-common, which no one provides.
    patched = [
        r for r in want["Depends"] if r[1] == "/usr/share/rt-alpha/data" and r[-1] == "provide"
    ]
    assert len(patched) == 1, want["Depends"]
    assert len(want["marks file"]) == 3 and want["journal"] == [(0, 0)]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_killed_task_advance_then_rerun_equals_a_clean_one(
    tmp_path_factory: pytest.TempPathFactory, tasks: dict[str, Path]
) -> None:
    """Task 2001's next run over a store holding its first: only what changed is added."""
    loaded = home_from(tmp_path_factory, template_store(tmp_path_factory), "loaded")
    assert run_cli(loaded, _task_args(tasks)).returncode == 0
    moved = task_tree(tmp_path_factory.mktemp("girar"), tmp_path_factory.mktemp("moved") / "t")
    advance_failed_task(moved["failed"], moved["rpms"] / "delta")
    args = ["load", "task", str(moved["failed"])]
    writes, want = every_kill_of(tmp_path_factory, loaded / "store", args, _dump_tasks)
    assert "insert TaskApprovals" in writes and "insert TaskLogs" in writes
    info = want["task 2001"]
    assert [s.state for s in info.states] == ["FAILED", "TESTED"]
    assert sorted((a.name, a.revoked) for a in info.approvals) == [("bob", True), ("carol", False)]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_killed_package_load_then_rerun_equals_a_clean_one(
    tmp_path_factory: pytest.TempPathFactory, tasks: dict[str, Path]
) -> None:
    srpm = tasks["rpms"] / "beta" / "rt-beta-2.0-alt1.src.rpm"
    args = ["load", "package", str(srpm)]
    writes, want = every_kill_of(
        tmp_path_factory, template_store(tmp_path_factory), args, _dump_packages
    )
    assert "insert PackageHash" in writes
    assert len(want["Packages"]) == 1 and want["journal"] == [(0, 0)]
