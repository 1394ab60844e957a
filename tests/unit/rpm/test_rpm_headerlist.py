"""apt-rpm header lists, compressed files and whole-file digests."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import struct
from pathlib import Path

import pytest
import zstandard

from repotrack.errors import InputError
from repotrack.rpm import (
    Header,
    Tag,
    file_digests,
    iter_header_list,
    open_compressed,
    read_rpm,
)
from tests.unit.rpm.support import all_rpms


def _legacy_header(entries: list[tuple[int, int, bytes, int]]) -> bytes:
    """A region-less header as apt's genpkglist writes it: (tag, type, data, count)."""
    index = b""
    data = b""
    for tag, kind, payload, count in entries:
        align = {3: 2, 4: 4, 5: 8}.get(kind, 1)
        data += b"\0" * ((align - len(data) % align) % align)
        index += struct.pack(">IIiI", tag, kind, len(data), count)
        data += payload
    return b"\x8e\xad\xe8\x01\0\0\0\0" + struct.pack(">II", len(entries), len(data)) + index + data


def _apt_header(name: str, md5: str) -> bytes:
    return _legacy_header(
        [
            (Tag.NAME, 6, name.encode() + b"\0", 1),
            (Tag.VERSION, 6, b"1.0\0", 1),
            (Tag.RELEASE, 6, b"alt1\0", 1),
            (Tag.SUMMARY, 9, b"Summary C\0Resume ru\0", 2),
            (Tag.SIZE, 4, struct.pack(">I", 1234), 1),
            (Tag.REQUIRENAME, 8, b"libc.so.6\0/bin/sh\0", 2),
            (Tag.REQUIREFLAGS, 4, struct.pack(">II", 0, 0), 2),
            (Tag.REQUIREVERSION, 8, b"\0\0", 2),
            (Tag.APTINDEXLEGACYFILENAME, 6, f"{name}-1.0-alt1.x86_64.rpm".encode() + b"\0", 1),
            (Tag.APTINDEXLEGACYFILESIZE, 4, struct.pack(">I", 4321), 1),
            (Tag.APTINDEXLEGACYMD5, 6, md5.encode() + b"\0", 1),
            (Tag.APTINDEXLEGACYDIRECTORY, 6, b"RPMS.classic\0", 1),
        ]
    )


def test_real_package_headers_concatenated() -> None:
    paths = all_rpms()
    blob = b"".join(read_rpm(p).header.raw_bytes for p in paths)
    headers = list(iter_header_list(io.BytesIO(blob), source="pkglist.classic"))
    assert [h.get(Tag.NAME) for h in headers] == [read_rpm(p).header.get(Tag.NAME) for p in paths]
    for header, path in zip(headers, paths, strict=True):
        original = read_rpm(path).header
        assert header.tags() == original.tags()
        assert header.get(Tag.FILEMODES) == original.get(Tag.FILEMODES)
        assert header.raw_bytes == original.raw_bytes


def test_apt_style_headers_without_region() -> None:
    blob = _apt_header("foo", "00" * 16) + _apt_header("bar", "ab" * 16)
    headers = list(iter_header_list(io.BytesIO(blob), source="pkglist.classic"))
    assert [h.get(Tag.NAME) for h in headers] == ["foo", "bar"]
    bar = headers[1]
    assert not bar.has_region
    assert bar.get(Tag.APTINDEXLEGACYFILENAME) == "bar-1.0-alt1.x86_64.rpm"
    assert bar.get_int(Tag.APTINDEXLEGACYFILESIZE) == 4321
    assert bar.get(Tag.APTINDEXLEGACYMD5) == "ab" * 16
    assert bar.get(Tag.SUMMARY) == "Summary C"
    assert bar.get_strings(Tag.SUMMARY) == ["Summary C", "Resume ru"]
    assert bar.get(Tag.REQUIRENAME) == ["libc.so.6", "/bin/sh"]
    assert bar.get(Tag.REQUIREVERSION) == ["", ""]
    assert bar.offset == len(headers[0].raw_bytes)


def test_latin1_strings_fall_back() -> None:
    blob = _legacy_header([(Tag.NAME, 6, b"x\0", 1), (Tag.SUMMARY, 9, b"Caf\xe9\0", 1)])
    header = Header.parse(blob, source="mem")
    assert header.get(Tag.SUMMARY) == "Café"
    assert header.get_bytes(Tag.SUMMARY) == b"Caf\xe9"


def test_empty_list() -> None:
    assert list(iter_header_list(io.BytesIO(b""), source="empty")) == []


COMPRESSORS = {
    "xz": lzma.compress,
    "bz2": bz2.compress,
    "gz": gzip.compress,
    "zst": lambda data: zstandard.ZstdCompressor().compress(data),
    "plain": lambda data: data,
}


@pytest.mark.parametrize("suffix", COMPRESSORS)
def test_compressed_lists(tmp_path: Path, suffix: str) -> None:
    blob = b"".join(_apt_header(f"p{i}", "00" * 16) for i in range(500))
    path = tmp_path / f"pkglist.classic.{suffix}"
    path.write_bytes(COMPRESSORS[suffix](blob))
    with open_compressed(path) as stream:
        names = [h.get(Tag.NAME) for h in iter_header_list(stream, source=str(path))]
    assert names == [f"p{i}" for i in range(500)]


def test_corrupt_compressed_list(tmp_path: Path) -> None:
    data = lzma.compress(b"".join(_apt_header(f"p{i}", "00" * 16) for i in range(50)))
    path = tmp_path / "pkglist.classic.xz"
    path.write_bytes(data[: len(data) // 2])
    with open_compressed(path) as stream, pytest.raises(InputError) as caught:
        list(iter_header_list(stream, source=str(path)))
    assert caught.value.path == str(path)


def test_open_compressed_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot open"):
        open_compressed(tmp_path / "absent.xz")


def test_file_digests(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    content = bytes(range(256)) * 9000
    path.write_bytes(content)
    digests = file_digests(path)
    assert digests.md5 == hashlib.md5(content, usedforsecurity=False).digest()
    assert digests.sha256 == hashlib.sha256(content).digest()
    assert digests.blake2b == hashlib.blake2b(content).digest()
    with pytest.raises(InputError):
        file_digests(tmp_path / "absent")
