"""load_image against a real chDB store: a tarball image over a loaded repository snapshot."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from repotrack.errors import ConflictError, InputError
from repotrack.ingest import load_repo
from repotrack.ingest.image import load_image
from repotrack.ingest.image_meta import ImageMeta
from repotrack.store import Store
from tests.conftest import DATA
from tests.unit.sources.images.imageutil import (
    BINARY_RPMS,
    binary_hashes,
    make_ext,
    make_rootfs,
    make_tar,
)
from tests.unit.store.storeutil import open_fresh_store

DAY = date(2024, 5, 1)


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("tarimage")
    return make_tar(make_rootfs(base / "root"), base / "alt-workstation.tar.xz", "w:xz")


def _meta(
    path: Path, *, kind: str = "tar", branch: str = "p10", version: str = "10.1"
) -> ImageMeta:
    return ImageMeta.build(
        file=path.name,
        edition="alt-workstation",
        version=version,
        release="release",
        platform="",
        variant="live",
        flavor="",
        arch="x86_64",
        branch=branch,
        date="2024-05-02",
        url="https://example.org/images/alt-workstation.tar.xz",
        image_type=kind,
    )


def _count(store: Store, sql: str) -> int:
    return int(store.query(sql)[0][0])


def _plain_repo(tmp_path: Path, rpms: list[Path]) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    for rpm in rpms:
        shutil.copy(rpm, repo / rpm.name)
    return repo


def test_tarball_image_is_stored_as_a_package_set(
    store: Store, tarball: Path, tmp_path: Path
) -> None:
    load_repo(store, branch="p10", path=DATA / "rpms", date=DAY)
    meta = _meta(tarball)
    summary = load_image(store, path=tarball, meta=meta)
    assert summary.packages == len(BINARY_RPMS) and summary.unknown == 0
    assert summary.branch_match is not None and summary.branch_match.branch == "p10"
    assert meta.tag == "p10:alt-workstation:::release.10.1.0:x86_64:live:tar"

    ((name, tag, kv),) = store.query(
        "SELECT pkgset_nodename, pkgset_tag, CAST((pkgset_kv.k, pkgset_kv.v), "
        "'Map(String, String)') FROM PackageSetName WHERE pkgset_depth = 0 "
        "AND pkgset_uuid = {r:UUID}",
        {"r": summary.root_uuid},
    )
    data = tarball.read_bytes()
    assert (name, tag) == ("alt-workstation", meta.tag)
    assert kv["class"] == "tar" and kv["size"] == str(len(data))
    assert kv["md5_cs"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert kv["sha256_cs"] == hashlib.sha256(data).hexdigest()
    gost = subprocess.run(["gost12sum", str(tarball)], capture_output=True, text=True)
    if gost.returncode == 0:
        assert kv["gost12_cs"] == gost.stdout.split()[0]
    assert "VERSION_ID=10.1" in kv["osrelease"]  # the image's own, not the host's
    assert kv["url"].startswith("https://") and kv["version_major"] == "10"

    members = store.query(
        "SELECT n.pkgset_nodename, n.pkgset_depth, ps.pkg_hash FROM PackageSet_buffer AS ps "
        "INNER JOIN PackageSetName AS n ON n.pkgset_uuid = ps.pkgset_uuid "
        "WHERE n.pkgset_ruuid = {r:UUID}",
        {"r": summary.root_uuid},
    )
    assert {m[2] for m in members} == binary_hashes()
    assert {(m[0], m[1]) for m in members} == {("rpms", 1)}

    ((branch, edition, img_type, major, minor),) = store.query(
        "SELECT img_branch, img_edition, img_type, img_version_major, img_version_minor "
        "FROM ImagePackageSetName"
    )
    assert (branch, edition, img_type, major, minor) == ("p10", "alt-workstation", "tar", 10, 1)
    ((img_name, show),) = store.query("SELECT img_name, img_show FROM ImageStatus")
    assert (img_name, show) == ("ALT-WORKSTATION 10.1 x86_64", "hide")
    assert store.query("SELECT img_tag, img_show FROM ImageTagStatus") == [(meta.tag, "hide")]


def test_reload_is_refused_and_force_adds_a_new_root(store: Store, tarball: Path) -> None:
    load_repo(store, branch="p10", path=DATA / "rpms", date=DAY)
    load_image(store, path=tarball, meta=_meta(tarball))
    before = _count(store, "SELECT count() FROM PackageSetName")
    with pytest.raises(ConflictError, match="already loaded"):
        load_image(store, path=tarball, meta=_meta(tarball))
    assert _count(store, "SELECT count() FROM PackageSetName") == before
    load_image(store, path=tarball, meta=_meta(tarball), force=True)
    assert (
        _count(
            store,
            "SELECT count() FROM PackageSetName WHERE pkgset_depth = 0 "
            "AND pkgset_kv.v[indexOf(pkgset_kv.k, 'class')] = 'tar'",
        )
        == 2
    )
    assert _count(store, "SELECT count() FROM ImageStatus") == 1  # defaults only once
    assert _count(store, "SELECT count() FROM ImageTagStatus") == 1


def test_unknown_packages_are_refused_unless_forced(
    store: Store, tarball: Path, tmp_path: Path
) -> None:
    # The repository holds only rt-hello: the other installed packages are unknown.
    hello = [p for p in BINARY_RPMS if p.name.startswith("rt-hello-1")]
    load_repo(store, branch="p10", path=_plain_repo(tmp_path, hello), date=DAY)
    with pytest.raises(InputError, match=r"4 packages are not in the store \(rt-"):
        load_image(store, path=tarball, meta=_meta(tarball))
    assert _count(store, "SELECT count() FROM PackageSetName WHERE pkgset_tag != ''") == 0
    dry = load_image(store, path=tarball, meta=_meta(tarball), dry_run=True)
    assert dry.dry_run and dry.unknown == 4 and dry.root_uuid is None
    assert _count(store, "SELECT count() FROM PackageSetName WHERE pkgset_tag != ''") == 0
    forced = load_image(store, path=tarball, meta=_meta(tarball), force=True)
    assert forced.unknown == 4 and forced.root_uuid is not None


def test_wrong_branch_is_refused(store: Store, tarball: Path) -> None:
    load_repo(store, branch="p10", path=DATA / "rpms", date=DAY)
    with pytest.raises(InputError, match="no snapshot of branch 'sisyphus'"):
        load_image(store, path=tarball, meta=_meta(tarball, branch="sisyphus"))


def test_branch_guess_prefers_most_matches_then_latest(
    store: Store, tarball: Path, tmp_path: Path, trees: Path
) -> None:
    hello = [p for p in BINARY_RPMS if p.name.startswith("rt-hello-1")]
    load_repo(store, branch="p10", path=_plain_repo(tmp_path, hello), date=date(2024, 6, 1))
    load_repo(store, branch="p10", path=trees / "apt", date=date(2024, 4, 1))  # depth 2 sets
    load_repo(store, branch="p10", path=DATA / "rpms", date=date(2024, 3, 1))
    summary = load_image(store, path=tarball, meta=_meta(tarball))
    match = summary.branch_match
    assert match is not None and match.matched == len(BINARY_RPMS)
    assert match.date.date() == date(2024, 4, 1)  # both older ones hold all 5: latest wins


def test_corrupted_image_stores_nothing(store: Store, tarball: Path, tmp_path: Path) -> None:
    load_repo(store, branch="p10", path=DATA / "rpms", date=DAY)
    before = _count(store, "SELECT count() FROM PackageSetName")
    cut = tmp_path / "cut.tar.xz"
    cut.write_bytes(tarball.read_bytes()[:2000])
    with pytest.raises(InputError, match=r"cut\.tar\.xz"):
        load_image(store, path=cut, meta=_meta(cut))
    assert _count(store, "SELECT count() FROM PackageSetName") == before
    assert _count(store, "SELECT count() FROM ImageStatus") == 0


def test_ext4_image(store: Store, tmp_path: Path) -> None:
    load_repo(store, branch="p10", path=DATA / "rpms", date=DAY)
    image = make_ext(make_rootfs(tmp_path / "root"), tmp_path / "root.img")
    summary = load_image(store, path=image, meta=_meta(image, kind="img"))
    assert summary.packages == len(BINARY_RPMS)
    assert store.query("SELECT img_type FROM ImagePackageSetName") == [("img",)]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("version", "10.1.2.3", "Failed to parse version: '10.1.2.3'."),
        ("date", "2024-13-01", "Not a valid date: '2024-13-01'."),
        ("url", "not a url", "Not a valid URL"),
        ("edition", "alt-desktop", "invalid choice: 'alt-desktop'"),
        ("arch", "mips", "invalid choice: 'mips'"),
        ("platform", "rpi5", "invalid choice: 'rpi5'"),
        ("release", "final", "invalid choice: 'final'"),
        ("variant", "full", "invalid choice: 'full'"),
        ("image_type", "vmdk", "invalid choice: 'vmdk'"),
    ],
)
def test_meta_values_are_checked(field: str, value: str, message: str) -> None:
    values = {
        "file": "x.tar",
        "edition": "cloud",
        "version": "10",
        "release": "rc",
        "platform": "qemu",
        "variant": "install",
        "flavor": "kde",
        "arch": "aarch64",
        "branch": "p10",
        "date": "2024-05-02",
        "url": "http://example.org/x.tar",
        "image_type": "qcow",
    }
    assert ImageMeta.build(**values).tag == "p10:cloud:kde:qemu:rc.10.0.0:aarch64:install:qcow"
    values[field] = value
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(".", r"\.")):
        ImageMeta.build(**values)


def test_iso_meta_rules() -> None:
    values = {
        "file": "x.iso",
        "edition": "alt-server",
        "version": "10.2",
        "release": "release",
        "platform": "",
        "variant": "install",
        "flavor": "",
        "arch": "x86_64",
        "branch": "p10",
        "date": "2024-05-02",
        "url": "https://example.org/x.iso",
        "image_type": "iso",
    }
    assert ImageMeta.build(**values).tag == "p10:alt-server:::release.10.2.0:x86_64:install:iso"
    for field, value in (("flavor", "kde"), ("edition", "cloud"), ("platform", "rpi4")):
        with pytest.raises(InputError):
            ImageMeta.build(**{**values, field: value})


def test_image_load_request_round_trips_as_plain_data(tarball: Path) -> None:
    from repotrack.ingest.image import ImageLoad

    request = ImageLoad(path=tarball, meta=_meta(tarball), force=True)
    body = request.as_dict()
    assert (body["kind"], body["version"], body["force"]) == ("image", "10.1.0", True)
    assert ImageLoad.from_dict(body) == request
    with pytest.raises(InputError):  # the REST body is checked as the options are
        ImageLoad.from_dict({**body, "kind": "iso", "platform": "rpi4"})


def test_an_image_is_no_branch(store: Store, tarball: Path) -> None:
    """Branch queries (packages, diff, matching, exports) start from repository roots:
    an image's root, named by its edition, is found by the image queries only."""
    from repotrack.errors import NotFoundError
    from repotrack.store.queries import find_package_set

    repo = load_repo(store, branch="p10", path=DATA / "rpms", date=DAY)
    load_image(store, path=tarball, meta=_meta(tarball))
    with pytest.raises(NotFoundError, match="no package set of branch alt-workstation"):
        find_package_set(store, branch="alt-workstation")
    assert find_package_set(store, branch="p10").uuid == repo.root_uuid
