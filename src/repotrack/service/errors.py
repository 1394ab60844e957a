"""Domain errors to HTTP answers: one place decides status codes (never a 500 for bad input).

``/api/v1`` answers errors as JSON ``{"detail": "..."}`` with a 4xx status; the
compatibility routes build their envelopes themselves and only share the 401 here.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from repotrack.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    RepotrackError,
    StoreError,
)
from repotrack.service.deps import AuthRequiredError, LoginThrottledError

__all__ = ["REALM_HEADER", "install_error_handlers"]

log = logging.getLogger(__name__)

#: The original's challenge, kept so clients see the same realm.
REALM_HEADER = {"WWW-Authenticate": 'Basic realm="Authentication Required"'}


def _auth_required(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthRequiredError)
    if exc.compat:
        return PlainTextResponse("Unauthorized Access", status_code=401, headers=REALM_HEADER)
    return JSONResponse(
        {"detail": "authentication required"}, status_code=401, headers=REALM_HEADER
    )


def _throttled(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginThrottledError)
    return JSONResponse(
        {"detail": f"too many failed logins; retry in {exc.retry_after} s"},
        status_code=429,
        headers={"Retry-After": str(exc.retry_after)},
    )


def _validation(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [_one_error(error) for error in exc.errors()]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"])
    return JSONResponse(
        {"detail": f"{where}: {first['msg']}" if where else first["msg"], "errors": errors},
        status_code=422,
    )


#: The tags of ``POST /api/v1/loads``'s body union, which pydantic puts in an error's
#: ``loc`` (``body.repo.path``); dropped, so a field is named as in a one-kind body.
_LOAD_KINDS = frozenset({"repo", "task", "package", "task-clean"})


def _one_error(error: Any) -> dict[str, Any]:
    """loc, msg and type only: the offending input is not echoed back."""
    loc = [str(part) for part in error.get("loc", ())]
    if len(loc) > 2 and loc[0] == "body" and loc[1] in _LOAD_KINDS:
        del loc[1]
    return {
        "loc": loc,
        "msg": str(error.get("msg", "invalid")),
        "type": str(error.get("type", "value_error")),
    }


_STATUS: tuple[tuple[type[RepotrackError], int], ...] = (
    (InputError, 422),
    (NotFoundError, 404),
    (ConflictError, 409),
    (StoreError, 503),
)


def _domain(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RepotrackError)
    status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
    if isinstance(exc, StoreError):
        # The text may name paths or servers; it goes to the log, not to the client.
        log.error("store error: %s", exc)
        return JSONResponse({"detail": "database unavailable"}, status_code=status)
    return JSONResponse({"detail": str(exc)}, status_code=status)


def _unexpected(_request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse({"detail": "internal server error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AuthRequiredError, _auth_required)
    app.add_exception_handler(LoginThrottledError, _throttled)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(RepotrackError, _domain)
    app.add_exception_handler(Exception, _unexpected)
