"""The daemon: every configured service polled in turn, in one process, until stopped.

The original runs each service in its own process with worker processes and a state
machine that restarts dead ones (§7.1). repotrack keeps the guarantees with less:
one loop in one process polls each service's queue in turn, taking up to
``amqp_batch_size`` messages at a time, and runs their loaders in-process, on
``workers_count`` threads of that service (inline when it is 1). A message is acked
only after its loader returned, so a daemon that dies (SIGKILL, a crash) loses
nothing: the broker redelivers what was unacked, and the loaders are idempotent. A
lost broker link is retried on the next poll. ``stop()`` (SIGTERM) lets the messages
in hand finish and settle, then closes the links and returns. The supervisor that
restarts a dead daemon is systemd (``Restart=on-failure``), not a second process of
ours.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from repotrack.daemon.config import DaemonConfig, NotifierConfig
from repotrack.daemon.consumer import LINK_ERRORS, BatchWork, Outcome, ServiceConsumer, Work

__all__ = ["Daemon", "DaemonStatus", "Notifier"]

log = logging.getLogger(__name__)

#: How many settled messages ``status`` remembers per service.
RECENT = 20
#: Seconds between two writes of the status file while messages flow.
STATUS_EVERY = 1.0


class Notifier:
    """Publishes ``<type>.<severity>`` reports to the notifier exchange (§7.5)."""

    def __init__(self, config: NotifierConfig) -> None:
        self.config = config
        self._connection: Any = None
        self._channel: Any = None

    def send(self, subject: str, severity: str, kind: str, message: str, payload: object) -> None:
        import pika

        from repotrack.daemon.consumer import connection_parameters

        body = {
            "subject": subject,
            "severity": severity,
            "type": kind,
            "message": message,
            "timestamp": time.time(),
            "payload": str(payload),
        }
        properties = pika.BasicProperties(content_type="application/json", delivery_mode=2)
        exchange = self.config.amqp.exchange
        try:
            if self._channel is None or not self._channel.is_open:
                params = connection_parameters(self.config.amqp, "notifier")
                self._connection = pika.BlockingConnection(params)
                self._channel = self._connection.channel()
                if not exchange.startswith("amq."):
                    self._channel.exchange_declare(exchange, exchange_type="topic", durable=True)
            key = f"{kind}.{severity}".lower()
            self._channel.basic_publish(exchange, key, json.dumps(body).encode(), properties)
        except LINK_ERRORS:  # a report must never stop the loaders
            log.warning("notifier cannot publish", exc_info=True)
            self._channel = None

    def close(self) -> None:
        if self._connection is not None and self._connection.is_open:
            try:
                self._connection.close()
            except LINK_ERRORS:
                log.debug("closing the notifier link", exc_info=True)
        self._connection = self._channel = None


@dataclass
class DaemonStatus:
    """What ``daemon status`` shows: per service, the counts and the recent outcomes."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    recent: dict[str, deque[Outcome]] = field(default_factory=dict)
    errors: dict[str, deque[Outcome]] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        counts = self.counts.setdefault(outcome.service, {})
        counts[outcome.action] = counts.get(outcome.action, 0) + 1
        self.recent.setdefault(outcome.service, deque(maxlen=RECENT)).append(outcome)
        if outcome.action in ("failed", "rejected"):
            self.errors.setdefault(outcome.service, deque(maxlen=RECENT)).append(outcome)


class Daemon:
    """Runs the services of ``config``; ``work(service)`` is the loader of a service, or None."""

    def __init__(
        self,
        config: DaemonConfig,
        work: Callable[[str], Work | None],
        *,
        on_outcome: Callable[[Outcome], None] | None = None,
        status_file: Path | None = None,
        batch_work: Callable[[str], BatchWork | None] | None = None,
    ) -> None:
        self.config = config
        self.status_file = status_file
        self._started = datetime.now(UTC)
        self._status_written = 0.0
        self.status = DaemonStatus()
        self._stop = threading.Event()
        #: Set when a loader on a worker thread returns (or on stop): poll again now.
        self._wake = threading.Event()
        self._on_outcome = on_outcome
        self.notifier = Notifier(config.notifier) if config.notifier else None
        self.consumers = [
            ServiceConsumer(
                name,
                service,
                work(name),
                on_outcome=self._settled,
                on_start=self._started_one,
                on_link_lost=functools.partial(self._link_lost, name),
                on_finished=self._wake.set,
                batch_work=batch_work(name) if batch_work is not None else None,
            )
            for name, service in config.services.items()
        ]

    def run(self, on_ready: Callable[[], None] | None = None) -> None:
        """Poll until ``stop()``; the message in hand is always settled first."""
        for consumer in self.consumers:
            consumer.try_connect()
        self._write_status("running", force=True)
        if on_ready is not None:
            on_ready()
        idle = min((c.config.idle_loop_sleep for c in self.consumers), default=1.0)
        try:
            while not self._stop.is_set():
                self._wake.clear()
                busy = False
                for consumer in self.consumers:
                    if self._stop.is_set():
                        break
                    busy = consumer.poll() or busy
                self._write_status("running")
                if not busy:
                    self._wake.wait(idle)
        finally:
            for consumer in self.consumers:
                consumer.drain()  # loaders running on worker threads finish and settle
                consumer.close()
            self._write_status("stopped", force=True)
            if self.notifier is not None:
                self.notifier.close()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _write_status(self, state: str, *, force: bool = False) -> None:
        """At most once a second (``force`` at start and stop); never fatal."""
        if self.status_file is None:
            return
        now = time.monotonic()
        if not force and now - self._status_written < STATUS_EVERY:
            return
        from repotrack.daemon.status import write_status

        errors = {
            name: [
                {"routing_key": o.routing_key, "action": o.action, "reason": o.reason}
                for o in outcomes
            ]
            for name, outcomes in self.status.errors.items()
        }
        try:
            write_status(
                self.status_file,
                self.consumers,
                self.status.counts,
                errors,
                state=state,
                started=self._started,
            )
        except OSError:
            log.warning("cannot write the status file %s", self.status_file, exc_info=True)
        self._status_written = now

    def _link_lost(self, service: str, reason: str) -> None:
        """The original reports a failed service as SERVICE_ERROR / WARNING."""
        if self.notifier is not None:
            payload = {"state": "FAILED", "reason": reason}
            self.notifier.send(service, "WARNING", "SERVICE_ERROR", reason, payload)

    def _started_one(self) -> None:
        self._write_status("running", force=True)  # shows the message in hand

    def in_flight(self) -> Mapping[str, str]:
        return {c.name: c.in_flight for c in self.consumers if c.in_flight is not None}

    def _settled(self, outcome: Outcome) -> None:
        self.status.add(outcome)
        if outcome.action == "failed" and self.notifier is not None:
            self.notifier.send(
                outcome.service, "CRITICAL", "SERVICE_WORKER_ERROR", outcome.reason, outcome.body
            )
        if self._on_outcome is not None:
            self._on_outcome(outcome)
