"""``/api/v1/tasks``: girar build tasks from the analytics store (``store.task_queries``).

The same answers as ``repotrack query task|task-repo|package-history|tasks
--format json``. Bad input answers 422, an unknown task 404, as JSON ``{"detail"}``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from repotrack.service.deps import ApiRead
from repotrack.service.routes.packages import StoreDep
from repotrack.store import MAX_LIMIT, to_plain
from repotrack.store.task_queries import list_tasks, package_history, task_info, task_repo

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["tasks"], dependencies=[ApiRead])

TaskId = Annotated[int, Path(ge=1, le=2**32 - 1, description="girar task id")]


@router.get("/tasks")
def get_tasks(
    store: StoreDep,
    branch: Annotated[str | None, Query(max_length=200)] = None,
    state: Annotated[str | None, Query(max_length=40)] = None,
    since: Annotated[date | None, Query(description="changed on or after this UTC day")] = None,
    owner: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> dict[str, Any]:
    """Tasks by their latest state, newest first.

    ``GET /api/v1/tasks?branch=sisyphus&state=DONE`` -> ``{"tasks": [{"task_id": 1100,
    "branch": "sisyphus", "owner": "alice", "state": "DONE", "changed":
    "2024-06-10T06:15:00+00:00", "try_": 2, "message": "...", "subtasks": 5}]}``
    """
    found = list_tasks(store, branch=branch, state=state, since=since, owner=owner, limit=limit)
    return {"tasks": to_plain(found)}


@router.get("/tasks/{task_id}")
def get_task(store: StoreDep, task_id: TaskId) -> dict[str, Any]:
    """One task: state history, subtasks, iterations with packages, approvals, log errors.

    ``GET /api/v1/tasks/2001`` -> ``{"task_id": 2001, "branch": "p10", "state": "FAILED",
    "states": [...], "subtasks": [{"subtask_id": 1, "type": "gear", "package":
    "rt-delta", ...}], "iterations": [{"arch": "i586", "status": "failed", "errors":
    ["error: Bad exit status ..."], ...}], "approvals": [...]}``
    """
    result: dict[str, Any] = to_plain(task_info(store, task_id=task_id))
    return result


@router.get("/tasks/{task_id}/repo")
def get_task_repo(store: StoreDep, task_id: TaskId) -> dict[str, Any]:
    """The branch as it would be after the task (ALTRepo API's ``task_repo``).

    ``GET /api/v1/tasks/1100/repo`` -> ``{"task_id": 1100, "branch": "sisyphus",
    "base": {...}, "base_task": 1000, "tasks_applied": [], "added": [...],
    "removed": [...], "packages": [...]}``
    """
    result: dict[str, Any] = to_plain(task_repo(store, task_id=task_id))
    return result


@router.get("/package-history/{name}")
def get_package_history(
    store: StoreDep,
    name: Annotated[str, Path(min_length=1, max_length=200)],
    branch: Annotated[str, Query(min_length=1, max_length=200)],
) -> dict[str, Any]:
    """Every task of a branch that built, copied or deleted a source package, newest first.

    ``GET /api/v1/package-history/rt-alpha?branch=sisyphus`` -> ``{"name": "rt-alpha",
    "branch": "sisyphus", "tasks": [{"task_id": 1100, "subtask_id": 1, "action": "build",
    "evr": "1.0-alt1", "state": "DONE", ...}]}``
    """
    entries = package_history(store, name=name, branch=branch)
    return {"name": name, "branch": branch, "tasks": to_plain(entries)}
