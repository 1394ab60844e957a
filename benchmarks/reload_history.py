"""Reload time against the store's history: does publishing a snapshot slow down as
the store fills with older snapshots?

    uv run python benchmarks/reload_history.py [--history 0,200,800] [--runs 3]

A store gets the benchmark tree of ``repo_load.py`` (2 000 packages, built there and
cached in ``benchmarks/.cache/``) as its first snapshot; then ``--history`` older
snapshots are added straight in SQL (each one the same packages' ``PackageSet`` rows
under its own node, as daily loads of a branch leave them, plus 100 packages of its
own in ``Packages``), and ``repotrack load repo`` loads the tree again for a new date,
timed as a whole process (start to exit, as ``repo_load.py`` times it). Every reload
finds every package known; what it writes is the new snapshot's ``PackageSet`` and
``PackageSetName`` rows, whose root row fills ``StaticLastPackages`` through the
``mv_last_packages_stage2`` view.

For comparison the same is measured with the view as migration 0003 made it (the
store's view swapped for that text before the reload, then put back), in the same run:
that view joined the new root's nodes with all of ``PackageSet`` and all of
``Packages``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from repo_load import _become_subreaper, _repotrack, _timed, make_tree

from repotrack.store import open_store
from repotrack.store.migrations import available_migrations
from repotrack.store.sqltext import split_statements

PER_SNAPSHOT_NEW = 100


def _view(version: int) -> str:
    """The ``mv_last_packages_stage2`` statement of migration ``version``."""
    for migration in available_migrations():
        if migration.version == version:
            for statement in split_statements(migration.sql):
                if "MATERIALIZED VIEW IF NOT EXISTS mv_last_packages_stage2" in statement:
                    return statement
    raise SystemExit(f"no mv_last_packages_stage2 in migration {version}")


def _add_history(url: str, snapshots: int) -> int:
    """``snapshots`` older snapshots of the loaded tree's packages; returns PackageSet rows."""
    with open_store(url) as store:
        store.command(
            "INSERT INTO PackageSet (pkgset_uuid, pkg_hash) "
            "SELECT toUUID(concat('00000000-0000-4000-8000-', leftPad(toString(k), 12, '0'))),"
            " pkg_hash FROM (SELECT DISTINCT pkg_hash FROM PackageSet) AS P "
            "CROSS JOIN (SELECT number + 1 AS k FROM numbers({n:UInt32})) AS K",
            {"n": snapshots},
        )
        store.command(
            "INSERT INTO Packages (pkg_hash, pkg_name, pkg_version, pkg_release, pkg_arch,"
            " pkg_sourcepackage) SELECT 10000000000 + number, concat('old-', toString(number)),"
            " '1.0', 'alt1', 'noarch', 0 FROM numbers({n:UInt64})",
            {"n": snapshots * PER_SNAPSHOT_NEW},
        )
        ((rows,),) = store.query("SELECT count() FROM PackageSet")
        return int(rows)


def _swap_view(url: str, version: int) -> None:
    with open_store(url) as store:
        store.command("DROP VIEW IF EXISTS mv_last_packages_stage2")
        store.command(_view(version))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", default="0,200,800")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    _become_subreaper()
    tree = make_tree(2000, 150)
    latest = max(m.version for m in available_migrations())
    command = [_repotrack(), "load", "repo", "bench", str(tree), "-w", "2"]
    print(f"tree: {tree.name}; each reload finds every package known; whole processes")
    for snapshots in [int(n) for n in args.history.split(",")]:
        home = Path(tempfile.mkdtemp(prefix="bench-history-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
        env["REPOTRACK_HOME"] = str(home)
        url = f"chdb://{home / 'store'}"
        try:
            _timed([*command, "--date", "2024-01-01"], env)
            rows = _add_history(url, snapshots)
            figures: dict[str, list[float]] = {"0003 view": [], "current view": []}
            day = 2
            for _ in range(args.runs):
                for label, version in (("0003 view", 3), ("current view", latest)):
                    _swap_view(url, version)
                    wall, _cpu, _ = _timed([*command, "--date", f"2024-02-{day:02d}"], env)
                    figures[label].append(wall)
                    day += 1
            _swap_view(url, latest)
            line = ", ".join(
                f"{label} {statistics.median(w):.2f} s (min {min(w):.2f})"
                for label, w in figures.items()
            )
            print(f"history {snapshots:4d} snapshots ({rows:,} PackageSet rows): reload {line}")
        finally:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
