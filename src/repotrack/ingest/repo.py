"""``load_repo``: one repository snapshot into the store, the one function every face calls.

Order of work (ALTRepo §2.5, made atomic for readers):

1. refuse a snapshot already loaded under the same branch and date (unless ``force``);
2. plan the tree (apt-rpm, createrepo or a plain directory of RPMs);
3. repair what a killed earlier load left half-written (``journal``);
4. sources, then binaries: dedupe against the store, read only new packages (in
   parallel), write their rows in bounded batches, PackageHash last per batch (each
   batch written by a background thread while the next one is collected);
5. the PackageSet rows and PackageSetName row of every node;
6. the root PackageSetName row, last. Until it exists the snapshot is invisible to
   readers (they start from roots), so an interrupted load publishes nothing, and a
   rerun reads only the packages the interrupted run had not finished.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from repotrack.errors import InputError
from repotrack.ingest import tables
from repotrack.ingest.batch import RowBatcher
from repotrack.ingest.dedupe import check_not_loaded
from repotrack.ingest.journal import forget, record_sets, repair
from repotrack.ingest.pipeline import Outcome, Pipeline
from repotrack.ingest.pkgset import ZERO_UUID, PackageSetNode, node_kv, node_row
from repotrack.ingest.plan import NodeSpec, TreePlan, plan_tree
from repotrack.ingest.repo_request import MAX_WORKERS, LoadProgress, LoadSummary, RepoLoad
from repotrack.store.branches import branch_name

if TYPE_CHECKING:
    from repotrack.store import Store

__all__ = ["LoadProgress", "LoadSummary", "RepoLoad", "load_repo"]

log = logging.getLogger(__name__)


def load_repo(
    store: Store,
    *,
    branch: str,
    path: Path,
    date: date,
    tag: str = "",
    force: bool = False,
    workers: int = 1,
    skip_bad: bool = False,
    verify_known: bool = False,
    progress: LoadProgress | None = None,
) -> LoadSummary:
    """Load the repository snapshot at ``path`` as ``branch`` of ``date``.

    Raises ``ConflictError`` when that branch and date are already loaded and ``force``
    is not set, ``InputError`` for an unusable tree or package (naming the file).
    With ``skip_bad`` a damaged or unreadable package is left out of the snapshot and
    listed in the summary instead; ``verify_known`` re-reads packages the store
    already holds and checks them against it (see ``reader.check_known_package``).
    """
    started = time.monotonic()
    branch = branch_name(branch)  # the original lowercases the set name
    if not 1 <= workers <= MAX_WORKERS:
        raise InputError(f"must be 1..{MAX_WORKERS}, got {workers}", field="workers")
    if not force:
        check_not_loaded(store, branch=branch, day=date)
    plan = plan_tree(Path(path))
    repair(store)
    log.info("repo load started", extra={"branch": branch, "path": str(path), "kind": plan.kind})
    if progress is not None:  # one pass over the planned jobs: the index is read again
        progress.start(total=sum(1 for phase in plan.phases for _job in phase()))
    run = _Run(store, plan, progress)
    try:
        try:
            with Pipeline(
                store, workers=workers, skip_bad=skip_bad, verify_known=verify_known
            ) as pipeline:
                for phase in plan.phases:
                    for outcome in pipeline.run(phase()):
                        run.take(outcome)
        except InputError:
            # Packages before the bad one are complete: store them, so a rerun after
            # the fix does not read them again. The snapshot itself stays unpublished.
            run.batcher.flush()
            forget(store, run.batcher.load_id)
            raise
        run.batcher.flush()
        root = run.publish(branch=branch, day=date, tag=tag)
    finally:
        run.batcher.close()  # no batch is still being written when this returns or raises
    forget(store, run.batcher.load_id)
    summary = LoadSummary(
        branch=branch,
        date=date,
        tag=tag,
        kind=plan.kind,
        root_uuid=root,
        packages=run.new + run.known,
        new=run.new,
        known=run.known,
        files=run.batcher.files_written,
        seconds=time.monotonic() - started,
        bad=tuple(run.bad),
    )
    log.info("repo load done", extra={"branch": branch, "summary": summary.line()})
    return summary


class _Run:
    """State of one load: node membership, source ids, counts, the row batcher."""

    def __init__(self, store: Store, plan: TreePlan, progress: LoadProgress | None) -> None:
        self.store = store
        self.plan = plan
        self.progress = progress
        self.batcher = RowBatcher(store, background=True)
        self.members: dict[str, dict[int, None]] = {n.key: {} for n in plan.nodes}
        self.sources: dict[str, int] = {}
        self.new = 0
        self.known = 0
        self.bad: list[tuple[str, str]] = []

    def take(self, outcome: Outcome) -> None:
        job, pkg_hash, rows = outcome.job, outcome.pkg_hash, outcome.rows
        if outcome.error is not None:
            self.bad.append((job.filename, outcome.error.reason))
            log.warning(
                "bad package left out", extra={"file": job.path, "error": str(outcome.error)}
            )
            if self.progress is not None:
                self.progress.advance(new=False)
            return
        self.members.setdefault(job.node, {})[pkg_hash] = None
        if job.source:
            self.sources[job.filename] = pkg_hash
        if rows is not None:
            if not rows.source:
                rows.package["pkg_srcrpm_hash"] = self.sources.get(rows.sourcerpm, 0)
            self.batcher.add_package(rows)
            self.new += 1
        else:
            self.known += 1
        if self.progress is not None:
            self.progress.advance(new=rows is not None)

    def publish(self, *, branch: str, day: date, tag: str) -> uuid.UUID:
        """Write every node's members and row, then the root row, last."""
        root = uuid.uuid4()
        ids = {spec.key: uuid.uuid4() for spec in self.plan.nodes}
        batcher = self.batcher
        record_sets(self.store, batcher.load_id, batcher.started, root, ids.values())
        rows = []
        for spec in self.plan.nodes:
            hashes = list(self.members.get(spec.key, {}))
            self.batcher.add_members(ids[spec.key], hashes)
            rows.append(self._node(spec, ids, root, branch, len(hashes)))
        self.batcher.flush()
        columns = tables.PACKAGE_SET_NAME_COLUMNS
        if rows:
            self.store.insert(
                tables.PACKAGE_SET_NAME, columns, [node_row(n, day=day, tag=tag) for n in rows]
            )
        all_hashes = {h for members in self.members.values() for h in members}
        root_node = PackageSetNode(
            node_id=root,
            parent=ZERO_UUID,
            root=root,
            depth=0,
            name=branch,
            complete=1,
            kv=node_kv(
                depth=0, kind="repo", size=len(all_hashes), repo=branch, extra=self.plan.root_kv
            ),
        )
        self.store.insert(tables.PACKAGE_SET_NAME, columns, [node_row(root_node, day=day, tag=tag)])
        return root

    def _node(
        self, spec: NodeSpec, ids: dict[str, uuid.UUID], root: uuid.UUID, branch: str, size: int
    ) -> PackageSetNode:
        parent = ids[spec.parent] if spec.parent is not None and spec.parent in ids else root
        return PackageSetNode(
            node_id=ids[spec.key],
            parent=parent,
            root=root,
            depth=spec.depth,
            name=spec.name,
            kv=node_kv(depth=spec.depth, kind=spec.type, size=size, repo=branch, extra=spec.kv),
            complete=1,  # as the original marks every node; readers go by the root row
        )
