"""``/api/v1/loads``: the service runs loads handed to it (real server, chDB store, RPMs).

The app runs under uvicorn in a thread (``running_server``, plain HTTP on loopback)
with a store copied from the migrated template; the tree is ``tests/data/rpms`` as a
plain directory of RPMs (8 packages, no outside tool needed). The server is shared by
the module (starting one and its store costs about a second), so each test loads its
own branch, and a test that needs another runner swaps it in with ``monkeypatch``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from repotrack.passwords import hash_password
from repotrack.service.jobs import STOPPED_QUEUED, STOPPED_RUNNING, LoadRunner
from repotrack.store import Store
from tests.conftest import DATA
from tests.functional.server import ServerHandle, running_server
from tests.unit.store.storeutil import fresh_store_url

AUTH = ("admin", "Passw0rd~")
RPMS = DATA / "rpms"
SUMMARY = "p10 2024-05-01: 8 packages (8 new, 0 known), "


def body(branch: str = "p10", **changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "kind": "repo",
        "branch": branch,
        "path": str(RPMS),
        "date": "2024-05-01",
        "tag": "",
        "force": False,
        "workers": 1,
    }
    request.update(changes)
    return request


#: A cheap hash of the test password, so that each test does not pay 0.5 s twice.
FAST = {"password_hash": hash_password(AUTH[1], iterations=1000)}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """The service with an empty migrated store; stopping it stops the runner, then the store."""
    tmp_path = tmp_path_factory.mktemp("loads")
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
    """Logged in: job parameters and errors are shown to the account only."""
    with server.client(auth=AUTH) as http:
        yield http


def wait(client: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/v1/loads/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def test_submit_then_poll_to_done(client: httpx.Client) -> None:
    answer = client.post("/api/v1/loads", json=body(tag="nightly"), auth=AUTH)
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["state"] in ("queued", "running", "done")
    assert job["links"] == {"self": f"/api/v1/loads/{job['id']}"}
    assert answer.headers["location"] == job["links"]["self"]
    assert job["params"] == {
        "branch": "p10",
        "path": str(RPMS),
        "date": "2024-05-01",
        "tag": "nightly",
        "force": False,
        "workers": 1,
        "skip_bad": False,
        "verify_known": False,
    }
    done = wait(client, job["id"])
    assert done["state"] == "done", done
    assert done["error"] is None
    summary = done["summary"]
    assert (summary["packages"], summary["new"], summary["known"]) == (8, 8, 0)
    assert (summary["branch"], summary["date"], summary["tag"]) == ("p10", "2024-05-01", "nightly")
    assert summary["kind"] == "rpm-dir" and summary["files"] > 0
    assert summary["line"].startswith(SUMMARY)
    assert done["progress"] == {"packages": 8, "new": 8, "total": 8}
    assert done["started_at"] <= done["finished_at"]
    packages = client.get("/api/v1/packages", params={"branch": "p10", "date": "2024-05-01"})
    assert packages.status_code == 200 and packages.json()["total"] == 8


def test_same_branch_and_date_again_fails_already_loaded(client: httpx.Client) -> None:
    first = client.post("/api/v1/loads", json=body("p11"), auth=AUTH).json()
    second = client.post("/api/v1/loads", json=body("p11"), auth=AUTH).json()  # queued behind
    assert wait(client, first["id"])["state"] == "done"
    failed = wait(client, second["id"])
    assert failed["state"] == "failed" and failed["summary"] is None
    assert failed["error"] == {
        "type": "ConflictError",
        "message": "p11 2024-05-01 is already loaded (use --force to load it again)",
        "exit_code": 1,
    }
    forced = wait(client, client.post("/api/v1/loads", json=body("p11", force=True)).json()["id"])
    assert forced["state"] == "done"
    assert (forced["summary"]["new"], forced["summary"]["known"]) == (0, 8)


def test_a_bad_tree_fails_with_the_input_error(client: httpx.Client, tmp_path: Path) -> None:
    tree = tmp_path / "bad"
    tree.mkdir()
    (tree / "broken-1-1.noarch.rpm").write_bytes(b"not an rpm at all" * 20)
    job = client.post("/api/v1/loads", json=body("p12", path=str(tree)), auth=AUTH).json()
    failed = wait(client, job["id"])
    assert failed["state"] == "failed"
    assert failed["error"]["type"] == "InputError" and failed["error"]["exit_code"] == 2
    assert "not an RPM package" in failed["error"]["message"]
    assert client.get("/api/v1/packages", params={"branch": "p12"}).status_code == 404


@pytest.mark.parametrize(
    ("changes", "where", "text"),
    [
        ({"path": "relative/tree"}, "body.path", "must be an absolute path"),
        ({"path": str(DATA / "no-such-tree")}, "path", "no such directory on the service's"),
        ({"path": "/etc"}, "path", "outside the directories this service may read"),
        ({"date": "2024-13-01"}, "body.date", "date"),
        ({"date": 1714521600}, "body.date", "YYYY-MM-DD"),
        ({"date": "2024-05-01T00:00:00"}, "body.date", "YYYY-MM-DD"),
        ({"branch": "p10/x"}, "body.branch", "pattern"),
        ({"branch": ""}, "body.branch", "at least 1"),
        ({"workers": 0}, "body.workers", "greater than or equal to 1"),
        ({"workers": "2"}, "body.workers", "integer"),
        ({"force": "yes"}, "body.force", "boolean"),
        ({"kind": "rpm-tree"}, "body", "'repo'"),
        ({"extra": 1}, "body.extra", "Extra inputs"),
    ],
)
def test_bad_input_is_422(
    client: httpx.Client, changes: dict[str, Any], where: str, text: str
) -> None:
    before = client.get("/api/v1/loads").json()["total"]
    answer = client.post(
        "/api/v1/loads", json=body(**{"branch": "p-refused", **changes}), auth=AUTH
    )
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert detail.startswith(f"{where}: ") and text in detail, detail
    assert client.get("/api/v1/loads").json()["total"] == before


def test_submitting_needs_the_account(client: httpx.Client) -> None:
    before = client.get("/api/v1/loads").json()["total"]
    for auth in (None, ("admin", "wrong-Passw0rd~"), ("root", AUTH[1])):
        answer = client.post("/api/v1/loads", json=body("p-refused"), auth=auth)
        assert answer.status_code == 401
        assert answer.json() == {"detail": "authentication required"}
        assert answer.headers["www-authenticate"].startswith("Basic")
    assert client.get("/api/v1/loads").json()["total"] == before


@contextmanager
def swapped(app: FastAPI, runner: LoadRunner) -> Iterator[LoadRunner]:
    """``runner`` serves the routes for a while; then it is stopped and the service's is back.

    (``monkeypatch`` cannot restore Starlette's ``app.state`` attributes.)
    """
    original = app.state.loads
    app.state.loads = runner
    try:
        yield runner
    finally:
        runner.shutdown()
        app.state.loads = original


def gated(app: FastAPI) -> tuple[Callable[[], Store], threading.Event, threading.Event]:
    """A store getter for a runner whose load waits: ``started`` is set when a load
    asks for the store, which it gets once ``release`` is set."""
    started, release = threading.Event(), threading.Event()

    def gated_store() -> Store:
        started.set()
        release.wait(30)
        store: Store = app.state.store_holder.get()
        return store

    return gated_store, started, release


def test_list_is_newest_first_and_bounded(app: FastAPI, client: httpx.Client) -> None:
    with swapped(app, LoadRunner(app.state.store_holder.get, migrate_store=True, keep=2)):
        _check_listing(client)


def _check_listing(client: httpx.Client) -> None:
    ids = []
    for day in ("2024-05-01", "2024-05-02", "2024-05-03"):
        job = client.post("/api/v1/loads", json=body("p13", date=day), auth=AUTH).json()
        assert wait(client, job["id"])["state"] == "done"
        ids.append(job["id"])
    listing = client.get("/api/v1/loads").json()
    assert [job["id"] for job in listing["items"]] == [ids[2], ids[1]]
    assert (listing["total"], listing["limit"], listing["offset"]) == (2, 100, 0)
    page = client.get("/api/v1/loads", params={"limit": 1, "offset": 1}).json()
    assert [job["id"] for job in page["items"]] == [ids[1]]
    assert client.get(f"/api/v1/loads/{ids[0]}").status_code == 404
    assert client.get("/api/v1/loads", params={"limit": 101}).status_code == 422


def test_unknown_job_is_404(client: httpx.Client) -> None:
    answer = client.get("/api/v1/loads/0f8fad5b-d9cb-469f-a165-70867728950e")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "no load job 0f8fad5b-d9cb-469f-a165-70867728950e"}


def test_shutdown_interrupts_the_running_load_and_drops_queued_ones(
    app: FastAPI, client: httpx.Client
) -> None:
    """A load stopped by shutdown publishes nothing; jobs behind it never start."""
    gated_store, started, release = gated(app)
    with swapped(app, LoadRunner(gated_store, migrate_store=True)) as runner:
        _check_shutdown(client, runner, started, release)


def _check_shutdown(
    client: httpx.Client, runner: LoadRunner, started: threading.Event, release: threading.Event
) -> None:
    running = client.post("/api/v1/loads", json=body("p14"), auth=AUTH).json()
    queued = client.post("/api/v1/loads", json=body("p14", date="2024-05-02"), auth=AUTH).json()
    assert started.wait(30)
    threading.Timer(0.2, release.set).start()  # let the first load go on once stopping
    runner.shutdown()
    first, second = (
        client.get(f"/api/v1/loads/{running['id']}").json(),
        client.get(f"/api/v1/loads/{queued['id']}").json(),
    )
    assert first["state"] == "failed"
    assert first["error"] == {"type": "Interrupted", "message": STOPPED_RUNNING, "exit_code": 1}
    assert second["error"] == {"type": "Interrupted", "message": STOPPED_QUEUED, "exit_code": 1}
    assert client.get("/api/v1/packages", params={"branch": "p14"}).status_code == 404
    late = client.post("/api/v1/loads", json=body("p14"), auth=AUTH)
    assert late.status_code == 409 and "stopping" in late.json()["detail"]


def test_a_skip_bad_load_lists_the_packages_it_left_out(
    client: httpx.Client, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for rpm in RPMS.glob("*.rpm"):
        (tree / rpm.name).write_bytes(rpm.read_bytes())
    (tree / "zz-notes-1-1.noarch.rpm").write_text("not a package\n")
    answer = client.post(
        "/api/v1/loads",
        json=body("skipbad", path=str(tree), skip_bad=True),
        auth=AUTH,
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["params"]["skip_bad"] is True
    done = wait(client, answer.json()["id"])
    assert done["state"] == "done", done
    summary = done["summary"]
    assert summary["packages"] == 8 and "1 bad left out" in summary["line"]
    assert summary["bad"] == [
        {
            "file": "zz-notes-1-1.noarch.rpm",
            "reason": "not an RPM package (no RPM lead at the start)",
        }
    ]


def test_a_held_get_answers_when_the_job_ends(app: FastAPI, server: ServerHandle) -> None:
    """``?wait=`` holds the answer until the job ends: a follower learns of the end then,
    not at its next poll (a reload of known packages ends in a fraction of a second)."""
    gated_store, started, release = gated(app)
    answers: list[dict[str, Any]] = []
    with (
        swapped(app, LoadRunner(gated_store, migrate_store=True)),
        server.client(auth=AUTH) as http,
        server.client(auth=AUTH) as follower,
    ):
        job = http.post("/api/v1/loads", json=body("p19"), auth=AUTH).json()
        assert started.wait(30)
        # Still running: a short wait answers with the job as it is.
        early = http.get(f"/api/v1/loads/{job['id']}", params={"wait": 0.05}).json()
        assert early["state"] == "running" and early["summary"] is None
        held = threading.Thread(
            target=lambda: answers.append(
                follower.get(f"/api/v1/loads/{job['id']}", params={"wait": 30}).json()
            )
        )
        held.start()
        release.set()
        held.join(20)  # well inside the 30 s asked for: the end woke it
        assert not held.is_alive(), "the held GET did not answer when the job ended"
    assert answers[0]["state"] == "done"
    assert answers[0]["summary"]["line"].startswith("p19 2024-05-01: 8 packages (")


@pytest.mark.parametrize("wait", [-1, 31, "soon"])
def test_a_bad_wait_is_422(client: httpx.Client, wait: object) -> None:
    job = client.post("/api/v1/loads", json=body("p20"), auth=AUTH).json()
    answer = client.get(f"/api/v1/loads/{job['id']}", params={"wait": wait})
    assert answer.status_code == 422, answer.text
    assert "wait" in answer.text


def test_a_held_get_of_an_unknown_job_is_404_at_once(client: httpx.Client) -> None:
    answer = client.get(
        "/api/v1/loads/0f8fad5b-d9cb-469f-a165-70867728950e", params={"wait": 30}, timeout=10
    )
    assert answer.status_code == 404
