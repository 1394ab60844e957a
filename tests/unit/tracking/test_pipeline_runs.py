"""Run history, resume lookup and health/backoff on real SQLite."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from repotrack.state import StateDB, Tracking, utcnow
from repotrack.tracking.runs import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    backoff_delay,
    close_stale_runs,
    finish_run,
    is_due,
    last_runs,
    pending_run,
    record_failure,
    record_success,
    start_run,
    status_summary,
    update_run,
)


@pytest.fixture
def db(tmp_path: Path) -> StateDB:
    return StateDB(f"sqlite:///{tmp_path / 'state.sqlite'}")


def _item(db: StateDB, repo: str = "https://gitee.com/o/pkg", *, enabled: bool = True) -> int:
    with db.session() as session:
        item = Tracking(
            version_control="git",
            scm_repo="https://example.org/up.git",
            scm_branch="main",
            scm_commit="a" * 40,
            repo=repo,
            branch="master",
            enabled=enabled,
        )
        session.add(item)
        session.flush()
        return item.id


def test_backoff_doubles_and_is_capped() -> None:
    assert backoff_delay(0) == timedelta(0)
    assert backoff_delay(1) == BACKOFF_BASE
    assert backoff_delay(2) == BACKOFF_BASE * 2
    assert backoff_delay(4) == BACKOFF_BASE * 8
    assert backoff_delay(50) == BACKOFF_CAP
    assert backoff_delay(10**6) == BACKOFF_CAP


def test_failures_back_off_and_success_resets(db: StateDB) -> None:
    item_id = _item(db)
    first = record_failure(db, item_id, "boom")
    second = record_failure(db, item_id, "boom again")
    assert first is not None and second is not None and second > first
    with db.session() as session:
        item = session.get(Tracking, item_id)
        assert item is not None
        assert item.consecutive_failures == 2
        assert item.last_error == "boom again"
        assert not is_due(item)
        assert is_due(item, now=utcnow() + BACKOFF_CAP)
    record_success(db, item_id, commits_behind=0)
    with db.session() as session:
        item = session.get(Tracking, item_id)
        assert item is not None
        assert (item.consecutive_failures, item.last_error, item.backoff_until) == (0, None, None)
        assert is_due(item)


def test_retry_at_from_forge_wins_when_later(db: StateDB) -> None:
    item_id = _item(db)
    later = utcnow() + timedelta(hours=3)
    until = record_failure(db, item_id, "rate limited", retry_at=later)
    assert until == later


def test_failure_of_deleted_item_is_ignored(db: StateDB) -> None:
    assert record_failure(db, 999, "gone") is None


def test_disabled_item_is_not_due(db: StateDB) -> None:
    item_id = _item(db, enabled=False)
    with db.session() as session:
        item = session.get(Tracking, item_id)
        assert item is not None and not is_due(item)


def test_pending_run_is_the_newest_unfinished_one(db: StateDB) -> None:
    item_id = _item(db)
    old = "a" * 40
    run_id = start_run(db, item_id, from_commit=old)
    assert pending_run(db, item_id, from_commit=old) is None  # no branch named yet
    update_run(db, run_id, branch_name="patch-tracking/1", to_commit="b" * 40)
    finish_run(db, run_id, outcome="failed", error="push rejected")
    pending = pending_run(db, item_id, from_commit=old)
    assert pending is not None and pending.branch_name == "patch-tracking/1"
    assert pending_run(db, item_id, from_commit="c" * 40) is None
    # runs that found nothing new or failed before naming a branch do not hide it
    quiet = start_run(db, item_id, from_commit=old)
    finish_run(db, quiet, outcome="nothing-new")
    broken = start_run(db, item_id, from_commit=old)
    finish_run(db, broken, outcome="failed", error="upstream unreachable")
    assert pending_run(db, item_id, from_commit=old) is not None
    mine = start_run(db, item_id, from_commit=old)
    update_run(db, mine, branch_name="patch-tracking/2", to_commit="b" * 40)
    found = pending_run(db, item_id, from_commit=old, before=mine)
    assert found is not None and found.branch_name == "patch-tracking/1"
    finish_run(db, mine, outcome="cancelled")
    done = start_run(db, item_id, from_commit=old)
    finish_run(db, done, outcome="success")
    assert pending_run(db, item_id, from_commit=old) is None


def test_stale_running_rows_are_closed(db: StateDB) -> None:
    item_id = _item(db)
    start_run(db, item_id, from_commit=None)
    assert close_stale_runs(db, item_id) == 1
    (run,) = last_runs(db, item_id)
    assert (run.outcome, run.error) == ("failed", "interrupted")


def test_finish_run_refuses_unknown_outcome(db: StateDB) -> None:
    item_id = _item(db)
    run_id = start_run(db, item_id, from_commit=None)
    with pytest.raises(ValueError, match="final outcome"):
        finish_run(db, run_id, outcome="running")


def test_status_summary_shows_newest_run_and_health(db: StateDB) -> None:
    first = _item(db, "https://gitee.com/o/a")
    second = _item(db, "https://gitee.com/o/b")
    run_id = start_run(db, first, from_commit=None)
    finish_run(db, run_id, outcome="nothing-new")
    run_id = start_run(db, first, from_commit=None)
    finish_run(db, run_id, outcome="failed", error="x")
    record_failure(db, first, "x")
    rows = status_summary(db)
    assert [row.item_id for row in rows] == [first, second]
    assert rows[0].last_outcome == "failed"
    assert rows[0].consecutive_failures == 1
    assert rows[0].backoff_until is not None and rows[0].backoff_until.tzinfo is not None
    assert rows[1].last_outcome is None and rows[1].last_run_at is None
