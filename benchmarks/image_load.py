"""Image load throughput: ``repotrack load image|iso`` beside ``sha256sum`` of the same file.

    uv run python benchmarks/image_load.py [--size-mib 256] [--iso-mib 128] [--full]

Two images are generated from the project's test RPMs (an SQLite rpmdb written by
``rpm --justdb``): a raw GPT disk whose ext4 partition fills the image (``mkfs.ext4
-d``, mostly empty, so the file is sparse on disk), and an ALT-style ISO (``xorriso``)
whose bulk is a zero-filled file beside a ``live`` SquashFS. ``--full`` makes them the
issue's 2 GiB and 1 GiB; the defaults are small, for a shared machine.

Each load is timed as a whole process (start-up, store open and close included),
after a repository load of the same RPMs so that every package is known. Printed:
MiB/s of the load and of ``sha256sum`` over the same file in the same run (the load
reads the whole file once for MD5, SHA-256 and GOST R 34.11-2012, so ``sha256sum`` is
its floor), their ratio, and the peak resident memory of each process. Because the
loader process also hosts the embedded ClickHouse (chDB), whose own footprint is most
of the load's, two more figures separate the image reading from it: the peak memory
of ``repotrack query images`` (chDB alone), and of a process that only reads the image
and computes its digests (``sources.images``, no store). The last line compares the
largest load's peak (sampled RSS and the kernel's VmHWM) with the issue's 300 MiB.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
RPMS = HERE.parent / "tests" / "data" / "rpms"
BIN = Path(sys.executable).parent
MiB = 1 << 20
#: The issue's memory bound for a whole image load (peak resident set, MiB).
TARGET_MIB = 300


@dataclass
class Run:
    """One whole process, descendants included: wall and CPU seconds, peak memory (KiB).

    ``rss`` is the process tree's peak resident set (every process's VmRSS added up,
    sampled from /proc every 20 ms), ``anon`` the peak of its private anonymous part
    (RssAnon + RssShmem: what the kernel cannot drop). The difference is file-backed:
    mostly pages of chDB's 530 MiB shared library, which are shared with every other
    process that maps it and which the kernel reclaims under pressure (repotrack drops
    those only its start-up used, ``store/chdb_memory.py``). ``hwm`` is the
    largest VmHWM (the kernel's own peak RSS of one process) in the tree, so a peak
    between two samples still shows.
    """

    wall: float
    cpu: float
    rss: int
    anon: int
    hwm: int


def _tree_memory(root: int, hwm: dict[int, int]) -> tuple[int, int]:
    """(VmRSS, RssAnon + RssShmem) in KiB, added up over ``root`` and its descendants;
    each one's VmHWM (its own peak, which sampling cannot miss) is kept in ``hwm``."""
    parents: dict[int, int] = {}
    fields: dict[int, dict[str, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "status").read_text()
        except OSError:
            continue
        status = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        pid = int(entry.name)
        parents[pid] = int(status.get("PPid", "0"))
        fields[pid] = status
    rss = anon = 0
    for pid, status in fields.items():
        walk = pid
        while walk not in (0, 1, root):
            walk = parents.get(walk, 0)
        if walk != root:
            continue

        def kib(key: str, status: dict[str, str] = status) -> int:
            return int(status.get(key, "0 kB").split()[0])

        rss += kib("VmRSS")
        anon += kib("RssAnon") + kib("RssShmem")
        hwm[pid] = max(hwm.get(pid, 0), kib("VmHWM"))
    return rss, anon


def measured(args: list[str], env: dict[str, str]) -> Run:
    """Run ``args`` to completion as a user would, sampling its process tree's memory."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    child = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = [0, 0]
    hwm: dict[int, int] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            rss, anon = _tree_memory(child.pid, hwm)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], anon)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        output = child.communicate()[0].decode(errors="replace")
    finally:
        stop.set()
        sampler.join()
        if child.poll() is None:
            child.kill()
            child.wait()
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{output}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, peak[0], peak[1], max(hwm.values(), default=0))


def rootfs(base: Path) -> Path:
    root = base / "root"
    binaries = [str(p) for p in sorted(RPMS.glob("*.rpm")) if not p.name.endswith(".src.rpm")]
    db = ["--root", str(root), "--dbpath", "/var/lib/rpm"]
    subprocess.run(["rpm", *db, "--initdb"], check=True, capture_output=True)
    subprocess.run(
        ["rpm", *db, "-i", "--justdb", "--nodeps", "--noscripts", *binaries],
        check=True,
        capture_output=True,
    )
    for leftover in (".rpm.lock", "rpmdb.sqlite-shm", "rpmdb.sqlite-wal"):
        (root / "var/lib/rpm" / leftover).unlink(missing_ok=True)
    (root / "etc").mkdir()
    (root / "etc/os-release").write_text('NAME="Benchmark"\nVERSION_ID=1\n')
    return root


def raw_disk(base: Path, root: Path, size_mib: int) -> Path:
    fs = base / "root.ext4"
    subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-d", str(root), str(fs), f"{size_mib - 2}M"],
        check=True,
        capture_output=True,
    )
    disk = base / "disk.img"
    with disk.open("wb") as f:
        f.truncate(size_mib * MiB)
    subprocess.run(["sfdisk", "-q", str(disk)], input="label: gpt\n,,L\n", text=True, check=True)
    with disk.open("r+b") as out, fs.open("rb") as src:
        out.seek(MiB)
        while chunk := src.read(MiB):
            if chunk.count(0) != len(chunk):
                out.write(chunk)
            else:
                out.seek(len(chunk), os.SEEK_CUR)  # keep the image sparse
    fs.unlink()
    return disk


def iso(base: Path, root: Path, size_mib: int) -> Path:
    tree = base / "iso"
    (tree / ".disk").mkdir(parents=True)
    (tree / ".disk/date").write_text("20240502\n")
    subprocess.run(
        ["mksquashfs", str(root), str(tree / "live"), "-noappend", "-quiet", "-no-progress"],
        check=True,
        capture_output=True,
    )
    with (tree / "padding.bin").open("wb") as f:
        f.truncate((size_mib - 2) * MiB)
    target = base / "image.iso"
    subprocess.run(
        ["xorriso", "-as", "mkisofs", "-R", "-o", str(target), str(tree)],
        check=True,
        capture_output=True,
    )
    shutil.rmtree(tree)
    return target


def image_args(path: Path, kind: str) -> list[str]:
    common = [
        "--edition", "alt-workstation", "--version", "10.1", "--release", "release",
        "--variant", "live" if kind == "iso" else "install", "--arch", "x86_64",
        "--branch", "p10", "--date", "2024-05-02", "--url", f"https://example.org/{path.name}",
    ]  # fmt: skip
    if kind == "iso":
        return [str(BIN / "repotrack"), "load", "iso", str(path), *common]
    return [str(BIN / "repotrack"), "load", "image", str(path), "--type", "img", *common]


_READ_ONLY = (
    "import sys, tempfile\n"
    "from pathlib import Path\n"
    "from repotrack.sources.images import image_digests, read_image\n"
    "path, kind = Path(sys.argv[1]), sys.argv[2]\n"
    "with tempfile.TemporaryDirectory() as work:\n"
    "    if kind == 'iso':\n"
    "        from repotrack.sources.images.iso import iso_squashfs\n"
    "        from repotrack.sources.images.iso9660 import IsoFileSystem\n"
    "        from repotrack.sources.images.rpmdb import read_installed\n"
    "        from repotrack.sources.images.tree import copy_rpmdb\n"
    "        with path.open('rb') as f:\n"
    "            for sq in iso_squashfs(IsoFileSystem(f, name=str(path))):\n"
    "                read_installed(copy_rpmdb(sq.fs, Path(work)))\n"
    "    else:\n"
    "        read_image(path, kind, Path(work))\n"
    "image_digests(path)\n"
)


def _line(label: str, size: int, run: Run) -> str:
    rate = f"{size / MiB / run.wall:6.0f} MiB/s" if size else " " * 12
    return (
        f"  {label:<22} {run.wall:7.2f} s wall {run.cpu:7.2f} s cpu "
        f"{rate}  peak RSS {run.rss / 1024:4.0f} MiB "
        f"(anonymous {run.anon / 1024:4.0f} MiB), one process {run.hwm / 1024:4.0f} MiB"
    )


def report(label: str, path: Path, env: dict[str, str], kind: str, runs: int) -> list[Run]:
    """Print ``runs`` rounds of sha256sum, load and read-only over ``path``; the loads."""
    loads = []
    size = path.stat().st_size
    print(f"{label}: {size / MiB:.0f} MiB ({path.stat().st_blocks * 512 / MiB:.0f} MiB on disk)")
    for number in range(1, runs + 1):
        sha = measured(["sha256sum", str(path)], env)
        load = measured([*image_args(path, kind), *(["--force"] if number > 1 else [])], env)
        read = measured([sys.executable, "-c", _READ_ONLY, str(path), kind], env)
        loads.append(load)
        print(f" run {number}:")
        print(_line("sha256sum", size, sha))
        print(_line("load (whole process)", size, load))
        print(_line("read + digests only", size, read))
        print(
            f"  load / sha256sum: {load.wall / sha.wall:.2f}x wall, {load.cpu / sha.cpu:.2f}x cpu"
        )
    return loads


def _build(cache: Path, size_mib: int, iso_mib: int) -> tuple[Path, Path]:
    """The two images, made once per size and kept in ``cache`` (benchmarks/.cache)."""
    disk = cache / f"disk-{size_mib}.img"
    image = cache / f"image-{iso_mib}.iso"
    if disk.exists() and image.exists():
        return disk, image
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="image-bench-", dir=cache) as tmp:
        base = Path(tmp)
        root = rootfs(base)
        if not disk.exists():
            raw_disk(base, root, size_mib).rename(disk)
        if not image.exists():
            iso(base, root, iso_mib).rename(image)
    return disk, image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=256, help="raw disk image size")
    parser.add_argument("--iso-mib", type=int, default=128, help="ISO image size")
    parser.add_argument("--full", action="store_true", help="the issue's sizes: 2048 and 1024")
    parser.add_argument("--runs", type=int, default=3, help="loads of each image")
    parser.add_argument("--cache", type=Path, default=HERE / ".cache", help="where images are kept")
    args = parser.parse_args()
    if args.full:
        args.size_mib, args.iso_mib = 2048, 1024
    for tool in ("rpm", "mkfs.ext4", "sfdisk", "mksquashfs", "xorriso", "sha256sum"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed")
    disk, image = _build(args.cache, args.size_mib, args.iso_mib)
    with tempfile.TemporaryDirectory(prefix="image-bench-") as tmp:
        base = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
        env["REPOTRACK_HOME"] = str(base / "home")
        subprocess.run(
            [str(BIN / "repotrack"), "load", "repo", "p10", str(RPMS), "--date", "2024-05-01"],
            env=env,
            check=True,
            capture_output=True,
        )
        started = time.monotonic()
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
        print("whole processes; cpu = user + system of the process and its descendants;")
        print("peak RSS = the process tree's resident memory, anonymous = its private part")
        idle = measured([str(BIN / "repotrack"), "query", "images"], env)
        print("chDB alone:")
        print(_line("query images", 0, idle))
        loads = report("raw GPT/ext4 image", disk, env, "img", args.runs)
        loads += report("ISO with SquashFS", image, env, "iso", args.runs)
        rss, hwm = max(run.rss for run in loads), max(run.hwm for run in loads)
        print(
            f"largest load: peak RSS {rss / 1024:.0f} MiB, VmHWM {hwm / 1024:.0f} MiB; "
            f"target {TARGET_MIB} MiB: {'met' if max(rss, hwm) < TARGET_MIB * 1024 else 'NOT met'}"
        )
        print(
            f"(measured in {time.monotonic() - started:.0f} s; "
            f"load average {os.getloadavg()[0]:.1f} at the end)"
        )


if __name__ == "__main__":
    main()
