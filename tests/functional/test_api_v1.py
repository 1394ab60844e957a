"""``/api/v1`` and ``/healthz`` over HTTPS, on SQLite and PostgreSQL: status codes,
partial updates, pagination, status and run history, and bad input as JSON 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from repotrack.state import Issue, Run, Tracking
from tests.functional.server import ServerHandle, running_server, temporary_postgres, wipe

SHA = "0123456789abcdef0123456789abcdef01234567"


def new_item(n: int = 0, **changes: Any) -> dict[str, Any]:
    item = {
        "version_control": "git",
        "scm_repo": "https://git.example/zlib.git",
        "scm_branch": "main",
        "repo": f"https://gitee.com/src-openeuler/zlib{n}",
        "branch": "master",
    }
    item.update(changes)
    return item


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerHandle]:
    tmp = tmp_path_factory.mktemp("v1")
    if request.param == "postgresql":
        with temporary_postgres() as url, running_server(tmp, state_url=url) as handle:
            yield handle
    else:
        with running_server(tmp) as handle:
            yield handle


@pytest.fixture
def http(server: ServerHandle) -> Iterator[httpx.Client]:
    wipe(server)
    with server.client(auth=True) as client:
        yield client


def count(http: httpx.Client) -> int:
    total: int = http.get("/api/v1/items").json()["total"]
    return total


def test_create_get_patch_delete(http: httpx.Client) -> None:
    created = http.post("/api/v1/items", json=new_item(scm_commit=SHA))
    assert created.status_code == 201
    item = created.json()
    assert item["id"] > 0
    assert item["scm_commit"] == SHA
    assert item["enabled"] is True
    assert item["created_at"].endswith("+00:00") or item["created_at"].endswith("Z")
    url = f"/api/v1/items/{item['id']}"
    assert http.get(url).json() == item
    patched = http.patch(url, json={"enabled": False, "scm_branch": "develop"})
    assert patched.status_code == 200
    assert patched.json()["enabled"] is False
    assert patched.json()["scm_branch"] == "develop"
    assert patched.json()["scm_commit"] == SHA  # PATCH keeps scm_commit unless given
    cleared = http.patch(url, json={"scm_commit": None})
    assert cleared.json()["scm_commit"] is None
    assert http.delete(url).status_code == 204
    assert http.get(url).status_code == 404
    assert http.delete(url).status_code == 404
    assert http.patch(url, json={"enabled": True}).status_code == 404


def test_duplicate_is_409_and_rename_onto_existing_is_409(http: httpx.Client) -> None:
    first = http.post("/api/v1/items", json=new_item(1)).json()
    assert http.post("/api/v1/items", json=new_item(1)).status_code == 409
    http.post("/api/v1/items", json=new_item(2))
    clash = http.patch(f"/api/v1/items/{first['id']}", json={"repo": new_item(2)["repo"]})
    assert clash.status_code == 409
    assert "already exists" in clash.json()["detail"]
    assert count(http) == 2


def test_pagination_and_filters(http: httpx.Client) -> None:
    for n in range(7):
        http.post("/api/v1/items", json=new_item(n, enabled=n % 2 == 0))
    page = http.get("/api/v1/items", params={"limit": 3, "offset": 2}).json()
    assert page["total"] == 7
    assert page["limit"] == 3
    assert page["offset"] == 2
    assert [i["repo"] for i in page["items"]] == [new_item(n)["repo"] for n in (2, 3, 4)]
    enabled = http.get("/api/v1/items", params={"enabled": "true"}).json()
    assert enabled["total"] == 4
    one = http.get("/api/v1/items", params={"repo": new_item(3)["repo"]}).json()
    assert one["total"] == 1


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 1001}, {"offset": -1}, {"limit": "many"}], ids=str
)
def test_bad_pagination_is_422(http: httpx.Client, params: dict[str, Any]) -> None:
    answer = http.get("/api/v1/items", params=params)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("query.")


BAD_ITEMS: list[tuple[str, Any]] = [
    ("missing repo", {k: v for k, v in new_item().items() if k != "repo"}),
    ("unknown key", {**new_item(), "owner": "me"}),
    ("enabled as string", new_item(enabled="true")),
    ("repo as number", new_item(repo=5)),
    ("empty branch", new_item(branch="")),
    ("10000 characters", new_item(scm_repo="x" * 10_000)),
    ("bad sha", new_item(scm_commit="zzzz")),
    ("gitee upstream kind", new_item(version_control="gitee")),
    ("option-like url", new_item(scm_repo="-oProxyCommand=evil")),
    ("array body", [new_item()]),
]


@pytest.mark.parametrize(("label", "body"), BAD_ITEMS, ids=[label for label, _ in BAD_ITEMS])
def test_bad_item_is_422_json(http: httpx.Client, label: str, body: Any) -> None:
    answer = http.post("/api/v1/items", json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["detail"]
    assert "x" * 100 not in answer.text  # the offending value is not echoed back
    assert count(http) == 0


@pytest.mark.parametrize(
    "raw", [b"not json", b"\xff\xfe\x00", b"", b'{"repo": "\xc3\x28"}'], ids=str
)
def test_unparsable_body_is_4xx_json(http: httpx.Client, raw: bytes) -> None:
    answer = http.post("/api/v1/items", content=raw, headers={"content-type": "application/json"})
    assert 400 <= answer.status_code < 500
    assert answer.json()["detail"]
    assert count(http) == 0


def test_bad_patch_is_422_and_changes_nothing(http: httpx.Client) -> None:
    item = http.post("/api/v1/items", json=new_item()).json()
    url = f"/api/v1/items/{item['id']}"
    for body in ({"branch": None}, {"enabled": "no"}, {"id": 5}, {"branch": "a b"}):
        assert http.patch(url, json=body).status_code == 422
    assert http.get(url).json() == item
    assert http.get("/api/v1/items/not-a-number").status_code == 422


def test_status_and_runs(http: httpx.Client, server: ServerHandle) -> None:
    item = http.post("/api/v1/items", json=new_item(scm_commit=SHA)).json()
    status = http.get(f"/api/v1/items/{item['id']}/status").json()
    assert status["last_run"] is None
    assert status["consecutive_failures"] == 0
    assert status["commits_behind"] is None
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with server.app.state.state_db.session() as session:
        row = session.get(Tracking, item["id"])
        assert row is not None
        row.consecutive_failures = 2
        row.last_error = "upstream: connection refused"
        row.commits_behind = 5
        for n in range(3):
            session.add(
                Run(
                    tracking_id=item["id"],
                    started_at=start + timedelta(hours=n),
                    finished_at=start + timedelta(hours=n, minutes=1),
                    outcome="failed" if n else "success",
                    error="upstream: connection refused" if n else None,
                    commits_processed=0 if n else 3,
                )
            )
    status = http.get(f"/api/v1/items/{item['id']}/status").json()
    assert status["consecutive_failures"] == 2
    assert status["last_error"] == "upstream: connection refused"
    assert status["commits_behind"] == 5
    assert status["last_run"]["outcome"] == "failed"
    assert status["last_run"]["started_at"].startswith("2026-01-01T02:00:00")
    runs = http.get(f"/api/v1/items/{item['id']}/runs", params={"limit": 2}).json()
    assert runs["total"] == 3
    assert [r["started_at"][:19] for r in runs["items"]] == [
        "2026-01-01T02:00:00",
        "2026-01-01T01:00:00",
    ]
    assert http.get("/api/v1/items/999999/status").status_code == 404
    assert http.get("/api/v1/items/999999/runs").status_code == 404
    # Deleting the item deletes its runs (FK cascade + explicit delete).
    http.delete(f"/api/v1/items/{item['id']}")
    with server.app.state.state_db.session() as session:
        assert session.query(Run).count() == 0


def test_issues_listing(http: httpx.Client, server: ServerHandle) -> None:
    item = http.post("/api/v1/items", json=new_item()).json()
    with server.app.state.state_db.session() as session:
        for n in range(3):
            session.add(
                Issue(issue=f"I{n}", repo=item["repo"], branch="master", tracking_id=item["id"])
            )
    page = http.get("/api/v1/issues", params={"tracking_id": item["id"], "limit": 2}).json()
    assert page["total"] == 3
    assert [i["issue"] for i in page["items"]] == ["I0", "I1"]
    assert http.get("/api/v1/issues", params={"repo": "nope"}).json()["total"] == 0


def test_writes_need_auth_reads_do_not(http: httpx.Client, server: ServerHandle) -> None:
    item = http.post("/api/v1/items", json=new_item()).json()
    with server.client() as anonymous:
        refused = anonymous.post("/api/v1/items", json=new_item(1))
        assert refused.status_code == 401
        assert refused.json() == {"detail": "authentication required"}
        assert refused.headers["www-authenticate"] == 'Basic realm="Authentication Required"'
        assert anonymous.patch(f"/api/v1/items/{item['id']}", json={}).status_code == 401
        assert anonymous.delete(f"/api/v1/items/{item['id']}").status_code == 401
        assert anonymous.get("/api/v1/items").json()["total"] == 1


def test_health_and_openapi(http: httpx.Client) -> None:
    health = http.get("/healthz")
    assert health.status_code == 200
    assert health.json()["database"] == "ok"
    assert health.json()["tracker"] == "off"
    spec = http.get("/openapi.json").json()
    for path in ("/tracking", "/issue", "/api/v1/items", "/api/v1/items/{item_id}/status"):
        assert path in spec["paths"]
    assert http.get("/docs").status_code == 200
