"""Disk images: bare ext4/ext2, GPT and MBR partitioned raw disks, qcow2, .img.xz, damage."""

from __future__ import annotations

import io
import json
import lzma
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.sources.images import read_image
from repotrack.sources.images.ext4 import ExtFileSystem
from tests.conftest import need_tool
from tests.unit.sources.images.imageutil import (
    MiB,
    binary_hashes,
    make_disk,
    make_ext,
    make_qcow2,
    wal_snapshot,
)


@pytest.fixture(scope="module")
def ext4(rootfs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_ext(rootfs, tmp_path_factory.mktemp("ext4") / "root.ext4")


@pytest.fixture(scope="module")
def gpt_disk(ext4: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_disk(ext4, tmp_path_factory.mktemp("disk") / "disk.img")


def _read(path: Path, kind: str, tmp_path: Path) -> set[int]:
    work = tmp_path / f"work-{path.name}"
    work.mkdir()
    contents = read_image(path, kind, work)
    assert contents.os_release["NAME"] == "ALT Workstation"
    return {p.pkg_hash for p in contents.packages}


@pytest.mark.parametrize("fstype", ["ext4", "ext2"])
def test_bare_file_system(rootfs: Path, tmp_path: Path, fstype: str) -> None:
    fs = make_ext(rootfs, tmp_path / f"root.{fstype}", fstype=fstype)
    assert _read(fs, "img", tmp_path) == binary_hashes()


def test_gpt_and_mbr_disks(ext4: Path, gpt_disk: Path, tmp_path: Path) -> None:
    assert _read(gpt_disk, "img", tmp_path) == binary_hashes()
    mbr = make_disk(ext4, tmp_path / "mbr.img", label="dos")
    assert _read(mbr, "img", tmp_path) == binary_hashes()


def test_qcow2_and_xz(gpt_disk: Path, tmp_path: Path) -> None:
    qcow = make_qcow2(gpt_disk, tmp_path / "disk.qcow2")
    assert _read(qcow, "qcow", tmp_path) == binary_hashes()
    packed = tmp_path / "disk.img.xz"
    with gpt_disk.open("rb") as src, lzma.open(packed, "wb", preset=0) as out:
        shutil.copyfileobj(src, out)
    assert _read(packed, "img", tmp_path) == binary_hashes()


def test_file_contents_and_walk_match_the_directory(rootfs: Path, ext4: Path) -> None:
    with ext4.open("rb") as f:
        fs = ExtFileSystem(f, name="root.ext4")
        out = io.BytesIO()
        fs.copy_out("var/lib/rpm/rpmdb.sqlite", out)
        assert out.getvalue() == (rootfs / "var/lib/rpm/rpmdb.sqlite").read_bytes()
        walked = {e.path for e in fs.walk()}
        expected = {"/" + str(p.relative_to(rootfs)) for p in rootfs.rglob("*")}
        assert expected <= walked  # plus lost+found
        link = fs.lookup("etc/os-release")
        assert link is not None and link.kind == "file"  # followed to usr/lib/os-release


def test_uncheckpointed_wal_in_ext4(rootfs: Path, tmp_path: Path) -> None:
    fs = make_ext(wal_snapshot(rootfs, tmp_path), tmp_path / "wal.ext4")
    work = tmp_path / "work"
    work.mkdir()
    assert len(read_image(fs, "img", work).packages) == len(binary_hashes()) - 1


def test_logical_partition(ext4: Path, tmp_path: Path) -> None:
    sfdisk = need_tool("sfdisk")
    disk = tmp_path / "logical.img"
    fs_mib = (ext4.stat().st_size + MiB - 1) // MiB
    with disk.open("wb") as f:
        f.truncate((fs_mib + 12) * MiB)
    script = f"label: dos\n,4M,L\n,,E\n,{fs_mib}M,L\n"
    subprocess.run([sfdisk, "-q", str(disk)], input=script, text=True, check=True)
    dump = subprocess.run([sfdisk, "-J", str(disk)], capture_output=True, text=True, check=True)
    start = json.loads(dump.stdout)["partitiontable"]["partitions"][2]["start"]
    with disk.open("r+b") as out:
        out.seek(start * 512)
        out.write(ext4.read_bytes())
    assert _read(disk, "img", tmp_path) == binary_hashes()


def test_hashed_directory_and_block_map(tmp_path: Path) -> None:
    """A directory large enough for an htree index, on ext4 and on ext2 (block maps)."""
    root = tmp_path / "tree"
    big = root / "usr/share/many"
    big.mkdir(parents=True)
    for i in range(3000):
        (big / f"entry-{i:05d}.txt").write_text(f"{i}\n")
    (root / "usr/share/large.bin").write_bytes(bytes(range(256)) * 20000)  # indirect blocks
    for fstype in ("ext4", "ext2"):
        fs = make_ext(root, tmp_path / f"many.{fstype}", size_mib=32, fstype=fstype)
        with fs.open("rb") as f:
            tree = ExtFileSystem(f, name=fs.name)
            found = tree.lookup("usr/share/many/entry-02999.txt")
            assert found is not None and found.size == 5
            out = io.BytesIO()
            tree.copy_out("usr/share/large.bin", out)
            assert out.getvalue() == (root / "usr/share/large.bin").read_bytes()
            names = [e.path for e in tree.walk() if e.path.startswith("/usr/share/many/")]
            assert len(names) == 3000


def test_symlink_loop_is_not_followed_forever(tmp_path: Path) -> None:
    root = tmp_path / "loop"
    (root / "var/lib").mkdir(parents=True)
    (root / "var/lib/rpm").symlink_to("../lib/rpm")  # points at itself
    (root / "etc").mkdir()
    (root / "etc/os-release").symlink_to("/etc/os-release")
    fs = make_ext(root, tmp_path / "loop.ext4", size_mib=4)
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(InputError, match=r"loop\.ext4: no rpmdb found"):
        read_image(fs, "img", work)


def test_partition_past_the_end(gpt_disk: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.img"
    cut.write_bytes(gpt_disk.read_bytes()[: 8 * MiB])
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(InputError, match=r"cut\.img.*partition 2.*past the end"):
        read_image(cut, "img", work)


def test_mbr_entry_pointing_past_the_end(ext4: Path, tmp_path: Path) -> None:
    disk = make_disk(ext4, tmp_path / "mbr.img", label="dos")
    raw = bytearray(disk.read_bytes())
    struct.pack_into("<I", raw, 446 + 16 + 12, 10_000_000)  # partition 2: 5 GB of sectors
    disk.write_bytes(bytes(raw))
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(InputError, match="past the end"):
        read_image(disk, "img", work)


def test_truncated_file_system(ext4: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.ext4"
    cut.write_bytes(ext4.read_bytes()[: 3 * MiB])
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(InputError, match=r"cut\.ext4.*truncated"):
        read_image(cut, "img", work)


def test_wrong_magic(tmp_path: Path) -> None:
    junk = tmp_path / "junk.img"
    junk.write_bytes(b"\x07" * (2 * MiB))
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(InputError, match=r"junk\.img.*no partition table"):
        read_image(junk, "img", work)
    fake_qcow = tmp_path / "fake.qcow2"
    fake_qcow.write_bytes(b"QFI\xfb" + b"\0" * 100)
    with pytest.raises(InputError, match=r"fake\.qcow2"):
        read_image(fake_qcow, "qcow", work)
