"""A load killed at any stage boundary, then run again, stores exactly what a clean load does.

Each case SIGKILLs ``repotrack load repo`` right after its k-th write to the store
(``crashing_cli.py``), for every k from the first write of the load to the last, runs
the same command again, and compares the store with one made by a single clean load,
table by table: the rows of every package table as a multiset (the repair after a
crash must remove partial rows, not leave duplicates), and the published package sets
by name, depth and members. The store starts from the migrated template, so every
write counted is the load's own; two more cases kill the very first load of an empty
home while it creates the schema.
"""

from __future__ import annotations

import shutil
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from repotrack.store import open_store
from tests.conftest import DATA, FIXTURES
from tests.functional.killing import every_kill, freeze, home_from, run_cli
from tests.unit.store.storeutil import settle_mutations, template_store

#: Package tables compared row for row (a duplicate is a wrong answer).
EXACT = ("Packages", "Files", "Depends", "Specfiles", "PackageHash", "SrcPackagesLastChangelog")
#: Tables keyed by content whose repeats are harmless (a name, a text by its hash).
DISTINCT = ("FileNames", "Changelog")


def _load_args(tree: Path) -> list[str]:
    return ["load", "repo", "p10", str(tree), "--date", "2024-05-01", "-w", "1"]


def _rows(store: Any, sql: str) -> list[Any]:
    return [freeze(row) for row in store.query(sql)]


def _dump(home: Path) -> dict[str, Any]:
    """Everything a reader can see, with the load's random ids taken out."""
    out: dict[str, Any] = {}
    with open_store(f"chdb://{home / 'store'}") as store:
        for table in EXACT:
            out[table] = Counter(_rows(store, f"SELECT * FROM {table}"))  # noqa: S608
        for table in DISTINCT:
            out[table] = set(_rows(store, f"SELECT DISTINCT * FROM {table}"))  # noqa: S608
        out["PackagesSourceAndBinaries"] = set(
            store.query(
                "SELECT src_pkg_name, bin_pkg_name, max(buildtime) "
                "FROM PackagesSourceAndBinaries GROUP BY src_pkg_name, bin_pkg_name"
            )
        )
        out["sets"] = Counter(
            _rows(
                store,
                "SELECT N.pkgset_depth, N.pkgset_nodename, N.pkgset_date, N.pkgset_complete, "
                "arraySort(groupArray(S.pkg_hash)) "
                "FROM PackageSetName AS N "
                "LEFT JOIN PackageSet AS S ON S.pkgset_uuid = N.pkgset_uuid "
                "WHERE N.pkgset_ruuid IN "
                "(SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_depth = 0) "
                "GROUP BY N.pkgset_uuid, N.pkgset_depth, N.pkgset_nodename, N.pkgset_date, "
                "N.pkgset_complete",
            )
        )
        out["orphans"] = store.query(
            "SELECT count() FROM PackageSetName WHERE pkgset_ruuid NOT IN "
            "(SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_depth = 0)"
        )
        out["last"] = Counter(_rows(store, "SELECT * FROM StaticLastPackages"))
        settle_mutations(store)  # journal entries are deleted without waiting
        out["journal"] = store.query(
            "SELECT (SELECT count() FROM repotrack_load_journal), "
            "(SELECT count() FROM repotrack_pending_sets)"
        )
    return out


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("crash-tree")
    for rpm in [*(DATA / "rpms").glob("*.rpm"), *(FIXTURES / "rpm").glob("*/*.rpm")]:
        shutil.copy(rpm, tree)
    return tree


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, tree: Path) -> dict[str, Any]:
    home = home_from(tmp_path_factory, template_store(tmp_path_factory), "clean")
    done = run_cli(home, _load_args(tree))
    assert done.returncode == 0, done.stderr
    return _dump(home)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_killed_after_every_write_then_rerun_equals_a_clean_load(
    tmp_path_factory: pytest.TempPathFactory, tree: Path, reference: dict[str, Any]
) -> None:
    template = template_store(tmp_path_factory)
    args = _load_args(tree)
    writes, want = every_kill(
        tmp_path_factory, template, args, _dump, published="insert PackageSetName"
    )
    assert sum(w == "insert PackageHash" for w in writes) >= 2  # several batches
    assert want == reference


@pytest.mark.slow
@pytest.mark.parametrize("after", [1, 40])
def test_killed_while_creating_the_schema(
    tmp_path_factory: pytest.TempPathFactory, tree: Path, reference: dict[str, Any], after: int
) -> None:
    home = tmp_path_factory.mktemp(f"schema{after}")
    killed = run_cli(home, _load_args(tree), kill_after=after)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    rerun = run_cli(home, _load_args(tree))
    assert rerun.returncode == 0, rerun.stderr
    assert _dump(home) == reference
