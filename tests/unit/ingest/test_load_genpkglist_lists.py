"""An apt tree whose header lists ALT's own genpkglist/gensrclist wrote loads as ours does.

The lists are those of ``tests/data/genpkglist/strip`` (see PROVENANCE.md there): no
CRPMTAG_BLAKE2B, packages ordered by source package, file lists stripped.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from repotrack.ingest import load_repo
from repotrack.store import Store
from tests.conftest import DATA
from tests.unit.sources.treeutil import copy_tree

DAY = date(2024, 5, 1)
GENPKGLIST = DATA / "genpkglist" / "strip"


def _members(store: Store, branch: str) -> dict[str, set[str]]:
    """Node path below the root -> the file names of its packages."""
    rows = store.query(
        "SELECT pkgset_uuid, pkgset_puuid, pkgset_depth, pkgset_nodename FROM PackageSetName "
        "WHERE pkgset_ruuid IN (SELECT pkgset_uuid FROM PackageSetName "
        "WHERE pkgset_depth = 0 AND pkgset_nodename = {branch:String})",
        {"branch": branch},
    )
    nodes = {r[0]: r for r in rows}

    def path(node: object) -> str:
        row = nodes[node]
        return "" if row[2] == 0 else f"{path(row[1])}/{row[3]}".lstrip("/")

    members: dict[str, set[str]] = {path(n): set() for n in nodes}
    for node, filename in store.query(
        "SELECT s.pkgset_uuid, p.pkg_filename FROM PackageSet AS s "
        "INNER JOIN Packages AS p ON p.pkg_hash = s.pkg_hash"
    ):
        if node in nodes:
            members[path(node)].add(str(filename))
    return members


def test_tree_with_genpkglist_lists_loads_as_ours(
    store: Store, trees: Path, tmp_path: Path
) -> None:
    root = copy_tree(trees / "apt", tmp_path / "apt")
    for lst in GENPKGLIST.glob("*/base/*.classic.xz"):
        (root / lst.relative_to(GENPKGLIST)).write_bytes(lst.read_bytes())
    summary = load_repo(store, branch="p10", path=root, date=DAY)
    assert (summary.new, summary.known) == (8, 0)
    # The lists carry MD5 only; the BLAKE2b (and SHA-256) come from the files.
    stored = store.query(
        "SELECT p.pkg_filename, hex(h.pkgh_md5), hex(h.pkgh_sha256), hex(h.pkgh_blake2b) "
        "FROM Packages AS p INNER JOIN PackageHash AS h ON h.pkgh_mmh = p.pkg_hash"
    )
    assert len(stored) == 8
    for filename, md5, sha256, blake2b in stored:
        raw = (DATA / "rpms" / str(filename)).read_bytes()
        assert str(md5).lower() == hashlib.md5(raw, usedforsecurity=False).hexdigest()
        assert str(sha256).lower() == hashlib.sha256(raw).hexdigest()
        assert str(blake2b).lower() == hashlib.blake2b(raw).hexdigest()
    # make_trees.sh's lists of the same tree: the same packages in the same nodes.
    again = load_repo(store, branch="p11", path=trees / "apt", date=DAY)
    assert (again.new, again.known) == (0, 8)
    assert _members(store, "p10") == _members(store, "p11")
    assert _members(store, "p10")["x86_64/classic"] == {
        "rt-hello-1.2.3-4.rt1.x86_64.rpm",
        "rt-hello-libs-1.2.3-4.rt1.x86_64.rpm",
    }
