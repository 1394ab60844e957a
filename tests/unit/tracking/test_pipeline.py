"""The pipeline end to end on real git, a fake forge over HTTP and a real state database.

Each test builds a local upstream with commits, a downstream bare repository served by
the fake Gitee (smart HTTP, token-checked pushes), and one tracking item, then runs
``Tracker.run_item`` the way the scheduler and ``repotrack track run`` do.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from repotrack.config import Settings
from repotrack.state import Issue, Run, StateDB, Tracking
from repotrack.tracking.locks import try_lock
from repotrack.tracking.pipeline import Tracker
from tests.forges import ForgeServer
from tests.unit.tracking.pipeline_world import (
    add_commits,
    branches,
    files_on,
    git,
    make_upstream,
    seed_downstream,
    show,
)

FULL_NAME = "src-openeuler/hello"


@dataclass
class World:
    tmp: Path
    forge: ForgeServer
    db: StateDB
    settings: Settings
    upstream: Path
    base: str
    bare: Path
    item_id: int

    def tracker(self, hook: Callable[[str, int], None] | None = None) -> Tracker:
        return Tracker(self.settings, self.db, hook=hook)

    def item(self) -> Tracking:
        with self.db.session() as session:
            item = session.get(Tracking, self.item_id)
            assert item is not None
            return item

    def runs(self) -> list[Run]:
        with self.db.session() as session:
            return list(session.scalars(sa.select(Run).order_by(Run.id)))

    def issue_rows(self) -> list[Issue]:
        with self.db.session() as session:
            return list(session.scalars(sa.select(Issue)))

    def set_item(self, **values: object) -> None:
        with self.db.session() as session:
            session.execute(sa.update(Tracking).where(Tracking.id == self.item_id).values(**values))


def _make_world(tmp_path: Path, state_url: str | None = None) -> Iterator[World]:
    with ForgeServer("gitee", token="t0ken", git_root=tmp_path / "forge-git") as forge:
        downstream = seed_downstream(forge, FULL_NAME)
        upstream = tmp_path / "upstream"
        base = make_upstream(upstream)
        settings = Settings(
            home=tmp_path / "home",
            tracking={"allow_local_upstreams": True, "max_retries": 1, "http_timeout": 10},
            forges={"gitee": forge.forge_settings()},
        )
        db = StateDB(state_url or settings.state_url)
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
        yield World(tmp_path, forge, db, settings, upstream, base, downstream.bare, item_id)
        db.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from _make_world(tmp_path)


def clear_faults(forge: ForgeServer) -> None:
    """Drop injected faults the failed run did not use (retry counts are the forge's policy)."""
    with forge.locked():
        forge._faults.clear()


def _assert_one_of_each(world: World, last_sha: str) -> None:
    assert len(branches(world.bare)) == 1
    assert len(world.forge.issues(FULL_NAME)) == 1
    assert len(world.forge.pulls(FULL_NAME)) == 1
    assert world.item().scm_commit == last_sha
    assert [row.issue for row in world.issue_rows()] == [world.forge.issues(FULL_NAME)[0].number]


def test_new_commits_make_branch_issue_pr_then_advance(world: World) -> None:
    shas = add_commits(world.upstream, 3)
    result = world.tracker().run_item(world.item_id)
    assert result.outcome == "success", result.error
    assert result.commits == 3
    (branch,) = branches(world.bare)
    assert result.branch_name == branch
    time = branch.removeprefix("patch-tracking/")
    assert len(time) == 20 and time.isdigit()
    files = files_on(world.bare, branch)
    assert {f"{sha}.patch" for sha in shas} <= set(files)
    spec = show(world.bare, branch, "hello.spec")
    assert re.search(rf"^Patch6000:\s+{shas[0]}\.patch$", spec, re.MULTILINE)
    assert re.search(rf"^Patch6002:\s+{shas[2]}\.patch$", spec, re.MULTILINE)
    assert "Release:        2%{?dist}" in spec
    (issue,) = world.forge.issues(FULL_NAME)
    assert issue.title == f"[patch tracking] master {time}"
    assert issue.body.startswith("| Commit | Datetime | Message |\n| ------ | ------ | ------ |\n")
    assert "change 0 \\| piped<br><br>body of change 0" in issue.body
    assert f"<!-- patch-tracking:item={world.item_id}:to={shas[-1]} -->" in issue.body
    (pull,) = world.forge.pulls(FULL_NAME)
    assert pull.title == f"[patch tracking] {time}"
    assert pull.body.splitlines()[0] == f"#{issue.number}"
    assert (pull.head, pull.base) == (branch, "master")
    _assert_one_of_each(world, shas[-1])
    (run,) = world.runs()
    assert (run.outcome, run.commits_processed, run.from_commit, run.to_commit) == (
        "success", 3, world.base, shas[-1],
    )  # fmt: skip
    assert run.issue_number == issue.number and run.pr_url == pull.url
    assert run.verification and run.verification in issue.body
    item = world.item()
    assert (item.consecutive_failures, item.last_error, item.backoff_until) == (0, None, None)


def test_patches_apply_with_git_am_onto_upstream_parent(world: World) -> None:
    shas = add_commits(world.upstream, 2)
    assert world.tracker().run_item(world.item_id).outcome == "success"
    (branch,) = branches(world.bare)
    check = world.tmp / "am"
    git(world.tmp, "clone", "--quiet", str(world.upstream), str(check))
    git(check, "checkout", "--quiet", "-b", "replay", world.base)
    for sha in shas:
        patch = world.tmp / f"{sha}.patch"
        patch.write_text(show(world.bare, branch, f"{sha}.patch") + "\n", encoding="utf-8")
        git(check, "am", "--quiet", str(patch))
    assert git(check, "rev-parse", "HEAD^{tree}") == git(world.upstream, "rev-parse", "HEAD^{tree}")


def test_empty_scm_commit_starts_at_head_and_emits_nothing(world: World) -> None:
    add_commits(world.upstream, 2)
    head = git(world.upstream, "rev-parse", "HEAD")
    world.set_item(scm_commit=None)
    result = world.tracker().run_item(world.item_id)
    assert result.outcome == "nothing-new"
    assert world.item().scm_commit == head
    assert branches(world.bare) == [] and world.forge.issues(FULL_NAME) == []


def test_nothing_new_touches_no_forge(world: World) -> None:
    world.forge.reset_calls()
    result = world.tracker().run_item(world.item_id)
    assert result.outcome == "nothing-new"
    assert world.forge.calls == []
    assert world.runs()[-1].outcome == "nothing-new"


def test_pr_failure_then_resume_reuses_branch_and_issue(world: World) -> None:
    shas = add_commits(world.upstream, 2)
    pulls = f"/repos/{FULL_NAME}/pulls"
    world.forge.fail_next(pulls, 500, method="POST", times=50)
    first = world.tracker().run_item(world.item_id)
    assert first.outcome == "failed" and "500" in (first.error or "")
    clear_faults(world.forge)
    assert world.item().scm_commit == world.base  # not advanced without a PR
    assert world.item().consecutive_failures == 1 and world.item().backoff_until is not None
    assert len(branches(world.bare)) == 1 and len(world.forge.issues(FULL_NAME)) == 1
    # meanwhile upstream moves on: the resumed run still closes the pending range
    later = add_commits(world.upstream, 1, start=10)
    second = world.tracker().run_item(world.item_id)
    assert second.outcome == "success", second.error
    assert second.branch_name == first.branch_name and second.commits == 2
    _assert_one_of_each(world, shas[-1])
    assert world.item().consecutive_failures == 0
    third = world.tracker().run_item(world.item_id)
    assert third.outcome == "success" and third.commits == 1
    assert world.item().scm_commit == later[-1]
    assert len(branches(world.bare)) == 2 and len(world.forge.pulls(FULL_NAME)) == 2


def test_issue_failure_after_push_reuses_the_pushed_branch(world: World) -> None:
    shas = add_commits(world.upstream, 1)
    world.forge.fail_next("/repos/src-openeuler/issues", 500, method="POST", times=50)
    first = world.tracker().run_item(world.item_id)
    assert first.outcome == "failed"
    clear_faults(world.forge)
    assert len(branches(world.bare)) == 1 and world.forge.issues(FULL_NAME) == []
    second = world.tracker().run_item(world.item_id)
    assert second.outcome == "success", second.error
    assert second.branch_name == first.branch_name
    _assert_one_of_each(world, shas[-1])


def test_issue_found_by_marker_when_run_history_lost_it(world: World) -> None:
    """A crash right after the issue was opened (run row never got the number)."""
    shas = add_commits(world.upstream, 1)
    world.forge.fail_next(f"/repos/{FULL_NAME}/pulls", 500, method="POST", times=50)
    first = world.tracker().run_item(world.item_id)
    assert first.outcome == "failed"
    clear_faults(world.forge)
    with world.db.session() as session:
        session.execute(sa.update(Run).values(issue_number=None))
    assert world.tracker().run_item(world.item_id).outcome == "success"
    _assert_one_of_each(world, shas[-1])


def test_rate_limited_pr_waits_and_succeeds(world: World) -> None:
    shas = add_commits(world.upstream, 1)
    world.forge.fail_next(
        f"/repos/{FULL_NAME}/pulls", 429, {"Retry-After": "1"}, method="POST", times=1
    )
    result = world.tracker().run_item(world.item_id)
    assert result.outcome == "success", result.error
    _assert_one_of_each(world, shas[-1])


def test_push_rejected_then_resumed(world: World) -> None:
    shas = add_commits(world.upstream, 1)
    hook = world.bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'rejected by policy' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    first = world.tracker().run_item(world.item_id)
    assert first.outcome == "failed"
    assert branches(world.bare) == [] and world.forge.issues(FULL_NAME) == []
    hook.unlink()
    second = world.tracker().run_item(world.item_id)
    assert second.outcome == "success", second.error
    assert second.branch_name == first.branch_name
    _assert_one_of_each(world, shas[-1])


def test_unreachable_upstream_is_recorded_and_backs_off(world: World) -> None:
    add_commits(world.upstream, 1)
    moved = world.tmp / "moved"
    shutil.move(world.upstream, moved)
    result = world.tracker().run_item(world.item_id)
    assert result.outcome == "failed" and "git fetch failed" in (result.error or "")
    item = world.item()
    assert item.consecutive_failures == 1 and item.last_error and item.backoff_until
    assert world.tracker().select() == []  # backing off: not picked by a scan
    shutil.move(moved, world.upstream)
    assert world.tracker().run_item(world.item_id).outcome == "success"


def test_rewritten_history_is_reported_not_looped(world: World) -> None:
    add_commits(world.upstream, 2)
    assert world.tracker().run_item(world.item_id).outcome == "success"
    git(world.upstream, "reset", "--quiet", "--hard", world.base)
    add_commits(world.upstream, 1, start=50)
    result = world.tracker().run_item(world.item_id)
    assert result.outcome == "failed" and "HistoryRewritten" in (result.error or "")
    assert "history" in (world.item().last_error or "")
    assert world.tracker().scan() == []  # skipped while backing off
    assert len(world.runs()) == 2


def test_item_deleted_mid_run_is_cancelled(world: World) -> None:
    add_commits(world.upstream, 1)

    def delete(step: str, item_id: int) -> None:
        if step == "issue":
            with world.db.session() as session:
                session.execute(sa.delete(Tracking).where(Tracking.id == item_id))

    result = world.tracker(hook=delete).run_item(world.item_id)
    assert result.outcome == "cancelled" and "deleted" in (result.error or "")
    assert world.forge.issues(FULL_NAME) == []
    assert world.runs() == []  # the run went with its item


def test_item_disabled_mid_run_stops_cleanly(world: World) -> None:
    add_commits(world.upstream, 1)

    def disable(step: str, item_id: int) -> None:
        if step == "push":
            world.set_item(enabled=False)

    result = world.tracker(hook=disable).run_item(world.item_id)
    assert result.outcome == "cancelled"
    assert branches(world.bare) == []
    item = world.item()
    assert item.enabled is False and item.consecutive_failures == 0
    assert item.scm_commit == world.base
    assert world.runs()[-1].outcome == "cancelled"


def test_concurrent_scm_commit_edit_is_not_overwritten(world: World) -> None:
    add_commits(world.upstream, 1)
    chosen = add_commits(world.upstream, 1, start=5)[0]

    def edit(step: str, item_id: int) -> None:
        if step == "advance":
            world.set_item(scm_commit=chosen, enabled=True)

    result = world.tracker(hook=edit).run_item(world.item_id)
    assert result.outcome == "cancelled"
    assert world.item().scm_commit == chosen


def test_locked_item_is_skipped(world: World) -> None:
    add_commits(world.upstream, 1)
    lock = try_lock(world.db, world.item_id)
    assert lock is not None
    try:
        assert world.tracker().run_item(world.item_id).outcome == "locked"
    finally:
        lock.release()
    assert world.runs() == []


def test_disabled_and_patch_tracking_branches_are_not_selected(world: World) -> None:
    assert world.tracker().select() == [world.item_id]
    world.set_item(enabled=False)
    assert world.tracker().select() == []
    assert world.tracker().run_item(world.item_id).outcome == "skipped"
    world.set_item(enabled=True, branch="patch-tracking/20260101000000000000")
    assert world.tracker().select() == []


def test_refused_upstream_url_fails_with_clear_error(world: World) -> None:
    world.set_item(scm_repo="ext::sh -c touch% /tmp/pwned")
    result = world.tracker().run_item(world.item_id)
    assert result.outcome == "failed" and "scm_repo" in (result.error or "")
    assert not Path("/tmp/pwned").exists()


@pytest.mark.services
def test_postgresql_state(tmp_path: Path, postgres_url: str) -> None:
    for world in _make_world(tmp_path, postgres_url):
        shas = add_commits(world.upstream, 2)
        assert world.tracker().run_item(world.item_id).outcome == "success"
        _assert_one_of_each(world, shas[-1])
        assert world.tracker().run_item(world.item_id).outcome == "nothing-new"


def test_scan_runs_items_in_parallel(world: World) -> None:
    add_commits(world.upstream, 1)
    results = world.tracker().scan(workers=2)
    assert [r.outcome for r in results] == ["success"]


def test_github_upstream_rows_link_to_commits(world: World) -> None:
    """``version_control: github`` reads ``<github_base_url>/<owner>/<name>.git``."""
    shas = add_commits(world.upstream, 1)
    assert world.forge.git_root is not None
    git(world.tmp, "clone", "--quiet", "--bare", str(world.upstream),
        str(world.forge.git_root / "up" / "hello.git"))  # fmt: skip
    base_url = world.forge.web_url
    tracking = world.settings.tracking.model_copy(update={"github_base_url": base_url})
    settings = world.settings.model_copy(update={"tracking": tracking})
    world.set_item(version_control="github", scm_repo="up/hello")
    result = Tracker(settings, world.db).run_item(world.item_id)
    assert result.outcome == "success", result.error
    (issue,) = world.forge.issues(FULL_NAME)
    assert f"| [{shas[0][:7]}]({base_url}/up/hello/commit/{shas[0]}) |" in issue.body


def test_symlinked_spec_is_refused_not_followed(world: World) -> None:
    secret = world.tmp / "host-secret.txt"
    secret.write_text("Version: 1\nRelease: 1\nhost secret\n", encoding="utf-8")
    work = world.tmp / "relink"
    git(world.tmp, "clone", "--quiet", str(world.bare), str(work))
    spec = work / "hello.spec"
    spec.unlink()
    spec.symlink_to(secret)
    git(work, "add", "-A")
    git(work, "commit", "--quiet", "-m", "spec becomes a symlink")
    git(work, "push", "--quiet", "origin", "HEAD:master")
    add_commits(world.upstream, 1)
    result = world.tracker().run_item(world.item_id)
    assert result.outcome == "failed"
    assert "symbolic link" in (result.error or "")
    assert branches(world.bare) == []
    assert world.forge.issues(FULL_NAME) == []
