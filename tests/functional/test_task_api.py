"""``/api/v1/tasks`` and ``/api/v1/package-history`` over HTTP: the real service, real chDB."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures.taskstore import loaded_task_store
from tests.functional.server import running_server


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """The service over plain HTTP on a store holding the standard tasks (read only)."""
    tmp_path = tmp_path_factory.mktemp("task-api")
    url, _ = loaded_task_store(tmp_path_factory, tmp_path / "server-home" / "store")
    with running_server(tmp_path, tls=False) as server:
        assert server.settings.store_url == url
        with server.client() as http:
            yield http


def test_task_list_and_filters(client: httpx.Client) -> None:
    answer = client.get("/api/v1/tasks")
    assert answer.status_code == 200
    assert [t["task_id"] for t in answer.json()["tasks"]] == [2002, 2001, 1100]
    done = client.get("/api/v1/tasks", params={"branch": "sisyphus", "state": "DONE"}).json()
    assert [(t["task_id"], t["owner"], t["subtasks"]) for t in done["tasks"]] == [
        (1100, "alice", 4)  # subtask 5 was removed
    ]
    assert client.get("/api/v1/tasks", params={"since": "2024-06-11"}).json() == {"tasks": []}


def test_one_task(client: httpx.Client) -> None:
    body = client.get("/api/v1/tasks/2001").json()
    assert (body["task_id"], body["branch"], body["state"]) == (2001, "p10", "FAILED")
    (failed,) = [it for it in body["iterations"] if it["arch"] == "i586"]
    assert failed["errors"][-1] == "error: Bad exit status from /usr/src/tmp/rpm-tmp (%build)"
    built = body["iterations"][0]
    assert isinstance(built["srpm"]["pkg_hash"], str)


def test_task_repo_and_history(client: httpx.Client) -> None:
    repo = client.get("/api/v1/tasks/2002/repo").json()
    assert (repo["base_task"], repo["tasks_applied"]) == (1000, [1100])
    assert sorted({p["name"] for p in repo["removed"]}) == ["rt-tilde"]
    history = client.get("/api/v1/package-history/rt-tilde", params={"branch": "sisyphus"})
    assert [(t["task_id"], t["action"]) for t in history.json()["tasks"]] == [(1100, "delete")]


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/api/v1/tasks/4242", {}, 404),
        ("/api/v1/tasks/0", {}, 422),
        ("/api/v1/tasks/abc", {}, 422),
        ("/api/v1/tasks", {"since": "June"}, 422),
        ("/api/v1/tasks", {"limit": 0}, 422),
        ("/api/v1/package-history/rt-alpha", {}, 422),
    ],
)
def test_bad_requests(client: httpx.Client, path: str, params: dict[str, str], status: int) -> None:
    answer = client.get(path, params=params)
    assert answer.status_code == status
    assert "detail" in answer.json()
