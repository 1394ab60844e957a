"""Packages in, rows out: dedupe against the store, then read what is new in parallel.

Jobs are taken in chunks. For each chunk the store is asked, in one query per kind of
key, which packages it already holds (by index MD5, by SHA-256, or by ``pkg_hash``
from a quick header read or from metadata); only the rest are read in full. A store
that held no package when the load began is not asked: every job is read in full.
The quick reads (signature and one main-header entry) run inline: they cost less
than a round trip to a worker. Full reads run in a pool of worker processes (``workers`` > 1,
up to ``TASK`` packages per task; forked from a fork server, never from the loader itself)
or inline (``workers`` = 1, or the first ``INLINE`` new packages of a load whose first
chunks hold no more than that), and their results come back in job order. At most
``window`` jobs (one lookup chunk, 1024) are in flight, so memory stays bounded however
large the repository.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from repotrack.errors import InputError
from repotrack.ingest.dedupe import known_by_digest, known_hashes, stored_sha256
from repotrack.ingest.file_ids import StatKey, known_id, remember, stat_key
from repotrack.ingest.metadata import metadata_pkg_hash
from repotrack.ingest.reader import (
    KnownCheck,
    PackageJob,
    check_known_packages,
    identify_package,
    read_packages,
)
from repotrack.ingest.rows import PackageRows

if TYPE_CHECKING:
    from repotrack.store import Store

__all__ = ["Outcome", "Pipeline"]

#: Jobs looked up in the store together (one query per chunk and kind of key).
CHUNK = 1024
#: Packages read by one worker task, at most: fewer round trips than one task per
#: package (each costs the loader's executor threads a message to send and one to
#: unpickle; measured with 2008 packages, tasks of 32 took the loader 0.11-0.13 s of
#: CPU for that where tasks of 8 took 0.16-0.17 s). A chunk with few new packages is
#: cut into smaller tasks, so that every worker gets some (``_task_size``).
TASK = 32
#: New packages a load reads in the loader itself while no worker has been started:
#: when the store knows all but a handful of a tree's packages (the daily snapshot of a
#: branch), reading them here (about 0.5 ms each, a few ms for a source package) costs
#: less than starting the fork server and its workers (0.15-0.2 s). Measured on 2008
#: packages of which 20 new, whole processes: 1.04 -> 0.98 s wall, 1.22 -> 1.11 s CPU.
#: A chunk with more new packages than are left of this starts the workers, as before.
INLINE = 64

T = TypeVar("T")
R = TypeVar("R")


#: A job as planned: its job, its known ``pkg_hash`` (or 0), the future of the task
#: that reads it (or, for a known package under ``verify_known``, checks it; None
#: when known and not checked) and its place in that task's results.
_Planned = tuple[
    PackageJob,
    int,
    "Future[list[PackageRows | InputError]] | Future[list[InputError | None]] | None",
    int,
]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One job done: its package id, and its rows when it was new.

    ``error`` is set (and ``pkg_hash`` is 0) for a bad package the load leaves out
    (``skip_bad``); without ``skip_bad`` a bad package raises its ``InputError``.
    """

    job: PackageJob
    pkg_hash: int
    rows: PackageRows | None
    error: InputError | None = None


class _Ready(Future[Any]):
    """A future computed on demand in the calling thread (the ``workers=1`` path)."""

    def __init__(self, fn: Callable[[Any], Any], arg: Any) -> None:
        super().__init__()
        self._call = (fn, arg)

    def result(self, timeout: float | None = None) -> Any:
        if not self.done():
            fn, arg = self._call
            try:
                self.set_result(fn(arg))
            except BaseException as exc:
                self.set_exception(exc)
        return super().result(timeout)


def _worker_context() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["repotrack.ingest.reader"])
    return context


def _worker_init() -> None:
    """Set up a worker: Ctrl-C is the loader's business, and the loader's death is ours.

    Ctrl-C reaches the whole process group; the loader alone decides what happens. If
    the loader is killed outright (SIGKILL, OOM), nothing tells the workers: they would
    wait on their task queue forever, and so would the fork server, which stays up while
    any worker lives, both holding the terminal's (or a caller's) output pipes open. A
    watchdog thread ends the worker once the loader is gone.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_loader, daemon=True).start()


def _watch_loader() -> None:
    """Wait on the loader's sentinel (a pipe only the loader writes to), then exit.

    Neither the parent pid (a worker's parent is the fork server) nor the loader's pid
    (a killed loader stays a zombie until its own parent reaps it) tells.
    """
    loader = multiprocessing.parent_process()
    if loader is None:
        return
    loader.join()
    os._exit(1)


class Pipeline:
    """Dedupe and read packages; use as a context manager (it owns the worker pool)."""

    def __init__(
        self, store: Store, *, workers: int = 1, skip_bad: bool = False, verify_known: bool = False
    ) -> None:
        self._store = store
        self._workers = workers
        self._skip_bad = skip_bad
        self._verify_known = verify_known
        self._executor: Executor | None = None
        self._window = max(CHUNK, workers * 32)
        self._seen: set[int] = set()
        self._inline_left = INLINE
        self._empty: bool | None = None
        #: ``stat`` of each planned job's file, taken before it is read (``file_ids``).
        self._stats: dict[int, StatKey | None] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=exc_type is None, cancel_futures=True)

    def _submit(self, fn: Callable[[T], R], arg: T, *, inline: bool = False) -> Future[R]:
        if self._workers == 1 or inline:
            return _Ready(fn, arg)
        if self._executor is None:
            # Started on first use: a reload where the store knows every package never
            # pays for starting workers. Not forked from this process: it has chDB's
            # threads running, and a fork would copy them in an undefined state. A fork
            # server (a fresh interpreter that imports the reader once, then forks a
            # worker per slot) costs one interpreter start and one import in all,
            # where spawning paid both per worker.
            self._executor = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=_worker_context(),
                initializer=_worker_init,
            )
        return self._executor.submit(fn, arg)

    def run(self, jobs: Iterator[PackageJob]) -> Iterator[Outcome]:
        """Outcomes in job order."""
        pending: deque[_Planned] = deque()
        exhausted = False
        while True:
            while not exhausted and len(pending) < self._window:
                chunk = list(islice(jobs, CHUNK))
                if not chunk:
                    exhausted = True
                    break
                pending.extend(self._plan_chunk(chunk))
            if not pending:
                return
            job, known, future, index = pending.popleft()
            stat = self._stats.pop(id(job), None)
            if future is None:
                yield Outcome(job, known, None)
                continue
            rows = future.result()[index]
            if isinstance(rows, InputError):
                if not self._skip_bad:
                    raise rows
                yield Outcome(job, 0, None, error=rows)
                continue
            if rows is None:  # a known package, checked (``verify_known``)
                yield Outcome(job, known, None)
                continue
            if rows.pkg_hash in self._seen:  # the same package twice in one tree
                yield Outcome(job, rows.pkg_hash, None)
                continue
            self._seen.add(rows.pkg_hash)
            if job.path is not None:
                remember(job.path, stat, rows.pkg_hash)
            yield Outcome(job, rows.pkg_hash, rows)

    def _plan_chunk(self, chunk: list[PackageJob]) -> list[_Planned]:
        """Look the chunk up in the store, then start reading what it does not hold."""
        for job in chunk:
            if job.path is not None:
                self._stats[id(job)] = stat_key(job.path)
        known = self._known(chunk)
        unknown = [job for job in chunk if id(job) not in known]
        reading: dict[int, tuple[Future[list[PackageRows | InputError]], int]] = {}
        size = self._task_size(len(unknown))
        inline = self._executor is None and len(unknown) <= self._inline_left
        if inline:
            self._inline_left -= len(unknown)
        for start in range(0, len(unknown), size):
            task = unknown[start : start + size]
            future = self._submit(read_packages, task, inline=inline)
            for index, job in enumerate(task):
                reading[id(job)] = (future, index)
        checking = self._start_checks(chunk, known) if self._verify_known else {}
        planned: list[_Planned] = []
        for job in chunk:
            if id(job) in checking:
                check, index = checking[id(job)]
                planned.append((job, known[id(job)], check, index))
            elif id(job) in known:
                planned.append((job, known[id(job)], None, 0))
            else:
                future, index = reading[id(job)]
                planned.append((job, 0, future, index))
        return planned

    def _start_checks(
        self, chunk: list[PackageJob], known: dict[int, int]
    ) -> dict[int, tuple[Future[list[InputError | None]], int]]:
        """Start re-reading the known package files of ``chunk`` (``verify_known``)."""
        files = [j for j in chunk if id(j) in known and j.path is not None]
        stored = stored_sha256(self._store, [known[id(j)] for j in files])
        started: dict[int, tuple[Future[list[InputError | None]], int]] = {}
        size = self._task_size(len(files))
        for start in range(0, len(files), size):
            task = [
                KnownCheck(j.path or "", known[id(j)], stored.get(known[id(j)], b""))
                for j in files[start : start + size]
            ]
            future = self._submit(check_known_packages, task)
            for index, job in enumerate(files[start : start + size]):
                started[id(job)] = (future, index)
        return started

    def _task_size(self, jobs: int) -> int:
        """Packages per task: ``TASK``, or fewer when there are fewer than ``TASK`` for
        each worker."""
        return max(1, min(TASK, -(-jobs // self._workers)))

    def _known(self, chunk: list[PackageJob]) -> dict[int, int]:
        """``{id(job): pkg_hash}`` for the jobs of ``chunk`` the store already holds."""
        result: dict[int, int] = {}
        if self._holds_nothing():
            return result
        by_md5 = [j for j in chunk if j.expected.md5]
        by_sha256 = [j for j in chunk if not j.expected.md5 and j.expected.sha256]
        rest = [j for j in chunk if not j.expected.md5 and not j.expected.sha256]
        for column, jobs in (("pkgh_md5", by_md5), ("pkgh_sha256", by_sha256)):
            if jobs:
                field = "md5" if column == "pkgh_md5" else "sha256"
                keys = {id(j): getattr(j.expected, field) for j in jobs}
                found = known_by_digest(self._store, column, keys.values())
                for job in jobs:
                    hit = found.get(keys[id(job)])
                    if hit is not None:
                        result[id(job)] = hit[0]
        hashes = self._hashes_of(rest)
        stored = known_hashes(self._store, hashes.values()) | self._seen
        for job in rest:
            pkg_hash = hashes.get(id(job))
            if pkg_hash is not None and pkg_hash in stored:
                result[id(job)] = pkg_hash
        return result

    def _holds_nothing(self) -> bool:
        """Whether the store held no package when this load began (asked once).

        Then no lookup can find anything, and the header-only read that gives a
        file's ``pkg_hash`` for it (the loader's own time, 40-60 us a package, before
        the first chunk's reads start) is skipped: every package is read in full, and
        one that is in the tree twice is told by the ``pkg_hash`` its read gives
        (``_seen`` in ``run``). A first load of a distribution into a new store is
        the one a user waits longest for.
        """
        if self._empty is None:
            self._empty = not self._store.query("SELECT 1 FROM PackageHash_buffer LIMIT 1")
        return self._empty

    def _hashes_of(self, jobs: list[PackageJob]) -> dict[int, int]:
        """``pkg_hash`` of jobs without index digests: from metadata, from what this
        process identified the same file as before (``file_ids``), or a header-only read."""
        hashes: dict[int, int] = {}
        for job in jobs:
            if job.meta is not None and job.path is None:
                hashes[id(job)] = metadata_pkg_hash(job.meta)
            elif job.path is not None:
                stat = self._stats.get(id(job))
                pkg_hash = known_id(job.path, stat)
                if pkg_hash is not None:
                    hashes[id(job)] = pkg_hash
                    continue
                try:
                    hashes[id(job)] = pkg_hash = identify_package(job.path).pkg_hash
                    remember(job.path, stat, pkg_hash)
                except InputError:
                    # Read it in full instead: the error then surfaces in job order,
                    # after the packages before it were stored.
                    continue
        return hashes
