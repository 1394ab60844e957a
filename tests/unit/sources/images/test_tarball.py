"""Root file system tarballs: every compression, the sysimage rpmdb location, bad archives."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import zstandard

from repotrack.errors import InputError
from repotrack.sources.images import read_image
from tests.unit.sources.images.imageutil import (
    binary_hashes,
    make_rootfs,
    make_tar,
    wal_snapshot,
)


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:xz", "w:bz2"])
def test_tarball_compressions(rootfs: Path, tmp_path: Path, mode: str) -> None:
    tar = make_tar(rootfs, tmp_path / "rootfs.tar", mode)
    work = tmp_path / "work"
    work.mkdir()
    contents = read_image(tar, "tar", work)
    assert {p.pkg_hash for p in contents.packages} == binary_hashes()
    assert contents.os_release["VERSION_ID"] == "10.1"  # the image's, through its symlink
    assert contents.rpmdb_format == "sqlite"


def test_zstd_tarball(rootfs: Path, tmp_path: Path) -> None:
    plain = make_tar(rootfs, tmp_path / "rootfs.tar")
    packed = tmp_path / "rootfs.tar.zst"
    with plain.open("rb") as src, packed.open("wb") as out:
        zstandard.ZstdCompressor().copy_stream(src, out)
    work = tmp_path / "work"
    work.mkdir()
    assert {p.pkg_hash for p in read_image(packed, "tar", work).packages} == binary_hashes()


def test_sysimage_rpmdb_behind_a_var_lib_rpm_symlink(tmp_path: Path) -> None:
    root = make_rootfs(tmp_path / "root", dbpath="/usr/lib/sysimage/rpm")
    (root / "var/lib").mkdir(parents=True)
    (root / "var/lib/rpm").symlink_to("../../usr/lib/sysimage/rpm")
    tar = make_tar(root, tmp_path / "fedora.tar.gz", "w:gz")
    work = tmp_path / "work"
    work.mkdir()
    contents = read_image(tar, "tar", work)
    assert contents.rpmdb.endswith(":/var/lib/rpm/rpmdb.sqlite")
    assert {p.pkg_hash for p in contents.packages} == binary_hashes()


def test_truncated_tarball_is_refused(rootfs: Path, tmp_path: Path) -> None:
    tar = make_tar(rootfs, tmp_path / "rootfs.tar.xz", "w:xz")
    cut = tmp_path / "cut.tar.xz"
    cut.write_bytes(tar.read_bytes()[: tar.stat().st_size // 2])
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(InputError, match=r"cut\.tar\.xz"):
        read_image(cut, "tar", work)


def test_not_a_tarball_and_no_rpmdb(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"\x01" * 4096)
    with pytest.raises(InputError, match="not a tar archive"):
        read_image(junk, "tar", work)
    empty = tmp_path / "empty"
    (empty / "etc").mkdir(parents=True)
    shutil.copy(__file__, empty / "etc/hostname")
    with pytest.raises(InputError, match="no rpmdb found"):
        read_image(make_tar(empty, tmp_path / "empty.tar"), "tar", work)


def test_uncheckpointed_wal_is_read(rootfs: Path, tmp_path: Path) -> None:
    """An image built without a final checkpoint: the last change lives in rpmdb.sqlite-wal."""
    work = tmp_path / "work"
    work.mkdir()
    tar = make_tar(wal_snapshot(rootfs, tmp_path), tmp_path / "wal.tar")
    assert len(read_image(tar, "tar", work).packages) == len(binary_hashes()) - 1


def _gnu_tar(root: Path, target: Path, members: list[str], *options: str) -> Path:
    """``members`` archived by GNU tar in exactly this order (no recursion)."""
    import subprocess

    from tests.conftest import need_tool

    listing = target.with_suffix(".list")
    listing.write_text("\n".join(members) + "\n")
    tar = need_tool("tar")
    subprocess.run(
        [tar, "-C", str(root), "--no-recursion", "-T", str(listing), *options, "-cf", str(target)],
        check=True,
        capture_output=True,
    )
    return target


def _members(root: Path) -> list[str]:
    """Every path under ``root`` (symlinks to directories included), parents first, sorted."""
    return sorted(f"./{p.relative_to(root)}" for p in root.rglob("*"))


def test_zstd_tarball_of_several_frames(rootfs: Path, tmp_path: Path) -> None:
    """zstd files may hold several frames (pzstd writes one per chunk, ``cat a.zst b.zst``
    is valid): all are read, as ``zstd -d`` reads them, not just the first."""
    plain = make_tar(rootfs, tmp_path / "rootfs.tar").read_bytes()
    cut = len(plain) // 2 // 512 * 512
    packed = tmp_path / "rootfs.tar.zst"
    packed.write_bytes(
        zstandard.ZstdCompressor().compress(plain[:cut])
        + zstandard.ZstdCompressor().compress(plain[cut:])
    )
    assert zstandard.ZstdDecompressor().decompressobj().decompress(packed.read_bytes()) != plain
    work = tmp_path / "work"
    work.mkdir()
    assert {p.pkg_hash for p in read_image(packed, "tar", work).packages} == binary_hashes()


@pytest.mark.parametrize("fmt", ["gnu", "pax"])
def test_rpmdb_and_os_release_as_hard_links(tmp_path: Path, fmt: str) -> None:
    """A hard link member names the earlier member holding the bytes (by its archive path,
    as ostree checkouts share files): the rpmdb and os-release are read through it."""
    import os

    root = make_rootfs(tmp_path / "root")
    (root / "aaa").mkdir()
    os.link(root / "var/lib/rpm/rpmdb.sqlite", root / "aaa/db-object")
    (root / "etc/os-release").unlink()
    os.link(root / "usr/lib/os-release", root / "aaa/os-release-object")
    os.link(root / "usr/lib/os-release", root / "etc/os-release")
    tar = _gnu_tar(root, tmp_path / "hard.tar", _members(root), f"--format={fmt}")
    work = tmp_path / "work"
    work.mkdir()
    contents = read_image(tar, "tar", work)
    assert {p.pkg_hash for p in contents.packages} == binary_hashes()
    assert contents.os_release["VERSION_ID"] == "10.1"


def test_var_lib_rpm_linked_to_another_directory(tmp_path: Path) -> None:
    """rpm-ostree keeps the rpmdb in usr/share/rpm with var/lib/rpm a symlink to it: the
    link leads to members that no rpmdb path names, which are then read too."""
    root = make_rootfs(tmp_path / "root", dbpath="/usr/share/rpm")
    (root / "var/lib").mkdir(parents=True)
    (root / "var/lib/rpm").symlink_to("../../usr/share/rpm")
    tar = _gnu_tar(root, tmp_path / "ostree.tar", _members(root), "--format=gnu")
    work = tmp_path / "work"
    work.mkdir()
    contents = read_image(tar, "tar", work)
    assert contents.rpmdb.endswith(":/var/lib/rpm/rpmdb.sqlite")
    assert {p.pkg_hash for p in contents.packages} == binary_hashes()


def test_zstd_tarball_opening_with_a_skippable_frame(rootfs: Path, tmp_path: Path) -> None:
    """pzstd (and seekable zstd) start the file with a skippable frame (magic
    0x184D2A5?), which ``zstd -d`` passes over: such a tarball is zstd, not plain."""
    import struct
    import subprocess

    from tests.conftest import need_tool

    plain = make_tar(rootfs, tmp_path / "rootfs.tar")
    by_hand = tmp_path / "skippable.tar.zst"
    note = b"frame index"
    by_hand.write_bytes(
        struct.pack("<II", 0x184D2A5E, len(note))
        + note
        + zstandard.ZstdCompressor().compress(plain.read_bytes())
    )
    packed = [by_hand]
    if shutil.which("pzstd"):
        pz = tmp_path / "rootfs.tar.pz"
        subprocess.run(
            [need_tool("pzstd"), "-q", "-p", "2", str(plain), "-o", str(pz)],
            check=True,
            capture_output=True,
        )
        assert pz.read_bytes()[:4] == struct.pack("<I", 0x184D2A50)
        packed.append(pz)
    for path in packed:
        work = tmp_path / f"work-{path.name}"
        work.mkdir()
        assert {p.pkg_hash for p in read_image(path, "tar", work).packages} == binary_hashes()
