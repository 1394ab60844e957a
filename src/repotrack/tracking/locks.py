"""One run per tracking item at a time, across threads and processes.

The scheduler inside ``repotrack serve`` and a ``repotrack track run`` started by hand
share the same state database, so the lock lives there, not in process memory:

* **PostgreSQL**: a session-level advisory lock (``pg_try_advisory_lock(ns, item_id)``)
  held on a connection reserved for the run. If the process dies, the connection drops
  and the server releases the lock: nothing to expire.
* **SQLite**: a row in ``tracking_lock`` with an owner token and an expiry. Taking the
  lock is one conditional write (insert, or take over an expired row), which SQLite
  serialises across processes. A crashed run's row simply expires; a live run pushes
  its expiry forward with ``refresh()`` between steps.

Locks never wait by default: a busy item is skipped by the scheduler (it will be seen
on the next scan) and reported as ``locked`` by the CLI, which may ask to wait.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from repotrack.errors import ConflictError
from repotrack.state import StateDB

__all__ = [
    "DEFAULT_LOCK_TTL",
    "LOCK_TABLE",
    "ItemLock",
    "LockKeeper",
    "held_lock_ids",
    "item_lock",
    "try_lock",
]

log = logging.getLogger(__name__)

#: How long a SQLite lock row lives without a refresh (seconds).
DEFAULT_LOCK_TTL = 900.0
#: First key of the two-int advisory lock, so our locks never clash with another app's.
_PG_NAMESPACE = 0x7274  # "rt"
#: Poll interval while waiting for a busy lock.
_WAIT_STEP = 0.2

LOCK_TABLE = sa.Table(
    "tracking_lock",
    sa.MetaData(),
    sa.Column("item_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)


def _now() -> datetime:
    return datetime.now(UTC)


class ItemLock:
    """A held lock on one item; release it exactly once (``item_lock`` does that)."""

    def __init__(self, db: StateDB, item_id: int, *, ttl: float) -> None:
        self.db = db
        self.item_id = item_id
        self.ttl = ttl
        self.owner = uuid.uuid4().hex
        self._conn: sa.Connection | None = None
        self.held = False

    @property
    def _is_postgres(self) -> bool:
        return self.db.engine.dialect.name == "postgresql"

    def acquire(self) -> bool:
        """Take the lock if it is free; ``False`` if someone else holds it."""
        self.held = self._acquire_pg() if self._is_postgres else self._acquire_row()
        return self.held

    def _acquire_pg(self) -> bool:
        conn = self.db.engine.connect()
        try:
            got = conn.execute(
                sa.text("SELECT pg_try_advisory_lock(:ns, :item)"),
                {"ns": _PG_NAMESPACE, "item": self.item_id},
            ).scalar_one()
            conn.commit()
        except BaseException:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def _acquire_row(self) -> bool:
        now = _now()
        expires = now + timedelta(seconds=self.ttl)
        table = LOCK_TABLE
        with self.db.engine.begin() as conn:
            taken = conn.execute(
                table.update()
                .where(table.c.item_id == self.item_id, table.c.expires_at < now)
                .values(owner=self.owner, acquired_at=now, expires_at=expires)
            ).rowcount
            if taken:
                return True
        try:
            with self.db.engine.begin() as conn:
                conn.execute(
                    table.insert().values(
                        item_id=self.item_id, owner=self.owner, acquired_at=now, expires_at=expires
                    )
                )
        except IntegrityError:
            return False
        return True

    def refresh(self) -> None:
        """Push the expiry forward; raises ``ConflictError`` if the lock was lost meanwhile."""
        if self._is_postgres or not self.held:
            return
        table = LOCK_TABLE
        with self.db.engine.begin() as conn:
            kept = conn.execute(
                table.update()
                .where(table.c.item_id == self.item_id, table.c.owner == self.owner)
                .values(expires_at=_now() + timedelta(seconds=self.ttl))
            ).rowcount
        if not kept:
            self.held = False
            raise ConflictError(f"tracking item {self.item_id}: run lock expired and was taken")

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.execute(
                    sa.text("SELECT pg_advisory_unlock(:ns, :item)"),
                    {"ns": _PG_NAMESPACE, "item": self.item_id},
                )
                conn.commit()
            finally:
                conn.close()
            return
        table = LOCK_TABLE
        with self.db.engine.begin() as conn:
            conn.execute(
                table.delete().where(table.c.item_id == self.item_id, table.c.owner == self.owner)
            )


def try_lock(db: StateDB, item_id: int, *, ttl: float = DEFAULT_LOCK_TTL) -> ItemLock | None:
    """The lock on ``item_id`` if it was free, else ``None``."""
    lock = ItemLock(db, item_id, ttl=ttl)
    return lock if lock.acquire() else None


@contextmanager
def item_lock(
    db: StateDB, item_id: int, *, ttl: float = DEFAULT_LOCK_TTL, wait: float = 0.0
) -> Iterator[ItemLock]:
    """Hold the lock on ``item_id`` for the block; ``ConflictError`` if it stays busy ``wait`` s."""
    deadline = time.monotonic() + wait
    lock = try_lock(db, item_id, ttl=ttl)
    while lock is None and time.monotonic() < deadline:
        time.sleep(_WAIT_STEP)
        lock = try_lock(db, item_id, ttl=ttl)
    if lock is None:
        raise ConflictError(f"tracking item {item_id} is being run by another process")
    try:
        yield lock
    finally:
        lock.release()


def held_lock_ids(session: Session, item_ids: Sequence[int]) -> set[int]:
    """Which of ``item_ids`` a run holds the lock of right now (read in ``session``)."""
    if not item_ids:
        return set()
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            sa.text(
                "SELECT CAST(objid AS bigint) FROM pg_locks WHERE locktype = 'advisory' "
                "AND granted AND objsubid = 2 AND CAST(classid AS bigint) = :ns"
            ),
            {"ns": _PG_NAMESPACE},
        )
        return {int(row[0]) for row in rows} & set(item_ids)
    table = LOCK_TABLE
    rows = session.execute(
        sa.select(table.c.item_id).where(
            table.c.item_id.in_(list(item_ids)), table.c.expires_at >= _now()
        )
    )
    return {int(row[0]) for row in rows}


class LockKeeper:
    """Keeps a held lock alive from a background thread while one long step runs.

    Refreshing only between steps let a fetch of a big upstream (or a slow push) outlast
    the lock's expiry, after which another process could take the item and run it a
    second time. The keeper refreshes every ``interval`` seconds until stopped;
    ``check()`` (called between steps) raises ``ConflictError`` if a refresh found the
    lock taken, so the run stops at its next step.
    """

    def __init__(self, lock: ItemLock, *, interval: float) -> None:
        self.lock = lock
        self.interval = interval
        self._stop = threading.Event()
        self._lost: ConflictError | None = None
        self._thread = threading.Thread(
            target=self._loop, name=f"lock-keeper-{lock.item_id}", daemon=True
        )

    def __enter__(self) -> LockKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.lock.refresh()
            except ConflictError as exc:
                self._lost = exc
                return
            except Exception:  # a database hiccup: try again at the next interval
                log.warning("refreshing a run lock failed", extra={"item": self.lock.item_id})

    def check(self) -> None:
        """Refresh now; raise ``ConflictError`` if the lock was lost meanwhile."""
        if self._lost is not None:
            raise self._lost
        self.lock.refresh()
