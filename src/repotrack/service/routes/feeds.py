"""``/api/v1/feeds``: the enrichment feeds' schedule and run history, and "run it now".

Examples::

    GET /api/v1/feeds
    -> 200 {"feeds": [{"feed": "acl", "interval": 0, "running": false, "last_run": null,
            "next_run": null}, {"feed": "watch", "interval": 3600, "running": false,
            "last_run": {"id": 3, "trigger": "schedule", "outcome": "success",
            "rows_added": 412, "started_at": "2026-12-05T10:00:00+00:00", ...},
            "next_run": "2026-12-05T11:00:00+00:00"}, ...]}

    POST /api/v1/feeds/watch/run  (Basic auth)
    -> 202 {"feed": "watch", "state": "started"}
       (409 {"detail": "feed watch is already running"}; 404 for an unknown feed)

    GET /api/v1/feeds/watch/runs?limit=5 -> 200 {"feed": "watch", "runs": [...newest first]}
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from repotrack.config import FEED_NAMES
from repotrack.daemon.feeds import FeedScheduler
from repotrack.errors import NotFoundError
from repotrack.service.deps import ApiRead, ApiWrite, StateDep
from repotrack.state.feed_runs import recent_runs
from repotrack.store import to_plain

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/feeds", tags=["feeds"])

FeedName = Annotated[str, Path(min_length=1, max_length=32)]


def _scheduler(request: Request) -> FeedScheduler:
    scheduler: FeedScheduler = request.app.state.feeds
    return scheduler


@router.get("", dependencies=[ApiRead])
def get_feeds(request: Request) -> dict[str, Any]:
    """Every feed: its interval (0 = not scheduled), whether it runs, its last and next run."""
    return {"feeds": to_plain(_scheduler(request).status())}


@router.post("/{name}/run", status_code=202, dependencies=[ApiWrite])
def run_feed_now(request: Request, name: FeedName) -> dict[str, str]:
    """Start one run of the feed now, in the background; its outcome lands in the history."""
    _scheduler(request).run_now(name, trigger="api")
    return {"feed": name, "state": "started"}


@router.get("/{name}/runs", dependencies=[ApiRead])
def get_runs(
    db: StateDep, name: FeedName, limit: Annotated[int, Query(ge=1, le=500)] = 20
) -> dict[str, Any]:
    """The feed's newest runs first: trigger, start, end, outcome, rows added, error."""
    if name not in FEED_NAMES:
        raise NotFoundError(f"no feed {name!r}; feeds are {', '.join(FEED_NAMES)}")
    return {"feed": name, "runs": to_plain(recent_runs(db, feed=name, limit=limit))}
