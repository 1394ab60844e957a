"""One-pass image digests; GOST R 34.11-2012 checked against the standard's example M1."""

from __future__ import annotations

import hashlib
from pathlib import Path

from repotrack.sources.images import image_digests
from tests.conftest import need_tool

#: GOST R 34.11-2012, example 1: the 63-byte message "0123...012", 256-bit digest.
M1 = b"012345678901234567890123456789012345678901234567890123456789012"
M1_GOST256 = "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"


def test_published_gost_vector(tmp_path: Path) -> None:
    need_tool("gost12sum")
    path = tmp_path / "m1"
    path.write_bytes(M1)
    digests = image_digests(path)
    assert digests.gost12 == M1_GOST256
    assert digests.md5 == hashlib.md5(M1, usedforsecurity=False).hexdigest()
    assert digests.sha256 == hashlib.sha256(M1).hexdigest()
    assert digests.size == len(M1)


def test_multi_chunk_file(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000  # > 2 chunks of 1 MiB
    path = tmp_path / "big"
    path.write_bytes(data)
    digests = image_digests(path)
    assert digests.sha256 == hashlib.sha256(data).hexdigest() and digests.size == len(data)
