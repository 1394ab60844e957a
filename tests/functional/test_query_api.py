"""``/api/v1/packages`` and ``/api/v1/diff`` over HTTP: the real service, real chDB store."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from repotrack.store import open_store
from tests.functional.server import running_server
from tests.unit.store.storeutil import fresh_store_url


@pytest.fixture(scope="module", params=["per-request", "shared"])
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """The service over plain HTTP; its store opened per request, or once for the app.

    Module-scoped: every test here only reads, and starting a store costs a second.
    """
    tmp_path = tmp_path_factory.mktemp("api")
    url = fresh_store_url(tmp_path_factory, tmp_path / "server-home" / "store", loaded=True)
    with running_server(tmp_path, tls=False) as server:
        assert server.settings.store_url == url
        shared = open_store(url) if request.param == "shared" else None
        server.app.state.store = shared
        try:
            with server.client() as http:
                yield http
        finally:
            if shared is not None:
                shared.close()


def test_packages_page(client: httpx.Client) -> None:
    answer = client.get(
        "/api/v1/packages", params={"branch": "p10", "date": "2024-05-01", "limit": 2}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 0)
    assert [p["name"] for p in body["packages"]] == ["bar", "bar"]
    assert isinstance(body["packages"][0]["pkg_hash"], str)
    nxt = client.get(
        "/api/v1/packages", params={"branch": "p10", "date": "2024-05-01", "limit": 2, "offset": 4}
    )
    assert [p["name"] for p in nxt.json()["packages"]] == ["libfoo"]
    glob = client.get("/api/v1/packages", params={"branch": "p10", "name": "*foo", "arch": "src"})
    assert [p["version"] for p in glob.json()["packages"]] == ["1.10"]


def test_package_and_diff(client: httpx.Client) -> None:
    answer = client.get("/api/v1/packages/foo", params={"branch": "p10"})
    assert answer.status_code == 200
    builds = answer.json()["builds"]
    assert [b["package"]["arch"] for b in builds] == ["src", "x86_64"]
    assert builds[1]["files"][0] == "/usr/bin/foo"
    diff = client.get(
        "/api/v1/diff", params={"branch": "p10", "from": "2024-05-01", "to": "2024-06-01"}
    )
    assert diff.status_code == 200
    body = diff.json()
    assert (body["added_total"], body["removed_total"], body["updated_total"]) == (2, 2, 2)
    assert body["updated"][0]["old"]["version"] == "1.0"


@pytest.mark.parametrize(
    ("path", "params", "status", "text"),
    [
        ("/api/v1/packages", {}, 422, "branch"),
        ("/api/v1/packages", {"branch": "p10", "date": "2024-13-01"}, 422, "date"),
        ("/api/v1/packages", {"branch": "p10", "limit": 0}, 422, "limit"),
        ("/api/v1/packages", {"branch": "p10", "offset": -1}, 422, "offset"),
        ("/api/v1/packages", {"branch": "p9"}, 404, "no package set of branch p9"),
        (
            "/api/v1/packages",
            {"branch": "p10", "date": "2000-01-01"},
            404,
            "on or before 2000-01-01",
        ),
        ("/api/v1/packages/nope", {"branch": "p10"}, 404, "package nope is not in p10"),
        ("/api/v1/diff", {"branch": "p10", "from": "2024-06-01"}, 422, "to"),
        (
            "/api/v1/diff",
            {"branch": "p10", "from": "2024-06-01", "to": "2024-05-01"},
            422,
            "before the first",
        ),
        # no load could store a name with spaces: refused, not looked up (a bound
        # parameter either way)
        ("/api/v1/packages", {"branch": "x' OR '1'='1"}, 422, "bad branch name"),
        ("/api/v1/packages", {"branch": "x'--"}, 404, "no package set of branch x'--"),
    ],
)
def test_bad_input_is_4xx_json(
    client: httpx.Client, path: str, params: dict[str, object], status: int, text: str
) -> None:
    answer = client.get(path, params=params)
    assert answer.status_code == status
    assert text in answer.json()["detail"]
