"""girar build-task directories -> plain records (altrepo §3.2-§3.3); no database.

``read_task(path)`` reads one ``<tasks>/<id>`` directory completely (state,
subtasks, approvals, plan, iterations per arch, arepo, logs) and raises
``TaskDataError`` naming the task and the file for anything missing or malformed.
"""

# The names are imported on first use (PEP 562), so that importing one submodule
# (``sources.task.stamp``, for a reload of unchanged tasks) does not import every parser.

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from repotrack.sources.task.reader import (
        SUBTASK_TYPES,
        find_task_dir,
        fingerprint,
        read_task,
        task_id_of,
    )
    from repotrack.sources.task.records import (
        Approval,
        Iteration,
        LogLine,
        PlanEntry,
        PlanHash,
        Subtask,
        TaskLog,
        TaskPlan,
        TaskRecord,
        TaskState,
    )

_HOME = {
    "SUBTASK_TYPES": "repotrack.sources.task.reader",
    "find_task_dir": "repotrack.sources.task.reader",
    "fingerprint": "repotrack.sources.task.reader",
    "read_task": "repotrack.sources.task.reader",
    "task_id_of": "repotrack.sources.task.reader",
    "Approval": "repotrack.sources.task.records",
    "Iteration": "repotrack.sources.task.records",
    "LogLine": "repotrack.sources.task.records",
    "PlanEntry": "repotrack.sources.task.records",
    "PlanHash": "repotrack.sources.task.records",
    "Subtask": "repotrack.sources.task.records",
    "TaskLog": "repotrack.sources.task.records",
    "TaskPlan": "repotrack.sources.task.records",
    "TaskRecord": "repotrack.sources.task.records",
    "TaskState": "repotrack.sources.task.records",
}

__all__ = [
    "SUBTASK_TYPES",
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
    "find_task_dir",
    "fingerprint",
    "read_task",
    "task_id_of",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
