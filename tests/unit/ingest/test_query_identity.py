"""Query answers checked against hand counts of the RPMs in each snapshot.

A package's identity in a snapshot is (name, arch, source or binary); the arch shown
and filtered on is ``src`` for a source package, whatever arch its header names (our
``rt-hello`` source RPM says ``x86_64``, like its binary). The counts are taken with
``rpm -qp`` over the files themselves, not from the store.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from repotrack.ingest import load_repo
from repotrack.store import Store
from repotrack.store.queries import diff_package_sets, list_packages
from tests.conftest import DATA, need_tool
from tests.unit.store.storeutil import open_fresh_store

OLD, NEW = date(2024, 5, 1), date(2024, 5, 2)


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


def _shown(path: Path) -> tuple[str, str]:
    """(name, arch as shown) of a package file, by asking rpm itself."""
    out = subprocess.run(
        ["rpm", "-qp", "--qf", "%{NAME} %{ARCH} %{SOURCEPACKAGE}", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    name, arch, source = out[0], out[1], out[2] if len(out) > 2 else "(none)"
    return name, "src" if source == "1" or path.name.endswith(".src.rpm") else arch


def _tree(tmp_path: Path, name: str, files: list[Path]) -> Path:
    tree = tmp_path / name
    tree.mkdir()
    for f in files:
        shutil.copy(f, tree)
    return tree


def test_diff_counts_add_up_and_keep_sources_apart(store: Store, tmp_path: Path) -> None:
    need_tool("rpm")
    everything = sorted((DATA / "rpms").glob("*.rpm"))
    kept = [p for p in everything if p.name.startswith("rt-tilde")]
    load_repo(store, branch="p10", path=_tree(tmp_path, "old", kept), date=OLD)
    load_repo(store, branch="p10", path=_tree(tmp_path, "new", everything), date=NEW)
    diff = diff_package_sets(store, branch="p10", old_day=OLD, new_day=NEW)
    want_added = Counter(_shown(p) for p in everything if p not in kept)
    assert Counter((p.name, p.arch) for p in diff.added) == want_added
    assert diff.removed == [] and diff.updated == []
    assert len(kept) - len(diff.removed) + len(diff.added) == len(everything)
    back = diff_package_sets(store, branch="p10", old_day=OLD, new_day=OLD)
    assert (back.added, back.removed, back.updated) == ([], [], [])


def test_arch_filter_is_the_arch_shown(store: Store, tmp_path: Path) -> None:
    need_tool("rpm")
    everything = sorted((DATA / "rpms").glob("*.rpm"))
    load_repo(store, branch="p10", path=_tree(tmp_path, "all", everything), date=OLD)
    shown = Counter(_shown(p)[1] for p in everything)
    for arch, count in shown.items():
        page = list_packages(store, branch="p10", day=OLD, arch=arch)
        assert page.total == count == len(page.packages), arch
        assert {p.arch for p in page.packages} == {arch}
    assert list_packages(store, branch="p10", day=OLD).total == len(everything)
