"""The state database migrates on SQLite and PostgreSQL; ids are real; deletes cascade."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from repotrack.errors import ConfigError, StoreError
from repotrack.state import Issue, Run, StateDB, Tracking, migration_head


def _urls(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def state_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return _urls(tmp_path, request)


def _item(**extra: object) -> Tracking:
    values: dict[str, object] = {
        "version_control": "git",
        "scm_repo": "https://example.org/up.git",
        "scm_branch": "main",
        "repo": "https://gitee.com/o/pkg",
        "branch": "master",
    }
    values.update(extra)
    return Tracking(**values)


def test_migrate_is_idempotent(state_url: str) -> None:
    StateDB(state_url).close()
    db = StateDB(state_url)
    from repotrack.state.db import current_revision

    assert current_revision(db.engine) == migration_head()
    db.close()


def test_real_ids_and_cascading_delete(state_url: str) -> None:
    db = StateDB(state_url)
    with db.session() as session:
        first, second = _item(), _item(branch="next")
        session.add_all([first, second])
        session.flush()
        assert first.id and second.id and first.id != second.id
        session.add(Issue(issue="I1ABCD", repo=first.repo, branch=first.branch, tracking=first))
        session.add(Run(tracking=first, outcome="success"))
    with db.session() as session:
        session.delete(session.scalars(select(Tracking).where(Tracking.branch == "master")).one())
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Issue)) == 0
        assert session.scalar(select(func.count()).select_from(Run)) == 0
        assert session.scalar(select(func.count()).select_from(Tracking)) == 1
    db.close()


def test_repo_branch_is_unique(state_url: str) -> None:
    db = StateDB(state_url)
    with db.session() as session:
        session.add(_item())
    with pytest.raises(StoreError), db.session() as session:
        session.add(_item())
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Tracking)) == 1
    db.close()


def test_unknown_scheme() -> None:
    with pytest.raises(ConfigError, match="state database URL"):
        StateDB("mysql://x/y")
