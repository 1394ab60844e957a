"""Image loads killed at any write, then run again, leave what a clean load leaves.

As ``test_task_crash``: each case SIGKILLs ``repotrack load image`` (a rootfs tarball)
or ``repotrack load iso`` (an ALT-style ISO whose ``altinst`` SquashFS holds files no
package owns, so that the load writes an orphaned-files metapackage) right after its
k-th write, for every k, runs the same command again and compares what readers see
with a single clean load: the package tables row for row (the metapackage is a
package), every published package set by its nodes' names, kv, tags and members
(without their random ids), the rows ``mv_image_pkgset`` derived, the image status
rows (without the start date, the time of the load), and the journal. Rows no reader
reaches (package-set nodes whose root never came, members of no node) are counted
too: a killed load must not leave them behind for ever. A run killed after the root
row has published the image: the rerun must refuse it as already loaded.

The store holds the repository snapshot the images are matched against
(``tests/data/rpms`` as p10 of 2024-05-01).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from repotrack.store import open_store
from tests.conftest import DATA
from tests.functional.killing import home_from, rows, run_cli
from tests.functional.test_task_crash import every_kill_of, package_tables
from tests.unit.sources.images.imageutil import alt_iso_tree, make_iso, make_rootfs, make_tar
from tests.unit.store.storeutil import template_store

#: Every node of every published set: what it is, and its members.
SETS = (
    "SELECT N.pkgset_depth, N.pkgset_nodename, N.pkgset_date, N.pkgset_tag, N.pkgset_complete, "
    "N.pkgset_kv.k, N.pkgset_kv.v, arraySort(groupArray(S.pkg_hash)) "
    "FROM PackageSetName AS N LEFT JOIN PackageSet AS S ON S.pkgset_uuid = N.pkgset_uuid "
    "WHERE N.pkgset_ruuid IN (SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_depth = 0) "
    "GROUP BY N.pkgset_uuid, N.pkgset_depth, N.pkgset_nodename, N.pkgset_date, N.pkgset_tag, "
    "N.pkgset_complete, N.pkgset_kv.k, N.pkgset_kv.v"
)
ORPHANS = (
    "SELECT (SELECT count() FROM PackageSetName WHERE pkgset_ruuid NOT IN "
    "(SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_depth = 0)), "
    "(SELECT count() FROM PackageSet WHERE pkgset_uuid NOT IN "
    "(SELECT pkgset_uuid FROM PackageSetName))"
)
STATUS = (
    "SELECT img_branch, img_edition, img_name, img_show, img_end_date, img_summary_en "
    "FROM ImageStatus"
)
COMMON = [
    "--release", "release", "--arch", "x86_64", "--branch", "p10", "--date", "2024-05-02",
    "--edition", "alt-workstation", "--version", "10.1",
]  # fmt: skip


def _dump(home: Path) -> dict[str, Any]:
    with open_store(f"chdb://{home / 'store'}") as store:
        out = package_tables(store)
        out["sets"] = rows(store, SETS)
        out["orphans"] = store.query(ORPHANS)
        out["ImagePackageSetName"] = rows(
            store,
            "SELECT * EXCEPT pkgset_uuid FROM ImagePackageSetName",
        )
        out["ImageStatus"] = rows(store, STATUS)
        out["ImageTagStatus"] = rows(store, "SELECT * FROM ImageTagStatus")
    return out


@pytest.fixture(scope="module")
def with_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed store holding p10 of 2024-05-01 (``tests/data/rpms``)."""
    home = home_from(tmp_path_factory, template_store(tmp_path_factory), "repo")
    done = run_cli(home, ["load", "repo", "p10", str(DATA / "rpms"), "--date", "2024-05-01"])
    assert done.returncode == 0, done.stderr
    return home / "store"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_killed_image_load_then_rerun_equals_a_clean_one(
    tmp_path_factory: pytest.TempPathFactory, with_repo: Path
) -> None:
    base = tmp_path_factory.mktemp("tar")
    tar = make_tar(make_rootfs(base / "root"), base / "rootfs.tar")
    args = ["load", "image", str(tar), *COMMON, "--variant", "live", "--type", "tar"]
    args += ["--url", "https://example.org/rootfs.tar"]
    writes, want = every_kill_of(
        tmp_path_factory, with_repo, args, _dump, published="insert PackageSetName"
    )
    assert writes.count("insert PackageSet") >= 2  # the members in several statements
    assert len(want["ImagePackageSetName"]) == 1 and want["orphans"] == [(0, 0)]
    assert want["journal"] == [(0, 0)]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_killed_iso_load_then_rerun_equals_a_clean_one(
    tmp_path_factory: pytest.TempPathFactory, with_repo: Path
) -> None:
    base = tmp_path_factory.mktemp("iso")
    tree = alt_iso_tree(base, make_rootfs(base / "root"))
    iso = make_iso(tree, base / "alt-workstation-10.1-x86_64.iso")
    args = ["load", "iso", str(iso), *COMMON, "--variant", "install"]
    args += ["--url", "https://example.org/alt.iso"]
    writes, want = every_kill_of(
        tmp_path_factory, with_repo, args, _dump, published="insert PackageSetName"
    )
    assert "insert PackageHash" in writes  # the orphaned-files metapackage
    orphaned = [r for r in want["Packages"] if "orphaned-files" in str(r)]
    assert len(orphaned) == 1, orphaned
    assert len(want["ImagePackageSetName"]) == 1 and want["orphans"] == [(0, 0)]
    assert want["journal"] == [(0, 0)]
    shutil.rmtree(base)
