"""Batches written by the background writer: the same rows, in the same order, and a
failed write raised to the loader, never lost.

``RowBatcher(background=True)`` (what a repository load uses) hands each full batch
to one writer thread. Compared here with the synchronous batcher on the same
packages, over a real chDB store, with batches small enough that a few packages make
several of them.
"""

from __future__ import annotations

import _thread
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from repotrack.errors import StoreError
from repotrack.ingest.batch import RowBatcher
from repotrack.ingest.reader import PackageJob, read_package
from repotrack.ingest.rows import PackageRows
from repotrack.store import Store
from tests.conftest import DATA, FIXTURES
from tests.unit.store.storeutil import open_fresh_store

TABLES = ("Packages", "Files", "FileNames", "Depends", "Changelog", "PackageHash", "Specfiles")


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


def _rows() -> list[PackageRows]:
    paths = sorted([*(DATA / "rpms").glob("*.rpm"), *(FIXTURES / "rpm").glob("*/*.rpm")])
    read = [
        read_package(
            PackageJob(filename=p.name, source=p.name.endswith(".src.rpm"), node="n", path=str(p))
        )
        for p in paths
    ]
    unique = {r.pkg_hash: r for r in read}  # one package under two file names: once
    return list(unique.values())


def _dump(store: Store) -> dict[str, Counter[Any]]:
    return {
        table: Counter(repr(row) for row in store.query(f"SELECT * FROM {table}"))  # noqa: S608
        for table in TABLES
    }


def _write_all(batcher: RowBatcher, packages: list[PackageRows]) -> None:
    """Every package through ``batcher``, then its last rows; the writer stopped."""
    try:
        for rows in packages:
            batcher.add_package(rows)
        batcher.flush()
    finally:
        batcher.close()


def test_background_batches_store_what_synchronous_ones_do(store: Store) -> None:
    packages = _rows()
    assert len(packages) > 10
    synchronous = RowBatcher(store, max_rows=300)
    _write_all(synchronous, packages)
    expected = _dump(store)
    assert sum(expected["Files"].values()) > 600  # several batches of 300 rows
    for table in TABLES:
        store.command(f"TRUNCATE TABLE {table}")

    background = RowBatcher(store, max_rows=300, background=True)
    _write_all(background, packages)
    assert _dump(store) == expected
    assert background.files_written == synchronous.files_written


class _FailingStore:
    """A store whose ``fail_at``-th insert raises (as a full disk would), recording
    the order of the inserts that went through."""

    def __init__(self, store: Store, fail_at: int) -> None:
        self._store = store
        self._fail_at = fail_at
        self._lock = threading.Lock()
        self.inserts: list[str] = []
        self.threads: list[int] = []  # the thread that made each insert

    def insert(self, table: str, columns: Sequence[str], rows: Any, **options: Any) -> int:
        self._count(table)
        return self._store.insert(table, columns, rows, **options)

    def insert_blocks(self, table: str, columns: Sequence[str], blocks: Sequence[bytes]) -> None:
        self._count(table)
        self._store.insert_blocks(table, columns, blocks)

    def insert_select(self, table: str, *args: Any) -> None:
        self._count(table)
        self._store.insert_select(table, *args)

    def _count(self, table: str) -> None:
        with self._lock:
            if len(self.inserts) + 1 == self._fail_at:
                raise StoreError(f"cannot write {table}: no space left on device")
            self.inserts.append(table)
            self.threads.append(threading.get_ident())


def test_a_failed_background_write_is_raised_and_nothing_after_it_is_written(
    store: Store,
) -> None:
    packages = _rows()
    failing = _FailingStore(store, fail_at=3)  # the first batch's Files insert
    batcher = RowBatcher(failing, max_rows=300, background=True)  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="no space left"):
        _write_all(batcher, packages)
    # The journal and Changelog went in before the failure; no batch after it was
    # started, so no package is marked stored (no PackageHash row).
    assert failing.inserts == ["repotrack_load_journal", "Changelog"]
    assert store.query("SELECT count() FROM PackageHash") == [(0,)]


def test_each_batch_is_written_whole_in_its_order(store: Store) -> None:
    """Journal first and PackageHash last in every batch: a package counts as stored
    only once its other rows are. The last batch is written by the loader's thread
    while the writer thread may still be writing the one before (their inserts then
    interleave); the background batches, one writer, follow each other."""
    recorder = _FailingStore(store, fail_at=0)
    batcher = RowBatcher(recorder, max_rows=300, background=True)  # type: ignore[arg-type]
    _write_all(batcher, _rows())
    by_thread: dict[int, list[list[str]]] = {}
    for table, thread in zip(recorder.inserts, recorder.threads, strict=True):
        batches = by_thread.setdefault(thread, [])
        if table == "repotrack_load_journal":
            batches.append([])
        batches[-1].append(table)
    assert len(by_thread) == 2  # the writer's batches, and the last one
    assert sum(len(b) for b in by_thread.values()) > 2
    for batches in by_thread.values():
        for tables in batches:
            assert tables[0] == "repotrack_load_journal"
            assert tables[-1] == "PackageHash"


class _InsertsOnly:
    """A store that only takes inserts, every kind going to ``insert``."""

    def insert(self, table: str, columns: Sequence[str], rows: Any, **options: Any) -> int:
        raise NotImplementedError

    def insert_blocks(self, table: str, *args: Any) -> None:
        self.insert(table, (), ())

    def insert_select(self, table: str, *args: Any) -> None:
        self.insert(table, (), ())


class _SlowStore(_InsertsOnly):
    """A store whose inserts wait for ``release`` (a batch being written), then record
    that they finished."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.finished: list[str] = []

    def insert(self, table: str, columns: Sequence[str], rows: Any, **options: Any) -> int:
        self.release.wait(30)
        self.finished.append(table)
        return 0


def test_a_second_ctrl_c_while_closing_still_waits_for_the_batch_being_written() -> None:
    """Ctrl-C twice: the load stops, but the store is never closed under a running
    insert (close returns, raising the interrupt, only once the writer is done)."""
    slow = _SlowStore()
    batcher = RowBatcher(slow, max_rows=300, background=True)  # type: ignore[arg-type]
    packages = _rows()
    for rows in packages:
        batcher.add_package(rows)
        if batcher._writing is not None:  # the first batch went to the writer
            break

    def second_ctrl_c() -> None:
        while batcher._writing is not None:  # close() takes it first, then waits
            time.sleep(0.01)
        time.sleep(0.05)
        _thread.interrupt_main()  # as SIGINT does
        time.sleep(0.3)
        slow.release.set()  # the insert that was running ends

    threading.Thread(target=second_ctrl_c).start()
    with pytest.raises(KeyboardInterrupt):
        batcher.close()
    assert slow.finished[-1] == "PackageHash"  # the batch was written to its end
    assert batcher._writer is None


class _GateStore(_InsertsOnly):
    """Inserts of the writer thread wait until the loader's thread has made one."""

    def __init__(self) -> None:
        self.loader = threading.get_ident()
        self.loader_began = threading.Event()
        self.waited_in_vain = False

    def insert(self, table: str, columns: Sequence[str], rows: Any, **options: Any) -> int:
        if threading.get_ident() == self.loader:
            self.loader_began.set()
        elif not self.loader_began.wait(10):
            self.waited_in_vain = True
        return 0


def test_the_last_batch_is_written_while_the_one_before_still_is() -> None:
    """At the end of a load the workers are done: the loader writes its last batch
    on its own connection instead of first waiting for the writer's."""
    gate = _GateStore()
    batcher = RowBatcher(gate, max_rows=300, background=True)  # type: ignore[arg-type]
    packages = _rows()
    rest = iter(packages)
    for rows in rest:
        batcher.add_package(rows)
        if batcher._writing is not None:  # a batch went to the writer
            break
    small = next(r for r in rest if r.files.rows + r.depends.rows < 100)
    started = time.monotonic()
    batcher.add_package(small)  # the last batch: one package
    _write_all(batcher, [])
    assert not gate.waited_in_vain and time.monotonic() - started < 10
