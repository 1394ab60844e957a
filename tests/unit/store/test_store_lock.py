"""The store lock names its holder, also when the holder has only just taken it."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pytest

from repotrack.errors import StoreLockedError
from repotrack.store import chdb_backend


def test_a_holder_that_has_not_written_its_pid_yet_is_still_named(tmp_path: Path) -> None:
    """The window between the holder's ``flock`` and its pid write (seen in CI: two
    loads on a new home, the second said "locked by another process" with no pid)."""
    lock = tmp_path / chdb_backend.LOCK_FILE
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held, nothing written yet

        def write_pid() -> None:
            time.sleep(0.1)
            os.pwrite(fd, b"4242\n", 0)

        writer = threading.Thread(target=write_pid)
        writer.start()
        with pytest.raises(StoreLockedError, match=r"locked by another process \(pid 4242\)"):
            chdb_backend._take_lock(tmp_path)
        writer.join()
    finally:
        os.close(fd)


def test_a_holder_that_never_writes_a_pid_is_reported_without_one(tmp_path: Path) -> None:
    lock = tmp_path / chdb_backend.LOCK_FILE
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(StoreLockedError, match=r"locked by another process: "):
            chdb_backend._take_lock(tmp_path)
    finally:
        os.close(fd)
