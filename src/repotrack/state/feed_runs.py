"""Run history of the enrichment feeds: one ``feed_run`` row per run, whoever started it.

A run is recorded when it starts (``outcome = "running"``) and completed when it ends,
so ``repotrack feeds status`` shows a run in progress as well as a process that died
mid-run (its row stays ``running`` with no end; the next start of that feed marks such
rows ``abandoned``, since runs of one feed never overlap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from repotrack.state.db import StateDB
from repotrack.state.models import Base, utcnow

__all__ = ["FeedRun", "FeedRunInfo", "finish_run", "last_runs", "recent_runs", "start_run"]

#: Longest error text kept; a traceback-sized message is cut, never the start of it.
ERROR_MAX = 2000


class FeedRun(Base):
    __tablename__ = "feed_run"
    __table_args__ = (Index("ix_feed_run_feed_started", "feed", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    feed: Mapped[str] = mapped_column(String(32))
    trigger: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    rows_added: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


@dataclass(frozen=True)
class FeedRunInfo:
    """A run as plain data (what the CLI and the API show)."""

    id: int
    feed: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    rows_added: int
    note: str
    error: str | None


def start_run(db: StateDB, *, feed: str, trigger: str) -> int:
    """Record that ``feed`` starts now; earlier unfinished runs of it become ``abandoned``."""
    with db.session() as session:
        session.execute(
            update(FeedRun)
            .where(FeedRun.feed == feed, FeedRun.outcome == "running")
            .values(outcome="abandoned", finished_at=utcnow())
        )
        run = FeedRun(feed=feed, trigger=trigger, started_at=utcnow(), outcome="running")
        session.add(run)
        session.flush()
        return run.id


def finish_run(
    db: StateDB,
    run_id: int,
    *,
    outcome: str,
    rows: int = 0,
    note: str = "",
    error: str | None = None,
) -> None:
    with db.session() as session:
        session.execute(
            update(FeedRun)
            .where(FeedRun.id == run_id)
            .values(
                outcome=outcome,
                finished_at=utcnow(),
                rows_added=rows,
                note=note[:ERROR_MAX],
                error=error[:ERROR_MAX] if error else None,
            )
        )


def last_runs(db: StateDB) -> dict[str, FeedRunInfo]:
    """The newest run of every feed that has run."""
    newest = (
        select(FeedRun.feed, func.max(FeedRun.id).label("id")).group_by(FeedRun.feed).subquery()
    )
    with db.session() as session:
        runs = session.scalars(select(FeedRun).join(newest, FeedRun.id == newest.c.id)).all()
        return {run.feed: _info(run) for run in runs}


def recent_runs(db: StateDB, *, feed: str, limit: int = 20) -> list[FeedRunInfo]:
    with db.session() as session:
        runs = session.scalars(
            select(FeedRun).where(FeedRun.feed == feed).order_by(FeedRun.id.desc()).limit(limit)
        ).all()
        return [_info(run) for run in runs]


def _info(run: FeedRun) -> FeedRunInfo:
    return FeedRunInfo(
        id=run.id,
        feed=run.feed,
        trigger=run.trigger,
        started_at=_aware(run.started_at),
        finished_at=_aware(run.finished_at) if run.finished_at else None,
        outcome=run.outcome,
        rows_added=run.rows_added,
        note=run.note,
        error=run.error,
    )


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; stored values are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
