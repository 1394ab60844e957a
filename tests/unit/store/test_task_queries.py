"""Task queries against hand-written expectations (tests/fixtures/girar.py describes the tasks)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from repotrack.errors import InputError, NotFoundError
from repotrack.ingest.task import load_task
from repotrack.store import Store, open_store
from repotrack.store.task_queries import list_tasks, package_history, task_info, task_repo
from tests.conftest import DATA
from tests.fixtures.girar import T0, advance_failed_task
from tests.fixtures.taskstore import loaded_task_store


@pytest.fixture
def loaded(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> Iterator[tuple[Store, dict[str, Path]]]:
    url, tasks = loaded_task_store(tmp_path_factory, tmp_path / "store")
    with open_store(url) as store:
        yield store, tasks


def at(offset: int) -> datetime:
    return datetime.fromtimestamp(T0 + offset, UTC)


def test_task_info_of_the_done_task(loaded: tuple[Store, dict[str, Path]]) -> None:
    store, _ = loaded
    info = task_info(store, task_id=1100)
    assert (info.branch, info.owner, info.state, info.changed, info.prev, info.depends) == (
        "sisyphus",
        "alice",
        "DONE",
        at(100),
        1099,
        [1050, 1060],
    )
    assert [(s.state, s.try_, s.message) for s in info.states] == [
        ("DONE", 2, "update alpha and beta")
    ]
    assert [(s.subtask_id, s.type, s.package, s.source, s.deleted) for s in info.subtasks] == [
        (1, "gear", "rt-alpha", "/people/alice/packages/rt-alpha.git", False),
        (2, "srpm", "rt-beta", "rt-beta-2.0-alt1.src.rpm", False),
        (3, "copy", "rt-gamma", "copy from p10", False),
        (4, "delete", "rt-tilde", "delete", False),
        (5, "unknown", "", "", True),
    ]
    iterations = [
        (
            it.subtask_id,
            it.arch,
            it.status,
            it.srpm.name if it.srpm else None,
            [(p.name, p.arch) for p in it.packages],
        )
        for it in info.iterations
    ]
    assert iterations == [
        (1, "x86_64", "built", "rt-alpha", [("rt-alpha", "x86_64"), ("rt-alpha-common", "noarch")]),
        (1, "i586", "built", "rt-alpha", [("rt-alpha", "i586"), ("rt-alpha-common", "noarch")]),
        (2, "x86_64", "built", "rt-beta", [("rt-beta", "x86_64"), ("rt-beta-common", "noarch")]),
        (2, "i586", "built", "rt-beta", [("rt-beta", "i586"), ("rt-beta-common", "noarch")]),
        (4, "x86_64", "deleted", None, []),
    ]
    assert all(it.errors == [] for it in info.iterations)
    assert [(a.subtask_id, a.type, a.name, a.message, a.revoked) for a in info.approvals] == [
        (1, "approve", "bob", "looks fine", False),
        (2, "approve", "bob", "", False),
        (2, "disapprove", "dave", "needs a changelog\nplease", False),
    ]


def test_task_info_shows_the_last_error_lines(loaded: tuple[Store, dict[str, Path]]) -> None:
    store, _ = loaded
    info = task_info(store, task_id=2001)
    (failed,) = [it for it in info.iterations if it.arch == "i586"]
    # The failed arch shares the subtask's source package, as ALTRepo stores it.
    assert (failed.status, failed.packages) == ("failed", [])
    assert failed.srpm is not None and failed.srpm.name == "rt-delta"
    assert failed.errors == [
        "delta.c:3: error: expected ';' before '}' token",
        "error: Bad exit status from /usr/src/tmp/rpm-tmp (%build)",
    ]


def test_task_info_after_an_advance(loaded: tuple[Store, dict[str, Path]]) -> None:
    store, tasks = loaded
    advance_failed_task(tasks["failed"], tasks["rpms"] / "delta")
    load_task(store, path=tasks["failed"], now=datetime(2024, 6, 12, tzinfo=UTC))
    info = task_info(store, task_id=2001)
    assert [(s.state, s.try_) for s in info.states] == [("FAILED", 1), ("TESTED", 2)]
    assert [(it.arch, it.status, it.try_) for it in info.iterations] == [
        ("x86_64", "built", 2),
        ("i586", "built", 2),
    ]
    assert [(a.name, a.revoked) for a in info.approvals] == [("bob", True), ("carol", False)]


def test_unknown_task(loaded: tuple[Store, dict[str, Path]]) -> None:
    store, _ = loaded
    with pytest.raises(NotFoundError, match="task 4242 is not loaded"):
        task_info(store, task_id=4242)
    with pytest.raises(InputError):
        task_info(store, task_id=0)


def _base_count() -> int:
    return len(list((DATA / "rpms").glob("*.rpm")))


def test_task_repo(loaded: tuple[Store, dict[str, Path]]) -> None:
    store, _ = loaded
    repo = task_repo(store, task_id=1100)
    assert (repo.branch, repo.base_task, repo.tasks_applied) == ("sisyphus", 1000, [])
    assert repo.base is not None and repo.base.date.date() == date(2024, 6, 1)
    added = sorted((p.name, "src" if p.sourcepackage else p.arch) for p in repo.added)
    assert added == [
        ("i586-rt-alpha", "x86_64-i586"),
        ("rt-alpha", "i586"),
        ("rt-alpha", "src"),
        ("rt-alpha", "x86_64"),
        ("rt-alpha-common", "noarch"),
        ("rt-beta", "i586"),
        ("rt-beta", "src"),
        ("rt-beta", "x86_64"),
        ("rt-beta-common", "noarch"),
    ]
    removed = sorted((p.name, "src" if p.sourcepackage else p.arch) for p in repo.removed)
    assert removed == [("rt-tilde", "noarch"), ("rt-tilde", "src")]
    assert len(repo.packages) == _base_count() + 9 - 2
    # A later task of the branch is built on top of the DONE task.
    later = task_repo(store, task_id=2002)
    assert (later.base_task, later.tasks_applied) == (1000, [1100])
    assert {p.pkg_hash for p in later.packages} == {p.pkg_hash for p in repo.packages}


def test_package_history(loaded: tuple[Store, dict[str, Path]]) -> None:
    store, _ = loaded
    alpha = package_history(store, name="rt-alpha", branch="sisyphus")
    assert [(e.task_id, e.subtask_id, e.action, e.evr, e.state, e.owner) for e in alpha] == [
        (1100, 1, "build", "1.0-alt1", "DONE", "alice")
    ]
    tilde = package_history(store, name="rt-tilde", branch="sisyphus")
    assert [(e.task_id, e.subtask_id, e.action) for e in tilde] == [(1100, 4, "delete")]
    delta = package_history(store, name="rt-delta", branch="p10")
    assert [(e.task_id, e.action, e.state) for e in delta] == [(2001, "build", "FAILED")]
    assert package_history(store, name="rt-delta", branch="sisyphus") == []


def test_list_tasks_filters(loaded: tuple[Store, dict[str, Path]]) -> None:
    store, _ = loaded

    def ids(**kw: object) -> list[int]:
        return [t.task_id for t in list_tasks(store, **kw)]  # type: ignore[arg-type]

    assert ids() == [2002, 2001, 1100]  # newest first
    assert ids(branch="sisyphus") == [2002, 1100]
    assert ids(state="done") == [1100]
    assert ids(owner="bob") == [2001]
    assert ids(since=date(2024, 6, 10)) == [2002, 2001, 1100]
    assert ids(since=date(2024, 6, 11)) == []
    (first,) = list_tasks(store, state="DONE")
    assert (first.branch, first.owner, first.changed, first.try_, first.subtasks) == (
        "sisyphus",
        "alice",
        at(100),
        2,
        4,  # subtask 5 was removed: not counted (as the ALTRepo API lists subtasks)
    )
