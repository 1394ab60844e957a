"""Payload walking and spec extraction over real packages and crafted hostile ones."""

from __future__ import annotations

import gzip
import hashlib
import stat
from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.rpm import Tag, extract_spec, file_paths, iter_payload, read_rpm
from tests.unit.rpm.support import all_rpms, own_rpms, rpm_id

RPMS = all_rpms()
DIGESTS = {1: "md5", 2: "sha1", 8: "sha256", 9: "sha384", 10: "sha512", 11: "sha224"}


@pytest.mark.parametrize("path", RPMS, ids=[rpm_id(p) for p in RPMS])
def test_every_regular_file_in_the_payload_matches_its_header_digest(path: Path) -> None:
    package = read_rpm(path)
    header = package.header
    algo = DIGESTS[header.get_int(Tag.FILEDIGESTALGO, 1) or 1]
    digests = dict(zip(file_paths(header), header.get_strings(Tag.FILEDIGESTS), strict=False))
    empty = hashlib.new(algo, b"").hexdigest()
    seen = 0
    for entry, data in iter_payload(package, lambda e: e.is_regular, max_bytes=64 << 20):
        expected = digests.get("/" + entry.name) or digests.get(entry.name)
        if expected and (data or expected == empty):  # other hardlink members carry no data
            assert hashlib.new(algo, data).hexdigest() == expected, entry.name
            seen += 1
    # Expected: one data-carrying member per hardlink set of regular, non-%ghost files.
    modes = header.get_ints(Tag.FILEMODES)
    flags = header.get_ints(Tag.FILEFLAGS)
    inodes = list(
        zip(header.get_ints(Tag.FILEDEVICES), header.get_ints(Tag.FILEINODES), strict=True)
    )
    carriers = {
        inodes[i] if inodes else i
        for i, mode in enumerate(modes)
        if stat.S_ISREG(mode) and not flags[i] & 64
    }
    assert seen == len(carriers)


SOURCES = [p for p in RPMS if read_rpm(p).is_source]


@pytest.mark.parametrize("path", SOURCES, ids=[rpm_id(p) for p in SOURCES])
def test_spec_is_found_in_every_source_package(path: Path) -> None:
    spec = extract_spec(path)
    assert spec is not None
    assert spec.name.endswith(".spec")
    assert b"Name:" in spec.content
    assert spec.mtime > 0


def test_spec_of_own_source_package() -> None:
    path = next(p for p in own_rpms() if p.name == "rt-hello-1.2.3-4.rt1.src.rpm")
    spec = extract_spec(path)
    assert spec is not None
    assert spec.name == "rt-hello.spec"
    specs = Path(__file__).resolve().parents[2] / "data" / "specs"
    assert spec.content == (specs / "rt-hello.spec").read_bytes()
    assert extract_spec(read_rpm(path)) == spec


def test_binary_package_has_no_spec() -> None:
    binary = next(p for p in own_rpms() if not read_rpm(p).is_source)
    assert extract_spec(binary) is None


def test_spec_larger_than_the_limit_is_refused() -> None:
    path = next(p for p in own_rpms() if p.name == "rt-hello-1.2.3-4.rt1.src.rpm")
    with pytest.raises(InputError, match="exceeds the limit"):
        extract_spec(path, max_bytes=100)


def _newc(name: str, data: bytes, mode: int = 0o100644) -> bytes:
    encoded = name.encode() + b"\0"
    fields = [0, mode, 0, 0, 1, 1700000000, len(data), 0, 0, 0, 0, len(encoded), 0]
    head = b"070701" + b"".join(b"%08X" % f for f in fields) + encoded
    head += b"\0" * ((4 - len(head) % 4) % 4)
    return head + data + b"\0" * ((4 - len(data) % 4) % 4)


def _with_payload(tmp_path: Path, payload: bytes) -> Path:
    """A copy of a real source package whose payload is replaced by ``payload``."""
    src = next(p for p in own_rpms() if p.name == "rt-bz-0.1-0.1.20240101git.src.rpm")
    package = read_rpm(src)
    path = tmp_path / "crafted.src.rpm"
    path.write_bytes(src.read_bytes()[: package.payload_offset] + payload)
    return path


def test_crafted_payload_is_read(tmp_path: Path) -> None:
    # The header flags rt-bz.spec as the spec, so other .spec members are passed over.
    archive = _newc("notes.txt", b"x" * 5) + _newc("other.spec", b"Name: other\n")
    archive += _newc("rt-bz.spec", b"Name: evil\n") + _newc("TRAILER!!!", b"")
    spec = extract_spec(_with_payload(tmp_path, gzip.compress(archive)))
    assert spec is not None
    assert (spec.name, spec.content, spec.mtime) == ("rt-bz.spec", b"Name: evil\n", 1700000000)


@pytest.mark.parametrize(
    "name", ["../evil.spec", "a/../../evil.spec", "/../x", "x//y.spec", "./a/./b"]
)
def test_path_tricks_are_refused(tmp_path: Path, name: str) -> None:
    archive = _newc(name, b"Name: evil\n") + _newc("TRAILER!!!", b"")
    with pytest.raises(InputError, match="unsafe payload member name"):
        extract_spec(_with_payload(tmp_path, gzip.compress(archive)))


def test_corrupt_compressed_payload_is_an_input_error(tmp_path: Path) -> None:
    good = gzip.compress(_newc("a.spec", b"Name: a\n") + _newc("TRAILER!!!", b""))
    with pytest.raises(InputError):
        extract_spec(_with_payload(tmp_path, good[:12] + b"\xff" * 40))


def test_unknown_payload_compression(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown payload compression"):
        extract_spec(_with_payload(tmp_path, b"PK\x03\x04" + b"\0" * 40))


def test_absurd_member_name_size(tmp_path: Path) -> None:
    fields = [0, 0o100644, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x7FFFFFFF, 0]
    archive = b"070701" + b"".join(b"%08X" % f for f in fields)
    with pytest.raises(InputError, match="name size"):
        extract_spec(_with_payload(tmp_path, gzip.compress(archive)))


def test_payload_without_trailer_is_truncated(tmp_path: Path) -> None:
    archive = _newc("notes.txt", b"hello")
    with pytest.raises(InputError, match="truncated"):
        extract_spec(_with_payload(tmp_path, gzip.compress(archive)))
