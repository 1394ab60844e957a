"""``/api/v1/daemon``: the AMQP daemon's status, as ``repotrack daemon status --format json``.

The daemon (another process, maybe on another machine sharing the home) writes
``<home>/daemon/status.json``; this reads it. Example::

    GET /api/v1/daemon
    -> 200 {"pid": 4242, "state": "running", "alive": true, "started": "...",
            "updated": "...", "services": [{"name": "task_loader", "queue": "task-loader-q",
            "connected": true, "in_flight": null, "counts": {"done": 130, "failed": 3},
            "last_errors": [{"routing_key": "task.state", "action": "failed",
            "reason": "TaskDataError: ..."}]}]}
    (404 when no daemon has run with this home)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from repotrack.daemon.status import read_status, status_path
from repotrack.service.deps import ApiRead, SettingsDep

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/daemon", tags=["daemon"])


@router.get("", dependencies=[ApiRead])
def get_daemon(settings: SettingsDep) -> dict[str, Any]:
    """The services, queues, message in hand, counts per outcome and last errors."""
    return read_status(status_path(settings.home))
