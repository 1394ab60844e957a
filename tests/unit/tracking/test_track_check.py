"""``repotrack track check``: per-item answers before any run, against the fake Gitee."""

from __future__ import annotations

import logging
import shutil

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from repotrack.cli.main import app
from repotrack.tracking.check import check_items, check_tokens
from repotrack.tracking.scheduler import Scheduler
from tests.unit.tracking.pipeline_world import git
from tests.unit.tracking.test_pipeline import FULL_NAME, World, world

__all__ = ["world"]


def answers(world: World) -> dict[str, tuple[bool, str]]:
    (result,) = check_items(world.settings, world.db)
    return {f.what: (f.ok, f.detail) for f in result.findings}


def test_a_ready_item_passes_every_check(world: World) -> None:
    found = answers(world)
    assert list(found) == ["upstream", "token", "downstream", "spec", "push"]
    assert all(ok for ok, _ in found.values()), found
    assert found["spec"] == (True, "hello.spec")
    assert found["upstream"][1].startswith("main at ")
    assert world.forge.calls_to("GET", "/user")  # the token was asked
    assert world.forge.pulls(FULL_NAME) == [] and world.forge.issues(FULL_NAME) == []
    assert git(world.bare, "for-each-ref", "refs/heads/patch-tracking/") == ""  # dry run only


def test_each_failure_is_named(world: World) -> None:
    world.settings.forges["gitee"].token = SecretStr("wrong")
    world.set_item(scm_branch="gone")
    found = answers(world)
    assert found["upstream"] == (False, "RepotrackError: branch 'gone' not found upstream")
    assert not found["token"][0]
    assert not found["push"][0] and "AuthError" in found["push"][1]
    assert "wrong" not in " ".join(detail for _, detail in found.values())


def test_missing_downstream_branch_and_unreachable_upstream(world: World) -> None:
    world.set_item(branch="no-such-branch")
    shutil.rmtree(world.upstream)
    found = answers(world)
    assert not found["upstream"][0]
    assert not found["downstream"][0] and "does not exist downstream" in found["downstream"][1]
    assert "spec" not in found


def test_cli_lines_and_exit_status(world: World) -> None:
    forge = world.settings.forges["gitee"]
    config = world.tmp / "repotrack.toml"
    config.write_text(
        f'home = "{world.settings.home}"\n[tracking]\nallow_local_upstreams = true\n'
        f'[forges.gitee]\nweb_url = "{forge.web_url}"\napi_url = "{forge.api_url}"\n'
        f'token = "{world.forge.token}"\n',
        encoding="utf-8",
    )
    run = ["--config", str(config), "track", "check"]
    ok = CliRunner().invoke(app, run)
    assert ok.exit_code == 0, ok.output
    lines = ok.output.splitlines()
    assert lines[0].startswith(f"{world.forge.repo_url(FULL_NAME)} master: upstream: ok (")
    assert lines[-1] == "1 item(s) ready, 0 with problems"
    world.set_item(scm_branch="gone")
    failed = CliRunner().invoke(app, [*run, "--repo", world.forge.repo_url(FULL_NAME)])
    assert failed.exit_code == 1
    assert "upstream: FAILED (RepotrackError: branch 'gone' not found upstream)" in failed.output
    assert "1 with problems" in failed.output
    none = CliRunner().invoke(app, [*run, "--repo", "https://gitee.com/x/y"])
    assert (none.exit_code, none.output) == (0, "no tracking item to check\n")


def test_tokens_checked_when_the_scheduler_starts(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    assert {name: f.ok for name, f in check_tokens(world.settings).items()} == {"gitee": True}
    world.settings.forges["gitee"].token = SecretStr("wrong")
    caplog.set_level(logging.INFO, logger="repotrack.tracking.scheduler")
    Scheduler(world.settings, world.db, interval=3600)._check_tokens()
    assert [r.message for r in caplog.records] == ["forge token refused"]
