"""Values that used to answer 500 (issue 9, found by schemathesis) now get a 4xx.

Integers beyond SQLite's 64-bit range (``offset``, item ids, ``tracking_id``), a
5 000-digit ``enabled``, lone surrogates (``"\\ud800"``) in strings: ``/api/v1``
answers 422 with its JSON ``detail``; the compatibility routes answer their
``4001`` envelope.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from repotrack.passwords import hash_password
from tests.functional.server import ServerHandle, running_server

AUTH = ("admin", "Passw0rd~")
FAST = {"password_hash": hash_password(AUTH[1], iterations=1000)}
HUGE = "9" * 25
DIGITS = "1" * 5000
JSON = {"content-type": "application/json"}
ITEM = (
    '{"version_control": "github", "scm_repo": "a/b", "scm_branch": "main", '
    '"repo": "https://gitee.com/src-openeuler/%s", "branch": "master", "enabled": %s}'
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    tmp_path: Path = tmp_path_factory.mktemp("bad-values")
    with running_server(tmp_path, tls=False, password=AUTH[1], service=FAST) as server:
        handle: ServerHandle = server
        with handle.client(auth=AUTH) as http:
            yield http


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", f"/api/v1/items?offset={HUGE}"),
        ("GET", f"/api/v1/items/{HUGE}"),
        ("GET", f"/api/v1/items/{HUGE}/status"),
        ("GET", f"/api/v1/items/1/runs?offset={HUGE}"),
        ("PATCH", f"/api/v1/items/{HUGE}"),
        ("DELETE", f"/api/v1/items/{HUGE}"),
        ("GET", f"/api/v1/issues?tracking_id={HUGE}"),
        ("GET", f"/api/v1/issues?offset={HUGE}"),
        ("GET", f"/api/v1/loads?offset={HUGE}"),
        ("GET", f"/api/v1/packages?branch=p10&offset={HUGE}"),
        ("GET", f"/api/v1/items?enabled={DIGITS}"),
    ],
)
def test_api_v1_answers_422(client: httpx.Client, method: str, url: str) -> None:
    answer = client.request(method, url, json={"enabled": False} if method == "PATCH" else None)
    assert answer.status_code == 422, answer.text
    assert isinstance(answer.json()["detail"], str)


def test_api_v1_lone_surrogate_in_a_body_is_422(client: httpx.Client) -> None:
    answer = client.post("/api/v1/items", content=ITEM % ("x\\ud800", "true"), headers=JSON)
    assert answer.status_code == 422


def test_api_v1_five_thousand_digit_enabled_in_a_body_is_4xx(client: httpx.Client) -> None:
    answer = client.post("/api/v1/items", content=ITEM % ("y", DIGITS), headers=JSON)
    assert 400 <= answer.status_code < 500


@pytest.mark.parametrize(
    "body",
    [
        ITEM % ("x\\ud800", "true"),
        ITEM % ("y", DIGITS),
        (ITEM % ("z", "true")).replace("main", "\\udfff"),
    ],
)
def test_compat_post_answers_4001(client: httpx.Client, body: str) -> None:
    answer = client.post("/tracking", content=body, headers=JSON)
    assert answer.status_code == 200
    assert answer.json()["code"] == "4001"


def test_compat_get_with_a_long_enabled_is_not_a_5xx(client: httpx.Client) -> None:
    answer = client.get("/tracking", params={"enabled": DIGITS})
    assert answer.status_code == 200
    assert answer.json()["code"] in ("2001", "4001")
