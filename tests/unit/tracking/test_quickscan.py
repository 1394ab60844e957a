"""A scan asks each upstream once and settles quiet items in one go.

Local upstreams are read in-process from their ref files (``refads``); one that
``refads`` leaves to git (here: a symbolic ref among its branches) costs exactly one
``git ls-remote``.

git processes are counted through a logging ``git`` placed first on ``PATH`` (it runs
the real git), so the test sees exactly what a scan starts.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from repotrack.state import Run, Tracking
from repotrack.tracking.locks import try_lock
from repotrack.tracking.upstream import Mirror
from tests.unit.tracking.pipeline_world import add_commits, make_upstream
from tests.unit.tracking.test_pipeline import FULL_NAME, World, _make_world, world

__all__ = ["world"]

REAL_GIT = shutil.which("git")


@pytest.fixture
def git_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file that gets one line (the git subcommand) per git process started."""
    assert REAL_GIT is not None
    log = tmp_path / "git.log"
    log.touch()
    shim = tmp_path / "shim-bin"
    shim.mkdir()
    (shim / "git").write_text(
        "#!/bin/sh\n"
        "cmd=''; skip=''\n"
        'for a in "$@"; do\n'
        "  if [ -n \"$skip\" ]; then skip=''; continue; fi\n"
        '  case "$a" in -c|-C|--git-dir) skip=1;; -*) ;; *) cmd="$a"; break;; esac\n'
        "done\n"
        f'echo "$cmd" >> {log}\n'
        f'exec {REAL_GIT} "$@"\n',
        encoding="utf-8",
    )
    (shim / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim}{os.pathsep}{os.environ['PATH']}")
    return log


def commands(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").split()


def add_item(world: World, upstream: Path, base: str, branch: str) -> int:
    with world.db.session() as session:
        item = Tracking(
            version_control="git", scm_repo=str(upstream), scm_branch="main", scm_commit=base,
            repo=world.forge.repo_url(FULL_NAME), branch=branch, enabled=True,
        )  # fmt: skip
        session.add(item)
        session.flush()
        return item.id


def runs_by_item(world: World) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    with world.db.session() as session:
        for run in session.scalars(sa.select(Run).order_by(Run.id)):
            found.setdefault(run.tracking_id, []).append(run.outcome)
    return found


def test_quiet_scan_is_one_ls_remote_per_upstream_and_no_fetch(world: World, git_log: Path) -> None:
    second = world.tmp / "second"
    second_base = make_upstream(second)
    same = add_item(world, world.upstream, world.base, "next")
    other = add_item(world, second, second_base, "other")
    git_log.write_text("")
    results = world.tracker().scan()
    assert [(r.item_id, r.outcome) for r in results] == [
        (world.item_id, "nothing-new"), (same, "nothing-new"), (other, "nothing-new"),
    ]  # fmt: skip
    assert commands(git_log) == []  # both upstreams read in-process, nothing fetched
    assert runs_by_item(world) == {i: ["nothing-new"] for i in (world.item_id, same, other)}
    assert world.item().commits_behind == 0

    # An upstream refads leaves to git: one ls-remote for it, the other still in-process.
    with (second / ".git" / "refs" / "heads" / "alias").open("w") as alias:
        alias.write("ref: refs/heads/main\n")
    git_log.write_text("")
    results = world.tracker().scan()
    assert {r.outcome for r in results} == {"nothing-new"}
    assert commands(git_log) == ["ls-remote"]


def test_moved_branch_takes_the_full_pipeline_others_stay_quiet(
    world: World, git_log: Path
) -> None:
    second = world.tmp / "second"
    other = add_item(world, second, make_upstream(second), "other")
    shas = add_commits(world.upstream, 2)
    git_log.write_text("")
    results = {r.item_id: r for r in world.tracker().scan()}
    assert results[world.item_id].outcome == "success"
    assert results[other].outcome == "nothing-new"
    assert world.item().scm_commit == shas[-1]
    assert commands(git_log)[:2] == ["init", "fetch"]  # heads read in-process, then the fetch
    cache = world.settings.git_cache_dir
    assert Mirror(cache, str(world.upstream)).path.is_dir()
    assert not Mirror(cache, str(second)).path.exists()  # never fetched: it did not move


def test_failing_item_reset_once_quiet(world: World) -> None:
    """A quiet item that had failed before gets its health back, like a full run gives it."""
    world.set_item(consecutive_failures=3, last_error="boom", commits_behind=7)
    (result,) = world.tracker().scan(due_only=False)
    assert result.outcome == "nothing-new"
    item = world.item()
    assert (item.consecutive_failures, item.last_error, item.commits_behind) == (0, None, 0)


def test_locked_quiet_item_is_left_to_the_lock_holder(world: World) -> None:
    lock = try_lock(world.db, world.item_id)
    assert lock is not None
    try:
        (result,) = world.tracker().scan()
    finally:
        lock.release()
    assert result.outcome == "locked"
    assert runs_by_item(world) == {}


def test_unreachable_or_refused_upstream_runs_in_full_and_fails(world: World) -> None:
    shutil.rmtree(world.upstream)
    (result,) = world.tracker().scan()
    assert result.outcome == "failed" and "git fetch failed" in (result.error or "")
    world.set_item(scm_repo="ext::sh -c touch% /tmp/pwned", backoff_until=None)
    (result,) = world.tracker().scan()
    assert result.outcome == "failed" and "scm_repo" in (result.error or "")


def test_empty_scm_commit_is_initialised_by_the_full_pipeline(world: World) -> None:
    head = world.base
    world.set_item(scm_commit=None)
    (result,) = world.tracker().scan()
    assert result.outcome == "nothing-new"
    assert world.item().scm_commit == head


@pytest.mark.services
def test_quiet_scan_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    for pg_world in _make_world(tmp_path, postgres_url):
        lock = try_lock(pg_world.db, pg_world.item_id)  # an advisory lock: skipped
        assert lock is not None
        try:
            assert [r.outcome for r in pg_world.tracker().scan()] == ["locked"]
        finally:
            lock.release()
        pg_world.set_item(consecutive_failures=2)
        assert [r.outcome for r in pg_world.tracker().scan(due_only=False)] == ["nothing-new"]
        assert pg_world.item().consecutive_failures == 0
        assert runs_by_item(pg_world) == {pg_world.item_id: ["nothing-new"]}
