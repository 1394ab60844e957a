from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.sources.treeutil import build_trees


@pytest.fixture(scope="session")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_trees(tmp_path_factory.mktemp("trees"))
