"""The item lock is kept alive during a long step, not only between steps."""

from __future__ import annotations

import time

import pytest

from repotrack.errors import ConflictError
from repotrack.tracking.locks import LockKeeper, try_lock
from tests.unit.tracking.pipeline_world import add_commits
from tests.unit.tracking.test_pipeline import World, world

__all__ = ["world"]


def test_lock_outlives_its_ttl_while_a_step_runs(world: World) -> None:
    add_commits(world.upstream, 1)
    seen: list[bool] = []

    def slow_build(step: str, item_id: int) -> None:
        if step == "build":
            time.sleep(3.5)  # a step longer than the lock's 1.5 s lifetime
            other = try_lock(world.db, item_id, ttl=1.5)
            seen.append(other is None)
            if other is not None:
                other.release()

    tracker = world.tracker(hook=slow_build)
    tracker.lock_ttl = 1.5
    result = tracker.run_item(world.item_id)
    assert seen == [True]  # nobody could take the item meanwhile
    assert result.outcome == "success", result.error


def test_lost_lock_stops_the_run_at_its_next_step(world: World) -> None:
    lock = try_lock(world.db, world.item_id, ttl=60)
    assert lock is not None
    with LockKeeper(lock, interval=3600) as keeper:
        keeper.check()
        lock.owner = "someone-else"  # as if it had expired and been taken
        with pytest.raises(ConflictError, match="lock expired and was taken"):
            keeper.check()
