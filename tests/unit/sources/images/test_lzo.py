"""The LZO1X decoder on blocks mksquashfs wrote, whole and damaged.

Correct output is checked file by file in ``test_squashfs.py`` (images made with
each of mksquashfs's LZO algorithms against the directory they were made from).
Here: the decoder never writes past its limit, and damaged input (seeded byte flips,
cuts) gives ``LzoError`` and nothing else, as the SquashFS reader expects.
"""

from __future__ import annotations

import random
import struct

import pytest

from repotrack.sources.images.lzo import LzoError, lzo1x_decompress
from tests.unit.sources.images.imageutil import make_squashfs


@pytest.fixture(scope="module")
def block(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The first compressed metadata block (inode table) of an lzo SquashFS image."""
    root = tmp_path_factory.mktemp("lzo") / "tree"
    root.mkdir()
    for i in range(200):
        (root / f"name-{i:04d}.txt").write_text(f"line {i}\n" * (i % 7))
    raw = make_squashfs(root, root.parent / "t.sqfs", comp="lzo").read_bytes()
    inode_table = struct.unpack_from("<Q", raw, 64)[0]
    header = struct.unpack_from("<H", raw, inode_table)[0]
    assert not header & 0x8000
    return raw[inode_table + 2 : inode_table + 2 + (header & 0x7FFF)]


def test_a_block_decodes_within_its_limit_and_not_below(block: bytes) -> None:
    plain = lzo1x_decompress(block, 8192)
    assert 1000 < len(plain) <= 8192  # a metadata block: at most 8 KiB
    with pytest.raises(LzoError, match="overrun"):
        lzo1x_decompress(block, len(plain) - 1)
    with pytest.raises(LzoError):
        lzo1x_decompress(block + b"\0", 8192)  # bytes after the end marker


def test_damaged_blocks_give_lzo_errors_only(block: bytes) -> None:
    rng = random.Random(16)
    outcomes = {"error": 0, "decoded": 0}
    for _ in range(400):
        data = bytearray(block)
        if rng.random() < 0.2:
            data = data[: rng.randrange(len(data))]
        else:
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            out = lzo1x_decompress(bytes(data), 8192)
        except LzoError:
            outcomes["error"] += 1
        else:
            assert len(out) <= 8192
            outcomes["decoded"] += 1
    assert outcomes["error"] > 100, outcomes
