"""What a girar task directory holds, as plain records (altrepo §3.2, §3.3).

Field names follow the ALTRepo columns they end up in, so that the loader's row
builders read as a mapping. Times are aware UTC datetimes; paths are absolute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

__all__ = [
    "Approval",
    "Iteration",
    "LogLine",
    "PlanEntry",
    "PlanHash",
    "Subtask",
    "TaskLog",
    "TaskPlan",
    "TaskRecord",
    "TaskState",
]


@dataclass(frozen=True, slots=True)
class TaskState:
    """``task/*`` and ``info.json``: one ``TaskStates`` row plus the task's owner and branch."""

    task_id: int
    state: str
    changed: datetime
    owner: str
    repo: str
    runby: str
    depends: tuple[int, ...]
    try_: int
    iter_: int
    testonly: bool
    failearly: bool
    shared: bool
    message: str
    version: str
    prev: int


@dataclass(frozen=True, slots=True)
class Subtask:
    """``gears/<N>``: one subtask as the ``Tasks`` row describes it."""

    subtask_id: int
    changed: datetime
    deleted: bool
    userid: str
    dir: str
    package: str
    type: str
    pkg_from: str
    sid: str
    tag_author: str
    tag_id: str
    tag_name: str
    srpm: str
    srpm_name: str
    srpm_evr: str


@dataclass(frozen=True, slots=True)
class Approval:
    """``acl/approved/<N>/<nick>`` or ``acl/disapproved/<N>/<nick>``."""

    subtask_id: int
    type: str  # "approve" | "disapprove"
    name: str
    date: datetime
    message: str


@dataclass(frozen=True, slots=True)
class LogLine:
    line: int
    ts: datetime
    message: str


@dataclass(frozen=True, slots=True)
class TaskLog:
    """One log file: its kind (events, build, srpm), ALTRepo hash string and lines."""

    kind: str
    hash_string: str
    path: Path
    lines: tuple[LogLine, ...]


@dataclass(frozen=True, slots=True)
class Iteration:
    """``build/<N>/<arch>``: the last build of one subtask on one arch."""

    subtask_id: int
    arch: str
    ts: datetime
    status: str
    srpm: Path | None
    rpms: tuple[Path, ...]
    chroot_base: tuple[int, ...]
    chroot_br: tuple[int, ...]
    buildlog: TaskLog | None = None
    srpmlog: TaskLog | None = None


@dataclass(frozen=True, slots=True)
class PlanEntry:
    """One added or removed package file of the plan (a ``TaskPlanPackages`` row)."""

    action: str  # "add" | "delete"
    name: str
    evr: str
    arch: str
    bin_file: str
    src_file: str
    comp: str
    subtask: int


@dataclass(frozen=True, slots=True)
class PlanHash:
    """One SHA-256 of the plan (a ``TaskPlanPkgHash`` row); ``arch`` keys the plan hash."""

    arch: str
    action: str
    sha256: bytes


@dataclass(frozen=True, slots=True)
class TaskPlan:
    """``plan/`` with the digests of ``build/repo/*/base/pkglist.task.xz``.

    ``digests`` maps a package file name to its (md5, blake2b) as the task's header
    lists recorded them.
    """

    entries: tuple[PlanEntry, ...]
    hashes: tuple[PlanHash, ...]
    archs: tuple[str, ...]
    digests: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """Everything read from one task directory, before any database work."""

    path: Path
    state: TaskState
    subtasks: tuple[Subtask, ...]
    approvals: tuple[Approval, ...]
    iterations: tuple[Iteration, ...]
    plan: TaskPlan | None
    arepo: tuple[Path, ...]
    events: tuple[TaskLog, ...]

    @property
    def task_id(self) -> int:
        return self.state.task_id

    def logs(self) -> list[TaskLog]:
        """Every log of the task: events first, then build and srpm logs per iteration."""
        found = list(self.events)
        for it in self.iterations:
            found.extend(log for log in (it.buildlog, it.srpmlog) if log is not None)
        return found
