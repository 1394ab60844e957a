"""``/api/v1/issues``: the issues the tracker opened downstream, with pagination.

Example: ``GET /api/v1/issues?repo=https://gitee.com/src-openeuler/zlib`` ->
``{"items": [{"id": 1, "issue": "I1ABCD", "repo": ..., "tracking_id": 3, ...}], "total": 1, ...}``
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from repotrack.service.deps import ApiRead, StateDep
from repotrack.service.params import Offset, TrackingId
from repotrack.service.schemas import IssueOut, PageOut
from repotrack.state import tracking_items as items

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/issues", tags=["issues"])


@router.get("", dependencies=[ApiRead])
def list_issues(
    db: StateDep,
    repo: str | None = None,
    branch: str | None = None,
    tracking_id: TrackingId = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Offset = 0,
) -> PageOut[IssueOut]:
    """Issue rows matching every given filter, oldest first."""
    with db.session() as session:
        page = items.list_issues(
            session, repo=repo, branch=branch, tracking_id=tracking_id, limit=limit, offset=offset
        )
        rows = [IssueOut.model_validate(row) for row in page.rows]
    return PageOut[IssueOut](items=rows, total=page.total, limit=limit, offset=offset)
