"""``POST /api/v1/loads`` with ``kind`` ``image``/``iso``: the service loads an image.

A real server (uvicorn in a thread) with its own chDB store; a repository load of
``tests/data/rpms`` first, so that the image's packages are known; the image is a real
ext4 file system made by ``mkfs.ext4 -d`` from an rpmdb written by ``rpm --justdb``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from repotrack.service.jobs import CANCELLED
from tests.functional.server import ServerHandle
from tests.unit.service.test_loads import AUTH, body, server, wait  # noqa: F401 - fixture
from tests.unit.sources.images.imageutil import make_ext, make_rootfs

TAG = "p10:alt-server:::beta.10.2.0:x86_64:install:img"


def image_body(path: Path, **changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "kind": "image", "path": str(path), "branch": "p10", "date": "2024-05-02",
        "edition": "alt-server", "version": "10.2", "release": "beta", "variant": "install",
        "arch": "x86_64", "url": f"https://example.org/{path.name}", "image_type": "img",
    }  # fmt: skip
    request.update(changes)
    return request


@pytest.fixture(scope="module")
def client(server: ServerHandle) -> Iterator[httpx.Client]:  # noqa: F811 - the shared server
    with server.client(auth=AUTH) as http:
        done = wait(http, http.post("/api/v1/loads", json=body()).json()["id"])
        assert done["state"] == "done", done
        yield http


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("service-images")
    root = make_rootfs(base / "root")
    return {
        "small": make_ext(root, base / "root.img"),
        "big": make_ext(root, base / "big.img", size_mib=2048),  # sparse on disk
    }


def test_an_image_job_loads_and_reports(client: httpx.Client, images: dict[str, Path]) -> None:
    answer = client.post("/api/v1/loads", json=image_body(images["small"]))
    assert answer.status_code == 202, answer.text
    job = wait(client, answer.json()["id"])
    assert (job["kind"], job["state"], job["error"]) == ("image", "done", None)
    assert job["params"]["file"] == "root.img" and job["params"]["version"] == "10.2.0"
    summary = job["summary"]
    assert (summary["tag"], summary["packages"], summary["unknown"]) == (TAG, 5, 0)
    assert summary["base"] == {"branch": "p10", "date": "2024-05-01", "matched": 5}
    assert summary["line"].startswith(f"{TAG} 2024-05-02: loaded, 5 packages (0 not in the store)")
    mib = -(-images["small"].stat().st_size // (1 << 20))
    assert job["progress"]["packages"] == job["progress"]["total"] == mib + 1
    listed = client.get("/api/v1/images", params={"branch": "p10"}).json()
    assert [i["tag"] for i in listed] == [TAG]
    again = wait(
        client, client.post("/api/v1/loads", json=image_body(images["small"])).json()["id"]
    )
    assert again["state"] == "failed"
    assert again["error"]["type"] == "ConflictError"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"edition": None}, "edition"),
        ({"image_type": "vmdk"}, "--type"),
        ({"version": "10.x"}, "--version"),
        ({"kind": "iso", "edition": "cloud"}, "--edition"),
        ({"url": "not a url"}, "--url"),
    ],
)
def test_bad_image_values_are_422_naming_the_field(
    client: httpx.Client, images: dict[str, Path], changes: dict[str, Any], field: str
) -> None:
    answer = client.post("/api/v1/loads", json=image_body(images["small"], **changes))
    assert answer.status_code == 422, answer.text
    assert field in answer.text


def test_an_image_path_must_be_a_file(client: httpx.Client, images: dict[str, Path]) -> None:
    answer = client.post("/api/v1/loads", json=image_body(images["small"].parent))
    assert answer.status_code == 422
    assert "no such image file" in answer.text


def test_a_cancelled_image_job_stores_nothing(
    client: httpx.Client, images: dict[str, Path]
) -> None:
    big = image_body(images["big"], date="2024-05-09", edition="alt-education")
    job = client.post("/api/v1/loads", json=big).json()
    deadline = time.monotonic() + 60
    while client.get(f"/api/v1/loads/{job['id']}").json()["progress"]["packages"] < 2:
        assert time.monotonic() < deadline, "the digest pass did not start"
        time.sleep(0.05)
    answer = client.delete(f"/api/v1/loads/{job['id']}")
    assert answer.status_code == 200
    ended = answer.json()
    assert ended["state"] == "failed" and ended["error"]["message"] == CANCELLED
    assert ended["progress"]["packages"] < ended["progress"]["total"]
    listed = client.get("/api/v1/images", params={"edition": "alt-education"}).json()
    assert listed == []
