"""ext2/3/4 read against what e2fsprogs wrote and what debugfs reads back."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from repotrack.sources.images.ext4 import ExtFileSystem
from tests.conftest import need_tool

#: 1969-12-31 00:00 UTC, and 2109-03-03 (past 2106: the 32-bit field holds 1973-03-03,
#: the epoch bits in i_mtime_extra add 2**32).
BEFORE_1970 = -86400
AFTER_2106 = (1 << 32) + 100_000_000


def _mkfs(root: Path, image: Path, *options: str) -> Path:
    mkfs = need_tool("mkfs.ext4")
    subprocess.run(
        [mkfs, "-q", "-F", *options, "-d", str(root), str(image), "8M"],
        check=True,
        capture_output=True,
    )
    return image


def _debugfs_mtime(image: Path, path: str) -> int:
    """The mtime as debugfs decodes it: the signed 32-bit field plus the epoch bits."""
    debugfs = need_tool("debugfs")
    out = subprocess.run(
        [debugfs, "-R", f"stat {path}", str(image)], check=True, capture_output=True, text=True
    ).stdout
    line = next(x for x in out.splitlines() if x.strip().startswith("mtime:"))
    raw = line.split()[1]
    low, _, extra = raw.partition(":")
    seconds = int(low, 16)
    seconds -= (seconds & 0x80000000) << 1
    return seconds + ((int(extra or "0", 16) & 3) << 32)


@pytest.mark.parametrize("inode_size", ["128", "256"])
def test_mtime_before_1970_is_negative(tmp_path: Path, inode_size: str) -> None:
    """i_mtime is signed: 0xfffeae80 is 1969-12-31, not 2106 (as debugfs and the kernel)."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "old").write_text("old\n")
    os.utime(root / "old", (BEFORE_1970, BEFORE_1970))
    image = _mkfs(root, tmp_path / "fs.img", "-I", inode_size)
    assert _debugfs_mtime(image, "/old") == BEFORE_1970
    with image.open("rb") as f:
        entry = ExtFileSystem(f, name=str(image)).lookup("old")
    assert entry is not None and entry.mtime == BEFORE_1970


def test_mtime_after_2106_takes_the_epoch_bits(tmp_path: Path) -> None:
    """With 256-byte inodes the low two bits of i_mtime_extra extend the seconds."""
    debugfs = need_tool("debugfs")
    root = tmp_path / "root"
    root.mkdir()
    (root / "future").write_text("future\n")
    image = _mkfs(root, tmp_path / "fs.img", "-I", "256")
    for field, value in (("mtime", "100000000"), ("mtime_extra", "1")):
        subprocess.run(
            [debugfs, "-w", "-R", f"sif /future {field} {value}", str(image)],
            check=True,
            capture_output=True,
        )
    assert _debugfs_mtime(image, "/future") == AFTER_2106
    with image.open("rb") as f:
        entry = ExtFileSystem(f, name=str(image)).lookup("future")
    assert entry is not None and entry.mtime == AFTER_2106
