"""The original patch-tracking routes: ``GET/POST/DELETE /tracking`` and ``GET /issue``.

Wire-compatible with reference §2: exact paths (no trailing-slash variants), the
``{code,msg,data}`` envelope with HTTP 200 for handled errors, Basic auth on writes
answering the original's 401. Flask's habits are kept where a client could tell:
a repeated query parameter counts with its first value; ``GET /tracking?repo=R``
lists R's items by branch (SQLite walked the (repo, branch) key), other listings in
insertion order; a body not labelled JSON (``text/plain``, a form) is Werkzeug's
HTML 415. What is fixed: JSON content type; a malformed, non-UTF-8 or wrongly typed
JSON body is ``4001`` (the original crashed); ``6004`` has a message; database
errors never leak an exception object; deleting an item deletes its issue rows; and
re-posting an item without ``scm_commit`` keeps its position.

Examples::

    POST /tracking  (Basic auth)
    {"version_control": "github", "scm_repo": "owner/name", "scm_branch": "master",
     "scm_commit": null, "repo": "https://gitee.com/src-openeuler/name",
     "branch": "master", "enabled": true}
    -> 200 {"code": "2001", "msg": "Successful Operation!", "data": {...the body...}}

    GET /tracking?repo=https://gitee.com/src-openeuler/name&enabled=true
    -> 200 {"code": "2001", "msg": "Successful Operation!", "data": [{...}]}
"""

from __future__ import annotations

import gzip
import json
import logging
import threading
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

from repotrack.errors import InputError, NotFoundError, StoreError
from repotrack.service.deps import CompatRead, CompatWrite, StateDep
from repotrack.service.envelope import Code, envelope, envelope_bytes
from repotrack.state import StateDB
from repotrack.state import tracking_items as items
from repotrack.state.models import Issue

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["compatibility (patch-tracking)"])

_TRACKING_FILTERS = frozenset({"repo", "branch", "enabled"})
_ISSUE_FILTERS = frozenset({"repo", "branch"})
_DELETE_PARAMS = frozenset({"repo", "branch"})
#: A tracking item is a few kilobytes at most; anything bigger is refused unparsed.
MAX_BODY = 64 * 1024
#: Werkzeug's answer when ``request.json`` meets a body not labelled JSON, byte for byte.
UNSUPPORTED_MEDIA_TYPE = (
    "<!doctype html>\n<html lang=en>\n<title>415 Unsupported Media Type</title>\n"
    "<h1>Unsupported Media Type</h1>\n<p>Did not attempt to load JSON data because the "
    "request Content-Type was not &#39;application/json&#39;.</p>\n"
)


def _bad_input(reason: str) -> Response:
    log.info("compat request refused: %s", reason)
    return envelope(Code.INPUT_PARAMETERS_ERROR, detail=reason)


def _unknown(keys: Iterable[str], allowed: frozenset[str]) -> str | None:
    extra = sorted(set(keys) - allowed)
    return f"unknown query parameter {extra[0]!r}" if extra else None


def _first_values(params: QueryParams) -> dict[str, str]:
    """Each parameter's first value, as Flask's ``request.args`` gives it (Starlette's
    ``params[key]`` would give the last)."""
    first: dict[str, str] = {}
    for key, value in params.multi_items():
        first.setdefault(key, value)
    return first


def _is_json(content_type: str | None) -> bool:
    """Werkzeug's test: ``application/json`` or ``application/*+json``."""
    mimetype = (content_type or "").split(";", 1)[0].strip().lower()
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


@router.get("/tracking", dependencies=[CompatRead])
def get_tracking(request: Request, db: StateDep) -> Response:
    """List tracking items; optional exact filters ``repo``, ``branch``, ``enabled=true``."""
    params = _first_values(request.query_params)
    unknown = _unknown(params.keys(), _TRACKING_FILTERS)
    if unknown:
        return _bad_input(unknown)
    enabled = params["enabled"] == "true" if "enabled" in params else None
    key = (params.get("repo"), params.get("branch"), enabled)
    gzip_ok = "gzip" in request.headers.get("accept-encoding", "").lower()
    try:
        body, compressed = _listings(request).get(db, key, gzip_ok=gzip_ok)
    except StoreError as exc:
        log.error("listing tracking items failed: %s", exc)
        return envelope(Code.DIS_CONNECTION_DB)
    headers = {"Vary": "Accept-Encoding"}
    if compressed:
        headers["Content-Encoding"] = "gzip"
    return Response(body, status_code=200, media_type="application/json", headers=headers)


class ListingCache:
    """Rendered ``GET /tracking`` answers, valid while the items' fingerprint holds.

    The original lists every item on every call (no pagination); with 10 000 items the
    query and JSON encoding of 2.5 MB cost ~60 ms a request. A listing is rendered once
    and served as bytes until ``listing_fingerprint`` changes, which any write to the
    items does, from this process or another one (the CLI, the scheduler). The check
    is one aggregate query per request. Big listings are also kept gzip-compressed
    (a tenth of the size) for clients that accept it, as ``requests`` and ``httpx`` do.
    """

    #: Distinct filter combinations kept; scripts ask for a handful at most.
    MAX_ENTRIES = 16
    #: Listings smaller than this are not worth compressing.
    GZIP_MIN = 64 * 1024

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fingerprint: tuple[Any, ...] | None = None
        self._bodies: dict[tuple[Any, ...], tuple[bytes, bytes | None]] = {}

    def get(
        self, db: StateDB, key: tuple[str | None, str | None, bool | None], *, gzip_ok: bool
    ) -> tuple[bytes, bool]:
        """(body, whether it is gzip-compressed)."""
        repo, branch, enabled = key
        if repo is not None:
            # One repo's items: a key lookup, cheaper than the fingerprint's table scan.
            with db.session() as session:
                data = items.list_item_fields(session, repo=repo, branch=branch, enabled=enabled)
            return envelope_bytes(Code.SUCCESS, data), False
        with db.session() as session:
            fingerprint = items.listing_fingerprint(session)
            with self._lock:
                if fingerprint != self._fingerprint:
                    self._fingerprint, self._bodies = fingerprint, {}
                cached = self._bodies.get(key)
            if cached is None:
                data = items.list_item_fields(session, repo=repo, branch=branch, enabled=enabled)
                cached = _rendered(envelope_bytes(Code.SUCCESS, data), self.GZIP_MIN)
                with self._lock:
                    if self._fingerprint == fingerprint and len(self._bodies) < self.MAX_ENTRIES:
                        self._bodies[key] = cached
        raw, compressed = cached
        if gzip_ok and compressed is not None:
            return compressed, True
        return raw, False


def _rendered(raw: bytes, minimum: int) -> tuple[bytes, bytes | None]:
    if len(raw) < minimum:
        return raw, None
    return raw, gzip.compress(raw, compresslevel=6, mtime=0)


_CACHE_LOCK = threading.Lock()


def _listings(request: Request) -> ListingCache:
    """The app's listing cache, made on first use (one per app, hence per database)."""
    state = request.app.state
    with _CACHE_LOCK:
        cache = getattr(state, "tracking_listings", None)
        if cache is None:
            cache = state.tracking_listings = ListingCache()
    return cache


@router.post("/tracking", dependencies=[CompatWrite])
async def post_tracking(request: Request, db: StateDep) -> Response:
    """Create or update the item (repo, branch); echoes the body on success."""
    if not _is_json(request.headers.get("content-type")):
        return Response(UNSUPPORTED_MEDIA_TYPE, status_code=415, media_type="text/html")
    try:
        body = _json_object(await request.body())
    except InputError as exc:
        return _bad_input(str(exc))
    return await run_in_threadpool(_upsert, db, body)


def _json_object(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_BODY:
        raise InputError(f"request body is larger than {MAX_BODY} bytes", field="body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("request body is not UTF-8", field="body") from exc
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"request body is not JSON ({exc.msg})", field="body") from exc
    except RecursionError as exc:
        raise InputError("request body is nested too deeply", field="body") from exc
    except ValueError as exc:  # an integer of more than 4300 digits
        raise InputError("request body holds a number too long to read", field="body") from exc
    if not isinstance(value, dict):
        raise InputError("request body must be a JSON object", field="body")
    return value


def _upsert(db: StateDB, body: dict[str, Any]) -> Response:
    try:
        with db.session() as session:
            item, created = items.upsert_item(session, fields=body)
    except InputError as exc:
        return _bad_input(str(exc))
    except StoreError as exc:
        log.error("storing a tracking item failed: %s", exc)
        return envelope(Code.INSERT_DATA_ERROR)
    log.info("tracking item %s: id=%s", "created" if created else "updated", item.id)
    return envelope(Code.SUCCESS, body)


@router.delete("/tracking", dependencies=[CompatWrite])
def delete_tracking(request: Request, db: StateDep) -> Response:
    """Delete the item (repo, branch), or every item of ``repo``, with their issue rows."""
    params = _first_values(request.query_params)
    unknown = _unknown(params.keys(), _DELETE_PARAMS)
    if unknown:
        return _bad_input(unknown)
    if "repo" not in params:
        return _bad_input("query parameter 'repo' is required")
    try:
        with db.session() as session:
            count = items.delete_items(session, repo=params["repo"], branch=params.get("branch"))
    except NotFoundError:
        return envelope(Code.DELETE_DB_NOT_FOUND)
    except StoreError as exc:
        log.error("deleting tracking items failed: %s", exc)
        return envelope(Code.DELETE_DB_ERROR)
    log.info("tracking items deleted: %d", count)
    return envelope(Code.SUCCESS)


def issue_to_compat(issue: Issue) -> dict[str, Any]:
    return {"issue": issue.issue, "repo": issue.repo, "branch": issue.branch}


@router.get("/issue", dependencies=[CompatRead])
def get_issue(request: Request, db: StateDep) -> Response:
    """List issues opened by the tracker; optional exact filters ``repo``, ``branch``."""
    params = _first_values(request.query_params)
    unknown = _unknown(params.keys(), _ISSUE_FILTERS)
    if unknown:
        return _bad_input(unknown)
    try:
        with db.session() as session:
            page = items.list_issues(session, repo=params.get("repo"), branch=params.get("branch"))
            data = [issue_to_compat(issue) for issue in page.rows]
    except StoreError as exc:
        log.error("listing issues failed: %s", exc)
        return envelope(Code.DIS_CONNECTION_DB)
    return envelope(Code.SUCCESS, data)


# Flask answered HEAD on every GET rule; keep that, out of the OpenAPI schema.
for _path, _endpoint in (("/tracking", get_tracking), ("/issue", get_issue)):
    router.add_api_route(
        _path, _endpoint, methods=["HEAD"], dependencies=[CompatRead], include_in_schema=False
    )
