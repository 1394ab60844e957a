"""Run history and item health: what each run did, and when a failing item may run again.

Every run of the pipeline over one item leaves a ``run`` row (outcome, range of
commits, the branch, issue and pull request it made or reused, the verification
result). Two things are read back from that history:

* **resume** (``pending_run``): a run that pushed a branch or opened an issue and then
  failed is "pending"; the next run over the same ``scm_commit`` reuses its branch name
  and commit range instead of making new ones;
* **health** (``record_failure`` / ``record_success``): consecutive failures push
  ``backoff_until`` out exponentially (5 min, 10, 20, ... capped at a day), so an item
  whose upstream history was rewritten shows its error and is not retried in a loop.
  A forge that asked us to wait (``RateLimitError.retry_at``) is honoured as well.

Health columns are changed with single-column UPDATEs, never by writing a stale row
back, so an edit made meanwhile (disabling the item, changing its branch) survives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa

from repotrack.state import Run, StateDB, Tracking, utcnow

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "FINAL_OUTCOMES",
    "ItemStatus",
    "as_utc",
    "backoff_delay",
    "close_stale_runs",
    "finish_run",
    "is_due",
    "last_runs",
    "pending_run",
    "record_failure",
    "record_success",
    "start_run",
    "status_summary",
    "update_run",
]

#: First wait after a failure; doubles with each further consecutive failure.
BACKOFF_BASE: Final = timedelta(minutes=5)
#: Longest wait, however often an item has failed.
BACKOFF_CAP: Final = timedelta(days=1)
#: Outcomes a run can end with (``running`` is the state while it goes on).
FINAL_OUTCOMES: Final = ("success", "nothing-new", "failed", "cancelled")
#: Longest error text kept on an item or a run.
_ERROR_MAX = 2000


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def backoff_delay(failures: int) -> timedelta:
    """How long to wait after ``failures`` consecutive failures (0 -> no wait)."""
    if failures <= 0:
        return timedelta(0)
    exponent = min(failures - 1, 20)
    delay: timedelta = BACKOFF_BASE * (2**exponent)
    return min(delay, BACKOFF_CAP)


def is_due(item: Tracking, now: datetime | None = None) -> bool:
    """Whether a scan should run ``item`` now (enabled and not backing off)."""
    until = as_utc(item.backoff_until)
    return bool(item.enabled) and (until is None or until <= (now or utcnow()))


def _clip(text: str | None) -> str | None:
    return None if text is None else text[:_ERROR_MAX]


def start_run(db: StateDB, item_id: int, *, from_commit: str | None) -> int:
    with db.session() as session:
        run = Run(tracking_id=item_id, outcome="running", from_commit=from_commit)
        session.add(run)
        session.flush()
        return run.id


def update_run(db: StateDB, run_id: int, **values: Any) -> None:
    """Set some columns of a run; a run deleted with its item is silently gone."""
    with db.session() as session:
        session.execute(sa.update(Run).where(Run.id == run_id).values(**values))


def finish_run(
    db: StateDB, run_id: int, *, outcome: str, error: str | None = None, **values: Any
) -> None:
    if outcome not in FINAL_OUTCOMES:
        raise ValueError(f"not a final outcome: {outcome!r}")
    update_run(db, run_id, outcome=outcome, error=_clip(error), finished_at=utcnow(), **values)


def close_stale_runs(db: StateDB, item_id: int) -> int:
    """Mark runs left ``running`` by a crashed process as failed (call while holding the lock)."""
    with db.session() as session:
        result = session.execute(
            sa.update(Run)
            .where(Run.tracking_id == item_id, Run.outcome == "running")
            .values(outcome="failed", error="interrupted", finished_at=utcnow())
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def pending_run(
    db: StateDB, item_id: int, *, from_commit: str | None, before: int | None = None
) -> Run | None:
    """The newest unfinished run over the same start commit that already named a branch.

    Among the runs older than ``before`` (the caller's own run) that named a branch or
    succeeded, only the newest counts: a success or a run from another start commit
    means there is nothing to resume. Runs that failed before naming a branch (an
    unreachable upstream) are passed over, so they never hide a pending branch.
    """
    query = sa.select(Run).where(
        Run.tracking_id == item_id,
        sa.or_(Run.outcome == "success", Run.branch_name.is_not(None)),
    )
    if before is not None:
        query = query.where(Run.id < before)
    with db.session() as session:
        run = session.scalars(query.order_by(Run.id.desc()).limit(1)).first()
    if run is None or run.outcome == "success" or not run.branch_name or not run.to_commit:
        return None
    if run.from_commit != from_commit:
        return None
    return run


def record_success(db: StateDB, item_id: int, **values: Any) -> None:
    with db.session() as session:
        session.execute(
            sa.update(Tracking)
            .where(Tracking.id == item_id)
            .values(consecutive_failures=0, last_error=None, backoff_until=None, **values)
        )


def record_failure(
    db: StateDB, item_id: int, error: str, *, retry_at: datetime | None = None
) -> datetime | None:
    """Count a failure and set the backoff; returns ``backoff_until`` (None if item is gone)."""
    now = utcnow()
    with db.session() as session:
        session.execute(
            sa.update(Tracking)
            .where(Tracking.id == item_id)
            .values(consecutive_failures=Tracking.consecutive_failures + 1, last_error=_clip(error))
        )
        failures = session.scalar(
            sa.select(Tracking.consecutive_failures).where(Tracking.id == item_id)
        )
        if failures is None:
            return None
        until = now + backoff_delay(failures)
        asked = as_utc(retry_at)
        if asked is not None and asked > until:
            until = asked
        session.execute(
            sa.update(Tracking).where(Tracking.id == item_id).values(backoff_until=until)
        )
        return until


@dataclass(frozen=True)
class ItemStatus:
    """One line of ``repotrack track status``."""

    item_id: int
    repo: str
    branch: str
    scm_repo: str
    scm_branch: str
    enabled: bool
    scm_commit: str | None
    last_run_at: datetime | None
    last_outcome: str | None
    consecutive_failures: int
    backoff_until: datetime | None
    last_error: str | None
    commits_behind: int | None


def last_runs(db: StateDB, item_id: int, *, limit: int = 10) -> list[Run]:
    with db.session() as session:
        return list(
            session.scalars(
                sa.select(Run)
                .where(Run.tracking_id == item_id)
                .order_by(Run.id.desc())
                .limit(limit)
            )
        )


def status_summary(db: StateDB) -> list[ItemStatus]:
    """Every item with its health and its newest run, ordered by repo and branch."""
    newest = (
        sa.select(Run.tracking_id, sa.func.max(Run.id).label("run_id"))
        .group_by(Run.tracking_id)
        .subquery()
    )
    query = (
        sa.select(Tracking, Run)
        .outerjoin(newest, newest.c.tracking_id == Tracking.id)
        .outerjoin(Run, Run.id == newest.c.run_id)
        .order_by(Tracking.repo, Tracking.branch)
    )
    with db.session() as session:
        rows = session.execute(query).all()
    return [_status(item, run) for item, run in rows]


def _status(item: Tracking, run: Run | None) -> ItemStatus:
    return ItemStatus(
        item_id=item.id,
        repo=item.repo,
        branch=item.branch,
        scm_repo=item.scm_repo,
        scm_branch=item.scm_branch,
        enabled=bool(item.enabled),
        scm_commit=item.scm_commit,
        last_run_at=as_utc(run.finished_at or run.started_at) if run else None,
        last_outcome=run.outcome if run else None,
        consecutive_failures=item.consecutive_failures or 0,
        backoff_until=as_utc(item.backoff_until),
        last_error=item.last_error,
        commits_behind=item.commits_behind,
    )
