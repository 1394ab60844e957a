"""Real chDB stores for tests: the schema is built once per session, then copied.

Building the whole schema takes ~2 s; copying the finished directory takes a few
milliseconds, so every test gets its own fresh store directory cheaply. chDB hosts
one directory per process, so a test must close its store before the next opens one.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from repotrack.store import Store, migrate, open_store

_template: Path | None = None
_loaded: Path | None = None


def template_store(factory: pytest.TempPathFactory) -> Path:
    """The migrated, closed template directory (built on first use)."""
    global _template
    if _template is None:
        path = factory.mktemp("store-template") / "store"
        with open_store(f"chdb://{path}") as store:
            migrate(store)
        _template = path
    return _template


def loaded_template_store(factory: pytest.TempPathFactory) -> Path:
    """A closed template holding ``rows.load_two_snapshots`` (buffers flushed on close)."""
    global _loaded
    if _loaded is None:
        from tests.unit.store.rows import load_two_snapshots

        path = factory.mktemp("store-loaded") / "store"
        shutil.copytree(template_store(factory), path, symlinks=True)
        with open_store(f"chdb://{path}") as store:
            load_two_snapshots(store)
        _loaded = path
    return _loaded


def fresh_store_url(factory: pytest.TempPathFactory, target: Path, *, loaded: bool = False) -> str:
    """Copy the (empty or loaded) template to ``target`` and return its URL."""
    source = loaded_template_store(factory) if loaded else template_store(factory)
    shutil.copytree(source, target, symlinks=True)
    return f"chdb://{target}"


def open_fresh_store(factory: pytest.TempPathFactory, target: Path) -> Iterator[Store]:
    store = open_store(fresh_store_url(factory, target))
    try:
        yield store
    finally:
        store.close()


def settle_mutations(store: Store, *, timeout: float = 60.0) -> None:
    """Wait until every delete the store was given is applied.

    Loads delete their journal entries without waiting (``ingest.journal``); a test
    that counts those entries waits for the deletes first (chDB applies them in the
    background, also after the store is opened again).
    """
    import time

    deadline = time.monotonic() + timeout
    while store.query(
        "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND NOT is_done"
    ) != [(0,)]:
        if time.monotonic() > deadline:
            raise AssertionError("the store's deletes were not applied in time")
        time.sleep(0.05)
