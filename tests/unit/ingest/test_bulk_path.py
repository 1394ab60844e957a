"""The loader's direct writes give exactly the rows the schema's views and buffers give.

The loader writes ``Files``, ``FileNames``, ``Specfiles`` and the rest itself, with
the views' expressions (``tables.FILES_SELECT``, ``tables.FILE_NAMES_SELECT``); the
ALTRepo schema's own path (``Files_insert`` and ``Specfiles_insert`` through their
materialized views, the ``*_buffer`` tables) remains for other writers. The same
packages go both ways into one store, one after the other, and every table is
compared: rows as multisets, tables keyed by content (a name, a text) as sets.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from repotrack.ingest import load_repo, tables
from repotrack.ingest.reader import PackageJob, read_package
from repotrack.store import Store
from repotrack.store.native import assemble_block
from tests.conftest import DATA, FIXTURES
from tests.unit.store.storeutil import open_fresh_store

EXACT = (
    "Packages",
    "Files",
    "Depends",
    "Specfiles",
    "PackageHash",
    "SrcPackagesLastChangelog",
)
BY_CONTENT = ("FileNames", "Changelog")


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _dump(store: Store) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for table in EXACT:
        out[table] = Counter(_freeze(r) for r in store.query(f"SELECT * FROM {table}"))  # noqa: S608
    for table in BY_CONTENT:
        out[table] = {_freeze(r) for r in store.query(f"SELECT DISTINCT * FROM {table}")}  # noqa: S608
    out["PackagesSourceAndBinaries"] = set(
        store.query(
            "SELECT src_pkg_name, bin_pkg_name, max(buildtime) FROM PackagesSourceAndBinaries "
            "GROUP BY src_pkg_name, bin_pkg_name"
        )
    )
    out["Files_view"] = Counter(
        _freeze(r) for r in store.query("SELECT pkg_hash, file_name, file_md5 FROM Files_view")
    )
    return out


def _packages() -> list[Path]:
    return sorted([*(DATA / "rpms").glob("*.rpm"), *(FIXTURES / "rpm").glob("*/*.rpm")])


def _through_the_views(store: Store, tree: Path) -> None:
    """The ALTRepo schema's own write path, as its original loader used it."""
    read = [
        read_package(
            PackageJob(filename=p.name, source=p.name.endswith(".src.rpm"), node="n", path=str(p))
        )
        for p in sorted(tree.iterdir())
    ]
    sources = {r.filename: r.pkg_hash for r in read if r.source}
    seen: set[int] = set()
    for rows in read:
        if rows.pkg_hash in seen:  # one package under two file names: stored once
            continue
        seen.add(rows.pkg_hash)
        if not rows.source:
            rows.package["pkg_srcrpm_hash"] = sources.get(rows.sourcerpm, 0)
        store.insert(tables.CHANGELOG + "_buffer", tables.CHANGELOG_COLUMNS, rows.changelogs)
        if rows.files.rows:
            block = assemble_block(tables.FILE_INPUT_COLUMNS, tables.FILE_INPUT_TYPES, [rows.files])
            store.insert_blocks("Files_insert", tables.FILE_INPUT_COLUMNS, [block])
        if rows.depends.rows:
            block = assemble_block(tables.DEPENDS_COLUMNS, tables.DEPENDS_TYPES, [rows.depends])
            store.insert_blocks("Depends_buffer", tables.DEPENDS_COLUMNS, [block])
        if rows.spec is not None:
            *head, content = rows.spec
            store.insert(
                "Specfiles_insert",
                (*tables.SPECFILES_COLUMNS[:-1], "specfile_content_base64"),
                [(*head, base64.b64encode(content).decode("ascii"))],
            )
        store.insert("Packages_buffer", tables.PACKAGES_COLUMNS, [rows.package_row()])
        store.insert("PackageHash_buffer", tables.PACKAGE_HASH_COLUMNS, [rows.hash_row()])
    for table in (
        "Changelog",
        "Files",
        "FileNames",
        "Depends",
        "Specfiles",
        "Packages",
        "PackageHash",
    ):
        store.command(f"OPTIMIZE TABLE {table}_buffer")  # flush the buffers into their tables


def test_direct_writes_equal_the_views_path(store: Store, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for package in _packages():
        (tree / package.name).write_bytes(package.read_bytes())
    load_repo(store, branch="p10", path=tree, date=date(2024, 5, 1))
    direct = _dump(store)
    assert sum(direct["Files"].values()) > 1000 and direct["Specfiles"]
    for table in (*EXACT, *BY_CONTENT, "PackagesSourceAndBinaries"):
        store.command(f"TRUNCATE TABLE {table}")
    _through_the_views(store, tree)
    views = _dump(store)
    for key, rows in views.items():
        assert direct[key] == rows, key
