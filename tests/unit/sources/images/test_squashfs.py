"""SquashFS: every compressor mksquashfs and Python share, big and sparse files, damage."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.sources.images.squashfs import SquashFs
from tests.conftest import need_tool
from tests.unit.sources.images.imageutil import make_squashfs


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sqfs") / "tree"
    (root / "big").mkdir(parents=True)
    (root / "big/random.bin").write_bytes(os.urandom(300_000))  # several blocks + fragment
    with (root / "big/sparse.bin").open("wb") as f:
        f.truncate(3 << 20)  # all zero: sparse blocks
    many = root / "many"
    many.mkdir()
    for i in range(600):  # several directory headers
        (many / f"f{i:04d}").write_text(str(i))
    (root / "link").symlink_to("big/random.bin")
    (root / "top.txt").write_text("top\n")
    return root


@pytest.mark.parametrize("comp", ["gzip", "xz", "zstd", "lzma"])
def test_contents_match_the_directory(tree: Path, tmp_path: Path, comp: str) -> None:
    need_tool("mksquashfs")
    image = make_squashfs(tree, tmp_path / f"t.{comp}", comp=comp)
    with image.open("rb") as f:
        fs = SquashFs(f, name=str(image))
        walked = {e.path: e for e in fs.walk()}
        expected = {"/" + str(p.relative_to(tree)) for p in tree.rglob("*")}
        assert set(walked) == expected
        for path in ("big/random.bin", "big/sparse.bin", "many/f0599", "top.txt", "link"):
            out = io.BytesIO()
            fs.copy_out(path, out)
            assert out.getvalue() == (tree / path).read_bytes(), path
        assert walked["/link"].kind == "symlink" and walked["/link"].linkto == "big/random.bin"


def test_unsupported_compressor_is_named(tree: Path, tmp_path: Path) -> None:
    image = make_squashfs(tree, tmp_path / "t.lz4", comp="lz4")
    with image.open("rb") as f, pytest.raises(InputError, match="lz4 compression is not supported"):
        SquashFs(f, name=str(image))


def test_bad_inode_truncation_and_magic(tree: Path, tmp_path: Path) -> None:
    mksquashfs = need_tool("mksquashfs")
    image = tmp_path / "plain.sqfs"
    import subprocess

    subprocess.run(
        [mksquashfs, str(tree), str(image), "-noI", "-noappend", "-quiet", "-no-progress"],
        check=True,
        capture_output=True,
    )
    raw = bytearray(image.read_bytes())
    root_ref, inode_table = (
        struct.unpack_from("<Q", raw, 32)[0],
        struct.unpack_from("<Q", raw, 64)[0],
    )
    position = inode_table + (root_ref >> 16) + 2 + (root_ref & 0xFFFF)  # +2: block header
    struct.pack_into("<H", raw, position, 99)
    bad = tmp_path / "bad-inode.sqfs"
    bad.write_bytes(bytes(raw))
    with bad.open("rb") as f:
        fs = SquashFs(f, name="bad-inode.sqfs")
        with pytest.raises(InputError, match=r"bad-inode\.sqfs: inode \d+ has unknown type 99"):
            list(fs.walk())
    cut = tmp_path / "cut.sqfs"
    cut.write_bytes(image.read_bytes()[:4096])
    with cut.open("rb") as f, pytest.raises(InputError, match=r"cut\.sqfs: truncated SquashFS"):
        SquashFs(f, name="cut.sqfs")
    junk = tmp_path / "junk"
    junk.write_bytes(b"\0" * 200)
    with junk.open("rb") as f, pytest.raises(InputError, match="bad magic"):
        SquashFs(f, name="junk")
