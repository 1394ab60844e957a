"""Never a second issue or PR for one run, even when the forge stripped our marker or a
maintainer closed what we opened (issue 11): recovery matches by title and head branch,
open or closed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from repotrack.state import Run
from tests.unit.tracking.pipeline_world import add_commits, branches
from tests.unit.tracking.test_pipeline import FULL_NAME, World, clear_faults, world

__all__ = ["world"]


def fail_at(step_name: str) -> Callable[[str, int], None]:
    def hook(step: str, _item_id: int) -> None:
        if step == step_name:
            raise RuntimeError(f"crash before {step_name}")

    return hook


def forget_issue_number(world: World) -> None:
    with world.db.session() as session:
        session.execute(sa.update(Run).values(issue_number=None))


def test_issue_with_stripped_marker_found_by_title(world: World) -> None:
    shas = add_commits(world.upstream, 1)
    world.forge.fail_next(f"/repos/{FULL_NAME}/pulls", 500, method="POST", times=50)
    assert world.tracker().run_item(world.item_id).outcome == "failed"
    clear_faults(world.forge)
    with world.forge.locked():
        issue = world.forge.repo_state(FULL_NAME).issues[0]
        issue.body = issue.body.split("<!--", 1)[0]  # the forge dropped the HTML comment
    forget_issue_number(world)
    assert world.tracker().run_item(world.item_id).outcome == "success"
    assert len(world.forge.issues(FULL_NAME)) == 1
    assert len(world.forge.pulls(FULL_NAME)) == 1
    assert world.item().scm_commit == shas[-1]


def test_closed_issue_is_not_opened_again(world: World) -> None:
    add_commits(world.upstream, 1)
    world.forge.fail_next(f"/repos/{FULL_NAME}/pulls", 500, method="POST", times=50)
    assert world.tracker().run_item(world.item_id).outcome == "failed"
    clear_faults(world.forge)
    with world.forge.locked():
        world.forge.repo_state(FULL_NAME).issues[0].state = "closed"
    forget_issue_number(world)
    assert world.tracker().run_item(world.item_id).outcome == "success"
    (issue,) = world.forge.issues(FULL_NAME)
    (pull,) = world.forge.pulls(FULL_NAME)
    assert pull.body.splitlines()[0] == f"#{issue.number}"


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed-by-maintainer"])
def test_pull_request_found_by_head_open_or_closed(world: World, closed: bool) -> None:
    shas = add_commits(world.upstream, 1)
    first = world.tracker(hook=fail_at("advance")).run_item(world.item_id)
    assert first.outcome == "failed"
    (pull,) = world.forge.pulls(FULL_NAME)
    if closed:
        with world.forge.locked():
            world.forge.repo_state(FULL_NAME).pulls[0].state = "closed"
    with world.db.session() as session:
        session.execute(sa.update(Run).values(pr_number=None, pr_url=None))
    second = world.tracker().run_item(world.item_id)
    assert second.outcome == "success", second.error
    assert second.pr_url == pull.url
    assert len(world.forge.pulls(FULL_NAME)) == 1 and len(world.forge.issues(FULL_NAME)) == 1
    assert len(branches(world.bare)) == 1
    assert world.item().scm_commit == shas[-1]


def test_pull_request_creation_lists_pulls_once(world: World) -> None:
    """The pipeline looks for the PR once; creating it does not list the PRs again."""
    add_commits(world.upstream, 1)
    assert world.tracker().run_item(world.item_id).outcome == "success"
    assert len(world.forge.calls_to("GET", f"/repos/{FULL_NAME}/pulls")) == 1
