"""Running git: the one boundary where a subprocess becomes a ``GitCommandError``.

Every git process the tracker starts goes through :func:`run_git`: transport helpers
off (``ext::``, ``fd::``), no prompts, its own process group so that a timeout (or a
directory outgrowing its :class:`SizeLimit`) kills git *and* its ``git-remote-http``
children, and stderr scrubbed of secrets and URL credentials before it reaches an
error message. ``repotrack.tracking.upstream`` re-exports these names.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from repotrack.errors import RepotrackError, UpstreamError

__all__ = [
    "DEFAULT_GIT_TIMEOUT",
    "GitCommandError",
    "SizeLimit",
    "directory_size",
    "git_env",
    "redact_url",
    "run_git",
]

#: Seconds a single git command may take unless the caller says otherwise.
DEFAULT_GIT_TIMEOUT = 300.0

#: Options every git invocation gets: only the transports we name, never ``ext::``/``fd::``
#: or any other remote helper; ``file`` is added per call for allowed local remotes.
_SAFE_OPTIONS = (
    "-c", "protocol.allow=never",
    "-c", "protocol.https.allow=always",
    "-c", "protocol.http.allow=always",
    "-c", "protocol.ssh.allow=always",
    "-c", "protocol.git.allow=always",
    "-c", "protocol.ext.allow=never",
    "-c", "protocol.fd.allow=never",
    "-c", "core.askPass=",
    "-c", "gc.autoDetach=false",
)  # fmt: skip


class GitCommandError(UpstreamError):
    """A git command exited non-zero or timed out; ``stderr`` is its redacted last words."""

    def __init__(self, message: str, *, url: str | None = None, stderr: str = "") -> None:
        self.stderr = stderr
        super().__init__(message, url=url)


def redact_url(url: str) -> str:
    """The URL with any user-info (``user:token@``) replaced, safe for logs and errors."""
    return re.sub(r"(?<=://)[^/@\s]*@", "***@", url)


def git_env(extra: Mapping[str, str] | None = None, *, isolated: bool = False) -> dict[str, str]:
    """The environment git runs in: never prompts, no user transports, optional bare config.

    ``isolated`` ignores system and global git config, for commands whose output must not
    depend on the host (format-patch prefixes, signatures, diff options).
    """
    env = dict(os.environ)
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_ASKPASS", "SSH_ASKPASS"):
        env.pop(key, None)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    env["LC_ALL"] = "C"
    if isolated:
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env["GIT_CONFIG_GLOBAL"] = os.devnull
    if extra:
        env.update(extra)
    return env


def run_git(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout: float = DEFAULT_GIT_TIMEOUT,
    env: Mapping[str, str] | None = None,
    isolated: bool = False,
    stdin: bytes | None = None,
    url: str | None = None,
    secrets: Sequence[str] = (),
    error: type[RepotrackError] = GitCommandError,
    allow_file: bool = False,
    size_limit: SizeLimit | None = None,
) -> bytes:
    """Run ``git <args>`` and return stdout; a failure raises ``error`` with redacted stderr.

    ``secrets`` are scrubbed from any message; ``url`` (redacted) names what was being read.
    ``allow_file`` permits the ``file`` transport (local remotes the settings allowed).
    git runs in its own process group: on a timeout, or when ``size_limit``'s directory
    outgrows it, the whole group is killed, so no ``git-remote-http`` child is left
    holding the connection (and the URL) after git itself is gone.
    """
    file_rule = "always" if allow_file else "never"
    argv = ["git", *_SAFE_OPTIONS, "-c", f"protocol.file.allow={file_rule}", *args]
    command = _command_name(args)
    shown = redact_url(url) if url else None
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=git_env(env, isolated=isolated),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise _make_error(error, f"cannot run git: {exc}", shown, "") from exc
    with proc:
        stdout, stderr_bytes, stopped = _communicate(proc, stdin, timeout, size_limit)
    if stopped is not None:
        raise _make_error(error, f"git {command} {stopped}", shown, "")
    if proc.returncode != 0:
        stderr = _scrub(stderr_bytes.decode("utf-8", "replace"), secrets)
        last = _last_line(stderr) or f"exit status {proc.returncode}"
        raise _make_error(error, f"git {command} failed: {last}", shown, stderr)
    return stdout


@dataclass(frozen=True)
class SizeLimit:
    """Stop a git command when ``path`` (a directory it writes) exceeds ``max_bytes``."""

    path: Path
    max_bytes: int
    setting: str = "tracking.max_mirror_bytes"

    def exceeded(self) -> bool:
        return directory_size(self.path) > self.max_bytes

    def reason(self) -> str:
        return f"stopped: {self.path.name} grew beyond {self.max_bytes} bytes ({self.setting})"


#: How often a running git command's deadline and size limit are looked at (seconds).
_WATCH_STEP = 0.5


def _communicate(
    proc: subprocess.Popen[bytes],
    stdin: bytes | None,
    timeout: float,
    size_limit: SizeLimit | None,
) -> tuple[bytes, bytes, str | None]:
    """(stdout, stderr, why it was stopped or None), killing the process group if needed."""
    deadline = time.monotonic() + timeout
    pending = stdin
    while True:
        step = min(_WATCH_STEP, max(0.0, deadline - time.monotonic()))
        try:
            out, err = proc.communicate(pending, timeout=step)
            return out, err, None
        except subprocess.TimeoutExpired:
            pending = None
        if time.monotonic() >= deadline:
            stopped = f"timed out after {timeout:g}s"
        elif size_limit is not None and size_limit.exceeded():
            stopped = size_limit.reason()
        else:
            continue
        _kill_group(proc)
        proc.communicate()
        return b"", b"", stopped


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


def directory_size(path: Path) -> int:
    """Bytes of the regular files under ``path`` (0 if it does not exist); links not followed."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / name).lstat().st_size
    return total


def _command_name(args: Sequence[str]) -> str:
    """The git subcommand in ``args`` (skipping ``-C``/``-c``/``--git-dir`` and their values)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("-C", "-c", "--git-dir"):
            skip = True
        elif not arg.startswith("-"):
            return arg
    return "command"


def _make_error(
    error: type[RepotrackError], message: str, url: str | None, stderr: str
) -> RepotrackError:
    if issubclass(error, GitCommandError):
        return error(message, url=url, stderr=stderr)
    if issubclass(error, UpstreamError):
        return error(message, url=url)
    return error(f"{url}: {message}" if url else message)


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    return redact_url(text)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # git prints hints after the real error; prefer the last "fatal:"/"error:" line.
    for line in reversed(lines):
        if line.startswith(("fatal:", "error:")):
            return line
    return lines[-1] if lines else ""
