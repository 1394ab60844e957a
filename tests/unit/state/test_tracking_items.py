"""Core item and issue functions on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from repotrack.errors import ConflictError, InputError, NotFoundError
from repotrack.state import Issue, Run, StateDB, Tracking
from repotrack.state import tracking_items as items

SHA = "a" * 40


def fields(n: int = 0, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "version_control": "github",
        "scm_repo": "owner/name",
        "scm_branch": "master",
        "scm_commit": None,
        "repo": f"https://gitee.com/o/r{n}",
        "branch": "master",
        "enabled": True,
    }
    base.update(changes)
    return base


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateDB]:
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    state = StateDB(url)
    yield state
    state.close()


def test_upsert_creates_then_updates_keeping_commit(db: StateDB) -> None:
    with db.session() as s:
        item, created = items.upsert_item(s, fields=fields(scm_commit=SHA.upper()))
        assert created
        assert item.scm_commit == SHA
    with db.session() as s:
        item, created = items.upsert_item(s, fields=fields(scm_branch="dev"))
        assert not created
        assert (item.scm_branch, item.scm_commit) == ("dev", SHA)
    with db.session() as s:
        item, _ = items.upsert_item(s, fields=fields(scm_commit=""))
        assert item.scm_commit == SHA
        item, _ = items.upsert_item(s, fields=fields(scm_commit="b" * 40))
        assert item.scm_commit == "b" * 40


def test_create_conflict_and_update_rules(db: StateDB) -> None:
    with db.session() as s:
        first = items.create_item(s, fields=fields(1, scm_commit=SHA))
        items.create_item(s, fields=fields(2))
        with pytest.raises(ConflictError):
            items.create_item(s, fields=fields(1))
        with pytest.raises(ConflictError):
            items.update_item(s, item_id=first.id, changes={"repo": fields(2)["repo"]})
        updated = items.update_item(s, item_id=first.id, changes={"enabled": False})
        assert (updated.enabled, updated.scm_commit) == (False, SHA)
        cleared = items.update_item(s, item_id=first.id, changes={"scm_commit": None})
        assert cleared.scm_commit is None
        with pytest.raises(NotFoundError):
            items.update_item(s, item_id=99999, changes={"enabled": True})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"nope": 1}, "nope"),
        ({"enabled": "true"}, "enabled"),
        ({"enabled": 0}, "enabled"),
        ({"repo": ""}, "repo"),
        ({"repo": "x" * 1025}, "repo"),
        ({"branch": "b" * 256}, "branch"),
        ({"branch": "-rf"}, "branch"),
        ({"branch": "a b"}, "branch"),
        ({"scm_repo": "ext::sh -c id"}, "scm_repo"),
        ({"scm_repo": "-u"}, "scm_repo"),
        ({"scm_repo": "a\nb"}, "scm_repo"),
        ({"scm_commit": "xyz"}, "scm_commit"),
        ({"scm_commit": "a" * 65}, "scm_commit"),
        ({"scm_commit": 12}, "scm_commit"),
        ({"version_control": "svn"}, "version_control"),
        ({"version_control": None}, "version_control"),
    ],
)
def test_bad_fields_name_the_field_not_the_value(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as caught:
        items.check_item_fields(fields(**change))
    assert caught.value.field == field
    for value in change.values():
        if isinstance(value, str) and len(value) > 4:
            assert value not in str(caught.value)


def test_missing_field_is_named() -> None:
    body = fields()
    del body["scm_branch"]
    with pytest.raises(InputError, match="scm_branch: field is required"):
        items.check_item_fields(body)
    assert items.check_item_fields({"enabled": False}, partial=True) == {"enabled": False}


def test_list_filters_and_pages(db: StateDB) -> None:
    with db.session() as s:
        for n in range(5):
            items.create_item(s, fields=fields(n, enabled=n < 2))
    with db.session() as s:
        assert items.list_items(s).total == 5
        assert items.list_items(s, enabled=True).total == 2
        page = items.list_items(s, limit=2, offset=3)
        assert (page.total, [i.repo for i in page.rows]) == (
            5,
            [fields(3)["repo"], fields(4)["repo"]],
        )
        assert items.list_items(s, repo=fields(1)["repo"], branch="master").total == 1


def test_delete_takes_issues_and_runs_with_it(db: StateDB) -> None:
    with db.session() as s:
        one = items.create_item(s, fields=fields(1))
        items.create_item(s, fields=fields(1, branch="next"))
        other = items.create_item(s, fields=fields(2))
        s.add_all(
            [
                Issue(issue="I1", repo=one.repo, branch="master", tracking_id=one.id),
                Issue(issue="I2", repo=one.repo, branch="master"),  # linked by name only
                Issue(issue="I3", repo=other.repo, branch="master", tracking_id=other.id),
                Run(tracking_id=one.id, outcome="success"),
                Run(tracking_id=other.id, outcome="failed"),
            ]
        )
    with db.session() as s:
        assert items.delete_items(s, repo=fields(1)["repo"], branch="master") == 1
    with db.session() as s:
        assert [i.issue for i in items.list_issues(s).rows] == ["I3"]
        assert s.query(Run).count() == 1
        assert items.delete_items(s, repo=fields(1)["repo"]) == 1
        with pytest.raises(NotFoundError):
            items.delete_items(s, repo=fields(1)["repo"])
        items.delete_item(s, item_id=other.id)
        assert s.query(Tracking).count() == 0
        assert s.query(Issue).count() == 0


def test_status_and_runs_newest_first(db: StateDB) -> None:
    with db.session() as s:
        item = items.create_item(s, fields=fields())
        assert items.item_status(s, item_id=item.id).last_run is None
        s.add_all([Run(tracking_id=item.id, outcome=o) for o in ("success", "failed")])
    with db.session() as s:
        status = items.item_status(s, item_id=item.id)
        assert status.last_run is not None
        assert status.last_run.outcome == "failed"
        assert items.list_runs(s, item_id=item.id, limit=1).total == 2
        with pytest.raises(NotFoundError):
            items.item_status(s, item_id=item.id + 100)


def test_listing_fingerprint_follows_every_write_and_reads_indexes(db: StateDB) -> None:
    """``GET /tracking`` serves a cached listing while this value holds (issue 11)."""
    import sqlalchemy as sa
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from repotrack.state import Base

    def fingerprint() -> tuple[Any, ...]:
        with db.session() as s:
            return items.listing_fingerprint(s)

    def independent() -> tuple[int, int | None, Any]:
        with db.session() as s:
            rows = list(s.scalars(sa.select(Tracking)))
            return (
                len(rows),
                max((r.id for r in rows), default=None),
                max((r.updated_at for r in rows), default=None),
            )

    seen = [fingerprint()]
    assert seen[0] == (0, None, None)
    with db.session() as s:
        for n in range(3):
            items.upsert_item(s, fields=fields(n))
    seen.append(fingerprint())
    with db.session() as s:
        items.upsert_item(s, fields=fields(1, scm_branch="dev"))  # an ORM update
    seen.append(fingerprint())
    with db.session() as s:  # a Core update, as the tracker writes health
        s.execute(sa.update(Tracking).where(Tracking.id == 1).values(commits_behind=4))
    seen.append(fingerprint())
    with db.session() as s:
        items.delete_items(s, repo=fields(2)["repo"], branch="master")
    seen.append(fingerprint())
    assert len(set(seen)) == len(seen), seen
    count, top, newest = fingerprint()
    want_count, want_top, want_newest = independent()
    assert (count, top) == (want_count, want_top) == (2, 2)
    assert newest is not None and want_newest is not None

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("tracking")}
    assert [d for d in diff if "ix_tracking" in str(d)] == []  # the model says the same
    assert "ix_tracking_updated_at" in indexes
