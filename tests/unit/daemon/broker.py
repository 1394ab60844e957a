"""Helpers for tests against the real RabbitMQ: private names, a daemon in a thread, cleanup."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pika

from repotrack.daemon.config import DaemonConfig, load_daemon_config
from repotrack.daemon.consumer import BatchWork, Outcome, Work
from repotrack.daemon.service import Daemon
from tests.unit.daemon.examples import service_files, write_examples

#: Queues made by ``listen``; ``cleanup`` deletes those of its prefix.
_LISTENERS: list[str] = []

EXCHANGES = ("girar-ex", "repodb-ex", "bugzilla-ex", "uploaded-ex", "notifier-ex", "dlx")


def prefix() -> str:
    return f"rt-test-{uuid.uuid4().hex[:8]}-"


def channel() -> Any:
    connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672))
    return connection.channel()


def publish(exchange: str, key: str, body: bytes | dict[str, Any]) -> None:
    ch = channel()
    ch.confirm_delivery()  # see publish_all
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    ch.basic_publish(exchange, key, raw, pika.BasicProperties(content_type="application/json"))
    ch.connection.close()


def publish_all(exchange: str, key: str, bodies: list[dict[str, Any]]) -> None:
    """Many messages over one connection, each confirmed by the broker.

    Unconfirmed publishes to a quorum queue can be lost when the publisher closes its
    connection at once: under heavy load RabbitMQ 3.10 was seen to drop some of a
    closing channel's pending enqueues (15 of 200, with no error anywhere). With
    confirms, the channel resends what was dropped and the publish waits for it.
    """
    ch = channel()
    ch.confirm_delivery()
    for body in bodies:
        ch.basic_publish(exchange, key, json.dumps(body).encode(), pika.BasicProperties())
    ch.connection.close()


def listen(exchange: str, pattern: str = "#") -> str:
    """A private queue bound to ``exchange`` (declared if needed); returns its name."""
    ch = channel()
    ch.exchange_declare(exchange, exchange_type="topic", durable=True)
    name = f"{exchange}-listen-{uuid.uuid4().hex[:6]}"
    _LISTENERS.append(name)
    ch.queue_declare(name, durable=False)
    ch.queue_bind(name, exchange, routing_key=pattern)
    ch.connection.close()
    return name


def drain(queue: str) -> list[tuple[str, bytes]]:
    ch = channel()
    got = []
    while True:
        method, _props, body = ch.basic_get(queue, auto_ack=True)
        if method is None:
            break
        got.append((method.routing_key, body))
    ch.connection.close()
    return got


def depth(queue: str) -> int:
    ch = channel()
    count = int(ch.queue_declare(queue, passive=True).method.message_count)
    ch.connection.close()
    return count


def wait_depth(queue: str, count: int, timeout: float = 10.0) -> int:
    """The queue's ready count once it is ``count`` (or at ``timeout``).

    A closed connection's unacked messages go back to the queue asynchronously (a
    quorum queue commits the return through its log), so a count read at once may
    be short.
    """
    deadline = time.monotonic() + timeout
    while True:
        got = depth(queue)
        if got == count or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def cleanup(pfx: str) -> None:
    """Delete every queue and exchange named with ``pfx``."""
    ch = channel()
    for name in service_files(pfx):
        ch.queue_delete(service_files(pfx)[name]["amqp"]["queue"]["name"])
    for exchange in EXCHANGES:
        ch.exchange_delete(pfx + exchange)
    for name in [n for n in _LISTENERS if n.startswith(pfx)]:
        ch.queue_delete(name)
        _LISTENERS.remove(name)
    ch.connection.close()


def write_config(root: Path, pfx: str, only: list[str], **changes: Any) -> DaemonConfig:
    """The example files for ``only``; ``changes`` maps service -> keys to override."""
    config, services = write_examples(root, pfx, only)
    for name, extra in changes.items():
        path = services / f"{name}.json"
        body = json.loads(path.read_text())
        queue_args = extra.pop("queue_arguments", None)
        body.update(extra)
        if queue_args:
            body["amqp"]["queue"]["arguments"] = queue_args
        path.write_text(json.dumps(body))
    return load_daemon_config(config, services)


class Running:
    """A daemon in a thread that records every outcome."""

    def __init__(
        self,
        config: DaemonConfig,
        work: Callable[[str], Work | None],
        batch_work: Callable[[str], BatchWork | None] | None = None,
    ) -> None:
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self.daemon = Daemon(config, work, on_outcome=self._record, batch_work=batch_work)
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self.daemon.run, args=(self._ready.set,))

    def _record(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def wait_for(self, predicate: Callable[[list[Outcome]], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if predicate(list(self.outcomes)):
                    return
            time.sleep(0.05)
        raise AssertionError(f"not reached in {timeout} s; outcomes: {self.outcomes}")


@contextmanager
def running(
    config: DaemonConfig,
    work: Callable[[str], Work | None],
    batch_work: Callable[[str], BatchWork | None] | None = None,
) -> Iterator[Running]:
    run = Running(config, work, batch_work)
    run.thread.start()
    run._ready.wait(30)
    try:
        yield run
    finally:
        run.daemon.stop()
        run.thread.join(60)
