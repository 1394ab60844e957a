"""Task load throughput: ``repotrack load task`` over many girar tasks, beside ``load repo``.

    uv run python benchmarks/task_load.py [--tasks 40] [--full] [--workers 1]

``--tasks N`` DONE tasks are generated once with rpmbuild by ``tests/fixtures/girar.py``
(``make_bench_tasks``: one gear subtask built for x86_64 and i586, 10 distinct packages
per task) and cached under ``benchmarks/.cache/``; ``--full`` means 200 tasks (about
2 000 packages, the issue's size). Every figure is a whole ``repotrack`` process, as a
user waits for it (start-up, imports, store open and close included), each into its
own fresh embedded store:

1. ``repotrack load repo`` of a directory holding every RPM of the tasks (the baseline:
   the same packages, no task rows);
2. ``repotrack load task`` of all the tasks (first load: packages and task rows);
3. the same command again (reload: every directory unchanged, nothing is written);
4. ``repotrack query tasks --limit 1``: a process that only starts and opens the store,
   to show how much of the reload is start-up.

Printed: seconds, tasks/s and packages/s of each, and the reload as a share of the
first load (with and without the start-up).
"""

from __future__ import annotations

import argparse
import os
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


def run(args: list[str], home: Path) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    env["REPOTRACK_HOME"] = str(home)
    started = time.monotonic()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("repotrack")), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"repotrack {' '.join(args[:3])} ... failed: {done.stderr.strip()}")
    return seconds, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=40, help="tasks to load (default 40)")
    parser.add_argument("--full", action="store_true", help="200 tasks, about 2000 packages")
    parser.add_argument("--workers", type=int, default=1, help="package readers per load")
    args = parser.parse_args()
    count = 200 if args.full else args.tasks
    tasks = make_tasks(count)
    dirs = sorted(str(p) for p in (tasks / "tasks").iterdir() if p.name.isdigit())
    w = str(args.workers)
    with tempfile.TemporaryDirectory(prefix="task-bench-") as tmp:
        work = Path(tmp)
        packages = flat_tree(tasks, work / "flat")
        repo_s, _ = run(
            ["load", "repo", "bench", str(work / "flat"), "--date", "2024-06-10", "-w", w],
            work / "repo-home",
        )
        first_s, out = run(["load", "task", "-w", w, *dirs], work / "task-home")
        loaded = sum(1 for line in out.splitlines() if line.startswith("task "))
        reload_s, out = run(["load", "task", "-w", w, *dirs], work / "task-home")
        again = sum(1 for line in out.splitlines() if "already loaded" in line)
        start_s, _ = run(["query", "tasks", "--limit", "1"], work / "task-home")
    print(f"{count} tasks, {packages} packages; whole processes; workers {w}")
    for label, seconds in (
        ("load repo (same packages)", repo_s),
        ("load task, first", first_s),
        ("load task, reload", reload_s),
    ):
        print(
            f"  {label:28s} {seconds:7.2f} s  {count / seconds:7.1f} tasks/s  "
            f"{packages / seconds:7.1f} packages/s"
        )
    print(f"  reload / first load: {100 * reload_s / first_s:.1f} %")
    print(
        f"  a process that only starts and opens the store (query tasks --limit 1): "
        f"{start_s:.2f} s; reload beyond that: {reload_s - start_s:.2f} s "
        f"({100 * (reload_s - start_s) / first_s:.1f} % of the first load)"
    )
    print(f"  tasks loaded {loaded}, reported already loaded on reload {again}")


if __name__ == "__main__":
    main()
