"""The OpenAPI schema's account of errors: the bodies and statuses the service sends.

FastAPI documents a 422 whose ``detail`` is a list of pydantic's errors, and no other
error. This service answers every ``/api/v1`` error as ``{"detail": "..."}``
(``errors.py``): a 422 with the first problem in ``detail`` and all of them in
``errors``; a 401 without the account, 404 for what does not exist, 409 for a
conflict, 413 for a body over its cap, 429 while logins are throttled, 503 while the
store cannot be read. A client generated from a schema that said otherwise failed on
the first refusal (schemathesis: 23 operations' 422 bodies "violate the schema", 18
undocumented statuses).

So every operation documents its 422 with ``ErrorBody``, and ``/api/v1`` operations
document any other 4xx and 5xx (``4XX``/``5XX``, OpenAPI's status ranges) with it too;
a status an operation lists by itself (401, 404, ...) keeps its description and gets
the body. The compatibility routes answer their errors inside the original's envelope
with a 200; they document what they send otherwise: the original's plain-text 401,
Werkzeug's HTML 415 for a body not labelled JSON, and JSON for the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from fastapi import FastAPI
from pydantic import BaseModel, Field

__all__ = ["ErrorBody", "FieldError", "install_error_docs"]


class FieldError(BaseModel):
    """One problem of a request that was refused with 422."""

    loc: list[str] = Field(description="Where: body, query or path, then the field")
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every ``/api/v1`` error answer."""

    detail: str = Field(description="What was wrong (the first problem of a 422)")
    errors: list[FieldError] | None = Field(
        default=None, description="A 422's problems, each with its place"
    )


_REF: Final = "#/components/schemas/{model}"
_ERROR_CONTENT: Final = {"application/json": {"schema": {"$ref": _REF.format(model="ErrorBody")}}}
_METHODS: Final = frozenset({"get", "put", "post", "delete", "options", "head", "patch"})
_COMPAT: Final = ("/tracking", "/issue")
_RANGES: Final = {
    "4XX": "Refused: `detail` says why (401 without the account, 404 not found, 409 "
    "conflict, 413 body too large, 429 logins throttled)",
    "5XX": "The store cannot be read now (503), or an internal error (500)",
}

#: What the compatibility routes can answer outside their envelope besides 401 and 415.
_COMPAT_RANGES: Final = {
    "4XX": "Refused before the route: 400 a bad Content-Length, 413 a body far too large, "
    "429 logins throttled",
    "5XX": "An internal error (500)",
}


def install_error_docs(app: FastAPI) -> None:
    """Make ``app.openapi()`` describe the errors as the service sends them."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _with_errors(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    body = ErrorBody.model_json_schema(ref_template=_REF)
    components.update(body.pop("$defs", {}))
    components["ErrorBody"] = body
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if method in _METHODS:
                _document(operation.setdefault("responses", {}), path, method)
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def _document(responses: dict[str, Any], path: str, method: str) -> None:
    if path in _COMPAT:
        responses["401"] = {
            "description": "Missing or wrong credentials (the original's plain-text answer)",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
        if method == "post":
            responses["415"] = {
                "description": "The body is not labelled application/json",
                "content": {"text/html": {"schema": {"type": "string"}}},
            }
    for status, response in responses.items():
        if status.startswith(("4", "5")) and _describes_no_body(response):
            response["content"] = _ERROR_CONTENT
    ranges = _COMPAT_RANGES if path in _COMPAT else _RANGES
    for status, description in ranges.items():
        responses.setdefault(status, {"description": description, "content": _ERROR_CONTENT})
    if "422" in responses:
        responses["422"]["description"] = "Invalid input: `detail` and `errors` say where"


def _describes_no_body(response: dict[str, Any]) -> bool:
    """No content, or FastAPI's own 422 body (which this service never sends)."""
    content = response.get("content")
    if not content:
        return True
    schema = content.get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))
