"""The daemon's status file: what ``repotrack daemon status`` shows.

The daemon rewrites ``<home>/daemon/status.json`` (atomically: a temporary file
renamed over it) when it starts, at most once a second while it settles messages, and
when it stops. Any process that can read the file sees the services, their queues,
whether each is connected, the message in hand, counts per outcome and the last
errors, without talking to the daemon.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repotrack.errors import NotFoundError, StoreError

if TYPE_CHECKING:
    from repotrack.daemon.consumer import ServiceConsumer

__all__ = ["read_status", "status_path", "write_status"]


def status_path(home: Path) -> Path:
    return home / "daemon" / "status.json"


def write_status(
    path: Path,
    consumers: Sequence[ServiceConsumer],
    counts: dict[str, dict[str, int]],
    errors: dict[str, list[dict[str, str]]],
    *,
    state: str,
    started: datetime,
) -> None:
    body: dict[str, Any] = {
        "pid": os.getpid(),
        "state": state,
        "started": started.isoformat(),
        "updated": datetime.now(UTC).isoformat(),
        "services": [
            {
                "name": c.name,
                "queue": c.config.queue.name,
                "connected": c.connected,
                "in_flight": c.in_flight,
                "counts": counts.get(c.name, {}),
                "last_errors": errors.get(c.name, []),
            }
            for c in consumers
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(body, indent=2), encoding="utf-8")
    temporary.replace(path)


def read_status(path: Path) -> dict[str, Any]:
    """The last status written, with ``alive``: whether its process still runs."""
    try:
        body: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise NotFoundError(f"no daemon status at {path} (has the daemon run here?)") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise StoreError(f"cannot read the daemon status {path}: {exc}") from exc
    body["alive"] = body.get("state") == "running" and _alive(int(body.get("pid", 0)))
    return body


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
