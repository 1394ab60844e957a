"""A real ``git daemon`` serving bare repositories from a tmp dir, for branch checks."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import need_tool

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
    "HOME": "/nonexistent",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}


def make_bare_repo(root: Path, name: str, branch: str) -> Path:
    """A bare repository ``root/name`` with one commit on ``branch``."""
    bare = root / name
    work = root / f"{name}.work"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True, env=_GIT_ENV)
    subprocess.run(["git", "init", "-q", "-b", branch, str(work)], check=True, env=_GIT_ENV)
    (work / "README").write_text("hello\n")
    for args in (["add", "README"], ["commit", "-q", "-m", "first"]):
        subprocess.run(["git", "-C", str(work), *args], check=True, env=_GIT_ENV)
    subprocess.run(
        ["git", "-C", str(work), "push", "-q", str(bare), f"HEAD:refs/heads/{branch}"],
        check=True,
        env=_GIT_ENV,
    )
    return bare


@contextmanager
def git_daemon(root: Path) -> Iterator[str]:
    """Serve every repository under ``root``; yields ``git://127.0.0.1:<port>``."""
    need_tool("git")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            "git",
            "daemon",
            "--export-all",
            f"--base-path={root}",
            "--listen=127.0.0.1",
            f"--port={port}",
            "--reuseaddr",
            str(root),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_listening(port, process)
        yield f"git://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("git daemon exited during start-up")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("git daemon did not start listening")
