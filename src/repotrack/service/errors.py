"""Domain errors to HTTP answers: one place decides status codes (never a 500 for bad input).

``/api/v1`` answers errors as JSON ``{"detail": "..."}`` with a 4xx status; the
compatibility routes build their envelopes themselves and only share the 401 here.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException

from repotrack.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    RepotrackError,
    StoreError,
)
from repotrack.service.deps import AuthRequiredError, LoginThrottledError

__all__ = ["REALM_HEADER", "install_error_handlers", "methods_of"]

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


async def _http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's answer, except that a 405 names every method of the path (RFC 9110
    §15.5.6). The router answers with the first route of the path that matched, whose
    ``Allow`` names that route's methods only: ``GET`` for ``/api/v1/items``, which
    takes ``POST`` too."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        methods = methods_of(request.app, request.scope["path"])
        if methods:
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(methods)}
    return await http_exception_handler(request, exc)


_HTTP_METHODS: Final = frozenset({"get", "put", "post", "delete", "options", "head", "patch"})


def methods_of(app: FastAPI, path: str) -> list[str]:
    """The methods the OpenAPI schema gives the paths that ``path`` matches (read from
    the schema: the routes FastAPI keeps are private structures)."""
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(app.state, "allow", None)
    if table is None:
        table = [
            (_template(template), {m.upper() for m in operations if m in _HTTP_METHODS})
            for template, operations in app.openapi()["paths"].items()
        ]
        app.state.allow = table
    return sorted({m for pattern, methods in table if pattern.fullmatch(path) for m in methods})


def _template(template: str) -> re.Pattern[str]:
    """A path template's regular expression: ``{name}`` is one segment."""
    parts = re.split(r"(\{[^}/]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def _unexpected(_request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse({"detail": "internal server error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AuthRequiredError, _auth_required)
    app.add_exception_handler(LoginThrottledError, _throttled)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RepotrackError, _domain)
    app.add_exception_handler(Exception, _unexpected)
