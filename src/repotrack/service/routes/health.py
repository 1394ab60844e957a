"""``/healthz``: liveness plus a one-query check of the state database (no auth).

``GET /healthz`` -> 200 ``{"status": "ok", "database": "ok", "tracker": "running",
"version": "0.1.0"}``; 503 with ``"database": "unavailable"`` when the state database
does not answer; ``"status": "degraded"`` (still 200) when the tracker failed to start.
``GET /`` stays a 404 on purpose: the original CLI's liveness probe expects it.
"""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from repotrack import __version__
from repotrack.errors import StoreError
from repotrack.service.deps import StateDep
from repotrack.service.schemas import Health

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz", responses={503: {"model": Health}})
def healthz(db: StateDep, request: Request) -> JSONResponse:
    tracker = request.app.state.tracker
    try:
        with db.session() as session:
            session.execute(text("SELECT 1"))
    except StoreError as exc:
        log.error("health check: state database unavailable: %s", exc)
        body = Health(
            status="degraded", database="unavailable", tracker=tracker, version=__version__
        )
        return JSONResponse(body.model_dump(), status_code=503)
    status: Literal["ok", "degraded"] = "degraded" if tracker == "failed" else "ok"
    body = Health(status=status, database="ok", tracker=tracker, version=__version__)
    return JSONResponse(body.model_dump())
