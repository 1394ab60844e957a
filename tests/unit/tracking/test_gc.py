"""``repotrack track gc`` and the scheduler prune caches of deleted items, never busy ones."""

from __future__ import annotations

import fcntl

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from repotrack.cli.main import app
from repotrack.errors import UpstreamError
from repotrack.state import Tracking
from repotrack.tracking.gc import prune_caches
from repotrack.tracking.scheduler import Scheduler
from repotrack.tracking.upstream import Mirror
from tests.unit.tracking.pipeline_world import add_commits, make_upstream
from tests.unit.tracking.test_pipeline import FULL_NAME, World, world

__all__ = ["world"]


def cached(world: World) -> dict[str, list[str]]:
    root = world.settings.git_cache_dir
    return {
        kind: sorted(p.name for p in (root / kind).glob("*.git")) if (root / kind).is_dir() else []
        for kind in ("upstream", "downstream")
    }


def second_item(world: World) -> int:
    other = world.tmp / "other-upstream"
    base = make_upstream(other)
    add_commits(other, 1)
    with world.db.session() as session:
        item = Tracking(
            version_control="git", scm_repo=str(other), scm_branch="main", scm_commit=base,
            repo=world.forge.repo_url(FULL_NAME), branch="next", enabled=True,
        )  # fmt: skip
        session.add(item)
        session.flush()
        return item.id


def test_mirrors_of_deleted_items_go_used_ones_stay(world: World) -> None:
    add_commits(world.upstream, 1)
    other = second_item(world)
    results = {r.item_id: r for r in world.tracker().scan()}
    assert results[world.item_id].outcome == "success"
    assert "next" in (results[other].error or "")  # no such downstream branch; mirror made
    before = cached(world)
    assert len(before["upstream"]) == 2 and len(before["downstream"]) == 1
    assert prune_caches(world.settings, world.db).removed == []
    with world.db.session() as session:
        session.execute(sa.delete(Tracking).where(Tracking.id == other))
    result = prune_caches(world.settings, world.db)
    assert len(result.removed) == 1 and result.kept == 2
    after = cached(world)
    assert after["downstream"] == before["downstream"]  # still used by the first item
    assert len(after["upstream"]) == 1
    assert not (world.settings.git_cache_dir / "upstream" / f"{result.removed[0]}.lock").exists()


def test_busy_mirror_is_left_for_the_next_pass(world: World) -> None:
    add_commits(world.upstream, 1)
    world.tracker().scan()
    with world.db.session() as session:
        session.execute(sa.delete(Tracking))
    root = world.settings.git_cache_dir / "upstream"
    (mirror,) = root.glob("*.git")
    with (root / f"{mirror.name}.lock").open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        busy = prune_caches(world.settings, world.db)
    assert busy.busy == [mirror.name] and mirror.is_dir()
    assert prune_caches(world.settings, world.db).removed == [mirror.name]
    assert not mirror.exists()


def test_cli_and_scheduler_prune(world: World) -> None:
    add_commits(world.upstream, 1)
    world.tracker().scan()
    with world.db.session() as session:
        session.execute(sa.delete(Tracking))
    scheduler = Scheduler(world.settings, world.db, interval=3600)
    scheduler._scan_once()
    assert cached(world) == {"upstream": [], "downstream": []}
    result = CliRunner().invoke(
        app, ["track", "gc"], env={"REPOTRACK_HOME": str(world.settings.home)}
    )
    assert result.exit_code == 0, result.output
    assert result.output.endswith("removed 0 unused mirror(s) and clone(s), kept 0, 0 busy "
                                  "(left for the next run)\n")  # fmt: skip


def test_lock_file_of_a_failed_first_fetch_goes(world: World) -> None:
    gone = Mirror(world.settings.git_cache_dir, str(world.tmp / "no-such-upstream"), timeout=30)
    with pytest.raises(UpstreamError):
        gone.fetch()
    lock = gone.path.parent / f"{gone.path.name}.lock"
    assert lock.exists() and not gone.path.exists()
    prune_caches(world.settings, world.db)
    assert not lock.exists()
