"""The load journal: what a load is about to write, so a killed load can be undone.

A load writes each batch of packages to several tables one after another, and a
snapshot's package-set rows before its root row. A process killed in between leaves
rows no reader should trust: packages with some of their rows but no ``PackageHash``
mark, package-set nodes whose root never came. The journal names them:

- ``record_packages`` runs before a batch's rows are written;
- ``record_sets`` runs before a snapshot's ``PackageSet`` rows are written;
- ``forget`` removes a load's entries once its snapshot is published (or once it
  stopped cleanly on bad input, its finished batches being complete).

``repair`` then finds the entries of loads that are gone and deletes their partial
rows. With the embedded store one process owns the store, and every load runs
``repair`` before it writes, so any entry it finds is a dead load's. On a ClickHouse
server other loads may be running: only entries older than ``grace`` count as dead.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from repotrack.store.deletes import unwaited

if TYPE_CHECKING:
    from repotrack.store import Store

__all__ = [
    "DEFAULT_GRACE",
    "RepairReport",
    "collect_garbage",
    "forget",
    "record_packages",
    "record_sets",
    "repair",
]

log = logging.getLogger(__name__)

JOURNAL: Final = "repotrack_load_journal"
PENDING_SETS: Final = "repotrack_pending_sets"
#: On a shared ClickHouse server, how old an entry must be before its load counts as dead.
DEFAULT_GRACE: Final = timedelta(hours=6)
#: Tables holding rows per package that a rerun would write again.
_PACKAGE_TABLES: Final = ("Packages", "Files", "Depends", "Specfiles", "SrcPackagesLastChangelog")
_CHUNK: Final = 10_000
#: How many finished loads this process remembers (``_FINISHED``): 16 bytes each.
_FINISHED_KEPT: Final = 1_000

#: The loads this process finished and forgot, newest last. Their entries may still be
#: visible (the deletes are not waited for, see below), and ``repair`` need not read
#: them: a load that forgot its entries left nothing partial. Load ids are UUIDs,
#: unique across stores, so one memory serves every store the process opens.
_FINISHED: deque[uuid.UUID] = deque(maxlen=_FINISHED_KEPT)
_FINISHED_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class RepairReport:
    """What a repair removed: partly written packages and package-set nodes."""

    packages: int = 0
    nodes: int = 0
    memberships: int = 0

    def __bool__(self) -> bool:
        return bool(self.packages or self.nodes or self.memberships)

    def line(self) -> str:
        return (
            f"removed the partial rows of {self.packages} packages, {self.nodes} unpublished "
            f"package-set nodes and {self.memberships} of their member lists"
        )


def record_packages(
    store: Store, load_id: uuid.UUID, started: datetime, hashes: Iterable[int]
) -> None:
    store.insert(
        JOURNAL, ("load_id", "started", "pkg_hash"), [(load_id, started, h) for h in hashes]
    )


def record_sets(
    store: Store, load_id: uuid.UUID, started: datetime, root: uuid.UUID, nodes: Iterable[uuid.UUID]
) -> None:
    store.insert(
        PENDING_SETS,
        ("load_id", "started", "root", "node"),
        [(load_id, started, root, n) for n in (root, *nodes)],
    )


#: Journal entries are deleted without waiting for the delete to be applied
#: (``store.deletes.unwaited``). Why: once a journal table had a few parts, every few
#: loads a reload of 0.6 s took 1.5-2 s more, all of it in that wait. An entry whose
#: delete is not applied yet is harmless: ``repair`` deletes only packages without their
#: ``PackageHash`` mark and nodes of roots never published, which a finished load's
#: entries never name, and a delete never touches rows inserted after it.


def forget(store: Store, load_id: uuid.UUID) -> None:
    """Drop a finished load's entries (its rows are complete or published)."""
    for table in (JOURNAL, PENDING_SETS):
        store.command(
            f"DELETE FROM {table} WHERE load_id = {{l:UUID}}" + unwaited(store),  # noqa: S608
            {"l": load_id},
        )
    with _FINISHED_LOCK:
        _FINISHED.append(load_id)


def _finished() -> list[uuid.UUID]:
    with _FINISHED_LOCK:
        return list(_FINISHED)


def _has_other_entries(store: Store) -> bool:
    """Whether either journal table holds an entry of a load this process did not finish.

    One statement for both tables: a long-running process (the service, the daemon)
    loads again and again, and the entries of its own finished loads, whose deletes
    are not applied yet, made each load run the whole repair (five statements, 25-35 ms
    of a 150 ms reload) to find nothing.
    """
    return bool(
        store.query(
            "SELECT 1 FROM (SELECT load_id FROM repotrack_load_journal "
            "UNION ALL SELECT load_id FROM repotrack_pending_sets) "
            "WHERE load_id NOT IN {f:Array(UUID)} LIMIT 1",
            {"f": _finished()},
        )
    )


def _cutoff(store: Store, grace: timedelta | None) -> datetime:
    """Entries started before this belong to loads that are gone."""
    if grace is None:
        grace = timedelta(0) if store.url.startswith("chdb:") else DEFAULT_GRACE
    # Seconds are what the journal keeps; one more second covers an entry written
    # in the current second by the load that just died.
    return datetime.now(UTC) - grace + timedelta(seconds=1)


def repair(store: Store, *, grace: timedelta | None = None) -> RepairReport:
    """Delete the partial rows that dead loads' journal entries point to."""
    if not _has_other_entries(store):
        return RepairReport()
    cutoff = _cutoff(store, grace)
    stale = [
        int(row[0])
        for row in store.query(
            "SELECT DISTINCT pkg_hash FROM repotrack_load_journal WHERE started < {c:DateTime} "
            "AND pkg_hash NOT IN (SELECT pkgh_mmh FROM PackageHash "
            "WHERE pkgh_mmh IN (SELECT pkg_hash FROM repotrack_load_journal))",
            {"c": cutoff},
        )
    ]
    _delete_packages(store, stale)
    roots = [
        row[0]
        for row in store.query(
            "SELECT DISTINCT root FROM repotrack_pending_sets WHERE started < {c:DateTime} "
            "AND root NOT IN (SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_depth = 0 "
            "AND pkgset_uuid IN (SELECT root FROM repotrack_pending_sets))",
            {"c": cutoff},
        )
    ]
    journal_nodes: list[uuid.UUID] = []
    if roots:
        journal_nodes = [
            row[0]
            for row in store.query(
                "SELECT DISTINCT node FROM repotrack_pending_sets WHERE root IN {r:Array(UUID)}",
                {"r": roots},
            )
        ]
    memberships = _delete_members(store, journal_nodes)
    nodes, more = _delete_nodes(store, roots)
    report = RepairReport(packages=len(stale), nodes=nodes, memberships=memberships + more)
    for table in (JOURNAL, PENDING_SETS):
        store.command(
            f"DELETE FROM {table} WHERE started < {{c:DateTime}}" + unwaited(store),  # noqa: S608
            {"c": cutoff},
        )
    if report:
        log.warning("store repaired after an interrupted load", extra={"repair": report.line()})
    return report


def collect_garbage(store: Store, *, grace: timedelta | None = None) -> RepairReport:
    """``repair``, then a full search for partial rows the journal cannot name.

    Stores written before the journal existed may hold package-set nodes whose root
    never came and packages without their ``PackageHash`` mark; this finds them by
    scanning the tables (slow on a large store, hence not part of every load).
    """
    first = repair(store, grace=grace)
    cutoff = _cutoff(store, grace)
    stale: set[int] = set()
    for table in ("Packages", "Files", "Depends", "Specfiles"):
        stale.update(
            int(row[0])
            for row in store.query(
                f"SELECT DISTINCT pkg_hash FROM {table} "  # noqa: S608
                "WHERE pkg_hash NOT IN (SELECT pkgh_mmh FROM PackageHash) "
                "AND pkg_hash NOT IN (SELECT pkg_hash FROM repotrack_load_journal "
                "WHERE started >= {c:DateTime})",
                {"c": cutoff},
            )
        )
    _delete_packages(store, sorted(stale))
    roots = [
        row[0]
        for row in store.query(
            "SELECT DISTINCT pkgset_ruuid FROM PackageSetName WHERE pkgset_depth > 0 "
            "AND pkgset_ruuid NOT IN (SELECT pkgset_uuid FROM PackageSetName "
            "WHERE pkgset_depth = 0) AND pkgset_ruuid NOT IN (SELECT root "
            "FROM repotrack_pending_sets WHERE started >= {c:DateTime})",
            {"c": cutoff},
        )
    ]
    nodes, memberships = _delete_nodes(store, roots)
    loose = [
        row[0]
        for row in store.query(
            "SELECT DISTINCT pkgset_uuid FROM PackageSet WHERE pkgset_uuid NOT IN "
            "(SELECT pkgset_uuid FROM PackageSetName) AND pkgset_uuid NOT IN "
            "(SELECT node FROM repotrack_pending_sets WHERE started >= {c:DateTime})",
            {"c": cutoff},
        )
    ]
    return RepairReport(
        packages=first.packages + len(stale),
        nodes=first.nodes + nodes,
        memberships=first.memberships + memberships + _delete_members(store, loose),
    )


def _delete_packages(store: Store, hashes: list[int]) -> None:
    for start in range(0, len(hashes), _CHUNK):
        chunk = hashes[start : start + _CHUNK]
        for table in _PACKAGE_TABLES:
            store.command(
                f"DELETE FROM {table} WHERE pkg_hash IN {{h:Array(UInt64)}}",  # noqa: S608
                {"h": chunk},
            )


def _delete_nodes(store: Store, roots: list[uuid.UUID]) -> tuple[int, int]:
    """Delete the non-root nodes of unpublished snapshots and their members.

    Returns how many nodes and how many member lists were deleted.
    """
    if not roots:
        return 0, 0
    nodes = [
        row[0]
        for row in store.query(
            "SELECT DISTINCT pkgset_uuid FROM PackageSetName "
            "WHERE pkgset_ruuid IN {r:Array(UUID)} AND pkgset_depth > 0",
            {"r": roots},
        )
    ]
    members = _delete_members(store, nodes)
    store.command(
        "DELETE FROM PackageSetName WHERE pkgset_ruuid IN {r:Array(UUID)} AND pkgset_depth > 0",
        {"r": roots},
    )
    return len(nodes), members


def _delete_members(store: Store, nodes: list[uuid.UUID]) -> int:
    """Delete ``PackageSet`` rows of ``nodes``; count the nodes that had any."""
    if not nodes:
        return 0
    having = store.query(
        "SELECT count(DISTINCT pkgset_uuid) FROM PackageSet WHERE pkgset_uuid IN {n:Array(UUID)}",
        {"n": nodes},
    )
    store.command("DELETE FROM PackageSet WHERE pkgset_uuid IN {n:Array(UUID)}", {"n": nodes})
    return int(having[0][0]) if having else 0
