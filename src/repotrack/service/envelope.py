"""The compatibility envelope ``{"code": "<4 digits>", "msg": "<text>", "data": ...}``.

Codes and messages are the original's, to the letter (reference §2.1), so scripts
that match on them keep working. So are the bytes: the original returned
``json.dumps(...)`` with its defaults, so separators are ``", "`` and ``": "`` and
non-ASCII text is escaped as ``\\uXXXX``; a script grepping for ``"code": "2001"``
finds it here too. Two fixes: code ``6004`` has a message (the original had none and
answered HTTP 500), and the body is served as ``application/json``. Handled errors
are HTTP 200, as in the original.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from fastapi.responses import Response

__all__ = ["ERROR_DETAIL_HEADER", "Code", "envelope", "envelope_bytes", "message"]

#: Compat errors keep ``data: null``; the reason goes into this header and the log.
ERROR_DETAIL_HEADER = "X-Repotrack-Error"


class Code(StrEnum):
    SUCCESS = "2001"
    INPUT_PARAMETERS_ERROR = "4001"
    TRACKING_NOT_FOUND = "4002"
    ISSUE_NOT_FOUND = "4003"
    GITHUB_ADDRESS_ERROR = "5001"
    GITEE_ADDRESS_ERROR = "5002"
    GITHUB_CONNECTION_ERROR = "5003"
    GITEE_CONNECTION_ERROR = "5004"
    DELETE_DB_ERROR = "6001"
    CONFIGFILE_PATH_EMPTY = "6002"
    DIS_CONNECTION_DB = "6003"
    INSERT_DATA_ERROR = "6004"
    DELETE_DB_NOT_FOUND = "6005"


_MESSAGES = {
    Code.SUCCESS: "Successful Operation!",
    Code.INPUT_PARAMETERS_ERROR: "Please enter the correct parameters",
    Code.TRACKING_NOT_FOUND: "The tracking you are looking for does not exist",
    Code.ISSUE_NOT_FOUND: "The issue you are looking for does not exist",
    Code.GITHUB_ADDRESS_ERROR: "The Github address is wrong",
    Code.GITEE_ADDRESS_ERROR: "The Gitee address is wrong",
    Code.GITHUB_CONNECTION_ERROR: "Unable to connect to the github",
    Code.GITEE_CONNECTION_ERROR: "Unable to connect to the gitee",
    Code.DELETE_DB_ERROR: "Failed to delete database",
    Code.CONFIGFILE_PATH_EMPTY: "Initialization profile does not exist or cannot be found",
    Code.DIS_CONNECTION_DB: "Unable to connect to the database, check the database configuration",
    # The original defined no message for 6004 (and crashed); this one is ours.
    Code.INSERT_DATA_ERROR: "Failed to insert data into database",
    Code.DELETE_DB_NOT_FOUND: "The tracking you want to delete does not exist",
}


def message(code: Code) -> str:
    return _MESSAGES[code]


def envelope_bytes(code: Code, data: Any = None) -> bytes:
    """The envelope exactly as the original's ``json.dumps`` wrote it (default separators,
    ASCII only), encoded; ``data`` must be plain JSON values."""
    return json.dumps({"code": code.value, "msg": message(code), "data": data}).encode("ascii")


def envelope(code: Code, data: Any = None, *, detail: str | None = None) -> Response:
    """An HTTP 200 JSON envelope; ``detail`` (an error's reason) goes into a header."""
    headers = {ERROR_DETAIL_HEADER: _header_safe(detail)} if detail else None
    return Response(
        envelope_bytes(code, data), status_code=200, headers=headers, media_type="application/json"
    )


def _header_safe(text: str) -> str:
    """Header values must be latin-1 without line breaks; reasons are ASCII, but be sure."""
    return text.encode("ascii", "replace").decode("ascii").replace("\r", " ").replace("\n", " ")
