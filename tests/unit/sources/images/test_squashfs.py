"""SquashFS: every compressor mksquashfs offers (gzip, xz, zstd, lzma, lz4, lzo), big and
sparse files, damage."""

from __future__ import annotations

import hashlib
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


@pytest.mark.parametrize(
    ("comp", "options"),
    [
        ("gzip", ()),
        ("xz", ()),
        ("zstd", ()),
        ("lzma", ()),
        ("lz4", ()),
        ("lz4", ("-Xhc",)),
        ("lzo", ()),  # lzo1x_999, level 8
        ("lzo", ("-Xalgorithm", "lzo1x_1")),
        ("lzo", ("-Xalgorithm", "lzo1x_999", "-Xcompression-level", "1")),
    ],
)
def test_contents_match_the_directory(
    tree: Path, tmp_path: Path, comp: str, options: tuple[str, ...]
) -> None:
    need_tool("mksquashfs")
    image = make_squashfs(tree, tmp_path / f"t.{comp}", comp=comp, options=options)
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
    raw = bytearray(make_squashfs(tree, tmp_path / "t.sqfs", comp="gzip").read_bytes())
    struct.pack_into("<H", raw, 20, 7)  # the superblock's compressor id: none known
    image = tmp_path / "t7.sqfs"
    image.write_bytes(bytes(raw))
    with image.open("rb") as f, pytest.raises(InputError, match="#7 compression is not supported"):
        SquashFs(f, name=str(image))


@pytest.mark.parametrize("comp", ["lzo", "lz4"])
def test_a_damaged_block_is_a_clear_error(tmp_path: Path, comp: str) -> None:
    """A compressed metadata block whose bytes are cut short names the image and the codec."""
    root = tmp_path / "tree"
    root.mkdir()
    for i in range(300):
        (root / f"file-with-a-long-name-{i:04d}").write_text("x" * i)
    raw = bytearray(make_squashfs(root, tmp_path / "t.sqfs", comp=comp).read_bytes())
    inode_table = struct.unpack_from("<Q", raw, 64)[0]
    header = struct.unpack_from("<H", raw, inode_table)[0]
    assert not header & 0x8000  # compressed
    size = header & 0x7FFF
    # The block's second half zeroed: a back-reference or a run that does not add up.
    raw[inode_table + 2 + size // 2 : inode_table + 2 + size] = bytes(size - size // 2)
    bad = tmp_path / "bad.sqfs"
    bad.write_bytes(bytes(raw))
    with bad.open("rb") as f, pytest.raises(InputError, match=rf"bad\.sqfs: corrupt {comp} block"):
        fs = SquashFs(f, name="bad.sqfs")
        list(fs.walk())


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


def test_a_sparse_file_far_larger_than_the_image(tmp_path: Path) -> None:
    """A sparse file costs SquashFS only its list of (zero) block sizes: 256 MiB of holes
    fit in an image of a few KiB (a live image's lastlog or swap file), and read as zeros,
    as unsquashfs extracts them."""
    root = tmp_path / "tree"
    root.mkdir()
    (root / "small.txt").write_text("small\n")
    size = 256 << 20
    with (root / "holes.bin").open("wb") as f:
        f.seek(size - 5)
        f.write(b"tail\n")
    image = make_squashfs(root, tmp_path / "sparse.sqfs", comp="gzip")
    assert image.stat().st_size * 64 < size  # what the reader used to call absurd
    with image.open("rb") as f:
        fs = SquashFs(f, name=str(image))
        entry = fs.lookup("holes.bin")
        assert entry is not None and entry.size == size
        digest = hashlib.sha256()

        class Sink(io.RawIOBase):
            def write(self, b: bytes) -> int:  # type: ignore[override]
                digest.update(b)
                return len(b)

        assert fs.copy_out("holes.bin", Sink()) == size
    want = hashlib.sha256()
    with (root / "holes.bin").open("rb") as f:
        while chunk := f.read(1 << 20):
            want.update(chunk)
    assert digest.hexdigest() == want.hexdigest()
