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
loader process also hosts the embedded ClickHouse (chDB), whose own footprint is
several hundred MiB, two more figures separate the image reading from it: the peak
memory of ``repotrack query images`` (chDB alone), and of a process that only reads
the image and computes its digests (``sources.images``, no store).
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
RPMS = HERE.parent / "tests" / "data" / "rpms"
BIN = Path(sys.executable).parent
MiB = 1 << 20

_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "t = time.monotonic(); r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "dt = time.monotonic() - t\n"
    "print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)\n"
    "sys.stderr.write(r.stdout + r.stderr)\n"
)


def measured(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of ``args`` run as one process."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *args], env=env, capture_output=True, text=True, check=True
    )
    seconds, rss, code = done.stdout.split()
    if code != "0":
        raise SystemExit(f"{args[0]} failed:\n{done.stderr}")
    return float(seconds), int(rss)


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


def report(label: str, path: Path, env: dict[str, str], kind: str) -> None:
    size = path.stat().st_size
    sha_s, sha_rss = measured(["sha256sum", str(path)], env)
    load_s, load_rss = measured(image_args(path, kind), env)
    read_s, read_rss = measured([sys.executable, "-c", _READ_ONLY, str(path), kind], env)
    print(
        f"{label}: {size / MiB:.0f} MiB\n"
        f"  load (whole process): {load_s:.2f} s = {size / MiB / load_s:.0f} MiB/s, "
        f"peak RSS {load_rss / 1024:.0f} MiB\n"
        f"  read + digests only:  {read_s:.2f} s = {size / MiB / read_s:.0f} MiB/s, "
        f"peak RSS {read_rss / 1024:.0f} MiB\n"
        f"  sha256sum:            {sha_s:.2f} s = {size / MiB / sha_s:.0f} MiB/s, "
        f"peak RSS {sha_rss / 1024:.0f} MiB\n"
        f"  load/sha256sum time ratio {load_s / sha_s:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=256, help="raw disk image size")
    parser.add_argument("--iso-mib", type=int, default=128, help="ISO image size")
    parser.add_argument("--full", action="store_true", help="the issue's sizes: 2048 and 1024")
    args = parser.parse_args()
    if args.full:
        args.size_mib, args.iso_mib = 2048, 1024
    for tool in ("rpm", "mkfs.ext4", "sfdisk", "mksquashfs", "xorriso", "sha256sum"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed")
    with tempfile.TemporaryDirectory(prefix="image-bench-") as tmp:
        base = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
        env["REPOTRACK_HOME"] = str(base / "home")
        root = rootfs(base)
        disk = raw_disk(base, root, args.size_mib)
        image = iso(base, root, args.iso_mib)
        subprocess.run(
            [str(BIN / "repotrack"), "load", "repo", "p10", str(RPMS), "--date", "2024-05-01"],
            env=env,
            check=True,
            capture_output=True,
        )
        started = time.monotonic()
        idle_s, idle_rss = measured([str(BIN / "repotrack"), "query", "images"], env)
        idle_mib = idle_rss / 1024
        print(f"chDB alone (repotrack query images): {idle_s:.2f} s, peak RSS {idle_mib:.0f} MiB")
        report("raw GPT/ext4 image", disk, env, "img")
        report("ISO with SquashFS", image, env, "iso")
        print(f"(measured in {time.monotonic() - started:.0f} s; cpu count {os.cpu_count()})")


if __name__ == "__main__":
    main()
