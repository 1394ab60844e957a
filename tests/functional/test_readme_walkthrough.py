"""The README's walkthrough, run exactly as written.

The steps block is taken from README.md and run by bash, unchanged; only the values
block is ours: a private home, a free port, a fake Gitee (``tests/forges``) that also
serves the upstream and the packaging repository over git smart HTTP, and the test
RPMs as the snapshot. Every variable the README's values block exports must be given
here, so the two cannot drift apart.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA, need_tool
from tests.forges import ForgeServer
from tests.functional.test_load_handoff import _free_port
from tests.unit.tracking.pipeline_world import (
    add_commits,
    branches,
    git,
    make_upstream,
    seed_downstream,
)

README = Path(__file__).resolve().parents[2] / "README.md"
BIN = Path(sys.executable).parent
FULL_NAME = "src-openeuler/hello"
TOKEN = "walkthrough-t0ken"


def _block(marker: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- walkthrough:{marker} -->\s*```sh\n(.*?)```", text, re.DOTALL)
    assert match, f"README.md has no walkthrough:{marker} block"
    return match.group(1)


def _exported_names(block: str) -> set[str]:
    names: set[str] = set()
    for line in block.splitlines():
        if line.startswith("export "):
            names |= set(re.findall(r"([A-Z_][A-Z0-9_]*)=", line.split("#", 1)[0]))
    return names


def test_readme_stays_short() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200


@pytest.mark.slow
def test_walkthrough_as_written(tmp_path: Path) -> None:
    need_tool("git")
    steps = _block("steps")
    with ForgeServer("gitee", token=TOKEN, git_root=tmp_path / "forge-git") as forge:
        downstream = seed_downstream(forge, FULL_NAME)
        work = tmp_path / "upstream-work"
        base = make_upstream(work)
        add_commits(work, 2)
        bare = tmp_path / "forge-git" / "upstream" / "hello.git"
        git(tmp_path, "clone", "--quiet", "--bare", str(work), str(bare))
        token_file = tmp_path / "gitee.token"
        token_file.write_text(TOKEN + "\n")
        token_file.chmod(0o600)
        values = {
            "REPOTRACK_HOME": str(tmp_path / "walk-home"),
            "REPOTRACK_SERVICE__LISTEN": f"127.0.0.1:{_free_port()}",
            "ADMIN_PASSWORD": "Walk-through-42",
            "FORGE_WEB": forge.web_url,
            "FORGE_API": forge.api_url,
            "FORGE_USER": forge.login,
            "FORGE_TOKEN_FILE": str(token_file),
            "UPSTREAM": f"{forge.web_url}/upstream/hello.git",
            "SINCE": base,
            "DOWNSTREAM": forge.repo_url(FULL_NAME) + ".git",
            "SNAPSHOT": str(DATA / "rpms"),
        }
        assert _exported_names(_block("values")) == set(values)
        env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
        env.update(values, PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", COLUMNS="200")
        # The fake forge serves the upstream on loopback, which trackers refuse unless allowed.
        env["REPOTRACK_TRACKING__UPSTREAM_ALLOW_HOSTS"] = '["127.0.0.1"]'
        proc = subprocess.Popen(
            ["bash", "-e", "-c", steps],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # so that a service left running by a failed step is ended
        )
        try:
            stdout, stderr = proc.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
        issues, pulls = forge.issues(FULL_NAME), forge.pulls(FULL_NAME)
    output = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode == 0, output
    assert "Traceback" not in done.stderr, output
    assert "Tracking successfully" in done.stdout, output
    assert "success, 2 commit(s)" in done.stdout, output
    assert re.search(r"^p10 2024-05-01: \d+ packages", done.stdout, re.MULTILINE), output
    assert "rt-hello-libs" in done.stdout and "8 of 8 package(s)" in done.stdout, output
    assert (len(issues), len(pulls)) == (1, 1)
    assert len(branches(downstream.bare)) == 1  # one new patch-tracking branch
    assert TOKEN not in done.stdout + done.stderr
