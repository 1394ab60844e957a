"""Feed loads killed at any write, then run again, leave what a clean load leaves.

Each case runs ``repotrack load <feed>`` from local files and SIGKILLs it right after
its k-th write to the store (``crashing_cli.py``), for every k, runs the same command
again, and compares what readers see with a single clean load: every row of the
feed's tables as a multiset (a row written twice is a wrong answer; the columns that
hold the time of the run are left out). ``CRASH_INSERT_ROWS`` makes every
``Store.insert`` send 3 rows per statement, so that these inputs of 7-10 rows show
what a snapshot of millions of rows does: wherever a loader lets an insert run over
several statements, a kill can fall between them.

The feeds behind a gate read from their own data (repocop and watch: the newest date
stored; beehive: the update stored for a branch and arch) must never take a partial
snapshot for a whole one; the feeds that compare with the stored state (acl,
bugzilla, spdx, repology) must add what is missing and nothing twice.
"""

from __future__ import annotations

import bz2
import json
import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from repotrack.store import Store, open_store
from tests.functional.killing import every_kill, home_from, prepared, rows, run_cli
from tests.unit.ingest.feeds.test_snapshots import repocop_item
from tests.unit.store.storeutil import loaded_template_store, template_store

#: Rows per insert statement in the killed runs.
INSERT_ROWS = 3
MAY = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
JUNE = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Feed:
    """A feed command, what its clean run prints, and what readers see (name -> SELECT)."""

    args: list[str]
    said: str
    seen: Mapping[str, str]


def _dump(feed: Feed) -> Callable[[Path], dict[str, Counter[Any]]]:
    def dump(home: Path) -> dict[str, Counter[Any]]:
        with open_store(f"chdb://{home / 'store'}") as store:
            return {name: rows(store, sql) for name, sql in feed.seen.items()}

    return dump


def _every_kill(
    factory: pytest.TempPathFactory, template: Path, feed: Feed
) -> tuple[dict[str, Any], list[str]]:
    """Kill ``feed`` after each of its writes (its inserts sent ``INSERT_ROWS`` rows a
    statement), run it again, compare with a clean run; what the clean run left, and
    its writes."""
    writes, want = every_kill(
        factory, template, feed.args, _dump(feed), said=feed.said, insert_rows=INSERT_ROWS
    )
    return want, writes


def _dated(path: Path, when: datetime) -> Path:
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


# -- gate-based snapshots ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_repocop(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    items = [repocop_item(f"pkg{i}", "rpm-obsolete" if i % 2 else "ok") for i in range(10)]
    path = tmp_path / "packages.repocop.json.bz2"
    path.write_bytes(bz2.compress(json.dumps(items).encode()))
    feed = Feed(
        ["load", "repocop", str(_dated(path, MAY))],
        "repocop: 10 rows added",
        {"rows": "SELECT * FROM PackagesRepocop"},
    )
    want, writes = _every_kill(tmp_path_factory, template_store(tmp_path_factory), feed)
    assert sum(want["rows"].values()) == 10
    assert writes.count("insert PackagesRepocop") == 1  # the snapshot in one statement


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_watch(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    lines = [f"ivan\tpkg{i}\t1.{i}\t1.{i + 1}\thttps://example.org/pkg{i}/\n" for i in range(9)]
    path = tmp_path / "watch-total.txt"
    path.write_text("".join(lines), encoding="utf-8")
    feed = Feed(
        ["load", "watch", str(_dated(path, MAY))],
        "watch: 9 rows added",
        {"rows": "SELECT * FROM PackagesWatch"},
    )
    want, writes = _every_kill(tmp_path_factory, template_store(tmp_path_factory), feed)
    assert sum(want["rows"].values()) == 9
    assert writes.count("insert PackagesWatch") == 1  # the snapshot in one statement


def _beehive_tree(root: Path, arch: str, built: list[str], failed: list[str]) -> None:
    latest = root / "logs" / "p10" / arch / "latest"
    (latest / "error").mkdir(parents=True)
    (latest / "success").mkdir()
    times = [f"{nvr}.src.rpm\t{i + 1}.5\n" for i, nvr in enumerate(built + failed)]
    (latest / "time.list").write_text("".join(times), encoding="utf-8")
    for nvr in built:
        (latest / "success" / nvr).write_text("log", encoding="utf-8")
    for nvr in failed:
        (latest / "error" / nvr).write_text("log", encoding="utf-8")
    stats = root / "stats" / "p10" / arch
    stats.mkdir(parents=True)
    (stats / "ftbfs-since").write_text("bar\t1714000000\n", encoding="utf-8")
    _dated(latest, datetime(2024, 5, 15, 6, 40, tzinfo=UTC))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_beehive(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """Two arches of p10, five packages each; foo and bar are in the May snapshot."""
    root = tmp_path / "beehive"
    others = [f"pkg{i}-1-alt1" for i in range(3)]
    _beehive_tree(root, "x86_64", ["foo-1.0-alt1", *others], ["bar-2.0-alt1"])
    _beehive_tree(root, "i586", ["foo-1.0-alt1", others[0]], ["bar-2.0-alt1", *others[1:]])
    feed = Feed(
        ["load", "beehive", str(root), "-b", "p10", "-a", "x86_64", "-a", "i586"],
        "beehive: 10 rows added",
        {"rows": "SELECT * FROM BeehiveStatus"},
    )
    want, writes = _every_kill(tmp_path_factory, loaded_template_store(tmp_path_factory), feed)
    assert writes.count("insert BeehiveStatus") == 2  # one statement per arch
    hashed = sum(n for row, n in want["rows"].items() if row[0] != 0)
    assert (sum(want["rows"].values()), hashed) == (10, 4)


# -- feeds that compare with the stored state ----------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_acl(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """p10's lists (one line as stored before: not added again) and c10's packages."""
    folder = tmp_path / "acl"
    folder.mkdir()
    packages = [f"pkg{i}\tivan petr\n" for i in range(5)] + ["bar\t@qa\n"]
    (folder / "list.packages.p10").write_text("".join(packages), encoding="utf-8")
    (folder / "list.groups.p10").write_text("@qa\tanna ivan\n@core\tpetr\n", encoding="utf-8")
    (folder / "list.packages.c10").write_text("foo\tanna\nbaz\tivan\n", encoding="utf-8")
    for name in ("list.packages.p10", "list.groups.p10", "list.packages.c10"):
        _dated(folder / name, JUNE)

    def before(store: Store) -> None:
        rows = [(MAY, "pkg0", "p10", ["ivan", "petr"]), (MAY, "pkg1", "p10", ["anna"])]
        store.insert("Acl", ("acl_date", "acl_for", "acl_branch", "acl_list"), rows)

    template = prepared(tmp_path_factory, "acl", template_store(tmp_path_factory), before)
    feed = Feed(
        ["load", "acl", str(folder)],
        "acl: 9 rows added",
        {"rows": "SELECT * FROM Acl", "last": "SELECT * FROM last_acl"},
    )
    want, writes = _every_kill(tmp_path_factory, template, feed)
    assert sum(want["rows"].values()) == 2 + 9
    assert writes.count("insert Acl") == 4  # 5 + 2 + 2 rows, 3 a statement


BUG_HEADER = (
    "bug_id,bug_status,resolution,bug_severity,priority,product,version,rep_platform,"
    "component,assigned_to,reporter,short_desc,changeddate\n"
)


def _bug(bug_id: int, status: str = "NEW") -> str:
    return (
        f"{bug_id},{status}, ---,normal,P3,Sisyphus,unstable,all,pkg{bug_id},ivan,petr,"
        f'"pkg{bug_id}, crashes",2026-11-30 10:00:00\n'
    )


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_bugzilla(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """Ten bugs; the first is stored as it is (not added), the second changed since."""
    path = tmp_path / "bugs.csv"
    path.write_text(BUG_HEADER + "".join(_bug(i) for i in range(1, 11)), encoding="utf-8")
    stored = tmp_path / "stored.csv"
    stored.write_text(BUG_HEADER + _bug(1) + _bug(2, "ASSIGNED"), encoding="utf-8")
    clean = home_from(tmp_path_factory, template_store(tmp_path_factory), "bugs-before")
    assert run_cli(clean, ["load", "bugzilla", str(stored)]).returncode == 0
    feed = Feed(
        ["load", "bugzilla", str(path)],
        "bugzilla: 9 rows added",
        {"rows": "SELECT * FROM Bugzilla"},  # ts is MATERIALIZED: not in *
    )
    want, writes = _every_kill(tmp_path_factory, clean / "store", feed)
    assert sum(want["rows"].values()) == 2 + 9
    assert writes.count("insert Bugzilla") == 3  # 9 rows, 3 a statement


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_spdx(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """A license-list-data tree read offline: six licenses and two exceptions."""
    root = tmp_path / "SPDX"
    details, exceptions = root / "json" / "details", root / "json" / "exceptions"
    details.mkdir(parents=True)
    exceptions.mkdir()
    for i in range(6):
        license_ = {
            "licenseId": f"L-{i}",
            "name": f"License {i}",
            "licenseText": f"text {i}",
            "standardLicenseHeader": f"header {i}" if i % 2 else None,
            "seeAlso": [f"https://example.org/{i}"],
        }
        (details / f"L-{i}.json").write_text(json.dumps(license_), encoding="utf-8")
    for i in range(2):
        exception = {
            "licenseExceptionId": f"E-{i}",
            "name": f"Exception {i}",
            "licenseExceptionText": f"exception text {i}",
        }
        (exceptions / f"E-{i}.json").write_text(json.dumps(exception), encoding="utf-8")
    feed = Feed(
        ["load", "spdx", "--git-root", str(root), "--no-update"],
        "spdx: 8 rows added",
        {"rows": "SELECT * FROM SPDXLicenses"},
    )
    want, writes = _every_kill(tmp_path_factory, template_store(tmp_path_factory), feed)
    assert sum(want["rows"].values()) == 8
    assert writes.count("insert SPDXLicenses") == 3  # 8 rows, 3 a statement


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_repology(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """Eight projects listed (one already active: not added), two stored ones gone."""
    projects = {
        f"project{i}": [{"repo": "alt_sisyphus", "srcname": f"alt-{i}", "version": "1"}]
        for i in range(8)
    }
    path = tmp_path / "projects.json"
    path.write_text(json.dumps(projects), encoding="utf-8")

    def before(store: Store) -> None:
        rows = [
            (name, project, "alt_sisyphus", "active", "repology")
            for name, project in (("alt-0", "project0"), ("old-a", "a"), ("old-b", "b"))
        ]
        columns = ("pkg_name", "pnc_result", "pnc_type", "pnc_state", "pnc_source")
        store.insert("PackagesNameConversion", columns, rows)

    template = prepared(tmp_path_factory, "repology", template_store(tmp_path_factory), before)
    feed = Feed(
        ["load", "repology", str(path), "--repo", "alt_sisyphus"],
        "repology: 9 rows added",
        {
            "rows": "SELECT pkg_name, pnc_result, pnc_type, pnc_state, pnc_source "
            "FROM PackagesNameConversion",
        },
    )
    want, writes = _every_kill(tmp_path_factory, template, feed)
    assert sum(want["rows"].values()) == 3 + 9
    assert writes.count("insert PackagesNameConversion") == 3  # 9 rows, 3 a statement
