"""The daemon against the real RabbitMQ on 127.0.0.1:5672: routing, ack/reject, retries.

Each test names its queues and exchanges with its own prefix and deletes them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from repotrack.daemon import consumer
from repotrack.daemon.config import DaemonConfig, load_daemon_config
from repotrack.daemon.consumer import ServiceConsumer, Work
from tests.unit.daemon.broker import (
    depth,
    drain,
    listen,
    publish,
    publish_all,
    running,
    wait_depth,
    write_config,
)

pytestmark = pytest.mark.services

FAST = {"idle_loop_sleep": 0.1}


def recorder(calls: list[tuple[str, str, dict[str, Any]]], fail_on: int | None = None) -> Work:
    def work(key: str, payload: Mapping[str, Any]) -> str:
        calls.append(("call", key, dict(payload)))
        if fail_on is not None and payload.get("taskid") == fail_on:
            raise RuntimeError(f"poison task {fail_on}")
        return "ok"

    return work


def test_routing_keys_json_and_ack(pfx: str, tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        pfx,
        ["watch_loader", "repo_loader"],
        watch_loader=dict(FAST),
        repo_loader=dict(FAST),
    )
    calls: list[tuple[str, str, dict[str, Any]]] = []
    with running(config, lambda name: recorder(calls)) as run:
        publish(f"{pfx}repodb-ex", "watch.other", {})  # bound by watch.#, not taken
        publish(f"{pfx}repodb-ex", "watch.load", b"{broken")
        publish(f"{pfx}repodb-ex", "watch.load", {"ignored": True})
        publish(f"{pfx}repodb-ex", "repo.load", {"branch": "sisyphus", "date": "2024-05-01"})
        run.wait_for(lambda got: len(got) == 4)
    by_action = sorted((o.service, o.routing_key, o.action) for o in run.outcomes)
    assert by_action == [
        ("repo_loader", "repo.load", "done"),
        ("watch_loader", "watch.load", "done"),
        ("watch_loader", "watch.load", "rejected"),
        ("watch_loader", "watch.other", "rejected"),
    ]
    assert sorted(c[1] for c in calls) == ["repo.load", "watch.load"]
    assert depth(f"{pfx}watch-loader-q") == 0 and depth(f"{pfx}repo-loader-q") == 0


def test_poison_retried_then_dead_lettered_and_reported(pfx: str, tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        pfx,
        ["task_loader"],
        task_loader={**FAST, "queue_arguments": {"x-dead-letter-exchange": f"{pfx}dlx"}},
    )
    dead = listen(f"{pfx}dlx")
    reports = listen(f"{pfx}notifier-ex")
    uploaded = listen(f"{pfx}uploaded-ex")
    calls: list[tuple[str, str, dict[str, Any]]] = []
    with running(config, lambda name: recorder(calls, fail_on=1)) as run:
        publish(f"{pfx}girar-ex", "task.state", {"taskid": 1, "state": "DONE"})
        publish(f"{pfx}girar-ex", "task.state", {"taskid": 2, "state": "DONE"})
        run.wait_for(
            lambda got: (
                sum(o.action == "rejected" for o in got) == 1
                and any(o.action == "done" for o in got)
            )
        )
    poison = [c for c in calls if c[2]["taskid"] == 1]
    assert len(poison) == 3  # max_redeliver_count 2 + 1
    assert [c[2]["taskid"] for c in calls].count(2) == 1
    assert [o.action for o in run.outcomes].count("failed") == 3
    rejected = next(o for o in run.outcomes if o.action == "rejected")
    assert "max_redeliver_count 2" in rejected.reason
    # dead-lettered through the queue's dead-letter exchange, under its routing key
    assert [(k, json.loads(b)["taskid"]) for k, b in drain(dead)] == [("task.state", 1)]
    notes = drain(reports)
    assert [k for k, _ in notes] == ["service_worker_error.critical"] * 3
    note = json.loads(notes[0][1])
    assert note["subject"] == "task_loader" and note["type"] == "SERVICE_WORKER_ERROR"
    assert note["severity"] == "CRITICAL" and "poison task 1" in note["message"]
    assert note["payload"].startswith("b'{")  # the body through str(), as the original
    # publish_on_done: only the good one is republished, with its routing key and body
    assert [(k, json.loads(b)) for k, b in drain(uploaded)] == [
        ("task.state", {"taskid": 2, "state": "DONE"})
    ]
    assert depth(f"{pfx}task-loader-q") == 0


def test_task_filters_and_message_without_taskid(pfx: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, pfx, ["task_loader"], task_loader=dict(FAST))
    calls: list[tuple[str, str, dict[str, Any]]] = []
    with running(config, lambda name: recorder(calls)) as run:
        publish(f"{pfx}girar-ex", "task.state", {"taskid": 7, "state": "EPERM"})
        publish(f"{pfx}girar-ex", "task.state", {"taskid": 7, "state": "BUILDING"})
        publish(
            f"{pfx}girar-ex",
            "task.progress",
            {"taskid": 7, "stage": "build-task", "state": "EPERM", "stage_status": "processed"},
        )
        publish(f"{pfx}girar-ex", "task.state", {"state": "DONE"})
        run.wait_for(lambda got: len(got) == 4)
    assert sorted(o.action for o in run.outcomes) == ["done", "dropped", "dropped", "left"]
    assert [c[1] for c in calls] == ["task.progress"]
    # left unacked: back on the queue once the daemon's link is closed
    assert wait_depth(f"{pfx}task-loader-q", 1) == 1


def test_service_without_loader_dead_letters(pfx: str, tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        pfx,
        ["acl_loader"],
        acl_loader={**FAST, "queue_arguments": {"x-dead-letter-exchange": f"{pfx}dlx"}},
    )
    dead = listen(f"{pfx}dlx")
    with running(config, lambda name: None) as run:
        publish(f"{pfx}girar-ex", "acl.changed", {"target": "bash"})
        run.wait_for(lambda got: len(got) == 1)
    assert run.outcomes[0].action == "rejected"
    assert run.outcomes[0].reason == "acl_loader: loader not available"
    assert [k for k, _ in drain(dead)] == ["acl.changed"]


def test_daemon_comes_up_with_the_broker_away(pfx: str, tmp_path: Path) -> None:
    """A broker that does not answer is retried, not fatal, and reported as SERVICE_ERROR."""
    write_config(tmp_path, pfx, ["watch_loader"], watch_loader=dict(FAST))
    body = json.loads((tmp_path / "services.d" / "watch_loader.json").read_text())
    body["amqp"]["port"] = 1  # nothing listens there; the notifier's broker is the real one
    (tmp_path / "services.d" / "watch_loader.json").write_text(json.dumps(body))
    config = load_daemon_config(tmp_path / "config.json", tmp_path / "services.d")
    reports = listen(f"{pfx}notifier-ex")
    with running(config, lambda name: None) as run:
        assert run.daemon.consumers[0].connected is False
    assert not run.thread.is_alive()
    notes = drain(reports)
    assert [k for k, _ in notes] == ["service_error.warning"]
    note = json.loads(notes[0][1])
    assert (note["subject"], note["type"], note["severity"]) == (
        "watch_loader",
        "SERVICE_ERROR",
        "WARNING",
    )
    assert note["payload"].startswith("{'state': 'FAILED', 'reason': 'AMQPConnectionError")


def test_two_workers_share_one_queue(
    pfx: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200 messages, two daemons on one queue: each message done exactly once.

    A ``basic.get`` the broker leaves unanswered (seen under load) is dropped after
    ``REPLY_TIMEOUT``; 10 s here keeps the recovery inside the wait below.
    """
    monkeypatch.setattr(consumer, "REPLY_TIMEOUT", 10.0)
    config = write_config(tmp_path, pfx, ["repo_loader"], repo_loader=dict(FAST))
    seen: list[int] = []

    def work(key: str, payload: Mapping[str, Any]) -> str:
        seen.append(int(payload["n"]))  # list.append is atomic under the GIL
        return "ok"

    with running(config, lambda name: work) as first, running(config, lambda name: work) as second:
        publish_all(f"{pfx}repodb-ex", "repo.load", [{"n": n} for n in range(200)])
        first.wait_for(lambda got: len(got) + len(second.outcomes) >= 200)
    done = [o for run in (first, second) for o in run.outcomes if o.action == "done"]
    assert len(done) == 200
    assert sorted(seen) == list(range(200))
    assert depth(f"{pfx}repo-loader-q") == 0


def test_stop_finishes_the_message_in_hand(pfx: str, tmp_path: Path) -> None:
    """stop() (what SIGTERM calls) during a load: the load ends, is acked, nothing else starts."""
    config = write_config(tmp_path, pfx, ["repo_loader"], repo_loader=dict(FAST))
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def work(key: str, payload: Mapping[str, Any]) -> str:
        calls.append(int(payload["n"]))
        started.set()
        release.wait(60)
        return "ok"

    with running(config, lambda name: work) as run:
        publish(f"{pfx}repodb-ex", "repo.load", {"n": 1})
        publish(f"{pfx}repodb-ex", "repo.load", {"n": 2})
        assert started.wait(60)
        assert run.daemon.in_flight() == {"repo_loader": "repo.load"}
        run.daemon.stop()
        release.set()
        run.thread.join(60)
        assert not run.thread.is_alive()
    assert calls == [1]
    assert [(o.action, json.loads(o.body)["n"]) for o in run.outcomes] == [("done", 1)]
    assert depth(f"{pfx}repo-loader-q") == 1  # the second one waits for the next daemon


def test_connection_closed_by_the_broker_reconnects(pfx: str, tmp_path: Path) -> None:
    """The broker drops the daemon's link mid-stream: it reconnects, every message done once."""
    # rabbitmqctl runs where the broker runs; CI may reach a broker on another host
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        pytest.skip("rabbitmqctl is not here: the broker is not local")
    # the example's max_redeliver_count 0 would reject the redelivered message
    config = write_config(
        tmp_path, pfx, ["repo_loader"], repo_loader={**FAST, "max_redeliver_count": 2}
    )
    name = f"repotrack repo_loader {pfx}repo-loader-q"
    seen: list[int] = []

    def work(key: str, payload: Mapping[str, Any]) -> str:
        seen.append(int(payload["n"]))
        if len(seen) == 10:  # drop the link while this message is in hand
            listed = subprocess.run(
                [rabbitmqctl, "-q", "list_connections", "pid", "client_properties"],
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            )
            pids = [line.split("\t")[0] for line in listed.stdout.splitlines() if name in line]
            assert len(pids) == 1, listed.stdout
            subprocess.run(
                [rabbitmqctl, "close_connection", pids[0], "test"],
                capture_output=True,
                check=True,
                timeout=60,
            )
        return "ok"

    with running(config, lambda name: work) as run:
        publish_all(f"{pfx}repodb-ex", "repo.load", [{"n": n} for n in range(50)])
        run.wait_for(lambda got: sum(o.action == "done" for o in got) >= 50, timeout=120)
    assert sorted(set(seen)) == list(range(50))
    assert len(seen) == 51  # the one in hand when the link dropped was redelivered, once
    done = sorted(json.loads(o.body)["n"] for o in run.outcomes if o.action == "done")
    assert done == list(range(50))
    assert depth(f"{pfx}repo-loader-q") == 0


def declare(config: DaemonConfig) -> None:
    """Declare every service's queue and bindings, as the daemon does on start."""
    for name, service in config.services.items():
        consumer = ServiceConsumer(name, service, None)
        consumer.connect()
        consumer.close()


def _rabbitmqctl() -> str:
    """rabbitmqctl that can talk to the local broker, or skip saying why not."""
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        pytest.skip("rabbitmqctl is not here: the broker is not local, it cannot be restarted")
    probe = subprocess.run(
        [rabbitmqctl, "-q", "status"], capture_output=True, text=True, timeout=60, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"rabbitmqctl cannot reach the broker: {probe.stderr.strip()[:200]}")
    return rabbitmqctl


def test_broker_restart_mid_stream(pfx: str, tmp_path: Path) -> None:
    """``rabbitmqctl stop_app`` / ``start_app`` under 1 000 messages: each one's effect once.

    The broker is shared with other tests, so the outage is kept to about three
    seconds and ``start_app`` runs in a ``finally`` whatever happens.
    """
    rabbitmqctl = _rabbitmqctl()
    config = write_config(
        tmp_path, pfx, ["repo_loader"], repo_loader={**FAST, "max_redeliver_count": 5}
    )
    stored: dict[int, int] = {}  # the effect: n -> times written (an idempotent loader: once)
    calls: list[int] = []
    outage_done = threading.Event()
    outage_errors: list[str] = []

    def start_app() -> None:
        subprocess.run([rabbitmqctl, "-q", "start_app"], capture_output=True, timeout=120)

    def outage() -> None:
        try:
            subprocess.run(
                [rabbitmqctl, "-q", "stop_app"], capture_output=True, check=True, timeout=120
            )
            time.sleep(3)
        except (subprocess.SubprocessError, OSError) as exc:
            outage_errors.append(repr(exc))
        finally:
            start_app()
            outage_done.set()

    outage_thread = threading.Thread(target=outage)

    def work(key: str, payload: Mapping[str, Any]) -> str:
        n = int(payload["n"])
        calls.append(n)
        if n not in stored:  # what the loaders do: already stored means nothing to add
            stored[n] = 1
        if len(calls) == 300:
            outage_thread.start()  # the broker goes away while this message is in hand
            time.sleep(0.5)
        return "ok"

    declare(config)  # all 1000 confirmed on the queue before the outage can start
    publish_all(f"{pfx}repodb-ex", "repo.load", [{"n": n} for n in range(1000)])
    try:
        with running(config, lambda name: work) as run:
            run.wait_for(
                lambda got: (
                    len({json.loads(o.body)["n"] for o in got if o.action == "done"}) >= 1000
                ),
                timeout=300,
            )
    finally:
        if outage_thread.is_alive() or outage_thread.ident is None:
            outage_done.wait(120)
        start_app()  # a no-op when the broker is up; never leave it stopped
    assert outage_done.is_set() and not outage_errors, outage_errors
    assert sorted(stored) == list(range(1000)) and set(stored.values()) == {1}
    done = [json.loads(o.body)["n"] for o in run.outcomes if o.action == "done"]
    assert sorted(set(done)) == list(range(1000))
    assert not [o for o in run.outcomes if o.action in ("failed", "rejected")]
    # only what was unacked when the link broke came back, and at most once each
    redone = len(calls) - 1000
    assert 0 <= redone <= 2 and len(calls) - len(set(calls)) == redone
    assert depth(f"{pfx}repo-loader-q") == 0


def test_amqp_batch_size_takes_that_many_at_once(pfx: str, tmp_path: Path) -> None:
    """``amqp_batch_size`` 5: one poll takes 5 messages (unacked), then runs their loaders."""
    config = write_config(
        tmp_path, pfx, ["repo_loader"], repo_loader={**FAST, "amqp_batch_size": 5}
    )
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def work(key: str, payload: Mapping[str, Any]) -> str:
        calls.append(int(payload["n"]))
        started.set()
        release.wait(60)
        return "ok"

    declare(config)  # the queue and its binding exist before the daemon's first poll
    publish_all(f"{pfx}repodb-ex", "repo.load", [{"n": n} for n in range(10)])
    with running(config, lambda name: work) as run:
        assert started.wait(60)
        assert depth(f"{pfx}repo-loader-q") == 5  # 5 taken by the first poll, 5 ready
        release.set()
        run.wait_for(lambda got: sum(o.action == "done" for o in got) == 10)
    assert calls == list(range(10))  # one worker: in queue order
    assert depth(f"{pfx}repo-loader-q") == 0


def test_workers_count_runs_loaders_side_by_side(pfx: str, tmp_path: Path) -> None:
    """``workers_count`` 3: three loaders run at once (each waits for the other two)."""
    config = write_config(tmp_path, pfx, ["repo_loader"], repo_loader={**FAST, "workers_count": 3})
    together = threading.Barrier(3, timeout=30)
    lock = threading.Lock()
    running_now, most = 0, 0
    seen: list[int] = []

    def work(key: str, payload: Mapping[str, Any]) -> str:
        nonlocal running_now, most
        with lock:
            running_now += 1
            most = max(most, running_now)
            seen.append(int(payload["n"]))
        try:
            if int(payload["n"]) < 3:
                together.wait()  # raises BrokenBarrierError if fewer than 3 run at once
            else:
                time.sleep(0.01)
        finally:
            with lock:
                running_now -= 1
        return "ok"

    with running(config, lambda name: work) as run:
        publish_all(f"{pfx}repodb-ex", "repo.load", [{"n": n} for n in range(30)])
        run.wait_for(lambda got: sum(o.action == "done" for o in got) == 30)
        assert run.daemon.in_flight() == {}
    assert most == 3  # never more than workers_count
    assert sorted(seen) == list(range(30))  # each once
    assert not [o for o in run.outcomes if o.action != "done"]
    assert depth(f"{pfx}repo-loader-q") == 0


def test_stop_waits_for_every_worker(pfx: str, tmp_path: Path) -> None:
    """stop() with two loaders running on worker threads: both finish and are acked."""
    config = write_config(tmp_path, pfx, ["repo_loader"], repo_loader={**FAST, "workers_count": 2})
    both = threading.Barrier(3, timeout=30)
    release = threading.Event()

    def work(key: str, payload: Mapping[str, Any]) -> str:
        both.wait()
        release.wait(60)
        return "ok"

    declare(config)
    publish_all(f"{pfx}repodb-ex", "repo.load", [{"n": n} for n in range(3)])
    with running(config, lambda name: work) as run:
        both.wait()  # two loaders are in hand
        assert run.daemon.in_flight() == {"repo_loader": "repo.load, repo.load"}
        run.daemon.stop()
        release.set()
        run.thread.join(60)
        assert not run.thread.is_alive()
    assert sorted(json.loads(o.body)["n"] for o in run.outcomes) == [0, 1]
    assert {o.action for o in run.outcomes} == {"done"}
    assert depth(f"{pfx}repo-loader-q") == 1  # the third was never taken
