"""Typed read queries over ALTRepo's task tables, for ``repotrack query task...`` and ``/api/v1``.

A task exists for readers once its ``TaskStates`` row does: the task loader writes
that row last. Subtasks and iterations are read at the newest ``task_changed`` at
or before the task's latest state, so a load in progress (whose ``Tasks`` rows are
written before its state) never shows through.

``task_repo`` follows ALTRepo API's ``/task/task_repo``, which orders by commit
time, not by id (girar commits tasks in any id order): for a DONE task, the newest
repository snapshot of its branch whose ``task`` key (from ``files/list/task.info``)
names a task with a state stored before the task's latest, then the plans of the
branch's DONE tasks committed after that task and up to the task's ``prev``; for
any other state, the branch's newest snapshot and every DONE task committed since.
Then the task's own plan. Plans are applied one by one in commit order. Added files
are found by SHA-256 (``TaskPlanPkgHash`` -> ``PackageHash``), removed ones by file
name. A snapshot whose key task is not loaded has no commit time: when no snapshot
qualifies by time, the one whose key is the highest below the task's id is taken and
the DONE tasks after it are those with a higher id (the rule before 2026-12-07).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from repotrack.errors import InputError, NotFoundError
from repotrack.store.base import Store
from repotrack.store.queries import (
    _SUMMARY_COLUMNS,
    MAX_LIMIT,
    PackageSetRef,
    PackageSummary,
    _all_packages,
    _summary,
)

__all__ = [
    "ApprovalInfo",
    "HistoryEntry",
    "IterationInfo",
    "StateInfo",
    "SubtaskInfo",
    "TaskInfo",
    "TaskRepo",
    "TaskSummary",
    "list_tasks",
    "package_history",
    "task_info",
    "task_repo",
]

#: Lines of each build log kept in ``task_info``'s log summary.
ERROR_LINES = 5


@dataclass(frozen=True)
class StateInfo:
    changed: datetime
    state: str
    try_: int
    runby: str
    message: str


@dataclass(frozen=True)
class SubtaskInfo:
    subtask_id: int
    type: str
    package: str
    source: str
    userid: str
    deleted: bool


@dataclass(frozen=True)
class IterationInfo:
    subtask_id: int
    arch: str
    status: str
    ts: datetime
    try_: int
    iter_: int
    srpm: PackageSummary | None
    packages: list[PackageSummary]
    errors: list[str]


@dataclass(frozen=True)
class ApprovalInfo:
    subtask_id: int
    type: str
    name: str
    date: datetime
    message: str
    revoked: bool


@dataclass(frozen=True)
class TaskInfo:
    task_id: int
    branch: str
    owner: str
    state: str
    changed: datetime
    prev: int
    depends: list[int]
    states: list[StateInfo]
    subtasks: list[SubtaskInfo]
    iterations: list[IterationInfo]
    approvals: list[ApprovalInfo]


@dataclass(frozen=True)
class TaskRepo:
    task_id: int
    branch: str
    base: PackageSetRef | None
    base_task: int
    tasks_applied: list[int]
    added: list[PackageSummary]
    removed: list[PackageSummary]
    packages: list[PackageSummary]


@dataclass(frozen=True)
class HistoryEntry:
    task_id: int
    subtask_id: int
    action: str
    subtask_type: str
    evr: str
    state: str
    changed: datetime
    owner: str


@dataclass(frozen=True)
class TaskSummary:
    task_id: int
    branch: str
    owner: str
    state: str
    changed: datetime
    try_: int
    message: str
    subtasks: int


# -- one task -----------------------------------------------------------------------------
def task_info(store: Store, *, task_id: int) -> TaskInfo:
    """State history, subtasks, iterations with packages, approvals and log errors."""
    _check_id(task_id)
    params = {"t": task_id}
    rows = store.query(
        "SELECT task_changed, task_state, task_try, task_runby, task_message, task_prev, "
        "task_depends FROM TaskStates WHERE task_id = {t:UInt32} ORDER BY task_changed, ts",
        params,
    )
    if not rows:
        raise NotFoundError(f"task {task_id} is not loaded")
    states = [StateInfo(r[0], r[1], int(r[2]), r[3], r[4]) for r in rows]
    last = rows[-1]
    snapshot = _snapshot(store, task_id, last[0])
    sub_rows = store.query(
        "SELECT subtask_id, toString(subtask_type), subtask_package, subtask_srpm_name, "
        "subtask_dir, subtask_srpm, subtask_pkg_from, subtask_userid, subtask_deleted, "
        "task_repo, task_owner FROM Tasks WHERE task_id = {t:UInt32} "
        "AND task_changed = {c:DateTime} ORDER BY subtask_id",
        {**params, "c": snapshot},
    )
    branch = sub_rows[0][9] if sub_rows else ""
    owner = sub_rows[0][10] if sub_rows else ""
    return TaskInfo(
        task_id=task_id,
        branch=branch,
        owner=owner,
        state=last[1],
        changed=last[0],
        prev=int(last[5]),
        depends=[int(d) for d in last[6]],
        states=states,
        subtasks=[_subtask(r) for r in sub_rows],
        iterations=_iterations(store, task_id, snapshot),
        approvals=_approvals(store, task_id),
    )


def _snapshot(store: Store, task_id: int, changed: datetime) -> datetime:
    rows = store.query(
        "SELECT max(task_changed) FROM Tasks WHERE task_id = {t:UInt32} "
        "AND task_changed <= {c:DateTime}",
        {"t": task_id, "c": changed},
    )
    value: datetime = rows[0][0]
    return value


def _subtask(row: tuple[Any, ...]) -> SubtaskInfo:
    sub, kind, package, srpm_name, gear_dir, srpm, pkg_from, userid, deleted = row[:9]
    name = srpm_name or package or gear_dir.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    source = {
        "gear": gear_dir,
        "srpm": srpm,
        "copy": f"copy from {pkg_from}",
        "rebuild": f"rebuild from {pkg_from}" if pkg_from else "rebuild",
        "delete": "delete",
    }.get(kind, "")
    return SubtaskInfo(int(sub), kind, name, source, userid, bool(deleted))


def _iterations(store: Store, task_id: int, snapshot: datetime) -> list[IterationInfo]:
    rows = store.query(
        "SELECT subtask_id, subtask_arch, titer_status, titer_ts, task_try, task_iter, "
        "titer_srcrpm_hash, titer_pkgs_hash, titer_buildlog_hash FROM TaskIterations "
        "WHERE task_id = {t:UInt32} AND task_changed = {c:DateTime} "
        "ORDER BY subtask_id, subtask_arch = 'x86_64' DESC, subtask_arch",
        {"t": task_id, "c": snapshot},
    )
    wanted = {int(h) for r in rows for h in (r[6], *r[7]) if h}
    packages = _packages(store, wanted)
    errors = _log_errors(store, [int(r[8]) for r in rows if r[8]])
    return [
        IterationInfo(
            subtask_id=int(r[0]),
            arch=r[1],
            status=r[2],
            ts=r[3],
            try_=int(r[4]),
            iter_=int(r[5]),
            srpm=packages.get(int(r[6])),
            packages=[packages[int(h)] for h in r[7] if int(h) in packages],
            errors=errors.get(int(r[8]), []),
        )
        for r in rows
    ]


def _packages(store: Store, hashes: set[int]) -> dict[int, PackageSummary]:
    if not hashes:
        return {}
    rows = store.query(
        f"SELECT DISTINCT {_SUMMARY_COLUMNS} FROM Packages_buffer "  # noqa: S608 - fixed text
        "WHERE pkg_hash IN {h:Array(UInt64)}",
        {"h": sorted(hashes)},
    )
    return {int(r[0]): _summary(r) for r in rows}


def _log_errors(store: Store, hashes: list[int]) -> dict[int, list[str]]:
    """The last few lines of each build log that mention an error."""
    if not hashes:
        return {}
    rows = store.query(
        "SELECT tlog_hash, arraySlice(arrayMap(x -> x.2, arraySort(groupArray("
        "(tlog_line, tlog_message)))), -{n:UInt32}) FROM "
        "(SELECT DISTINCT tlog_hash, tlog_line, tlog_message FROM TaskLogs "
        "WHERE tlog_hash IN {h:Array(UInt64)} AND positionCaseInsensitive(tlog_message, "
        "'error') > 0) GROUP BY tlog_hash",
        {"h": sorted(set(hashes)), "n": ERROR_LINES},
    )
    return {int(h): list(lines) for h, lines in rows}


def _approvals(store: Store, task_id: int) -> list[ApprovalInfo]:
    rows = store.query(
        "SELECT subtask_id, toString(tapp_type), tapp_name, "
        "argMax(tuple(tapp_date, tapp_message, tapp_revoked), tuple(ts, tapp_date, tapp_revoked)) "
        "FROM TaskApprovals WHERE task_id = {t:UInt32} "
        "GROUP BY subtask_id, tapp_type, tapp_name ORDER BY subtask_id, 2, tapp_name",
        {"t": task_id},
    )
    return [
        ApprovalInfo(int(sub), kind, name, last[0], last[1], bool(last[2]))
        for sub, kind, name, last in rows
    ]


# -- the branch as the task would leave it --------------------------------------------------
_PLAN_HASHES = """
SELECT task_id, murmurHash3_64(concat(toString(task_id), toString(task_try),
       toString(task_iter), arch))
FROM
(
    SELECT task_id, argMax(task_try, task_changed) AS task_try,
           argMax(task_iter, task_changed) AS task_iter,
           arrayDistinct(arrayConcat(groupUniqArray(subtask_arch),
                                     ['src', 'noarch', 'x86_64-i586'])) AS archs
    FROM TaskIterations WHERE task_id IN {ids:Array(UInt32)} GROUP BY task_id
)
ARRAY JOIN archs AS arch
"""


def task_repo(store: Store, *, task_id: int) -> TaskRepo:
    """The package set the task was built against, with its own changes applied."""
    info = task_info(store, task_id=task_id)
    done = info.state == "DONE"
    base, base_task, after = _base_snapshot(
        store, info.branch, task_id, before=info.changed if done else None
    )
    members = _members(store, base) if base is not None else set()
    applied = _done_between(
        store,
        info.branch,
        task_id,
        after=after,
        after_id=base_task if after is None else 0,
        until=_until(store, info) if done else None,
    )
    start = set(members)
    for tid in [*applied, task_id]:
        adds, dels = _plan_changes(store, tid)
        members -= _by_file_name(store, dels)
        members |= adds
    packages = {p.pkg_hash: p for p in _all_packages(store, base)} if base is not None else {}
    packages.update(_packages(store, members - packages.keys()))

    def ordered(hashes: set[int]) -> list[PackageSummary]:
        return sorted((packages[h] for h in hashes if h in packages), key=_order)

    return TaskRepo(
        task_id=task_id,
        branch=info.branch,
        base=base,
        base_task=base_task,
        tasks_applied=applied,
        added=ordered(members - start),
        removed=ordered(start - members),
        packages=ordered(members),
    )


def _order(p: PackageSummary) -> tuple[str, bool, str]:
    return (p.name, not p.sourcepackage, p.arch)


_ROOTS = """
SELECT pkgset_uuid, pkgset_nodename, pkgset_date, pkgset_tag,
       toUInt32OrZero(pkgset_kv.v[indexOf(pkgset_kv.k, 'task')]) AS task
FROM PackageSetName WHERE pkgset_depth = 0 AND pkgset_nodename = {b:String} AND task > 0
"""


def _base_snapshot(
    store: Store, branch: str, task_id: int, *, before: datetime | None
) -> tuple[PackageSetRef | None, int, datetime | None]:
    """The snapshot to build on, its task and that task's time (None: not loaded).

    ``before`` (a DONE task's latest change): the snapshot whose key task has the
    newest state stored before it, as the API's ``repo_last_repo_hashes_before_task``.
    None (any other state): the branch's newest snapshot, as ``static_last_packages``.
    """
    if before is not None:
        rows = store.query(
            f"SELECT N.*, S.changed FROM ({_ROOTS}) AS N INNER JOIN "  # noqa: S608 - fixed text
            "(SELECT task_id, max(task_changed) AS changed FROM TaskStates "
            "WHERE task_changed < {c:DateTime} GROUP BY task_id) AS S ON S.task_id = N.task "
            "ORDER BY S.changed DESC, N.pkgset_date DESC LIMIT 1",
            {"b": branch, "c": before},
        )
        if not rows:
            rows = store.query(
                f"SELECT * FROM ({_ROOTS}) WHERE task < {{t:UInt32}} "  # noqa: S608 - fixed text
                "ORDER BY task DESC, pkgset_date DESC LIMIT 1",
                {"b": branch, "t": task_id},
            )
            rows = [(*r, None) for r in rows]
    else:
        rows = store.query(
            f"SELECT N.*, S.changed FROM ({_ROOTS}) AS N LEFT JOIN "  # noqa: S608 - fixed text
            "(SELECT task_id, max(task_changed) AS changed FROM TaskStates "
            "WHERE task_state = 'DONE' GROUP BY task_id) AS S ON S.task_id = N.task "
            "ORDER BY N.pkgset_date DESC, N.task DESC LIMIT 1 SETTINGS join_use_nulls = 1",
            {"b": branch},
        )
    if not rows:
        return None, 0, None
    uid, name, when, tag, task, changed = rows[0]
    return PackageSetRef(uuid=uid, branch=name, date=when, tag=tag), int(task), changed


def _until(store: Store, info: TaskInfo) -> datetime:
    """The newest commit a DONE task was built on: its ``prev``'s, else just before its own."""
    rows = store.query(
        "SELECT max(task_changed) FROM TaskStates WHERE task_id = {p:UInt32} "
        "AND task_state = 'DONE' HAVING count() > 0",
        {"p": info.prev},
    )
    if info.prev and rows:
        value: datetime = rows[0][0]
        return value
    return info.changed - timedelta(seconds=1)


def _done_between(
    store: Store,
    branch: str,
    task_id: int,
    *,
    after: datetime | None,
    after_id: int,
    until: datetime | None,
) -> list[int]:
    """DONE tasks of ``branch`` committed after ``after`` (or with an id above
    ``after_id`` when that time is unknown) and up to ``until``, in commit order."""
    rows = store.query(
        "SELECT task_id, max(task_changed) AS done FROM TaskStates "
        "WHERE task_state = 'DONE' AND task_id != {t:UInt32} AND task_id > {i:UInt32} "
        "AND task_id IN (SELECT task_id FROM Tasks WHERE task_repo = {b:String}) "
        "GROUP BY task_id HAVING done > {lo:DateTime} AND done <= {hi:DateTime} "
        "ORDER BY done, task_id",
        {
            "t": task_id,
            "i": after_id,
            "b": branch,
            "lo": after or datetime(1970, 1, 1, tzinfo=UTC),
            "hi": until or datetime(2105, 12, 31, tzinfo=UTC),
        },
    )
    return [int(r[0]) for r in rows]


def _members(store: Store, base: PackageSetRef) -> set[int]:
    rows = store.query(
        "SELECT DISTINCT pkg_hash FROM PackageSet_buffer WHERE pkgset_uuid IN "
        "(SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = {r:UUID})",
        {"r": base.uuid},
    )
    return {int(r[0]) for r in rows}


def _plan_changes(store: Store, task_id: int) -> tuple[set[int], list[str]]:
    """Packages a task's plan adds (by SHA-256) and the file names it removes."""
    hashes = [int(r[1]) for r in store.query(_PLAN_HASHES, {"ids": [task_id]})]
    if not hashes:
        return set(), []
    adds = store.query(
        "SELECT DISTINCT pkgh_mmh FROM PackageHash_buffer WHERE pkgh_sha256 IN "
        "(SELECT tplan_sha256 FROM TaskPlanPkgHash WHERE tplan_hash IN {h:Array(UInt64)} "
        "AND tplan_action = 'add')",
        {"h": hashes},
    )
    dels = store.query(
        "SELECT DISTINCT if(tplan_bin_file = '', tplan_src_file, tplan_bin_file) "
        "FROM TaskPlanPackages WHERE tplan_hash IN {h:Array(UInt64)} AND tplan_action = 'delete'",
        {"h": hashes},
    )
    return {int(r[0]) for r in adds}, [r[0] for r in dels]


def _by_file_name(store: Store, files: list[str]) -> set[int]:
    """Packages stored under these file names (a plan removes files by name)."""
    if not files:
        return set()
    rows = store.query(
        "SELECT DISTINCT pkg_hash FROM Packages_buffer WHERE pkg_filename IN {f:Array(String)}",
        {"f": files},
    )
    return {int(r[0]) for r in rows}


# -- many tasks --------------------------------------------------------------------------------
#: Each task's latest state and, from its subtasks as of that state (the newest
#: ``task_changed`` at or before it), the branch, owner and the number of subtasks
#: not removed: what ``/task/task_info`` lists.
_LATEST = """
SELECT S.task_id AS task_id, argMax(T.repo, T.snap) AS repo, argMax(T.owner, T.snap) AS owner,
       any(S.last_state) AS state, any(S.last_changed) AS changed, any(S.last_try) AS try,
       any(S.last_message) AS message, argMax(T.live, T.snap) AS subtasks
FROM
(
    SELECT task_id, argMax(task_state, (task_changed, ts)) AS last_state,
           max(task_changed) AS last_changed,
           argMax(task_try, (task_changed, ts)) AS last_try,
           argMax(task_message, (task_changed, ts)) AS last_message
    FROM TaskStates GROUP BY task_id
    HAVING ({s:String} = '' OR last_state = {s:String}) AND toDate(last_changed) >= {d:Date}
) AS S
INNER JOIN
(
    SELECT task_id, task_changed AS snap, any(task_repo) AS repo, any(task_owner) AS owner,
           uniqExactIf(subtask_id, subtask_deleted = 0) AS live
    FROM Tasks
    WHERE ({b:String} = '' OR task_repo = {b:String})
      AND ({o:String} = '' OR task_owner = {o:String})
    GROUP BY task_id, task_changed
) AS T ON T.task_id = S.task_id
WHERE T.snap <= S.last_changed
GROUP BY S.task_id
"""


def list_tasks(
    store: Store,
    *,
    branch: str | None = None,
    state: str | None = None,
    since: date | None = None,
    owner: str | None = None,
    limit: int = 100,
) -> list[TaskSummary]:
    """Tasks by their latest state, newest first, filtered by branch, state, day, owner."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"must be between 1 and {MAX_LIMIT}", field="limit")
    rows = store.query(
        f"SELECT * FROM ({_LATEST}) "  # noqa: S608 - fixed text
        "ORDER BY changed DESC, task_id DESC LIMIT {n:UInt32}",
        {
            "b": (branch or "").lower(),
            "s": (state or "").upper(),
            "o": owner or "",
            "d": since or date(1970, 1, 1),
            "n": limit,
        },
    )
    return [
        TaskSummary(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), r[6], int(r[7])) for r in rows
    ]


def package_history(store: Store, *, name: str, branch: str) -> list[HistoryEntry]:
    """Every task of ``branch`` that built, copied or deleted source package ``name``."""
    if not name:
        raise InputError("must not be empty", field="name")
    rows = store.query(
        """
        SELECT T.task_id, T.subtask_id, T.kind, T.evr, S.state, S.changed, T.owner
        FROM
        (
            SELECT task_id, subtask_id,
                   toString(argMax(subtask_type, task_changed)) AS kind,
                   argMax(subtask_srpm_evr, task_changed) AS evr,
                   argMax(task_owner, task_changed) AS owner,
                   argMax(subtask_deleted, task_changed) AS deleted
            FROM Tasks
            WHERE task_repo = {b:String}
              AND (subtask_srpm_name = {n:String} OR subtask_package = {n:String}
                   OR endsWith(subtask_dir, concat('/', {n:String}, '.git'))
                   OR (task_id, subtask_id) IN
                      (SELECT task_id, subtask_id FROM TaskIterations WHERE titer_srcrpm_hash IN
                       (SELECT pkg_hash FROM Packages_buffer WHERE pkg_name = {n:String}
                        AND pkg_sourcepackage = 1)))
            GROUP BY task_id, subtask_id
        ) AS T
        INNER JOIN
        (
            SELECT task_id, argMax(task_state, (task_changed, ts)) AS state,
                   max(task_changed) AS changed
            FROM TaskStates GROUP BY task_id
        ) AS S ON S.task_id = T.task_id
        WHERE T.deleted = 0
        ORDER BY S.changed DESC, T.task_id DESC, T.subtask_id
        """,
        {"b": branch.lower(), "n": name},
    )
    return [
        HistoryEntry(
            task_id=int(r[0]),
            subtask_id=int(r[1]),
            action={"delete": "delete", "copy": "copy"}.get(r[2], "build"),
            subtask_type=r[2],
            evr=r[3],
            state=r[4],
            changed=r[5],
            owner=r[6],
        )
        for r in rows
    ]


def _check_id(task_id: int) -> None:
    if not 0 < task_id < 2**32:
        raise InputError(f"must be a positive integer, got {task_id}", field="task id")
