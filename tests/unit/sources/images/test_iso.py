"""ISO 9660 with Rock Ridge (xorriso): .disk metadata, volume data, RPM headers, SquashFS."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.rpm import read_rpm
from repotrack.sources.images.iso import disk_info, iso_rpms, iso_squashfs, isoinfo_text
from repotrack.sources.images.iso9660 import IsoFileSystem
from tests.unit.sources.images.imageutil import BINARY_RPMS, alt_iso_tree, make_iso


@pytest.fixture(scope="module")
def iso(rootfs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("iso")
    return make_iso(alt_iso_tree(base, rootfs), base / "alt.iso")


def test_alt_iso_contents(iso: Path) -> None:
    with iso.open("rb") as f:
        fs = IsoFileSystem(f, name=str(iso))
        assert fs.rock_ridge
        assert disk_info(fs) == {
            "arch": "x86_64",
            "date": "20240502",
            "info": "ALT 10.1",
            "commit": "c0ffee",
        }
        assert "Volume id: ALT Workstation 10.1 x86_64" in isoinfo_text(fs)
        shipped = {p.pkg_hash for p in iso_rpms(fs)}
        want = {
            read_rpm(p).pkg_hash for p in BINARY_RPMS if p.name.startswith(("rt-hello-1", "rt-bz"))
        }
        assert shipped == want
        images = {i.name: i for i in iso_squashfs(fs)}
        assert set(images) == {"live", "altinst"}
        out = io.BytesIO()
        images["altinst"].fs.copy_out("etc/installer.conf", out)
        assert out.getvalue() == b"orphan\n"


def test_truncated_and_not_iso(iso: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.iso"
    cut.write_bytes(iso.read_bytes()[: 40 * 2048])
    with cut.open("rb") as f, pytest.raises(InputError, match=r"cut\.iso: truncated ISO"):
        IsoFileSystem(f, name=str(cut))
    junk = tmp_path / "junk.iso"
    junk.write_bytes(b"\0" * (20 * 2048))
    with junk.open("rb") as f, pytest.raises(InputError, match="not an ISO 9660 image"):
        IsoFileSystem(f, name=str(junk))


def test_joliet_only_iso(rootfs: Path, tmp_path: Path) -> None:
    """Without Rock Ridge, names come from the Joliet tree (.disk keeps its dot)."""
    import subprocess

    from tests.conftest import need_tool

    tree = alt_iso_tree(tmp_path, rootfs)
    target = tmp_path / "joliet.iso"
    subprocess.run(
        [need_tool("xorriso"), "-as", "mkisofs", "-J", "--norock", "-o", str(target), str(tree)],
        check=True,
        capture_output=True,
    )
    with target.open("rb") as f:
        fs = IsoFileSystem(f, name=str(target))
        assert fs.joliet and not fs.rock_ridge
        assert disk_info(fs)["commit"] == "c0ffee"
        assert {i.name for i in iso_squashfs(fs)} == {"live", "altinst"}


@pytest.mark.slow
def test_a_file_over_4_gib_is_read_across_its_extents(tmp_path: Path) -> None:
    """ISO 9660 level 3: xorriso records a file over 4 GiB as several directory records of
    one name (flag 0x80 on all but the last), one extent each. The file here is sparse;
    the ISO is not (4 GiB written, about a minute), so the test needs that much room."""
    import shutil
    import subprocess

    from tests.conftest import need_tool

    xorriso = need_tool("xorriso")
    if shutil.disk_usage(tmp_path).free < 10 << 30:
        pytest.skip("needs 10 GiB free for a 4 GiB ISO")
    tree = tmp_path / "tree"
    tree.mkdir()
    size = (4 << 30) + (3 << 20)
    marks = {0: b"HEAD", (4 << 30) - 2048 - 4: b"EDGE1234", size - 4: b"TAIL"}
    with (tree / "huge.bin").open("wb") as f:
        for offset, mark in marks.items():
            f.seek(offset)
            f.write(mark)
    (tree / "after.txt").write_text("after\n")
    target = tmp_path / "huge.iso"
    try:
        subprocess.run(
            [xorriso, "-as", "mkisofs", "-iso-level", "3", "-R", "-o", str(target), str(tree)],
            check=True,
            capture_output=True,
        )
        (tree / "huge.bin").unlink()
        with target.open("rb") as f:
            fs = IsoFileSystem(f, name=str(target))
            entry = fs.lookup("huge.bin")
            assert entry is not None and entry.size == size
            assert [e.path for e in fs.walk()] == ["/after.txt", "/huge.bin"]
            window = fs.open_file("huge.bin")
            for offset, mark in marks.items():
                window.seek(offset)
                assert window.read(len(mark)) == mark, offset
            assert window.read(1) == b""
            out = io.BytesIO()
            fs.copy_out("after.txt", out)
            assert out.getvalue() == b"after\n"
    finally:
        target.unlink(missing_ok=True)


def _xorriso_iso(tree: Path, target: Path, *options: str) -> Path:
    import subprocess

    from tests.conftest import need_tool

    subprocess.run(
        [need_tool("xorriso"), "-as", "mkisofs", *options, "-o", str(target), str(tree)],
        check=True,
        capture_output=True,
    )
    return target


def test_rock_ridge_owner_times_and_kinds(tmp_path: Path) -> None:
    """PX gives the owner and the file type, TF the modification time (as xorriso -extract)."""
    import os
    import stat
    import subprocess

    from tests.conftest import need_tool

    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "old.txt").write_text("old\n")
    (tree / "new.txt").write_text("new\n")
    os.mkfifo(tree / "fifo")
    os.utime(tree / "old.txt", (-86400, -86400))  # 1969-12-31
    os.utime(tree / "new.txt", (4102444800, 4102444800))  # 2100-01-01
    image = tmp_path / "rr.iso"
    subprocess.run(
        [
            need_tool("xorriso"),
            *("-outdev", str(image), "-map", str(tree), "/"),
            *("-chown", "1234", "/new.txt", "--", "-chgrp", "70000", "/new.txt", "--"),
        ],
        check=True,
        capture_output=True,
    )
    with image.open("rb") as f:
        fs = IsoFileSystem(f, name=str(image))
        walked = {e.path: e for e in fs.walk()}
    assert (walked["/new.txt"].uid, walked["/new.txt"].gid) == (1234, 70000)
    assert (walked["/old.txt"].uid, walked["/old.txt"].gid) == (os.getuid(), os.getgid())
    assert walked["/old.txt"].mtime == -86400
    assert walked["/new.txt"].mtime == 4102444800
    assert walked["/fifo"].kind == "fifo" and stat.S_ISFIFO(walked["/fifo"].mode)
    with image.open("rb") as f:
        fs = IsoFileSystem(f, name=str(image))
        with pytest.raises(InputError, match="no regular file /fifo"):
            fs.copy_out("fifo", io.BytesIO())


@pytest.mark.parametrize("options", [("-J", "--norock"), ("--norock",)])
def test_recording_time_without_rock_ridge(tmp_path: Path, options: tuple[str, ...]) -> None:
    """Without TF entries the directory record's recording time (with its GMT offset) is
    the file's time, as xorriso reads it back."""
    import os

    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_text("a\n")
    os.utime(tree / "a.txt", (1700000000, 1700000000))
    image = _xorriso_iso(tree, tmp_path / "plain.iso", *options)
    with image.open("rb") as f:
        fs = IsoFileSystem(f, name=str(image))
        assert not fs.rock_ridge
        (entry,) = [e for e in fs.walk() if e.kind == "file"]
    assert entry.mtime == 1700000000


def test_long_symlink_components_split_across_sl_entries(tmp_path: Path) -> None:
    """An SL entry holds at most 250 bytes of components, so xorriso splits a long
    component over two records, flagging the first CONTINUE (RRIP 4.1.3.1): the parts
    join into one component (a "/" was put between them), and a UTF-8 character cut
    between them joins whole. (A split component with more components after it is left
    out: xorriso 1.5.4 writes its remainder with the rest of the target appended, which
    ``xorriso -lsdl``, ``bsdtar`` and ``isoinfo`` all read back doubled.)"""
    import subprocess

    from tests.conftest import need_tool

    tree = tmp_path / "tree"
    tree.mkdir()
    targets = {
        "one": "q" * 250,
        "abs": "/" + "r" * 100 + "/" + "s" * 200 + "/" + "u" * 250,
        "utf8": "ж" * 120 + "/" + "я" * 127,
    }
    for name, target in targets.items():
        (tree / name).symlink_to(target)
    image = _xorriso_iso(tree, tmp_path / "links.iso", "-R")
    out = tmp_path / "extracted"
    subprocess.run(
        [need_tool("xorriso"), "-osirrox", "on", "-indev", str(image), "-extract", "/", str(out)],
        check=True,
        capture_output=True,
    )
    with image.open("rb") as f:
        fs = IsoFileSystem(f, name=str(image))
        walked = {e.path: e.linkto for e in fs.walk()}
    for name, target in targets.items():
        assert str((out / name).readlink()) == target  # xorriso reads its own records back
        assert walked[f"/{name}"] == target, name


def test_rock_ridge_deep_directory_relocation(tmp_path: Path) -> None:
    """genisoimage moves directories deeper than ISO 9660's 8 levels to ``rr_moved`` and
    leaves a CL entry (RRIP 4.1.5.1) where each belongs, an RE entry on the moved one:
    the tree reads as written, as xorriso and bsdtar read it (``rr_moved`` stays, empty,
    as xorriso shows it)."""
    import subprocess

    from tests.conftest import need_tool

    genisoimage = need_tool("genisoimage")
    tree = tmp_path / "tree"
    deep = tree.joinpath(*"abcdefghij")
    deep.mkdir(parents=True)
    (deep / "leaf.txt").write_text("leaf\n")
    (tree / "a/b/c/d/e/f/g/h/side.txt").write_text("side\n")
    image = tmp_path / "deep.iso"
    subprocess.run(
        [genisoimage, "-quiet", "-R", "-o", str(image), str(tree)], check=True, capture_output=True
    )
    found = subprocess.run(
        [need_tool("xorriso"), "-indev", str(image), "-find", "/"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    xorriso_paths = {line.strip("'") for line in found.splitlines()} - {"/"}
    with image.open("rb") as f:
        fs = IsoFileSystem(f, name=str(image))
        walked = {e.path: e for e in fs.walk()}
        assert set(walked) == xorriso_paths
        assert walked["/a/b/c/d/e/f/g/h"].kind == "directory"
        assert walked["/rr_moved"].kind == "directory"
        out = io.BytesIO()
        fs.copy_out("a/b/c/d/e/f/g/h/i/j/leaf.txt", out)
        assert out.getvalue() == b"leaf\n"


def test_zisofs_compressed_files_read_as_their_bytes(tmp_path: Path) -> None:
    """xorriso's zisofs filter stores files zlib-compressed in 32 KiB blocks behind a
    Rock Ridge ZF entry; the kernel, bsdtar and xorriso hand out the original bytes,
    and so does the reader (size included), with random access."""
    import hashlib
    import subprocess

    from tests.conftest import need_tool

    tree = tmp_path / "tree"
    tree.mkdir()
    text = b"".join(b"line %06d of a compressible file\n" % i for i in range(20000))
    mixed = hashlib.sha256(b"x").digest() * 3000 + bytes(200_000) + b"tail"
    (tree / "text").write_bytes(text)
    (tree / "mixed").write_bytes(mixed)
    (tree / "small").write_bytes(b"small\n" * 10)
    image = tmp_path / "zisofs.iso"
    command = [need_tool("xorriso"), "-outdev", str(image), "-map", str(tree), "/"]
    subprocess.run(
        [*command, "-set_filter_r", "--zisofs", "/", "--"],
        check=True,
        capture_output=True,
    )
    assert image.stat().st_size < len(text) + len(mixed)  # stored compressed
    with image.open("rb") as f:
        fs = IsoFileSystem(f, name=str(image))
        for name in ("text", "mixed", "small"):
            want = (tree / name).read_bytes()
            entry = fs.lookup(name)
            assert entry is not None and entry.size == len(want), name
            out = io.BytesIO()
            assert fs.copy_out(name, out) == len(want)
            assert out.getvalue() == want, name
        window = fs.open_file("mixed")
        window.seek(len(mixed) - 4)
        assert window.read() == b"tail"
        window.seek(40_000)
        assert window.read(10) == mixed[40_000:40_010]


def test_empty_file_whose_extent_points_nowhere(tmp_path: Path) -> None:
    """An empty file has no data, so its extent location means nothing: libarchive
    (``bsdtar --format iso9660``) records 0xFFFFFFF0 there. xorriso and bsdtar read
    such an image, and so does the reader (it refused the whole image)."""
    import subprocess

    from tests.conftest import need_tool

    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "empty").write_bytes(b"")
    (tree / "full").write_bytes(b"full\n")
    image = tmp_path / "libarchive.iso"
    subprocess.run(
        [need_tool("bsdtar"), "-C", str(tree), "--format", "iso9660", "-cf", str(image), "."],
        check=True,
        capture_output=True,
    )
    with image.open("rb") as f:
        fs = IsoFileSystem(f, name=str(image))
        walked = {e.path: e for e in fs.walk()}
        assert set(walked) == {"/empty", "/full"}
        assert walked["/empty"].size == 0 and walked["/empty"].kind == "file"
        out = io.BytesIO()
        assert fs.copy_out("empty", out) == 0
        fs.copy_out("full", out)
        assert out.getvalue() == b"full\n"
