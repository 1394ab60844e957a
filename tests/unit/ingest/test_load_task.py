"""load_task on a real chDB store, with task directories as girar writes them (tests/fixtures).

Expected rows are counted by hand from the fixture's description; package ids are
checked against ``load repo`` of the same RPM files.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from repotrack.errors import InputError, TaskDataError
from repotrack.ingest import load_repo
from repotrack.ingest.task import TaskLoad, load_task, load_tasks
from repotrack.rpm import mmhash
from repotrack.store import Store
from tests.fixtures.girar import T0, advance_failed_task, task_tree
from tests.unit.store.storeutil import open_fresh_store

NOW = datetime(2024, 6, 11, 12, 0, tzinfo=UTC)
TASK_TABLES = (
    "Tasks",
    "TaskStates",
    "TaskIterations",
    "TaskApprovals",
    "TaskPlanPackages",
    "TaskPlanPkgHash",
    "TaskChroots",
    "TaskLogs",
)
ALL_TABLES = (
    *TASK_TABLES,
    "Packages_buffer",
    "PackageHash_buffer",
    "Files_buffer",
    "Depends_buffer",
    "Changelog_buffer",
    "Specfiles_buffer",
    "BranchPackageHistory",
    "TaskLoadMarks",
)


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


@pytest.fixture
def tasks(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> dict[str, Path]:
    return task_tree(tmp_path_factory.mktemp("girar"), tmp_path / "tasks")


def counts(store: Store) -> dict[str, int]:
    return {t: int(store.query(f"SELECT count() FROM {t}")[0][0]) for t in ALL_TABLES}  # noqa: S608


def test_done_task_rows(store: Store, tasks: dict[str, Path]) -> None:
    summary = load_task(store, path=tasks["done"], now=NOW)
    assert (summary.task_id, summary.state, summary.packages, summary.new_packages) == (
        1100,
        "DONE",
        9,  # alpha and beta: src, x86_64, i586, one noarch each; one arepo package
        9,
    )
    got = counts(store)
    # 5 subtasks; 2 x 2 builds + the delete stub; bob x2 + dave; 11 plan files and hashes;
    # 2 distinct chroot lists; logs: events 2 + 3, build 4 x 2, srpm 4 x 3 lines.
    assert {t: got[t] for t in TASK_TABLES} == {
        "Tasks": 5,
        "TaskStates": 1,
        "TaskIterations": 5,
        "TaskApprovals": 3,
        "TaskPlanPackages": 11,
        "TaskPlanPkgHash": 11,
        "TaskChroots": 2,
        "TaskLogs": 25,
    }
    assert got["Packages_buffer"] == got["PackageHash_buffer"] == 9
    assert summary.rows == {
        "TaskChroots": 2,
        "TaskLogs": 25,
        "TaskPlanPackages": 11,
        "TaskPlanPkgHash": 11,
        "TaskApprovals": 3,
        "Tasks": 5,
        "TaskIterations": 5,
        "TaskStates": 1,
    }
    ((state,),) = [
        store.query(
            "SELECT tuple(task_changed, task_state, task_runby, task_depends, task_try, "
            "task_testonly, task_failearly, task_shared, task_message, task_version, task_prev, "
            "task_eventlog_hash) FROM TaskStates"
        )
    ]
    assert state[0] == (
        datetime.fromtimestamp(T0 + 100, UTC),  # task/state is newer than info.json
        "DONE",
        "alice",
        [1050, 1060],
        2,
        0,
        1,
        0,
        "update alpha and beta",
        "2",
        1099,
        [mmhash("events110011"), mmhash("events110021")],
    )


def test_subtasks_and_iterations(store: Store, tasks: dict[str, Path]) -> None:
    load_task(store, path=tasks["done"], now=NOW)
    subtasks = store.query(
        "SELECT subtask_id, toString(subtask_type), subtask_deleted, subtask_pkg_from, "
        "subtask_package, subtask_srpm_name, task_repo, task_owner, subtask_changed "
        "FROM Tasks ORDER BY subtask_id"
    )
    t = datetime.fromtimestamp
    assert subtasks == [
        (1, "gear", 0, "", "", "rt-alpha", "sisyphus", "alice", t(T0 + 1, UTC)),
        (2, "srpm", 0, "", "", "rt-beta", "sisyphus", "alice", t(T0 + 2, UTC)),
        (3, "copy", 0, "p10", "rt-gamma", "", "sisyphus", "alice", t(T0 + 3, UTC)),
        (4, "delete", 0, "", "rt-tilde", "", "sisyphus", "alice", t(T0 + 4, UTC)),
        (5, "unknown", 1, "", "", "", "sisyphus", "alice", t(T0 + 5, UTC)),
    ]
    iterations = store.query(
        "SELECT subtask_id, subtask_arch, titer_status, titer_ts, task_try, task_iter, "
        "length(titer_pkgs_hash), titer_buildlog_hash FROM TaskIterations "
        "ORDER BY subtask_id, subtask_arch"
    )
    assert iterations == [
        (1, "i586", "built", t(T0 + 21, UTC), 2, 1, 2, mmhash("build1100121i586")),
        (1, "x86_64", "built", t(T0 + 21, UTC), 2, 1, 2, mmhash("build1100121x86_64")),
        (2, "i586", "built", t(T0 + 22, UTC), 2, 1, 2, mmhash("build1100221i586")),
        (2, "x86_64", "built", t(T0 + 22, UTC), 2, 1, 2, mmhash("build1100221x86_64")),
        (4, "x86_64", "deleted", t(T0 + 30, UTC), 2, 1, 1, 0),  # stub; mtime(build)
    ]
    # Every iteration's chroot hashes name a stored chroot list.
    ((missing,),) = store.query(
        "SELECT count() FROM TaskIterations WHERE titer_chroot_base != 0 "
        "AND titer_chroot_base NOT IN (SELECT tch_hash FROM TaskChroots)"
    )
    assert missing == 0


def test_packages_match_a_repository_load(store: Store, tasks: dict[str, Path]) -> None:
    """The task's packages get the pkg_hash (and rows) ``load repo`` gives the same files."""
    load_task(store, path=tasks["done"], now=NOW)
    task_rows = store.query(
        "SELECT pkg_hash, pkg_name, pkg_arch, pkg_sourcepackage FROM Packages_buffer ORDER BY 1"
    )
    flat = tasks["root"] / "flat"
    flat.mkdir()
    for rpm in tasks["done"].rglob("*.rpm"):
        if "RPMS.task" not in rpm.parts:
            shutil.copy(rpm, flat / rpm.name)
    summary = load_repo(store, branch="sisyphus", path=flat, date=date(2024, 6, 10))
    assert (summary.new, summary.known) == (0, 9)
    assert counts(store)["Packages_buffer"] == 9
    names = {(n, a, s) for _h, n, a, s in task_rows}
    assert ("i586-rt-alpha", "x86_64-i586", 0) in names
    assert ("rt-alpha-common", "noarch", 0) in names


def test_binaries_point_at_the_source_the_iteration_built(
    store: Store, tasks: dict[str, Path]
) -> None:
    load_task(store, path=tasks["done"], now=NOW)
    rows = store.query(
        "SELECT b.pkg_name, s.pkg_name FROM Packages_buffer AS b LEFT JOIN Packages_buffer AS s "
        "ON b.pkg_srcrpm_hash = s.pkg_hash AND s.pkg_sourcepackage = 1 "
        "WHERE b.pkg_sourcepackage = 0 ORDER BY 1, 2"
    )
    assert rows == [
        ("i586-rt-alpha", ""),  # arepo packages have no source (srpm hash 0)
        ("rt-alpha", "rt-alpha"),
        ("rt-alpha", "rt-alpha"),
        ("rt-alpha-common", "rt-alpha"),
        ("rt-beta", "rt-beta"),
        ("rt-beta", "rt-beta"),
        ("rt-beta-common", "rt-beta"),
    ]


def test_done_task_fills_branch_history_and_file_provides(
    store: Store, tasks: dict[str, Path]
) -> None:
    load_task(store, path=tasks["done"], now=NOW)
    history = store.query(
        "SELECT pkgset_name, task_id, pkg_name, pkg_arch, pkg_sourcepackage, "
        "toString(tplan_action) FROM BranchPackageHistory ORDER BY pkg_name, pkg_arch, 5"
    )
    assert [(r[2], r[3], r[4]) for r in history] == [
        ("i586-rt-alpha", "x86_64-i586", 0),
        ("rt-alpha", "i586", 0),
        ("rt-alpha", "x86_64", 0),
        ("rt-alpha", "x86_64", 1),
        ("rt-alpha-common", "noarch", 0),
        ("rt-beta", "i586", 0),
        ("rt-beta", "x86_64", 0),
        ("rt-beta", "x86_64", 1),
        ("rt-beta-common", "noarch", 0),
    ]
    assert {(r[0], r[1], r[5]) for r in history} == {("sisyphus", 1100, "add")}
    provides = store.query(
        "SELECT p.pkg_name, d.dp_name FROM Depends_buffer AS d INNER JOIN Packages_buffer AS p "
        "ON p.pkg_hash = d.pkg_hash WHERE d.dp_type = 'provide' AND d.dp_name LIKE '/%'"
    )
    assert provides == [("rt-alpha-common", "/usr/share/rt-alpha/data")]


@pytest.mark.parametrize("skip_unchanged", [True, False], ids=["fingerprint", "row-diff"])
@pytest.mark.parametrize("which", ["done", "failed", "new"])
def test_reload_adds_nothing(
    store: Store, tasks: dict[str, Path], which: str, skip_unchanged: bool
) -> None:
    load_task(store, path=tasks[which], now=NOW)
    before = counts(store)
    assert before["TaskLoadMarks"] == 1
    summary = load_task(store, path=tasks[which], now=NOW, skip_unchanged=skip_unchanged)
    assert summary.added == 0 and summary.new_packages == 0
    assert summary.unchanged is skip_unchanged
    assert counts(store) == before
    assert "already loaded" in summary.line()


def test_advance_adds_exactly_what_changed(store: Store, tasks: dict[str, Path]) -> None:
    first = load_task(store, path=tasks["failed"], now=NOW)
    assert (first.state, first.packages, first.new_packages) == ("FAILED", 3, 3)
    before = counts(store)
    advance_failed_task(tasks["failed"], tasks["rpms"] / "delta")
    later = datetime(2024, 6, 12, tzinfo=UTC)
    summary = load_task(store, path=tasks["failed"], now=later)
    assert (summary.state, summary.new_packages) == ("TESTED", 1)  # rt-delta.i586
    # One state; the subtask and both iterations under the new task_changed; bob's
    # approval revoked and carol's added; the try-2 events log (2 lines) and the try-2
    # build (2 + 2) and srpm (3 + 3) logs; the chroot lists are the same.
    assert summary.rows == {
        "TaskChroots": 0,
        "TaskLogs": 12,
        "TaskPlanPackages": 0,
        "TaskPlanPkgHash": 0,
        "TaskApprovals": 2,
        "Tasks": 1,
        "TaskIterations": 2,
        "TaskStates": 1,
    }
    after = counts(store)
    assert {t: after[t] - before[t] for t in ALL_TABLES if after[t] != before[t]} == {
        "Tasks": 1,
        "TaskStates": 1,
        "TaskIterations": 2,
        "TaskApprovals": 2,
        "TaskLogs": 12,
        "Packages_buffer": 1,
        "PackageHash_buffer": 1,
        "TaskLoadMarks": 1,  # the directory's new fingerprint
        # The new package's rows, as a repository load writes them (its changelog entry
        # is written with it even though the text is stored: Changelog folds repeats).
        "Changelog_buffer": 1,
        "Files_buffer": after["Files_buffer"] - before["Files_buffer"],
        "Depends_buffer": after["Depends_buffer"] - before["Depends_buffer"],
    }
    approvals = store.query(
        "SELECT tapp_name, toString(tapp_type), tapp_revoked, tapp_date FROM TaskApprovals "
        "ORDER BY tapp_date, tapp_name"
    )
    assert approvals == [
        ("bob", "approve", 0, datetime(2024, 6, 10, 6, 30, tzinfo=UTC)),
        ("carol", "approve", 0, datetime(2024, 6, 10, 7, 0, tzinfo=UTC)),
        ("bob", "approve", 1, later),
    ]
    states = store.query("SELECT task_state, task_try FROM TaskStates ORDER BY task_changed")
    assert states == [("FAILED", 1), ("TESTED", 2)]
    assert load_task(store, path=tasks["failed"], now=later).added == 0


@pytest.mark.parametrize(
    "state",
    [
        "NEW",
        "AWAITING",
        "POSTPONED",
        "BUILDING",
        "FAILED",
        "EPERM",
        "TESTED",
        "PENDING",
        "COMMITTING",
        "DONE",
        "DELETED",
    ],
)
def test_every_state_loads(store: Store, tasks: dict[str, Path], state: str) -> None:
    (tasks["new"] / "task" / "state").write_text(state + "\n")
    summary = load_task(store, path=tasks["new"], now=NOW)
    assert summary.state == state
    assert store.query("SELECT task_id, task_state FROM TaskStates") == [(2002, state)]


def _assert_nothing_stored(store: Store) -> None:
    assert set(counts(store).values()) == {0}


@pytest.mark.parametrize(
    ("damage", "file"),
    [
        (lambda d: (d / "task" / "state").unlink(), "task/state"),
        (lambda d: (d / "task" / "try").write_text("two\n"), "task/try"),
        (lambda d: (d / "info.json").write_text("{not json"), "info.json"),
        (
            lambda d: (d / "acl/approved/1/bob").write_text("approved, trust me\n"),
            "acl/approved/1/bob",
        ),
        (lambda d: (d / "build/1/x86_64/chroot_base").write_text("bash\tzz\n"), "chroot_base"),
        (lambda d: (d / "plan/x86_64.hash.diff").write_text("+abc  x.rpm\n"), "x86_64.hash.diff"),
        (
            lambda d: (d / "build/2/i586/rpms/rt-beta-2.0-alt1.i586.rpm").write_bytes(b"\xed\xab"),
            "rt-beta-2.0-alt1.i586.rpm",
        ),
    ],
)
def test_bad_file_names_task_and_file_and_stores_nothing(
    store: Store, tasks: dict[str, Path], damage: object, file: str
) -> None:
    damage(tasks["done"])  # type: ignore[operator]
    with pytest.raises(TaskDataError) as caught:
        load_task(store, path=tasks["done"], now=NOW)
    assert str(caught.value).startswith("task 1100: ")
    assert file in str(caught.value)
    assert caught.value.exit_code == 1
    _assert_nothing_stored(store)


def test_package_digest_mismatch_with_the_task_header_list(
    store: Store, tasks: dict[str, Path]
) -> None:
    """An arch package whose bytes differ from build/repo's pkglist is refused."""
    rpm = tasks["done"] / "build/1/x86_64/rpms/rt-alpha-1.0-alt1.x86_64.rpm"
    # A sound package, but another one than the list describes (a damaged file is
    # refused earlier, by its own digests).
    rpm.write_bytes((tasks["done"] / "build/1/i586/rpms/rt-alpha-1.0-alt1.i586.rpm").read_bytes())
    with pytest.raises(TaskDataError, match="md5 digest mismatch"):
        load_task(store, path=tasks["done"], now=NOW)
    _assert_nothing_stored(store)


def test_directory_not_named_by_an_id_is_a_usage_error(store: Store, tmp_path: Path) -> None:
    (tmp_path / "abc").mkdir()
    with pytest.raises(InputError) as caught:
        load_task(store, path=tmp_path / "abc")
    assert caught.value.exit_code == 2
    assert not isinstance(caught.value, TaskDataError)


def test_force_reads_packages_again_but_adds_no_task_rows(
    store: Store, tasks: dict[str, Path]
) -> None:
    load_task(store, path=tasks["done"], now=NOW)
    summary = load_task(store, path=tasks["done"], force=True, now=NOW)
    assert (summary.new_packages, summary.added) == (9, 0)


def test_daemon_defaults_skip_approvals(store: Store, tasks: dict[str, Path]) -> None:
    summary = load_task(store, path=tasks["done"], approvals=False, now=NOW)
    assert summary.rows["TaskApprovals"] == 0


def test_many_tasks_in_one_batch(store: Store, tasks: dict[str, Path]) -> None:
    paths = [tasks["done"], tasks["failed"], tasks["new"]]
    summaries = load_tasks(store, paths=paths, now=NOW)
    assert [(s.task_id, s.packages, s.new_packages, s.added) for s in summaries] == [
        (1100, 9, 9, 63),
        (2001, 3, 3, 16),  # the chroot lists are 1100's: nothing new there
        (2002, 0, 0, 2),
    ]
    got = counts(store)
    assert {t: got[t] for t in TASK_TABLES} == {
        "Tasks": 5 + 1 + 1,
        "TaskStates": 3,
        "TaskIterations": 5 + 2,
        "TaskApprovals": 3 + 1,
        "TaskPlanPackages": 11,
        "TaskPlanPkgHash": 11,
        "TaskChroots": 2,
        "TaskLogs": 25 + 11,
    }
    assert got["PackageHash_buffer"] == 12
    assert all(s.added == 0 for s in load_tasks(store, paths=paths, now=NOW))
    assert counts(store) == got


def test_a_bad_package_stops_at_its_task(store: Store, tasks: dict[str, Path]) -> None:
    rpm = tasks["failed"] / "build/1/x86_64/rpms/rt-delta-0.5-alt1.x86_64.rpm"
    rpm.write_bytes(b"not an rpm")
    with pytest.raises(TaskDataError, match=r"^task 2001: .*rt-delta-0\.5-alt1\.x86_64\.rpm"):
        load_tasks(store, paths=[tasks["done"], tasks["failed"], tasks["new"]], now=NOW)
    assert store.query("SELECT task_id FROM TaskStates") == [(1100,)]
    assert counts(store)["PackageHash_buffer"] == 9


def test_an_unreadable_task_stops_the_list(store: Store, tasks: dict[str, Path]) -> None:
    (tasks["new"] / "task" / "id").write_text("x\n")
    with pytest.raises(TaskDataError, match=r"^task 2002: .*task/id"):
        load_tasks(store, paths=[tasks["done"], tasks["new"], tasks["failed"]], now=NOW)
    assert store.query("SELECT task_id FROM TaskStates") == [(1100,)]


def test_file_provides_for_requires_stored_before(store: Store, tasks: dict[str, Path]) -> None:
    """rt-beta, stored by a repository load, requires a file that task 1100 brings."""
    flat = tasks["root"] / "beta-only"
    flat.mkdir()
    for rpm in (tasks["rpms"] / "beta").rglob("*.rpm"):
        shutil.copy(rpm, flat / rpm.name)
    load_repo(store, branch="p10", path=flat, date=date(2024, 6, 1))
    synthetic = (
        "SELECT p.pkg_name, d.dp_name FROM Depends_buffer AS d INNER JOIN Packages_buffer AS p "
        "ON p.pkg_hash = d.pkg_hash WHERE d.dp_type = 'provide' AND d.dp_name LIKE '/%'"
    )
    assert store.query(synthetic) == []  # nobody holds the file yet
    summary = load_task(store, path=tasks["done"], now=NOW)
    assert (summary.packages, summary.new_packages) == (9, 5)  # beta's 4 were stored
    assert store.query(synthetic) == [("rt-alpha-common", "/usr/share/rt-alpha/data")]


def test_request_type_and_flush(store: Store, tasks: dict[str, Path]) -> None:
    """``TaskLoad`` carries the arguments between faces; ``flush`` empties the buffers."""
    request = TaskLoad(path=tasks["failed"], flush=True)
    assert request.as_dict()["kind"] == "task"
    summary = request.run(store)
    assert (summary.task_id, summary.new_packages) == (2001, 3)
    # Flushed: the buffers hold nothing that their tables do not.
    for table in ("Packages", "PackageHash", "Files", "Depends"):
        ((both,),) = store.query(f"SELECT count() FROM {table}_buffer")  # noqa: S608
        ((target,),) = store.query(f"SELECT count() FROM {table}")  # noqa: S608
        assert both == target > 0
