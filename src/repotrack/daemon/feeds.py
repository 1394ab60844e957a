"""The feed scheduler inside ``repotrack serve``: each feed on its own interval, one run at a time.

``[feeds] interval = {watch = 3600, bugzilla = 900}`` schedules those feeds; a feed
without an interval (the default for all) runs only when asked (``POST
/api/v1/feeds/{name}/run`` or ``repotrack load <feed>``). A feed is due when its
newest recorded run started ``interval`` seconds ago or more (or it never ran), so a
restart does not run every feed again at once. Each scheduled feed has its own
thread; a per-feed lock makes a run started by hand and a scheduled one exclude
each other (the second is refused with ``ConflictError``, or skipped by the
schedule). Every run is recorded in the state database (``state.feed_runs``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from repotrack.config import FEED_NAMES, Settings
from repotrack.errors import ConflictError, NotFoundError, RepotrackError
from repotrack.state import StateDB
from repotrack.state.feed_runs import FeedRunInfo, finish_run, last_runs, start_run
from repotrack.store import Store

__all__ = ["FeedScheduler", "FeedState", "record_run"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedState:
    """What ``feeds status`` shows for one feed."""

    feed: str
    interval: int  # seconds; 0 = not scheduled
    running: bool
    last_run: FeedRunInfo | None
    next_run: datetime | None


def record_run(
    db: StateDB, feed: str, trigger: str, run: Callable[[], tuple[int, str]]
) -> tuple[int, str]:
    """Run ``run`` (returning rows added and a note) with a ``feed_run`` row around it."""
    run_id = start_run(db, feed=feed, trigger=trigger)
    try:
        rows, note = run()
    except BaseException as exc:
        finish_run(db, run_id, outcome="failed", error=f"{type(exc).__name__}: {exc}")
        raise
    finish_run(db, run_id, outcome="success", rows=rows, note=note)
    return rows, note


class FeedScheduler:
    """Runs the scheduled feeds into the store ``store()`` returns, until stopped."""

    def __init__(self, settings: Settings, db: StateDB, store: Callable[[], Store]) -> None:
        self.settings = settings
        self.db = db
        self._store = store
        self._locks = {name: threading.Lock() for name in FEED_NAMES}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def intervals(self) -> dict[str, int]:
        return {name: self.settings.feeds.interval.get(name, 0) for name in FEED_NAMES}

    def start(self) -> FeedScheduler:
        for name, seconds in self.intervals().items():
            if seconds > 0:
                thread = threading.Thread(
                    target=self._loop, args=(name, seconds), name=f"feed-{name}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
        log.info("feed scheduler started", extra={"feeds": len(self._threads)})
        return self

    def stop(self, timeout: float | None = 30.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def status(self) -> list[FeedState]:
        last = last_runs(self.db)
        states = []
        for name, seconds in self.intervals().items():
            run = last.get(name)
            due = None
            if seconds:
                due = run.started_at + timedelta(seconds=seconds) if run else datetime.now(UTC)
            states.append(FeedState(name, seconds, self._locks[name].locked(), run, due))
        return states

    def run_now(self, feed: str, *, trigger: str = "api", wait: bool = False) -> None:
        """Start ``feed`` now (in a thread unless ``wait``); ConflictError if it is running."""
        if feed not in self._locks:
            raise NotFoundError(f"no feed {feed!r}; feeds are {', '.join(FEED_NAMES)}")
        lock = self._locks[feed]
        if not lock.acquire(blocking=False):
            raise ConflictError(f"feed {feed} is already running")
        if wait:
            self._run_locked(feed, trigger, lock)
            return
        threading.Thread(
            target=self._run_locked,
            args=(feed, trigger, lock),
            name=f"feed-{feed}-now",
            daemon=True,
        ).start()

    def _loop(self, feed: str, seconds: int) -> None:
        while not self._stop.is_set():
            wait = self._seconds_until_due(feed, seconds)
            if wait > 0:
                self._stop.wait(wait)
                continue
            lock = self._locks[feed]
            if lock.acquire(blocking=False):
                self._run_locked(feed, "schedule", lock)
            else:
                self._stop.wait(min(seconds, 60))

    def _seconds_until_due(self, feed: str, seconds: int) -> float:
        try:
            run = last_runs(self.db).get(feed)
        except RepotrackError:
            log.exception("feed scheduler cannot read run history", extra={"feed": feed})
            return float(min(seconds, 60))
        if run is None:
            return 0.0
        due = run.started_at + timedelta(seconds=seconds)
        return max(0.0, (due - datetime.now(UTC)).total_seconds())

    def _run_locked(self, feed: str, trigger: str, lock: threading.Lock) -> None:
        from repotrack.ingest.feeds import FeedRequest, run_feed

        def run() -> tuple[int, str]:
            result = run_feed(self._store(), self.settings.feeds, FeedRequest(feed))
            return result.rows, result.line()

        try:
            record_run(self.db, feed, trigger, run)
            log.info("feed run done", extra={"feed": feed, "trigger": trigger})
        except Exception:  # the schedule must survive a failing feed; the row says why
            log.warning("feed run failed", extra={"feed": feed}, exc_info=True)
        finally:
            lock.release()
