"""``query task``, ``query tasks`` and ``query task-repo`` tell what the ALTRepo API tells.

The SQL texts below are quoted from the ALTRepo API (liannnix/altrepoapi at e18bcd4d,
``altrepo_api/api/task/sql.py``) as compatibility fixtures, byte for byte; only their
placeholders are filled (``fill``). The endpoints' Python glue (which query follows
which, what is kept of the answer) is restated in a few lines per endpoint, from
``altrepo_api/api/task/endpoints/task_info.py`` and ``task_repo.py``.

The store is written by hand, so that every expected answer below can be checked by
reading ``_build``. Branch sisyphus, times in minutes after ``T``:

- snapshot S1 (2024-06-30) is the repository after task 100 (DONE at 10): source A;
- task 90: NEW at 1, DONE at 20 (prev 100): adds B. Its id is below S1's task, but
  it was committed after it;
- task 110: NEW 5 -> BUILDING 6 -> FAILED 8 (try 1) -> DONE 30 (try 2, prev 90):
  subtask 1 (gear charlie, built on x86_64 and i586: C and its binaries), subtask 2
  (srpm old, built in try 1 and removed before try 2), subtask 3 (copy echo from
  p10); bob approved 1, carol approved 2, dave disapproved 1 and withdrew it (in a later load);
- task 105: NEW 12, DONE 40 (prev 110): adds D, deletes A; committed after 110
  although its id is lower;
- task 120: NEW 45 -> BUILDING 46 -> FAILED 50, test-only, no plan;
- task 130: DONE 60 (prev 105): adds F; snapshot S2 (2024-07-02) is the repository
  after it: B, C (and its binaries), D, F.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from repotrack.ingest.task_rows import (
    APPROVALS_COLUMNS,
    ITERATIONS_COLUMNS,
    PLAN_HASHES_COLUMNS,
    PLAN_PACKAGES_COLUMNS,
    STATES_COLUMNS,
    TASKS_COLUMNS,
    plan_hash,
)
from repotrack.rpm.hashes import mmhash
from repotrack.store import Store
from repotrack.store.task_queries import list_tasks, task_info, task_repo
from tests.unit.store.rows import PACKAGE_COLUMNS, load_branch_snapshot, package

# -- altrepo_api/api/task/sql.py (e18bcd4d), quoted ---------------------------------------------
check_task = """
SELECT count(task_id)
FROM TaskStates
WHERE task_id = {id}
"""

task_repo_owner = """
SELECT
    any(task_repo),
    any(task_owner)
FROM Tasks
WHERE task_id = {id}
"""

task_state = """
SELECT argMax(task_state, task_changed)
FROM TaskStates
WHERE task_id = {id}
"""

task_all_iterations = """
SELECT DISTINCT
    task_try,
    task_iter,
    subtask_id,
    max(task_changed)
FROM TaskIterations
WHERE task_id = {id}
{where_clause}
GROUP BY
    task_try,
    task_iter,
    subtask_id
ORDER BY
    task_try,
    task_iter,
    subtask_id
"""

task_iterations_by_task_changed = """
SELECT *
FROM TaskIterations
WHERE task_id = {id}
    AND task_changed = '{changed}'
ORDER BY
    subtask_id,
    subtask_arch
"""

task_subtasks_by_task_changed = """
SELECT *
FROM Tasks
WHERE task_id = {id}
    AND task_changed = '{changed}'
    AND subtask_deleted = 0
ORDER BY subtask_id
"""

task_state_last = """
SELECT
    task_id,
    argMax(task_state, task_changed),
    max(task_changed),
    argMax(task_runby, task_changed),
    argMax(task_depends, task_changed),
    argMax(task_try, task_changed),
    argMax(task_testonly, task_changed),
    argMax(task_failearly, task_changed),
    argMax(task_shared, task_changed),
    argMax(task_message, task_changed),
    argMax(task_version, task_changed),
    argMax(task_prev, task_changed),
    argMax(task_eventlog_hash, task_changed)
FROM TaskStates
WHERE task_id = {id}
GROUP BY task_id
"""

task_approvals = """
SELECT res
FROM
(
    SELECT argMax(tuple(subtask_id, tapp_date, tapp_type,
        tapp_name, tapp_message, tapp_revoked), ts) AS res
    FROM TaskApprovals
    WHERE task_id = {id}
    GROUP BY (subtask_id, tapp_name)
)
WHERE tupleElement(res, 6) = 0
"""

repo_task_content = """
SELECT DISTINCT
    subtask_arch,
    task_try,
    task_iter
FROM TaskIterations
WHERE task_id = {id}
    AND (task_try, task_iter) IN
    (
        SELECT
            argMax(task_try, task_changed),
            argMax(task_iter, task_changed)
        FROM TaskIterations
        WHERE task_id = {id}
    )
GROUP BY
    subtask_id,
    subtask_arch,
    task_try,
    task_iter
ORDER BY subtask_id
"""

repo_single_task_plan_hshs = """
SELECT pkgh_mmh
FROM PackageHash
WHERE pkgh_sha256 IN
(
    SELECT tplan_sha256
    FROM TaskPlanPkgHash
    WHERE  tplan_hash IN %(hshs)s
        AND tplan_action = %(act)s
)
"""

repo_tasks_diff_list_before_task = """
WITH
(
    SELECT max(task_changed)
    FROM TaskStates
    WHERE (task_state = 'DONE') AND (task_id =
    (
        SELECT argMax(task_prev, task_changed)
        FROM TaskStates
        WHERE (task_id = {id}) AND task_prev != 0
    ))
) AS current_task_prev_changed,
(
    SELECT max(task_changed)
    FROM TaskStates
    WHERE (task_id = {id}) AND (task_prev != 0)
) AS current_task_last_changed,
(
    SELECT changed
    FROM
    (
        SELECT T.task_changed AS changed
        FROM PackageSetName
        INNER JOIN
        (
            SELECT task_id, task_changed
            FROM TaskStates
        ) AS T ON T.task_id = toUInt32(pkgset_kv.v[indexOf(pkgset_kv.k, 'task')])
        WHERE pkgset_nodename = '{repo}'
        ORDER BY changed DESC
    )
    WHERE changed < current_task_last_changed
    LIMIT 1
) AS last_repo_task_changed
SELECT task_id
FROM TaskStates
WHERE task_state = 'DONE'
    AND task_changed <= current_task_prev_changed
    AND task_changed > last_repo_task_changed
    AND task_id IN (SELECT task_id FROM Tasks WHERE task_repo = '{repo}')
ORDER BY task_changed DESC
"""

repo_last_repo_hashes_before_task = """
WITH
(
    SELECT max(task_changed)
    FROM TaskStates
    WHERE (task_id = {id}) AND (task_prev != 0)
) AS current_task_last_changed
SELECT pkg_hash
FROM PackageSet
WHERE pkgset_uuid IN
(
    SELECT pkgset_uuid FROM PackageSetName
    WHERE pkgset_ruuid IN
    (
        SELECT pkgset_uuid
        FROM
        (
            SELECT pkgset_uuid, T.task_changed AS changed
            FROM PackageSetName
            INNER JOIN
            (
                SELECT task_id, task_changed
                FROM TaskStates
            ) AS T ON T.task_id = toUInt32(pkgset_kv.v[indexOf(pkgset_kv.k, 'task')])
            WHERE pkgset_nodename = '{repo}'
            ORDER BY changed DESC
        )
        WHERE changed < current_task_last_changed
        LIMIT 1
    )
)
"""

repo_last_repo_hashes = """
SELECT pkg_hash
FROM static_last_packages
WHERE pkgset_name = '{repo}'
"""

repo_last_repo_tasks_diff_list = """
WITH
(
    SELECT max(pkgset_date)
    FROM static_last_packages
    WHERE pkgset_name = '{repo}'
) AS last_repo_date,
(
    SELECT toUInt32(pkgset_kv.v[indexOf(pkgset_kv.k, 'task')])
    FROM PackageSetName
    WHERE pkgset_nodename = '{repo}' AND pkgset_date = last_repo_date
) AS last_repo_task,
(
    SELECT max(task_changed)
    FROM TaskStates
    WHERE (task_state = 'DONE') AND task_id = last_repo_task
) AS last_repo_task_changed
SELECT task_id
FROM TaskStates
WHERE task_state = 'DONE'
    AND task_changed > last_repo_task_changed
    AND task_id IN (SELECT task_id FROM Tasks WHERE task_repo = '{repo}')
ORDER BY task_changed DESC
"""

repo_tasks_plan_hshs = """
SELECT DISTINCT pkgh_mmh
FROM PackageHash
WHERE pkgh_sha256 IN
(
    SELECT tplan_sha256
    FROM TaskPlanPkgHash
    WHERE tplan_hash IN
    (
        SELECT tplan_hash
        FROM task_plan_hashes
        WHERE task_id IN %(id)s
    )
    AND tplan_action = %(act)s
)
"""


def fill(sql: str, **values: Any) -> tuple[str, dict[str, Any]]:
    """The API's placeholders filled: ``{x}`` by ``str.format`` (as the API does, with
    trusted test values), ``%(x)s`` as a server-side parameter (the API's driver binds
    those)."""
    params: dict[str, Any] = {}

    def param(m: re.Match[str]) -> str:
        name = m.group(1)
        value = values[name]
        params[name] = value
        if isinstance(value, str):
            return f"{{{name}:String}}"
        return f"{{{name}:Array(UInt64)}}" if name == "hshs" else f"{{{name}:Array(UInt32)}}"

    formatted = sql.format(**{k: v for k, v in values.items() if f"%({k})s" not in sql})
    return re.sub(r"%\((\w+)\)s", param, formatted), params


def run(store: Store, sql: str, **values: Any) -> list[tuple[Any, ...]]:
    text, params = fill(sql, **values)
    return store.query(text, params)


# -- the store --------------------------------------------------------------------------------
T = datetime(2024, 7, 1, tzinfo=UTC)
BRANCH = "sisyphus"

A, B, C, D, F, OLD = 11, 21, 31, 41, 61, 71
C_X86, C_I586 = 32, 33


def t(minutes: int) -> datetime:
    return T + timedelta(minutes=minutes)


def _src(h: int, name: str) -> tuple[Any, ...]:
    return package(h, name, "1.0", source=True)


def _bin(h: int, name: str, arch: str, src: int) -> tuple[Any, ...]:
    return package(h, name, "1.0", arch=arch, srcrpm=f"{name}-1.0-alt1.src.rpm", srcrpm_hash=src)


PACKAGES = {
    A: _src(A, "alpha"),
    B: _src(B, "bravo"),
    C: _src(C, "charlie"),
    C_X86: _bin(C_X86, "charlie", "x86_64", C),
    C_I586: _bin(C_I586, "charlie", "i586", C),
    D: _src(D, "delta"),
    F: _src(F, "foxtrot"),
    OLD: _src(OLD, "old"),
}


def _sha256(h: int) -> bytes:
    return hashlib.sha256(str(h).encode()).digest()


class _Rows:
    """Rows of every task table, written in the loader's order (states last)."""

    def __init__(self) -> None:
        self.states: list[tuple[Any, ...]] = []
        self.tasks: list[tuple[Any, ...]] = []
        self.iterations: list[tuple[Any, ...]] = []
        self.plan_hashes: list[tuple[Any, ...]] = []
        self.plan_packages: list[tuple[Any, ...]] = []
        self.approvals: list[tuple[Any, ...]] = []

    def state(
        self, task: int, when: int, state: str, try_: int, prev: int, *, testonly: int = 0
    ) -> None:
        self.states.append(
            (t(when), task, state, "alice", [], try_, testonly, 0, 0, "", "1", prev, [])
        )

    def subtask(
        self,
        task: int,
        when: int,
        sub: int,
        kind: str,
        *,
        deleted: int = 0,
        srpm_name: str = "",
        package: str = "",
        pkg_from: str = "",
    ) -> None:
        self.tasks.append(
            (
                task,
                sub,
                BRANCH,
                "alice",
                t(when),
                t(when),
                deleted,
                "alice",
                "",
                package,
                kind,
                pkg_from,
                "",
                "",
                "",
                "",
                "",
                srpm_name,
                "",
            )
        )

    def build(
        self,
        task: int,
        when: int,
        sub: int,
        arch: str,
        status: str,
        try_: int,
        src: int,
        *pkgs: int,
    ) -> None:
        self.iterations.append(
            (task, t(when), sub, arch, t(when), status, try_, 1, src, list(pkgs), 0, 0, 0, 0)
        )

    def plan(
        self, task: int, try_: int, *, add: tuple[int, ...] = (), delete: tuple[int, ...] = ()
    ) -> None:
        """Plan rows under the ``src`` key (§0.4); deletions also by file name."""
        key = plan_hash(task, try_, 1, "src")
        self.plan_hashes += [(key, "add", _sha256(h)) for h in add]
        self.plan_hashes += [(key, "delete", _sha256(h)) for h in delete]
        for h in delete:
            row = PACKAGES[h]
            name, filename = row[2], row[PACKAGE_COLUMNS.index("pkg_filename")]
            self.plan_packages.append((key, "delete", name, "1.0-alt1", "", filename, "src", "", 0))

    def write(self, store: Store) -> None:
        store.insert("TaskPlanPackages", PLAN_PACKAGES_COLUMNS, self.plan_packages)
        store.insert("TaskPlanPkgHash", PLAN_HASHES_COLUMNS, self.plan_hashes)
        store.insert("TaskApprovals", APPROVALS_COLUMNS, self.approvals)
        store.insert("Tasks", TASKS_COLUMNS, self.tasks)
        store.insert("TaskIterations", ITERATIONS_COLUMNS, self.iterations)
        store.insert("TaskStates", STATES_COLUMNS, self.states)


def _build(store: Store) -> None:
    store.insert("Packages_buffer", PACKAGE_COLUMNS, list(PACKAGES.values()))
    store.insert(
        "PackageHash_buffer",
        ("pkgh_mmh", "pkgh_md5", "pkgh_sha1", "pkgh_sha256", "pkgh_blake2b"),
        [(h, b"\0" * 16, b"\0" * 20, _sha256(h), b"\0" * 64) for h in PACKAGES],
    )
    r = _Rows()
    # 100: S1's task.
    r.subtask(100, 10, 1, "gear")
    r.build(100, 10, 1, "x86_64", "built", 1, A)
    r.state(100, 10, "DONE", 1, 99)
    # 90: committed after 100, id below it.
    for when, state in ((1, "NEW"), (20, "DONE")):
        r.subtask(90, when, 1, "srpm", srpm_name="bravo")
        r.state(90, when, state, 1, 100)
    r.build(90, 20, 1, "x86_64", "built", 1, B)
    r.plan(90, 1, add=(B,))
    # 110: NEW -> BUILDING -> FAILED (try 1) -> DONE (try 2), a subtask removed.
    for when, state, try_ in ((5, "NEW", 0), (6, "BUILDING", 1), (8, "FAILED", 1), (30, "DONE", 2)):
        r.subtask(110, when, 1, "gear")
        r.subtask(110, when, 2, "srpm" if when < 30 else "unknown", deleted=int(when >= 30))
        r.subtask(110, when, 3, "copy", package="echo", pkg_from="p10")
        r.state(110, when, state, try_, 90)
    r.build(110, 8, 1, "x86_64", "failed", 1, 0)
    r.build(110, 8, 1, "i586", "failed", 1, 0)
    r.build(110, 8, 2, "x86_64", "built", 1, OLD)
    r.build(110, 30, 1, "x86_64", "built", 2, C, C_X86)
    r.build(110, 30, 1, "i586", "built", 2, C, C_I586)
    r.plan(110, 2, add=(C, C_X86, C_I586))
    r.approvals += [
        (110, 1, "approve", 0, t(7), "bob", "ok"),
        (110, 2, "approve", 0, t(7), "carol", ""),
        (110, 1, "disapprove", 0, t(7), "dave", "wait"),
    ]
    # 105: committed after 110, id below it; deletes A.
    for when, state in ((12, "NEW"), (40, "DONE")):
        r.subtask(105, when, 1, "gear")
        r.state(105, when, state, 1, 110)
    r.build(105, 40, 1, "x86_64", "built", 1, D)
    r.plan(105, 1, add=(D,), delete=(A,))
    # 120: a test-only task that failed.
    for when, state in ((45, "NEW"), (46, "BUILDING"), (50, "FAILED")):
        r.subtask(120, when, 1, "gear")
        r.state(120, when, state, 1, 105, testonly=1)
    r.build(120, 50, 1, "x86_64", "failed", 1, 0)
    # 130: S2's task.
    r.subtask(130, 60, 1, "gear")
    r.build(130, 60, 1, "x86_64", "built", 1, F)
    r.plan(130, 1, add=(F,))
    r.state(130, 60, "DONE", 1, 105)
    r.write(store)
    src = [PACKAGES[h] for h in (B, C, D, F)]
    load_branch_snapshot(
        store, BRANCH, datetime(2024, 6, 30, tzinfo=UTC), [PACKAGES[A]], [], task=100
    )
    load_branch_snapshot(
        store, BRANCH, datetime(2024, 7, 2, tzinfo=UTC), src, [PACKAGES[C_X86]], task=130
    )
    # The API reads the tables, not their Buffers.
    for table in ("Packages", "PackageSet", "PackageHash"):
        store.command(f"OPTIMIZE TABLE {table}_buffer")


@pytest.fixture
def built(store: Store) -> Store:
    _build(store)
    return store


# -- /task/task_repo/<id> -----------------------------------------------------------------------
def api_task_repo(store: Store, task_id: int) -> tuple[set[int], set[int]]:
    """The packages of ``/task/task_repo/<id>?include_task_packages=true`` and its task list.

    ``TaskRepoState.build_task_repo`` of ``altrepo_api/api/task/endpoints/task_repo.py``:
    the task's own plan (latest try/iter), then for a DONE task the snapshot before it
    and the DONE tasks up to its ``prev``, for any other the newest snapshot and the
    DONE tasks since; plans applied as sets.
    """
    assert run(store, check_task, id=task_id)[0][0] != 0
    ((repo,),) = store.query(f"SELECT any(task_repo) FROM Tasks WHERE task_id = {task_id}")  # noqa: S608
    ((state,),) = run(store, task_state, id=task_id)
    assert state in ("DONE", "EPERM", "TESTED", "FAILED")
    content = run(store, repo_task_content, id=task_id)
    archs = {"src", "noarch", "x86_64-i586"} | {r[0] for r in content}
    try_, iter_ = (content[-1][1], content[-1][2]) if content else (0, 0)
    hshs = [mmhash(f"{task_id}{try_}{iter_}{arch}") for arch in archs]
    add = {r[0] for r in run(store, repo_single_task_plan_hshs, hshs=hshs, act="add")}
    delete = {r[0] for r in run(store, repo_single_task_plan_hshs, hshs=hshs, act="delete")}
    if state == "DONE":
        diff = [r[0] for r in run(store, repo_tasks_diff_list_before_task, id=task_id, repo=repo)]
        last = {r[0] for r in run(store, repo_last_repo_hashes_before_task, id=task_id, repo=repo)}
    else:
        diff = [r[0] for r in run(store, repo_last_repo_tasks_diff_list, repo=repo)]
        last = {r[0] for r in run(store, repo_last_repo_hashes, repo=repo)}
    diff_add: set[int] = set()
    diff_del: set[int] = set()
    if diff:
        diff_add = {r[0] for r in run(store, repo_tasks_plan_hshs, id=diff, act="add")}
        diff_del = {r[0] for r in run(store, repo_tasks_plan_hshs, id=diff, act="delete")}
    base = (last - diff_del) | diff_add
    return (base - delete) | add, set(diff)


@pytest.mark.parametrize(
    ("task_id", "packages", "applied"),
    [
        # DONE: S1, then the tasks committed before it (90, not 105), then its own plan.
        (110, {A, B, C, C_X86, C_I586}, [90]),
        (105, {B, C, C_X86, C_I586, D}, [90, 110]),
        # DONE with an id below S1's task: S1 is still the repository it was built on.
        (90, {A, B}, []),
        # FAILED: the newest snapshot and what was committed since (nothing).
        (120, {B, C, C_X86, D, F}, []),
    ],
)
def test_task_repo_is_the_api_s(
    built: Store, task_id: int, packages: set[int], applied: list[int]
) -> None:
    theirs, their_tasks = api_task_repo(built, task_id)
    assert theirs == packages
    assert their_tasks == set(applied)
    ours = task_repo(built, task_id=task_id)
    assert {p.pkg_hash for p in ours.packages} == packages
    assert ours.tasks_applied == applied  # in commit order


def test_task_repo_added_and_removed_against_the_base(built: Store) -> None:
    repo = task_repo(built, task_id=105)
    assert (repo.base_task, repo.tasks_applied) == (100, [90, 110])
    assert {p.pkg_hash for p in repo.added} == {B, C, C_X86, C_I586, D}
    assert {p.pkg_hash for p in repo.removed} == {A}


# -- /task/task_info/<id> -----------------------------------------------------------------------
def test_task_info_is_the_api_s(built: Store) -> None:
    # The API's TaskInfo.get without try/iteration: the latest state and the subtasks
    # and iterations of its task_changed.
    # A later load finds dave's disapproval gone: the API keeps the newest row by ``ts``.
    time.sleep(1.1)
    built.insert(
        "TaskApprovals",
        ("task_id", "subtask_id", "tapp_type", "tapp_revoked", "tapp_date", "tapp_name"),
        [(110, 1, "disapprove", 1, t(9), "dave")],
    )
    ((_, state, changed, *_rest),) = run(built, task_state_last, id=110)
    rebuilds = {(r[0], r[1]) for r in run(built, task_all_iterations, id=110, where_clause="")}
    subtasks = run(built, task_subtasks_by_task_changed, id=110, changed=changed)
    iterations = run(built, task_iterations_by_task_changed, id=110, changed=changed)
    approvals = [r[0] for r in run(built, task_approvals, id=110)]
    assert (state, changed, rebuilds) == ("DONE", t(30), {(1, 1), (2, 1)})

    info = task_info(built, task_id=110)
    assert (info.state, info.changed) == (state, changed)
    assert [s.state for s in info.states] == ["NEW", "BUILDING", "FAILED", "DONE"]
    assert {(s.try_, 1) for s in info.states if s.try_} == rebuilds
    # Removed subtask 2 is listed as removed; the API leaves it out.
    assert [s.subtask_id for s in info.subtasks if not s.deleted] == [r[1] for r in subtasks]
    assert [(s.subtask_id, s.type) for s in info.subtasks] == [
        (1, "gear"),
        (2, "unknown"),
        (3, "copy"),
    ]
    assert info.subtasks[1].deleted
    theirs = sorted((r[2], r[3], r[5], r[6], r[7], r[8], list(r[9])) for r in iterations)
    ours = sorted(
        (
            it.subtask_id,
            it.arch,
            it.status,
            it.try_,
            it.iter_,
            it.srpm.pkg_hash if it.srpm else 0,
            [p.pkg_hash for p in it.packages],
        )
        for it in info.iterations
    )
    assert theirs == [
        (1, "i586", "built", 2, 1, C, [C_I586]),
        (1, "x86_64", "built", 2, 1, C, [C_X86]),
    ]
    assert ours == theirs
    # Active approvals agree; ours also shows dave's withdrawn disapproval, marked.
    assert sorted((a[0], a[2], a[3]) for a in approvals) == [
        (1, "approve", "bob"),
        (2, "approve", "carol"),
    ]
    assert [(a.subtask_id, a.type, a.name, a.revoked) for a in info.approvals] == [
        (1, "approve", "bob", False),
        (1, "disapprove", "dave", True),
        (2, "approve", "carol", False),
    ]


def test_task_info_of_a_failed_test_only_task(built: Store) -> None:
    ((_, state, changed, *_rest),) = run(built, task_state_last, id=120)
    iterations = run(built, task_iterations_by_task_changed, id=120, changed=changed)
    info = task_info(built, task_id=120)
    assert (info.state, info.changed) == (state, changed) == ("FAILED", t(50))
    assert [(it.subtask_id, it.arch, it.status) for it in info.iterations] == [
        (r[2], r[3], r[5]) for r in iterations
    ]


# -- query tasks ----------------------------------------------------------------------------------
def test_task_list_counts_the_subtasks_the_api_shows(built: Store) -> None:
    # The API's subtasks of a task: its rows at the latest task_changed, not removed.
    expected = {}
    for task_id in (90, 100, 105, 110, 120, 130):
        ((_, state, changed, *_rest),) = run(built, task_state_last, id=task_id)
        subs = run(built, task_subtasks_by_task_changed, id=task_id, changed=changed)
        expected[task_id] = (state, changed, len(subs))
    assert expected[110] == ("DONE", t(30), 2)
    found = list_tasks(built, branch=BRANCH)
    assert {s.task_id: (s.state, s.changed, s.subtasks) for s in found} == expected
    # Newest change first, as the API's task lists.
    assert [s.task_id for s in found] == [130, 120, 105, 110, 90, 100]
