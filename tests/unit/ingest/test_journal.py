"""Leftovers of interrupted loads: found by the journal at the next load, or by ``db gc``.

The leftovers are written here the way a killed load leaves them (node rows without
their root, members of nodes that never got a row, package rows without the
``PackageHash`` mark), next to a published snapshot that must stay untouched.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from repotrack.ingest import load_repo
from repotrack.ingest.journal import collect_garbage, record_packages, record_sets, repair
from repotrack.store import Store, open_store
from tests.conftest import DATA
from tests.unit.store.storeutil import fresh_store_url, settle_mutations

DAY = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture
def url(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> str:
    return fresh_store_url(tmp_path_factory, tmp_path / "store")


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    with open_store(url) as opened:
        yield opened


def _published(store: Store) -> list[tuple[object, ...]]:
    return store.query(
        "SELECT N.pkgset_nodename, count() FROM PackageSetName AS N "
        "INNER JOIN PackageSet AS S ON S.pkgset_uuid = N.pkgset_uuid "
        "GROUP BY N.pkgset_nodename ORDER BY N.pkgset_nodename"
    )


def _leave_orphans(store: Store) -> tuple[uuid.UUID, uuid.UUID, int]:
    """A node whose root never came, members of a node with no row, a package without mark."""
    root, node, loose = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    store.insert(
        "PackageSetName",
        (
            "pkgset_uuid",
            "pkgset_puuid",
            "pkgset_ruuid",
            "pkgset_depth",
            "pkgset_nodename",
            "pkgset_date",
        ),
        [(node, root, root, 1, "x86_64", DAY)],
    )
    store.insert("PackageSet", ("pkgset_uuid", "pkg_hash"), [(node, 1), (node, 2), (loose, 3)])
    store.insert("Packages", ("pkg_hash", "pkg_name"), [(99, "half-written")])
    store.insert("Files", ("pkg_hash", "file_hashname"), [(99, 1), (99, 2)])
    store.insert("Depends", ("pkg_hash", "dp_name"), [(99, "libc")])
    return root, loose, 99


def _orphan_counts(store: Store) -> tuple[int, ...]:
    return tuple(
        int(store.query(sql)[0][0])
        for sql in (
            "SELECT count() FROM PackageSetName WHERE pkgset_ruuid NOT IN "
            "(SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_depth = 0)",
            "SELECT count() FROM PackageSet WHERE pkgset_uuid NOT IN "
            "(SELECT pkgset_uuid FROM PackageSetName)",
            "SELECT count() FROM Packages WHERE pkg_hash = 99",
            "SELECT count() FROM Files WHERE pkg_hash = 99",
            "SELECT count() FROM Depends WHERE pkg_hash = 99",
        )
    )


def test_gc_removes_leftovers_and_keeps_published_sets(store: Store, tmp_path: Path) -> None:
    load_repo(store, branch="p10", path=DATA / "rpms", date=DAY.date())
    published = _published(store)
    _leave_orphans(store)
    assert _orphan_counts(store) == (1, 1, 1, 2, 1)
    report = collect_garbage(store)
    assert (report.packages, report.nodes) == (1, 1)
    assert _orphan_counts(store) == (0, 0, 0, 0, 0)
    assert _published(store) == published
    assert not collect_garbage(store)  # a second run finds nothing


def test_the_next_load_repairs_what_the_journal_names(store: Store) -> None:
    dead = uuid.uuid4()
    started = datetime.now(UTC) - timedelta(minutes=5)
    root, node = uuid.uuid4(), uuid.uuid4()
    record_packages(store, dead, started, [99])
    record_sets(store, dead, started, root, [node])
    _leave_orphans(store)
    store.insert(
        "PackageSetName",
        (
            "pkgset_uuid",
            "pkgset_puuid",
            "pkgset_ruuid",
            "pkgset_depth",
            "pkgset_nodename",
            "pkgset_date",
        ),
        [(node, root, root, 1, "noarch", DAY)],
    )
    store.insert("PackageSet", ("pkgset_uuid", "pkg_hash"), [(node, 5)])
    load_repo(store, branch="p10", path=DATA / "rpms", date=DAY.date())
    assert store.query(
        "SELECT count() FROM PackageSetName WHERE pkgset_uuid = {n:UUID}", {"n": node}
    ) == [(0,)]
    assert store.query(
        "SELECT count() FROM PackageSet WHERE pkgset_uuid = {n:UUID}", {"n": node}
    ) == [(0,)]
    assert _orphan_counts(store)[2:] == (0, 0, 0)
    settle_mutations(store)  # journal entries are deleted without waiting
    assert store.query("SELECT count() FROM repotrack_load_journal") == [(0,)]
    assert store.query("SELECT count() FROM repotrack_pending_sets") == [(0,)]


def test_on_a_server_young_entries_are_left_to_their_load(store: Store) -> None:
    """With a grace period, a load that started recently may still be writing."""
    live = uuid.uuid4()
    record_packages(store, live, datetime.now(UTC), [99])
    store.insert("Packages", ("pkg_hash", "pkg_name"), [(99, "being-written")])
    assert not repair(store, grace=timedelta(hours=1))
    assert store.query("SELECT count() FROM Packages WHERE pkg_hash = 99") == [(1,)]
    assert repair(store, grace=timedelta(0)).packages == 1
    assert store.query("SELECT count() FROM Packages WHERE pkg_hash = 99") == [(0,)]


def test_db_gc_command(url: str, tmp_path: Path) -> None:
    with open_store(url) as store:
        _leave_orphans(store)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "repotrack"), "db", "gc", "--store", url],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "removed the partial rows of 1 packages, 1 unpublished package-set nodes" in done.stdout
    with open_store(url) as store:
        assert _orphan_counts(store) == (0, 0, 0, 0, 0)


def test_a_finished_loads_entries_still_visible_make_repair_delete_nothing(
    store: Store,
) -> None:
    """Loads delete their journal entries without waiting for the delete to apply, so
    the next load may still see them: they must name nothing to repair (every package
    has its ``PackageHash`` mark, every root was published)."""
    load_repo(store, branch="p10", path=DATA / "rpms", date=DAY.date())
    published = _published(store)
    hashes = [int(h) for (h,) in store.query("SELECT pkgh_mmh FROM PackageHash")]
    nodes = [n for (n,) in store.query("SELECT pkgset_uuid FROM PackageSetName")]
    (root,) = [
        r for (r,) in store.query("SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_depth = 0")
    ]
    started = datetime.now(UTC) - timedelta(minutes=5)
    finished = uuid.uuid4()  # the entries as the load wrote them, not deleted yet
    record_packages(store, finished, started, hashes)
    record_sets(store, finished, started, root, [n for n in nodes if n != root])
    counts = {
        table: store.query(f"SELECT count() FROM {table}")  # noqa: S608
        for table in ("Packages", "Files", "Depends", "PackageSet", "PackageSetName")
    }
    assert not repair(store)
    assert _published(store) == published
    assert {
        table: store.query(f"SELECT count() FROM {table}")  # noqa: S608
        for table in counts
    } == counts


def test_a_process_does_not_reread_the_entries_of_loads_it_finished(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deletes of a finished load's entries are not waited for, so a service that
    loads again finds them still there: one statement tells they are its own, and
    another load's entries (a dead one's) still get the whole repair."""
    load_repo(store, branch="p10", path=DATA / "rpms", date=DAY.date())
    asked: list[str] = []
    query = store.query

    def counted(sql: str, params: dict[str, object] | None = None) -> list[tuple[object, ...]]:
        asked.append(sql)
        return query(sql, params)

    monkeypatch.setattr(store, "query", counted)
    assert not repair(store)
    assert len(asked) == 1
    _leave_orphans(store)
    dead = uuid.uuid4()
    record_packages(store, dead, datetime.now(UTC) - timedelta(minutes=5), [99])
    asked.clear()
    assert repair(store).packages == 1
    assert len(asked) > 1
    assert _orphan_counts(store)[2:] == (0, 0, 0)
