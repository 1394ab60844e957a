"""Request bodies: who may send one, and how big it may be, decided before it is read.

FastAPI reads and parses a JSON body before it runs a route's dependencies, the
password check included. Measured before this middleware: an anonymous 300 MB body
to ``/api/v1/items`` took the service from 112 MB to 933 MB before the 401, six at
once 2.5 GB. So, in front of the app:

* on ``/api/v1`` a request that carries a body (every one is a write) must log in
  first: a wrong or missing password is answered 401 (or 429 when throttled) with the
  body still unread. Except for a method the path's routes do not take (``PUT
  /api/v1/daemon``): the router answers 405 without reading the body (a 401 said a
  password would make it work). The path's methods come from the OpenAPI schema, so a
  path it does not name (none, or a route left out of it) still needs the password;
* every route has a body cap (``BODY_CAPS``, first matching prefix wins, else
  ``DEFAULT_BODY_CAP``): a ``Content-Length`` above it is answered 413 unread, and a
  chunked body is cut off with 413 as soon as it passes the cap.

The compatibility routes keep their own, smaller check (``compat.MAX_BODY``, answered
in the envelope); the cap here only stops a body far beyond it from being buffered.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from repotrack.service.deps import LoginThrottledError, authenticated
from repotrack.service.errors import REALM_HEADER, methods_of

__all__ = ["BODY_CAPS", "DEFAULT_BODY_CAP", "BodyGuard"]

_KIB = 1024
#: Largest body per path prefix, in bytes (a tracking item or a load request is < 2 KB).
BODY_CAPS: tuple[tuple[str, int], ...] = (
    ("/api/v1/items", 64 * _KIB),
    ("/api/v1/loads", 64 * _KIB),
    ("/api/v1/", 1024 * _KIB),
)
#: Every other route (the compatibility routes answer above 64 KiB themselves).
DEFAULT_BODY_CAP = 1024 * _KIB
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def body_cap(path: str) -> int:
    return next((cap for prefix, cap in BODY_CAPS if path.startswith(prefix)), DEFAULT_BODY_CAP)


class BodyGuard:
    """ASGI middleware applying the rules of the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path: str = scope["path"]
        refusal = await self._refusal(request, path)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, _capped(receive, body_cap(path)), send)

    async def _refusal(self, request: Request, path: str) -> JSONResponse | None:
        headers = request.headers
        length = _content_length(headers.get("content-length"))
        carries_body = (
            request.method in _BODY_METHODS or (length or 0) > 0 or "transfer-encoding" in headers
        )
        if carries_body and path.startswith("/api/v1/") and _takes(request, path):
            try:
                logged_in = await authenticated(request)
            except LoginThrottledError as exc:
                return JSONResponse(
                    {"detail": f"too many failed logins; retry in {exc.retry_after} s"},
                    status_code=429,
                    headers={"Retry-After": str(exc.retry_after)},
                )
            if not logged_in:
                return JSONResponse(
                    {"detail": "authentication required"}, status_code=401, headers=REALM_HEADER
                )
        cap = body_cap(path)
        if length is not None and length > cap:
            return _too_large(cap)
        if length is None and "content-length" in headers:
            return JSONResponse({"detail": "bad Content-Length header"}, status_code=400)
        return None


def _takes(request: Request, path: str) -> bool:
    """Whether a route may take the request (its path unknown to the schema: maybe)."""
    methods = methods_of(request.app, path)
    return not methods or request.method in methods


def _content_length(value: str | None) -> int | None:
    if value is None or not value.isdigit() or len(value) > 19:
        return None
    return int(value)


def _too_large(cap: int) -> JSONResponse:
    return JSONResponse(
        {"detail": f"request body larger than {cap} bytes"},
        status_code=413,
        headers={"Connection": "close"},
    )


def _capped(receive: Receive, cap: int) -> Receive:
    """``receive`` that raises a 413 once more than ``cap`` body bytes arrived."""
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        message: dict[str, Any] = dict(await receive())
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > cap:
                raise HTTPException(413, detail=f"request body larger than {cap} bytes")
        return message

    return capped
