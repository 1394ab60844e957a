"""SIGTERM stops ``repotrack serve`` within a bounded time, whatever its load job does.

Issue 9: a load blocked on its input left its job ``running`` and SIGTERM could not
stop the service. Here the job is stuck for real: the service's store is a ClickHouse
URL whose port is a listening socket that never answers, so opening the store blocks
in a socket read (for its 300 s query timeout). The service must still exit soon
after SIGTERM, leaving the job unpublished.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import DATA
from tests.functional.serve_process import PASSWORD, serve_process

pytestmark = pytest.mark.slow

#: Far above the service's own bounds (10 s for open requests, 5 s for the load).
EXIT_BOUND = 60.0


def test_sigterm_stops_the_service_while_a_load_is_stuck(tmp_path: Path) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # connections queue in the backlog; nobody ever answers
        port = silent.getsockname()[1]
        env = {
            "REPOTRACK_STORE__URL": f"clickhouse://default@127.0.0.1:{port}/default",
            "REPOTRACK_LOADS__ALLOWED_ROOTS": json.dumps([str(DATA)]),
        }
        with serve_process(tmp_path, env=env) as served:
            auth = ("admin", PASSWORD)
            with httpx.Client(base_url=served.base_url, auth=auth, timeout=30.0) as http:
                load = {"branch": "p10", "path": str(DATA / "rpms"), "date": "2024-05-01"}
                answer = http.post("/api/v1/loads", json=load)
                assert answer.status_code == 202, answer.text
                job = answer.json()["id"]
                _wait_running(http, job)
            started = time.monotonic()
            served.proc.send_signal(signal.SIGTERM)
            try:
                code = served.proc.wait(timeout=EXIT_BOUND)
            except subprocess.TimeoutExpired:
                raise AssertionError(
                    f"repotrack serve ignored SIGTERM:\n{served.log.read_text()}"
                ) from None
            print(f"serve exited with {code} {time.monotonic() - started:.1f} s after SIGTERM")
            assert "did not stop in time" in served.log.read_text()


def _wait_running(http: httpx.Client, job: str) -> None:
    for _ in range(300):
        if http.get(f"/api/v1/loads/{job}").json()["state"] == "running":
            time.sleep(0.5)  # let it reach the store
            return
        time.sleep(0.1)
    raise AssertionError("the load never started")
