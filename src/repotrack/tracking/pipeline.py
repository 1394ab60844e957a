"""The run of one tracking item, and a scan over many: the heart of patch tracking.

One run, in order (reference §5.2, with its defects fixed):

1. take the item's lock (``locks``), close runs a crashed process left ``running``,
   snapshot the item and open a ``run`` row;
2. fetch the upstream mirror and list the new first-parent commits since
   ``scm_commit`` (empty ``scm_commit`` -> set it to the head, emit nothing);
3. build the ``git format-patch`` series, prepare the downstream checkout, edit the
   spec and check that the series applies;
4. push branch ``patch-tracking/<time>`` (or find it already pushed), open the issue
   (or find it by its marker), open the pull request (or find it by head branch); in
   fork mode (``[forges.<name>] fork = true``) the branch goes to the token owner's
   fork, made first if missing (``forks``), and the pull request comes from it;
5. only then advance ``scm_commit`` with a conditional single-column UPDATE
   (``WHERE id = ? AND scm_commit IS NOT DISTINCT FROM <old>``) and record the issue
   row in the same transaction.

**Never twice, never lost.** The branch name and the commit range are written on the
run row *before* pushing. A run that fails after that is "pending"; the next run over
the same ``scm_commit`` reuses its branch name and range (``runs.pending_run``), finds
the pushed branch on the remote, the issue by the marker in its body, and the PR by its
head branch, so each exists exactly once. Commits that arrived upstream meanwhile are
left for the run after.

**Cancellation.** Between steps the item is read again: deleted -> the run ends
``cancelled`` (its run rows went with it); disabled or retargeted -> ``cancelled``.

**Failures** are recorded on the run and on the item (``runs.record_failure``), which
backs off exponentially, so a rewritten upstream history or a dead remote shows its
error in ``repotrack track status`` instead of being retried in a loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

import sqlalchemy as sa
from pydantic import SecretStr

from repotrack.config import Settings
from repotrack.errors import InputError, RateLimitError, RepotrackError
from repotrack.state import Issue, StateDB, Tracking
from repotrack.tracking import report
from repotrack.tracking.downstream import Downstream
from repotrack.tracking.forges import Forge, ForgeTarget, parse_downstream
from repotrack.tracking.forks import ensure_fork, fork_mode
from repotrack.tracking.hosts import HostPolicy
from repotrack.tracking.locks import DEFAULT_LOCK_TTL, LockKeeper, try_lock
from repotrack.tracking.parking import ForgeParking
from repotrack.tracking.patches import Patch, build_series
from repotrack.tracking.runs import (
    close_stale_runs,
    finish_run,
    pending_run,
    record_failure,
    record_success,
    start_run,
    update_run,
)
from repotrack.tracking.scanning import ItemResult, Scanning
from repotrack.tracking.scanning import Snapshot as _Snapshot
from repotrack.tracking.specfile import find_spec, spec_patches, update_spec
from repotrack.tracking.upstream import CommitInfo, Mirror, redact_url, resolve_upstream_url
from repotrack.tracking.verify import EarlierPatch, check_series

if TYPE_CHECKING:
    import httpx

__all__ = ["OUTCOMES", "ItemResult", "Tracker"]

log = logging.getLogger(__name__)

#: What ``run_item`` reports: the final run outcomes, plus two that record no run.
OUTCOMES: Final = ("success", "nothing-new", "failed", "cancelled", "locked", "skipped")
#: Author of the downstream commit.
COMMIT_AUTHOR: Final = "patch-tracking <patch-tracking@localhost>"


class _CancelledError(Exception):
    """The item was deleted, disabled or changed while its run went on."""


@dataclass
class _Work:
    """What a run has made so far; written to the run row as it grows."""

    commits: list[CommitInfo]
    time: str
    branch: str
    verification: str = ""
    issue: str | None = None
    pr_url: str | None = None


class Tracker(Scanning):
    """Runs the pipeline against one state database with one settings object.

    ``transport`` is handed to every forge client (tests pass none: the fake forges are
    real HTTP servers). ``hook`` is called with a step name before each step; tests use
    it to delete or disable an item mid-run, the way a user would from another process.
    ``stopping``, once set, cancels runs at their next step (service shutdown); the
    next run resumes them.
    """

    def __init__(
        self,
        settings: Settings,
        db: StateDB,
        *,
        transport: httpx.BaseTransport | None = None,
        hook: Callable[[str, int], None] | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.stopping = stopping
        self.db = db
        self.transport = transport
        self.hook = hook
        self.lock_ttl = max(DEFAULT_LOCK_TTL, 3 * settings.tracking.git_timeout)
        self.parking = ForgeParking()
        self.hosts = HostPolicy(
            allow=settings.tracking.upstream_allow_hosts,
            deny=settings.tracking.upstream_deny_hosts,
        )

    def run_many(self, ids: Iterable[int], *, workers: int | None = None) -> list[ItemResult]:
        limit = workers or self.settings.tracking.max_parallel_fetches
        with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="track") as pool:
            return list(pool.map(self.run_item, ids))

    # -- one item -------------------------------------------------------------------
    def run_item(self, item_id: int) -> ItemResult:
        """One run over one item; never raises for a problem with the item itself."""
        if self.stopping is not None and self.stopping.is_set():
            return ItemResult(item_id, "", "", "skipped", error="shutting down")
        lock = try_lock(self.db, item_id, ttl=self.lock_ttl)
        if lock is None:
            return ItemResult(item_id, "", "", "locked", error="another run holds the lock")
        try:
            with LockKeeper(lock, interval=self.lock_ttl / 3) as keeper:
                return self._run_locked(item_id, keeper.check)
        finally:
            lock.release()

    def _run_locked(self, item_id: int, refresh: Callable[[], None]) -> ItemResult:
        close_stale_runs(self.db, item_id)
        with self.db.session() as session:
            item = session.get(Tracking, item_id)
            if item is None:
                return ItemResult(item_id, "", "", "skipped", error="no such tracking item")
            if not item.enabled:
                return ItemResult(item_id, item.repo, item.branch, "skipped", error="disabled")
            snap = _Snapshot.of(item)
        parked = self._parked_result(snap)
        if parked is not None:
            return parked
        run_id = start_run(self.db, item_id, from_commit=snap.scm_commit)
        result = ItemResult(item_id, snap.repo, snap.branch, "running")
        steps = _Steps(self, snap, run_id, refresh)
        try:
            result = steps.run(result)
        except _CancelledError as exc:
            result = replace(steps.partial(result), outcome="cancelled", error=str(exc))
            finish_run(self.db, run_id, outcome="cancelled", error=str(exc))
        except RepotrackError as exc:
            result = self._failed(snap, run_id, steps.partial(result), exc)
        except Exception as exc:  # a bug must not stop the scan of the other items
            log.exception("tracking run crashed", extra={"item": item_id})
            result = self._failed(snap, run_id, steps.partial(result), exc)
        log.info(
            "tracking run finished",
            extra={"item": item_id, "outcome": result.outcome, "commits": result.commits},
        )
        return result

    def _failed(
        self, snap: _Snapshot, run_id: int, result: ItemResult, exc: Exception
    ) -> ItemResult:
        message = f"{type(exc).__name__}: {exc}"
        retry_at = exc.retry_at if isinstance(exc, RateLimitError) else None
        name = self.forge_name(snap.repo) if retry_at is not None else None
        if name is not None and retry_at is not None:
            self.parking.park(name, retry_at)
            log.warning("forge parked", extra={"forge": name, "until": retry_at.isoformat()})
        finish_run(self.db, run_id, outcome="failed", error=message)
        record_failure(self.db, snap.id, message, retry_at=retry_at)
        return replace(result, outcome="failed", error=message)


class _Steps:
    """The steps of one run over one item, each small; state lives on ``self``."""

    def __init__(
        self, tracker: Tracker, snap: _Snapshot, run_id: int, refresh: Callable[[], None]
    ) -> None:
        self.tracker = tracker
        self.settings = tracker.settings
        self.db = tracker.db
        self.snap = snap
        self.run_id = run_id
        self.refresh = refresh
        self.work: _Work | None = None

    def partial(self, result: ItemResult) -> ItemResult:
        """``result`` with what this run had made before it stopped."""
        work = self.work
        if work is None:
            return result
        return replace(
            result,
            commits=len(work.commits),
            branch_name=work.branch,
            issue=work.issue,
            pr_url=work.pr_url,
            verification=work.verification or None,
        )

    def run(self, result: ItemResult) -> ItemResult:
        mirror = self._mirror()
        self._step("fetch")
        mirror.fetch()
        if not self.snap.scm_commit:
            return self._initialise(mirror, result)
        commits = mirror.new_commits(self.snap.scm_branch, self.snap.scm_commit)
        if not commits:
            finish_run(self.db, self.run_id, outcome="nothing-new", to_commit=self.snap.scm_commit)
            record_success(self.db, self.snap.id, commits_behind=0)
            return replace(result, outcome="nothing-new")
        self._set_behind(len(commits))
        work = self.work = self._plan(commits)
        target, forge = self._forge()
        fork = None
        if fork_mode(self.settings, target):
            self._step("fork")
            fork = ensure_fork(forge, target)
        self._step("build")
        patches = build_series(mirror, work.commits)
        self._push(mirror, target, patches, work, fork)
        self._open_issue(target, forge, work)
        self._open_pull(target, forge, work, fork)
        self._advance(work)
        return replace(
            result,
            outcome="success",
            commits=len(work.commits),
            branch_name=work.branch,
            issue=work.issue,
            pr_url=work.pr_url,
            verification=work.verification,
        )

    # -- steps ------------------------------------------------------------------------
    def _step(self, name: str) -> None:
        """Between steps: give tests their hook, keep the lock, stop if the item changed."""
        if self.tracker.hook is not None:
            self.tracker.hook(name, self.snap.id)
        if self.tracker.stopping is not None and self.tracker.stopping.is_set():
            raise _CancelledError("service shutting down; the next run resumes")
        self.refresh()
        with self.db.session() as session:
            item = session.get(Tracking, self.snap.id)
            if item is None:
                raise _CancelledError("item deleted during the run")
            if not item.enabled:
                raise _CancelledError("item disabled during the run")
            if _Snapshot.of(item) != self.snap:
                raise _CancelledError("item changed during the run")

    def _mirror(self) -> Mirror:
        url = resolve_upstream_url(
            self.snap.version_control,
            self.snap.scm_repo,
            github_base_url=self.settings.tracking.github_base_url,
            allow_local=self.settings.tracking.allow_local_upstreams,
            hosts=self.tracker.hosts,
        )
        return Mirror(
            self.settings.git_cache_dir,
            url,
            timeout=self.settings.tracking.git_timeout,
            max_bytes=self.settings.tracking.max_mirror_bytes,
        )

    def _initialise(self, mirror: Mirror, result: ItemResult) -> ItemResult:
        head = mirror.head(self.snap.scm_branch)
        self._step("initialise")
        self._advance_commit(head)
        finish_run(self.db, self.run_id, outcome="nothing-new", to_commit=head)
        record_success(self.db, self.snap.id, commits_behind=0)
        return replace(result, outcome="nothing-new", error=None)

    def _set_behind(self, count: int) -> None:
        with self.db.session() as session:
            session.execute(
                sa.update(Tracking).where(Tracking.id == self.snap.id).values(commits_behind=count)
            )

    def _plan(self, commits: list[CommitInfo]) -> _Work:
        """A fresh branch, or the pending run's branch and commit range."""
        pending = pending_run(
            self.db, self.snap.id, from_commit=self.snap.scm_commit, before=self.run_id
        )
        shas = [c.sha for c in commits]
        if pending is not None and pending.to_commit in shas and pending.branch_name:
            time = report.branch_time(pending.branch_name)
            if time is not None:
                cut = shas.index(pending.to_commit) + 1
                work = _Work(commits[:cut], time, pending.branch_name, issue=pending.issue_number)
                log.info(
                    "resuming pending run", extra={"item": self.snap.id, "branch": work.branch}
                )
                update_run(self.db, self.run_id, branch_name=work.branch, to_commit=shas[cut - 1])
                return work
        time = report.run_time()
        work = _Work(commits, time, report.branch_name(time))
        update_run(self.db, self.run_id, branch_name=work.branch, to_commit=shas[-1])
        return work

    def _credentials(self, target: ForgeTarget) -> tuple[SecretStr | None, str | None]:
        """Token and git user name of the ``[forges.<name>]`` entry that matched ``target``."""
        name = target.forge_name or target.kind
        forge = self.settings.forge(name)
        return forge.resolved_token(name), forge.username

    def _forge(self) -> tuple[ForgeTarget, Forge]:
        target = parse_downstream(
            self.snap.repo,
            self.settings.forges,
            default_forge=self.settings.tracking.default_forge,
        )
        name = target.forge_name or target.kind
        until = self.tracker.parking.until(name)
        if until is not None:
            raise RateLimitError(
                f"rate limited until {until.isoformat()} (parked)", forge=name, retry_at=until
            )
        from repotrack.tracking.forges.registry import make_forge  # the HTTP client, when needed

        token, _ = self._credentials(target)
        forge = make_forge(
            target.kind,
            token=token,
            api_url=target.api_url,
            timeout=self.settings.tracking.http_timeout,
            max_retries=self.settings.tracking.max_retries,
            transport=self.tracker.transport,
        )
        return target, forge

    def _push(
        self,
        mirror: Mirror,
        target: ForgeTarget,
        patches: list[Patch],
        work: _Work,
        fork: ForgeTarget | None,
    ) -> None:
        token, username = self._credentials(target)
        downstream = Downstream(
            self.settings.git_cache_dir / "downstream",
            target.clone_url,
            token=token,
            username=username,
            timeout=self.settings.tracking.git_timeout,
            push_url=fork.clone_url if fork is not None else None,
        )
        self._step("prepare")
        worktree = downstream.prepare(self.snap.branch)
        try:
            self._verify_and_push(downstream, worktree, mirror, target, patches, work)
        finally:
            downstream.release(worktree)

    def _verify_and_push(
        self,
        downstream: Downstream,
        worktree: Path,
        mirror: Mirror,
        target: ForgeTarget,
        patches: list[Patch],
        work: _Work,
    ) -> None:
        files, version, earlier = self._files(worktree, target, patches, work)
        result = check_series(
            patches=patches,
            mirror=mirror,
            version=version,
            downstream_tree=worktree,
            earlier=earlier,
        )
        work.verification = result.message
        update_run(self.db, self.run_id, verification=work.verification)
        self._step("push")
        if downstream.remote_branch_exists(work.branch) is not None:
            log.info("branch already pushed", extra={"item": self.snap.id, "branch": work.branch})
            return
        downstream.commit_and_push(
            worktree,
            branch=work.branch,
            files=files,
            message=report.commit_message(
                work.commits,
                time=work.time,
                upstream=redact_url(self.snap.scm_repo),
                verification=work.verification,
            ),
            author=COMMIT_AUTHOR,
        )

    def _files(
        self, worktree: Path, target: ForgeTarget, patches: list[Patch], work: _Work
    ) -> tuple[dict[str, bytes], str | None, list[EarlierPatch]]:
        """The patch files and the edited spec; for the verification, the spec's version
        and the package's own patches in spec order."""
        paths = [
            p.relative_to(worktree).as_posix()
            for p in worktree.rglob("*.spec")
            if ".git" not in p.relative_to(worktree).parts
        ]
        spec_path = find_spec(paths, target.name) or f"{target.name}.spec"
        text = _read_spec(worktree, spec_path)
        update = update_spec(
            text,
            patch_names=[p.filename for p in patches],
            first_sha=work.commits[0].sha,
            last_sha=work.commits[-1].sha,
            when=_time_of(work.time),
        )
        files = {p.filename: p.content for p in patches}
        files[spec_path] = update.text.encode("utf-8")
        return files, update.version, _earlier_patches(worktree, spec_path, text)

    def _open_issue(self, target: ForgeTarget, forge: Forge, work: _Work) -> None:
        self._step("issue")
        marker = report.marker(self.snap.id, work.commits[-1].sha)
        title = report.issue_title(self.snap.branch, work.time)
        found = forge.find_issue(target, marker=marker, title=title)
        if found is None:
            found = forge.create_issue(
                target,
                title=title,
                body=report.issue_body(
                    work.commits,
                    link_base=self._link_base(),
                    verification=work.verification,
                    item_id=self.snap.id,
                ),
            )
        work.issue = found.number
        update_run(self.db, self.run_id, issue_number=found.number)

    def _open_pull(
        self, target: ForgeTarget, forge: Forge, work: _Work, fork: ForgeTarget | None
    ) -> None:
        self._step("pull")
        assert work.issue is not None
        found = forge.find_pull_request(target, head=work.branch, fork=fork)
        if found is None:
            found = forge.create_pull_request(
                target,
                title=report.pr_title(work.time),
                body=report.pr_body(
                    work.issue,
                    item_id=self.snap.id,
                    to_sha=work.commits[-1].sha,
                    verification=work.verification,
                ),
                head=work.branch,
                base=self.snap.branch,
                fork=fork,
            )
        work.pr_url = found.url
        update_run(self.db, self.run_id, pr_number=found.number, pr_url=found.url)

    def _advance(self, work: _Work) -> None:
        """Move ``scm_commit`` and record the issue row, in one transaction, after the PR."""
        self._step("advance")
        new = work.commits[-1].sha
        with self.db.session() as session:
            moved = self._conditional_update(session, new)
            if moved:
                self._record_issue(session, work)
        if not moved:
            raise _CancelledError("scm_commit changed during the run; not advanced")
        finish_run(
            self.db,
            self.run_id,
            outcome="success",
            commits_processed=len(work.commits),
            to_commit=new,
        )
        record_success(self.db, self.snap.id, commits_behind=None)

    def _advance_commit(self, new: str) -> None:
        with self.db.session() as session:
            moved = self._conditional_update(session, new)
        if not moved:
            raise _CancelledError("scm_commit changed during the run; not advanced")

    def _conditional_update(self, session: sa.orm.Session, new: str) -> bool:
        result = session.execute(
            sa.update(Tracking)
            .where(
                Tracking.id == self.snap.id,
                Tracking.scm_commit.is_not_distinct_from(self.snap.scm_commit),
            )
            .values(scm_commit=new)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def _record_issue(self, session: sa.orm.Session, work: _Work) -> None:
        assert work.issue is not None
        exists = session.scalar(
            sa.select(Issue.id).where(Issue.repo == self.snap.repo, Issue.issue == work.issue)
        )
        if exists is None:
            session.add(
                Issue(
                    issue=work.issue,
                    repo=self.snap.repo,
                    branch=self.snap.branch,
                    tracking_id=self.snap.id,
                )
            )

    def _link_base(self) -> str | None:
        if self.snap.version_control != "github":
            return None
        base = self.settings.tracking.github_base_url.rstrip("/")
        return f"{base}/{self.snap.scm_repo.strip('/')}"


def _time_of(time: str) -> datetime:
    return datetime.strptime(time, report.TIME_FORMAT).replace(tzinfo=UTC)


#: A package patch larger than this is not read for the verification.
_EARLIER_PATCH_MAX = 16 * 1024 * 1024


def _earlier_patches(worktree: Path, spec_path: str, text: str) -> list[EarlierPatch]:
    """The package's own patches named by the spec, read from next to it, in spec order.

    Files that are missing, symbolic links, outside the tree or huge are left out (the
    verification then says which patch it could not apply, if it matters).
    """
    folder = (worktree / spec_path).parent
    root = worktree.resolve()
    found = []
    for number, name in spec_patches(text):
        path = folder / name
        if path.is_symlink() or not path.is_file() or not path.resolve().is_relative_to(root):
            continue
        if path.stat().st_size > _EARLIER_PATCH_MAX:
            continue
        found.append(EarlierPatch(number, name, path.read_bytes()))
    return found


def _read_spec(worktree: Path, spec_path: str) -> str:
    """The spec's text, or "" when there is none.

    A packaging repository is outside input: a spec that is a symlink (or lies behind
    one) could point at a file of this host and leak it into a pull request, so it is
    refused rather than followed.
    """
    spec_file = worktree / spec_path
    if not spec_file.exists() and not spec_file.is_symlink():
        return ""
    root = worktree.resolve()
    if spec_file.is_symlink() or not spec_file.resolve().is_relative_to(root):
        raise InputError(f"{spec_path} is a symbolic link; refusing to read it", field="spec")
    if not spec_file.is_file():
        return ""
    try:
        return spec_file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{spec_path} is not UTF-8: {exc.reason}", field="spec") from exc
