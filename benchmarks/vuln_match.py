"""Full and incremental rematch of one branch: 50 000 packages × 250 000 CpeMatch rows.

The world is generated with realistic shapes: source packages with versions such as
``1.12.3``, ``2.0~rc1``, ``20240101`` and ``5.15.0^git1``; 80 % of them mapped to a
CPE (``PackagesNameConversion``); 25 000 vulnerabilities whose ranges (NVD style:
open start, ``versionEndExcluding``, exact versions, start-and-end pairs) name
products drawn with a skew (a few products have hundreds of CVEs, most have a few),
and a third name products no package maps to. Rows are written straight into the
store through the loader's own row builder (``ingest.vulns.cpe_match_row``), so the
keys are the ones a real load writes.

Measured, in this process: the full rematch (``security.rematch_branch(full=True)``),
then an incremental rematch after 1 000 vulnerabilities got a new version, each
``--repeat`` times (the machine is shared: the best run is the figure); and the
whole ``repotrack vulns match`` command as a process (start-up, imports, store open).
Targets (issue 13): full under 10 s (aim 3 s); incremental under 5 % of full.

Run: ``uv run python benchmarks/vuln_match.py [--packages 50000] [--ranges 250000]``
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
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


def write_packages(store: Store, rng: random.Random, count: int) -> None:
    root, component = uuid.uuid4(), uuid.uuid4()
    columns = ("pkg_hash", "pkg_name", "pkg_arch", "pkg_version", "pkg_release", "pkg_epoch",
               "pkg_sourcepackage", "pkg_buildtime")  # fmt: skip
    rows = [
        (10_000_000 + i, f"pkg{i}", "src", version(rng), "alt1", 0, 1, 1700000000)
        for i in range(count)
    ]
    store.insert("Packages_buffer", columns, rows)
    store.insert(
        "PackageSet_buffer", ("pkgset_uuid", "pkg_hash"), [(component, r[0]) for r in rows]
    )
    node = ("pkgset_uuid", "pkgset_puuid", "pkgset_ruuid", "pkgset_depth",
            "pkgset_nodename", "pkgset_date", "pkgset_tag", "pkgset_complete", "pkgset_kv.k",
            "pkgset_kv.v")  # fmt: skip
    store.insert("PackageSetName", node, [(component, root, root, 1, "srpm", DAY, "", 1, [], [])])
    store.insert(
        "PackageSetName",
        node,
        [(root, ZERO, root, 0, BRANCH, DAY, BRANCH, 1, ["class"], ["repository"])],
    )
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
    rng: random.Random, vulns: int, ranges: int, products: int, generation: int, ids: range
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    per_vuln = ranges // vulns
    vuln_rows, range_rows = [], []
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


def timed(label: str, func: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    print(f"{label}: {seconds:.2f} s", flush=True)
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=50_000)
    parser.add_argument("--ranges", type=int, default=250_000)
    parser.add_argument("--vulns", type=int, default=25_000)
    parser.add_argument("--changed", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each kind; best counts.")
    args = parser.parse_args()
    rng = random.Random(13)
    with tempfile.TemporaryDirectory(prefix="vuln-bench-") as tmp:
        url = f"chdb://{Path(tmp) / 'store'}"
        with open_store(url) as store:
            migrate(store)
            timed("generate and write the world", lambda: world(store, rng, args))
            full = measure_full(store, args)
            measure_incremental(store, rng, args, full)
        env = dict(os.environ, REPOTRACK_HOME=tmp)
        command = [str(Path(sys.executable).parent / "repotrack"), "vulns", "match", "-b",
                   BRANCH, "--full", "--store", url]  # fmt: skip
        _, done = timed(
            "`repotrack vulns match --full` as a process",
            lambda: subprocess.run(command, env=env, capture_output=True, text=True, check=False),
        )
        print(f"  {done.stdout.strip() or done.stderr.strip()}")


def measure_full(store: Store, args: argparse.Namespace) -> float:
    best, run = float("inf"), None
    for attempt in range(args.repeat):
        seconds, run = timed(
            f"full rematch #{attempt + 1}",
            lambda: rematch_branch(store, branch=BRANCH, full=True),
        )
        best = min(best, seconds)
    assert run is not None
    rate = f"{args.ranges / best:,.0f} ranges/s, {args.packages / best:,.0f} packages/s"
    print(
        f"  {run.matches} package x range pairs, {run.verdicts} verdicts; best {best:.2f} s: {rate}"
    )
    return best


def measure_incremental(
    store: Store, rng: random.Random, args: argparse.Namespace, full: float
) -> None:
    best, run = float("inf"), None
    for attempt in range(args.repeat):
        vuln_rows, range_rows = vulnerability_rows(
            rng, args.vulns, args.ranges, args.packages, 2 + attempt, range(args.changed)
        )
        store.insert("CpeMatch", CPM_COLUMNS, range_rows)
        store.insert("Vulnerabilities", VULN_COLUMNS, vuln_rows)
        seconds, run = timed(
            f"incremental rematch #{attempt + 1}", lambda: rematch_branch(store, branch=BRANCH)
        )
        best = min(best, seconds)
    assert run is not None
    share = f"{100 * best / full:.1f} % of the best full rematch"
    print(
        f"  {run.kind}: {run.vulnerabilities} changed vulnerabilities; best {best:.2f} s = {share}"
    )


def world(store: Store, rng: random.Random, args: argparse.Namespace) -> None:
    write_packages(store, rng, args.packages)
    vuln_rows, range_rows = vulnerability_rows(
        rng, args.vulns, args.ranges, args.packages, 1, range(args.vulns)
    )
    print(f"  {args.packages} packages, {len(vuln_rows)} vulnerabilities, {len(range_rows)} ranges")
    store.insert("CpeMatch", CPM_COLUMNS, range_rows)
    store.insert("Vulnerabilities", VULN_COLUMNS, vuln_rows)


if __name__ == "__main__":
    main()
