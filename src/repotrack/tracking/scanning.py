"""Choosing what a scan runs: the selection, the quick ``ls-remote`` pass, parked forges.

``Tracker`` (in ``pipeline``) inherits these from :class:`Scanning`; they are apart
from the per-item run because they are about many items at once: which are due,
which have nothing new (``quickscan``), which wait for a rate-limited forge
(``parking``), and in which order the results come back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from repotrack.config import Settings
from repotrack.errors import InputError, RepotrackError
from repotrack.state import StateDB, Tracking, utcnow
from repotrack.tracking import report
from repotrack.tracking.forges import parse_downstream
from repotrack.tracking.hosts import HostPolicy
from repotrack.tracking.parking import ForgeParking
from repotrack.tracking.quickscan import Candidate, remote_heads, settle_quiet, split_quiet
from repotrack.tracking.runs import is_due
from repotrack.tracking.upstream import resolve_upstream_url

__all__ = ["ItemResult", "Scanning", "Snapshot"]


@dataclass(frozen=True)
class ItemResult:
    """What one run did to one item (printed by the CLI, logged by the scheduler)."""

    item_id: int
    repo: str
    branch: str
    outcome: str
    commits: int = 0
    branch_name: str | None = None
    issue: str | None = None
    pr_url: str | None = None
    verification: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """The fields of an item a run works from, read once at its start."""

    id: int
    version_control: str
    scm_repo: str
    scm_branch: str
    scm_commit: str | None
    repo: str
    branch: str

    @classmethod
    def of(cls, item: Tracking) -> Snapshot:
        return cls(
            item.id,
            item.version_control,
            item.scm_repo,
            item.scm_branch,
            item.scm_commit,
            item.repo,
            item.branch,
        )


class Scanning:
    """The scan half of ``Tracker``: needs its settings, database, parking and host policy."""

    settings: Settings
    db: StateDB
    stopping: threading.Event | None
    parking: ForgeParking
    hosts: HostPolicy

    def run_many(self, ids: Iterable[int], *, workers: int | None = None) -> list[ItemResult]:
        raise NotImplementedError

    # -- scans ----------------------------------------------------------------------
    def select(
        self, *, repo: str | None = None, branch: str | None = None, due_only: bool = True
    ) -> list[int]:
        """Ids of the enabled items to run, in id order; ``due_only`` skips backing-off items."""
        return [snap.id for snap in self._selected(repo=repo, branch=branch, due_only=due_only)]

    def _selected(self, *, repo: str | None, branch: str | None, due_only: bool) -> list[Snapshot]:
        query = sa.select(Tracking).where(Tracking.enabled.is_(True)).order_by(Tracking.id)
        if repo is not None:
            query = query.where(Tracking.repo == repo)
        if branch is not None:
            query = query.where(Tracking.branch == branch)
        now = utcnow()
        with self.db.session() as session:
            return [
                Snapshot.of(item)
                for item in session.scalars(query)
                if not item.branch.startswith(report.BRANCH_PREFIX)
                and (not due_only or is_due(item, now))
            ]

    def scan(
        self,
        *,
        repo: str | None = None,
        branch: str | None = None,
        due_only: bool = True,
        workers: int | None = None,
    ) -> list[ItemResult]:
        """Run every selected item, at most ``max_parallel_fetches`` at a time.

        Items whose upstream branch has not moved are settled together first
        (``quickscan``: one ``ls-remote`` per upstream, one transaction); only the
        others take the full pipeline. Results come back in item id order.
        """
        if self.stopping is not None and self.stopping.is_set():
            return []
        items = self._selected(repo=repo, branch=branch, due_only=due_only)
        limit = workers or self.settings.tracking.max_parallel_fetches
        candidates = [self._candidate(item) for item in items]
        urls = [c.url for c in candidates if c.url is not None and c.scm_commit]
        heads = remote_heads(urls, workers=limit, timeout=self.settings.tracking.git_timeout)
        quiet, rest = split_quiet(candidates, heads)
        settled, left = settle_quiet(self.db, quiet)
        by_id = {item.id: item for item in items}
        results = {
            item_id: ItemResult(item_id, by_id[item_id].repo, by_id[item_id].branch, "nothing-new")
            for item_id in settled
        }
        to_run = []
        for item_id in sorted([c.item_id for c in rest] + left):
            parked = self._parked_result(by_id[item_id])
            if parked is not None:
                results[item_id] = parked
            else:
                to_run.append(item_id)
        results.update((r.item_id, r) for r in self.run_many(to_run, workers=workers))
        return [results[item_id] for item_id in sorted(results)]

    def forge_name(self, repo: str) -> str | None:
        """The ``[forges.<name>]`` name (or kind) a downstream ``repo`` is on, if it parses."""
        try:
            target = parse_downstream(
                repo, self.settings.forges, default_forge=self.settings.tracking.default_forge
            )
        except RepotrackError:
            return None
        return target.forge_name or target.kind

    def _parked_result(self, snap: Snapshot) -> ItemResult | None:
        name = self.forge_name(snap.repo)
        until = self.parking.until(name) if name else None
        if until is None:
            return None
        error = f"forge {name} is rate limited until {until.isoformat()}; skipped"
        return ItemResult(snap.id, snap.repo, snap.branch, "skipped", error=error)

    def _candidate(self, snap: Snapshot) -> Candidate:
        try:
            url: str | None = resolve_upstream_url(
                snap.version_control,
                snap.scm_repo,
                github_base_url=self.settings.tracking.github_base_url,
                allow_local=self.settings.tracking.allow_local_upstreams,
                hosts=self.hosts,
            )
        except InputError:
            url = None  # the full run reports it on the item
        return Candidate(snap.id, url, snap.scm_branch, snap.scm_commit)
