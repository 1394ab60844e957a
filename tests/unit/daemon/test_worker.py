"""The job queue in one process: the service's runner publishes, a worker daemon loads.

Real RabbitMQ (a private jobs queue per test), a real chDB store, the test RPM tree.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pika
import pytest

from repotrack.config import Settings
from repotrack.daemon.worker import job_work, worker_config
from repotrack.errors import ConfigError, ConflictError, InputError, StoreError
from repotrack.ingest.repo import RepoLoad
from repotrack.service.job_queue import BrokerURL, QueuedLoadRunner, parse_broker_url
from repotrack.service.jobs import Job
from repotrack.store import Store
from tests.conftest import DATA
from tests.unit.daemon.broker import depth, running
from tests.unit.store.storeutil import open_fresh_store


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("amqp://guest:guest@127.0.0.1:5672/", BrokerURL("127.0.0.1", 5672, "/", "guest", "guest")),
        ("amqp://u:p%40ss@rabbit/%2F", BrokerURL("rabbit", 5672, "/", "u", "p@ss")),
        (
            "amqp://u:p@rabbit:5673/prod?queue=jobs-prod",
            BrokerURL("rabbit", 5673, "prod", "u", "p", queue="jobs-prod"),
        ),
        (
            "amqps://u:p@rabbit/%2F?cacert=/etc/ca.pem",
            BrokerURL("rabbit", 5671, "/", "u", "p", cacert="/etc/ca.pem"),
        ),
    ],
)
def test_broker_url(url: str, expected: BrokerURL) -> None:
    assert parse_broker_url(url) == expected


def test_memory_means_in_process_and_bad_urls_say_why() -> None:
    assert parse_broker_url("memory://") is None
    with pytest.raises(ConfigError, match=r"queue\.url: expected memory:// or amqp://"):
        parse_broker_url("redis://localhost")
    with pytest.raises(ConfigError, match=r"amqps:// needs \?cacert="):
        parse_broker_url("amqps://rabbit/")
    with pytest.raises(ConfigError, match="bad port"):
        parse_broker_url("amqp://rabbit:99999/")


@pytest.fixture
def broker(amqp_url: str) -> Iterator[BrokerURL]:
    name = f"rt-test-jobs-{uuid.uuid4().hex[:8]}"
    try:
        yield BrokerURL("127.0.0.1", 5672, "/", "guest", "guest", queue=name)
    finally:
        connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672))
        connection.channel().queue_delete(name)
        connection.close()


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


def _wait(runner: QueuedLoadRunner, job_id: str, timeout: float = 120) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = runner.get(job_id)
        if job.state in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {runner.get(job_id).state}")


@pytest.mark.services
def test_jobs_through_a_worker(broker: BrokerURL, store: Store, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    runner = QueuedLoadRunner(broker)
    config = worker_config(broker, idle_loop_sleep=0.1)
    work = job_work(store, settings, broker)
    try:
        good = runner.submit_repo_load(
            RepoLoad(branch="p10", path=DATA / "rpms", date=date(2024, 5, 1))
        )
        again = runner.submit_repo_load(
            RepoLoad(branch="p10", path=DATA / "rpms", date=date(2024, 5, 1))
        )
        missing = runner.submit_repo_load(
            RepoLoad(branch="p10", path=tmp_path / "no-such-tree", date=date(2024, 5, 2))
        )
        assert good.state == "queued" and runner.get(good.id).worker is None
        with pytest.raises(ConflictError, match="cannot be cancelled"):
            runner.cancel(good.id)
        with running(config, lambda name: work) as run:
            done = _wait(runner, good.id)
            conflict = _wait(runner, again.id)
            failed = _wait(runner, missing.id)
            run.wait_for(lambda got: len(got) == 3)
    finally:
        assert runner.shutdown()
    assert done.state == "done" and done.summary is not None
    assert (done.summary["packages"], done.summary["new"]) == (8, 8)  # the tree holds 8 RPMs
    assert (done.done, done.new, done.total) == (8, 8, 8)
    assert done.worker is not None and done.worker.endswith(f"pid {os.getpid()}")
    assert done.started_at is not None and done.finished_at is not None
    # the same day again: the load's own answer, reported, not loaded twice
    assert conflict.state == "failed" and conflict.error is not None
    assert conflict.error.type == "ConflictError" and "already loaded" in conflict.error.message
    assert failed.state == "failed" and failed.error is not None
    assert failed.error.exit_code == 2  # bad input, as the CLI would exit
    # every message acked: the outcome of a job is the job's, not the message's
    assert [o.action for o in run.outcomes] == ["done", "done", "done"]
    assert depth(broker.queue) == 0
    rows = store.query("SELECT count() FROM PackageSetName WHERE pkgset_depth = 0")
    assert rows[0][0] == 1


@pytest.mark.services
def test_a_message_that_is_not_a_job_is_rejected(broker: BrokerURL, store: Store) -> None:
    config = worker_config(broker, idle_loop_sleep=0.1)
    work = job_work(store, Settings(), broker)
    with running(config, lambda name: work) as run:
        connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672))
        channel = connection.channel()
        channel.basic_publish("", broker.queue, json.dumps({"kind": "repo"}).encode())
        connection.close()
        run.wait_for(lambda got: len(got) == 1)
    assert run.outcomes[0].action == "failed"
    assert "not a repotrack job" in run.outcomes[0].reason
    assert depth(broker.queue) == 0  # not requeued: it would fail the same way anywhere


@pytest.mark.services
def test_no_broker_is_a_clear_error(amqp_url: str, tmp_path: Path) -> None:
    runner = QueuedLoadRunner(BrokerURL("127.0.0.1", 1, "/", "guest", "guest"))
    runner.listen_timeout = 1.0
    try:
        with pytest.raises(StoreError, match=r"the job queue \(\[queue\] url\) is not reachable"):
            runner.submit_repo_load(RepoLoad(branch="p10", path=DATA / "rpms", date=date.today()))
    finally:
        runner.shutdown()
    assert runner.recent() == []


@pytest.mark.services
def test_scan_jobs_run_the_tracker_on_a_worker(
    broker: BrokerURL, store: Store, tmp_path: Path
) -> None:
    """With a broker the service sends scans; a worker runs them into the state database."""
    from repotrack.service.job_queue import start_queued_scans
    from tests.unit.tracking.pipeline_world import add_commits, branches
    from tests.unit.tracking.test_pipeline import FULL_NAME, _make_world

    worlds = _make_world(tmp_path)
    world = next(worlds)
    try:
        add_commits(world.upstream, 2)
        stop = start_queued_scans(broker, 3600.0)  # the first scan job goes out at once
        try:
            config = worker_config(broker, idle_loop_sleep=0.1)
            work = job_work(store, world.settings, broker)
            with running(config, lambda name: work) as run:
                run.wait_for(lambda got: len(got) == 1, timeout=120)
        finally:
            stop()
        assert [(o.action, o.reason) for o in run.outcomes] == [
            ("done", "tracking scan: 1 items, 0 failed")
        ]
        # the run is recorded in the state database, where the API and track status read it
        assert [(r.outcome, r.commits_processed) for r in world.runs()] == [("success", 2)]
        assert len(branches(world.bare)) == 1 and len(world.forge.pulls(FULL_NAME)) == 1
        assert depth(broker.queue) == 0
    finally:
        next(worlds, None)


def test_image_loads_are_refused_by_the_queue_with_a_reason() -> None:
    """Workers run repository loads only: an image job is refused, not lost in the queue."""
    runner = QueuedLoadRunner(BrokerURL("127.0.0.1", 1, "/", "guest", "guest"))
    try:
        with pytest.raises(InputError, match="not sent to the job queue"):
            runner.submit_image_load(object())
    finally:
        runner.shutdown()
    assert runner.recent() == []


def test_task_jobs_are_refused_by_the_queue_with_a_reason() -> None:
    runner = QueuedLoadRunner(BrokerURL("127.0.0.1", 1, "/", "guest", "guest"))
    try:
        with pytest.raises(InputError, match="not sent to the job queue"):
            runner.submit_task_job(object())
    finally:
        runner.shutdown()
    assert runner.recent() == []


def test_a_held_get_answers_when_a_worker_reports_the_end() -> None:
    """``get(wait=)`` on the queue's face: the worker's ``done`` event wakes the follower."""
    runner = QueuedLoadRunner(BrokerURL("127.0.0.1", 1, "/", "guest", "guest"))
    job = Job(
        id="a1",
        kind="repo",
        params=RepoLoad("p10", Path("/srv/p10"), date(2024, 5, 1)),
        submitted_at=datetime.now(UTC),
    )
    runner._jobs[job.id] = job  # as submit_repo_load records it, without a broker
    answers: list[Job] = []
    try:
        assert runner.get("a1", wait=0.05).state == "queued"
        held = threading.Thread(target=lambda: answers.append(runner.get("a1", wait=30)))
        held.start()
        summary = {"line": "p10 2024-05-01: 8 packages"}
        runner._event(json.dumps({"id": "a1", "event": "done", "summary": summary}).encode())
        held.join(20)  # well inside the 30 s asked for: the event woke it
        assert not held.is_alive(), "the held get did not answer when the worker reported"
    finally:
        runner.shutdown()
    assert answers[0].state == "done" and answers[0].summary == summary
