"""Load jobs sent to a broker queue, for ``repotrack daemon --worker`` processes to run.

With ``[queue] url = "amqp://user:pw@host:5672/vhost"`` the service does not run
loads itself: ``POST /api/v1/loads`` (and so ``repotrack load repo --via-service``)
publishes the job to the durable quorum queue ``repotrack-jobs``, and any worker, on
this machine or another, takes it. The worker reports back on the service's own
results queue (named in each job as ``reply_to``): ``started``, ``progress`` (at most
once a second), then ``done`` with the summary or ``failed`` with the error. The
service keeps the jobs in memory, as the in-process runner does, so
``GET /api/v1/loads/{id}`` shows them the same way, plus the worker that ran each.

Wire format (JSON, UTF-8), both ways through the default exchange:

- job, routing key ``repotrack-jobs`` (the queue's name, ``?queue=`` in the URL):
  ``{"id": "<uuid>", "kind": "repo", "params": <RepoLoad.as_dict()>, "reply_to": "<queue>"}``
- event, routing key ``<reply_to>``: ``{"id": ..., "event": "started" | "progress" |
  "done" | "failed", "worker": "<host> pid <n>", "done": n, "new": n, "total": n | null,
  "summary": {...} | null, "error": {"type", "message", "exit_code"} | null}``

A job stays unacked until its worker has finished it, so a worker that dies leaves it
to the next one; a load is idempotent, and a job delivered again after its load was
published reports ``ConflictError`` ("already loaded") rather than loading twice.
Events published while the service is away are lost with its in-memory jobs; the
loads themselves are not.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from repotrack.errors import ConfigError, ConflictError, InputError, StoreError
from repotrack.service.jobs import KEEP_JOBS, Job, JobError, RepoLoadParams, job_when_ended

__all__ = [
    "JOBS_QUEUE",
    "QUEUE_ARGUMENTS",
    "BrokerURL",
    "QueuedLoadRunner",
    "job_message",
    "parse_broker_url",
    "scan_message",
    "start_queued_scans",
]

log = logging.getLogger(__name__)

#: The queue every worker takes jobs from (through the default exchange).
JOBS_QUEUE = "repotrack-jobs"
#: Declared the same way by the service and the workers (a mismatch is a broker error).
QUEUE_ARGUMENTS: dict[str, Any] = {"x-queue-type": "quorum"}
#: Seconds the results thread waits for an event before it looks at its stop flag.
POLL = 0.5
RECONNECT_DELAY = 2.0


@dataclass(frozen=True)
class BrokerURL:
    """``amqp://user:pw@host:port/vhost[?queue=name]`` taken apart.

    ``amqps://`` needs ``?cacert=/path/to/ca.pem``. The vhost is the URL's path with
    ``%2F`` for ``/`` (``amqp://host/%2F``); an empty path means ``/``.
    """

    host: str
    port: int
    vhost: str
    username: str
    password: str
    cacert: str | None = None
    #: The jobs queue (``?queue=``): separate deployments may share one broker.
    queue: str = "repotrack-jobs"

    def parameters(self, name: str) -> Any:
        """pika connection parameters (pika is imported only when a broker is used)."""
        import ssl

        import pika

        ssl_options = None
        if self.cacert:
            context = ssl.create_default_context(cafile=self.cacert)
            ssl_options = pika.SSLOptions(context, self.host)
        return pika.ConnectionParameters(
            host=self.host,
            port=self.port,
            virtual_host=self.vhost,
            credentials=pika.PlainCredentials(self.username, self.password),
            ssl_options=ssl_options,
            heartbeat=0,
            connection_attempts=1,
            client_properties={"connection_name": name},
        )


def parse_broker_url(url: str) -> BrokerURL | None:
    """The broker of ``[queue] url``; None for ``memory://`` (loads run in-process)."""
    if url == "memory://":
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("amqp", "amqps"):
        raise ConfigError(
            f"expected memory:// or amqp://user:pw@host:5672/vhost, got scheme {parts.scheme!r}",
            key="queue.url",
        )
    query = parse_qs(parts.query)
    cacert = query.get("cacert", [None])[0]
    if parts.scheme == "amqps" and not cacert:
        raise ConfigError("amqps:// needs ?cacert=/path/to/ca.pem", key="queue.url")
    try:
        port = parts.port or (5671 if parts.scheme == "amqps" else 5672)
    except ValueError as exc:
        raise ConfigError(f"bad port: {exc}", key="queue.url") from exc
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    return BrokerURL(
        host=parts.hostname or "localhost",
        port=port,
        vhost=vhost,
        username=unquote(parts.username or "guest"),
        password=unquote(parts.password or "guest"),
        cacert=cacert,
        queue=query.get("queue", [JOBS_QUEUE])[0],
    )


def job_message(job_id: str, params: RepoLoadParams, reply_to: str) -> bytes:
    body = {"id": job_id, "kind": "repo", "params": params.as_dict(), "reply_to": reply_to}
    return json.dumps(body).encode()


class QueuedLoadRunner:
    """``LoadRunner``'s face over the broker: jobs are published, workers run them.

    ``submit_repo_load`` publishes (with publisher confirms, so a job the broker did
    not take is an error at once, never a job that waits forever); a thread reads the
    workers' events into the jobs kept here.
    """

    #: Seconds a first submit waits for the link that receives the workers' events.
    listen_timeout = 10.0

    def __init__(self, broker: BrokerURL, *, keep: int = KEEP_JOBS) -> None:
        self._broker = broker
        self._keep = keep
        self.reply_to = f"repotrack-results-{uuid.uuid4().hex[:12]}"
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        #: Notified whenever a job ends (``get``'s ``wait``).
        self._ended = threading.Condition(self._lock)
        self._publisher = _Publisher(broker, "repotrack service jobs")
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the public face ------------------------------------------------------------

    def submit_repo_load(self, params: RepoLoadParams) -> Job:
        if not params.path.is_absolute():
            raise InputError("must be an absolute path on the workers' machines", field="path")
        self._start_listener()
        job = Job(id=str(uuid.uuid4()), kind="repo", params=params, submitted_at=datetime.now(UTC))
        with self._lock:
            if self._stopping.is_set():
                raise ConflictError("the service is stopping; submit the load again later")
            self._jobs[job.id] = job
            self._forget_old()
        try:
            self._publish(job_message(job.id, params, self.reply_to))
        except Exception:
            with self._lock:
                del self._jobs[job.id]
            raise
        log.info("load job sent to the queue", extra={"job": job.id, "branch": params.branch})
        return self.get(job.id)

    def submit_image_load(self, params: object) -> Job:
        """Image and ISO loads are not sent to the queue: workers run repository loads."""
        del params
        raise InputError(
            "image and ISO loads are not sent to the job queue: run them on a machine "
            "that holds the store (repotrack load image|iso), or without [queue] url",
            field="kind",
        )

    def submit_task_job(self, params: object) -> Job:
        """Task-side jobs are not sent to the queue either (see ``submit_image_load``)."""
        del params
        raise InputError(
            "task, package and task-clean jobs are not sent to the job queue: the daemon's "
            "task_loader service takes girar's task messages; run the command on a machine "
            "that holds the store, or without [queue] url",
            field="kind",
        )

    def submit_vuln_load(self, params: object) -> Job:
        """Vulnerability feed loads are not sent to the queue either: workers run
        repository loads only."""
        del params
        raise InputError(
            "vulnerability feed loads are not sent to the job queue: run repotrack load "
            "vulns on a machine that holds the store, or without [queue] url",
            field="kind",
        )

    def get(self, job_id: str, *, wait: float = 0.0) -> Job:
        """The job (a copy); with ``wait``, once a worker reported its end or after
        ``wait`` seconds."""
        return job_when_ended(self._jobs, self._ended, job_id, wait)

    def recent(self, limit: int = KEEP_JOBS) -> list[Job]:
        with self._lock:
            jobs = list(self._jobs.values())
        return [dataclasses.replace(job) for job in reversed(jobs[-limit:])] if limit > 0 else []

    def cancel(self, job_id: str) -> Job:
        self.get(job_id)
        raise ConflictError(
            "this job was sent to the job queue; a worker's load cannot be cancelled from here"
        )

    def shutdown(self) -> bool:
        """Stop listening; jobs still on the queue stay there for the workers."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(POLL + 5.0)
        self._publisher.close()
        return True

    # -- publishing -----------------------------------------------------------------

    def _publish(self, body: bytes) -> None:
        self._publisher.publish(body)

    def _open(self, name: str) -> Any:
        return _open(self._broker, name)

    @staticmethod
    def _close(channel: Any) -> None:
        _close(channel)

    # -- the workers' events ----------------------------------------------------------

    def _start_listener(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._listen, name="repotrack-job-events", daemon=True
                )
                self._thread.start()
        if not self._listening.wait(self.listen_timeout):
            raise StoreError("the job queue ([queue] url) is not reachable; try again later")

    def _listen(self) -> None:
        import pika.exceptions

        while not self._stopping.is_set():
            channel = None
            try:
                channel = self._open("repotrack service job events")
                channel.queue_declare(self.reply_to, exclusive=True, auto_delete=True)
                self._listening.set()
                for method, _props, body in channel.consume(
                    self.reply_to, auto_ack=True, inactivity_timeout=POLL
                ):
                    if self._stopping.is_set():
                        break
                    if method is not None:
                        self._event(body)
            except (pika.exceptions.AMQPError, OSError) as exc:
                log.warning("job events: broker link lost (%s); retrying", exc)
                self._listening.clear()
                self._stopping.wait(RECONNECT_DELAY)
            finally:
                self._close(channel)

    def _event(self, body: bytes) -> None:
        try:
            event = json.loads(body)
            job_id = str(event["id"])
            kind = str(event["event"])
        except (ValueError, KeyError, TypeError):
            log.warning("job events: not an event: %r", body[:200])
            return
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return  # forgotten, or from before a restart
            if event.get("worker"):
                job.worker = str(event["worker"])
            if job.state in ("done", "failed"):
                return  # a late progress event, or a redelivered job's second report
            job.done = int(event.get("done") or job.done)
            job.new = int(event.get("new") or job.new)
            if event.get("total") is not None:
                job.total = int(event["total"])
            if kind in ("started", "progress"):
                if job.state == "queued":
                    job.state = "running"
                    job.started_at = datetime.now(UTC)
            elif kind == "done":
                job.started_at = job.started_at or datetime.now(UTC)
                job.state = "done"
                job.summary = event.get("summary")
                job.finished_at = datetime.now(UTC)
                self._ended.notify_all()
            elif kind == "failed":
                error = event.get("error") or {}
                job.started_at = job.started_at or datetime.now(UTC)
                job.state = "failed"
                job.error = JobError(
                    str(error.get("type", "Error")),
                    str(error.get("message", "")),
                    int(error.get("exit_code", 1)),
                )
                job.finished_at = datetime.now(UTC)
                self._ended.notify_all()

    def _forget_old(self) -> None:
        """Drop the oldest finished jobs beyond ``keep`` (caller holds the lock)."""
        excess = len(self._jobs) - self._keep
        for job_id in [j.id for j in self._jobs.values() if j.state in ("done", "failed")]:
            if excess <= 0:
                break
            del self._jobs[job_id]
            excess -= 1


def _open(broker: BrokerURL, name: str) -> Any:
    """A channel on a new connection, with the jobs queue declared."""
    import pika

    connection = pika.BlockingConnection(broker.parameters(name))
    channel = connection.channel()
    channel.queue_declare(broker.queue, durable=True, arguments=QUEUE_ARGUMENTS)
    return channel


def _close(channel: Any) -> None:
    if channel is not None and channel.connection.is_open:
        try:
            channel.connection.close()
        except Exception:  # closing a broken link: nothing left to save
            log.debug("closing a broken broker link", exc_info=True)


class _Publisher:
    """Publishes to the jobs queue with confirms, from any thread (one link, a lock)."""

    def __init__(self, broker: BrokerURL, name: str) -> None:
        self._broker = broker
        self._name = name
        self._lock = threading.Lock()
        self._channel: Any = None

    def publish(self, body: bytes, *, expiration: float | None = None) -> None:
        """Publish ``body`` (persistent); ``expiration`` seconds drops it unread after that."""
        import pika
        import pika.exceptions

        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=2,
            expiration=str(int(expiration * 1000)) if expiration else None,
        )
        with self._lock:
            for attempt in (1, 2):  # a link that dropped since the last job: once more
                try:
                    if self._channel is None or not self._channel.is_open:
                        self._channel = _open(self._broker, self._name)
                        self._channel.confirm_delivery()
                    self._channel.basic_publish(
                        "", self._broker.queue, body, properties, mandatory=True
                    )
                    return
                except (pika.exceptions.AMQPError, OSError) as exc:
                    _close(self._channel)
                    self._channel = None
                    if attempt == 2:
                        log.error("cannot publish a job: %s", exc)
                        raise StoreError(
                            "the job queue ([queue] url) is not reachable; try again later"
                        ) from exc

    def close(self) -> None:
        with self._lock:
            _close(self._channel)
            self._channel = None


def scan_message() -> bytes:
    return json.dumps({"id": str(uuid.uuid4()), "kind": "scan"}).encode()


def start_queued_scans(broker: BrokerURL, interval: float) -> Callable[[], None]:
    """Instead of scanning: send a scan job every ``interval`` seconds; returns the stop.

    The first goes out at once, as the in-process scheduler's first scan does. A scan
    job not taken within ``interval`` expires on the queue (the next one replaces it),
    so slow or absent workers never face a pile of scans. The worker that takes it
    runs ``Tracker.scan``; the per-item locks keep two scans (two workers, or a
    ``repotrack track run``) from running one item twice, and the runs are recorded in
    the state database, where the API reads them.
    """
    publisher = _Publisher(broker, "repotrack service scans")
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                publisher.publish(scan_message(), expiration=interval)
                log.info("tracking scan sent to the job queue")
            except StoreError:
                log.warning("tracking scan not sent: the job queue is not reachable")
            stop.wait(interval)

    thread = threading.Thread(target=loop, name="repotrack-scan-jobs", daemon=True)
    thread.start()

    def stop_scans() -> None:
        stop.set()
        thread.join(10.0)
        publisher.close()

    return stop_scans
