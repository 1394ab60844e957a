"""What is particular to the embedded backend: directory ownership, threads, persistence."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from repotrack.errors import StoreError
from repotrack.store import Store, open_store
from tests.unit.store.storeutil import fresh_store_url

_HOLDER = """
import sys, time
from repotrack.store import open_store
store = open_store(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
store.close()
"""


def test_directory_locked_by_another_process(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    url = fresh_store_url(tmp_path_factory, tmp_path / "store")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreError) as caught:
            open_store(url)
        message = str(caught.value)
        assert str(tmp_path / "store") in message
        assert "service owns" in message
        assert f"(pid {holder.pid})" in message
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=60)
    with open_store(url) as store:  # free again once the other process is gone
        assert store.query("SELECT 1") == [(1,)]


def test_one_directory_per_process(store: Store, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="one store directory per process"):
        open_store(f"chdb://{tmp_path / 'other'}")
    assert not (tmp_path / "other").exists()
    with open_store(store.url) as second:  # the same directory may be opened again
        assert second.query("SELECT count() FROM Packages") == [(0,)]
    assert store.query("SELECT 1") == [(1,)]


def test_connection_per_thread(store: Store) -> None:
    store.command("CREATE TABLE t (n UInt64) ENGINE = MergeTree ORDER BY n")
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(20):
                store.insert("t", ("n",), [(offset + i,)])
                store.query("SELECT count() FROM t")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k * 1000,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.query("SELECT count() FROM t") == [(80,)]


def test_buffers_flush_on_close_and_data_persists(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    url = fresh_store_url(tmp_path_factory, tmp_path / "store")
    with open_store(url) as store:
        store.insert("Depends_buffer", ("pkg_hash", "dp_name", "dp_type"), [(1, "a", "require")])
        assert store.query("SELECT count() FROM Depends") == [(0,)]
    with open_store(url) as store:
        assert store.query("SELECT count() FROM Depends") == [(1,)]


def test_closed_store_refuses_work(store: Store) -> None:
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.query("SELECT 1")


def test_unwritable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create"):
        open_store(f"chdb://{blocker / 'store'}")


def test_a_store_made_before_the_own_database_keeps_its_tables_in_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stores made by earlier versions have their tables in ``default``: they are
    found there, not shadowed by an empty ``repotrack`` database."""
    from repotrack.store import chdb_backend, migrate

    url = f"chdb://{tmp_path / 'old'}"
    with monkeypatch.context() as patch:
        patch.setattr(chdb_backend, "_store_database", lambda conn: "default")
        with open_store(url) as store:
            migrate(store)
            store.command(
                "INSERT INTO PackageSetName (pkgset_uuid, pkgset_nodename) VALUES "
                "(generateUUIDv4(), 'old')"
            )
    with open_store(url) as store:
        assert store.query("SELECT currentDatabase()") == [("default",)]
        assert store.query("SELECT pkgset_nodename FROM PackageSetName") == [("old",)]
        assert migrate(store) == []


def test_a_new_store_keeps_its_tables_in_its_own_database(store: Store) -> None:
    assert store.query("SELECT currentDatabase()") == [("repotrack",)]
    tables = store.query("SELECT count() FROM system.tables WHERE database = 'default'")
    assert tables == [(0,)]
