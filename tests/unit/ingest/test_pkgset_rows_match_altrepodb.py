"""Package-set rows of an apt-rpm tree as ALTRepo's own loader stores them.

The expected values below were produced by altrepodb 647565d (``bin/repo_loader`` ->
``altrepodb/repo``, run with its ClickHouse client replaced by one capturing the
inserted rows) from the apt tree ``tests/data/make_trees.sh`` builds, loaded as
``repo_loader P10 TREE -A 2024-05-01 -t nightly``; these tests do not need altrepodb.

Node ids differ by nature, so nodes are named by their path from the root. Where the
original's value has no defined order (``archs`` and ``comps`` are joined from a Python
``set``, ``SRPMS`` in directory-listing order) the items are compared as a set.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from repotrack.ingest import load_repo
from repotrack.store import Store

DAY = date(2024, 5, 1)
UNORDERED = {"archs", "comps", "SRPMS"}

# altrepodb 647565d: PackageSetName rows (depth, parent, tag, complete, kv in order) and
# the file names of each node's PackageSet members.
EXPECTED: dict[str, tuple[int, str | None, str, int, list[tuple[str, str]], list[str]]] = {
    "p10": (
        0,
        None,
        "nightly",
        1,
        [
            ("depth", "0"),
            ("type", "repo"),
            ("size", "8"),
            ("class", "repository"),
            ("task", "283337"),
            ("prev", "283300"),
            ("archs", "noarch, x86_64"),
            ("comps", "classic"),
        ],
        [],
    ),
    "p10/noarch": (
        1,
        "p10",
        "nightly",
        1,
        [
            ("depth", "1"),
            ("type", "arch"),
            ("size", "0"),
            ("class", "repository"),
            ("path", "noarch"),
            ("repo", "p10"),
        ],
        [],
    ),
    "p10/noarch/classic": (
        2,
        "p10/noarch",
        "nightly",
        1,
        [
            ("depth", "2"),
            ("type", "comp"),
            ("size", "3"),
            ("class", "repository"),
            ("path", "noarch/RPMS.classic"),
            ("repo", "p10"),
        ],
        [
            "rt-bz-0.1-0.1.20240101git.noarch.rpm",
            "rt-hello-doc-1.2.3-4.rt1.noarch.rpm",
            "rt-tilde-2.0~rc1-1.noarch.rpm",
        ],
    ),
    "p10/srpm": (
        1,
        "p10",
        "nightly",
        1,
        [
            ("depth", "1"),
            ("type", "srpm"),
            ("size", "3"),
            ("class", "repository"),
            ("SRPMS", "noarch/SRPMS.classic, x86_64/SRPMS.classic"),
            ("repo", "p10"),
        ],
        [
            "rt-bz-0.1-0.1.20240101git.src.rpm",
            "rt-hello-1.2.3-4.rt1.src.rpm",
            "rt-tilde-2.0~rc1-1.src.rpm",
        ],
    ),
    "p10/x86_64": (
        1,
        "p10",
        "nightly",
        1,
        [
            ("depth", "1"),
            ("type", "arch"),
            ("size", "0"),
            ("class", "repository"),
            ("path", "x86_64"),
            ("repo", "p10"),
        ],
        [],
    ),
    "p10/x86_64/classic": (
        2,
        "p10/x86_64",
        "nightly",
        1,
        [
            ("depth", "2"),
            ("type", "comp"),
            ("size", "2"),
            ("class", "repository"),
            ("path", "x86_64/RPMS.classic"),
            ("repo", "p10"),
        ],
        ["rt-hello-1.2.3-4.rt1.x86_64.rpm", "rt-hello-libs-1.2.3-4.rt1.x86_64.rpm"],
    ),
}


def _kv(pairs: list[tuple[str, str]]) -> list[tuple[str, object]]:
    return [(k, frozenset(v.split(", ")) if k in UNORDERED else v) for k, v in pairs]


def _stored(store: Store) -> dict[str, tuple[object, ...]]:
    rows = store.query(
        "SELECT pkgset_uuid, pkgset_puuid, pkgset_ruuid, pkgset_depth, pkgset_nodename, "
        "pkgset_date, pkgset_tag, pkgset_complete, pkgset_kv.k, pkgset_kv.v FROM PackageSetName"
    )
    members: dict[object, list[str]] = {}
    for node, filename in store.query(
        "SELECT s.pkgset_uuid, p.pkg_filename FROM PackageSet AS s "
        "INNER JOIN Packages AS p ON p.pkg_hash = s.pkg_hash"
    ):
        members.setdefault(node, []).append(filename)
    by_id = {r[0]: r for r in rows}

    def path(node: object) -> str:
        row = by_id[node]
        return str(row[4]) if row[3] == 0 else f"{path(row[1])}/{row[4]}"

    stored: dict[str, tuple[object, ...]] = {}
    for node, parent, root, depth, _name, day, tag, complete, keys, values in rows:
        assert path(root) == "p10"
        assert day == datetime(2024, 5, 1, tzinfo=UTC)  # the original: naive midnight
        stored[path(node)] = (
            depth,
            path(parent) if depth else None,
            tag,
            complete,
            _kv(list(zip(keys, values, strict=True))),
            sorted(members.get(node, [])),
        )
    return stored


def _expected() -> dict[str, tuple[object, ...]]:
    return {p: (*row[:4], _kv(row[4]), row[5]) for p, row in EXPECTED.items()}


def test_every_node_is_marked_complete_as_the_original_marks_it(store: Store, trees: Path) -> None:
    load_repo(store, branch="P10", path=trees / "apt", date=DAY, tag="nightly")
    complete = sorted(
        store.query("SELECT pkgset_depth, pkgset_nodename, pkgset_complete FROM PackageSetName")
    )
    # altrepodb 647565d writes pkgset_complete = 1 on the root, srpm, arch and component rows
    assert complete == [
        (0, "p10", 1),
        (1, "noarch", 1),
        (1, "srpm", 1),
        (1, "x86_64", 1),
        (2, "classic", 1),
        (2, "classic", 1),
    ]
    assert store.query("SELECT count() FROM PackageSetName WHERE pkgset_complete != 1") == [(0,)]


def test_apt_tree_package_set_rows_match_altrepodb(store: Store, trees: Path) -> None:
    load_repo(store, branch="P10", path=trees / "apt", date=DAY, tag="nightly")
    assert _stored(store) == _expected()
