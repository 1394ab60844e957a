"""Envelope codes and messages, to the letter (reference §2.1)."""

from __future__ import annotations

import json

from repotrack.service.envelope import Code, envelope, message

EXPECTED = {
    "2001": "Successful Operation!",
    "4001": "Please enter the correct parameters",
    "4002": "The tracking you are looking for does not exist",
    "4003": "The issue you are looking for does not exist",
    "5001": "The Github address is wrong",
    "5002": "The Gitee address is wrong",
    "5003": "Unable to connect to the github",
    "5004": "Unable to connect to the gitee",
    "6001": "Failed to delete database",
    "6002": "Initialization profile does not exist or cannot be found",
    "6003": "Unable to connect to the database, check the database configuration",
    "6004": "Failed to insert data into database",
    "6005": "The tracking you want to delete does not exist",
}


def test_every_code_has_its_exact_message() -> None:
    assert {code.value: message(code) for code in Code} == EXPECTED


def test_envelope_is_http_200_json_with_string_code() -> None:
    response = envelope(Code.DELETE_DB_NOT_FOUND, detail="line1\nline2 ü")
    assert response.status_code == 200
    assert response.media_type == "application/json"
    assert json.loads(response.body) == {
        "code": "6005",
        "msg": "The tracking you want to delete does not exist",
        "data": None,
    }
    assert response.headers["x-repotrack-error"] == "line1 line2 ?"
