"""Load jobs inside the service: one worker thread, jobs kept in memory.

Why a runner in the service at all: an embedded chDB store can be open in one process
only, and while ``repotrack serve`` runs that process is the service. A CLI load
therefore hands its parameters to the service (``POST /api/v1/loads``), and the
service runs the same core function the CLI would, ``repotrack.ingest.load_repo``,
against the store it already holds.

Why one thread: loads into one store run one at a time, in submission order (the
parallelism lives inside ``load_repo``'s worker processes). A second load of the same
branch and day then sees the first one's root row and fails "already loaded" instead
of racing it.

Why in memory: a job is a few hundred bytes and only matters while someone follows
it; the last ``KEEP_JOBS`` finished jobs are kept. A restart forgets them, which is
safe: a load interrupted by shutdown publishes nothing (its root row is written
last), and submitting it again finishes it, reading only what it had not stored.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from repotrack.errors import ConflictError, InputError, NotFoundError, RepotrackError, StoreError
from repotrack.ingest.repo import RepoLoad

if TYPE_CHECKING:
    from repotrack.ingest import LoadSummary
    from repotrack.store import Store

__all__ = [
    "KEEP_JOBS",
    "Job",
    "JobError",
    "JobState",
    "LoadRunner",
    "RepoLoadParams",
]

log = logging.getLogger(__name__)

#: Finished jobs remembered (newest first in listings); also the most that may wait.
KEEP_JOBS = 100

JobState = Literal["queued", "running", "done", "failed"]
_UNFINISHED: tuple[JobState, ...] = ("queued", "running")

#: What a job says when the service stopped under it (same remedy as a local Ctrl-C).
STOPPED_RUNNING = (
    "the service stopped during the load: nothing was published; submit it again to finish"
)
STOPPED_QUEUED = "the service stopped before the load started; submit it again"
STORE_FAILED = "the analytics store failed; the service log has the details"
INTERNAL = "internal error; the service log has the details"


#: A queued load's arguments: the ingest layer's own request type.
RepoLoadParams = RepoLoad


@dataclass(frozen=True)
class JobError:
    """Why a job failed: the error's class name, its one-line message, the CLI exit status."""

    type: str
    message: str
    exit_code: int = 1


@dataclass
class Job:
    """One load job. The runner hands out copies; only its worker thread changes the original."""

    id: str
    kind: str
    params: RepoLoadParams
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


class _Stopped(Exception):  # noqa: N818 - a signal between our own frames, not an error
    """Raised from the progress callback to end a load when the service stops."""


class _Progress:
    """``LoadProgress`` for a job: counts packages and is where a stop request lands.

    ``load_repo`` calls ``advance`` after every package, so raising here ends the
    load between two packages, before anything is published.
    """

    def __init__(self, job: Job, lock: threading.Lock, stopping: threading.Event) -> None:
        self._job = job
        self._lock = lock
        self._stopping = stopping

    def start(self, *, total: int) -> None:
        with self._lock:
            self._job.total = total

    def advance(self, *, new: bool) -> None:
        if self._stopping.is_set():
            raise _Stopped
        with self._lock:
            self._job.done += 1
            self._job.new += int(new)


class LoadRunner:
    """Runs load jobs one at a time in a worker thread, in submission order.

    ``store`` returns the service's store (it is not closed here: its owner closes it);
    ``migrate_store`` brings an embedded store's schema up to date before each load,
    as the CLI does (a ClickHouse server's schema is its administrator's business).
    """

    def __init__(
        self,
        store: Callable[[], Store],
        *,
        migrate_store: bool,
        keep: int = KEEP_JOBS,
    ) -> None:
        self._store = store
        self._migrate = migrate_store
        self._keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="repotrack-load")

    # -- the public face ------------------------------------------------------------

    def submit_repo_load(self, params: RepoLoadParams) -> Job:
        """Queue a repository load; raises ``InputError`` when ``path`` is not usable here."""
        if not params.path.is_absolute():
            raise InputError("must be an absolute path on the service's machine", field="path")
        if not params.path.is_dir():
            raise InputError(
                f"no such directory on the service's machine: {params.path}", field="path"
            )
        job = Job(id=str(uuid.uuid4()), kind="repo", params=params, submitted_at=datetime.now(UTC))
        with self._lock:
            if self._stopping.is_set():
                raise ConflictError("the service is stopping; submit the load again later")
            waiting = sum(1 for j in self._jobs.values() if j.state in _UNFINISHED)
            if waiting >= self._keep:
                raise ConflictError(f"{waiting} load jobs are already waiting; try again later")
            self._jobs[job.id] = job
            self._forget_old()
            self._executor.submit(self._run, job)
            snapshot = dataclasses.replace(job)
        log.info("load job queued", extra={"job": job.id, "branch": params.branch})
        return snapshot

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFoundError(f"no load job {job_id}")
            return dataclasses.replace(job)

    def recent(self, limit: int = KEEP_JOBS) -> list[Job]:
        """The newest ``limit`` jobs, newest first."""
        with self._lock:
            jobs = list(self._jobs.values())
        return [dataclasses.replace(job) for job in reversed(jobs[-limit:])] if limit > 0 else []

    def shutdown(self) -> None:
        """Stop: a running load ends between two packages, unpublished; queued ones never start."""
        with self._lock:
            self._stopping.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            for job in self._jobs.values():
                if job.state == "queued":
                    self._finish(job, error=JobError("Interrupted", STOPPED_QUEUED))

    # -- the worker thread ----------------------------------------------------------

    def _run(self, job: Job) -> None:
        with self._lock:
            if self._stopping.is_set():
                self._finish(job, error=JobError("Interrupted", STOPPED_QUEUED))
                return
            job.state = "running"
            job.started_at = datetime.now(UTC)
        try:
            summary = self._load(job)
        except _Stopped:
            log.warning("load job interrupted by shutdown", extra={"job": job.id})
            error = JobError("Interrupted", STOPPED_RUNNING)
        except RepotrackError as exc:
            error = _job_error(job, exc)
        except Exception:
            log.exception("load job failed unexpectedly", extra={"job": job.id})
            error = JobError("InternalError", INTERNAL)
        else:
            with self._lock:
                self._finish(job, summary=_summary_dict(summary))
            log.info("load job done", extra={"job": job.id, "summary": summary.line()})
            return
        with self._lock:
            self._finish(job, error=error)

    def _load(self, job: Job) -> LoadSummary:
        from repotrack.store import migrate

        store = self._store()
        if self._migrate:
            migrate(store)
        return job.params.run(store, _Progress(job, self._lock, self._stopping))

    # -- bookkeeping (callers hold the lock) -----------------------------------------

    def _finish(
        self, job: Job, *, summary: dict[str, Any] | None = None, error: JobError | None = None
    ) -> None:
        job.state = "failed" if error is not None else "done"
        job.summary = summary
        job.error = error
        job.finished_at = datetime.now(UTC)

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


def _summary_dict(summary: LoadSummary) -> dict[str, Any]:
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
