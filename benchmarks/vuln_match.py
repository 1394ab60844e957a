"""Full and incremental rematch of one branch: 50 000 packages × 250 000 CpeMatch rows.

The world is generated with realistic shapes: source packages with versions such as
``1.12.3``, ``2.0~rc1``, ``20240101`` and ``5.15.0^git1``, each with ``--binaries``
binary packages in the set (2: an ALT branch holds about three binaries per source;
the matcher reads them to find binaries whose source the set lacks); 80 % of them mapped to a
CPE (``PackagesNameConversion``); 25 000 vulnerabilities whose ranges (NVD style:
open start, ``versionEndExcluding``, exact versions, start-and-end pairs) name
products drawn with a skew (a few products have hundreds of CVEs, most have a few),
and a third name products no package maps to. Rows are written straight into the
store through the loader's own row builder (``ingest.vulns.cpe_match_row``), so the
keys are the ones a real load writes.

Measured, wall and CPU time (user + sys of this process, which hosts chDB), each
``--repeat`` times (the machine is shared: the best run is the figure):

- the matching step in this process: the full rematch (``rematch_branch(full=True)``);
  an incremental rematch after 1 000 vulnerabilities got a new version, and after ``--few``
  (10) did (what any run costs, whatever it has to do); an incremental rematch after a new
  snapshot of the branch in which ``--updated`` packages got a new
  build and version, as many were removed and as many added;
- the whole ``repotrack vulns match`` command as a process (start-up, imports, store
  open), full and incremental after 1 000 changed vulnerabilities, CPU time from
  ``RUSAGE_CHILDREN``.

The load average is printed with the figures (and ``uptime`` before and after). The
changed vulnerabilities are the first ``--changed`` ones (their rows are neighbours in
``CpeMatch``), or, with ``--scatter``, drawn at random (each changed record then shares
its index granule with unchanged ones). Targets (issue 13): full under 10 s (aim 3 s);
incremental after 1 000 changed vulnerabilities under 5 % of full. ``--statements`` also
times each statement of the incremental runs after ``--changed`` vulnerabilities (wall
and the process's CPU, which takes in chDB's background work: merges, and the delete of
contradicted status rows, applied after the statement returns).

Run: ``uv run python benchmarks/vuln_match.py [--packages 50000] [--ranges 250000]``
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from repotrack.ingest.vulns import CPM_COLUMNS, VULN_COLUMNS, cpe_match_row
from repotrack.rpm import mmhash
from repotrack.security import rematch_branch
from repotrack.sources.vulns import AffectedRange
from repotrack.store import Store, migrate, open_store

BRANCH = "bench"
DAY = datetime(2025, 11, 1, tzinfo=UTC)
ZERO = uuid.UUID(int=0)


def version(rng: random.Random) -> str:
    shape = rng.random()
    base = f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}"
    if shape < 0.7:
        return base
    if shape < 0.8:
        return f"{base}~rc{rng.randint(1, 3)}"
    if shape < 0.9:
        return f"2024{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    return f"{base}^git{rng.randint(1, 99)}"


def cpe(product: int) -> str:
    return f"cpe:2.3:a:vendor{product % 997}:product{product}:*:*:*:*:*:*:*:*"


#: The binary packages of each source package of the first snapshot (``--binaries``),
#: carried into the later snapshots with their source.
BINARIES: dict[int, list[int]] = {}


def write_packages(store: Store, rng: random.Random, count: int, binaries: int) -> None:
    columns = ("pkg_hash", "pkg_name", "pkg_arch", "pkg_version", "pkg_release", "pkg_epoch",
               "pkg_sourcepackage", "pkg_buildtime", "pkg_sourcerpm",
               "pkg_srcrpm_hash")  # fmt: skip
    rows = [
        (10_000_000 + i, f"pkg{i}", "src", version(rng), "alt1", 0, 1, 1700000000, "", 0)
        for i in range(count)
    ]
    for source, name, _, ver, rel, *_ in list(rows):
        BINARIES[source] = [500_000_000 + 8 * (source - 10_000_000) + j for j in range(binaries)]
        sourcerpm = f"{name}-{ver}-{rel}.src.rpm"  # loaded with its source, as in ALT
        rows += [
            (h, f"{name}-sub{j}", "x86_64", ver, rel, 0, 0, 1700000000, sourcerpm, source)
            for j, h in enumerate(BINARIES[source])
        ]
    store.insert("Packages_buffer", columns, rows)
    write_set(store, [r[0] for r in rows], DAY)
    mapped = [(f"pkg{i}", cpe(i), "cpe", "active", "bench") for i in range(count) if i % 5]
    store.insert(
        "PackagesNameConversion",
        ("pkg_name", "pnc_result", "pnc_type", "pnc_state", "pnc_source"),
        mapped,
    )


def ranges_for(rng: random.Random, product: int) -> AffectedRange:
    shape = rng.random()
    criteria = cpe(product)
    if shape < 0.5:
        return AffectedRange(criteria, end=version(rng), end_excluded=True)
    if shape < 0.7:
        exact = version(rng)
        return AffectedRange(criteria, start=exact, end=exact)
    if shape < 0.9:
        low, high = sorted((version(rng), version(rng)))
        return AffectedRange(criteria, start=low, end=high, end_excluded=True)
    return AffectedRange(criteria, end=version(rng))


def vulnerability_rows(
    rng: random.Random, vulns: int, ranges: int, products: int, generation: int, ids: Sequence[int]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    per_vuln = ranges // vulns
    vuln_rows: list[tuple[Any, ...]] = []
    range_rows: list[tuple[Any, ...]] = []
    for n in ids:
        vuln_id = f"CVE-2030-{n:06d}"
        vuln_hash = mmhash(f"{vuln_id}/{generation}")
        # Skewed products: a few get many CVEs; a third of them exist in no branch.
        product = int(products * 1.5 * rng.random() ** 2)
        vuln_rows.append(
            (
                vuln_id,
                vuln_hash,
                "CVE",
                "generated",
                5.0,
                "MEDIUM",
                "",
                DAY,
                DAY,
                "{}",
                [],
                [],
                0,
                "nvd",
            )
        )
        seen: set[int] = set()
        for _ in range(per_vuln):
            row = cpe_match_row(vuln_id, vuln_hash, ranges_for(rng, product))
            if row[2] not in seen:
                seen.add(row[2])
                range_rows.append(row)
    return vuln_rows, range_rows


def cpu(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def timed(label: str, func: Any, who: int = resource.RUSAGE_SELF) -> tuple[float, float, Any]:
    """Run ``func``: wall seconds, CPU seconds (of ``who``) and its result."""
    start, start_cpu = time.perf_counter(), cpu(who)
    result = func()
    seconds, cpu_seconds = time.perf_counter() - start, cpu(who) - start_cpu
    load = os.getloadavg()[0]
    print(f"{label}: {seconds:.3f} s wall, {cpu_seconds:.3f} s CPU (load {load:.1f})", flush=True)
    return seconds, cpu_seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=50_000)
    parser.add_argument("--ranges", type=int, default=250_000)
    parser.add_argument("--vulns", type=int, default=25_000)
    parser.add_argument(
        "--binaries", type=int, default=2, help="Binary packages of each source package."
    )
    parser.add_argument("--changed", type=int, default=1_000)
    parser.add_argument(
        "--few", type=int, default=10, help="Changed vulnerabilities of the small incremental run."
    )
    parser.add_argument("--updated", type=int, default=100, help="Packages per new snapshot.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each kind; best counts.")
    parser.add_argument(
        "--scatter",
        action="store_true",
        help="Change vulnerabilities drawn at random (default: the first --changed ones).",
    )
    parser.add_argument(
        "--statements",
        action="store_true",
        help="Also time each statement of the incremental runs after --changed vulnerabilities "
        "(medians and ranges, wall and process CPU; the CPU includes chDB's background work).",
    )
    args = parser.parse_args()
    rng = random.Random(13)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()}", flush=True)
    subprocess.run(["uptime"], check=False)
    with tempfile.TemporaryDirectory(prefix="vuln-bench-") as tmp:
        url = f"chdb://{Path(tmp) / 'store'}"
        with open_store(url) as store:
            migrate(store)
            timed("generate and write the world", lambda: world(store, rng, args))
            full = measure_full(store, args)
            measure_incremental(store, rng, args, full)
            measure_new_snapshot(store, rng, args, full)
        measure_processes(store_url=url, home=tmp, rng=rng, args=args)
    subprocess.run(["uptime"], check=False)


def best(runs: list[tuple[float, float, Any]]) -> tuple[float, float]:
    return min(r[0] for r in runs), min(r[1] for r in runs)


def measure_full(store: Store, args: argparse.Namespace) -> tuple[float, float]:
    runs = [
        timed(f"full rematch #{n + 1}", lambda: rematch_branch(store, branch=BRANCH, full=True))
        for n in range(args.repeat)
    ]
    wall, cpu_s = best(runs)
    run = runs[-1][2]
    rate = f"{args.ranges / wall:,.0f} ranges/s, {args.packages / wall:,.0f} packages/s"
    print(f"  {run.matches} package x range pairs, {run.verdicts} verdicts")
    print(f"  best full: {wall:.3f} s wall ({rate}), {cpu_s:.3f} s CPU")
    return wall, cpu_s


def change_vulnerabilities(
    store: Store,
    rng: random.Random,
    args: argparse.Namespace,
    generation: int,
    count: int | None = None,
) -> None:
    """A new version of ``count`` vulnerabilities (default ``--changed``)."""
    count = args.changed if count is None else count
    first = range(count)
    ids = sorted(rng.sample(range(args.vulns), count)) if args.scatter else first
    vuln_rows, range_rows = vulnerability_rows(
        rng, args.vulns, args.ranges, args.packages, generation, ids
    )
    store.insert("CpeMatch", CPM_COLUMNS, range_rows)
    store.insert("Vulnerabilities", VULN_COLUMNS, vuln_rows)


def share(label: str, runs: list[tuple[float, float, Any]], full: tuple[float, float]) -> None:
    wall, cpu_s = best(runs)
    run = runs[-1][2]
    each = ", ".join(f"{100 * r[0] / full[0]:.1f}" for r in runs)
    print(f"  {label}: each run's wall time in % of the best full: {each}")
    print(
        f"  {label} ({run.kind}, {run.vulnerabilities} vulnerabilities, {run.packages} "
        f"packages): best {wall:.3f} s wall = {100 * wall / full[0]:.1f} % of full, "
        f"{cpu_s:.3f} s CPU = {100 * cpu_s / full[1]:.1f} % of full"
    )


def measure_incremental(
    store: Store, rng: random.Random, args: argparse.Namespace, full: tuple[float, float]
) -> None:
    """Incremental runs after ``--changed`` new record versions (issue 13's 5 %), then after
    ``--few``: what a run costs whatever it has to do (planning its statements, reading the
    branch's targets and verdicts, writing its parts)."""
    for count, first_generation in ((args.changed, 2), (args.few, 50)):
        runs = []
        profiles: list[list[tuple[str, float, float]]] = []
        for attempt in range(args.repeat):
            change_vulnerabilities(store, rng, args, first_generation + attempt, count=count)
            profiling = args.statements and count == args.changed
            with statement_times(store, enabled=profiling) as profile:
                runs.append(
                    timed(
                        f"incremental rematch after {count} changed vulnerabilities #{attempt + 1}",
                        lambda: rematch_branch(store, branch=BRANCH),
                    )
                )
            if profiling:
                profiles.append(profile)
        share(f"after {count} changed vulnerabilities", runs, full)
        print_statement_times(profiles)


@contextmanager
def statement_times(store: Store, *, enabled: bool) -> Iterator[list[tuple[str, float, float]]]:
    """Time each ``query`` and ``command`` of ``store`` inside the block: (the statement's
    first words, wall ms, process CPU ms) in order."""
    profile: list[tuple[str, float, float]] = []
    if not enabled:
        yield profile
        return

    def timer(method: Callable[..., Any]) -> Callable[..., Any]:
        def timed_method(sql: str, *rest: Any, **named: Any) -> Any:
            start, start_cpu = time.perf_counter(), cpu()
            try:
                return method(sql, *rest, **named)
            finally:
                wall, cpu_ms = time.perf_counter() - start, cpu() - start_cpu
                profile.append((" ".join(sql.split())[:70], 1000 * wall, 1000 * cpu_ms))

        return timed_method

    originals = {"query": store.query, "command": store.command}
    for name, method in originals.items():
        setattr(store, name, timer(method))
    try:
        yield profile
    finally:
        for name in originals:
            delattr(store, name)


def print_statement_times(profiles: list[list[tuple[str, float, float]]]) -> None:
    """Medians and ranges per statement position, over the runs that ran the same ones."""
    if not profiles:
        return
    print(f"  statement by statement, {len(profiles)} runs (ms: wall median [range], CPU median):")
    for position, (label, _, _) in enumerate(profiles[0]):
        same = [p[position] for p in profiles if len(p) > position and p[position][0] == label]
        wall = [s[1] for s in same]
        cpu_ms = [s[2] for s in same]
        print(
            f"    {statistics.median(wall):7.1f} [{min(wall):6.1f}-{max(wall):6.1f}] "
            f"{statistics.median(cpu_ms):7.1f}  {label}"
        )


def measure_new_snapshot(
    store: Store, rng: random.Random, args: argparse.Namespace, full: tuple[float, float]
) -> None:
    runs = []
    for attempt in range(args.repeat):
        write_snapshot(store, rng, args, attempt + 1)
        runs.append(
            timed(
                f"incremental rematch after a new snapshot ({args.updated} updated, removed "
                f"and added packages) #{attempt + 1}",
                lambda: rematch_branch(store, branch=BRANCH),
            )
        )
    share("after a new snapshot", runs, full)


def measure_processes(
    *, store_url: str, home: str, rng: random.Random, args: argparse.Namespace
) -> None:
    env = dict(os.environ, REPOTRACK_HOME=home)
    command = [str(Path(sys.executable).parent / "repotrack"), "vulns", "match", "-b", BRANCH,
               "--store", store_url]  # fmt: skip
    for label, extra in (("--full", ["--full"]), ("incremental", [])):
        runs = []
        for attempt in range(args.repeat):
            if not extra:
                with open_store(store_url) as store:
                    change_vulnerabilities(store, rng, args, 100 + attempt)
            runs.append(
                timed(
                    f"`repotrack vulns match {' '.join(extra)}` as a process #{attempt + 1}",
                    lambda extra=extra: subprocess.run(
                        command + extra, env=env, capture_output=True, text=True, check=False
                    ),
                    resource.RUSAGE_CHILDREN,
                )
            )
            done = runs[-1][2]
            print(f"  {done.stdout.strip() or done.stderr.strip()}")
        wall, cpu_s = best(runs)
        print(f"  process, {label}: best {wall:.3f} s wall, {cpu_s:.3f} s CPU")


def write_snapshot(store: Store, rng: random.Random, args: argparse.Namespace, day: int) -> None:
    """The branch's next snapshot: the previous set with ``--updated`` packages rebuilt at a
    new version, as many removed, and as many new ones (mapped to a CPE)."""
    current = [
        row
        for row in store.query(
            "SELECT pkg_hash, pkg_name, pkg_version FROM VulnMatchTargets WHERE "
            "pkgset_name = {b:String} AND pkg_cpe = '' AND vmt_run = (SELECT max(vmt_run) "
            "FROM VulnMatchTargets WHERE pkgset_name = {b:String})",
            {"b": BRANCH},
        )
    ]
    rng.shuffle(current)
    updated = current[: args.updated]  # the next updated ones are removed
    kept = current[2 * args.updated :]
    base = 20_000_000 + day * 1_000_000
    rows = [(h, n, v) for h, n, v in kept]
    rows += [(base + i, n, version(rng)) for i, (_, n, _) in enumerate(updated)]
    first_new = args.packages + day * args.updated
    rows += [
        (base + args.updated + i, f"pkg{first_new + i}", version(rng)) for i in range(args.updated)
    ]
    new = [r for r in rows if r[0] >= base]
    columns = ("pkg_hash", "pkg_name", "pkg_arch", "pkg_version", "pkg_release", "pkg_epoch",
               "pkg_sourcepackage", "pkg_buildtime")  # fmt: skip
    store.insert(
        "Packages_buffer", columns, [(h, n, "src", v, "alt1", 0, 1, 1700000000) for h, n, v in new]
    )
    carried = [b for h, _, _ in kept for b in BINARIES.get(h, [])]
    write_set(store, [r[0] for r in rows] + carried, DAY + timedelta(days=day))
    # The new names are mapped already (world()): a mapping change forces a full rematch.


def write_set(store: Store, hashes: list[int], day: datetime) -> None:
    root, component = uuid.uuid4(), uuid.uuid4()
    store.insert("PackageSet_buffer", ("pkgset_uuid", "pkg_hash"), [(component, h) for h in hashes])
    node = ("pkgset_uuid", "pkgset_puuid", "pkgset_ruuid", "pkgset_depth",
            "pkgset_nodename", "pkgset_date", "pkgset_tag", "pkgset_complete", "pkgset_kv.k",
            "pkgset_kv.v")  # fmt: skip
    store.insert("PackageSetName", node, [(component, root, root, 1, "srpm", day, "", 1, [], [])])
    store.insert(
        "PackageSetName",
        node,
        [(root, ZERO, root, 0, BRANCH, day, BRANCH, 1, ["class"], ["repository"])],
    )


def world(store: Store, rng: random.Random, args: argparse.Namespace) -> None:
    write_packages(store, rng, args.packages, args.binaries)
    future = range(args.packages, args.packages + (args.repeat + 1) * args.updated)
    store.insert(
        "PackagesNameConversion",
        ("pkg_name", "pnc_result", "pnc_type", "pnc_state", "pnc_source"),
        [(f"pkg{i}", cpe(i), "cpe", "active", "bench") for i in future],
    )
    vuln_rows, range_rows = vulnerability_rows(
        rng, args.vulns, args.ranges, args.packages, 1, range(args.vulns)
    )
    print(
        f"  {args.packages} source packages ({args.binaries} binaries each), "
        f"{len(vuln_rows)} vulnerabilities, {len(range_rows)} ranges"
    )
    store.insert("CpeMatch", CPM_COLUMNS, range_rows)
    store.insert("Vulnerabilities", VULN_COLUMNS, vuln_rows)


if __name__ == "__main__":
    main()
