"""Benchmark of the patch-tracking pipeline: N items tracking local upstreams.

Builds N upstream repositories (copies of one template), N downstream packaging
repositories on the in-tree fake Gitee (served over git smart HTTP, API on 127.0.0.1),
and N tracking items, then measures with the real pipeline (``Tracker.scan``):

1. a first scan with nothing new (cold: every upstream mirror is cloned);
2. a scan with nothing new (warm mirrors) -- the common case of a periodic scan;
3. a full scan after C new commits per upstream (patches, spec, verification, push,
   issue and PR per item);

and, as a baseline from the same run, a plain ``git fetch`` of every warm mirror with
the same parallelism. Run from the repository root::

    uv run python benchmarks/tracking.py [--items 200] [--commits 5] [--workers 4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from repotrack.config import Settings  # noqa: E402
from repotrack.state import StateDB, Tracking  # noqa: E402
from repotrack.tracking.pipeline import Tracker  # noqa: E402
from tests.forges import ForgeServer  # noqa: E402
from tests.unit.tracking.pipeline_world import (  # noqa: E402
    add_commits,
    git,
    make_upstream,
    seed_downstream,
)


def _build(tmp: Path, forge: ForgeServer, items: int, commits: int) -> tuple[list[Path], str]:
    template = tmp / "template"
    base = make_upstream(template)
    git(template, "checkout", "--quiet", "-b", "next")
    add_commits(template, commits)
    git(template, "checkout", "--quiet", "main")
    seeded = seed_downstream(forge, "bench/pkg0000")
    upstreams = []
    for n in range(items):
        path = tmp / "upstreams" / f"up{n:04d}"
        shutil.copytree(template, path, symlinks=True)
        upstreams.append(path)
        if n:
            target = seeded.bare.parent / f"pkg{n:04d}.git"
            shutil.copytree(seeded.bare, target, symlinks=True)
    return upstreams, base


def _add_items(db: StateDB, forge: ForgeServer, upstreams: list[Path], base: str) -> None:
    with db.session() as session:
        for n, path in enumerate(upstreams):
            session.add(
                Tracking(
                    version_control="git",
                    scm_repo=str(path),
                    scm_branch="main",
                    scm_commit=base,
                    repo=forge.repo_url(f"bench/pkg{n:04d}"),
                    branch="master",
                    enabled=True,
                )
            )


def _timed_scan(tracker: Tracker, label: str) -> tuple[float, list[str]]:
    start = time.perf_counter()
    results = tracker.scan()
    elapsed = time.perf_counter() - start
    outcomes = sorted({r.outcome for r in results})
    failed = [r.error for r in results if r.outcome == "failed"]
    print(f"{label}: {len(results)} items in {elapsed:.2f} s, outcomes {outcomes}")
    if failed:
        print(f"  first failure: {failed[0]}")
    return elapsed, outcomes


def _baseline_fetch(mirrors: list[Path], workers: int) -> float:
    def fetch(path: Path) -> None:
        subprocess.run(
            ["git", "--git-dir", str(path), "fetch", "--quiet", "--prune", "origin"],
            check=False,
            capture_output=True,
        )

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(fetch, mirrors))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--commits", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4, help="tracking.max_parallel_fetches")
    args = parser.parse_args()
    print(f"{args.items} items, {args.commits} new commits each, {args.workers} workers, "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="repotrack-bench-") as scratch:
        tmp = Path(scratch)
        with ForgeServer("gitee", token="bench-token", git_root=tmp / "forge-git") as forge:
            started = time.perf_counter()
            upstreams, base = _build(tmp, forge, args.items, args.commits)
            settings = Settings(
                home=tmp / "home",
                tracking={"allow_local_upstreams": True, "max_parallel_fetches": args.workers},
                forges={"gitee": forge.forge_settings()},
            )
            db = StateDB(settings.state_url)
            _add_items(db, forge, upstreams, base)
            print(f"setup: {time.perf_counter() - started:.1f} s")
            tracker = Tracker(settings, db)
            _timed_scan(tracker, "no-change scan, cold mirrors")
            quiet, _ = _timed_scan(tracker, "no-change scan, warm mirrors")
            for path in upstreams:
                git(path, "update-ref", "refs/heads/main", "refs/heads/next")
            full, _ = _timed_scan(tracker, "full scan")
            total = args.items * args.commits
            print(f"full scan: {args.items / full:.1f} items/s, {total / full:.1f} commits/s")
            print(f"no-change scan: {quiet:.2f} s ({args.items / quiet:.1f} items/s)")
            _report_baseline(upstreams, args.workers, quiet)
            db.close()


def _report_baseline(upstreams: list[Path], workers: int, quiet: float) -> None:
    """Plain parallel ``git fetch`` of a mirror of every upstream: the floor of a quiet scan."""
    elapsed = _baseline_git_fetch(upstreams, workers)
    print(
        f"baseline: bare `git fetch` of {len(upstreams)} upstreams with {workers} workers: "
        f"{elapsed:.2f} s; no-change scan / baseline = {quiet / elapsed:.2f}"
    )


def _baseline_git_fetch(upstreams: list[Path], workers: int) -> float:
    with tempfile.TemporaryDirectory(prefix="repotrack-baseline-") as scratch:
        clones = []
        for n, path in enumerate(upstreams):
            clone = Path(scratch) / f"m{n:04d}.git"
            subprocess.run(
                ["git", "clone", "--quiet", "--mirror", str(path), str(clone)],
                check=True,
                capture_output=True,
            )
            clones.append(clone)
        return _baseline_fetch(clones, workers)


if __name__ == "__main__":
    main()
