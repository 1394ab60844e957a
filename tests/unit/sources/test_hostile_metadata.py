"""Hostile repository trees: each one is refused with an ``InputError`` naming the file
and the limit, instead of blocking, or reading until memory runs out.

The attacks are those of issue 9 (a ``base/release`` linked to ``/dev/zero`` or made a
FIFO, an xz list that expands to gigabytes without a newline, a ``primary.xml.gz`` of
millions of sibling elements, a giant text node), scaled down: each test passes a
``MetadataLimits`` a thousand times smaller than the defaults, so the bombs stay a few
megabytes and the tests fast. A watchdog thread turns a blocked read into a failure
instead of a hung test run.
"""

from __future__ import annotations

import dataclasses
import gzip
import lzma
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from repotrack.errors import InputError
from repotrack.sources import (
    iter_header_index,
    iter_repodata_packages,
    read_hash_list,
    read_task_info,
    scan_apt_tree,
)
from repotrack.sources.compression import open_metadata
from repotrack.sources.limits import DEFAULT_LIMITS, MetadataLimits

KIB = 1024
SMALL = MetadataLimits(
    max_line=4 * KIB,
    max_text_file=64 * KIB,
    max_element=256 * KIB,
    max_field=64 * KIB,
    max_ratio=20,
    min_expanded=256 * KIB,
)
#: For the XML attacks: the same bounds without the ratio, so the element limit is what trips.
XML = dataclasses.replace(SMALL, max_ratio=100_000)
_WATCHDOG = 60.0


def refused(call: Callable[[], Any]) -> InputError:
    """Run ``call`` in a thread; it must end (not block) with an InputError."""
    outcome: dict[str, BaseException | None] = {}

    def run() -> None:
        try:
            result = call()
            if hasattr(result, "__next__"):
                for _ in result:
                    pass
            outcome["error"] = None
        except BaseException as exc:  # handed to the test thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(_WATCHDOG)
    assert not worker.is_alive(), "the read blocked instead of refusing the input"
    error = outcome["error"]
    assert isinstance(error, InputError), f"expected InputError, got {error!r}"
    return error


def apt_tree(root: Path) -> Path:
    """The smallest apt-rpm snapshot layout: files/list and x86_64/base."""
    (root / "files" / "list").mkdir(parents=True)
    (root / "x86_64" / "base").mkdir(parents=True)
    return root


# -- non-regular files -----------------------------------------------------------------


def test_release_linked_to_dev_zero_is_refused(tmp_path: Path) -> None:
    root = apt_tree(tmp_path / "tree")
    (root / "x86_64" / "base" / "release").symlink_to("/dev/zero")
    error = refused(lambda: scan_apt_tree(root))
    assert error.path == str(root / "x86_64" / "base" / "release")
    assert "a device, not a regular file" in str(error)


def test_release_fifo_does_not_block(tmp_path: Path) -> None:
    root = apt_tree(tmp_path / "tree")
    os.mkfifo(root / "x86_64" / "base" / "release")
    error = refused(lambda: scan_apt_tree(root))
    assert "a FIFO, not a regular file" in str(error)


def test_task_info_fifo_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "task.info"
    os.mkfifo(fifo)
    assert "FIFO" in str(refused(lambda: read_task_info(fifo)))


def test_compressed_list_linked_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "pkglist.classic.xz"
    link.symlink_to("/dev/zero")
    error = refused(lambda: iter_header_index(link))
    assert error.path == str(link)


def test_metadata_fifo_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "primary.xml.gz"
    os.mkfifo(fifo)
    assert "FIFO" in str(refused(lambda: open_metadata(fifo)))


# -- lines and plain-text files ---------------------------------------------------------


def test_xz_hash_list_without_newline_hits_the_line_limit(tmp_path: Path) -> None:
    path = tmp_path / "x86_64.hash.xz"
    path.write_bytes(lzma.compress(b"a" * (200 * KIB)))  # one endless line
    error = refused(lambda: read_hash_list(path, limits=SMALL))
    assert error.path == str(path)
    assert f"longer than {SMALL.max_line} bytes (the line limit)" in str(error)


def test_huge_release_file_hits_the_file_limit(tmp_path: Path) -> None:
    root = apt_tree(tmp_path / "tree")
    release = root / "x86_64" / "base" / "release"
    release.write_bytes(b"Components: classic\n" + b"x: y\n" * (20 * KIB))
    error = refused(lambda: scan_apt_tree(root, limits=SMALL))
    assert error.path == str(release)
    assert f"larger than {SMALL.max_text_file} bytes" in str(error)


def test_long_release_line_hits_the_line_limit(tmp_path: Path) -> None:
    root = apt_tree(tmp_path / "tree")
    (root / "x86_64" / "base" / "release").write_bytes(b"Components: " + b"c" * (8 * KIB))
    assert "line limit" in str(refused(lambda: scan_apt_tree(root, limits=SMALL)))


# -- expansion ratio ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "compress"),
    [("xz", lzma.compress), ("gz", gzip.compress)],
)
def test_decompression_bomb_hits_the_ratio_limit(
    tmp_path: Path, suffix: str, compress: Callable[[bytes], bytes]
) -> None:
    path = tmp_path / f"x86_64.hash.{suffix}"
    path.write_bytes(compress(b"\n" * (4 * 1024 * KIB)))  # 4 MiB of empty lines: a few KB
    assert path.stat().st_size * SMALL.max_ratio < 4 * 1024 * KIB
    error = refused(lambda: read_hash_list(path, limits=SMALL))
    assert error.path == str(path)
    assert "decompression bomb" in str(error)
    assert f"{SMALL.max_ratio} times its size" in str(error)


def test_bomb_is_refused_before_it_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "primary.xml.xz"
    path.write_bytes(lzma.compress(b"\0" * (4 * 1024 * KIB)))

    def read_all() -> bytes:
        with open_metadata(path, limits=SMALL) as stream:
            return stream.read()

    assert "decompression bomb" in str(refused(read_all))


def test_ordinary_compression_stays_within_the_default_ratio(tmp_path: Path) -> None:
    """Text like a real hash list compresses far less than the default ratio allows."""
    lines = "".join(f"{i:064x}  pkg-{i}-1-alt1.x86_64.rpm\n" for i in range(20_000))
    path = tmp_path / "x86_64.hash.xz"
    path.write_bytes(lzma.compress(lines.encode()))
    assert len(read_hash_list(path, limits=DEFAULT_LIMITS)) == 20_000


# -- XML ---------------------------------------------------------------------------------

_HEAD = '<?xml version="1.0"?><metadata xmlns="http://linux.duke.edu/metadata/common">'
_PKG = (
    '<package type="rpm"><name>{name}</name><arch>noarch</arch>'
    '<version epoch="0" ver="1" rel="1"/><checksum type="sha256" pkgid="YES">{pkgid}</checksum>'
    '<location href="{name}-1-1.noarch.rpm"/>{extra}</package>'
)


def repo(tmp_path: Path, primary: bytes) -> Path:
    """A createrepo tree whose primary.xml.gz is ``primary`` (repomd written by hand)."""
    root = tmp_path / "repo"
    (root / "repodata").mkdir(parents=True)
    (root / "repodata" / "primary.xml.gz").write_bytes(gzip.compress(primary))
    (root / "repodata" / "repomd.xml").write_text(
        '<repomd xmlns="http://linux.duke.edu/metadata/repo"><data type="primary">'
        '<location href="repodata/primary.xml.gz"/></data></repomd>'
    )
    return root


def package(name: str, extra: str = "") -> str:
    return _PKG.format(name=name, pkgid=f"{len(name):064x}", extra=extra)


def test_millions_of_siblings_inside_a_package_hit_the_element_limit(tmp_path: Path) -> None:
    siblings = "<x/>" * 200_000  # 800 KB of XML in one <package>
    root = repo(tmp_path, f"{_HEAD}{package('a', siblings)}</metadata>".encode())
    error = refused(lambda: iter_repodata_packages(root, limits=XML))
    assert error.path is not None and error.path.endswith("primary.xml.gz")
    assert f"more than {SMALL.max_element} bytes (the element limit)" in str(error)


def test_giant_text_node_hits_the_element_limit(tmp_path: Path) -> None:
    text = "d" * (1024 * KIB)
    body = package("a", f"<description>{text}</description>")
    root = repo(tmp_path, f"{_HEAD}{body}</metadata>".encode())
    assert "element limit" in str(refused(lambda: iter_repodata_packages(root, limits=XML)))


def test_giant_text_between_packages_hits_the_element_limit(tmp_path: Path) -> None:
    xml = f"{_HEAD}{package('a')}{'t' * (1024 * KIB)}{package('b')}</metadata>"
    root = repo(tmp_path, xml.encode())
    assert "element limit" in str(refused(lambda: iter_repodata_packages(root, limits=XML)))


def test_stray_siblings_between_packages_are_dropped(tmp_path: Path) -> None:
    """Elements nobody asked for are released as they pass: the packages still come out."""
    stray = "<junk/>" * 10_000  # 70 KB: under the element limit
    xml = f"{_HEAD}{package('a')}{stray}{package('bb')}</metadata>"
    root = repo(tmp_path, xml.encode())
    names = [p.name for p in iter_repodata_packages(root, details=False, limits=XML)]
    assert names == ["a", "bb"]


def test_millions_of_stray_siblings_hit_the_element_limit(tmp_path: Path) -> None:
    stray = "<junk/>" * 100_000  # 700 KB between two packages
    xml = f"{_HEAD}{package('a')}{stray}{package('bb')}</metadata>"
    root = repo(tmp_path, xml.encode())
    assert "element limit" in str(refused(lambda: iter_repodata_packages(root, limits=XML)))


def test_long_field_hits_the_field_limit(tmp_path: Path) -> None:
    limits = MetadataLimits(max_element=1024 * KIB, max_field=16 * KIB)
    body = package("a", f"<description>{'d' * (40 * KIB)}</description>")
    root = repo(tmp_path, f"{_HEAD}{body}</metadata>".encode())
    error = refused(lambda: iter_repodata_packages(root, limits=limits))
    assert f"longer than {limits.max_field} characters (the field limit)" in str(error)
    assert "<description>" in str(error)


def test_long_attribute_hits_the_field_limit(tmp_path: Path) -> None:
    limits = MetadataLimits(max_element=1024 * KIB, max_field=16 * KIB)
    body = package("a", f'<x v="{"v" * (40 * KIB)}"/>')
    root = repo(tmp_path, f"{_HEAD}{body}</metadata>".encode())
    assert "field limit" in str(refused(lambda: iter_repodata_packages(root, limits=limits)))


def test_fields_under_the_limit_pass(tmp_path: Path) -> None:
    limits = MetadataLimits(max_element=1024 * KIB, max_field=64 * KIB)
    body = package("a", f"<description>{'d' * (40 * KIB)}</description>")
    root = repo(tmp_path, f"{_HEAD}{body}</metadata>".encode())
    assert [p.name for p in iter_repodata_packages(root, limits=limits)] == ["a"]
