"""The service's store: opened on first use, and an embedded one set up when opened."""

from __future__ import annotations

from pathlib import Path

from repotrack.service.store_holder import StoreHolder
from repotrack.store import migration_status


def test_fresh_embedded_store_is_migrated_on_first_use(tmp_path: Path) -> None:
    holder = StoreHolder(f"chdb://{tmp_path / 'store'}")
    assert not (tmp_path / "store").exists()  # nothing claimed before first use
    try:
        store = holder.get()
        assert holder.get() is store
        assert all(state.applied is not None for state in migration_status(store))
        assert store.query("SELECT count() FROM PackageSetName") == [(0,)]
    finally:
        holder.close()
