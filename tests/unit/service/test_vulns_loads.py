"""``/api/v1/loads`` jobs of kind ``vulns`` (real server and store): what the CLI hand-off
test (``tests/functional/test_vulns_load_via_service.py``) does not reach: bodies the
CLI never sends, the confinement of feed paths, the job record, the queue's refusal."""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from repotrack.errors import InputError
from repotrack.service.job_queue import BrokerURL, QueuedLoadRunner
from tests.conftest import need_fixtures
from tests.unit.service.loads_server import serve_loads, wait


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    allowed = tmp_path_factory.mktemp("allowed")
    outside = tmp_path_factory.mktemp("outside")
    feed = allowed / "feed"
    feed.mkdir()
    record = need_fixtures("cve", "nvd-2.0", "records", "CVE-2021-36370.json")
    shutil.copy(record, feed / record.name)
    (feed / "bad.json").write_text("{", encoding="utf-8")
    archive = allowed / "all.zip"
    with zipfile.ZipFile(archive, "w") as packed:
        for record in sorted(need_fixtures("cve", "osv", "almalinux").glob("*.json")):
            packed.write(record, record.name)
    checks = allowed / "checks"
    checks.mkdir()
    shutil.copy(need_fixtures("cve", "alt", "CveChecked-initial.json"), checks)
    (outside / "secret.json").write_text("{}", encoding="utf-8")
    leaky = allowed / "leaky"
    leaky.mkdir()
    (leaky / "link.json").symlink_to(outside / "secret.json")
    fifo = allowed / "fifo.json"
    os.mkfifo(fifo)
    return {
        "allowed": allowed,
        "outside": outside,
        "feed": feed,
        "checks": checks,
        "archive": archive,
        "leaky": leaky,
        "fifo": fifo,
    }


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, roots: dict[str, Path]
) -> Iterator[httpx.Client]:
    yield from serve_loads(tmp_path_factory, "vuln-loads", roots["allowed"])


def _done(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    """Submit a load and wait until it ended, which must be ``done``."""
    answer = client.post("/api/v1/loads", json=body)
    assert answer.status_code == 202, answer.text
    job: dict[str, Any] = wait(client, answer.json())
    assert job["state"] == "done", job["error"]
    return job


def test_a_vulns_job_loads_and_reports_its_problems(
    client: httpx.Client, roots: dict[str, Path]
) -> None:
    body = {"kind": "vulns", "source": "nvd", "paths": [str(roots["feed"])]}
    job = _done(client, body)
    assert job["params"]["source"] == "nvd" and job["params"]["paths"] == body["paths"]
    assert job["progress"] == {"packages": 2, "new": 1, "total": 2}  # files read, new ones
    summary = job["summary"]
    assert summary["lines"] == [
        "nvd: 2 file(s), 1 record(s): 1 written (0 rejected/withdrawn), 0 already loaded, "
        "0 kept from a stronger source"
    ]
    (problem,) = summary["problems"]
    assert problem.startswith(f"{roots['feed'] / 'bad.json'}: malformed JSON")


def test_alt_manual_checks_load_through_the_service(
    client: httpx.Client, roots: dict[str, Path]
) -> None:
    body = {"kind": "vulns", "source": "cvechecked", "paths": [str(roots["checks"])]}
    job = _done(client, body)
    assert job["summary"]["lines"] == [
        "cvechecked: 1 file(s), 134 check(s): 134 written, 0 already loaded"
    ]
    assert job["summary"]["problems"] == []


def test_an_archives_members_count_one_by_one(client: httpx.Client, roots: dict[str, Path]) -> None:
    """A stop request lands between two members, not after the whole archive."""
    job = _done(client, {"kind": "vulns", "source": "osv", "paths": [str(roots["archive"])]})
    assert job["progress"] == {"packages": 3, "new": 3, "total": 3}


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ({"kind": "vulns", "source": "nvd", "paths": ["relative/feed"]}, 422, "absolute path"),
        ({"kind": "vulns", "source": "nvd", "paths": []}, 422, "at least 1"),
        ({"kind": "vulns", "source": "NVD!", "paths": ["/x"]}, 422, "pattern"),
        ({"kind": "vulns", "source": "nope", "paths": ["/x"]}, 422, "unknown vulnerability"),
    ],
)
def test_bodies_the_cli_never_sends(
    client: httpx.Client, body: dict[str, Any], status: int, text: str
) -> None:
    answer = client.post("/api/v1/loads", json=body)
    assert answer.status_code == status and text in answer.text


def test_paths_are_confined(client: httpx.Client, roots: dict[str, Path]) -> None:
    outside = {"kind": "vulns", "source": "nvd", "paths": [str(roots["outside"])]}
    answer = client.post("/api/v1/loads", json=outside)
    assert answer.status_code == 422 and "allowed_roots" in answer.text
    for name, reason in (("leaky", "leads outside"), ("fifo", "FIFO")):
        body = {"kind": "vulns", "source": "nvd", "paths": [str(roots[name])]}
        job = wait(client, client.post("/api/v1/loads", json=body).json())
        assert job["state"] == "failed" and reason in job["error"]["message"]
        assert "secret" not in job["error"]["message"]  # the link is named, not its target


def test_the_job_queue_refuses_vulns_loads_with_a_reason() -> None:
    runner = QueuedLoadRunner(BrokerURL("127.0.0.1", 1, "/", "guest", "guest"))
    try:
        with pytest.raises(InputError, match="not sent to the job queue"):
            runner.submit_vuln_load(object())
    finally:
        runner.shutdown()
    assert runner.recent() == []
