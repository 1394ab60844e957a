"""load_image on an ALT-style ISO: RPMs, a live SquashFS rpmdb, an altinst file walk."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from repotrack.errors import InputError
from repotrack.ingest import load_repo
from repotrack.ingest.image import load_image
from repotrack.ingest.image_iso import snowflake_id_sqfs
from repotrack.ingest.image_meta import ImageMeta
from repotrack.rpm import read_rpm
from repotrack.store import Store
from tests.conftest import DATA
from tests.unit.ingest.test_load_image import DAY
from tests.unit.sources.images.imageutil import (
    BINARY_RPMS,
    alt_iso_tree,
    binary_hashes,
    make_iso,
    make_rootfs,
)
from tests.unit.store.storeutil import open_fresh_store


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


@pytest.fixture(scope="module")
def iso(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("isoload")
    rootfs = make_rootfs(base / "root")
    return make_iso(alt_iso_tree(base, rootfs), base / "alt-workstation-10.1-x86_64.iso")


def _meta(iso: Path, branch: str = "p10") -> ImageMeta:
    return ImageMeta.build(
        file=iso.name,
        edition="alt-workstation",
        version="10.1",
        release="release",
        platform="",
        variant="install",
        flavor="",
        arch="x86_64",
        branch=branch,
        date="2024-05-02",
        url="https://example.org/alt.iso",
        image_type="iso",
    )


def _nodes(store: Store, root: object) -> dict[str, dict[str, str]]:
    rows = store.query(
        "SELECT pkgset_nodename, CAST((pkgset_kv.k, pkgset_kv.v), 'Map(String, String)') "
        "FROM PackageSetName WHERE pkgset_ruuid = {r:UUID} AND pkgset_depth = 1",
        {"r": root},
    )
    return {name: kv for name, kv in rows}


def _members(store: Store, root: object, node: str) -> set[int]:
    rows = store.query(
        "SELECT pkg_hash FROM PackageSet_buffer WHERE pkgset_uuid IN (SELECT pkgset_uuid "
        "FROM PackageSetName WHERE pkgset_ruuid = {r:UUID} AND pkgset_nodename = {n:String})",
        {"r": root, "n": node},
    )
    return {int(h) for (h,) in rows}


def _hash_of(prefix: str) -> int:
    return next(read_rpm(p).pkg_hash for p in BINARY_RPMS if p.name.startswith(prefix))


def test_iso_load(store: Store, iso: Path) -> None:
    load_repo(store, branch="p10", path=DATA / "rpms", date=DAY)
    summary = load_image(store, path=iso, meta=_meta(iso))
    root = summary.root_uuid
    nodes = _nodes(store, root)
    assert set(nodes) == {"rpms", "live", "altinst"}
    assert _members(store, root, "rpms") == {_hash_of("rt-hello-1"), _hash_of("rt-bz")}
    assert _members(store, root, "live") == binary_hashes()

    # altinst: matched by path + MD5 to rt-hello-libs and rt-tilde; 3 orphaned files.
    altinst = iso_file_bytes(iso, "altinst")
    orphan = snowflake_id_sqfs(
        mtime=int(nodes["altinst"]["mtime"]),
        sha1=hashlib.sha1(altinst, usedforsecurity=False).digest(),
        size=len(altinst),
    )
    assert _members(store, root, "altinst") == {
        _hash_of("rt-hello-libs"),
        _hash_of("rt-tilde"),
        orphan,
    }
    kv = nodes["altinst"]
    assert (kv["type"], kv["orphaned_files"], kv["hash"]) == ("squashfs", "3", str(orphan))
    assert kv["sha1"] == hashlib.sha1(altinst, usedforsecurity=False).hexdigest()
    ((name, packager, vendor, source),) = store.query(
        "SELECT pkg_name, pkg_packager_email, pkg_vendor, pkg_sourcerpm FROM Packages_buffer "
        "WHERE pkg_hash = {h:UInt64}",
        {"h": orphan},
    )
    assert name == f"altinst_orphaned-files_{iso.name}_20240502"
    assert (packager, vendor, source) == ("iso_loader@altlinux.org", "BASEALT LTD", "altinst")
    files = store.query(
        "SELECT fn_name FROM FileNames_buffer WHERE fn_hash IN "
        "(SELECT file_hashname FROM Files_buffer WHERE pkg_hash = {h:UInt64}) ORDER BY fn_name",
        {"h": orphan},
    )
    assert [f for (f,) in files] == ["/etc/group", "/etc/installer.conf", "/etc/passwd"]

    ((root_kv,),) = store.query(
        "SELECT CAST((pkgset_kv.k, pkgset_kv.v), 'Map(String, String)') FROM PackageSetName "
        "WHERE pkgset_uuid = {r:UUID}",
        {"r": root},
    )
    assert root_kv["class"] == "iso" and root_kv["commit"] == "c0ffee"
    assert "Volume id: ALT Workstation 10.1 x86_64" in root_kv["isoinfo"]
    assert store.query("SELECT img_type, img_variant FROM ImagePackageSetName") == [
        ("iso", "install")
    ]


def iso_file_bytes(iso: Path, name: str) -> bytes:
    from repotrack.sources.images.iso9660 import IsoFileSystem

    with iso.open("rb") as f:
        return IsoFileSystem(f, name=str(iso)).open_file(name).read()


def test_iso_with_unmatched_branch_is_refused_even_forced(store: Store, iso: Path) -> None:
    load_repo(store, branch="p10", path=DATA / "rpms", date=DAY)
    for force in (False, True):
        with pytest.raises(InputError, match="no snapshot of branch 'p11'"):
            load_image(store, path=iso, meta=_meta(iso, branch="p11"), force=force)
    assert (
        int(store.query("SELECT count() FROM Packages_buffer WHERE pkg_name LIKE '%orphan%'")[0][0])
        == 0
    )


def test_altinst_walk_checks_the_md5_of_alt_packages(store: Store, tmp_path: Path) -> None:
    """A real ALT package (MD5 file digests): a file whose path and size match but whose
    content differs is not the package's; it becomes an orphaned file."""
    import shutil

    from tests.conftest import need_fixtures
    from tests.unit.sources.images.imageutil import extract_payload, make_squashfs

    (alt_rpm,) = need_fixtures("rpm", "alt").glob("*.rpm")
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(alt_rpm, repo)
    load_repo(store, branch="p10", path=repo, date=DAY)
    tree = tmp_path / "iso"
    (tree / ".disk").mkdir(parents=True)
    (tree / ".disk/date").write_text("20240502\n")
    altinst = extract_payload([alt_rpm], tmp_path / "altinst")
    tool = altinst / "usr/lib/squid/cert_tool"
    data = bytearray(tool.read_bytes())
    data[-2] ^= 0x20  # same path, same size, other content
    tool.write_bytes(bytes(data))
    make_squashfs(altinst, tree / "altinst")
    image = make_iso(tree, tmp_path / "installer.iso")

    summary = load_image(store, path=image, meta=_meta(image))
    nodes = _nodes(store, summary.root_uuid)
    orphan = int(nodes["altinst"]["hash"])
    assert _members(store, summary.root_uuid, "altinst") == {read_rpm(alt_rpm).pkg_hash, orphan}
    assert nodes["altinst"]["orphaned_files"] == "1"
    files = store.query(
        "SELECT DISTINCT fn_name FROM FileNames_buffer WHERE fn_hash IN "
        "(SELECT file_hashname FROM Files_buffer WHERE pkg_hash = {h:UInt64})",
        {"h": orphan},
    )
    assert files == [("/usr/lib/squid/cert_tool",)]


@pytest.mark.parametrize(("live", "altinst"), [("lzo", "lz4"), ("lz4", "lzo")])
def test_iso_with_lzo_and_lz4_squashfs_loads_the_same(
    store: Store, tmp_path: Path, live: str, altinst: str
) -> None:
    """The rpmdb read from one image and the file walk (paths and MD5s) of the other, with
    each of the two compressors read only since this session."""
    rootfs = make_rootfs(tmp_path / "root")
    iso = make_iso(alt_iso_tree(tmp_path, rootfs, live=live, altinst=altinst), tmp_path / "a.iso")
    load_repo(store, branch="p10", path=DATA / "rpms", date=DAY)
    summary = load_image(store, path=iso, meta=_meta(iso))
    nodes = _nodes(store, summary.root_uuid)
    assert _members(store, summary.root_uuid, "live") == binary_hashes()
    orphan = int(nodes["altinst"]["hash"])
    assert _members(store, summary.root_uuid, "altinst") == {
        _hash_of("rt-hello-libs"),
        _hash_of("rt-tilde"),
        orphan,
    }
    assert nodes["altinst"]["orphaned_files"] == "3"
