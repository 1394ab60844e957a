"""The scan loop inside ``repotrack serve``: every ``scan_interval`` seconds, run the due items.

A plain thread with an ``Event`` rather than a job library: there is one periodic job,
and what the original needed APScheduler for (one job per item, de-duplicated by id)
is done here by the per-item lock, which also keeps a scheduler and a hand-started
``repotrack track run`` (another process) from running the same item twice.

The first scan starts right away, like the original's; items that are backing off are
skipped until their ``backoff_until``. After each scan the git caches of deleted items
are pruned (``tracking.gc``). At most ``max_parallel_fetches`` items run at
once. Stopping cancels running items at their next step (the next run resumes them)
and waits for the scan thread to end.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from repotrack.config import Settings
from repotrack.state import StateDB

__all__ = ["Scheduler", "start_scheduler"]

log = logging.getLogger(__name__)


class _AppState(Protocol):
    settings: Settings
    state_db: StateDB


class Scheduler:
    """Runs ``Tracker.scan`` every ``interval`` seconds in a daemon thread until stopped."""

    def __init__(self, settings: Settings, db: StateDB, *, interval: float | None = None) -> None:
        from repotrack.tracking.pipeline import Tracker

        self.settings = settings
        self.db = db
        self._stop = threading.Event()
        self.tracker = Tracker(settings, db, stopping=self._stop)
        self.interval = float(interval or settings.tracking.scan_interval)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        #: Number of scans completed (read by tests and the status route).
        self.scans = 0

    def start(self) -> Scheduler:
        self._thread = threading.Thread(target=self._loop, name="tracking-scheduler", daemon=True)
        self._thread.start()
        return self

    def trigger(self) -> None:
        """Start a scan now instead of waiting for the interval."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        self._check_tokens()
        while not self._stop.is_set():
            self._scan_once()
            self._wake.wait(self.interval)
            self._wake.clear()

    def _scan_once(self) -> None:
        try:
            results = self.tracker.scan()
        except Exception:  # the loop must survive a broken database for the next interval
            log.exception("tracking scan failed")
            return
        finally:
            self.scans += 1
        failed = sum(1 for r in results if r.outcome == "failed")
        log.info("tracking scan done", extra={"items": len(results), "failed": failed})
        self._prune()

    def _check_tokens(self) -> None:
        """Ask every configured forge whether it accepts its token, once, at start.

        Unlike the original (which then never started tracking), a refused token is
        logged as an error and items on that forge fail with the forge's answer, so
        ``repotrack track status`` shows it and a fixed token needs no restart.
        """
        from repotrack.tracking.check import check_tokens

        try:
            findings = check_tokens(self.settings)
        except Exception:
            log.exception("forge token check failed")
            return
        for name, finding in findings.items():
            if finding.ok:
                log.info("forge token accepted", extra={"forge": name})
            else:
                log.error("forge token refused", extra={"forge": name, "detail": finding.detail})

    def _prune(self) -> None:
        """Drop mirrors and clones of deleted items; a failure waits for the next scan."""
        from repotrack.tracking.gc import prune_caches

        try:
            prune_caches(self.settings, self.db)
        except Exception:
            log.exception("pruning git caches failed")


def start_scheduler(app_state: _AppState) -> Callable[[], None]:
    """Start scanning in the background; returns the function that stops it."""
    scheduler = Scheduler(app_state.settings, app_state.state_db).start()
    return scheduler.stop
