"""``load_task``: one girar task directory into the store, the function every face calls.

Order of work (altrepo §3.4, made idempotent, incremental and atomic for readers):

1. read the whole directory (``sources.task.read_task``): a missing or malformed
   file stops here, naming the task and the file, with nothing written;
2. read the packages the task built (``build/<N>/<arch>/{srpm,rpms}``, ``arepo``)
   through the repository loader's pipeline, so a package is stored once, under the
   same ``pkg_hash`` and rows as ``load repo`` gives it; a bad package stops here too.
   ``.noarch.rpm`` files are never checked against the task's header lists: girar
   builds them on every arch, with different bytes (§3.4 step 3);
3. compare every task row with what the store already holds for this task and keep
   only what is new: a reload adds nothing; a new state, iteration, approval or log
   line adds exactly itself (logs that grew add their new lines only);
4. write: packages (``PackageHash`` last), the file-provides patch for the new
   packages only, chroots, logs, plan, approvals, subtasks, iterations and, LAST, the
   ``TaskStates`` row. Readers start from ``TaskStates`` and take the subtasks and
   iterations of its ``task_changed``, so an interrupted load shows the task as it
   was before (and a rerun finishes it). Before a new ``DONE`` row the package
   buffers are flushed, so that ``mv_package_history`` finds what it joins.

Approvals follow §3.4 step 6: an approval stored and no longer on disk is recorded
again as revoked, dated now; one on disk and not stored (or changed) is added.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repotrack.errors import InputError, TaskDataError
from repotrack.ingest import task_rows as tr
from repotrack.ingest.batch import RowBatcher
from repotrack.ingest.filedeps import patch_file_provides
from repotrack.ingest.pipeline import Pipeline
from repotrack.ingest.reader import PackageJob, read_package
from repotrack.ingest.rows import Digests, PackageRows
from repotrack.sources.task import TaskRecord, read_task

if TYPE_CHECKING:
    from repotrack.store import Store

__all__ = ["TaskLoad", "TaskLoadSummary", "flush_task_buffers", "load_task"]

log = logging.getLogger(__name__)

MAX_WORKERS = 64
#: Buffers flushed by ``--flush-buffers``, in the original's order (§3.4 step 8).
FLUSH_ORDER = (
    "Files_buffer",
    "Depends_buffer",
    "Changelog_buffer",
    "Packages_buffer",
    "PackageHash_buffer",
    "TaskIterations_buffer",
    "Tasks_buffer",
    "TaskStates_buffer",
    "Specfiles_buffer",
)
#: What ``mv_package_history`` joins from the package tables.
_BEFORE_DONE = ("Changelog_buffer", "Packages_buffer", "PackageHash_buffer")

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class TaskLoadSummary:
    """What a task load did: ``rows`` counts the rows added per table."""

    task_id: int
    state: str
    packages: int
    new_packages: int
    rows: dict[str, int]
    seconds: float

    @property
    def added(self) -> int:
        return sum(self.rows.values())

    def line(self) -> str:
        if not self.added and not self.new_packages:
            return f"task {self.task_id} {self.state}: already loaded, nothing new"
        tables = ", ".join(f"{k} {v}" for k, v in self.rows.items() if v)
        return (
            f"task {self.task_id} {self.state}: {self.packages} packages "
            f"({self.new_packages} new), {self.added} task rows ({tables}), "
            f"{self.seconds:.1f} s"
        )


@dataclass(frozen=True, slots=True)
class TaskLoad:
    """The arguments of one task load, as every face receives them."""

    path: Path
    force: bool = False
    workers: int = 1
    approvals: bool = True
    logs_for_new: bool = True
    flush: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": "task",
            "path": str(self.path),
            "force": self.force,
            "workers": self.workers,
            "approvals": self.approvals,
            "logs_for_new": self.logs_for_new,
            "flush": self.flush,
        }

    def run(self, store: Store) -> TaskLoadSummary:
        return load_task(
            store,
            path=self.path,
            force=self.force,
            workers=self.workers,
            approvals=self.approvals,
            logs_for_new=self.logs_for_new,
            flush=self.flush,
        )


def load_task(
    store: Store,
    *,
    path: Path,
    force: bool = False,
    workers: int = 1,
    approvals: bool = True,
    logs_for_new: bool = True,
    flush: bool = False,
    record: TaskRecord | None = None,
    now: datetime | None = None,
) -> TaskLoadSummary:
    """Load the task directory ``path`` (named by its integer id).

    ``force`` reads every package again, stored or not (the original's ``-F``);
    ``approvals=False`` and ``logs_for_new=False`` are the daemon's defaults; ``flush``
    flushes the buffers afterwards. ``record`` is the already-read directory (the
    CLI reads it first for ``--dumpjson``). Raises ``TaskDataError`` for a missing
    or malformed file, ``InputError`` for a directory not named by an id.
    """
    started = time.monotonic()
    if not 1 <= workers <= MAX_WORKERS:
        raise InputError(f"must be 1..{MAX_WORKERS}, got {workers}", field="workers")
    task = record if record is not None else read_task(Path(path))
    ids, new = _read_packages(store, task, force=force, workers=workers)
    plan = _Plan(store, task, ids, now=now or datetime.now(UTC))
    plan.build(approvals=approvals, logs=logs_for_new or task.state.state != "NEW")
    batcher = RowBatcher(store)
    for rows in new:
        batcher.add_package(rows)
    batcher.flush()
    if new:
        patch_file_provides(store, [r.pkg_hash for r in new])
    plan.write()
    if flush:
        flush_task_buffers(store)
    summary = TaskLoadSummary(
        task_id=task.task_id,
        state=task.state.state,
        packages=len(set(ids.values())),
        new_packages=len(new),
        rows=plan.counts(),
        seconds=time.monotonic() - started,
    )
    log.info("task load done", extra={"task": task.task_id, "summary": summary.line()})
    return summary


def flush_task_buffers(store: Store) -> None:
    """``OPTIMIZE TABLE`` the buffers in the original's order (``-f/--flush-buffers``)."""
    for table in FLUSH_ORDER:
        store.command(f"OPTIMIZE TABLE {table}")


# -- packages --------------------------------------------------------------------------------
def _jobs(task: TaskRecord) -> list[PackageJob]:
    digests = task.plan.digests if task.plan is not None else {}
    jobs: list[PackageJob] = []
    for it in task.iterations:
        node = f"{it.subtask_id}/{it.arch}"
        if it.srpm is not None:
            jobs.append(PackageJob(it.srpm.name, True, node, str(it.srpm)))
        for rpm in it.rpms:
            jobs.append(PackageJob(rpm.name, False, node, str(rpm), _expected(rpm, digests)))
    jobs.extend(PackageJob(p.name, False, "arepo", str(p)) for p in task.arepo)
    return jobs


def _expected(rpm: Path, digests: dict[str, tuple[bytes, bytes]]) -> Digests:
    if rpm.name.endswith(".noarch.rpm") or rpm.name not in digests:
        return Digests()
    md5, blake2b = digests[rpm.name]
    return Digests(md5=md5, blake2b=blake2b)


def _read_packages(
    store: Store, task: TaskRecord, *, force: bool, workers: int
) -> tuple[dict[str, int], list[PackageRows]]:
    """``{path: pkg_hash}`` of every file, and the rows of packages the store lacks."""
    ids: dict[str, int] = {}
    new: dict[int, PackageRows] = {}
    jobs = _jobs(task)
    try:
        if force:
            for job in jobs:
                rows = read_package(job)
                ids[str(job.path)] = rows.pkg_hash
                new.setdefault(rows.pkg_hash, rows)
        else:
            with Pipeline(store, workers=workers) as pipeline:
                for outcome in pipeline.run(iter(jobs)):
                    ids[str(outcome.job.path)] = outcome.pkg_hash
                    if outcome.rows is not None:
                        new.setdefault(outcome.pkg_hash, outcome.rows)
    except TaskDataError:
        raise
    except InputError as exc:
        raise TaskDataError(exc.reason, task=task.task_id, path=exc.path) from exc
    _link_sources(task, ids, new)
    return ids, list(new.values())


def _link_sources(task: TaskRecord, ids: dict[str, int], new: dict[int, PackageRows]) -> None:
    """A binary's ``pkg_srcrpm_hash`` is the source its iteration built (arepo: 0)."""
    for it in task.iterations:
        source = ids[str(it.srpm)] if it.srpm is not None else 0
        for rpm in it.rpms:
            rows = new.get(ids[str(rpm)])
            if rows is not None and not rows.source:
                rows.package["pkg_srcrpm_hash"] = source
    for rpm in task.arepo:
        rows = new.get(ids[str(rpm)])
        if rows is not None:
            rows.package["pkg_srcrpm_hash"] = 0


# -- task rows ----------------------------------------------------------------------------------
@dataclass
class _Plan:
    """The rows one load adds, per table, in write order."""

    store: Store
    task: TaskRecord
    ids: dict[str, int]
    now: datetime
    rows: dict[str, list[Row]] = field(default_factory=dict)

    def build(self, *, approvals: bool, logs: bool) -> None:
        task, tid = self.task, {"t": self.task.task_id}
        chroots = self._chroots()
        self.rows[tr.LOGS] = self._logs() if logs else []
        packages, hashes = tr.plan_rows(task)
        keys = sorted({r[0] for r in packages} | {r[0] for r in hashes})
        where = "tplan_hash IN {h:Array(UInt64)}"
        self.rows[tr.PLAN_PACKAGES] = _new_rows(
            self.store, tr.PLAN_PACKAGES, tr.PLAN_PACKAGES_COLUMNS, packages, where, {"h": keys}
        )
        self.rows[tr.PLAN_HASHES] = _new_rows(
            self.store, tr.PLAN_HASHES, tr.PLAN_HASHES_COLUMNS, hashes, where, {"h": keys}
        )
        self.rows[tr.APPROVALS] = self._approvals() if approvals else []
        by_task = "task_id = {t:UInt32}"
        self.rows[tr.TASKS] = _new_rows(
            self.store, tr.TASKS, tr.TASKS_COLUMNS, tr.subtask_rows(task), by_task, tid
        )
        iterations = tr.iteration_rows(task, self.ids, chroots)
        self.rows[tr.ITERATIONS] = _new_rows(
            self.store, tr.ITERATIONS, tr.ITERATIONS_COLUMNS, iterations, by_task, tid
        )
        self.rows[tr.STATES] = _new_rows(
            self.store, tr.STATES, tr.STATES_COLUMNS, [tr.state_row(task)], by_task, tid
        )

    def counts(self) -> dict[str, int]:
        return {table: len(rows) for table, rows in self.rows.items()}

    def write(self) -> None:
        columns = {
            tr.CHROOTS: ("tch_chroot",),
            tr.LOGS: tr.LOGS_COLUMNS,
            tr.PLAN_PACKAGES: tr.PLAN_PACKAGES_COLUMNS,
            tr.PLAN_HASHES: tr.PLAN_HASHES_COLUMNS,
            tr.APPROVALS: tr.APPROVALS_COLUMNS,
            tr.TASKS: tr.TASKS_COLUMNS,
            tr.ITERATIONS: tr.ITERATIONS_COLUMNS,
        }
        for table, names in columns.items():
            if self.rows.get(table):
                self.store.insert(table, names, self.rows[table])
        states = self.rows[tr.STATES]
        if states:
            if any(row[2] == "DONE" for row in states):
                for table in _BEFORE_DONE:
                    self.store.command(f"OPTIMIZE TABLE {table}")
            self.store.insert(tr.STATES, tr.STATES_COLUMNS, states)

    def _chroots(self) -> dict[tuple[int, ...], int]:
        """Hash of every chroot list (ClickHouse's array hash, §0.4); new lists to store."""
        arrays = sorted(
            {a for it in self.task.iterations for a in (it.chroot_base, it.chroot_br) if a}
        )
        self.rows[tr.CHROOTS] = []
        if not arrays:
            return {}
        ((hashes,),) = self.store.query(
            "SELECT arrayMap(a -> murmurHash3_64(a), {a:Array(Array(UInt64))})",
            {"a": [list(a) for a in arrays]},
        )
        found = dict(zip(arrays, (int(h) for h in hashes), strict=True))
        stored = {
            int(r[0])
            for r in self.store.query(
                "SELECT DISTINCT tch_hash FROM TaskChroots WHERE tch_hash IN {h:Array(UInt64)}",
                {"h": sorted(found.values())},
            )
        }
        self.rows[tr.CHROOTS] = [(list(a),) for a, h in found.items() if h not in stored]
        return found

    def _logs(self) -> list[Row]:
        logs = self.task.logs()
        if not logs:
            return []
        stored: dict[int, int] = dict(
            self.store.query(
                "SELECT tlog_hash, max(tlog_line) FROM TaskLogs "
                "WHERE tlog_hash IN {h:Array(UInt64)} GROUP BY tlog_hash",
                {"h": sorted({tr.log_hash(lg) for lg in logs})},
            )
        )
        rows: list[Row] = []
        for lg in logs:
            rows.extend(tr.log_rows(lg, after=int(stored.get(tr.log_hash(lg), 0))))
        return rows

    def _approvals(self) -> list[Row]:
        """§3.4 step 6: new or changed approvals; stored ones gone from disk as revoked."""
        tid = self.task.task_id
        latest = {
            (int(sub), kind, name): (int(last[0]), last[1], last[2])
            for sub, kind, name, last in self.store.query(
                "SELECT subtask_id, toString(tapp_type), tapp_name, "
                "argMax(tuple(tapp_revoked, tapp_date, tapp_message), "
                "tuple(ts, tapp_date, tapp_revoked)) FROM TaskApprovals "
                "WHERE task_id = {t:UInt32} GROUP BY subtask_id, tapp_type, tapp_name",
                {"t": tid},
            )
        }
        rows: list[Row] = []
        on_disk = set()
        for a in self.task.approvals:
            key = (a.subtask_id, a.type, a.name)
            on_disk.add(key)
            if latest.get(key) != (0, a.date, a.message):
                rows.append((tid, a.subtask_id, a.type, 0, a.date, a.name, a.message))
        now = self.now.replace(microsecond=0)
        for (sub, kind, name), (revoked, _date, message) in sorted(latest.items()):
            if not revoked and (sub, kind, name) not in on_disk:
                rows.append((tid, sub, kind, 1, now, name, message))
        return rows


def _new_rows(
    store: Store,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Row],
    where: str,
    params: dict[str, Any],
) -> list[Row]:
    """The rows of ``rows`` the table does not hold yet (nor repeated within ``rows``)."""
    rows = list(rows)
    if not rows:
        return []
    stored = store.query(
        f"SELECT {', '.join(columns)} FROM {table} WHERE {where}",  # noqa: S608 - fixed names
        params,
    )
    seen = {_key(r) for r in stored}
    fresh = []
    for row in rows:
        key = _key(row)
        if key not in seen:
            seen.add(key)
            fresh.append(row)
    return fresh


def _key(row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(tuple(v) if isinstance(v, list) else v for v in row)
