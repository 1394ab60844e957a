"""``/api/v1/loads`` jobs of kind ``task``, ``package`` and ``task-clean`` (real server and store).

What the hand-off tests (``tests/functional/test_task_handoff.py``) do not reach from
the command line: bodies the CLI never sends, the confinement of task directories,
and the job record itself (progress counted in tasks, the summary's lines).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.girar import task_tree
from tests.unit.service.loads_server import serve_loads, wait


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The task tree under the allowed root, and a directory outside it."""
    allowed = tmp_path_factory.mktemp("allowed")
    outside = tmp_path_factory.mktemp("outside")
    tasks = task_tree(tmp_path_factory.mktemp("girar"), allowed / "tasks")
    return {**tasks, "allowed": allowed, "outside": outside}


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, roots: dict[str, Path]
) -> Iterator[httpx.Client]:
    yield from serve_loads(tmp_path_factory, "task-loads", roots["allowed"])


def submit(client: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return client.post("/api/v1/loads", json=body)


def test_a_task_job_loads_and_reports_in_tasks(
    client: httpx.Client, roots: dict[str, Path]
) -> None:
    paths = [str(roots["failed"]), str(roots["done"])]
    answer = submit(client, {"kind": "task", "paths": paths, "workers": 64})
    assert answer.status_code == 202, answer.text
    job = wait(client, answer.json())
    assert job["state"] == "done", job["error"]
    assert job["kind"] == "task" and job["params"]["paths"] == paths
    assert job["params"]["workers"] >= 1  # 64 counts as the machine's cores
    assert job["progress"] == {"packages": 2, "new": 2, "total": 2}
    summary = job["summary"]
    assert summary["read"] == [2001, 1100]
    assert summary["lines"][0].startswith("task 2001 FAILED: ")
    assert summary["line"] == "\n".join(summary["lines"])
    again = wait(client, submit(client, {"kind": "task", "paths": paths}).json())
    assert again["summary"]["read"] == [] and again["progress"]["new"] == 0
    assert client.get("/api/v1/tasks/1100").json()["state"] == "DONE"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"kind": "task", "paths": []}, "body.paths: List should have at least 1 item"),
        ({"kind": "task", "paths": ["tasks/1"]}, "body.paths.0: must be an absolute path"),
        ({"kind": "task", "path": "/x"}, "body.paths: Field required"),
        ({"kind": "package", "path": "/x\x01.src.rpm"}, "body.path: must be an absolute path"),
        ({"kind": "task-clean", "tasks_dir": "/x", "task": 0}, "body.task: Input should be"),
        ({"kind": "images", "path": "/x"}, "body: Input tag 'images' found"),
    ],
)
def test_bad_bodies_are_422(client: httpx.Client, body: dict[str, Any], detail: str) -> None:
    answer = submit(client, body)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(detail), answer.json()


def test_paths_are_confined(client: httpx.Client, roots: dict[str, Path]) -> None:
    outside = roots["outside"] / "3000"
    outside.mkdir()
    answer = submit(client, {"kind": "task", "paths": [str(outside)]})
    assert answer.status_code == 422
    assert "outside the directories this service may read" in answer.json()["detail"]
    missing = submit(client, {"kind": "package", "path": str(roots["allowed"] / "no.src.rpm")})
    assert missing.status_code == 422 and "no such file" in missing.json()["detail"]

    # A link inside a task leading outside is refused when the job starts ...
    task = roots["new"]
    (task / "secret").symlink_to(roots["outside"])
    job = wait(client, submit(client, {"kind": "task", "paths": [str(task)]}).json())
    assert job["state"] == "failed"
    assert job["error"]["message"] == "symlink secret leads outside [loads] allowed_roots"
    (task / "secret").unlink()
    # ... but build/repo/prev, whose target only names the previous task, may point anywhere.
    assert (roots["failed"] / "build" / "repo" / "prev").is_symlink()
    job = wait(client, submit(client, {"kind": "task", "paths": [str(roots["failed"])]}).json())
    assert job["state"] == "done", job["error"]


def test_package_and_clean_jobs(client: httpx.Client, roots: dict[str, Path]) -> None:
    srpm = roots["rpms"] / "epsilon" / "rt-epsilon-3.1-alt1.src.rpm"
    job = wait(client, submit(client, {"kind": "package", "path": str(srpm)}).json())
    assert job["state"] == "done"
    assert job["summary"]["lines"][0].startswith("rt-epsilon-3.1-alt1.src.rpm: loaded, ")
    body = {"kind": "task-clean", "tasks_dir": str(roots["root"]), "dry_run": True}
    job = wait(client, submit(client, body).json())
    assert job["state"] == "done"
    assert job["summary"]["deleted"] == [] and job["summary"]["unclear"] == []
    assert job["summary"]["lines"][-1].startswith("1 open task(s) checked, would mark 0")
