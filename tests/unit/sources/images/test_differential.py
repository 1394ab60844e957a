"""A bounded differential check: one generated tree, built into ext2/ext4 (block maps,
extents, hashed directories), SquashFS (small blocks, no fragments, uncompressed) and
ISO 9660 (Rock Ridge) images by the real tools, read back by our readers and compared
with the directory, entry by entry: kind, mode, size, symlink target, mtime, bytes.

The full harness that found the defects fixed with this test (many more trees and
options, checked against debugfs, unsquashfs and xorriso as well) is described in
docs/images.md; this is its quick subset for the suite.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from repotrack.sources.images.ext4 import ExtFileSystem
from repotrack.sources.images.iso9660 import IsoFileSystem
from repotrack.sources.images.squashfs import SquashFs
from tests.conftest import need_tool

KINDS = {
    stat.S_IFREG: "file",
    stat.S_IFDIR: "directory",
    stat.S_IFLNK: "symlink",
    stat.S_IFIFO: "fifo",
}
Row = tuple[str, int, int, str, int, str]


def _sparse(path: Path, size: int, pieces: dict[int, bytes]) -> None:
    with path.open("wb") as f:
        for offset, data in pieces.items():
            f.seek(offset)
            f.write(data)
        f.truncate(size)


def _tree(root: Path, *, huge_sparse: bool) -> Path:
    """Files at and around block sizes, holes, links, odd names, deep and wide dirs."""
    root.mkdir()
    noise = hashlib.sha256(b"seed").digest() * 4096  # 128 KiB, incompressible enough
    (root / "empty").write_bytes(b"")
    for size in (1, 1023, 1024, 1025, 4096, 12 * 1024, 13 * 1024 + 1, 131072, 300_001):
        (root / f"size-{size}").write_bytes((noise * 3)[:size])
    holes = root / "holes"
    holes.mkdir()
    _sparse(holes / "at-start", 5 * 4096 + 10, {4 * 4096: b"end"})
    _sparse(holes / "at-end", 10 * 4096, {0: noise[:5000]})
    _sparse(holes / "middle", 20 * 4096 + 5, {0: b"a" * 4096, 19 * 4096: b"b" * 4101})
    _sparse(holes / "only", 7 * 4096, {})
    # with 1 KiB blocks: past the direct and single indirect blocks (double indirect)
    _sparse(holes / "double-indirect", 300 * 1024, {0: b"d", 290 * 1024: noise[:3000]})
    if huge_sparse:  # with 1 KiB blocks, data behind the triple indirect block
        _sparse(holes / "triple-indirect", 70 << 20, {(66 << 20) + 7: noise[:5000]})
    links = root / "links"
    links.mkdir()
    for n in (1, 59, 60, 61, 300, 1000):
        target = "/".join(["t" * 99] * 11)[: n - 1] + "z"
        (links / f"len{n}").symlink_to(target)
    (links / "up").symlink_to("../size-1024")
    (links / "abs").symlink_to("/holes/middle")
    (links / "utf8").symlink_to("каталог/файл")
    hard = root / "hard"
    hard.mkdir()
    (hard / "a").write_bytes(noise[:7000])
    os.link(hard / "a", hard / "b")
    names = root / "names"
    names.mkdir()
    for name in ("Привет мир.txt", "日本語", "sp ace", ".hidden", "n" * 255, "ж" * 127 + "a"):
        (names / name).write_text(name[:10])
    deep = root.joinpath(*(f"d{i}" for i in range(10)))
    deep.mkdir(parents=True)
    (deep / "leaf").write_text("leaf\n")
    wide = root / "wide"
    wide.mkdir()
    for i in range(400):
        (wide / f"entry-with-a-longish-name-{i:05d}").write_text(str(i))
    os.mkfifo(root / "fifo")
    (root / "size-1025").chmod(0o4755)
    (root / "size-4096").chmod(0o600)
    for i, path in enumerate(sorted(root.rglob("*"), key=lambda p: -len(p.parts))):
        os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i), follow_symlinks=False)
    return root


def _digest(chunks: Callable[[BinaryIO], int]) -> str:
    digest = hashlib.sha256()

    class Sink:
        def write(self, data: bytes) -> int:
            digest.update(data)
            return len(data)

    chunks(Sink())  # type: ignore[arg-type]
    return digest.hexdigest()


def _from_directory(root: Path) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for path in root.rglob("*"):
        st = path.lstat()
        kind = KINDS[stat.S_IFMT(st.st_mode)]
        content = ""
        if kind == "file":
            with path.open("rb") as f:
                content = hashlib.file_digest(f, "sha256").hexdigest()
        rows["/" + str(path.relative_to(root))] = (
            kind,
            stat.S_IMODE(st.st_mode) if kind != "symlink" else 0,
            st.st_size if kind == "file" else 0,
            str(path.readlink()) if kind == "symlink" else "",
            int(st.st_mtime),
            content,
        )
    return rows


def _from_image(fs: Any) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for entry in fs.walk():
        if entry.path == "/lost+found":
            continue
        content = ""
        if entry.kind == "file":
            content = _digest(lambda out, p=entry.path: fs.copy_out(p.lstrip("/"), out))
        rows[entry.path] = (
            entry.kind,
            stat.S_IMODE(entry.mode) if entry.kind != "symlink" else 0,
            entry.size if entry.kind == "file" else 0,
            entry.linkto,
            entry.mtime,
            content,
        )
    return rows


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("differential")
    return {
        "huge": _tree(base / "huge", huge_sparse=True),
        "plain": _tree(base / "plain", huge_sparse=False),
    }


def _run(*command: str) -> None:
    subprocess.run(list(command), check=True, capture_output=True)


def _ext(src: Path, image: Path, fstype: str, *options: str, htree: bool = False) -> Path:
    _run(need_tool(f"mkfs.{fstype}"), "-q", "-F", *options, "-d", str(src), str(image), "96M")
    if htree:  # e2fsck -D indexes the directories mke2fs -d wrote linearly
        subprocess.run([need_tool("e2fsck"), "-fyD", str(image)], capture_output=True, check=False)
    return image


CASES: dict[str, tuple[str, Callable[[Path, Path], Path], type]] = {
    "ext2-1k-blockmap": (
        "huge",
        lambda s, i: _ext(s, i, "ext2", "-b", "1024", "-I", "128"),
        ExtFileSystem,
    ),
    "ext4-1k-noextent-htree": (
        "huge",
        lambda s, i: _ext(s, i, "ext4", "-b", "1024", "-O", "^extent,^64bit", htree=True),
        ExtFileSystem,
    ),
    "ext4-4k-htree": ("plain", lambda s, i: _ext(s, i, "ext4", htree=True), ExtFileSystem),
    "squashfs-xz-4k": (
        "huge",
        lambda s, i: _squashfs(s, i, "-comp", "xz", "-b", "4096"),
        SquashFs,
    ),
    "squashfs-zstd-nofrag-1m": (
        "huge",
        lambda s, i: _squashfs(s, i, "-comp", "zstd", "-b", "1M", "-no-fragments"),
        SquashFs,
    ),
    "squashfs-uncompressed-always-frag": (
        "plain",
        lambda s, i: _squashfs(s, i, "-noI", "-noD", "-noF", "-always-use-fragments"),
        SquashFs,
    ),
    "iso-rock-ridge-joliet": (
        "plain",
        lambda s, i: _iso(s, i, "-R", "-J", "-iso-level", "3"),
        IsoFileSystem,
    ),
}


def _squashfs(src: Path, image: Path, *options: str) -> Path:
    _run(need_tool("mksquashfs"), str(src), str(image), *options, "-noappend", "-quiet")
    return image


def _iso(src: Path, image: Path, *options: str) -> Path:
    _run(need_tool("xorriso"), "-as", "mkisofs", *options, "-o", str(image), str(src))
    return image


@pytest.mark.parametrize("case", sorted(CASES))
def test_image_reads_as_its_directory(case: str, trees: dict[str, Path], tmp_path: Path) -> None:
    tree, build, reader = CASES[case]
    src = trees[tree]
    image = build(src, tmp_path / "image")
    with image.open("rb") as f:
        got = _from_image(reader(f, name=str(image)))
    want = _from_directory(src)
    assert sorted(got) == sorted(want)
    wrong = {path: (got[path], want[path]) for path in want if got[path] != want[path]}
    assert not wrong
