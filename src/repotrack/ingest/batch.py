"""Bounded batches of rows, flushed in the order that keeps a stopped load harmless.

Rows of many packages are gathered and sent together (one insert per table per
batch: far fewer round trips than per package), but never more than ``max_rows`` at
a time, so memory does not grow with the size of the repository.

Flush order per batch:

1. the load journal (``journal.JOURNAL``): which packages this batch is about to write;
2. Changelog, Files, FileNames, Depends, Specfiles, Packages;
3. PackageHash, last;
4. PackageSet members (only while a snapshot is being published).

Every table is a MergeTree written directly (see ``tables``), so each step is on
disk when its insert returns. ``PackageHash`` marks a package as stored (that is what
dedupe looks for), so it goes only after everything else of the same packages. A
load killed mid-batch leaves journal entries without a ``PackageHash`` row; the next
load (or ``repotrack db gc``) deletes those packages' partial rows before it starts
(``repair``), so nothing is ever counted twice or believed complete when it is not.

A repository load flushes in the background (``background=True``): a full batch is
handed to one writer thread, and the loader goes on collecting the next one while
chDB writes it (chDB releases the GIL while a statement runs). Why: on 2 CPUs the
loader's main thread was the slowest part of a first load; while it waited for each
insert, the workers stopped once their window of jobs was done, so a first load used
little more than one CPU (wall time close to CPU time). At most one batch is being
written while the next fills (memory stays bounded by two batches); batches are
written in order, each in the order above, by the one writer thread; a failed write
is raised by the next call, and ``flush``/``wait`` return only when everything handed
over is written.
"""

from __future__ import annotations

import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from repotrack.ingest import journal, tables
from repotrack.ingest.rows import PackageRows, RowBlock
from repotrack.store.native import EncodedColumns, assemble_block, wire_structure

if TYPE_CHECKING:
    from repotrack.store import Store

__all__ = ["DEFAULT_BATCH_ROWS", "RowBatcher"]

#: Rows (mostly file rows) held before a flush.
DEFAULT_BATCH_ROWS = 100_000
#: Where ``file_name`` is among the per-file columns.
_NAME = tables.FILE_INPUT_COLUMNS.index(tables.FILE_NAME_INPUT_COLUMNS[0])


@dataclass(slots=True)
class _Batch:
    """The rows of one batch, per table."""

    changelog: dict[int, str] = field(default_factory=dict)
    files: list[RowBlock] = field(default_factory=list)
    file_rows: int = 0
    depends: list[RowBlock] = field(default_factory=list)
    depend_rows: int = 0
    packages: list[tuple[Any, ...]] = field(default_factory=list)
    specs: list[tuple[Any, ...]] = field(default_factory=list)
    hashes: list[tuple[Any, ...]] = field(default_factory=list)
    members: list[tuple[uuid.UUID, int]] = field(default_factory=list)


class RowBatcher:
    """Collects rows per table and flushes them all, in a fixed order, when full."""

    def __init__(
        self,
        store: Store,
        *,
        max_rows: int = DEFAULT_BATCH_ROWS,
        load_id: uuid.UUID | None = None,
        background: bool = False,
    ) -> None:
        self._store = store
        self._max_rows = max_rows
        self.load_id = load_id or uuid.uuid4()
        self.started = datetime.now(UTC).replace(microsecond=0)
        self._batch = _Batch()
        self.files_written = 0
        self._background = background
        #: One writer thread (so one store connection) for the load's background batches.
        self._writer: ThreadPoolExecutor | None = None
        self._writing: Future[None] | None = None

    @property
    def pending(self) -> int:
        b = self._batch
        return (
            len(b.changelog)
            + b.file_rows
            + b.depend_rows
            + len(b.packages)
            + len(b.hashes)
            + len(b.members)
        )

    def add_package(self, rows: PackageRows) -> None:
        b = self._batch
        for digest, text in rows.changelogs:
            b.changelog.setdefault(digest, text)
        if rows.files.rows:
            b.files.append(rows.files)
            b.file_rows += rows.files.rows
        if rows.depends.rows:
            b.depends.append(rows.depends)
            b.depend_rows += rows.depends.rows
        b.packages.append(rows.package_row())
        if rows.spec is not None:
            b.specs.append(rows.spec)
        b.hashes.append(rows.hash_row())
        self._flush_if_full()

    def add_members(self, node: uuid.UUID, hashes: list[int]) -> None:
        self._batch.members.extend((node, h) for h in hashes)
        self._flush_if_full()

    def _flush_if_full(self) -> None:
        if self.pending < self._max_rows:
            return
        if not self._background:
            self.flush()
            return
        self.wait()  # the previous batch is written before this one starts
        batch, self._batch = self._batch, _Batch()
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="repotrack-batch-writer")
        self._writing = self._writer.submit(self._write, batch)

    def wait(self) -> None:
        """Return once the batch being written in the background is written; raise
        what its writing raised."""
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def close(self) -> None:
        """Wait for the background batch (its failure is not raised here: the caller is
        already failing, or has called ``flush``) and stop the writer thread.

        A Ctrl-C during the wait (a user pressing it twice) is held until the batch is
        written, then raised: the caller closes the store next, which must never
        happen under a running insert. The wait is one batch's insert at most.
        """
        try:
            self._settle()
        finally:
            if self._writer is not None:
                self._writer.shutdown()
                self._writer = None

    def flush(self) -> None:
        """Write every row collected so far; return once the background batch, if any,
        is written too.

        The two are written at the same time, this one on the calling thread's own
        connection: at the end of a load the workers are done and a core is idle, and
        two batches need no order between them (each batch's ``PackageHash`` rows,
        which make its packages count as stored, come after that batch's other rows;
        the package set's rows come after this returns). Measured at the end of a
        2008-package load: the last batch's 0.09 s were spent waiting for the one
        before it.
        """
        batch, self._batch = self._batch, _Batch()
        try:
            self._write(batch)
        except BaseException:
            self._settle()  # nothing is being written when this raises
            raise
        self.wait()

    def _settle(self) -> None:
        """Wait for the background batch without raising what it raised; a Ctrl-C
        meanwhile is held until it is written, then raised."""
        interrupted = False
        writing, self._writing = self._writing, None
        while writing is not None:
            try:
                writing.exception()
                break
            except KeyboardInterrupt:
                interrupted = True
        if interrupted:
            raise KeyboardInterrupt

    def _write(self, batch: _Batch) -> None:
        store = self._store
        if batch.hashes:
            journal.record_packages(
                store, self.load_id, self.started, [row[0] for row in batch.hashes]
            )
        if batch.changelog:
            store.insert(tables.CHANGELOG, tables.CHANGELOG_COLUMNS, batch.changelog.items())
        if batch.files:
            columns, types = tables.FILE_INPUT_COLUMNS, tables.FILE_INPUT_TYPES
            store.insert_select(
                tables.FILES,
                tables.FILES_COLUMNS,
                tables.FILES_SELECT,
                wire_structure(columns, types),
                assemble_block(columns, types, batch.files),
            )
            # FileNames needs the names alone: a block of that one column.
            names, name_types = tables.FILE_NAME_INPUT_COLUMNS, tables.FILE_NAME_INPUT_TYPES
            parts = [EncodedColumns(p.rows, p.payloads[_NAME : _NAME + 1]) for p in batch.files]
            store.insert_select(
                tables.FILE_NAMES,
                tables.FILE_NAMES_COLUMNS,
                tables.FILE_NAMES_SELECT,
                wire_structure(names, name_types),
                assemble_block(names, name_types, parts),
            )
            self.files_written += batch.file_rows
        if batch.depends:
            block = assemble_block(tables.DEPENDS_COLUMNS, tables.DEPENDS_TYPES, batch.depends)
            store.insert_blocks(tables.DEPENDS, tables.DEPENDS_COLUMNS, [block])
        if batch.specs:
            store.insert(tables.SPECFILES, tables.SPECFILES_COLUMNS, batch.specs)
        if batch.packages:
            store.insert(tables.PACKAGES, tables.PACKAGES_COLUMNS, batch.packages)
        if batch.hashes:
            store.insert(tables.PACKAGE_HASH, tables.PACKAGE_HASH_COLUMNS, batch.hashes)
        if batch.members:
            store.insert(tables.PACKAGE_SET, tables.PACKAGE_SET_COLUMNS, batch.members)
