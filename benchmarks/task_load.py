"""Task load throughput: ``repotrack load task`` over many girar tasks, beside ``load repo``.

    uv run python benchmarks/task_load.py [--tasks 40] [--full] [--workers 1] [--repeat 3]

``--tasks N`` DONE tasks are generated once with rpmbuild by ``tests/fixtures/girar.py``
(``make_bench_tasks``: one gear subtask built for x86_64 and i586, 10 distinct packages
per task) and cached under ``benchmarks/.cache/``; ``--full`` means 200 tasks (about
2 000 packages, the issue's size). Every figure is a whole ``repotrack`` process, as a
user waits for it (start-up, imports, store open and close included), each into its
own fresh embedded store:

1. ``repotrack load repo`` of a directory holding every RPM of the tasks (the baseline:
   the same packages, no task rows);
2. ``repotrack load task`` of all the tasks, one process for all of them (first load:
   packages and task rows);
3. the same command again, ``--repeat`` times (reload: every directory unchanged,
   nothing is written; answered from the marks file beside the store, which is not
   started);
4. the same reload with ``--flush-buffers``, which always opens the store: the reload
   as it was before the marks file, for comparison (the flush itself is cheap);
5. ``repotrack --version`` (interpreter and CLI start-up only), ``repotrack load task
   --help`` (the same plus building the command, no settings, no work) and
   ``repotrack query tasks --limit 1`` (start-up plus opening the store and one
   query): how much of a reload is process start-up.

Every process is timed in wall seconds and in CPU seconds (user + system of the
process and all its children, from ``getrusage(RUSAGE_CHILDREN)``); with several runs
the range is printed. The machine's load average is printed too: on a shared machine
wall times vary more than CPU times.
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"


def make_tasks(count: int) -> Path:
    """The generated tasks (cached): ``<cache>/tasks`` and ``<cache>/rpms``."""
    target = CACHE / f"girar-{count}"
    if (target / "done").exists():
        return target
    sys.path.insert(0, str(ROOT))
    from tests.fixtures.girar import make_bench_tasks

    shutil.rmtree(target, ignore_errors=True)
    started = time.monotonic()
    make_bench_tasks(target, count, jobs=os.cpu_count() or 1)
    (target / "done").write_text("")
    print(f"generated {count} tasks in {time.monotonic() - started:.0f} s (cached in {target})")
    return target


def flat_tree(tasks: Path, out: Path) -> int:
    """Every distinct RPM the tasks built, in one directory (hard links); returns the count."""
    out.mkdir(parents=True, exist_ok=True)
    for rpm in sorted((tasks / "tasks").glob("*/build/*/*/*/*.rpm")):
        if not (out / rpm.name).exists():
            os.link(rpm, out / rpm.name)
    return len(list(out.iterdir()))


def run(args: list[str], home: Path) -> tuple[float, float, str]:
    """One whole ``repotrack`` process: (wall seconds, CPU seconds, stdout)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    env["REPOTRACK_HOME"] = str(home)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("repotrack")), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        sys.exit(f"repotrack {' '.join(args[:3])} ... failed: {done.stderr.strip()}")
    return seconds, cpu, done.stdout


def _span(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:5.2f}" if len(values) == 1 or high - low < 0.005 else f"{low:.2f}-{high:.2f}"


def _pct(part: list[float], whole: float) -> str:
    return _span([100 * p / whole for p in part]).strip() + " %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=40, help="tasks to load (default 40)")
    parser.add_argument("--full", action="store_true", help="200 tasks, about 2000 packages")
    parser.add_argument("--workers", type=int, default=1, help="package readers per load")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each reload (default 3)")
    args = parser.parse_args()
    count = 200 if args.full else args.tasks
    tasks = make_tasks(count)
    dirs = sorted(str(p) for p in (tasks / "tasks").iterdir() if p.name.isdigit())
    w = str(args.workers)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="task-bench-") as tmp:
        work = Path(tmp)
        home = work / "task-home"
        packages = flat_tree(tasks, work / "flat")
        repo_s, repo_c, _ = run(
            ["load", "repo", "bench", str(work / "flat"), "--date", "2024-06-10", "-w", w],
            work / "repo-home",
        )
        first_s, first_c, out = run(["load", "task", "-w", w, *dirs], home)
        loaded = sum(1 for line in out.splitlines() if line.startswith("task "))
        reloads = [run(["load", "task", "-w", w, *dirs], home) for _ in range(args.repeat)]
        again = min(sum("already loaded" in line for line in r[2].splitlines()) for r in reloads)
        opened = [run(["load", "task", "-f", "-w", w, *dirs], home) for _ in range(args.repeat)]
        version = [run(["--version"], home) for _ in range(args.repeat)]
        helped = [run(["load", "task", "--help"], home) for _ in range(args.repeat)]
        query = [run(["query", "tasks", "--limit", "1"], home) for _ in range(args.repeat)]
    load_after = os.getloadavg()
    print(
        f"{count} tasks, {packages} packages; whole processes; workers {w}; "
        f"{os.cpu_count()} CPUs; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after"
    )
    print(f"  {'':34s} {'wall s':>11s} {'CPU s':>11s} {'tasks/s':>8s} {'packages/s':>10s}")
    rows: list[tuple[str, list[float], list[float]]] = [
        ("load repo (same packages)", [repo_s], [repo_c]),
        ("load task, first", [first_s], [first_c]),
        ("load task, reload", [r[0] for r in reloads], [r[1] for r in reloads]),
        ("load task -f, reload (store open)", [r[0] for r in opened], [r[1] for r in opened]),
        ("repotrack --version", [r[0] for r in version], [r[1] for r in version]),
        ("repotrack load task --help", [r[0] for r in helped], [r[1] for r in helped]),
        ("query tasks --limit 1", [r[0] for r in query], [r[1] for r in query]),
    ]
    for label, walls, cpus in rows:
        best = min(walls)
        rate = f"{count / best:8.1f} {packages / best:10.1f}" if label.startswith("load") else ""
        print(f"  {label:34s} {_span(walls):>11s} {_span(cpus):>11s} {rate}")
    reload_w, reload_c = [r[0] for r in reloads], [r[1] for r in reloads]
    print(
        f"  reload / first load: {_pct(reload_w, first_s)} wall, {_pct(reload_c, first_c)} CPU "
        f"(with the store opened: {_pct([r[0] for r in opened], first_s)} wall, "
        f"{_pct([r[1] for r in opened], first_c)} CPU)"
    )
    for what, runs in (("repotrack --version", version), ("load task --help", helped)):
        start_w, start_c = min(r[0] for r in runs), min(r[1] for r in runs)
        print(
            f"  of the reload, start-up as in {what} is "
            f"{_span([100 * start_w / w_ for w_ in reload_w]).strip()} % of its wall time and "
            f"{_span([100 * start_c / c_ for c_ in reload_c]).strip()} % of its CPU time"
        )
    print(f"  tasks loaded {loaded}, reported already loaded on every reload {again}")


if __name__ == "__main__":
    main()
