"""Disk images (raw ``.img``, ``.img.xz``, qcow2): find the file system holding the rpmdb.

A raw image is read directly: an ext2/3/4 file system at byte 0, or a partition table
(MBR/GPT) whose ext partitions are tried in order until one holds an rpmdb. An
``.img.xz`` is first decompressed, and a qcow2 image converted with ``qemu-img
convert``, into a raw file in the work directory, each after checking that the
directory's file system has room for 1.1 times the raw size (the original's margin).
"""

from __future__ import annotations

import json
import logging
import lzma
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from repotrack.errors import InputError
from repotrack.sources.compression import DECOMPRESSION_ERRORS
from repotrack.sources.images.ext4 import ExtFileSystem, is_ext
from repotrack.sources.images.partitions import read_partitions
from repotrack.sources.images.rpmdb import RpmdbFile
from repotrack.sources.images.tree import copy_rpmdb, parse_os_release, read_os_release_text

__all__ = [
    "QCOW_MAGIC",
    "XZ_MAGIC",
    "DiskContents",
    "check_free_space",
    "raw_image",
    "read_disk",
]

log = logging.getLogger(__name__)

QCOW_MAGIC = b"QFI\xfb"
XZ_MAGIC = b"\xfd7zXZ\x00"
#: Room wanted for a decompressed or converted image, relative to its raw size.
SPACE_MARGIN = 1.1
QEMU_TIMEOUT = 3600


@dataclass(slots=True)
class DiskContents:
    """The rpmdb copied out of a disk image, where it was, and the image's own os-release."""

    rpmdb: RpmdbFile | None = None
    os_release: dict[str, str] = field(default_factory=dict)
    partition: int = 0
    os_release_text: str = ""


def check_free_space(workdir: Path, needed: int, *, source: str) -> None:
    free = shutil.disk_usage(workdir).free
    if free < needed * SPACE_MARGIN:
        raise InputError(
            f"not enough free space in {workdir}: {free} bytes free, "
            f"{int(needed * SPACE_MARGIN)} needed for the raw image",
            path=source,
        )


def raw_image(path: Path, workdir: Path) -> Path:
    """``path`` itself when raw; else a raw copy in ``workdir`` (xz or qcow2 by magic)."""
    with path.open("rb") as f:
        head = f.read(6)
    if head.startswith(QCOW_MAGIC):
        return _qcow_to_raw(path, workdir)
    if head.startswith(XZ_MAGIC):
        return _unxz(path, workdir)
    return path


def _unxz(path: Path, workdir: Path) -> Path:
    size = _xz_size(path)
    if size is not None:
        check_free_space(workdir, size, source=str(path))
    target = workdir / "image.raw"
    try:
        with lzma.open(path, "rb") as src, target.open("wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
    except DECOMPRESSION_ERRORS as exc:
        raise InputError(f"bad xz stream: {exc}", path=str(path)) from exc
    return target


def _xz_size(path: Path) -> int | None:
    """Uncompressed size from ``xz --robot --list`` (the xz index), when xz is installed."""
    tool = shutil.which("xz")
    if tool is None:
        return None
    done = subprocess.run(
        [tool, "--robot", "--list", "--", str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise InputError(f"bad xz file: {done.stderr.strip()}", path=str(path))
    for line in done.stdout.splitlines():
        fields = line.split("\t")
        if fields[0] == "totals" and len(fields) > 4:
            return int(fields[4])
    return None


def _qemu_img() -> str:
    tool = shutil.which("qemu-img")
    if tool is None:
        raise InputError("qcow2 images need qemu-img (Debian: qemu-utils)", field="--type")
    return tool


def _qcow_to_raw(path: Path, workdir: Path) -> Path:
    tool = _qemu_img()
    info = subprocess.run(
        [tool, "info", "--output=json", "-f", "qcow2", "--", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=QEMU_TIMEOUT,
    )
    if info.returncode != 0:
        raise InputError(f"not a usable qcow2 image: {info.stderr.strip()}", path=str(path))
    virtual = int(json.loads(info.stdout)["virtual-size"])
    check_free_space(workdir, virtual, source=str(path))
    target = workdir / "image.raw"
    done = subprocess.run(
        [tool, "convert", "-f", "qcow2", "-O", "raw", "--", str(path), str(target)],
        capture_output=True,
        text=True,
        check=False,
        timeout=QEMU_TIMEOUT,
    )
    if done.returncode != 0:
        raise InputError(f"qemu-img convert failed: {done.stderr.strip()}", path=str(path))
    return target


def read_disk(raw: Path, workdir: Path, *, name: str) -> DiskContents:
    """Find the ext file system with an rpmdb in the raw image ``raw`` and copy it out."""
    size = raw.stat().st_size
    with raw.open("rb") as f:
        if is_ext(f, 0):
            tree = ExtFileSystem(f, name=name)
            text = read_os_release_text(tree)
            return DiskContents(copy_rpmdb(tree, workdir), parse_os_release(text), 0, text)
        partitions = read_partitions(f, name=name, image_size=size)
        if not partitions:
            raise InputError("no partition table and no ext2/3/4 file system", path=name)
        for part in partitions:
            if not is_ext(f, part.offset):
                continue
            tree = ExtFileSystem(
                f, name=f"{name} (partition {part.number})", offset=part.offset, size=part.size
            )
            rpmdb = copy_rpmdb(tree, workdir)
            if rpmdb is not None:
                text = read_os_release_text(tree)
                return DiskContents(rpmdb, parse_os_release(text), part.number, text)
    return DiskContents()
