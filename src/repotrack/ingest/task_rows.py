"""A read task (``sources.task.TaskRecord``) -> the rows of ALTRepo's task tables (§1.3, §3.4).

Pure functions: the package ids of the task's files and the chroot-array hashes (which
only ClickHouse can compute, §0.4) come in as arguments. Task rows go to the target
tables themselves, not to their ``*_buffer`` tables: they are few, and writing them
directly lets ``TaskStates`` go in last and fire ``mv_package_history`` only once
everything it joins is in place (the original relied on flushing nine buffers in
order). Readers of the ``*_buffer`` tables see them all the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from repotrack.rpm import mmhash
from repotrack.sources.task import Iteration, TaskLog, TaskRecord

__all__ = [
    "APPROVALS",
    "APPROVALS_COLUMNS",
    "CHROOTS",
    "ITERATIONS",
    "ITERATIONS_COLUMNS",
    "LOGS",
    "LOGS_COLUMNS",
    "PLAN_HASHES",
    "PLAN_HASHES_COLUMNS",
    "PLAN_PACKAGES",
    "PLAN_PACKAGES_COLUMNS",
    "STATES",
    "STATES_COLUMNS",
    "TASKS",
    "TASKS_COLUMNS",
    "iteration_rows",
    "log_hash",
    "log_rows",
    "plan_hash",
    "plan_rows",
    "state_row",
    "subtask_rows",
]

TASKS: Final = "Tasks"
TASKS_COLUMNS: Final = (
    "task_id",
    "subtask_id",
    "task_repo",
    "task_owner",
    "task_changed",
    "subtask_changed",
    "subtask_deleted",
    "subtask_userid",
    "subtask_dir",
    "subtask_package",
    "subtask_type",
    "subtask_pkg_from",
    "subtask_sid",
    "subtask_tag_author",
    "subtask_tag_id",
    "subtask_tag_name",
    "subtask_srpm",
    "subtask_srpm_name",
    "subtask_srpm_evr",
)
STATES: Final = "TaskStates"
STATES_COLUMNS: Final = (
    "task_changed",
    "task_id",
    "task_state",
    "task_runby",
    "task_depends",
    "task_try",
    "task_testonly",
    "task_failearly",
    "task_shared",
    "task_message",
    "task_version",
    "task_prev",
    "task_eventlog_hash",
)
ITERATIONS: Final = "TaskIterations"
ITERATIONS_COLUMNS: Final = (
    "task_id",
    "task_changed",
    "subtask_id",
    "subtask_arch",
    "titer_ts",
    "titer_status",
    "task_try",
    "task_iter",
    "titer_srcrpm_hash",
    "titer_pkgs_hash",
    "titer_chroot_base",
    "titer_chroot_br",
    "titer_buildlog_hash",
    "titer_srpmlog_hash",
)
CHROOTS: Final = "TaskChroots"
LOGS: Final = "TaskLogs"
LOGS_COLUMNS: Final = ("tlog_hash", "tlog_line", "tlog_ts", "tlog_message")
PLAN_PACKAGES: Final = "TaskPlanPackages"
PLAN_PACKAGES_COLUMNS: Final = (
    "tplan_hash",
    "tplan_action",
    "tplan_pkg_name",
    "tplan_pkg_evr",
    "tplan_bin_file",
    "tplan_src_file",
    "tplan_arch",
    "tplan_comp",
    "tplan_subtask",
)
PLAN_HASHES: Final = "TaskPlanPkgHash"
PLAN_HASHES_COLUMNS: Final = ("tplan_hash", "tplan_action", "tplan_sha256")
APPROVALS: Final = "TaskApprovals"
APPROVALS_COLUMNS: Final = (
    "task_id",
    "subtask_id",
    "tapp_type",
    "tapp_revoked",
    "tapp_date",
    "tapp_name",
    "tapp_message",
)

Row = tuple[Any, ...]


def log_hash(log: TaskLog) -> int:
    return mmhash(log.hash_string)


def plan_hash(task_id: int, try_: int, iter_: int, arch: str) -> int:
    """``tplan_hash`` (§0.4), as the ``task_plan_hashes`` view recomputes it."""
    return mmhash(f"{task_id}{try_}{iter_}{arch}")


def state_row(task: TaskRecord) -> Row:
    s = task.state
    return (
        s.changed,
        s.task_id,
        s.state,
        s.runby,
        list(s.depends),
        s.try_,
        int(s.testonly),
        int(s.failearly),
        int(s.shared),
        s.message,
        s.version,
        s.prev,
        [log_hash(log) for log in task.events],
    )


def subtask_rows(task: TaskRecord) -> list[Row]:
    s = task.state
    return [
        (
            s.task_id,
            sub.subtask_id,
            s.repo,
            s.owner,
            s.changed,
            sub.changed,
            int(sub.deleted),
            sub.userid,
            sub.dir,
            sub.package,
            sub.type,
            sub.pkg_from,
            sub.sid,
            sub.tag_author,
            sub.tag_id,
            sub.tag_name,
            sub.srpm,
            sub.srpm_name,
            sub.srpm_evr,
        )
        for sub in task.subtasks
    ]


def iteration_rows(
    task: TaskRecord, ids: Mapping[str, int], chroots: Mapping[tuple[int, ...], int]
) -> list[Row]:
    """One row per ``build/<N>/<arch>``; ``ids`` maps file paths to ``pkg_hash``."""
    return [_iteration_row(task, it, ids, chroots) for it in task.iterations]


def _iteration_row(
    task: TaskRecord, it: Iteration, ids: Mapping[str, int], chroots: Mapping[tuple[int, ...], int]
) -> Row:
    s = task.state
    pkgs = [ids[str(p)] for p in it.rpms] or [0]
    return (
        s.task_id,
        s.changed,
        it.subtask_id,
        it.arch,
        it.ts,
        it.status,
        s.try_,
        s.iter_,
        ids[str(it.srpm)] if it.srpm is not None else 0,
        pkgs,
        chroots.get(it.chroot_base, 0),
        chroots.get(it.chroot_br, 0),
        log_hash(it.buildlog) if it.buildlog is not None else 0,
        log_hash(it.srpmlog) if it.srpmlog is not None else 0,
    )


def plan_rows(task: TaskRecord) -> tuple[list[Row], list[Row]]:
    """``TaskPlanPackages`` and ``TaskPlanPkgHash`` rows (none without a plan)."""
    plan = task.plan
    if plan is None:
        return [], []
    s = task.state

    def key(arch: str) -> int:
        return plan_hash(s.task_id, s.try_, s.iter_, arch)

    packages = [
        (
            key(e.arch),
            e.action,
            e.name,
            e.evr,
            e.bin_file,
            e.src_file,
            e.arch,
            e.comp,
            e.subtask,
        )
        for e in plan.entries
    ]
    hashes = [(key(h.arch), h.action, h.sha256) for h in plan.hashes]
    return packages, hashes


def log_rows(log: TaskLog, after: int = 0) -> list[Row]:
    """The lines of ``log`` numbered above ``after`` (a growing log adds only its tail)."""
    digest = log_hash(log)
    return [(digest, ln.line, ln.ts, ln.message) for ln in log.lines if ln.line > after]
