"""The rows of an image load are the ones ALTRepo's loaders (altrepodb 647565d) write.

Expected values are literals: those marked "produced" were captured from altrepodb
647565d's ``image_loader`` run on the same tarball (its ClickHouse client stubbed);
those marked "derived" follow from its code (``altrepodb/iso.py``: ``ISOImageMeta``,
``_make_iso_pkgsets``), which needs fuseiso/squashfuse and could not run here.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from repotrack.ingest import load_repo
from repotrack.ingest.image import load_image
from repotrack.ingest.image_iso import snowflake_id_sqfs
from repotrack.ingest.image_meta import ImageMeta
from repotrack.store import Store
from tests.conftest import DATA
from tests.unit.sources.images.imageutil import alt_iso_tree, make_iso, make_rootfs, make_tar
from tests.unit.store.storeutil import open_fresh_store

#: 2024-05-02 10:00:00 UTC, given to the image file as its mtime.
MTIME = 1714644000
DAY = date(2024, 5, 1)


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


def _meta(path: Path, kind: str) -> ImageMeta:
    return ImageMeta.build(
        file=path.name,
        edition="alt-workstation",
        version="10.1",
        release="release",
        platform="",
        variant="live",
        flavor="",
        arch="x86_64",
        branch="p10",
        date="2024-05-02",
        url="https://example.org/images/alt-workstation.tar.xz",
        image_type=kind,
    )


def _nodes(store: Store, root: object) -> dict[str, tuple[int, int, list[str], list[str]]]:
    rows = store.query(
        "SELECT pkgset_nodename, pkgset_depth, pkgset_complete, pkgset_kv.k, pkgset_kv.v "
        "FROM PackageSetName WHERE pkgset_ruuid = {r:UUID}",
        {"r": root},
    )
    return {name: (depth, complete, list(k), list(v)) for name, depth, complete, k, v in rows}


@pytest.fixture
def tar_image(tmp_path: Path) -> Path:
    image = make_tar(make_rootfs(tmp_path / "root"), tmp_path / "alt-workstation.tar.xz", "w:xz")
    os.utime(image, (MTIME, MTIME))
    return image


def test_tar_root_kv_is_the_originals(store: Store, tar_image: Path) -> None:
    load_repo(store, branch="p10", path=DATA / "rpms", date=DAY)
    summary = load_image(store, path=tar_image, meta=_meta(tar_image, "tar"))
    nodes = _nodes(store, summary.root_uuid)
    depth, complete, keys, values = nodes["alt-workstation"]
    kv = dict(zip(keys, values, strict=True))
    # produced by altrepodb 647565d: the key order and these values
    assert keys == [
        "type", "size", "class", "branch", "mtime", "md5_cs", "sha256_cs", "gost12_cs",
        "osrelease", "url", "arch", "date", "file", "flavor", "edition", "variant",
        "platform", "release", "version_major", "version_minor", "version_sub", "image_type",
    ]  # fmt: skip
    assert (depth, complete) == (0, 1)
    assert kv["type"] == "tar"  # before: "image"
    assert kv["mtime"] == "2024-05-02T10:00:00+00:00"  # before: "1714644000"
    assert kv["date"] == "2024-05-02T00:00:00"  # before: "2024-05-02"
    # the os-release file as written (before: re-joined "NAME=ALT Workstation" lines)
    assert kv["osrelease"] == 'NAME="ALT Workstation"\nID=altlinux\nVERSION_ID=10.1\n'
    # produced by altrepodb 647565d: the rpms node is complete, with this kv
    assert nodes["rpms"][:2] == (1, 1)  # before: pkgset_complete 0
    assert nodes["rpms"][2:] == (
        ["type", "size", "class", "branch"],
        ["rpms", "5", "tar", "p10"],
    )
    ((img_type, img_kv),) = store.query(
        "SELECT img_type, img_kv FROM ImagePackageSetName WHERE pkgset_uuid = {r:UUID}",
        {"r": summary.root_uuid},
    )
    assert img_type == "tar"
    assert (img_kv["type"], img_kv["date"]) == ("tar", "2024-05-02T00:00:00")


def test_iso_without_rpms_nodes_are_the_originals(store: Store, tmp_path: Path) -> None:
    load_repo(store, branch="p10", path=DATA / "rpms", date=DAY)
    tree = alt_iso_tree(tmp_path, make_rootfs(tmp_path / "root"))
    shutil.rmtree(tree / "ALTLinux")
    (tree / "altinst").unlink()
    (tree / ".disk/commit").unlink()
    (tree / ".disk/product").write_text("workstation\n\n")
    iso = make_iso(tree, tmp_path / "alt.iso")
    os.utime(iso, (MTIME, MTIME))
    summary = load_image(store, path=iso, meta=_meta(iso, "iso"))
    nodes = _nodes(store, summary.root_uuid)
    # derived from altrepodb 647565d (_make_iso_pkgsets): no "rpms" node without RPMs
    assert set(nodes) == {"alt-workstation", "live"}  # before: an empty "rpms" node too
    _depth, _complete, keys, values = nodes["alt-workstation"]
    kv = dict(zip(keys, values, strict=True))
    # derived: ISOImageMeta's fields first, each present ("" for a missing .disk file),
    # .disk text with trailing newlines dropped (rstrip("\n"))
    assert keys[:12] == [
        "type", "size", "class", "branch", "arch", "date", "info", "commit", "isoinfo",
        "md5_cs", "sha256_cs", "gost12_cs",
    ]  # fmt: skip
    assert (kv["type"], kv["class"]) == ("iso", "iso")  # before: type "image"
    # (the command line's arch and date then replace .disk/arch and .disk/date, as there)
    assert (kv["arch"], kv["date"], kv["info"], kv["commit"]) == (
        "x86_64",
        "2024-05-02T00:00:00",
        "ALT 10.1",
        "",
    )
    assert kv["product"] == "workstation"
    live = dict(zip(nodes["live"][2], nodes["live"][3], strict=True))
    # derived: every SquashFS node's "hash" is its snowflake_id_sqfs (before: "0" when
    # the image had an rpmdb)
    data = iso_bytes_of(tree / "live")
    expected = snowflake_id_sqfs(mtime=_sqfs_mtime(data), sha1=_sha1(data), size=len(data))
    assert live["hash"] == str(expected) != "0"
    assert nodes["live"][1] == 1


def iso_bytes_of(path: Path) -> bytes:
    return path.read_bytes()


def _sha1(data: bytes) -> bytes:
    import hashlib

    return hashlib.sha1(data, usedforsecurity=False).digest()


def _sqfs_mtime(data: bytes) -> int:
    return int.from_bytes(data[8:12], "little")  # the superblock's mkfs_time
