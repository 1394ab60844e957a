"""Does a repository have a branch? ``git ls-remote`` with a timeout and a safe URL policy.

The original CLI scraped ``<url>/tree/<branch>`` web pages (anything but a 404
passed) or ran ``git ls-remote`` without a timeout (reference §4.1, §10.1 #13). Here
every check is one ``git ls-remote --heads`` call:

* the URL has already passed ``check_repo_url`` (no ``-`` prefix, no ``ext::``, only
  https/http/git/ssh), it is passed after ``--``, and ``GIT_ALLOW_PROTOCOL`` limits
  git to those transports as a second fence;
* git never prompts (``GIT_TERMINAL_PROMPT=0``, ssh in batch mode) and is killed after
  ``LS_REMOTE_TIMEOUT`` seconds, so a check cannot hang.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from repotrack.tracking.item_files import check_repo_url

__all__ = ["LS_REMOTE_TIMEOUT", "RemoteCheck", "check_branch"]

LS_REMOTE_TIMEOUT = 30.0
_ALLOWED_PROTOCOLS = "https:http:git:ssh"


@dataclass(frozen=True)
class RemoteCheck:
    """The outcome: ``ok``, or ``message`` in the original's words plus a ``detail``."""

    ok: bool
    message: str = ""
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.message} ({self.detail})" if self.detail else self.message


def check_branch(url: str, branch: str, *, timeout: float = LS_REMOTE_TIMEOUT) -> RemoteCheck:
    """Whether ``url`` answers ``git ls-remote`` and has ``refs/heads/<branch>``."""
    check_repo_url(url, field="url")
    git = shutil.which("git")
    if git is None:
        return RemoteCheck(False, "git is not installed", "install git or pass --no-check")
    ref = f"refs/heads/{branch}"
    try:
        done = subprocess.run(
            [git, "-c", "protocol.ext.allow=never", "ls-remote", "--heads", "--", url, ref],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=_git_env(),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return RemoteCheck(False, f"Git url: {url} error.", f"no answer within {timeout:g} s")
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return RemoteCheck(False, f"Git url: {url} error.", lines[-1] if lines else "")
    if any(line.split("\t")[-1] == ref for line in done.stdout.splitlines()):
        return RemoteCheck(True)
    return RemoteCheck(False, f"Branch: {branch} not exist.", url)


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_ALLOW_PROTOCOL=_ALLOWED_PROTOCOLS,
        GIT_SSH_COMMAND="ssh -o BatchMode=yes -o ConnectTimeout=15",
        LC_ALL="C",
    )
    return env
