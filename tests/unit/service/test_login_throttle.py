"""Failed logins: counted per client address and per user, refused with 429 + Retry-After
before any hashing, on both route families; known-good credentials are never throttled."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from repotrack.passwords import hash_password
from repotrack.service.throttle import FailureThrottle
from tests.functional.server import ServerHandle, running_server

AUTH = ("admin", "Passw0rd~")
SERVICE = {
    "password_hash": hash_password(AUTH[1], iterations=1000),
    "max_failed_logins": 3,
    "failed_login_window": 600.0,
}
ITEM = {
    "version_control": "github",
    "scm_repo": "madler/zlib",
    "scm_branch": "develop",
    "repo": "https://gitee.com/src-openeuler/zlib",
    "branch": "master",
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_counts_a_sliding_window_per_key() -> None:
    clock = Clock()
    throttle = FailureThrottle(limit=2, window=60.0, clock=clock)
    assert throttle.retry_after("addr:a") is None
    throttle.failed("addr:a", "user:x")
    clock.now += 10
    throttle.failed("addr:a", "user:y")
    assert throttle.retry_after("addr:a") == 50  # the first failure leaves in 50 s
    assert throttle.retry_after("addr:b", "user:x") is None
    assert throttle.retry_after("addr:b", "user:y") is None
    clock.now += 50
    assert throttle.retry_after("addr:a") is None  # one failure left in the window


def test_throttle_forgets_keys_beyond_its_bound() -> None:
    throttle = FailureThrottle(limit=1, window=60.0)
    for n in range(10_050):
        throttle.failed(f"addr:{n}")
    assert throttle.retry_after("addr:0") is None
    assert throttle.retry_after("addr:10049") is not None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerHandle]:
    with running_server(tmp_path, tls=False, password=AUTH[1], service=SERVICE) as handle:
        yield handle


def test_repeated_failures_get_429_with_retry_after(server: ServerHandle) -> None:
    with server.client(auth=("admin", "wrong")) as http:
        statuses = [http.post("/api/v1/items", json=ITEM).status_code for _ in range(3)]
        assert statuses == [401, 401, 401]
        throttled = http.post("/api/v1/items", json=ITEM)
        assert throttled.status_code == 429
        assert 0 < int(throttled.headers["Retry-After"]) <= 600
        assert "too many failed logins" in throttled.json()["detail"]
        assert http.post("/tracking", json=ITEM).status_code == 429  # compat family too
        assert http.delete("/api/v1/items/1").status_code == 429  # no body: the dependency


def test_other_user_names_from_the_same_address_are_throttled(server: ServerHandle) -> None:
    for n in range(3):
        with server.client(auth=(f"user{n}", "wrong")) as http:
            assert http.post("/api/v1/items", json=ITEM).status_code == 401
    with server.client(auth=("someone", "else")) as http:
        assert http.post("/api/v1/items", json=ITEM).status_code == 429


def test_credentials_that_worked_before_are_not_throttled(server: ServerHandle) -> None:
    with server.client(auth=AUTH) as http:
        assert http.post("/api/v1/items", json=ITEM).status_code == 201
    with server.client(auth=("admin", "wrong")) as http:
        for _ in range(4):
            http.post("/api/v1/items", json=ITEM)
    with server.client(auth=AUTH) as http:
        assert http.get("/api/v1/items").status_code == 200
        assert http.post("/api/v1/items", json=ITEM).status_code == 409


def test_reads_stay_open_while_writes_are_throttled(server: ServerHandle) -> None:
    with server.client(auth=("admin", "wrong")) as http:
        for _ in range(4):
            http.post("/api/v1/items", json=ITEM)
    with server.client() as http:
        assert http.get("/api/v1/items").status_code == 200
        assert http.get("/tracking").status_code == 200


def test_attempts_count_before_their_hash_and_success_takes_it_back() -> None:
    """Many requests at once cannot all slip past the check while none has failed yet."""
    throttle = FailureThrottle(limit=2, window=60.0)
    throttle.failed("addr:a")
    throttle.failed("addr:a")  # two attempts in flight
    assert throttle.retry_after("addr:a") is not None
    throttle.forgive("addr:a")  # one of them had the right password
    assert throttle.retry_after("addr:a") is None
