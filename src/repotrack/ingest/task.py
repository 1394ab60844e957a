"""``load_task``: one girar task directory into the store, the function every face calls.

Order of work (altrepo §3.4, made idempotent, incremental and atomic for readers):

Tasks are taken in batches of ``TASK_BATCH``; for each batch:

0. skip the directories whose fingerprint (every entry's path, size and mtime) an
   earlier load recorded in ``TaskLoadMarks``: they are unchanged (not with ``force``);
   an embedded store also keeps the marks in a file beside it, which lets the CLI
   answer a reload of unchanged tasks without opening the store (``task_marks``);
1. read each remaining directory whole (``sources.task.read_task``): a missing or
   malformed file stops here, naming the task and the file, with nothing of it written;
2. read the packages the tasks built (``ingest.task_packages``), stored once under the
   ``pkg_hash`` ``load repo`` gives them; a bad package stops here too;
3. compare every task row with what the store holds for the batch's tasks
   (``ingest.task_stored``: a few queries per batch) and keep only what is new: a
   reload adds nothing; a new state, iteration, approval or log line adds exactly
   itself (logs that grew add their new lines only);
4. write: packages (``PackageHash`` last), the file-provides patch for the packages
   of every task whose state is new (``_patched``), then one insert per table:
   chroots, logs, plan, approvals, subtasks, iterations and, LAST, the
   ``TaskStates`` rows, then the fingerprints. Readers start from ``TaskStates`` and
   take the subtasks and iterations of its ``task_changed``, so an interrupted load
   shows each task as it was before (and a rerun finishes it). Before a new ``DONE``
   row the package buffers are flushed, so that ``mv_package_history`` finds what it
   joins.

Approvals follow §3.4 step 6: an approval stored and no longer on disk is recorded
again as revoked, dated now; one on disk and not stored (or changed) is added.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repotrack.errors import InputError
from repotrack.ingest import task_rows as tr
from repotrack.ingest.batch import RowBatcher
from repotrack.ingest.filedeps import patch_file_provides
from repotrack.ingest.journal import forget, repair
from repotrack.ingest.task_marks import append_marks, marks_file, read_marks, unchanged_line
from repotrack.ingest.task_packages import (
    NewPackage,
    PackageError,
    read_task_packages,
    task_files,
)
from repotrack.ingest.task_stored import StoredTasks
from repotrack.sources.task import TaskRecord, fingerprint, read_task, task_id_of

if TYPE_CHECKING:
    from repotrack.ingest.repo import LoadProgress
    from repotrack.store import Store

__all__ = [
    "TASK_BATCH",
    "TaskLoad",
    "TaskLoadSummary",
    "flush_task_buffers",
    "load_task",
    "load_tasks",
]

log = logging.getLogger(__name__)

MAX_WORKERS = 64
#: Tasks whose stored rows are fetched together (one query per table and batch).
TASK_BATCH = 100
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
    #: Skipped without reading: the directory is as it was at an earlier load.
    unchanged: bool = False

    @property
    def added(self) -> int:
        return sum(self.rows.values())

    def line(self) -> str:
        if self.unchanged:
            return unchanged_line(self.task_id)
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
    skip_unchanged: bool = True,
    now: datetime | None = None,
) -> TaskLoadSummary:
    """Load the task directory ``path`` (named by its integer id).

    ``force`` reads every package again, stored or not (the original's ``-F``);
    ``approvals=False`` and ``logs_for_new=False`` are the daemon's defaults; ``flush``
    flushes the buffers afterwards. ``record`` is the already-read directory (the
    CLI reads it first for ``--dumpjson``). Raises ``TaskDataError`` for a missing
    or malformed file, ``InputError`` for a directory not named by an id.
    """
    (summary,) = load_tasks(
        store,
        paths=[Path(path)],
        force=force,
        workers=workers,
        approvals=approvals,
        logs_for_new=logs_for_new,
        flush=flush,
        records=[record] if record is not None else None,
        skip_unchanged=skip_unchanged,
        now=now,
    )
    return summary


def load_tasks(
    store: Store,
    *,
    paths: Sequence[Path],
    force: bool = False,
    workers: int = 1,
    approvals: bool = True,
    logs_for_new: bool = True,
    flush: bool = False,
    records: Sequence[TaskRecord] | None = None,
    on_read: Callable[[TaskRecord], object] | None = None,
    skip_unchanged: bool = True,
    now: datetime | None = None,
    progress: LoadProgress | None = None,
) -> list[TaskLoadSummary]:
    """``load_task`` for many tasks, in batches of ``TASK_BATCH`` (a few queries each).

    A task that cannot be read stops the load: the tasks before it are loaded, it
    and those after it are not, and its error is raised. ``on_read`` sees every task
    as read, before it is loaded (the CLI's ``--dumpjson``). With ``skip_unchanged``
    (and without ``force``) a directory whose fingerprint was recorded by an earlier
    load is not read at all (``TaskLoadMarks``, written after a task's last row).
    """
    if not 1 <= workers <= MAX_WORKERS:
        raise InputError(f"must be 1..{MAX_WORKERS}, got {workers}", field="workers")
    options = _Options(force, workers, approvals, logs_for_new, now or datetime.now(UTC))
    repair(store)  # what a killed earlier load left half-written (``journal``)
    if progress is not None:
        progress.start(total=len(paths))
    done: list[TaskLoadSummary] = []
    for start in range(0, len(paths), TASK_BATCH):
        chunk = [Path(p) for p in paths[start : start + TASK_BATCH]]
        given = records[start : start + TASK_BATCH] if records is not None else None
        # Records read by the caller may predate the fingerprint: no marks for them.
        fresh_reads = skip_unchanged and not force and records is None
        marks = _marks(store, chunk, options) if fresh_reads else {}
        slots: list[TaskLoadSummary | int] = []
        batch: list[TaskRecord] = []
        for index, path in enumerate(chunk):
            mark = marks.get(index)
            if mark is not None and mark[2]:
                slots.append(TaskLoadSummary(mark[0], "", 0, 0, {}, 0.0, unchanged=True))
                continue
            try:
                record = given[index] if given is not None else read_task(path)
                if any(b.task_id == record.task_id for b in batch):
                    raise InputError(f"task {record.task_id} is given twice", path=str(path))
            except InputError:
                done.extend(_fill(slots, _load_batch(store, batch, options, marks)))
                raise
            if on_read is not None:
                on_read(record)
            slots.append(len(batch))
            batch.append(record)
        finished = _fill(slots, _load_batch(store, batch, options, marks))
        done.extend(finished)
        if progress is not None:
            for summary in finished:
                progress.advance(new=not summary.unchanged)
    if flush:
        flush_task_buffers(store)
    return done


def _fill(
    slots: list[TaskLoadSummary | int], loaded: list[TaskLoadSummary]
) -> list[TaskLoadSummary]:
    """Summaries in input order: skipped ones as they are, loaded ones by batch position."""
    return [
        s if isinstance(s, TaskLoadSummary) else loaded[s]
        for s in slots
        if isinstance(s, TaskLoadSummary) or s < len(loaded)
    ]


#: For a chunk position: (task id, fingerprint, already stored).
_Mark = tuple[int, int, bool]


def _marks(store: Store, chunk: list[Path], options: _Options) -> dict[int, _Mark]:
    """Fingerprints of the chunk's directories and whether a load of each is recorded."""
    found: dict[int, tuple[int, int]] = {}
    for index, path in enumerate(chunk):
        try:
            found[index] = (
                task_id_of(path),
                fingerprint(path, options.approvals, options.logs_for_new),
            )
        except (InputError, OSError):
            continue  # read_task reports it
    if not found:
        return {}
    stored = {
        (int(t), int(f))
        for t, f in store.query(
            "SELECT task_id, tlm_fingerprint FROM TaskLoadMarks WHERE task_id IN {t:Array(UInt32)}",
            {"t": sorted({t for t, _ in found.values()})},
        )
    }
    file = marks_file(store.url)
    if file is not None:  # the store's marks the file lacks (an older store): copied over
        append_marks(file, sorted(set(found.values()) & stored - read_marks(file)))
    return {i: (t, f, (t, f) in stored) for i, (t, f) in found.items()}


def flush_task_buffers(store: Store) -> None:
    """``OPTIMIZE TABLE`` the buffers in the original's order (``-f/--flush-buffers``)."""
    for table in FLUSH_ORDER:
        store.command(f"OPTIMIZE TABLE {table}")


@dataclass(frozen=True, slots=True)
class _Options:
    force: bool
    workers: int
    approvals: bool
    logs_for_new: bool
    now: datetime


def _load_batch(
    store: Store, tasks: list[TaskRecord], options: _Options, marks: dict[int, _Mark]
) -> list[TaskLoadSummary]:
    if not tasks:
        return []
    started = time.monotonic()
    try:
        ids, new = read_task_packages(store, tasks, force=options.force, workers=options.workers)
    except PackageError as failed:
        # The tasks before the one with the bad package are complete: load them.
        _load_batch(store, tasks[: failed.index], options, marks)
        raise failed.error from failed.error.__cause__
    stored = StoredTasks(store, tasks)
    chroots, chroot_rows = stored.chroot_hashes(tasks)
    per_task = [_task_rows(t, ids, chroots, stored, options) for t in tasks]
    batcher = RowBatcher(store)
    for fresh in new.values():
        batcher.add_package(fresh.rows)
    batcher.flush()
    forget(store, batcher.load_id)  # every package of the batch is complete
    patched = _patched(tasks, per_task, ids, new)
    if patched:
        patch_file_provides(store, patched)
    _write(store, chroot_rows, per_task)
    _write_marks(store, tasks, marks)
    seconds = (time.monotonic() - started) / len(tasks)
    summaries = []
    for task, added in zip(tasks, per_task, strict=True):
        hashes = {ids[str(p)] for p in task_files(task)}
        summary = TaskLoadSummary(
            task_id=task.task_id,
            state=task.state.state,
            packages=len(hashes),
            new_packages=sum(1 for h in hashes if h in new and new[h].task == task.task_id),
            rows={table: len(rows) for table, rows in added.items()},
            seconds=seconds,
        )
        log.info("task load done", extra={"task": task.task_id, "summary": summary.line()})
        summaries.append(summary)
    if chroot_rows and summaries:
        summaries[0].rows[tr.CHROOTS] = len(chroot_rows)
    return summaries


def _patched(
    tasks: list[TaskRecord],
    per_task: list[dict[str, list[Row]]],
    ids: dict[str, int],
    new: dict[int, NewPackage],
) -> list[int]:
    """The packages the file-provides patch covers: those stored by this load, and every
    package of a task whose ``TaskStates`` row this load adds.

    Why not the new packages alone: the patch comes after the batch's ``PackageHash``
    rows, and a load killed in between left packages that count as stored, so the
    rerun found nothing new and never patched them (a file required and provided by
    no package stayed unprovided for good). The task's state row, written last, is
    what says a task is done: until it is stored, a rerun patches the task's packages
    again. The patch is idempotent (a path once provided gets no more rows), so a
    patch the killed load had finished adds nothing, and it is the same in a clean
    load and in a rerun: a task first loaded with packages another load stored
    (``load repo``, ``load package``, which have no patch) has them patched too.
    (The patch's rows go in one statement, however many: ``patch_file_provides``.)
    """
    hashes = set(new)
    for task, rows in zip(tasks, per_task, strict=True):
        if rows[tr.STATES]:
            hashes.update(ids[str(p)] for p in task_files(task))
    return sorted(hashes)


def _write(store: Store, chroot_rows: list[Row], per_task: list[dict[str, list[Row]]]) -> None:
    """Every table's rows of the batch in one insert each; the ``TaskStates`` rows last."""
    if chroot_rows:
        store.insert(tr.CHROOTS, ("tch_chroot",), chroot_rows)
    for table, columns in _WRITE_ORDER:
        rows = [r for task in per_task for r in task[table]]
        if rows:
            store.insert(table, columns, rows)
    states = [r for task in per_task for r in task[tr.STATES]]
    if states:
        if any(row[2] == "DONE" for row in states):
            for table in _BEFORE_DONE:
                store.command(f"OPTIMIZE TABLE {table}")
        store.insert(tr.STATES, tr.STATES_COLUMNS, states)


def _write_marks(store: Store, tasks: list[TaskRecord], marks: dict[int, _Mark]) -> None:
    """Record the fingerprints the batch's tasks were read with, after all their rows."""
    loaded = {t.task_id for t in tasks}
    rows = sorted({(t, f) for t, f, stored in marks.values() if t in loaded and not stored})
    if rows:
        store.insert("TaskLoadMarks", ("task_id", "tlm_fingerprint"), rows)
        file = marks_file(store.url)
        if file is not None:  # only now: the file never claims a mark the store lacks
            append_marks(file, rows)


_WRITE_ORDER = (
    (tr.LOGS, tr.LOGS_COLUMNS),
    (tr.PLAN_PACKAGES, tr.PLAN_PACKAGES_COLUMNS),
    (tr.PLAN_HASHES, tr.PLAN_HASHES_COLUMNS),
    (tr.APPROVALS, tr.APPROVALS_COLUMNS),
    (tr.TASKS, tr.TASKS_COLUMNS),
    (tr.ITERATIONS, tr.ITERATIONS_COLUMNS),
)


def _task_rows(
    task: TaskRecord,
    ids: dict[str, int],
    chroots: dict[tuple[int, ...], int],
    stored: StoredTasks,
    options: _Options,
) -> dict[str, list[Row]]:
    """The rows this task adds, per table (``TaskChroots`` is counted per batch)."""
    plan_packages, plan_hashes = tr.plan_rows(task)
    logs = options.logs_for_new or task.state.state != "NEW"
    return {
        tr.CHROOTS: [],
        tr.LOGS: _log_rows(task, stored) if logs else [],
        tr.PLAN_PACKAGES: stored.new(tr.PLAN_PACKAGES, plan_packages),
        tr.PLAN_HASHES: stored.new(tr.PLAN_HASHES, plan_hashes),
        tr.APPROVALS: _approval_rows(task, stored, options.now) if options.approvals else [],
        tr.TASKS: stored.new(tr.TASKS, tr.subtask_rows(task)),
        tr.ITERATIONS: stored.new(tr.ITERATIONS, tr.iteration_rows(task, ids, chroots)),
        tr.STATES: stored.new(tr.STATES, [tr.state_row(task)]),
    }


def _log_rows(task: TaskRecord, stored: StoredTasks) -> list[Row]:
    rows: list[Row] = []
    for lg in task.logs():
        rows.extend(tr.log_rows(lg, after=stored.log_lines.get(tr.log_hash(lg), 0)))
    return rows


def _approval_rows(task: TaskRecord, stored: StoredTasks, now: datetime) -> list[Row]:
    """§3.4 step 6: new or changed approvals; stored ones gone from disk as revoked."""
    tid = task.task_id
    latest = stored.approvals.get(tid, {})
    rows: list[Row] = []
    on_disk = set()
    for a in task.approvals:
        key = (a.subtask_id, a.type, a.name)
        on_disk.add(key)
        if latest.get(key) != (0, a.date, a.message):
            rows.append((tid, a.subtask_id, a.type, 0, a.date, a.name, a.message))
    when = now.replace(microsecond=0)
    for (sub, kind, name), (revoked, _date, message) in sorted(latest.items()):
        if not revoked and (sub, kind, name) not in on_disk:
            rows.append((tid, sub, kind, 1, when, name, message))
    return rows
