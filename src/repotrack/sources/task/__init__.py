"""girar build-task directories -> plain records (altrepo §3.2-§3.3); no database.

``read_task(path)`` reads one ``<tasks>/<id>`` directory completely (state,
subtasks, approvals, plan, iterations per arch, arepo, logs) and raises
``TaskDataError`` naming the task and the file for anything missing or malformed.
"""

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
