"""Feed run history on SQLite and PostgreSQL: the 0003_feed_runs migration matches the model."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from repotrack.daemon.feeds import record_run
from repotrack.errors import UpstreamError
from repotrack.state import Base, StateDB
from repotrack.state.feed_runs import FeedRun, last_runs, recent_runs, start_run


def check_history(db: StateDB) -> None:
    assert record_run(db, "watch", "cli", lambda: (3, "watch: 3 rows added")) == (
        3,
        "watch: 3 rows added",
    )

    def broken() -> tuple[int, str]:
        raise UpstreamError("HTTP 500", url="https://w/")

    with pytest.raises(UpstreamError):
        record_run(db, "watch", "schedule", broken)
    runs = recent_runs(db, feed="watch")
    assert [(r.trigger, r.outcome, r.rows_added, r.error) for r in runs] == [
        ("schedule", "failed", 0, "UpstreamError: https://w/: HTTP 500"),
        ("cli", "success", 3, None),
    ]
    assert runs[0].started_at.tzinfo is not None and runs[0].finished_at is not None
    dangling = start_run(db, feed="acl", trigger="schedule")
    start_run(db, feed="acl", trigger="api")
    last = last_runs(db)
    assert (last["acl"].trigger, last["acl"].outcome) == ("api", "running")
    assert [r.outcome for r in recent_runs(db, feed="acl") if r.id == dangling] == ["abandoned"]
    assert last["watch"].id == runs[0].id


def check_schema(db: StateDB) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if FeedRun.__tablename__ in str(d)] == []


def test_sqlite(tmp_path: Path) -> None:
    db = StateDB(f"sqlite:///{tmp_path / 'state.sqlite'}")
    try:
        check_schema(db)
        check_history(db)
    finally:
        db.close()


def test_postgresql(postgres_url: str) -> None:
    db = StateDB(postgres_url)
    try:
        check_schema(db)
        check_history(db)
    finally:
        db.close()
