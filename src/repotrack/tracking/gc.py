"""Pruning the git caches: mirrors and clones no tracking item uses any more.

Every upstream gets a bare mirror under ``<home>/git/upstream/`` and every downstream a
clone under ``<home>/git/downstream/``; deleting an item (or pointing it elsewhere)
left them on disk for good, as the original's mirrors were. ``prune_caches`` keeps the
directories of every item still in the state database (enabled or not: a disabled item
keeps its mirror for when it is enabled again) and removes the rest, each under its
own lock file, so a fetch or push in progress is never cut short: a busy directory is
left for the next pass. Lock files left by a first fetch that failed (no repository
next to them) go too. ``repotrack track gc`` runs it, and so does the scheduler after
each scan.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from repotrack.config import Settings
from repotrack.errors import ConflictError, RepotrackError
from repotrack.state import StateDB, Tracking
from repotrack.tracking.downstream import Downstream
from repotrack.tracking.forges import parse_downstream
from repotrack.tracking.upstream import Mirror, file_lock, resolve_upstream_url

__all__ = ["GcResult", "prune_caches"]

log = logging.getLogger(__name__)

#: Seconds to wait for a directory's lock before leaving it for the next pass.
_LOCK_WAIT = 0.5


@dataclass
class GcResult:
    """Directories removed (names), kept, and left because they were busy."""

    removed: list[str] = field(default_factory=list)
    kept: int = 0
    busy: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"removed {len(self.removed)} unused mirror(s) and clone(s), kept {self.kept}, "
            f"{len(self.busy)} busy (left for the next run)"
        )


def prune_caches(settings: Settings, db: StateDB) -> GcResult:
    """Remove cached repositories of items that no longer exist (module docstring)."""
    with db.session() as session:
        rows = [
            (str(vc), str(scm), str(repo))
            for vc, scm, repo in session.execute(
                sa.select(Tracking.version_control, Tracking.scm_repo, Tracking.repo)
            )
        ]
    upstream, downstream = _in_use(settings, rows)
    result = GcResult()
    cache = settings.git_cache_dir
    _prune(cache / "upstream", upstream, result)
    _prune(cache / "downstream", downstream, result)
    if result.removed:
        log.info("git caches pruned", extra={"removed": len(result.removed)})
    return result


def _in_use(settings: Settings, rows: Iterable[tuple[str, str, str]]) -> tuple[set[str], set[str]]:
    upstream: set[str] = set()
    downstream: set[str] = set()
    cache = settings.git_cache_dir
    for version_control, scm_repo, repo in rows:
        try:
            url = resolve_upstream_url(
                version_control,
                scm_repo,
                github_base_url=settings.tracking.github_base_url,
                allow_local=settings.tracking.allow_local_upstreams,
            )
            upstream.add(Mirror(cache, url).path.name)
        except RepotrackError:
            pass  # a refused URL never got a mirror
        try:
            target = parse_downstream(
                repo, settings.forges, default_forge=settings.tracking.default_forge
            )
            downstream.add(Downstream(cache / "downstream", target.clone_url).path.name)
        except RepotrackError:
            pass
    return upstream, downstream


def _prune(root: Path, in_use: set[str], result: GcResult) -> None:
    if not root.is_dir():
        return
    _drop_orphan_locks(root, in_use)
    for path in sorted(root.iterdir()):
        if not path.name.endswith(".git") or not path.is_dir() or path.is_symlink():
            continue
        if path.name in in_use:
            result.kept += 1
            continue
        lock = root / f"{path.name}.lock"
        try:
            with file_lock(lock, timeout=_LOCK_WAIT, what=path.name):
                shutil.rmtree(path)
        except ConflictError:
            result.busy.append(path.name)
            continue
        lock.unlink(missing_ok=True)
        result.removed.append(path.name)


def _drop_orphan_locks(root: Path, in_use: set[str]) -> None:
    """Lock files whose repository is gone and unused (a first fetch that failed)."""
    for lock in sorted(root.glob("*.git.lock")):
        name = lock.name.removesuffix(".lock")
        if name in in_use or (root / name).exists():
            continue
        try:
            with file_lock(lock, timeout=_LOCK_WAIT, what=name):
                lock.unlink(missing_ok=True)
        except ConflictError:
            continue
