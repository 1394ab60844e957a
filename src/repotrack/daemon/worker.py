"""``repotrack daemon --worker``: run the jobs the service sent to ``[queue] url``.

Two kinds of job: a repository load (``POST /api/v1/loads``), reported back to the
service, and a tracking scan (sent every ``scan_interval`` by a service that would
otherwise scan itself), whose runs are recorded in the state database.

The worker is the daemon's loop over one more service, ``repotrack_jobs``, whose queue
is ``repotrack-jobs`` (``service.job_queue`` describes the messages). So it has the
daemon's guarantees: a job is acked only once its load has ended, a lost broker is
retried, SIGTERM finishes the job in hand, and the status file shows what it does.

A job's outcome, good or bad, goes back to the service as an event and the message is
acked: a load that failed (``ConflictError`` "already loaded", a bad package) would
fail the same way on any worker. Only a worker that dies leaves its job unacked, for
the broker to hand to the next worker.

Many workers on many machines need a store they can all write: a ClickHouse server
(``[store] url``). The embedded chDB store is one process's: the worker takes it when
it starts, and a second worker on the same store stops at once saying so.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from repotrack.config import Settings
from repotrack.daemon.config import AmqpConfig, AmqpQueue, DaemonConfig, ServiceConfig
from repotrack.daemon.consumer import Work
from repotrack.errors import ConfigError, InputError, RepotrackError, StoreError
from repotrack.service.job_queue import QUEUE_ARGUMENTS, BrokerURL, parse_broker_url
from repotrack.store import Store

__all__ = ["JOBS_SERVICE", "job_work", "worker_config"]

log = logging.getLogger(__name__)

JOBS_SERVICE = "repotrack_jobs"
#: Seconds between two progress events of one job.
PROGRESS_EVERY = 1.0
STORE_FAILED = "the analytics store failed; the worker's log has the details"
INTERNAL = "internal error; the worker's log has the details"


def broker_of(settings: Settings) -> BrokerURL:
    broker = parse_broker_url(settings.queue.url)
    if broker is None:
        raise ConfigError(
            "is memory://: loads run inside the service; set an amqp:// URL for workers",
            key="queue.url",
            source=str(settings.config_file) if settings.config_file else None,
        )
    return broker


def worker_config(
    broker: BrokerURL, *, workers_count: int = 1, idle_loop_sleep: float = 1.0
) -> DaemonConfig:
    """The daemon's configuration of a worker: one service on ``repotrack-jobs``."""
    service = ServiceConfig(
        workers_count=workers_count,
        idle_loop_sleep=idle_loop_sleep,
        routing_key=broker.queue,  # published through the default exchange
        amqp=AmqpConfig(
            host=broker.host,
            port=broker.port,
            vhost=broker.vhost,
            username=broker.username,
            password=SecretStr(broker.password),
            cacert=broker.cacert,
            queue=AmqpQueue(name=broker.queue, type="quorum", arguments=dict(QUEUE_ARGUMENTS)),
        ),
    )
    return DaemonConfig(services={JOBS_SERVICE: service})


class _Events:
    """Publishes a job's events to the service's ``reply_to`` queue (one link per thread)."""

    def __init__(self, broker: BrokerURL, worker: str) -> None:
        self._broker = broker
        self.worker = worker
        self._local = threading.local()

    def send(self, reply_to: str, job_id: str, event: str, **fields: Any) -> None:
        import pika
        import pika.exceptions

        body = json.dumps({"id": job_id, "event": event, "worker": self.worker, **fields})
        for attempt in (1, 2):
            try:
                channel = getattr(self._local, "channel", None)
                if channel is None or not channel.is_open:
                    connection = pika.BlockingConnection(
                        self._broker.parameters(f"repotrack worker events {self.worker}")
                    )
                    channel = self._local.channel = connection.channel()
                channel.basic_publish("", reply_to, body.encode(), pika.BasicProperties())
                return
            except (pika.exceptions.AMQPError, OSError):
                self._local.channel = None
                if attempt == 2:  # the service learns nothing; the load itself stands
                    log.warning("cannot report %s of job %s", event, job_id, exc_info=True)


class _Progress:
    def __init__(self, events: _Events, reply_to: str, job_id: str) -> None:
        self._events, self._reply_to, self._id = events, reply_to, job_id
        self.done = self.new = 0
        self.total: int | None = None
        self._sent = 0.0

    def start(self, *, total: int) -> None:
        self.total = total
        self._send()

    def advance(self, *, new: bool) -> None:
        self.done += 1
        self.new += int(new)
        if time.monotonic() - self._sent >= PROGRESS_EVERY:
            self._send()

    def _send(self) -> None:
        self._sent = time.monotonic()
        self._events.send(
            self._reply_to, self._id, "progress", done=self.done, new=self.new, total=self.total
        )


def job_work(store: Store, settings: Settings, broker: BrokerURL) -> Work:
    """The daemon's work function for ``repotrack_jobs``: run one job, report it."""
    from repotrack.ingest.repo import RepoLoad
    from repotrack.service.confine import Confinement
    from repotrack.service.jobs import _summary_dict
    from repotrack.store import migrate

    events = _Events(broker, f"{socket.gethostname()} pid {os.getpid()}")
    roots = settings.loads.allowed_roots
    confinement = Confinement(roots) if roots else None
    migrate_store = settings.store_url.startswith("chdb:")

    tracker: list[Any] = []  # made on the first scan job: the state database is opened then

    def scan() -> str:
        from repotrack.state import StateDB
        from repotrack.tracking.gc import prune_caches
        from repotrack.tracking.pipeline import Tracker

        if not tracker:
            tracker.append(Tracker(settings, StateDB(settings.state_url)))
        results = tracker[0].scan()
        failed = sum(1 for r in results if r.outcome == "failed")
        try:
            prune_caches(settings, tracker[0].db)
        except Exception:  # the next scan prunes again
            log.exception("pruning git caches failed")
        return f"tracking scan: {len(results)} items, {failed} failed"

    def work(routing_key: str, payload: Mapping[str, Any]) -> str:
        if payload.get("kind") == "scan":
            return scan()
        try:
            job_id = str(payload["id"])
            reply_to = str(payload["reply_to"])
            params = payload["params"]
            if payload.get("kind") != "repo" or not isinstance(params, dict):
                raise InputError("only repo load jobs are known", field="kind")
            load = RepoLoad(
                branch=str(params["branch"]),
                path=Path(str(params["path"])),
                date=_date(params["date"]),
                tag=str(params.get("tag", "")),
                force=bool(params.get("force", False)),
                workers=int(params.get("workers", 1)),
                skip_bad=bool(params.get("skip_bad", False)),
                verify_known=bool(params.get("verify_known", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:  # no id or no reply_to: nobody to tell
            raise InputError(f"not a repotrack job: {exc}") from exc
        events.send(reply_to, job_id, "started")
        progress = _Progress(events, reply_to, job_id)
        try:
            if confinement is not None:
                confinement.check_job(load)
            if migrate_store:
                migrate(store)
            summary = load.run(store, progress)
        except RepotrackError as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if isinstance(exc, StoreError):
                log.error("job %s: store error: %s", job_id, exc)
                message = STORE_FAILED
            error = {"type": type(exc).__name__, "message": message, "exit_code": exc.exit_code}
            events.send(reply_to, job_id, "failed", error=error, **_counts(progress))
            return f"job {job_id}: {error['type']}: {message}"
        except Exception:
            log.exception("job %s failed unexpectedly", job_id)
            error = {"type": "InternalError", "message": INTERNAL, "exit_code": 1}
            events.send(reply_to, job_id, "failed", error=error, **_counts(progress))
            raise
        events.send(reply_to, job_id, "done", summary=_summary_dict(summary), **_counts(progress))
        return f"job {job_id}: {summary.line()}"

    return work


def _date(value: object) -> Any:
    from datetime import date

    return date.fromisoformat(str(value))


def _counts(progress: _Progress) -> dict[str, Any]:
    return {"done": progress.done, "new": progress.new, "total": progress.total}


def worker_store_locked(exc: StoreError) -> StoreError:
    """The lock error a second worker on an embedded store gets, in a worker's words."""
    from repotrack.errors import StoreLockedError

    text = str(exc).split(": the repotrack service", 1)[0]
    return StoreLockedError(
        f"{text}. With the embedded chDB store one process owns the store: run one "
        "worker here (and no repotrack serve that loads), or give every worker a "
        "ClickHouse server ([store] url) to share"
    )
