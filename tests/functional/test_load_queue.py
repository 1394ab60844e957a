"""Loads sent to the job queue and run by ``repotrack daemon --worker`` processes.

Real processes: ``repotrack serve`` with ``[queue] url`` on the real RabbitMQ, two
workers, each with its own embedded chDB store (chDB belongs to one process; a third
worker on the first one's store must stop at once and say so), and
``repotrack load repo --via-service``. Every job is done exactly once: the stores,
read after the workers stopped, hold each day once, in one store only, with the tree's
own count of packages.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pika
import pytest

from repotrack.store import open_store
from tests.conftest import DATA
from tests.functional.serve_process import PASSWORD, Served, serve_process
from tests.unit.store.storeutil import fresh_store_url

pytestmark = pytest.mark.services

BIN = Path(sys.executable).parent
RPMS = DATA / "rpms"
DAYS = [f"2024-05-{d:02d}" for d in range(1, 7)]


@pytest.fixture
def queue_url(amqp_url: str) -> Iterator[str]:
    """A private jobs queue on the shared broker, deleted afterwards."""
    name = f"rt-test-jobs-{uuid.uuid4().hex[:8]}"
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/%2F?queue={name}"
    finally:
        connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672))
        connection.channel().queue_delete(name)
        connection.close()


def _worker(env: dict[str, str], home: Path, log: Path) -> subprocess.Popen[bytes]:
    worker_env = {**env, "REPOTRACK_HOME": str(home), "REPOTRACK_LOG_LEVEL": "INFO"}
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(BIN / "repotrack"), "daemon", "--worker"],
            env=worker_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_ready(proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "daemon ready" in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise AssertionError(f"worker exited {proc.returncode}:\n{log.read_text()}")
        time.sleep(0.1)
    raise AssertionError(f"worker not ready:\n{log.read_text()}")


def _loaded_days(url: str) -> list[str]:
    store = open_store(url)
    try:
        rows = store.query(
            "SELECT toDate(pkgset_date) FROM PackageSetName "
            "WHERE pkgset_depth = 0 AND pkgset_nodename = 'p10' ORDER BY pkgset_date"
        )
        return [str(row[0]) for row in rows]
    finally:
        store.close()


def _wait_jobs(http: httpx.Client, ids: list[str], timeout: float = 300) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = [http.get(f"/api/v1/loads/{i}").json() for i in ids]
        if all(j["state"] in ("done", "failed") for j in jobs):
            return jobs
        time.sleep(0.2)
    raise AssertionError(f"jobs not finished: {[j['state'] for j in jobs]}")


def test_workers_share_the_jobs_each_done_once(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, queue_url: str
) -> None:
    homes = [tmp_path / "w1", tmp_path / "w2"]
    urls = [fresh_store_url(tmp_path_factory, home / "store") for home in homes]
    env = {"REPOTRACK_QUEUE__URL": queue_url, "REPOTRACK_LOADS__ALLOWED_ROOTS": f'["{DATA}"]'}
    with serve_process(tmp_path, env=env) as served:
        workers: list[subprocess.Popen[bytes]] = []
        try:
            logs = [tmp_path / "w1.log", tmp_path / "w2.log"]
            for home, log in zip(homes, logs, strict=True):
                workers.append(_worker(served.env, home, log))
            for proc, log in zip(workers, logs, strict=True):
                _wait_ready(proc, log)

            # a second worker on the first one's embedded store: refused at once, clearly
            third = subprocess.run(
                [str(BIN / "repotrack"), "daemon", "--worker"],
                env={**served.env, "REPOTRACK_HOME": str(homes[0])},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert third.returncode == 1, third.stderr
            line = third.stderr.strip().splitlines()[-1]
            assert line.startswith(f"StoreError: chDB store {homes[0] / 'store'} is locked")
            assert f"(pid {workers[0].pid})" in line
            assert "one process owns the store" in line and "ClickHouse server" in line

            ids = _submit(served, DAYS)
            cli = _load_via_service(served, "2024-05-07")
            assert cli.returncode == 0, cli.stderr
            assert cli.stdout.startswith("p10 2024-05-07: 8 packages ("), cli.stdout
            with httpx.Client(base_url=served.base_url, timeout=30, auth=_auth()) as http:
                jobs = _wait_jobs(http, ids)
                listed = http.get("/api/v1/loads").json()
            assert [j["state"] for j in jobs] == ["done"] * len(DAYS), jobs
            assert [j["summary"]["date"] for j in jobs] == DAYS
            expected = len(list(RPMS.glob("*.rpm")))  # the tree's own count
            assert {j["summary"]["packages"] for j in jobs} == {expected}
            ran = [j["worker"].rsplit(" pid ", 1)[1] for j in jobs]
            assert set(ran) <= {str(w.pid) for w in workers}
            print("jobs per worker:", {pid: ran.count(pid) for pid in set(ran)})
            assert listed["total"] == len(DAYS) + 1  # the CLI's job is listed too
        finally:
            for proc in workers:
                proc.send_signal(signal.SIGTERM)
            codes = [proc.wait(60) for proc in workers]
    assert codes == [0, 0]
    days = [_loaded_days(url) for url in urls]
    every = sorted(day for store_days in days for day in store_days)
    assert every == [*DAYS, "2024-05-07"]  # each day once, in one store only


def _auth() -> tuple[str, str]:
    return ("admin", PASSWORD)


def _submit(served: Served, days: list[str]) -> list[str]:
    ids = []
    with httpx.Client(base_url=served.base_url, timeout=30, auth=_auth()) as http:
        for day in days:
            body = {"kind": "repo", "branch": "p10", "path": str(RPMS), "date": day}
            answer = http.post("/api/v1/loads", json=body)
            assert answer.status_code == 202, answer.text
            assert answer.json()["state"] == "queued"
            ids.append(answer.json()["id"])
    return ids


def _load_via_service(served: Served, day: str) -> subprocess.CompletedProcess[str]:
    env = {**served.env, "REPOTRACK_PASSWORD": PASSWORD, "COLUMNS": "400"}
    env.pop("REPOTRACK_LOG_LEVEL", None)
    return subprocess.run(
        [str(BIN / "repotrack"), "load", "repo", "p10", str(RPMS), "--date", day, "--via-service"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
