"""``/api/v1/loads`` against careless and hostile clients (issue 9).

Refused at submission (422): more workers than the machine has cores, dates outside
1990 .. next year, control characters in names, paths outside ``[loads]
allowed_roots`` (none configured: every path). In the job: a symlink leading outside
the roots. A job's parameters and error are shown to the account only. Jobs have a
deadline, can be cancelled queued or running, and one stuck on its input (here: a
store that never answers) is abandoned after the grace period so the next one runs.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from repotrack.service.jobs import CANCELLED, LoadRunner
from repotrack.service.schemas import LoadCreate, machine_cores
from repotrack.store import Store
from tests.conftest import DATA
from tests.functional.server import ServerHandle, running_server
from tests.unit.service.test_loads import AUTH, FAST, RPMS, body, swapped, wait
from tests.unit.store.storeutil import fresh_store_url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    tmp_path = tmp_path_factory.mktemp("hardening")
    fresh_store_url(tmp_path_factory, tmp_path / "server-home" / "store")
    roots = [str(DATA), str(tmp_path_factory.getbasetemp())]
    with running_server(
        tmp_path, tls=False, password=AUTH[1], service=FAST, loads={"allowed_roots": roots}
    ) as handle:
        yield handle


@pytest.fixture
def app(server: ServerHandle) -> FastAPI:
    return server.app


@pytest.fixture
def client(server: ServerHandle) -> Iterator[httpx.Client]:
    with server.client(auth=AUTH) as http:
        yield http


# -- validation at submission ----------------------------------------------------------


def test_workers_are_capped_at_the_machines_cores(client: httpx.Client) -> None:
    cores = machine_cores()
    answer = client.post("/api/v1/loads", json=body("p-w", workers=cores + 1))
    assert answer.status_code == 422
    assert (
        answer.json()["detail"]
        == f"body.workers: must be at most {cores} (the service machine's cores)"
    )
    assert client.post("/api/v1/loads", json=body("p-w", workers=64)).status_code == 422


@pytest.mark.parametrize("day", ["1989-12-31", "0001-01-01", f"{dt.date.today().year + 2}-01-01"])
def test_dates_outside_1990_to_next_year_are_refused(client: httpx.Client, day: str) -> None:
    answer = client.post("/api/v1/loads", json=body("p-d", date=day))
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("body.date: must be between 1990-01-01 and ")


def test_date_range_bounds_are_inclusive() -> None:
    for day in ("1990-01-01", f"{dt.date.today().year + 1}-12-31"):
        assert LoadCreate.model_validate(body(date=day)).date.isoformat() == day


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("branch", "p10\x01"),
        ("branch", "p10\x7f"),
        ("branch", "p10\x9b"),
        ("tag", "\x1b[31mred"),
        ("path", str(RPMS) + "\x07"),
    ],
)
def test_control_characters_are_refused(client: httpx.Client, name: str, value: str) -> None:
    with pytest.raises(ValidationError, match="control characters"):
        LoadCreate.model_validate(body(**{name: value}))
    answer = client.post("/api/v1/loads", json=body(**{name: value}))
    assert answer.status_code == 422
    assert answer.json()["detail"] == f"body.{name}: must not contain control characters"


def test_lone_surrogate_in_a_raw_body_is_422(client: httpx.Client) -> None:
    raw = '{"kind": "repo", "branch": "p\\ud800", "path": "/x", "date": "2024-05-01"}'
    answer = client.post("/api/v1/loads", content=raw, headers={"content-type": "application/json"})
    assert answer.status_code == 422


# -- confinement --------------------------------------------------------------------------


def test_paths_outside_the_allowed_roots_are_refused(client: httpx.Client, tmp_path: Path) -> None:
    for path in ("/etc", "/"):
        answer = client.post("/api/v1/loads", json=body("p-o", path=path))
        assert answer.status_code == 422
        assert "outside the directories this service may read" in answer.json()["detail"]
    link = tmp_path / "looks-inside"
    link.symlink_to("/usr")
    answer = client.post("/api/v1/loads", json=body("p-o", path=str(link)))
    assert answer.status_code == 422


def test_without_allowed_roots_the_api_loads_nothing(tmp_path: Path) -> None:
    with (
        running_server(tmp_path, tls=False, password=AUTH[1], service=FAST) as server,
        server.client(auth=AUTH) as http,
    ):
        answer = http.post("/api/v1/loads", json=body("p-n"))
    assert answer.status_code == 422
    assert "[loads] allowed_roots" in answer.json()["detail"]


def test_a_symlink_leading_outside_fails_the_job_without_reading_it(
    client: httpx.Client, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "shadow.rpm").symlink_to("/etc/hostname")
    job = client.post("/api/v1/loads", json=body("p-s", path=str(tree))).json()
    failed = wait(client, job["id"])
    assert failed["state"] == "failed"
    assert failed["error"]["type"] == "InputError"
    assert (
        failed["error"]["message"] == "symlink sub/shadow.rpm leads outside [loads] allowed_roots"
    )


def test_a_fifo_in_the_tree_fails_the_job_instead_of_blocking_it(
    client: httpx.Client, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    os.mkfifo(tree / "pipe-1-1.noarch.rpm")
    job = client.post("/api/v1/loads", json=body("p-f", path=str(tree))).json()
    failed = wait(client, job["id"])
    assert failed["error"]["type"] == "InputError"
    assert failed["error"]["message"].startswith("pipe-1-1.noarch.rpm is a FIFO, device or socket")


# -- disclosure ---------------------------------------------------------------------------


def test_parameters_and_errors_are_for_the_account_only(
    server: ServerHandle, client: httpx.Client, tmp_path: Path
) -> None:
    tree = tmp_path / "bad"
    tree.mkdir()
    (tree / "broken-1-1.noarch.rpm").write_bytes(b"root:x:0:0" * 20)
    job = client.post("/api/v1/loads", json=body("p-x", path=str(tree))).json()
    assert wait(client, job["id"])["error"] is not None
    with server.client() as anonymous:
        seen = anonymous.get(f"/api/v1/loads/{job['id']}").json()
        listed = anonymous.get("/api/v1/loads").json()["items"]
    assert seen["state"] == "failed"
    assert seen["params"] is None and seen["error"] is None
    assert all(item["params"] is None and item["error"] is None for item in listed)
    assert str(tree) not in str(listed)


# -- deadline and cancellation -------------------------------------------------------------


class Gate:
    """A store opener that blocks until released: a load stuck on its input."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> Store:
        self.entered.set()
        self.release.wait(60)
        store: Store = self.app.state.store_holder.get()
        return store


def test_a_queued_job_is_cancelled_at_once(app: FastAPI, client: httpx.Client) -> None:
    gate = Gate(app)
    with swapped(app, LoadRunner(gate, migrate_store=True, stop_grace=0.2)):
        try:
            running = client.post("/api/v1/loads", json=body("p-c")).json()
            queued = client.post("/api/v1/loads", json=body("p-c", date="2024-05-02")).json()
            assert gate.entered.wait(30)
            answer = client.delete(f"/api/v1/loads/{queued['id']}")
            assert answer.status_code == 200
            assert answer.json()["state"] == "failed"
            assert answer.json()["error"] == {
                "type": "Cancelled",
                "message": CANCELLED,
                "exit_code": 1,
            }
            assert client.delete(f"/api/v1/loads/{queued['id']}").status_code == 409
            assert client.get(f"/api/v1/loads/{running['id']}").json()["state"] == "running"
        finally:
            gate.release.set()


def test_a_stuck_running_job_is_cancelled_and_the_next_one_runs(
    app: FastAPI, client: httpx.Client
) -> None:
    gate = Gate(app)
    with swapped(app, LoadRunner(gate, migrate_store=True, stop_grace=0.2)):
        try:
            stuck = client.post("/api/v1/loads", json=body("p-k")).json()
            assert gate.entered.wait(30)
            nxt = client.post("/api/v1/loads", json=body("p-k2")).json()
            answer = client.delete(f"/api/v1/loads/{stuck['id']}")
            assert answer.status_code == 200
            error = answer.json()["error"]
            assert error["type"] == "Cancelled" and error["message"].startswith(CANCELLED)
            assert "abandoned" in error["message"]
            assert client.get(f"/api/v1/loads/{nxt['id']}").json()["state"] in ("queued", "running")
        finally:
            gate.release.set()
        assert wait(client, nxt["id"])["state"] == "done"
    assert client.get("/api/v1/packages", params={"branch": "p-k"}).status_code == 404


def test_a_job_past_its_deadline_is_stopped(app: FastAPI, client: httpx.Client) -> None:
    gate = Gate(app)
    with swapped(app, LoadRunner(gate, migrate_store=True, job_timeout=0.3, stop_grace=0.2)):
        try:
            job = client.post("/api/v1/loads", json=body("p-t")).json()
            failed = wait(client, job["id"])
        finally:
            gate.release.set()
    assert failed["state"] == "failed"
    assert failed["error"]["type"] == "Timeout"
    assert "longer than 0.3 s (loads.job_timeout)" in failed["error"]["message"]


def test_cancel_needs_the_account_and_an_existing_job(
    server: ServerHandle, client: httpx.Client
) -> None:
    job = client.post("/api/v1/loads", json=body("p-a")).json()
    with server.client() as anonymous:
        assert anonymous.delete(f"/api/v1/loads/{job['id']}").status_code == 401
    assert wait(client, job["id"])["state"] == "done"
    assert client.delete(f"/api/v1/loads/{job['id']}").status_code == 409
    assert client.delete("/api/v1/loads/0f8fad5b-d9cb-469f-a165-70867728950e").status_code == 404
