"""Benchmark of the patch-tracking pipeline: N items tracking local upstreams.

Builds N upstream repositories (copies of one template), N downstream packaging
repositories on the in-tree fake Gitee (served over git smart HTTP, API on 127.0.0.1),
and N tracking items, then measures:

1. a no-change scan in-process (``Tracker.scan``);
2. the same as a user waits for it: the whole ``repotrack track run --once`` process
   (start-up, imports, state database open, scan, exit), beside a plain parallel
   ``git ls-remote`` of the same N upstreams with the same parallelism (the floor: a
   scan must at least learn every upstream's head);
3. ``repotrack --help`` as a process;
4. with ``--full``: a scan after C new commits per upstream (patches, spec,
   verification, push, issue and PR per item; minutes for 200 items).

With ``--http`` the upstreams are served over git's smart HTTP (``git http-backend``
behind the fake forge's HTTP door, in a separate server process) and both the scan and
the baseline ask them at ``http://127.0.0.1``, as a scan asks github.com; without it
they are local paths.

Each process figure is the fastest of ``--repeat`` runs, the one least disturbed by
other load on the machine, with its CPU time (user + system of the process and the git
processes it waited for, from ``getrusage(RUSAGE_CHILDREN)``). Run from the repository
root::

    uv run python benchmarks/tracking.py [--items 200] [--commits 5] [--workers 4] [--http] [--full]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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


def _add_items(db: StateDB, forge: ForgeServer, upstreams: list[str], base: str) -> None:
    with db.session() as session:
        for n, path in enumerate(upstreams):
            session.add(
                Tracking(
                    version_control="git",
                    scm_repo=path,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--commits", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4, help="tracking.max_parallel_fetches")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timed process")
    parser.add_argument("--full", action="store_true", help="also time a scan with new commits")
    parser.add_argument("--http", action="store_true", help="serve the upstreams over HTTP")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the upstream server
    args = parser.parse_args()
    if args.serve is not None:
        _serve(args.serve)
        return
    print(f"{args.items} items, {args.commits} new commits each, {args.workers} workers, "
          f"{os.cpu_count()} CPUs, upstreams {'over HTTP' if args.http else 'local paths'}, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="repotrack-bench-") as scratch:
        tmp = Path(scratch)
        with ForgeServer("gitee", token="bench-token", git_root=tmp / "forge-git") as forge:
            started = time.perf_counter()
            paths, base = _build(tmp, forge, args.items, args.commits)
            server = _start_server(tmp / "upstreams") if args.http else None
            upstreams = [f"{server[1]}/{path.name}/.git" if server else str(path) for path in paths]
            settings = Settings(
                home=tmp / "home",
                tracking={
                    "allow_local_upstreams": True,
                    "max_parallel_fetches": args.workers,
                    "upstream_allow_hosts": ["127.0.0.1"],
                },
                forges={"gitee": forge.forge_settings()},
            )
            db = StateDB(settings.state_url)
            _add_items(db, forge, upstreams, base)
            print(f"setup: {time.perf_counter() - started:.1f} s")
            tracker = Tracker(settings, db)
            quiet, _ = _timed_scan(tracker, "no-change scan, in-process")
            print(f"no-change scan: {quiet:.2f} s ({args.items / quiet:.1f} items/s)")
            config = _write_config(tmp, forge, args.workers)
            process = _best(args.repeat, lambda: _repotrack(tmp, config, "track", "run", "--once"))
            floor = _best(args.repeat, lambda: _baseline_ls_remote(upstreams, args.workers))
            print(
                f"whole process `repotrack track run --once`, nothing new: {_show(process)}; "
                f"baseline `git ls-remote` of the {len(upstreams)} upstreams with "
                f"{args.workers} workers: {_show(floor)}; ratio {process[0] / floor[0]:.2f} "
                f"(CPU {process[1] / floor[1]:.2f})"
            )
            helps = _best(args.repeat, lambda: _repotrack(tmp, config, "--help"))
            print(f"`repotrack --help`: {_show(helps)}")
            if server is not None:
                server[0].stdin.close()  # type: ignore[union-attr]
                server[0].wait(timeout=30)
            if args.full:
                for path in paths:
                    git(path, "update-ref", "refs/heads/main", "refs/heads/next")
                full, _ = _timed_scan(tracker, "full scan")
                total = args.items * args.commits
                print(f"full scan: {args.items / full:.1f} items/s, {total / full:.1f} commits/s")
            db.close()


def _best(repeat: int, timed: Callable[[], float]) -> tuple[float, float]:
    """(wall, CPU) of the fastest of ``repeat`` runs: the one least disturbed by other load.

    CPU is user + system time of the child processes waited for during the run.
    """
    runs = []
    for _ in range(max(1, repeat)):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = timed()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        runs.append((wall, cpu))
    return min(runs)


def _show(figure: tuple[float, float]) -> str:
    return f"{figure[0]:.2f} s (CPU {figure[1]:.2f} s)"


def _start_server(root: Path) -> tuple[subprocess.Popen[str], str]:
    """The upstreams over smart HTTP, served by a separate process (its CPU is not ours)."""
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    return server, server.stdout.readline().strip()


def _serve(root: Path) -> None:
    with ForgeServer("gitea", git_root=root) as upstreams:
        print(upstreams.web_url, flush=True)
        sys.stdin.read()  # until the benchmark closes our stdin


def _write_config(tmp: Path, forge: ForgeServer, workers: int) -> Path:
    settings = forge.forge_settings()
    config = tmp / "repotrack.toml"
    config.write_text(
        f'home = "{tmp / "home"}"\n'
        "[tracking]\nallow_local_upstreams = true\n"
        'upstream_allow_hosts = ["127.0.0.1"]\n'
        f"max_parallel_fetches = {workers}\n"
        f'[forges.gitee]\nkind = "gitee"\nweb_url = "{settings.web_url}"\n'
        f'api_url = "{settings.api_url}"\n',
        encoding="utf-8",
    )
    return config


def _repotrack(tmp: Path, config: Path, *args: str) -> float:
    """One timed run of the installed command.

    As installed by pip or an RPM, Python finds compiled bytecode; a development
    environment with ``PYTHONDONTWRITEBYTECODE`` recompiles ~400 modules per process
    (about 2 s here). The bytecode goes to a scratch prefix, so nothing is written into
    the source tree, and the fastest of several runs excludes the compiling one.
    """
    command = [str(Path(sys.executable).parent / "repotrack"), "--config", str(config), *args]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=tmp, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr or done.stdout}")
    return elapsed


def _baseline_ls_remote(upstreams: list[str], workers: int) -> float:
    def ask(url: str) -> None:
        subprocess.run(["git", "ls-remote", "--heads", url], check=True, capture_output=True)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(ask, upstreams))
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
