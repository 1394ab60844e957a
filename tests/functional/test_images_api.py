"""``/api/v1/images`` over HTTP: the real service on a store holding a repo and two images."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from repotrack.ingest import load_repo
from repotrack.ingest.image import load_image
from repotrack.ingest.image_meta import ImageMeta
from repotrack.store import open_store
from tests.conftest import DATA
from tests.functional.server import running_server
from tests.unit.sources.images.imageutil import binary_hashes, make_ext, make_rootfs, make_tar
from tests.unit.store.storeutil import fresh_store_url

TAR_TAG = "p10:alt-workstation:::release.10.1.0:x86_64:live:tar"
IMG_TAG = "p10:alt-server:::beta.10.2.0:x86_64:install:img"


def _meta(
    path: Path, edition: str, version: str, release: str, variant: str, kind: str
) -> ImageMeta:
    return ImageMeta.build(
        file=path.name, edition=edition, version=version, release=release, platform="",
        variant=variant, flavor="", arch="x86_64", branch="p10", date="2024-05-02",
        url=f"https://example.org/{path.name}", image_type=kind,
    )  # fmt: skip


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    tmp_path = tmp_path_factory.mktemp("images-api")
    url = fresh_store_url(tmp_path_factory, tmp_path / "server-home" / "store")
    root = make_rootfs(tmp_path / "root")
    tar = make_tar(root, tmp_path / "rootfs.tar")
    img = make_ext(root, tmp_path / "root.img")
    with open_store(url) as store:
        load_repo(store, branch="p10", path=DATA / "rpms", date=date(2024, 5, 1))
        load_image(
            store, path=tar, meta=_meta(tar, "alt-workstation", "10.1", "release", "live", "tar")
        )
        load_image(store, path=img, meta=_meta(img, "alt-server", "10.2", "beta", "install", "img"))
    with running_server(tmp_path, tls=False) as server:
        assert server.settings.store_url == url
        with server.client() as http:
            yield http


def test_list_and_packages(client: httpx.Client) -> None:
    listed = client.get("/api/v1/images", params={"branch": "p10"})
    assert listed.status_code == 200
    assert sorted(i["tag"] for i in listed.json()) == sorted([TAR_TAG, IMG_TAG])
    only = client.get("/api/v1/images", params={"edition": "alt-server"}).json()
    assert [i["tag"] for i in only] == [IMG_TAG]
    content = client.get("/api/v1/images/packages", params={"tag": TAR_TAG})
    assert content.status_code == 200
    assert {int(p["pkg_hash"]) for p in content.json()["packages"]} == binary_hashes()


def test_find_and_diff(client: httpx.Client) -> None:
    found = client.get("/api/v1/images/find", params={"name": "rt-tilde", "max_version": "2.0"})
    assert found.status_code == 200
    assert len(found.json()) == 2  # 2.0~rc1 sorts before 2.0 in rpm order
    none = client.get("/api/v1/images/find", params={"name": "rt-tilde", "max_version": "2.0~beta"})
    assert none.json() == []
    diff = client.get("/api/v1/images/diff", params={"tag": TAR_TAG, "other": IMG_TAG})
    assert diff.status_code == 200
    body = diff.json()
    assert (body["added"], body["removed"], body["updated"]) == ([], [], [])
    vs_branch = client.get("/api/v1/images/diff", params={"tag": TAR_TAG}).json()
    assert vs_branch["new_set"]["branch"] == "p10" and vs_branch["removed"] == []


@pytest.mark.parametrize(
    ("path", "params", "status", "text"),
    [
        ("/api/v1/images/packages", {}, 422, "tag"),
        ("/api/v1/images/packages", {"tag": "p9:x"}, 404, "no image tagged p9:x"),
        ("/api/v1/images/packages", {"tag": TAR_TAG, "date": "2024-01-01"}, 404, "on or before"),
        ("/api/v1/images/find", {"name": "x", "min_version": ":"}, 422, "min_version"),
    ],
)
def test_errors(
    client: httpx.Client, path: str, params: dict[str, str], status: int, text: str
) -> None:
    answer = client.get(path, params=params)
    assert answer.status_code == status
    assert text in answer.text
