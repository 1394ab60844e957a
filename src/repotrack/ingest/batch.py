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
"""

from __future__ import annotations

import uuid
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


class RowBatcher:
    """Collects rows per table and flushes them all, in a fixed order, when full."""

    def __init__(
        self,
        store: Store,
        *,
        max_rows: int = DEFAULT_BATCH_ROWS,
        load_id: uuid.UUID | None = None,
    ) -> None:
        self._store = store
        self._max_rows = max_rows
        self.load_id = load_id or uuid.uuid4()
        self.started = datetime.now(UTC).replace(microsecond=0)
        self._changelog: dict[int, str] = {}
        self._files: list[RowBlock] = []
        self._file_rows = 0
        self._depends: list[RowBlock] = []
        self._depend_rows = 0
        self._packages: list[tuple[Any, ...]] = []
        self._specs: list[tuple[Any, ...]] = []
        self._hashes: list[tuple[Any, ...]] = []
        self._members: list[tuple[uuid.UUID, int]] = []
        self.files_written = 0

    @property
    def pending(self) -> int:
        return (
            len(self._changelog)
            + self._file_rows
            + self._depend_rows
            + len(self._packages)
            + len(self._hashes)
            + len(self._members)
        )

    def add_package(self, rows: PackageRows) -> None:
        for digest, text in rows.changelogs:
            self._changelog.setdefault(digest, text)
        if rows.files.rows:
            self._files.append(rows.files)
            self._file_rows += rows.files.rows
        if rows.depends.rows:
            self._depends.append(rows.depends)
            self._depend_rows += rows.depends.rows
        self._packages.append(rows.package_row())
        if rows.spec is not None:
            self._specs.append(rows.spec)
        self._hashes.append(rows.hash_row())
        self._flush_if_full()

    def add_members(self, node: uuid.UUID, hashes: list[int]) -> None:
        self._members.extend((node, h) for h in hashes)
        self._flush_if_full()

    def _flush_if_full(self) -> None:
        if self.pending >= self._max_rows:
            self.flush()

    def flush(self) -> None:
        store = self._store
        if self._hashes:
            journal.record_packages(
                store, self.load_id, self.started, [row[0] for row in self._hashes]
            )
        if self._changelog:
            store.insert(tables.CHANGELOG, tables.CHANGELOG_COLUMNS, self._changelog.items())
        if self._files:
            columns, types = tables.FILE_INPUT_COLUMNS, tables.FILE_INPUT_TYPES
            store.insert_select(
                tables.FILES,
                tables.FILES_COLUMNS,
                tables.FILES_SELECT,
                wire_structure(columns, types),
                assemble_block(columns, types, self._files),
            )
            # FileNames needs the names alone: a block of that one column.
            names, name_types = tables.FILE_NAME_INPUT_COLUMNS, tables.FILE_NAME_INPUT_TYPES
            parts = [EncodedColumns(p.rows, p.payloads[_NAME : _NAME + 1]) for p in self._files]
            store.insert_select(
                tables.FILE_NAMES,
                tables.FILE_NAMES_COLUMNS,
                tables.FILE_NAMES_SELECT,
                wire_structure(names, name_types),
                assemble_block(names, name_types, parts),
            )
            self.files_written += self._file_rows
        if self._depends:
            block = assemble_block(tables.DEPENDS_COLUMNS, tables.DEPENDS_TYPES, self._depends)
            store.insert_blocks(tables.DEPENDS, tables.DEPENDS_COLUMNS, [block])
        if self._specs:
            store.insert(tables.SPECFILES, tables.SPECFILES_COLUMNS, self._specs)
        if self._packages:
            store.insert(tables.PACKAGES, tables.PACKAGES_COLUMNS, self._packages)
        if self._hashes:
            store.insert(tables.PACKAGE_HASH, tables.PACKAGE_HASH_COLUMNS, self._hashes)
        if self._members:
            store.insert(tables.PACKAGE_SET, tables.PACKAGE_SET_COLUMNS, self._members)
        self._changelog = {}
        self._files, self._depends, self._packages = [], [], []
        self._file_rows = self._depend_rows = 0
        self._specs, self._hashes, self._members = [], [], []
