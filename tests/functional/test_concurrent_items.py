"""50 clients writing one new item at once: deterministic answers, never a 5xx (issue 9).

Before, ``POST /api/v1/items`` answered one 503: two requests both saw the item absent,
both inserted, and the loser's ``IntegrityError`` escaped. Now the loser of that race
answers 409 like any later request (``/api/v1``), or updates the winner's row and
answers success (the compatibility ``POST /tracking``, an upsert). Run on SQLite and
on PostgreSQL (``services`` marker); the row count is checked in the database itself.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from repotrack.passwords import hash_password
from repotrack.state import Tracking
from tests.functional.server import ServerHandle, running_server

AUTH = ("admin", "Passw0rd~")
FAST = {"password_hash": hash_password(AUTH[1], iterations=1000)}
WRITERS = 50
ITEM = {
    "version_control": "github",
    "scm_repo": "madler/zlib",
    "scm_branch": "develop",
    "repo": "https://gitee.com/src-openeuler/zlib",
    "branch": "master",
    "enabled": True,
}


def at_once(server: ServerHandle, send: Callable[[httpx.Client], httpx.Response]) -> list[int]:
    """Each writer has its own connection (already logged in) and waits at a barrier."""
    barrier = threading.Barrier(WRITERS)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def writer() -> None:
        with server.client(auth=AUTH) as http:
            http.get("/api/v1/items")  # connect before the barrier
            barrier.wait()
            answer = send(http)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(answers) == WRITERS
    return [a.status_code if a.status_code != 200 else _compat_code(a) for a in answers]


def _compat_code(answer: httpx.Response) -> int:
    body = answer.json()
    return 200 if not isinstance(body, dict) or body.get("code") in (None, "2001") else 599


def rows(server: ServerHandle) -> int:
    with server.app.state.state_db.session() as session:
        count: int = session.scalar(select(func.count()).select_from(Tracking)) or 0
    return count


def check_both_families(server: ServerHandle) -> None:
    # The writers all send the right password at once: one hash serves them all.
    with server.client(auth=AUTH) as http:
        assert http.get("/api/v1/items").status_code == 200
    created = Counter(at_once(server, lambda http: http.post("/api/v1/items", json=ITEM)))
    assert created == {201: 1, 409: WRITERS - 1}
    assert rows(server) == 1
    other = {**ITEM, "branch": "other"}
    upserted = Counter(at_once(server, lambda http: http.post("/tracking", json=other)))
    assert upserted == {200: WRITERS}
    assert rows(server) == 2


def test_parallel_writers_sqlite(tmp_path: Path) -> None:
    with running_server(tmp_path, tls=False, password=AUTH[1], service=FAST) as server:
        check_both_families(server)


@pytest.mark.services
def test_parallel_writers_postgresql(tmp_path: Path, postgres_url: str) -> None:
    with running_server(
        tmp_path, tls=False, password=AUTH[1], service=FAST, state_url=postgres_url
    ) as server:
        check_both_families(server)
