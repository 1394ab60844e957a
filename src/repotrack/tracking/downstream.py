"""Git work on the downstream (packaging) repository: check out, commit, push a branch.

The original service uploaded files one by one through Gitee's contents API, so a failure
midway left half a branch behind. Here the branch is built locally and pushed in one
``git push``: it exists on the remote complete or not at all.

Layout: one bare cache repository per clone URL under ``cache_dir`` (readable slug plus a
hash of the URL), fetched incrementally; each run gets its own detached worktree under
``cache_dir/worktrees/``, so two items sharing a downstream repository never step on each
other. No local branches are created: the commit is pushed as ``HEAD:refs/heads/<branch>``.

Credentials: an HTTPS token never touches the disk. Every network command runs with
``GIT_ASKPASS`` pointing at a small script (no secret inside) that prints the user name or
token from variables set in that one command's environment; ``credential.helper`` is reset
so a configured helper neither answers nor *stores* the token. The clone URL is passed on
the command line, never written to a config file, and error messages have the token and any
URL user-info replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import time
import uuid
from pathlib import Path, PurePosixPath

from pydantic import SecretStr

from repotrack.errors import (
    AuthError,
    ConflictError,
    ForgeError,
    InputError,
    NotFoundError,
    RepotrackError,
)
from repotrack.tracking.upstream import (
    DEFAULT_GIT_TIMEOUT,
    GitCommandError,
    check_branch_name,
    check_git_url,
    file_lock,
    is_local_url,
    redact_url,
    run_git,
)

__all__ = ["DEFAULT_GIT_USERNAME", "Downstream"]

#: User name sent with a token when none is configured; GitHub, GitLab and Gitea accept it.
DEFAULT_GIT_USERNAME = "oauth2"
#: Worktrees older than this are left-overs of crashed runs and are removed by ``prepare``.
_STALE_WORKTREE_SECONDS = 6 * 3600
_ASKPASS = """#!/bin/sh
# Written by repotrack: answers git's credential prompts from this command's environment.
case "$1" in
  [Uu]sername*) printf '%s\\n' "$REPOTRACK_GIT_USERNAME" ;;
  *) printf '%s\\n' "$REPOTRACK_GIT_PASSWORD" ;;
esac
"""
_AUTH_FAILED = ("Authentication failed", "could not read Username", "could not read Password",
                "403", "401", "Permission denied")  # fmt: skip
_AUTHOR = re.compile(r"^\s*(?P<name>[^<>]+?)\s*<(?P<email>[^<>\s]+)>\s*$")


class Downstream:
    """The downstream repository at ``clone_url``, cached under ``cache_dir``."""

    def __init__(
        self,
        cache_dir: Path,
        clone_url: str,
        *,
        token: SecretStr | None = None,
        username: str | None = None,
        timeout: float = DEFAULT_GIT_TIMEOUT,
        push_url: str | None = None,
    ) -> None:
        check_git_url(clone_url, allow_local=True, field="repo")
        if push_url is not None:
            check_git_url(push_url, allow_local=True, field="repo")
        self.url = clone_url
        #: Where branches go: the repository itself, or in fork mode the token owner's fork.
        self.push_url = push_url or clone_url
        self.cache_dir = Path(cache_dir)
        self.timeout = timeout
        self._token = token
        self._username = username or DEFAULT_GIT_USERNAME
        digest = hashlib.sha256(clone_url.encode("utf-8")).hexdigest()[:20]
        tail = redact_url(clone_url).rstrip("/").removesuffix(".git").split("/")[-1]
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", tail).strip("._-")[:40] or "repo"
        self.path = self.cache_dir / f"{slug}-{digest}.git"
        self._worktrees = self.cache_dir / "worktrees"
        self._lock_path = self.cache_dir / f"{self.path.name}.lock"

    def __repr__(self) -> str:
        return f"Downstream({redact_url(self.url)!r})"

    # -- public operations

    def prepare(self, base_branch: str) -> Path:
        """Fetch ``base_branch`` and return a fresh detached checkout of it (a new worktree)."""
        check_branch_name(base_branch, field="branch")
        remote_ref = f"refs/remotes/origin/{base_branch}"
        with file_lock(self._lock_path, timeout=self.timeout, what=redact_url(self.url)):
            if not (self.path / "HEAD").exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                run_git(["init", "--quiet", "--bare", str(self.path)], isolated=True)
            self._network(
                "--git-dir", str(self.path), "fetch", "--quiet", "--force",
                "--no-write-fetch-head", "--", self.url,
                f"+refs/heads/{base_branch}:{remote_ref}",
                missing=f"branch {base_branch!r} does not exist downstream",
            )  # fmt: skip
            self._remove_stale_worktrees()
            worktree = self._worktrees / f"{self.path.stem}-{uuid.uuid4().hex[:12]}"
            self._worktrees.mkdir(parents=True, exist_ok=True)
            self._local(
                "--git-dir", str(self.path), "worktree", "add", "--quiet", "--detach",
                str(worktree), remote_ref,
            )  # fmt: skip
        return worktree

    def release(self, worktree: Path) -> None:
        """Remove a worktree made by :meth:`prepare` (left-overs are also pruned later)."""
        shutil.rmtree(worktree, ignore_errors=True)
        with contextlib.suppress(RepotrackError):
            self._local("--git-dir", str(self.path), "worktree", "prune")

    def remote_branch_exists(self, branch: str) -> str | None:
        """The sha ``branch`` points at on the remote, or None when it does not exist."""
        check_branch_name(branch, field="branch")
        out = self._network(
            "ls-remote", "--heads", "--", self.push_url, f"refs/heads/{branch}", url=self.push_url
        )
        for line in out.decode("utf-8", "replace").splitlines():
            sha, _, ref = line.partition("\t")
            if ref == f"refs/heads/{branch}":
                return sha
        return None

    def check_push(self, worktree: Path, *, branch: str) -> None:
        """Whether we may push ``branch``: ``git push --dry-run`` of the checkout's HEAD.

        The forge checks the credentials when git asks for the receive-pack
        advertisement, so a token without write access fails here (``AuthError``) without
        anything being sent.
        """
        check_branch_name(branch, field="branch")
        self._network("-C", str(worktree), "push", "--dry-run", "--quiet", "--no-verify",
                      "--", self.push_url, f"HEAD:refs/heads/{branch}",
                      url=self.push_url)  # fmt: skip

    def commit_and_push(
        self, worktree: Path, *, branch: str, files: dict[str, bytes], message: str, author: str
    ) -> str:
        """Write ``files``, commit them on top of the checked-out base and push as ``branch``.

        Returns the new commit's sha. Never force-pushes: an existing remote branch with
        other content is a :class:`ConflictError`.
        """
        check_branch_name(branch, field="branch")
        ident = _AUTHOR.match(author)
        if ident is None:
            raise InputError(f"expected 'Name <email>', got {author!r}", field="author")
        if not files:
            raise InputError("nothing to commit", field="files")
        paths = [_safe_path(worktree, name) for name in files]
        for path, content in zip(paths, files.values(), strict=True):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        names = [name.strip("/") for name in files]
        in_tree = ["-C", str(worktree)]
        self._local(*in_tree, "add", "--", *names)
        if not self._local(*in_tree, "status", "--porcelain", "--", *names).strip():
            raise ConflictError("nothing to commit: the files are already on the base branch")
        name, email = ident.group("name"), ident.group("email")
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
        self._local(*in_tree, "commit", "--quiet", "--no-verify", "--no-gpg-sign",
                    "--file=-", stdin=message.encode("utf-8"), env=env)  # fmt: skip
        sha = self._local(*in_tree, "rev-parse", "HEAD").decode().strip()
        self._network(*in_tree, "push", "--quiet", "--no-verify", "--", self.push_url,
                      f"HEAD:refs/heads/{branch}", url=self.push_url)  # fmt: skip
        return sha

    # -- git plumbing

    def _local(
        self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
    ) -> bytes:
        try:
            return run_git(list(args), timeout=self.timeout, isolated=True, stdin=stdin, env=env)
        except GitCommandError as exc:
            raise ForgeError(str(exc), forge="git") from exc

    def _network(self, *args: str, missing: str | None = None, url: str | None = None) -> bytes:
        secrets = [self._token.get_secret_value()] if self._token else []
        remote = url or self.url
        try:
            return run_git(
                ["-c", "credential.helper=", *args],
                timeout=self.timeout,
                env=self._auth_env(),
                url=remote,
                secrets=secrets,
                allow_file=is_local_url(remote),
            )
        except GitCommandError as exc:
            raise self._translate(exc, missing, remote) from exc

    def _translate(self, exc: GitCommandError, missing: str | None, url: str) -> RepotrackError:
        stderr = exc.stderr
        shown = redact_url(url)
        if missing and "couldn't find remote ref" in stderr:
            return NotFoundError(f"{shown}: {missing}")
        if "[rejected]" in stderr or "non-fast-forward" in stderr or "fetch first" in stderr:
            return ConflictError(f"{shown}: push rejected: the branch exists with other commits")
        if any(marker in stderr for marker in _AUTH_FAILED):
            return AuthError(f"{shown}: the forge refused our credentials ({_tail(str(exc))})")
        return ForgeError(str(exc), forge="git")

    def _auth_env(self) -> dict[str, str]:
        if self._token is None:
            return {}
        return {
            "GIT_ASKPASS": str(self._askpass()),
            "REPOTRACK_GIT_USERNAME": self._username,
            "REPOTRACK_GIT_PASSWORD": self._token.get_secret_value(),
        }

    def _askpass(self) -> Path:
        script = self.cache_dir / "askpass.sh"
        if not script.exists() or script.read_text() != _ASKPASS:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            scratch = script.with_name(f".askpass-{uuid.uuid4().hex}")
            scratch.write_text(_ASKPASS)
            scratch.chmod(0o700)
            scratch.replace(script)
        return script

    def _remove_stale_worktrees(self) -> None:
        if not self._worktrees.is_dir():
            return
        cutoff = time.time() - _STALE_WORKTREE_SECONDS
        for entry in self._worktrees.glob(f"{self.path.stem}-*"):
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
        self._local("--git-dir", str(self.path), "worktree", "prune")


def _safe_path(worktree: Path, name: str) -> Path:
    """``worktree/name`` for a plain relative path; refuses absolute paths, ``..`` and ``.git``."""
    pure = PurePosixPath(name)
    if (
        not name
        or pure.is_absolute()
        or "\\" in name
        or any(part in ("..", ".git", "") for part in name.strip("/").split("/"))
        or os.sep != "/"
    ):
        raise InputError(f"refusing to write {name!r} in the downstream tree", field="files")
    target = worktree / pure
    # A hostile downstream repository may carry symlinks (``pkg.spec -> /etc/passwd``):
    # never write through one, and never end up outside the work tree.
    inside = target.resolve().is_relative_to(worktree.resolve())
    if not inside or any(p.is_symlink() for p in (target, *target.parents) if p != worktree):
        raise InputError(f"refusing to write {name!r} through a symlink", field="files")
    return target


def _tail(message: str) -> str:
    return message.rsplit(": ", 1)[-1]
