"""Feed load throughput as a user sees it: ``repotrack load bugzilla`` and ``load acl``
beside reading the same files with the standard library.

    uv run python benchmarks/feed_load.py [--bugs 60000] [--packages 20000] [--runs 3]

The inputs are generated in the shape of ALT's own (their two largest feeds):

- Bugzilla's CSV bug list (``buglist.cgi?ctype=csv``): ``--bugs`` bugs, the columns the
  loader asks for, summaries with commas and quotes, and a handful of branches,
  components and people;
- acl lists of four branches (``list.packages.<branch>``: a package, a tab, its
  maintainers and @groups; ``list.groups.<branch>``: a group and its members), each of
  ``--packages`` packages and 300 groups.

Every figure is a whole process, timed from start to exit (interpreter start, imports,
store open and close); CPU is user + system of the process and its descendants. For
each feed: the baseline (one Python process that reads the same files with ``csv`` or
by splitting lines: the least any Python loader of them does), the first load into a
fresh embedded store whose schema was made beforehand (untimed), the same files again
(nothing new: no row is written), and the files after 1 % of their lines changed (the
daily case). After the first load the store is asked, with a query of its own, how
many bugs and acl entries it holds; a load that stored another number than was
generated stops the benchmark.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from whole_process import repotrack_command, stored_number, timed

BRANCHES = ("sisyphus", "p11", "p10", "c10f2")
GROUPS = 300
PEOPLE = 800
HEADER = (
    "bug_id,bug_status,resolution,bug_severity,priority,product,version,rep_platform,"
    "component,assigned_to,reporter,short_desc,changeddate"
)
STATES = (("NEW", ""), ("ASSIGNED", ""), ("RESOLVED", "FIXED"), ("CLOSED", "WONTFIX"))

BASELINE_CSV = """
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as handle:
    print(sum(1 for _ in csv.DictReader(handle)))
"""
BASELINE_ACL = """
import sys
from pathlib import Path
entries = 0
for path in sorted(Path(sys.argv[1]).iterdir()):
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, members = line.partition("\\t")
        entries += bool(name and members.split())
print(entries)
"""


def write_bugs(path: Path, bugs: int, *, changed: int = 0, seed: int = 3) -> None:
    """The CSV bug list; with ``changed``, every hundredth of the first bugs has a new
    status and a later change date (``changed`` of them)."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    out.write(HEADER + "\n")
    left = changed
    for number in range(bugs):
        status, resolution = rng.choice(STATES)
        when = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} 10:{number % 60:02d}:00"
        if left and number % 100 == 0:
            status, resolution, when, left = "REOPENED", "", "2026-01-02 09:00:00", left - 1
        summary = f'pkg{rng.randint(0, 9999)}: crash in "{rng.choice(("a", "b"))}", again'
        writer.writerow(
            [
                10000 + number,
                status,
                resolution,
                rng.choice(("normal", "minor", "major")),
                f"P{rng.randint(1, 5)}",
                rng.choice(("Sisyphus", "Branch p11", "Branch p10")),
                "unstable",
                rng.choice(("all", "x86_64", "aarch64")),
                f"pkg{rng.randint(0, 9999)}",
                f"user{rng.randrange(PEOPLE)}@altlinux.org",
                f"user{rng.randrange(PEOPLE)}",
                summary,
                when,
            ]
        )
    path.write_text(out.getvalue(), encoding="utf-8")


def write_acl(folder: Path, packages: int, *, changed: int = 0, seed: int = 5) -> int:
    """The four branches' lists; returns the entries (package and group lines) in all.
    With ``changed``, that many package lines of each branch name other maintainers and
    the files are a day newer."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    when = datetime(2026, 1, 2 if changed else 1, 6, 0).timestamp()
    for branch in BRANCHES:
        lines = []
        for number in range(packages):
            members = [f"user{rng.randrange(PEOPLE)}" for _ in range(rng.randint(1, 4))]
            if rng.random() < 0.2:
                members.append(f"@group{rng.randrange(GROUPS)}")
            if number < changed:
                members = ["newcomer", *members]
            lines.append(f"pkg{number}\t{' '.join(members)}")
        groups = [
            f"@group{n}\t{' '.join(f'user{rng.randrange(PEOPLE)}' for _ in range(3))}"
            for n in range(GROUPS)
        ]
        for name, text in ((f"list.packages.{branch}", lines), (f"list.groups.{branch}", groups)):
            (folder / name).write_text("\n".join(text) + "\n", encoding="utf-8")
            os.utime(folder / name, (when, when))
    return len(BRANCHES) * (packages + GROUPS)


def measure(
    label: str,
    rows: tuple[int, str, str],
    baseline: list[str],
    command: list[str],
    first_input: Path,
    changed_input: Path,
    home: Path,
) -> None:
    """Baseline, first load, again, changed; ``rows``: (expected, unit, counting SQL)."""
    expected, unit, sql = rows
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    env["REPOTRACK_HOME"] = str(home)
    subprocess.run([repotrack_command(), "db", "init"], check=True, capture_output=True, env=env)
    base = timed(baseline)
    first = timed([*command, str(first_input)], env)
    found = stored_number(env, sql)[0]
    if found != expected:
        sys.exit(f"{label}: the store holds {found} {unit}, {expected} were generated")
    again = timed([*command, str(first_input)], env)
    changed = timed([*command, str(changed_input)], env)
    print(f"  {label}:")
    print(f"    baseline     {base[0]:6.2f} s wall {base[1]:6.2f} s cpu")
    print(
        f"    first load   {first[0]:6.2f} s wall {first[1]:6.2f} s cpu "
        f"{expected / first[0]:8.0f} {unit}/s   / baseline: {first[0] / base[0]:.2f}x wall"
    )
    print(f"      {first[2]}")
    print(
        f"    again        {again[0]:6.2f} s wall {again[1]:6.2f} s cpu   / first load: "
        f"{again[0] / first[0]:.1%}"
    )
    print(f"      {again[2]}")
    print(
        f"    1 % changed  {changed[0]:6.2f} s wall {changed[1]:6.2f} s cpu   / first load: "
        f"{changed[0] / first[0]:.1%}"
    )
    print(f"      {changed[2]}")
    print(f"    stored: {found} {unit} (as generated)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bugs", type=int, default=60_000)
    parser.add_argument("--packages", type=int, default=20_000, help="Per branch.")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-feeds-"))
    try:
        bugs, bugs_changed = work / "bugs.csv", work / "bugs-changed.csv"
        write_bugs(bugs, args.bugs)
        write_bugs(bugs_changed, args.bugs, changed=args.bugs // 100)
        acl, acl_changed = work / "acl", work / "acl-changed"
        entries = write_acl(acl, args.packages)
        write_acl(acl_changed, args.packages, changed=args.packages // 100)
        print(
            f"bugzilla: {args.bugs} bugs ({bugs.stat().st_size / 2**20:.1f} MiB); acl: "
            f"{len(BRANCHES)} branches of {args.packages} packages and {GROUPS} groups "
            f"({entries} entries); {os.cpu_count()} CPUs"
        )
        print("every time is a whole process (start to exit); cpu = user + system")
        python = sys.executable
        for run in range(1, args.runs + 1):
            load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
            print(f"run {run} (machine load average {load}):")
            measure(
                "bugzilla",
                (args.bugs, "bugs", "SELECT uniqExact(bz_id) FROM Bugzilla"),
                [python, "-c", BASELINE_CSV, str(bugs)],
                [repotrack_command(), "load", "bugzilla"],
                bugs,
                bugs_changed,
                work / f"home-bugzilla-{run}",
            )
            measure(
                "acl",
                (entries, "entries", "SELECT uniqExact(acl_branch, acl_for) FROM Acl"),
                [python, "-c", BASELINE_ACL, str(acl)],
                [repotrack_command(), "load", "acl"],
                acl,
                acl_changed,
                work / f"home-acl-{run}",
            )
            for home in work.glob("home-*"):
                shutil.rmtree(home, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
