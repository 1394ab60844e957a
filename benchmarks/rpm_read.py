"""Header-reading throughput of repotrack.rpm against ``rpm -qp`` on the same files.

    uv run python benchmarks/rpm_read.py [--seconds 3] [RPM_OR_DIR ...]

Default input: tests/data/rpms plus ../shared/fixtures/rpm (when present). Prints
headers/s for (a) read_rpm + NAME, (b) read_rpm + every field a loader stores (files,
dependencies, changelog, pkg_hash), and (c) the baseline ``rpm -qp --qf '%{NAME}\\n'``
over the same list in one process per pass; the ratios are against (c).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from repotrack.rpm import Tag, file_paths, read_rpm

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIRS = [ROOT / "tests" / "data" / "rpms", ROOT.parent / "shared" / "fixtures" / "rpm"]
LOADER_TAGS = (
    Tag.NAME, Tag.VERSION, Tag.RELEASE, Tag.EPOCH, Tag.ARCH, Tag.SUMMARY, Tag.DESCRIPTION,
    Tag.BUILDTIME, Tag.SOURCERPM, Tag.FILEMODES, Tag.FILESIZES, Tag.FILEDIGESTS,
    Tag.FILEMTIMES, Tag.FILEFLAGS, Tag.FILEUSERNAME, Tag.FILEGROUPNAME, Tag.FILELINKTOS,
    Tag.REQUIRENAME, Tag.REQUIREFLAGS, Tag.REQUIREVERSION, Tag.PROVIDENAME,
    Tag.PROVIDEFLAGS, Tag.PROVIDEVERSION, Tag.CHANGELOGTIME, Tag.CHANGELOGNAME,
    Tag.CHANGELOGTEXT,
)  # fmt: skip


def collect(args: list[str]) -> list[Path]:
    roots = [Path(a) for a in args] or [d for d in DEFAULT_DIRS if d.exists()]
    files: list[Path] = []
    for root in roots:
        files.extend(sorted(root.rglob("*.rpm")) if root.is_dir() else [root])
    return files


def name_only(path: Path) -> None:
    read_rpm(path).header.get(Tag.NAME)


def loader_fields(path: Path) -> None:
    package = read_rpm(path)
    header = package.merged
    for tag in LOADER_TAGS:
        header.get(tag)
    file_paths(header)
    _ = package.pkg_hash


def rate(files: list[Path], seconds: float, work: Callable[[Path], None]) -> float:
    done = 0
    start = time.perf_counter()
    while True:
        for path in files:
            work(path)
        done += len(files)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def rpm_rate(files: list[Path], seconds: float) -> float | None:
    rpm = shutil.which("rpm")
    if rpm is None:
        return None
    argv = [rpm, "-qp", "--qf", "%{NAME}\\n", *map(str, files)]
    done = 0
    start = time.perf_counter()
    while True:
        subprocess.run(argv, check=True, capture_output=True)
        done += len(files)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("paths", nargs="*")
    ns = parser.parse_args()
    files = collect(ns.paths)
    size = sum(p.stat().st_size for p in files)
    print(f"{len(files)} RPM files, {size / 1e6:.1f} MB, {ns.seconds:.0f} s per measurement")
    baseline = rpm_rate(files, ns.seconds)
    results = {
        "repotrack read_rpm + NAME": rate(files, ns.seconds, name_only),
        "repotrack read_rpm + loader fields": rate(files, ns.seconds, loader_fields),
    }
    if baseline is not None:
        print(f"{'rpm -qp --qf %{NAME} (baseline)':40s} {baseline:10.0f} headers/s")
    for label, value in results.items():
        ratio = f"  x{value / baseline:.1f} vs rpm" if baseline else ""
        print(f"{label:40s} {value:10.0f} headers/s{ratio}")


if __name__ == "__main__":
    main()
