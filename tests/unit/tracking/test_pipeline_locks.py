"""The per-item run lock: SQLite lock rows and PostgreSQL advisory locks, threads and processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from repotrack.errors import ConflictError
from repotrack.state import StateDB
from repotrack.tracking.locks import item_lock, try_lock

_CHILD = """
import sys
from repotrack.state import StateDB
from repotrack.tracking.locks import try_lock
db = StateDB(sys.argv[1])
lock = try_lock(db, int(sys.argv[2]))
print("held" if lock else "busy", flush=True)
sys.stdin.readline()
if lock:
    lock.release()
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateDB]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    state = StateDB(url)
    yield state
    state.close()


def test_second_taker_is_refused_until_release(db: StateDB) -> None:
    first = try_lock(db, 1)
    assert first is not None
    assert try_lock(db, 1) is None
    other = try_lock(db, 2)
    assert other is not None
    first.release()
    again = try_lock(db, 1)
    assert again is not None
    again.release()
    other.release()


def test_threads_contend_one_wins(db: StateDB) -> None:
    barrier = threading.Barrier(6)
    winners: list[int] = []
    held = []

    def take(n: int) -> None:
        barrier.wait()
        lock = try_lock(db, 7)
        if lock is not None:
            winners.append(n)
            held.append(lock)

    threads = [threading.Thread(target=take, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    held[0].release()


def test_other_process_holds_the_lock(db: StateDB) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, db.url, "3"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    try:
        assert child.stdout.readline().strip() == "held"
        assert try_lock(db, 3) is None
        with pytest.raises(ConflictError, match="item 3"), item_lock(db, 3, wait=0.3):
            pass
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.wait(timeout=60) == 0
        with item_lock(db, 3, wait=10) as lock:
            assert lock.held
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_item_lock_waits_for_release(db: StateDB) -> None:
    first = try_lock(db, 4)
    assert first is not None
    timer = threading.Timer(0.3, first.release)
    timer.start()
    with item_lock(db, 4, wait=30) as lock:
        assert lock.held
    timer.join()


def test_sqlite_expired_row_is_taken_over(tmp_path: Path) -> None:
    db = StateDB(f"sqlite:///{tmp_path / 's.sqlite'}")
    stale = try_lock(db, 5, ttl=0.0)
    assert stale is not None
    time.sleep(0.01)
    fresh = try_lock(db, 5)
    assert fresh is not None
    with pytest.raises(ConflictError, match="expired"):
        stale.refresh()
    stale.release()  # a lost lock releases nothing
    assert try_lock(db, 5) is None
    fresh.refresh()
    fresh.release()
    db.close()
