"""Fork mode on all four forges (issue 11): the branch goes to the token owner's fork,
made once, and the pull request comes from ``fork:branch``.

Each fake forge refuses pushes to the target repository (the bot has no push rights, as
on openEuler's ``src-openeuler/*``), serves the fork over git smart HTTP once it has
been asked for, and (GitHub, GitLab) keeps it "being copied" for a few lookups, as the
real ones fork in a background job. Real git, a real state database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from repotrack.config import Settings
from repotrack.state import StateDB, Tracking
from repotrack.tracking.check import check_items
from repotrack.tracking.pipeline import Tracker
from tests.forges import ForgeServer
from tests.unit.tracking.pipeline_world import (
    add_commits,
    branches,
    files_on,
    make_upstream,
    seed_downstream,
)

FULL_NAME = "src-openeuler/hello"
BOT = "patch-bot"
FORK = f"{BOT}/hello"
KINDS = ["gitee", "github", "gitlab", "gitea"]


@dataclass
class ForkWorld:
    kind: str
    forge: ForgeServer
    db: StateDB
    settings: Settings
    upstream: Path
    item_id: int

    def run(self) -> str:
        result = Tracker(self.settings, self.db).run_item(self.item_id)
        assert result.outcome in ("success", "nothing-new", "failed"), result
        return result.outcome if result.error is None else f"{result.outcome}: {result.error}"

    def scm_commit(self) -> str | None:
        with self.db.session() as session:
            return session.scalar(sa.select(Tracking.scm_commit))

    def fork_posts(self) -> int:
        return len(self.forge.calls_to("POST", self.fork_path()))

    def fork_path(self) -> str:
        if self.kind == "gitlab":
            return f"/projects/{FULL_NAME}/fork"
        return f"/repos/{FULL_NAME}/forks"

    def pull_path(self) -> str:
        if self.kind == "gitlab":  # a merge request from a fork is created on the fork
            return f"/projects/{FORK}/merge_requests"
        return f"/repos/{FULL_NAME}/pulls"

    def fork_branches(self) -> list[str]:
        return branches(self.forge.repo_path(FORK)) if FORK in self.forge.forks() else []

    def target_branches(self) -> list[str]:
        return branches(self.forge.repo_path(FULL_NAME))


def _world(tmp_path: Path, kind: str, *, fork: bool = True) -> Iterator[ForkWorld]:
    with ForgeServer(kind, token="t0ken", login=BOT, git_root=tmp_path / "git") as forge:
        seed_downstream(forge, FULL_NAME)
        forge.deny_push(FULL_NAME)
        forge.fork_delay = 2 if kind in ("github", "gitlab") else 0
        upstream = tmp_path / "upstream"
        base = make_upstream(upstream)
        forge_settings = forge.forge_settings()
        forge_settings.fork = fork
        settings = Settings(
            home=tmp_path / "home",
            tracking={"allow_local_upstreams": True, "max_retries": 1, "http_timeout": 10},
            forges={kind: forge_settings},
        )
        db = StateDB(settings.state_url)
        with db.session() as session:
            item = Tracking(
                version_control="git",
                scm_repo=str(upstream),
                scm_branch="main",
                scm_commit=base,
                repo=forge.repo_url(FULL_NAME),
                branch="master",
                enabled=True,
            )
            session.add(item)
            session.flush()
            item_id = item.id
        yield ForkWorld(kind, forge, db, settings, upstream, item_id)
        db.close()


@pytest.fixture(params=KINDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ForkWorld]:
    yield from _world(tmp_path, request.param)


def _assert_one_of_each(world: ForkWorld, pulls: int = 1) -> None:
    assert world.forge.forks() == {FORK: FULL_NAME}
    assert world.target_branches() == []
    assert len(world.fork_branches()) == pulls
    assert len(world.forge.issues(FULL_NAME)) == pulls
    made = world.forge.pulls(FULL_NAME)
    assert len(made) == pulls
    assert all(p.head_repo == FORK and p.base == "master" for p in made)
    assert sorted(p.head for p in made) == world.fork_branches()
    assert world.forge.pulls(FORK) == [] and world.forge.issues(FORK) == []


def test_fork_made_once_branch_pushed_there_pr_from_it(world: ForkWorld) -> None:
    shas = add_commits(world.upstream, 2)
    assert world.run() == "success"
    _assert_one_of_each(world)
    (branch,) = world.fork_branches()
    assert {f"{sha}.patch" for sha in shas} <= set(files_on(world.forge.repo_path(FORK), branch))
    assert world.scm_commit() == shas[-1]
    assert world.fork_posts() == 1
    pull_call = world.forge.calls_to("POST", world.pull_path())[-1]
    if world.kind == "gitlab":
        assert pull_call.fields["source_branch"] == branch
        assert pull_call.fields["target_project_id"] == world.forge.project_id(FULL_NAME)
    else:
        assert pull_call.fields["head"] == f"{BOT}:{branch}"

    # Re-run with nothing new, then with new commits: the same fork, no second POST.
    assert world.run() == "nothing-new"
    more = add_commits(world.upstream, 1, start=2)
    assert world.run() == "success"
    _assert_one_of_each(world, pulls=2)
    assert world.fork_posts() == 1
    assert world.scm_commit() == more[-1]


def test_lost_fork_answer_and_failed_pr_leave_one_of_each(world: ForkWorld) -> None:
    shas = add_commits(world.upstream, 1)
    # The fork is made but the answer is lost (a proxy 502); then PR creation crashes.
    world.forge.fail_next(world.fork_path(), 502, method="POST", effect=True)
    world.forge.fail_next(world.pull_path(), 500, method="POST", times=50)
    assert world.run().startswith("failed")
    world.forge.clear_faults()
    assert world.forge.forks() == {FORK: FULL_NAME}
    assert len(world.fork_branches()) == 1 and world.forge.pulls(FULL_NAME) == []
    assert world.run() == "success"
    _assert_one_of_each(world)
    assert world.scm_commit() == shas[-1]


def test_pr_created_but_answer_lost(world: ForkWorld) -> None:
    add_commits(world.upstream, 1)
    world.forge.fail_next(world.pull_path(), 502, method="POST", effect=True, times=50)
    world.run()
    world.forge.clear_faults()
    world.run()
    _assert_one_of_each(world)


def test_a_repository_of_that_name_that_is_no_fork_is_refused(tmp_path: Path) -> None:
    for world in _world(tmp_path, "github"):
        world.forge.add_plain_repo(FORK)
        add_commits(world.upstream, 1)
        outcome = world.run()
        assert outcome.startswith("failed") and "is not a fork of src-openeuler/hello" in outcome
        assert world.forge.forks() == {} and world.forge.pulls(FULL_NAME) == []
        assert world.fork_posts() == 0


def test_direct_mode_stays_the_default_and_needs_push_rights(tmp_path: Path) -> None:
    for world in _world(tmp_path, "gitee", fork=False):
        add_commits(world.upstream, 1)
        outcome = world.run()
        assert outcome.startswith("failed") and "AuthError" in outcome
        assert world.forge.forks() == {} and world.fork_posts() == 0
        assert world.forge.pulls(FULL_NAME) == []


@pytest.mark.parametrize("kind", ["gitee", "gitlab"])
def test_check_says_fork_possible_where_push_rights_are_missing(tmp_path: Path, kind: str) -> None:
    for world in _world(tmp_path, kind, fork=False):
        (item,) = check_items(world.settings, world.db)
        push = {f.what: f for f in item.findings}["push"]
        assert not push.ok
        assert f"fork possible: {BOT}/hello would be created" in push.detail
        assert f'set fork = true (or fork_repos = ["{FULL_NAME}"]) under [forges.{kind}]' in (
            push.detail
        )

        world.settings.forges[kind].fork = True
        (item,) = check_items(world.settings, world.db)
        assert item.ok, item.lines()
        push = {f.what: f for f in item.findings}["push"]
        assert push.detail.startswith("fork mode: fork possible")
        assert world.forge.forks() == {}  # a check creates nothing

        add_commits(world.upstream, 1)
        assert world.run() == "success"
        (item,) = check_items(world.settings, world.db)
        push = {f.what: f for f in item.findings}["push"]
        assert push.ok and "the token may push there" in push.detail, push
        assert len(world.fork_branches()) == 1  # the dry run pushed nothing


def test_fork_repos_choose_fork_mode_per_repository(tmp_path: Path) -> None:
    for world in _world(tmp_path, "gitea", fork=False):
        world.settings.forges["gitea"].fork_repos = ["other/*"]
        add_commits(world.upstream, 1)
        assert "AuthError" in world.run()  # not named: direct mode, no push rights
        assert world.forge.forks() == {}
        world.settings.forges["gitea"].fork_repos = ["other/*", "src-openeuler/*"]
        assert world.run() == "success"
        _assert_one_of_each(world)
