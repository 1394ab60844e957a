"""Upstream git access: which URLs we accept, a cached bare mirror per URL, and the new commits.

Why this shape:

* The original service cloned any ``scm_repo`` it was given (``ext::`` URLs ran commands),
  walked all parents in date order and diffed neighbours (reversed, meaningless patches
  across merges), and re-pointed the shared mirror's HEAD. Here the URL is checked before
  git ever sees it, git runs with transport helpers disabled, the range is the
  **first-parent** chain from ``scm_commit`` to the branch head, and each patch is the
  commit against its first parent.
* One bare mirror per upstream URL lives under ``<cache_dir>/upstream/`` in a directory
  whose name is a readable slug plus a hash of the whole URL, so names never collide. A
  file lock serialises fetches, so two tracking items sharing an upstream never race; reads
  use explicit refs (``refs/heads/<branch>``) and never touch HEAD.
* The URL is given to ``git fetch`` on the command line, never stored in the mirror's
  config, so credentials in a URL do not end up on disk; error messages carry the URL with
  its user-info redacted.

Every git call goes through :func:`run_git` (in ``gitproc``, re-exported here), the one
boundary where a subprocess failure or timeout becomes an
:class:`~repotrack.errors.UpstreamError` (callers may choose another error class).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from repotrack.errors import ConflictError, InputError, UpstreamError
from repotrack.state.tracking_items import CREDENTIALS_REFUSED, has_credentials
from repotrack.tracking.gitproc import (
    DEFAULT_GIT_TIMEOUT,
    GitCommandError,
    SizeLimit,
    git_env,
    redact_url,
    run_git,
)
from repotrack.tracking.hosts import HostPolicy

__all__ = [
    "DEFAULT_GIT_TIMEOUT",
    "CommitInfo",
    "GitCommandError",
    "HistoryRewritten",
    "Mirror",
    "check_branch_name",
    "check_git_url",
    "file_lock",
    "git_env",
    "is_local_url",
    "is_valid_ref_name",
    "redact_url",
    "resolve_upstream_url",
    "run_git",
]

log = logging.getLogger(__name__)

#: Seconds to wait for another process's fetch of the same mirror.
_LOCK_POLL = 0.05

_NETWORK_SCHEMES = frozenset({"https", "http", "ssh", "git", "git+ssh", "ssh+git"})
_TRANSPORT_HELPER = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# scp-like syntax: [user@]host:path, where no slash comes before the first colon.
_SCP = re.compile(r"^(?:(?P<user>[^@/:\s]+)@)?(?P<host>[A-Za-z0-9._\[\]-]+):(?P<path>.*)$")
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_SHA = re.compile(r"^[0-9a-fA-F]{4,64}$")


class HistoryRewritten(UpstreamError):  # noqa: N818 - name fixed by the contract
    """``scm_commit`` is not in the branch's first-parent history (force-push or a side branch).

    Reported on the item instead of retried: retrying cannot fix it, a user must choose a
    new starting commit.
    """

    def __init__(self, message: str, *, url: str | None = None, commit: str = "") -> None:
        self.commit = commit
        super().__init__(message, url=url)


@dataclass(frozen=True)
class CommitInfo:
    """One upstream commit as the tracker needs it (dates are UTC)."""

    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    author_date: datetime
    committer_date: datetime
    subject: str
    message: str

    @property
    def short(self) -> str:
        return self.sha[:7]


# --------------------------------------------------------------------------- URLs


def resolve_upstream_url(
    version_control: str,
    scm_repo: str,
    *,
    github_base_url: str,
    allow_local: bool,
    hosts: HostPolicy | None = None,
) -> str:
    """The git URL to mirror for a tracking item, or :class:`InputError` naming ``scm_repo``.

    ``github`` + ``owner/name`` maps to ``<github_base_url>/owner/name.git``; ``git`` takes
    the URL as given after checking it is one we are willing to hand to git, and that
    ``hosts`` allows the host it points at (the GitHub base URL is the operator's own).
    """
    repo = scm_repo.strip()
    if version_control == "github":
        repo = repo.removesuffix("/").removesuffix(".git")
        if not _GITHUB_REPO.fullmatch(repo) or repo.startswith(("-", ".")):
            raise InputError(
                f"expected owner/name for a github upstream, got {scm_repo!r}", field="scm_repo"
            )
        return f"{github_base_url.rstrip('/')}/{repo}.git"
    if version_control == "git":
        check_git_url(repo, allow_local=allow_local)
        if hosts is not None:
            hosts.check(repo, shown=redact_url(repo))
        return repo
    raise InputError(
        f"unknown version_control {version_control!r} (expected 'github' or 'git')",
        field="version_control",
    )


def check_git_url(url: str, *, allow_local: bool, field: str = "scm_repo") -> None:
    """Refuse URLs git could misuse: transport helpers, option-like, local paths unless allowed."""

    def refuse(why: str) -> InputError:
        return InputError(f"{why}: {redact_url(url)!r}", field=field)

    if not url:
        raise refuse("empty git URL")
    if url.startswith("-"):
        raise refuse("a git URL must not start with '-'")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise refuse("a git URL must not contain whitespace or control characters")
    if has_credentials(url):
        # Items stored before the API refused these: never hand the secret to git's argv.
        raise InputError(f"{redact_url(url)!r} {CREDENTIALS_REFUSED}", field=field)
    scheme = _SCHEME.match(url)
    if scheme is None and _TRANSPORT_HELPER.match(url):
        raise refuse("git transport helpers ('<transport>::') are refused")
    if scheme is not None:
        _check_scheme_url(url, scheme.group(1).lower(), allow_local, refuse)
        return
    scp = _SCP.match(url)
    if scp is not None and "/" not in url.split(":", 1)[0]:
        if scp.group("host").startswith("-") or not scp.group("path"):
            raise refuse("malformed scp-style git URL")
        return
    if not allow_local:
        raise refuse("local paths are refused as upstreams (tracking.allow_local_upstreams)")


def _check_scheme_url(
    url: str, scheme: str, allow_local: bool, refuse: Callable[[str], InputError]
) -> None:
    if scheme == "file":
        if not allow_local:
            raise refuse("file:// upstreams are refused (tracking.allow_local_upstreams)")
        return
    if scheme not in _NETWORK_SCHEMES:
        raise refuse(f"git URL scheme {scheme!r} is not allowed")
    try:
        host = urlsplit(url).hostname or ""
    except ValueError as exc:
        raise refuse(f"malformed git URL ({exc})") from exc
    if not host or host.startswith("-"):
        raise refuse("git URL has no usable host")


def is_local_url(url: str) -> bool:
    """Whether git would read ``url`` from the local file system (``file://`` or a path)."""
    if url.lower().startswith("file://"):
        return True
    if _SCHEME.match(url) or _TRANSPORT_HELPER.match(url):
        return False
    scp = _SCP.match(url)
    return scp is None or "/" in url.split(":", 1)[0]


def check_branch_name(branch: str, *, field: str = "scm_branch") -> None:
    """Refuse branch names that git would read as options or that are not valid refs."""
    if not branch or branch.startswith("-") or branch.startswith("refs/"):
        raise InputError(f"not a usable branch name: {branch!r}", field=field)
    if not is_valid_ref_name(f"refs/heads/{branch}"):
        raise InputError(f"not a valid git branch name: {branch!r}", field=field)


#: Characters ``git check-ref-format`` refuses anywhere in a ref name.
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def is_valid_ref_name(name: str) -> bool:
    """``git check-ref-format`` in Python (its rules 1-10), without a process per check.

    A scan checks one name per item; a subprocess for each was a quarter of a quiet
    scan's git processes. The rules: no component empty, starting with ``.`` or ending
    in ``.lock``; no ``..``, ``@{``, control characters, space or any of ``~^:?*[\\``;
    not ``@``; not ending in ``/`` or ``.``; at least two components.
    """
    if not name or name == "@" or name.endswith(("/", ".")) or name.startswith("/"):
        return False
    if ".." in name or "@{" in name or _REF_FORBIDDEN.search(name):
        return False
    components = name.split("/")
    if len(components) < 2:
        return False
    return all(c and not c.startswith(".") and not c.endswith(".lock") for c in components)


# --------------------------------------------------------------------------- mirror


@contextlib.contextmanager
def file_lock(path: Path, *, timeout: float, what: str) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (works across threads and processes), bounded wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with path.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ConflictError(
                        f"{what}: busy (another run holds {path.name} for over {timeout:g}s)"
                    ) from None
                time.sleep(_LOCK_POLL)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _mirror_dirname(url: str) -> str:
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:20]
    tail = redact_url(url).rstrip("/").removesuffix(".git")
    tail = "-".join(tail.replace(":", "/").split("/")[-2:])
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", tail).strip("._-")[:48] or "repo"
    return f"{slug}-{digest}.git"


class Mirror:
    """A bare mirror of one upstream URL under ``<cache_dir>/upstream/``.

    Fetches are incremental (the mirror is kept between runs) and serialised by a lock file
    next to the mirror, which also works across processes. Reads never change HEAD.
    """

    def __init__(
        self,
        cache_dir: Path,
        url: str,
        *,
        timeout: float = DEFAULT_GIT_TIMEOUT,
        max_bytes: int | None = None,
    ):
        self.url = url
        self.timeout = timeout
        self.max_bytes = max_bytes
        root = Path(cache_dir) / "upstream"
        self.path = root / _mirror_dirname(url)
        self._lock_path = root / (self.path.name + ".lock")

    def __repr__(self) -> str:
        return f"Mirror({redact_url(self.url)!r}, path={str(self.path)!r})"

    # -- fetching

    def fetch(self) -> None:
        """Create the mirror if needed and fetch all branches and tags (pruning deleted ones).

        With ``max_bytes`` the fetch is stopped (its process group killed) as soon as the
        mirror outgrows it; a mirror this fetch created is then removed, and the partial
        pack of an older one is dropped, so a refused upstream leaves nothing behind.
        """
        with self._locked():
            created = not (self.path / "HEAD").exists()
            if created:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                run_git(["init", "--quiet", "--bare", str(self.path)], isolated=True)
            log.info("fetching upstream", extra={"url": redact_url(self.url)})
            try:
                self._fetch_refs()
            except UpstreamError:
                self._discard_partial(created)
                raise

    def _fetch_refs(self) -> None:
        limit = None if self.max_bytes is None else SizeLimit(self.path, self.max_bytes)
        try:
            run_git(
                [
                    "--git-dir", str(self.path), "fetch", "--quiet", "--prune", "--force",
                    "--no-write-fetch-head", "--", self.url,
                    "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*",
                ],
                timeout=self.timeout,
                url=self.url,
                allow_file=is_local_url(self.url),
                size_limit=limit,
            )  # fmt: skip
        except GitCommandError as exc:
            message = str(exc).removeprefix(f"{exc.url}: ") if exc.url else str(exc)
            raise UpstreamError(message, url=exc.url) from exc
        if limit is not None and limit.exceeded():
            raise UpstreamError(f"git fetch {limit.reason()}", url=redact_url(self.url))

    def _discard_partial(self, created: bool) -> None:
        if created:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        for junk in (*self.path.glob("objects/pack/tmp_*"), *self.path.glob("objects/incoming-*")):
            if junk.is_dir():
                shutil.rmtree(junk, ignore_errors=True)
            else:
                junk.unlink(missing_ok=True)

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return file_lock(self._lock_path, timeout=self.timeout, what=redact_url(self.url))

    # -- reading

    def head(self, branch: str) -> str:
        """The full sha at the tip of ``branch`` in the mirror (fetch first)."""
        check_branch_name(branch)
        self._require_mirror()
        out = self._try_git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}")
        if out is None:
            raise UpstreamError(f"branch {branch!r} does not exist", url=redact_url(self.url))
        return out.decode().strip()

    def new_commits(self, branch: str, since: str) -> list[CommitInfo]:
        """Commits on the first-parent chain after ``since`` up to the head, oldest first."""
        if not _SHA.fullmatch(since or ""):
            raise InputError(f"not a commit sha: {since!r}", field="scm_commit")
        head = self.head(branch)
        start = self._resolve_commit(since)
        if start is None:
            raise HistoryRewritten(
                f"commit {since} is not in the upstream any more (history rewritten?)",
                url=redact_url(self.url),
                commit=since,
            )
        if start == head:
            return []
        if self._try_git("merge-base", "--is-ancestor", start, head) is None:
            raise HistoryRewritten(
                f"commit {since} is not in the history of branch {branch!r} "
                "(force-pushed or rebased upstream)",
                url=redact_url(self.url),
                commit=since,
            )
        commits = self._log_first_parent(start, head)
        if commits and (not commits[0].parents or commits[0].parents[0] != start):
            raise HistoryRewritten(
                f"commit {since} is merged into branch {branch!r} but is not on its "
                "first-parent chain; choose a commit of the branch itself",
                url=redact_url(self.url),
                commit=since,
            )
        return commits

    def format_patch(self, sha: str) -> bytes:
        """The commit as a mail-formatted patch against its first parent (binary included).

        Merges get the diff against their first parent (``git format-patch`` would emit an
        unrelated parent's patch for them), in the same mail format.
        """
        if not _SHA.fullmatch(sha):
            raise InputError(f"not a commit sha: {sha!r}", field="sha")
        parents = self._parents(sha)
        common = ["--binary", "--full-index", "--src-prefix=a/", "--dst-prefix=b/"]
        if len(parents) > 1:
            return self._git(
                "log", "-1", "--format=email", "-p", "--stat", "--summary",
                "--diff-merges=first-parent", "--no-color", *common, sha,
            )  # fmt: skip
        root = ["--root"] if not parents else []
        return self._git(
            "format-patch", "-1", "--stdout", "--no-signature", "--no-numbered", "--no-thread",
            "--subject-prefix=PATCH", *root, *common, sha,
        )  # fmt: skip

    def has_tag(self, tag: str) -> str | None:
        """The tree sha a tag names, or None; used to find the sources of a spec's Version."""
        if not tag or tag.startswith("-"):
            return None
        out = self._try_git("rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{tree}}")
        return out.decode().strip() if out else None

    # -- helpers

    def _require_mirror(self) -> None:
        if not (self.path / "HEAD").exists():
            raise UpstreamError("mirror has not been fetched yet", url=redact_url(self.url))

    def _resolve_commit(self, rev: str) -> str | None:
        self._require_mirror()
        out = self._try_git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        return out.decode().strip() if out else None

    def _parents(self, sha: str) -> tuple[str, ...]:
        out = self._git("rev-list", "--no-walk", "--parents", sha).decode().split()
        return tuple(out[1:])

    def _log_first_parent(self, start: str, head: str) -> list[CommitInfo]:
        fmt = "%H%x1f%P%x1f%an%x1f%ae%x1f%at%x1f%ct%x1f%B"
        out = self._git(
            "log", "-z", "--first-parent", "--reverse", f"--format={fmt}", f"{start}..{head}"
        )
        return [_parse_commit(record) for record in out.split(b"\0") if record.strip()]

    def _raw_git(self, *args: str, isolated: bool = True) -> bytes:
        return run_git(
            ["--git-dir", str(self.path), *args],
            timeout=self.timeout,
            isolated=isolated,
            url=self.url,
            allow_file=is_local_url(self.url),
        )

    def _git(self, *args: str, isolated: bool = True) -> bytes:
        """Run git on the mirror; a failure is a plain :class:`UpstreamError` (what users see)."""
        try:
            return self._raw_git(*args, isolated=isolated)
        except GitCommandError as exc:
            message = str(exc).removeprefix(f"{exc.url}: ") if exc.url else str(exc)
            raise UpstreamError(message, url=exc.url) from exc

    def _try_git(self, *args: str) -> bytes | None:
        try:
            return self._raw_git(*args)
        except GitCommandError:
            return None


def _parse_commit(record: bytes) -> CommitInfo:
    text = record.decode("utf-8", "replace").lstrip("\n")
    sha, parents, name, email, adate, cdate, message = text.split("\x1f", 6)
    message = message.rstrip("\n")
    return CommitInfo(
        sha=sha,
        parents=tuple(parents.split()),
        author_name=name,
        author_email=email,
        author_date=datetime.fromtimestamp(int(adate), UTC),
        committer_date=datetime.fromtimestamp(int(cdate), UTC),
        subject=_subject(message),
        message=message,
    )


def _subject(message: str) -> str:
    """Git's subject: the first paragraph of the message joined into one line."""
    first = message.strip("\n").split("\n\n", 1)[0]
    return " ".join(line.strip() for line in first.splitlines() if line.strip())
