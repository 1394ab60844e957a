"""A downstream ``repo`` in the original docs' ``owner/name`` form runs, on the default forge.

The original tracker removed ``https://gitee.com/`` from ``repo`` and used the rest, so
both forms ran against Gitee; here both run against the configured Gitee (the fake).
"""

from __future__ import annotations

from tests.unit.tracking.pipeline_world import add_commits, branches
from tests.unit.tracking.test_pipeline import FULL_NAME, World, world

__all__ = ["world"]


def test_owner_name_repo_runs_on_the_default_forge(world: World) -> None:
    world.set_item(repo=FULL_NAME)
    shas = add_commits(world.upstream, 2)
    result = world.tracker().run_item(world.item_id)
    assert result.outcome == "success", result.error
    assert len(branches(world.bare)) == 1
    assert len(world.forge.issues(FULL_NAME)) == 1
    assert len(world.forge.pulls(FULL_NAME)) == 1
    assert world.item().scm_commit == shas[-1]
    assert [row.repo for row in world.issue_rows()] == [FULL_NAME]
