"""Patch tracking end to end, the way a user drives it.

The real service runs (``running_server``: TLS, SQLite); the fake Gitee in
``tests/forges`` answers the API and serves both the downstream packaging repository
and the upstream over git smart HTTP. The user adds an item with ``repotrack track
add`` (over HTTPS), commits land upstream, and ``repotrack track run --once`` (another
process sharing the service's state database) does the work. Then failures are
injected one at a time (forge 500 on PR creation, 429 with Retry-After, push rejected,
upstream unreachable) and the next run must end with exactly one more branch, issue
and PR.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.forges import ForgeServer
from tests.functional.server import ServerHandle, running_server
from tests.unit.tracking.pipeline_world import (
    add_commits,
    branches,
    files_on,
    git,
    make_upstream,
    seed_downstream,
    show,
)
from tests.unit.tracking.test_pipeline import clear_faults

pytestmark = pytest.mark.slow

GOLDEN = Path(__file__).resolve().parent / "golden"
FULL_NAME = "src-openeuler/hello"
TOKEN = "e2e-t0ken-secret"


@dataclass
class Stage:
    tmp: Path
    forge: ForgeServer
    server: ServerHandle
    config: Path
    work: Path  # upstream working copy
    upstream_bare: Path
    downstream: Path
    base: str

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
        env["COLUMNS"] = "200"
        done = subprocess.run(
            [str(Path(sys.executable).with_name("repotrack")), "--config", str(self.config), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{args} -> {done.returncode}\n{done.stdout}\n{done.stderr}")
        return done

    def push_upstream(self, count: int, start: int) -> list[str]:
        shas = add_commits(self.work, count, start=start)
        git(self.work, "push", "--quiet", str(self.upstream_bare), "main")
        return shas

    def tracking(self) -> dict[str, object]:
        with self.server.client() as http:
            (item,) = http.get("/tracking").json()["data"]
        return dict(item)

    def issue_rows(self) -> list[dict[str, object]]:
        with self.server.client() as http:
            return list(http.get("/issue").json()["data"])

    def counts(self) -> tuple[int, int, int]:
        return (
            len(branches(self.downstream)),
            len(self.forge.issues(FULL_NAME)),
            len(self.forge.pulls(FULL_NAME)),
        )


def _config(path: Path, server: ServerHandle, forge: ForgeServer) -> Path:
    settings = server.settings
    path.write_text(
        f"""home = "{settings.home}"

[tracking]
max_retries = 1
http_timeout = 10
upstream_allow_hosts = ["127.0.0.1"]  # the test's upstream: loopback is refused by default

[forges.gitee]
kind = "gitee"
web_url = "{forge.web_url}"
api_url = "{forge.api_url}"
token = "{TOKEN}"
username = "{forge.login}"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def stage(tmp_path: Path) -> Iterator[Stage]:
    with ForgeServer("gitee", token=TOKEN, git_root=tmp_path / "forge-git") as forge:
        downstream = seed_downstream(forge, FULL_NAME)
        work = tmp_path / "upstream-work"
        base = make_upstream(work)
        bare = tmp_path / "forge-git" / "upstream" / "hello.git"
        git(tmp_path, "clone", "--quiet", "--bare", str(work), str(bare))
        forge_settings = forge.forge_settings()
        with running_server(
            tmp_path / "service",
            forges={"gitee": forge_settings},
            tracking={"max_retries": 1, "upstream_allow_hosts": ["127.0.0.1"]},
        ) as server:
            config = _config(tmp_path / "repotrack.toml", server, forge)
            yield Stage(tmp_path, forge, server, config, work, bare, downstream.bare, base)


def _normalise_spec_diff(diff: str) -> str:
    diff = re.sub(r"^index [0-9a-f]+\.\.[0-9a-f]+", "index X..Y", diff, flags=re.MULTILINE)
    return re.sub(r"\* \w{3} \w{3} \d{2} \d{4}", "* DATE", diff)


def test_add_scan_then_survive_failures(stage: Stage) -> None:
    upstream_url = f"{stage.forge.web_url}/upstream/hello.git"
    added = stage.cli(
        "track", "add", "--server", stage.server.host_port,
        "--cacert", str(stage.server.cafile), "--user", "admin", "--password", "Passw0rd~",
        "--version_control", "git", "--scm_repo", upstream_url, "--scm_branch", "main",
        "--scm_commit", stage.base, "--repo", stage.forge.repo_url(FULL_NAME) + ".git",
        "--branch", "master", "--enabled", "true",
    )  # fmt: skip
    assert added.returncode == 0

    shas = stage.push_upstream(3, start=0)
    out = stage.cli("track", "run", "--once").stdout
    assert "success, 3 commit(s)" in out, out
    assert stage.counts() == (1, 1, 1)
    (branch,) = branches(stage.downstream)
    _check_patches_apply(stage, branch, shas)
    diff = git(stage.downstream, "diff", "master", branch, "--", "hello.spec")
    golden = GOLDEN / "hello.spec.diff"
    if os.environ.get("REGOLD") == "1":  # regenerate after a deliberate change
        golden.write_text(_normalise_spec_diff(diff) + "\n", encoding="utf-8")
    assert _normalise_spec_diff(diff) + "\n" == golden.read_text(encoding="utf-8")
    (issue,) = stage.forge.issues(FULL_NAME)
    (pull,) = stage.forge.pulls(FULL_NAME)
    assert pull.body.startswith(f"#{issue.number}\n")
    assert stage.tracking()["scm_commit"] == shas[-1]
    assert [row["issue"] for row in stage.issue_rows()] == [issue.number]
    assert TOKEN not in out

    rounds = [
        ("pr-500", lambda: stage.forge.fail_next(
            f"/repos/{FULL_NAME}/pulls", 500, method="POST", times=50), None),
        ("429", lambda: stage.forge.fail_next(
            f"/repos/{FULL_NAME}/pulls", 429, {"Retry-After": "1"}, method="POST"), None),
        ("push-rejected", lambda: _reject_pushes(stage.downstream), _accept_pushes),
        ("unreachable", lambda: shutil.move(stage.upstream_bare, stage.tmp / "away"),
         lambda _: shutil.move(stage.tmp / "away", stage.upstream_bare)),
    ]  # fmt: skip
    expected = 1
    for n, (name, inject, repair) in enumerate(rounds):
        new = stage.push_upstream(2, start=10 * (n + 1))
        inject()
        first = stage.cli("track", "run", "--once", check=False)
        if name == "429":  # waited as told, then succeeded
            assert first.returncode == 0 and "success" in first.stdout, first.stdout
        else:
            assert first.returncode == 1 and "failed" in first.stdout, (name, first.stdout)
            assert stage.tracking()["scm_commit"] != new[-1]
            clear_faults(stage.forge)
            if name == "pr-500":  # the user sees why, and that the item backs off
                status = stage.cli("track", "status").stdout
                assert "failed" in status and "UncertainOutcomeError" in status, status
            if repair is not None:
                repair(stage.downstream)
            second = stage.cli("track", "run", "--once", "--include-backoff")
            assert "success, 2 commit(s)" in second.stdout, (name, second.stdout)
        expected += 1
        assert stage.counts() == (expected, expected, expected), name
        assert stage.tracking()["scm_commit"] == new[-1], name
        assert len(stage.issue_rows()) == expected
    status = stage.cli("track", "status", "--json").stdout
    assert '"consecutive_failures": 0' in status and '"last_outcome": "success"' in status


def _check_patches_apply(stage: Stage, branch: str, shas: list[str]) -> None:
    replay = stage.tmp / "replay"
    git(stage.tmp, "clone", "--quiet", str(stage.work), str(replay))
    git(replay, "checkout", "--quiet", "-b", "replay", stage.base)
    assert {f"{sha}.patch" for sha in shas} <= set(files_on(stage.downstream, branch))
    for sha in shas:
        patch = stage.tmp / f"{sha}.patch"
        patch.write_text(show(stage.downstream, branch, f"{sha}.patch") + "\n", encoding="utf-8")
        git(replay, "am", "--quiet", str(patch))
        assert git(replay, "rev-parse", "HEAD^{tree}") == git(
            stage.work, "rev-parse", f"{sha}^{{tree}}"
        )


def _reject_pushes(bare: Path) -> None:
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'rejected by policy' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)


def _accept_pushes(bare: Path) -> None:
    (bare / "hooks" / "pre-receive").unlink()
