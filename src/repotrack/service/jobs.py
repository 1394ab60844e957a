"""Load jobs inside the service: one worker thread, jobs kept in memory.

Why a runner in the service at all: an embedded chDB store can be open in one process
only, and while ``repotrack serve`` runs that process is the service. A CLI load
therefore hands its parameters to the service (``POST /api/v1/loads``), and the
service runs the same core function the CLI would, ``repotrack.ingest.load_repo``,
against the store it already holds (for jobs of kind ``image``/``iso``,
``repotrack.ingest.image.load_image``, whose progress counts the MiB of its digest
pass: that is where it stops when asked, before anything is written). ``load task``,
``load package`` and ``tasks clean`` are jobs too (kinds ``task``, ``package``,
``task-clean``: the request types of ``ingest.task_jobs``); their summary carries the
lines the command prints. ``load vulns`` is one too (kind ``vulns``,
``ingest.vulns.VulnLoad``), its summary adding the records it could not read.

Why one thread: loads into one store run one at a time, in submission order (the
parallelism lives inside ``load_repo``'s worker processes). A second load of the same
branch and day then sees the first one's root row and fails "already loaded" instead
of racing it.

Why in memory: a job is a few hundred bytes and only matters while someone follows
it; the last ``KEEP_JOBS`` finished jobs are kept. A restart forgets them, which is
safe: a load interrupted by shutdown publishes nothing (its root row is written
last), and submitting it again finishes it, reading only what it had not stored.

Why a supervisor: a load may hang on its input or on the store, and it must not take
the runner or the service with it (issue 9: a FIFO as ``base/release`` left its job
``running``, the next ``queued`` forever, and SIGTERM could not stop the service). So
each load runs in a daemon thread of its own, and a supervisor thread starts loads in
order and ends each one that passes its deadline (``loads.job_timeout``), is cancelled
(``cancel``) or is running at shutdown: it asks the load to stop (``load_repo`` checks
between two packages, before anything is published) and, if the load has not stopped
within ``stop_grace`` seconds, abandons its thread, records the job as failed and
goes on. An abandoned thread can no longer publish: its next progress report raises.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from repotrack.errors import ConflictError, InputError, NotFoundError, RepotrackError, StoreError
from repotrack.ingest.repo import RepoLoad
from repotrack.ingest.task_jobs import (
    PackageLoadRequest,
    TaskCleanRequest,
    TaskJobSummary,
    TaskLoadRequest,
)

if TYPE_CHECKING:
    from repotrack.ingest import LoadSummary
    from repotrack.ingest.image import ImageLoad, ImageSummary
    from repotrack.ingest.vulns import VulnJobSummary, VulnLoad
    from repotrack.store import Store

__all__ = [
    "DEFAULT_JOB_TIMEOUT",
    "KEEP_JOBS",
    "MAX_WAIT",
    "STOP_GRACE",
    "Job",
    "JobError",
    "JobParams",
    "JobState",
    "LoadRunner",
    "RepoLoadParams",
    "job_when_ended",
]

log = logging.getLogger(__name__)

#: Finished jobs remembered (newest first in listings); also the most that may wait.
KEEP_JOBS = 100
#: Seconds a load may run before it is stopped (``loads.job_timeout``).
DEFAULT_JOB_TIMEOUT = 6 * 3600.0
#: Seconds a load asked to stop gets before its thread is abandoned.
STOP_GRACE = 5.0
#: The longest a ``GET /api/v1/loads/{id}?wait=`` is held open (a request thread each).
MAX_WAIT = 30.0

JobState = Literal["queued", "running", "done", "failed"]
_UNFINISHED: tuple[JobState, ...] = ("queued", "running")

#: What a job says when the service stopped under it (same remedy as a local Ctrl-C).
STOPPED_RUNNING = (
    "the service stopped during the load: nothing was published; submit it again to finish"
)
STOPPED_QUEUED = "the service stopped before the load started; submit it again"
CANCELLED = "cancelled: nothing was published"
STORE_FAILED = "the analytics store failed; the service log has the details"
INTERNAL = "internal error; the service log has the details"
ABANDONED = " (the load did not stop in time and was abandoned)"


def job_when_ended(
    jobs: dict[str, Job], ended: threading.Condition, job_id: str, wait: float
) -> Job:
    """A copy of job ``job_id`` once it has ended, or after ``wait`` seconds if it has
    not (the caller's lock is ``ended``'s, which is notified whenever a job ends).

    Why wait at all: a client following a job learns of its end when it ends, not at
    its next poll. A reload of known packages ends in a fraction of a second, which
    polling at fixed intervals turned into as much again of waiting (issue 8).
    """
    deadline = time.monotonic() + min(max(wait, 0.0), MAX_WAIT)
    with ended:
        while True:
            job = jobs.get(job_id)
            if job is None:
                raise NotFoundError(f"no load job {job_id}")
            left = deadline - time.monotonic()
            if job.state not in _UNFINISHED or left <= 0:
                return dataclasses.replace(job)
            ended.wait(left)


def timed_out(seconds: float) -> str:
    return (
        f"the load ran longer than {seconds:g} s (loads.job_timeout) and was stopped: "
        "nothing was published"
    )


#: A queued load's arguments: the ingest layer's own request type.
RepoLoadParams = RepoLoad
#: Any job's arguments: a repository load, an image/ISO load (``kind`` image|iso), or a
#: task-side command (``load task``, ``load package``, ``tasks clean``); ``kind`` tells
#: them apart.
JobParams: TypeAlias = (
    "RepoLoad | ImageLoad | TaskLoadRequest | PackageLoadRequest | TaskCleanRequest | VulnLoad"
)
LoadParams: TypeAlias = JobParams


@dataclass(frozen=True)
class JobError:
    """Why a job failed: the error's class name, its one-line message, the CLI exit status."""

    type: str
    message: str
    exit_code: int = 1


@dataclass
class Job:
    """One load job. The runner hands out copies; only the runner changes the original."""

    id: str
    kind: str
    params: JobParams
    submitted_at: datetime
    state: JobState = "queued"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    #: Packages done so far and how many of them were new (while running, and after).
    done: int = 0
    new: int = 0
    #: Packages planned (known once the tree is planned; ``None`` before).
    total: int | None = None
    summary: dict[str, Any] | None = None
    error: JobError | None = None
    #: The worker that ran it, for jobs sent to the job queue (``service.job_queue``).
    worker: str | None = None


class _Stopped(Exception):  # noqa: N818 - a signal between our own frames, not an error
    """Raised from the progress callback to end a load that was asked to stop."""


@dataclass
class _Control:
    """How the supervisor and a job's thread talk: stop requests, and the end of the job."""

    job: Job
    #: Why the load must stop (set once): a ``JobError`` to record.
    reason: JobError | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    #: Set when anything the supervisor waits for happens (end, cancel, shutdown).
    wake: threading.Event = field(default_factory=threading.Event)

    def ask_to_stop(self, reason: JobError) -> None:
        if self.reason is None:
            self.reason = reason
        self.stop.set()
        self.wake.set()


class _Progress:
    """``LoadProgress`` for a job: counts packages and is where a stop request lands.

    ``load_repo`` calls ``advance`` after every package, so raising here ends the
    load between two packages, before anything is published.
    """

    def __init__(self, control: _Control, lock: threading.Lock) -> None:
        self._control = control
        self._lock = lock

    def start(self, *, total: int) -> None:
        with self._lock:
            self._control.job.total = total

    def advance(self, *, new: bool) -> None:
        if self._control.stop.is_set():
            raise _Stopped
        with self._lock:
            self._control.job.done += 1
            self._control.job.new += int(new)


class LoadRunner:
    """Runs load jobs one at a time, in submission order, each within a deadline.

    ``store`` returns the service's store (it is not closed here: its owner closes it);
    ``migrate_store`` brings an embedded store's schema up to date before each load,
    as the CLI does (a ClickHouse server's schema is its administrator's business).
    ``check`` runs in the job before the load (the service confines paths with it).
    """

    def __init__(
        self,
        store: Callable[[], Store],
        *,
        migrate_store: bool,
        keep: int = KEEP_JOBS,
        job_timeout: float = DEFAULT_JOB_TIMEOUT,
        stop_grace: float = STOP_GRACE,
        check: Callable[[JobParams], None] | None = None,
    ) -> None:
        self._store = store
        self._migrate = migrate_store
        self._keep = keep
        self._timeout = job_timeout
        self._grace = stop_grace
        self._check = check
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._queue: deque[Job] = deque()
        self._lock = threading.Lock()
        self._queued = threading.Condition(self._lock)
        #: Notified whenever a job ends (``get``'s ``wait``).
        self._ended = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._current: _Control | None = None
        self._supervisor: threading.Thread | None = None
        self._clean_stop = True

    # -- the public face ------------------------------------------------------------

    def submit_repo_load(self, params: RepoLoadParams) -> Job:
        """Queue a repository load; raises ``InputError`` when ``path`` is not usable here."""
        if not params.path.is_absolute():
            raise InputError("must be an absolute path on the service's machine", field="path")
        if not params.path.is_dir():
            raise InputError(
                f"no such directory on the service's machine: {params.path}", field="path"
            )
        return self._queue_job(params, "repo")

    def submit_image_load(self, params: ImageLoad) -> Job:
        """Queue an image or ISO load; raises ``InputError`` when ``path`` is not usable here."""
        if not params.path.is_absolute():
            raise InputError("must be an absolute path on the service's machine", field="path")
        if not params.path.is_file():
            raise InputError(
                f"no such image file on the service's machine: {params.path}", field="path"
            )
        return self._queue_job(params, "iso" if params.meta.image_type == "iso" else "image")

    def submit_task_job(
        self, params: TaskLoadRequest | PackageLoadRequest | TaskCleanRequest
    ) -> Job:
        """Queue ``load task``, ``load package`` or ``tasks clean``; ``InputError`` when a
        path is not absolute or does not exist here (a file for ``package``, else a directory)."""
        for path in params.read_paths():
            if not path.is_absolute():
                raise InputError("must be an absolute path on the service's machine", field="path")
            usable = path.is_file() if params.kind == "package" else path.is_dir()
            if not usable:
                what = "file" if params.kind == "package" else "directory"
                raise InputError(f"no such {what} on the service's machine: {path}", field="path")
        return self._queue_job(params, params.kind)

    def submit_vuln_load(self, params: VulnLoad) -> Job:
        """Queue ``load vulns``; ``InputError`` when a local path is not absolute or does
        not exist here (URLs are fetched by the job)."""
        for path in params.read_paths():
            if not path.is_absolute():
                raise InputError("must be an absolute path on the service's machine", field="path")
            if not path.exists():
                raise InputError(
                    f"no such file or directory on the service's machine: {path}", field="path"
                )
        return self._queue_job(params, params.kind)

    def _queue_job(self, params: JobParams, kind: str) -> Job:
        job = Job(id=str(uuid.uuid4()), kind=kind, params=params, submitted_at=datetime.now(UTC))
        with self._lock:
            if self._stopping.is_set():
                raise ConflictError("the service is stopping; submit the load again later")
            waiting = sum(1 for j in self._jobs.values() if j.state in _UNFINISHED)
            if waiting >= self._keep:
                raise ConflictError(f"{waiting} load jobs are already waiting; try again later")
            self._jobs[job.id] = job
            self._forget_old()
            self._queue.append(job)
            self._start_supervisor()
            self._queued.notify()
            snapshot = dataclasses.replace(job)
        log.info("load job queued", extra={"job": job.id, "kind": job.kind})
        return snapshot

    def get(self, job_id: str, *, wait: float = 0.0) -> Job:
        """The job (a copy); with ``wait``, once it has ended or after ``wait`` seconds."""
        return job_when_ended(self._jobs, self._ended, job_id, wait)

    def recent(self, limit: int = KEEP_JOBS) -> list[Job]:
        """The newest ``limit`` jobs, newest first."""
        with self._lock:
            jobs = list(self._jobs.values())
        return [dataclasses.replace(job) for job in reversed(jobs[-limit:])] if limit > 0 else []

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued or running job and return it once it has ended.

        A queued job ends at once; a running one is asked to stop and, after
        ``stop_grace`` seconds at most, abandoned. ``ConflictError`` if it had finished.
        """
        error = JobError("Cancelled", CANCELLED)
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFoundError(f"no load job {job_id}")
            if job.state not in _UNFINISHED:
                raise ConflictError(f"load job {job_id} has already finished ({job.state})")
            control = self._current if self._current and self._current.job is job else None
            if control is None:
                self._queue.remove(job)
                self._finish(job, error=error)
                return dataclasses.replace(job)
            control.ask_to_stop(error)
        control.ended.wait(self._grace + 5.0)
        log.info("load job cancelled", extra={"job": job_id})
        return self.get(job_id)

    def shutdown(self) -> bool:
        """Stop: a running load ends between two packages, unpublished; queued ones never start.

        Returns within about ``stop_grace`` seconds whatever the load is doing; False
        when a load thread had to be abandoned (then its store must not be closed under
        it: the process is about to end anyway).
        """
        with self._lock:
            self._stopping.set()
            self._queued.notify_all()
            if self._current is not None:
                self._current.ask_to_stop(JobError("Interrupted", STOPPED_RUNNING))
            supervisor = self._supervisor
        if supervisor is not None:
            supervisor.join(self._grace + 5.0)
        with self._lock:
            while self._queue:
                self._finish(self._queue.popleft(), error=JobError("Interrupted", STOPPED_QUEUED))
            return self._clean_stop and (supervisor is None or not supervisor.is_alive())

    # -- the supervisor -------------------------------------------------------------

    def _start_supervisor(self) -> None:
        """Start the supervisor on first use (caller holds the lock)."""
        if self._supervisor is None:
            self._supervisor = threading.Thread(
                target=self._supervise, name="repotrack-load-supervisor", daemon=True
            )
            self._supervisor.start()

    def _supervise(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopping.is_set():
                    self._queued.wait()
                if self._stopping.is_set():
                    return
                job = self._queue.popleft()
                control = _Control(job)
                self._current = control
                job.state = "running"
                job.started_at = datetime.now(UTC)
            worker = threading.Thread(
                target=self._execute, args=(control,), name="repotrack-load", daemon=True
            )
            worker.start()
            self._watch(control)
            with self._lock:
                self._current = None

    def _watch(self, control: _Control) -> None:
        """Wait for the job to end, stopping it at its deadline; abandon it if it will not stop."""
        deadline = time.monotonic() + self._timeout
        while not control.ended.is_set() and not control.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                log.warning("load job passed its deadline", extra={"job": control.job.id})
                control.ask_to_stop(JobError("Timeout", timed_out(self._timeout)))
                break
            control.wake.wait(left)
            control.wake.clear()
        if control.ended.wait(self._grace):
            return
        log.error("load job did not stop; abandoning its thread", extra={"job": control.job.id})
        reason = control.reason or JobError("Interrupted", STOPPED_RUNNING)
        with self._lock:
            self._clean_stop = False
            if control.job.state == "running":
                self._finish(
                    control.job,
                    error=dataclasses.replace(reason, message=reason.message + ABANDONED),
                )
        control.ended.set()

    # -- a job's own thread ---------------------------------------------------------

    def _execute(self, control: _Control) -> None:
        job = control.job
        try:
            summary = self._load(control)
        except _Stopped:
            log.warning("load job stopped", extra={"job": job.id})
            error = control.reason or JobError("Interrupted", STOPPED_RUNNING)
        except RepotrackError as exc:
            error = _job_error(job, exc)
        except Exception:
            log.exception("load job failed unexpectedly", extra={"job": job.id})
            error = JobError("InternalError", INTERNAL)
        else:
            with self._lock:
                if job.state == "running":
                    self._finish(job, summary=_summary_dict(summary))
            control.ended.set()
            control.wake.set()
            log.info("load job done", extra={"job": job.id, "summary": _summary_line(summary)})
            return
        with self._lock:
            if job.state == "running":  # not abandoned meanwhile
                self._finish(job, error=error)
        control.ended.set()
        control.wake.set()

    def _load(
        self, control: _Control
    ) -> LoadSummary | ImageSummary | TaskJobSummary | VulnJobSummary:
        from repotrack.store import migrate

        if self._check is not None:
            self._check(control.job.params)
        store = self._store()
        if control.stop.is_set():
            raise _Stopped
        if self._migrate:
            migrate(store)
        return control.job.params.run(store, _Progress(control, self._lock))

    # -- bookkeeping (callers hold the lock) -----------------------------------------

    def _finish(
        self, job: Job, *, summary: dict[str, Any] | None = None, error: JobError | None = None
    ) -> None:
        job.state = "failed" if error is not None else "done"
        job.summary = summary
        job.error = error
        job.finished_at = datetime.now(UTC)
        self._ended.notify_all()

    def _forget_old(self) -> None:
        """Drop the oldest finished jobs beyond ``keep``; waiting ones are never dropped."""
        excess = len(self._jobs) - self._keep
        for job_id in [j.id for j in self._jobs.values() if j.state not in _UNFINISHED]:
            if excess <= 0:
                break
            del self._jobs[job_id]
            excess -= 1


def _job_error(job: Job, exc: RepotrackError) -> JobError:
    """The error as the CLI would show it; a store's text (paths, servers) stays in the log."""
    if isinstance(exc, StoreError):
        log.error("load job: store error: %s", exc, extra={"job": job.id})
        return JobError(type(exc).__name__, STORE_FAILED, exc.exit_code)
    log.info("load job failed: %s", exc, extra={"job": job.id})
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return JobError(type(exc).__name__, message, exc.exit_code)


def _summary_line(summary: LoadSummary | ImageSummary | TaskJobSummary | VulnJobSummary) -> str:
    from repotrack.ingest.vulns import VulnJobSummary

    if isinstance(summary, TaskJobSummary | VulnJobSummary):
        return "; ".join(summary.lines)
    return summary.line()


def _summary_dict(
    summary: LoadSummary | ImageSummary | TaskJobSummary | VulnJobSummary,
) -> dict[str, Any]:
    from repotrack.ingest.image import ImageSummary
    from repotrack.ingest.vulns import VulnJobSummary

    if isinstance(summary, ImageSummary | TaskJobSummary | VulnJobSummary):
        return summary.as_dict()
    return {
        "branch": summary.branch,
        "date": summary.date.isoformat(),
        "tag": summary.tag,
        "kind": summary.kind,
        "root_uuid": str(summary.root_uuid),
        "packages": summary.packages,
        "new": summary.new,
        "known": summary.known,
        "files": summary.files,
        "seconds": round(summary.seconds, 3),
        "bad": [{"file": name, "reason": reason} for name, reason in summary.bad],
        "line": summary.line(),
    }
