"""Header lists written by ALT's own genpkglist and gensrclist, read by repotrack.

``tests/data/genpkglist/`` holds what apt-repo-tools 0.6.0.20 (ALT's genpkglist and
gensrclist, built on Debian; see PROVENANCE.md there) wrote for the eight test RPMs,
stripped (the default) and with ``--bloat``. What repotrack reads from them is compared
with ``rpm -qp`` of the same files, and the lists ``tests/data/make_trees.sh`` writes
with the tools' own.
"""

from __future__ import annotations

import hashlib
import lzma
import struct
from pathlib import Path

import pytest

from repotrack.rpm import Header, Tag, iter_header_list
from repotrack.sources import iter_header_index
from tests.conftest import DATA, need_tool
from tests.unit.rpm.support import run_rpm, text

GENPKGLIST = DATA / "genpkglist"
RPMS = DATA / "rpms"
ARCHS = ("x86_64", "noarch")
#: genpkglist 0.6.0.20 writes no CRPMTAG_BLAKE2B; make_trees.sh adds it, as ALT's later
#: versions do, so it is left out where the two are compared.
BLAKE2B = Tag.APTINDEXLEGACYBLAKE2B
QUERY = "%{NAME}\\n%{EPOCH}\\n%{VERSION}\\n%{RELEASE}\\n%{ARCH}\\n%{SOURCERPM}\\n"


def _list(mode: str, arch: str, name: str) -> Path:
    return GENPKGLIST / mode / arch / "base" / f"{name}.classic.xz"


def _headers(path: Path) -> list[Header]:
    with lzma.open(path) as stream:
        return list(iter_header_list(stream, source=str(path)))  # type: ignore[arg-type]


def _rpm_file(name: str) -> Path:
    return RPMS / name


def _query(path: Path) -> list[str]:
    return text(run_rpm("-qp", "--nosignature", "--nodigest", "--qf", QUERY, str(path))).split(
        "\n"
    )[:6]


def _rpm_files(path: Path) -> list[str]:
    listed = text(run_rpm("-qp", "--nosignature", "--nodigest", "-l", str(path))).splitlines()
    return [] if listed == ["(contains no files)"] else listed


def _header_files(header: Header) -> list[str]:
    dirs = header.get_strings(Tag.DIRNAMES)
    return [
        dirs[i] + base
        for i, base in zip(
            header.get_ints(Tag.DIRINDEXES), header.get_strings(Tag.BASENAMES), strict=True
        )
    ]


@pytest.mark.parametrize("mode", ["strip", "bloat"])
@pytest.mark.parametrize("arch", ARCHS)
def test_pkglist_reads_as_rpm_queries_the_files(mode: str, arch: str) -> None:
    need_tool("rpm")
    headers = _headers(_list(mode, arch, "pkglist"))
    entries = list(iter_header_index(_list(mode, arch, "pkglist")))
    assert [e.filename for e in entries] == [h.get_str(Tag.APTINDEXLEGACYFILENAME) for h in headers]
    # genpkglist writes the packages sorted by source package, then by file name.
    names = [e.filename for e in entries]
    sources = [h.get_str(Tag.SOURCERPM) or "" for h in headers]
    assert list(zip(sources, names, strict=True)) == sorted(zip(sources, names, strict=True))
    assert sorted(names) == sorted(p.name for p in RPMS.glob(f"*.{arch}.rpm"))
    for entry, header in zip(entries, headers, strict=True):
        path = _rpm_file(entry.filename)
        raw = path.read_bytes()
        assert entry.md5 == hashlib.md5(raw, usedforsecurity=False).digest()
        assert entry.blake2b == b""  # this version writes none: the loader computes it
        assert header.get_ints(Tag.APTINDEXLEGACYFILESIZE) == [len(raw)]
        assert header.get_str(Tag.APTINDEXLEGACYDIRECTORY) == "RPMS.classic"
        assert not header.has_region
        name, epoch, version, release, pkg_arch, sourcerpm = _query(path)
        assert header.get_str(Tag.NAME) == name
        assert header.get_ints(Tag.EPOCH) == ([] if epoch == "(none)" else [int(epoch)])
        assert (header.get_str(Tag.VERSION), header.get_str(Tag.RELEASE)) == (version, release)
        assert (header.get_str(Tag.ARCH), header.get_str(Tag.SOURCERPM)) == (pkg_arch, sourcerpm)
        files = _rpm_files(path)
        if mode == "bloat":
            assert _header_files(header) == files
        else:  # stripped to the "useful" files: here those under a bin/ directory
            assert _header_files(header) == [f for f in files if "/bin/" in f]


@pytest.mark.parametrize("arch", ARCHS)
def test_srclist_reads_as_rpm_queries_the_files(arch: str) -> None:
    need_tool("rpm")
    headers = _headers(_list("strip", arch, "srclist"))
    entries = list(iter_header_index(_list("strip", arch, "srclist")))
    assert [e.filename for e in entries] == sorted(p.name for p in RPMS.glob("*.src.rpm"))
    binaries: dict[str, list[str]] = {}
    for header in _headers(_list("strip", arch, "pkglist")):
        binaries.setdefault(header.get_str(Tag.SOURCERPM) or "", []).append(
            header.get_str(Tag.NAME) or ""
        )
    for entry, header in zip(entries, headers, strict=True):
        path = _rpm_file(entry.filename)
        raw = path.read_bytes()
        assert entry.md5 == hashlib.md5(raw, usedforsecurity=False).digest()
        assert entry.blake2b == b""
        assert header.get_ints(Tag.APTINDEXLEGACYFILESIZE) == [len(raw)]
        assert header.get_str(Tag.APTINDEXLEGACYDIRECTORY) == "../SRPMS.classic"
        name, _, version, release, pkg_arch, _ = _query(path)
        assert (header.get_str(Tag.NAME), header.get_str(Tag.VERSION)) == (name, version)
        assert (header.get_str(Tag.RELEASE), header.get_str(Tag.ARCH)) == (release, pkg_arch)
        assert Tag.SOURCERPM not in header  # a source list's headers say nothing of it
        # CRPMTAG_BINARY: the binaries of this arch's pkglist built from it, if any.
        assert header.get_strings(Tag.APTINDEXLEGACYBINARY) == binaries.get(entry.filename, [])


def _entries(blob: bytes) -> list[tuple[int, int, int, bytes]]:
    """(tag, type, count, bytes up to the next entry) of a bare header, in index order."""
    il, dl = struct.unpack_from(">II", blob, 8)
    index = [struct.unpack_from(">IIiI", blob, 16 + 16 * i) for i in range(il)]
    data = blob[16 + 16 * il :]
    ends = [offset for _, _, offset, _ in index[1:]] + [dl]
    return [(t, k, c, data[o:end]) for (t, k, o, c), end in zip(index, ends, strict=True)]


@pytest.mark.parametrize("name", ["pkglist", "srclist"])
@pytest.mark.parametrize("arch", ARCHS)
def test_make_trees_writes_the_lists_genpkglist_writes(trees: Path, arch: str, name: str) -> None:
    ours = _headers(trees / "apt" / arch / "base" / f"{name}.classic.xz")
    theirs = _headers(_list("strip", arch, name))
    assert len(ours) == len(theirs)
    for mine, real in zip(ours, theirs, strict=True):
        filename = real.get_str(Tag.APTINDEXLEGACYFILENAME) or ""
        folder = "files/SRPMS" if name == "srclist" else f"files/{arch}/RPMS"
        raw = (trees / "apt" / folder / filename).read_bytes()
        assert mine.get_str(BLAKE2B) == hashlib.blake2b(raw).hexdigest()
        assert [e for e in _entries(mine.raw_bytes) if e[0] != BLAKE2B] == _entries(real.raw_bytes)


def test_list_in_two_xz_streams_reads_whole(tmp_path: Path) -> None:
    """genbasedir compresses a list of 32 MiB or more as two halves, split at any byte
    (here inside a header), each its own xz stream, concatenated."""
    data = lzma.decompress(_list("bloat", "noarch", "pkglist").read_bytes())
    half = len(data) // 2
    split = tmp_path / "pkglist.classic.xz"
    split.write_bytes(lzma.compress(data[:half]) + lzma.compress(data[half:]))
    whole = list(iter_header_index(_list("bloat", "noarch", "pkglist")))
    assert len(whole) == 3
    assert list(iter_header_index(split)) == whole


def test_empty_component_list(tmp_path: Path) -> None:
    """genpkglist writes an empty list for an empty RPMS.<comp>; xz keeps it empty."""
    empty = tmp_path / "pkglist.gostcrypto.xz"
    empty.write_bytes(lzma.compress(b""))
    assert list(iter_header_index(empty)) == []
