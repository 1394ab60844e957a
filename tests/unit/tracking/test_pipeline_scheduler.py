"""The scan loop: starts, scans, honours backoff, stops; ``start_scheduler`` for the service."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from repotrack.config import Settings
from repotrack.state import Run, StateDB, Tracking
from repotrack.tracking.scheduler import Scheduler, start_scheduler


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _setup(tmp_path: Path) -> tuple[Settings, StateDB, int]:
    settings = Settings(home=tmp_path / "home", tracking={"scan_interval": 3600})
    db = StateDB(settings.state_url)
    with db.session() as session:
        item = Tracking(
            version_control="git",
            scm_repo="https://127.0.0.1:1/nowhere.git",  # refused connection: fails fast
            scm_branch="main",
            scm_commit="a" * 40,
            repo="https://gitee.com/o/n",
            branch="master",
        )
        session.add(item)
        session.flush()
        return settings, db, item.id


def _runs(db: StateDB) -> list[Run]:
    with db.session() as session:
        return list(session.scalars(sa.select(Run)))


def test_scheduler_scans_at_start_and_backs_off(tmp_path: Path) -> None:
    settings, db, item_id = _setup(tmp_path)
    scheduler = Scheduler(settings, db).start()
    try:
        _wait_for(lambda: scheduler.scans >= 1, "the first scan")
        (run,) = _runs(db)
        assert run.outcome == "failed" and run.tracking_id == item_id
        scheduler.trigger()
        _wait_for(lambda: scheduler.scans >= 2, "the triggered scan")
        assert len(_runs(db)) == 1  # backing off: not run again
    finally:
        scheduler.stop()
    with db.session() as session:
        item = session.get(Tracking, item_id)
        assert item is not None and item.consecutive_failures == 1
    db.close()


@dataclass
class _AppState:
    settings: Settings
    state_db: StateDB


def test_start_scheduler_returns_a_stop_function(tmp_path: Path) -> None:
    settings, db, _ = _setup(tmp_path)
    stop = start_scheduler(_AppState(settings, db))
    _wait_for(lambda: len(_runs(db)) == 1, "a run")
    stop()
    db.close()
