from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from repotrack.store import Store
from tests.unit.sources.treeutil import build_trees
from tests.unit.store.storeutil import open_fresh_store


@pytest.fixture(scope="session")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_trees(tmp_path_factory.mktemp("trees"))


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    """A migrated chDB store in this test's own directory."""
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")
