"""A repository's advisories loaded as a user loads them, beside reading the same file.

    uv run python benchmarks/updateinfo_load.py [--updates 6000] [--new 50] [--runs 3]

The file is a generated ``updateinfo.xml.gz`` in the shape of a Rocky Linux 8 AppStream
one (the largest of a release's repositories): ``--updates`` advisories, a third of
them bugfix or enhancement ones, each with 0-4 CVE references and a Bugzilla link, and
1-12 source packages of 1-6 binaries each, for two architectures (one collection each)
plus noarch; one advisory in eight is a module update whose collection carries a
``<module>``. Every name and build is drawn from a seed, so the counts are known.

Every figure is a whole process, timed from start to exit (interpreter start, imports,
store open and close), CPU being user + system of the process and its descendants:

- the baseline: one Python process that decompresses the file and walks every
  ``<package>`` with the standard library's ``iterparse``, the least any Python reader
  of this file does;
- ``repotrack load vulns updateinfo REPODATA`` into a fresh embedded store whose schema
  was made beforehand (untimed): every advisory is new;
- the same command again: every advisory is already stored, nothing is written;
- the daily case: the next day's file, ``--new`` advisories more.

After the first load the stored counts are checked against the generator's:
``Vulnerabilities`` holds one current row per advisory and ``CpeMatch`` one row per
distinct name (binary or source) of its release's stream; a load that stored another
number stops the benchmark.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

from whole_process import fresh_store, repotrack_command, stored_number, timed

COUNTS = (
    "SELECT (SELECT uniqExact(vuln_id) FROM Vulnerabilities), (SELECT count() FROM CpeMatch "
    "WHERE (vuln_id, vuln_hash) IN (SELECT vuln_id, argMax(vuln_hash, ts) FROM Vulnerabilities "
    "GROUP BY vuln_id))"
)

BASELINE = """
import gzip, sys
from xml.etree.ElementTree import iterparse
updates = packages = 0
with gzip.open(sys.argv[1]) as stream:
    for _, element in iterparse(stream):
        if element.tag == "package":
            packages += 1
            element.get("name"), element.get("version"), element.get("release")
        elif element.tag == "update":
            updates += 1
            element.clear()
print(updates, packages)
"""

ARCHES = ("x86_64", "aarch64")


def update(rng: random.Random, number: int) -> tuple[str, int]:
    """One ``<update>`` and the distinct names (binary and source) it fixes."""
    kind = rng.choices(("security", "bugfix", "enhancement"), (4, 1, 1))[0]
    prefix = {"security": "RLSA", "bugfix": "RLBA", "enhancement": "RLEA"}[kind]
    advisory = f"{prefix}-2024:{number:05d}"
    module = rng.random() < 0.125
    cves = rng.randint(1, 4) if kind == "security" else 0
    refs = "".join(
        f'<reference href="https://access.redhat.com/security/cve/CVE-2024-{number:05d}{c}" '
        f'id="CVE-2024-{number:05d}{c}" type="cve" title="CVE"/>'
        for c in range(cves)
    )
    refs += (
        f'<reference href="https://bugzilla.redhat.com/{number}" id="{number}" type="bugzilla"/>'
    )
    names: set[str] = set()
    collections = []
    sources = []
    for s in range(rng.randint(1, 12)):
        source = f"pkg{rng.randint(0, 20_000)}-{s}"
        version = f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}"
        release = f"{rng.randint(1, 40)}.el8_{rng.randint(0, 9)}"
        if module:
            release += f".module+el8.9.0+{rng.randint(1000, 9999)}+{rng.getrandbits(32):08x}"
        epoch = rng.choice(("0", "0", "0", "1"))
        binaries = [source] + [f"{source}-sub{b}" for b in range(rng.randint(0, 5))]
        sources.append((source, epoch, version, release, binaries))
        names.add(source)
        names.update(binaries)
    for arch in ARCHES:
        packages = "".join(
            f"<package name={quoteattr(b)} epoch={quoteattr(e)} version={quoteattr(v)} "
            f"release={quoteattr(r)} arch={quoteattr(arch)} "
            f"src={quoteattr(f'{s}-{v}-{r}.src.rpm')}>"
            f"<filename>{b}-{v}-{r}.{arch}.rpm</filename>"
            f'<sum type="sha256">{rng.getrandbits(256):064x}</sum></package>'
            for s, e, v, r, bins in sources
            for b in bins
        )
        extra = (
            f'<module name="mod{number}" stream="1" version="8090020240101" '
            f'context="{rng.getrandbits(32):08x}" arch="{arch}"/>'
            if module
            else ""
        )
        collections.append(
            f'<collection short="rocky-linux-8-{arch}-appstream-rpms">'
            f"<name>Rocky Linux 8 AppStream</name>{extra}{packages}</collection>"
        )
    text = (
        f'<update from="releng@rockylinux.org" status="final" type="{kind}" version="2">'
        f"<id>{advisory}</id><title>Moderate: update of {len(sources)} packages</title>"
        f'<issued date="2024-{1 + number % 12:02d}-{1 + number % 28:02d} 10:00:00"/>'
        f'<updated date="2024-{1 + number % 12:02d}-{1 + number % 28:02d} 10:00:00"/>'
        f"<rights>Copyright</rights><release>Rocky Linux 8</release><pushcount>1</pushcount>"
        f"<severity>Moderate</severity><summary>An update.</summary>"
        f"<description>{'Fixes. ' * rng.randint(5, 60)}</description>"
        f"<references>{refs}</references><pkglist>{''.join(collections)}</pkglist></update>"
    )
    return text, len(names)


def write_updateinfo(repodata: Path, updates: int, *, seed: int = 11) -> int:
    """Write ``repodata/<n>-updateinfo.xml.gz``; return the distinct ranges in all."""
    rng = random.Random(seed)
    repodata.mkdir(parents=True, exist_ok=True)
    ranges = 0
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<updates>']
    for number in range(updates):
        text, names = update(rng, number)
        parts.append(text)
        ranges += names
    parts.append("</updates>\n")
    target = repodata / f"{updates:08x}-updateinfo.xml.gz"
    target.write_bytes(gzip.compress("\n".join(parts).encode(), compresslevel=6))
    return ranges


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=6000)
    parser.add_argument("--new", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-updateinfo-"))
    try:
        today, tomorrow = work / "today" / "repodata", work / "tomorrow" / "repodata"
        ranges = write_updateinfo(today, args.updates)
        write_updateinfo(tomorrow, args.updates + args.new)
        (file,) = today.iterdir()
        size = file.stat().st_size / 2**20
        opened = len(gzip.decompress(file.read_bytes())) / 2**20
        print(
            f"updateinfo: {args.updates} advisories, {ranges} distinct ranges "
            f"({size:.1f} MiB gzip, {opened:.0f} MiB XML); {os.cpu_count()} CPUs"
        )
        print("every time is a whole process (start to exit); cpu = user + system")
        command = [repotrack_command(), "load", "vulns", "updateinfo"]
        for run in range(1, args.runs + 1):
            base = timed([sys.executable, "-c", BASELINE, str(file)])
            env = fresh_store(work / f"home-{run}")
            first = timed([*command, str(today)], env)
            stored = stored_number(env, COUNTS)
            if stored != [args.updates, ranges]:
                sys.exit(f"stored {stored}, generated {[args.updates, ranges]}")
            again = timed([*command, str(today)], env)
            daily = timed([*command, str(tomorrow)], env)
            shutil.rmtree(work / f"home-{run}", ignore_errors=True)
            load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
            print(f"run {run} (machine load average {load}):")
            print(f"  iterparse baseline {base[0]:6.2f} s wall {base[1]:6.2f} s cpu")
            print(
                f"  first load     {first[0]:6.2f} s wall {first[1]:6.2f} s cpu  "
                f"{args.updates / first[0]:7.0f} advisories/s {ranges / first[0]:8.0f} ranges/s"
                f"   / baseline: {first[0] / base[0]:.2f}x wall"
            )
            print(f"    {first[2]}")
            print(
                f"  again          {again[0]:6.2f} s wall {again[1]:6.2f} s cpu  "
                f"/ first load: {again[0] / first[0]:.1%}"
            )
            print(
                f"  next day (+{args.new}) {daily[0]:6.2f} s wall {daily[1]:6.2f} s cpu  "
                f"/ first load: {daily[0] / first[0]:.1%}"
            )
            print(f"    {daily[2]}")
            print(f"  stored: {stored[0]} advisories, {stored[1]} ranges (as generated)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
