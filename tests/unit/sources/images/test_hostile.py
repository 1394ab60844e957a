"""Damaged images never crash a reader: every failure is an InputError naming the image.

Real images (an ext4 file system, a SquashFS image, a Berkeley DB rpmdb, an ISO) get
random bytes overwritten, and the readers walk the result as the loader would.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repotrack.errors import InputError
from repotrack.sources.images.ext4 import ExtFileSystem
from repotrack.sources.images.iso9660 import IsoFileSystem
from repotrack.sources.images.rpmdb import RpmdbFile, read_installed
from repotrack.sources.images.squashfs import SquashFs
from tests.unit.sources.images.imageutil import (
    make_ext,
    make_iso,
    make_squashfs,
    make_tar,
    sqlite_blobs,
    write_bdb,
)

Patch = list[tuple[int, bytes]]
#: (where, bytes): ``where`` >= 0 is a fraction of the file; < 0, a fraction of its
#: first 256 KiB, where the metadata of most formats lives.
patches = st.lists(
    st.tuples(st.floats(-1, 1, exclude_max=True), st.binary(min_size=1, max_size=8)),
    min_size=1,
    max_size=6,
)
MAX_EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "60"))


def _damaged(original: bytes, edits: list[tuple[float, bytes]], tmp: Path, name: str) -> Path:
    data = bytearray(original)
    for where, junk in edits:
        at = int(where * len(data)) if where >= 0 else int(-where * min(len(data), 1 << 18))
        data[at : at + len(junk)] = junk
    path = tmp / f"{name}-{os.getpid()}"
    path.write_bytes(bytes(data[: len(original)]))
    return path


def _walk_ext(path: Path) -> None:
    with path.open("rb") as f:
        fs = ExtFileSystem(f, name=path.name)
        for entry in fs.walk():
            if entry.kind == "file":
                fs.copy_out(entry.path.lstrip("/"), io.BytesIO())


def _walk_sqfs(path: Path) -> None:
    with path.open("rb") as f:
        fs = SquashFs(f, name=path.name)
        for entry in fs.walk():
            if entry.kind == "file":
                fs.copy_out(entry.path.lstrip("/"), io.BytesIO())


def _walk_iso(path: Path) -> None:
    with path.open("rb") as f:
        fs = IsoFileSystem(f, name=path.name)
        for entry in fs.walk():
            if entry.kind == "file":
                fs.copy_out(entry.path.lstrip("/"), io.BytesIO())


def _read_bdb(path: Path) -> None:
    read_installed(RpmdbFile(path, "bdb", path.name))


@pytest.fixture(scope="module")
def originals(rootfs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    base = tmp_path_factory.mktemp("hostile")
    tree = base / "iso"
    tree.mkdir()
    make_tar(rootfs, tree / "rootfs.tar")
    return {
        "ext4": make_ext(rootfs, base / "fs.ext4", size_mib=4).read_bytes(),
        "sqfs": make_squashfs(rootfs, base / "fs.sqfs", comp="gzip").read_bytes(),
        "bdb": write_bdb(
            sqlite_blobs(rootfs / "var/lib/rpm/rpmdb.sqlite"), base / "Packages", pagesize=1024
        ).read_bytes(),
        "iso": make_iso(tree, base / "x.iso").read_bytes(),
        "iso-zisofs": _zisofs_iso(rootfs, base / "z.iso").read_bytes(),
    }


def _zisofs_iso(tree: Path, target: Path) -> Path:
    """An ISO whose files xorriso stored zisofs-compressed (ZF entries, zlib blocks)."""
    import subprocess

    from tests.conftest import need_tool

    command = [need_tool("xorriso"), "-outdev", str(target), "-map", str(tree), "/"]
    subprocess.run(
        [*command, "-set_filter_r", "--zisofs", "/", "--"], check=True, capture_output=True
    )
    return target


READERS: dict[str, Callable[[Path], None]] = {
    "ext4": _walk_ext,
    "sqfs": _walk_sqfs,
    "bdb": _read_bdb,
    "iso": _walk_iso,
    "iso-zisofs": _walk_iso,
}


@pytest.mark.parametrize("kind", sorted(READERS))
def test_damage_gives_input_error_only(
    kind: str, originals: dict[str, bytes], tmp_path: Path
) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(edits=patches)
    def check(edits: list[tuple[float, bytes]]) -> None:
        path = _damaged(originals[kind], edits, tmp_path, kind)
        try:
            READERS[kind](path)
        except InputError as exc:
            assert path.name in str(exc)

    check()
