from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.sources.images.imageutil import bdb_rootfs, make_rootfs


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root directory with an SQLite rpmdb of every binary test RPM (read-only for tests)."""
    return make_rootfs(tmp_path_factory.mktemp("rootfs") / "root")


@pytest.fixture(scope="session")
def bdb_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same packages, with a Berkeley DB ``Packages`` rpmdb."""
    return bdb_rootfs(tmp_path_factory.mktemp("bdbroot") / "root")
