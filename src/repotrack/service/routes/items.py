"""``/api/v1/items``: tracking items with proper status codes, pagination and run history.

Examples::

    POST /api/v1/items  (Basic auth)
    {"version_control": "git", "scm_repo": "https://git.example/zlib.git",
     "scm_branch": "main", "repo": "https://gitee.com/src-openeuler/zlib", "branch": "master"}
    -> 201 {"id": 1, "version_control": "git", ..., "scm_commit": null, "enabled": true, ...}

    PATCH /api/v1/items/1  {"enabled": false}   -> 200 (scm_commit untouched)
    GET /api/v1/items?enabled=true&limit=50&offset=0
    -> 200 {"items": [...], "total": 1, "limit": 50, "offset": 0}
    GET /api/v1/items/1/status -> 200 {"consecutive_failures": 0, "last_run": {...}, ...}
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from repotrack.service.deps import ApiRead, ApiWrite, StateDep
from repotrack.service.params import ItemId, Offset
from repotrack.service.schemas import (
    ItemCreate,
    ItemOut,
    ItemPatch,
    ItemStatusOut,
    PageOut,
    RunOut,
)
from repotrack.state import tracking_items as items

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/items", tags=["items"])

Limit = Annotated[int, Query(ge=1, le=1000, description="Page size")]
_RESPONSES: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing or wrong credentials"},
    404: {"description": "No such item"},
    422: {"description": "Invalid input"},
}


@router.get("", dependencies=[ApiRead])
def list_items(
    db: StateDep,
    repo: str | None = None,
    branch: str | None = None,
    enabled: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[ItemOut]:
    """Items matching every given filter, oldest first."""
    with db.session() as session:
        page = items.list_items(
            session, repo=repo, branch=branch, enabled=enabled, limit=limit, offset=offset
        )
        rows = [ItemOut.model_validate(row) for row in page.rows]
    return PageOut[ItemOut](items=rows, total=page.total, limit=limit, offset=offset)


@router.post("", status_code=201, dependencies=[ApiWrite], responses=_RESPONSES)
def create_item(db: StateDep, body: ItemCreate) -> ItemOut:
    """Create an item; 409 if (repo, branch) is already tracked."""
    with db.session() as session:
        item = items.create_item(session, fields=body.model_dump())
        return ItemOut.model_validate(item)


@router.get("/{item_id}", dependencies=[ApiRead], responses=_RESPONSES)
def get_item(db: StateDep, item_id: ItemId) -> ItemOut:
    with db.session() as session:
        return ItemOut.model_validate(items.get_item(session, item_id=item_id))


@router.patch("/{item_id}", dependencies=[ApiWrite], responses=_RESPONSES)
def patch_item(db: StateDep, item_id: ItemId, body: ItemPatch) -> ItemOut:
    """Change only the fields given; ``"scm_commit": null`` restarts from the upstream head."""
    with db.session() as session:
        changes = body.model_dump(exclude_unset=True)
        item = items.update_item(session, item_id=item_id, changes=changes)
        return ItemOut.model_validate(item)


@router.delete("/{item_id}", status_code=204, dependencies=[ApiWrite], responses=_RESPONSES)
def delete_item(db: StateDep, item_id: ItemId) -> Response:
    """Delete the item with its issue rows and run history."""
    with db.session() as session:
        items.delete_item(session, item_id=item_id)
    return Response(status_code=204)


@router.get("/{item_id}/status", dependencies=[ApiRead], responses=_RESPONSES)
def item_status(db: StateDep, item_id: ItemId) -> ItemStatusOut:
    """Last run, last error, consecutive failures and commits behind (when known)."""
    with db.session() as session:
        status = items.item_status(session, item_id=item_id)
        item = status.item
        return ItemStatusOut(
            id=item.id,
            repo=item.repo,
            branch=item.branch,
            enabled=item.enabled,
            scm_commit=item.scm_commit,
            consecutive_failures=item.consecutive_failures,
            last_error=item.last_error,
            backoff_until=item.backoff_until,
            commits_behind=item.commits_behind,
            last_run=RunOut.model_validate(status.last_run) if status.last_run else None,
        )


@router.get("/{item_id}/runs", dependencies=[ApiRead], responses=_RESPONSES)
def item_runs(
    db: StateDep, item_id: ItemId, limit: Limit = 50, offset: Offset = 0
) -> PageOut[RunOut]:
    """Run history of one item, newest first."""
    with db.session() as session:
        page = items.list_runs(session, item_id=item_id, limit=limit, offset=offset)
        rows = [RunOut.model_validate(row) for row in page.rows]
    return PageOut[RunOut](items=rows, total=page.total, limit=limit, offset=offset)
