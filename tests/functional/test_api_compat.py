"""The patch-tracking compatibility routes over HTTPS, on SQLite and PostgreSQL.

Envelope codes and messages are checked to the letter (reference §2.1). Every bad
input answers 4001 and leaves the database as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from repotrack.state import Issue, Tracking
from tests.functional.server import ServerHandle, running_server, temporary_postgres, wipe

OK = {"code": "2001", "msg": "Successful Operation!"}
BAD = {"code": "4001", "msg": "Please enter the correct parameters", "data": None}
NOT_FOUND = {
    "code": "6005",
    "msg": "The tracking you want to delete does not exist",
    "data": None,
}
REPO = "https://gitee.com/src-openeuler/zlib"
SHA = "0123456789abcdef0123456789abcdef01234567"


def github_item(**changes: Any) -> dict[str, Any]:
    item = {
        "version_control": "github",
        "scm_repo": "madler/zlib",
        "scm_branch": "develop",
        "scm_commit": None,
        "repo": REPO,
        "branch": "master",
        "enabled": True,
    }
    item.update(changes)
    return item


def git_item(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "version_control": "git",
        "scm_repo": "https://github.com/madler/zlib.git",
        "branch": "openEuler-22.03-LTS",
    }
    fields.update(changes)
    return github_item(**fields)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerHandle]:
    tmp = tmp_path_factory.mktemp("compat")
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


@pytest.fixture
def anonymous(server: ServerHandle) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def rows(http: httpx.Client) -> list[dict[str, Any]]:
    answer = http.get("/tracking")
    assert answer.status_code == 200
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


def test_empty_list_is_2001_json(http: httpx.Client) -> None:
    answer = http.get("/tracking")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {**OK, "data": []}


def test_post_echoes_body_and_get_returns_the_seven_fields(http: httpx.Client) -> None:
    for item in (github_item(), git_item(scm_commit=SHA)):
        answer = http.post("/tracking", json=item)
        assert answer.json() == {**OK, "data": item}
    data = rows(http)
    assert data == [github_item(), git_item(scm_commit=SHA)]
    assert list(data[0]) == [
        "version_control",
        "scm_repo",
        "scm_branch",
        "scm_commit",
        "repo",
        "branch",
        "enabled",
    ]


def test_filters_are_exact_and(http: httpx.Client) -> None:
    http.post("/tracking", json=github_item())
    http.post("/tracking", json=git_item(enabled=False))
    by_pair = http.get("/tracking", params={"repo": REPO, "branch": "master"}).json()
    assert by_pair == {**OK, "data": [github_item()]}
    enabled = http.get("/tracking", params={"enabled": "true"}).json()["data"]
    assert enabled == [github_item()]
    # Only the exact string "true" means true, as in the original.
    for value in ("false", "True", "1"):
        data = http.get("/tracking", params={"enabled": value}).json()["data"]
        assert data == [git_item(enabled=False)]
    assert http.get("/tracking", params={"repo": "nope"}).json() == {**OK, "data": []}


@pytest.mark.parametrize(
    "params", [{"rep": "x"}, {"BRAnch": "master"}, {"repo": REPO, "page": "1"}]
)
def test_get_unknown_key_is_4001(http: httpx.Client, params: dict[str, str]) -> None:
    assert http.get("/tracking", params=params).json() == BAD
    assert http.get("/issue", params=params).json() == BAD


def test_upsert_updates_and_keeps_scm_commit_when_absent(http: httpx.Client) -> None:
    http.post("/tracking", json=github_item(scm_commit=SHA))
    changed = github_item(scm_branch="main", enabled=False)
    assert http.post("/tracking", json=changed).json()["code"] == "2001"
    assert rows(http) == [github_item(scm_branch="main", enabled=False, scm_commit=SHA)]
    without_key = {k: v for k, v in changed.items() if k != "scm_commit"}
    assert http.post("/tracking", json=without_key).json() == {**OK, "data": without_key}
    assert rows(http)[0]["scm_commit"] == SHA
    newer = "f" * 40
    http.post("/tracking", json=github_item(scm_commit=newer))
    assert rows(http) == [github_item(scm_commit=newer)]


BAD_BODIES: list[tuple[str, Any]] = [
    ("missing key", {k: v for k, v in github_item().items() if k != "scm_repo"}),
    ("unknown key", {**github_item(), "id": 3}),
    ("bad version_control", github_item(version_control="gitgitgit")),
    ("gitlab not yet", github_item(version_control="gitlab")),
    ("enabled string", github_item(enabled="AA")),
    ("enabled integer", github_item(enabled=1)),
    ("repo integer", github_item(repo=12)),
    ("branch list", github_item(branch=["master"])),
    ("scm_commit number", github_item(scm_commit=1234567)),
    ("scm_commit not hex", github_item(scm_commit="not-a-sha")),
    ("scm_commit too long", github_item(scm_commit="a" * 65)),
    ("empty repo", github_item(repo="")),
    ("empty branch", github_item(branch="")),
    ("empty scm_branch", github_item(scm_branch="")),
    ("10000 characters", github_item(scm_repo="a" * 10_000)),
    ("10000-character branch", github_item(branch="b" * 10_000)),
    ("url with space", github_item(repo="https://gitee.com/a b")),
    ("option-looking url", github_item(scm_repo="--upload-pack=touch /tmp/x")),
    ("ext transport", git_item(scm_repo="ext::sh -c touch% /tmp/pwned")),
    ("bad branch name", github_item(branch="a..b")),
    ("null required field", github_item(repo=None)),
    ("json array", [github_item()]),
    ("json string", "tracking"),
    ("json null", None),
]


@pytest.mark.parametrize(("label", "body"), BAD_BODIES, ids=[label for label, _ in BAD_BODIES])
def test_bad_body_is_4001_and_changes_nothing(http: httpx.Client, label: str, body: Any) -> None:
    http.post("/tracking", json=git_item())
    # Sent as JSON text: httpx sends no body at all for json=None.
    raw = json.dumps(body)
    answer = http.post("/tracking", content=raw, headers={"content-type": "application/json"})
    assert answer.status_code == 200
    assert answer.json() == BAD
    assert answer.headers["x-repotrack-error"]
    assert rows(http) == [git_item()]


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"\xff\xfe\x00garbage", b'{"repo": "\xc3\x28"}', b"{" * 100_000],
    ids=["empty", "not-json", "non-utf8", "bad-utf8-in-string", "huge-nesting"],
)
def test_unparsable_body_is_4001(http: httpx.Client, raw: bytes) -> None:
    answer = http.post("/tracking", content=raw, headers={"content-type": "application/json"})
    assert answer.json() == BAD
    assert rows(http) == []


def test_delete_with_and_without_branch(http: httpx.Client) -> None:
    http.post("/tracking", json=github_item())
    http.post("/tracking", json=git_item())
    http.post("/tracking", json=github_item(repo="https://gitee.com/src-openeuler/other"))
    answer = http.delete("/tracking", params={"repo": REPO, "branch": "master"})
    assert answer.json() == {**OK, "data": None}
    assert len(rows(http)) == 2
    assert http.delete("/tracking", params={"repo": REPO, "branch": "master"}).json() == NOT_FOUND
    assert http.delete("/tracking", params={"repo": REPO}).json() == {**OK, "data": None}
    assert rows(http) == [github_item(repo="https://gitee.com/src-openeuler/other")]
    assert http.delete("/tracking", params={"repo": REPO}).json() == NOT_FOUND


@pytest.mark.parametrize("params", [{}, {"branch": "master"}, {"repo": REPO, "x": "1"}])
def test_delete_bad_params_is_4001(http: httpx.Client, params: dict[str, str]) -> None:
    http.post("/tracking", json=github_item())
    assert http.delete("/tracking", params=params).json() == BAD
    assert len(rows(http)) == 1


def add_issue(server: ServerHandle, number: str, *, repo: str, branch: str) -> None:
    with server.app.state.state_db.session() as session:
        item = session.query(Tracking).filter_by(repo=repo, branch=branch).one_or_none()
        session.add(
            Issue(
                issue=number,
                repo=repo,
                branch=branch,
                tracking_id=item.id if item is not None else None,
            )
        )


def test_issue_listing_and_delete_removes_issue_rows(
    http: httpx.Client, server: ServerHandle
) -> None:
    http.post("/tracking", json=github_item())
    add_issue(server, "I1ABCD", repo=REPO, branch="master")
    add_issue(server, "I1ABCE", repo=REPO, branch="master")
    add_issue(server, "I9ZZZZ", repo="https://gitee.com/x/y", branch="master")
    everything = http.get("/issue").json()
    assert everything["code"] == "2001"
    assert len(everything["data"]) == 3
    filtered = http.get("/issue", params={"repo": REPO, "branch": "master"}).json()
    assert filtered == {
        **OK,
        "data": [
            {"issue": "I1ABCD", "repo": REPO, "branch": "master"},
            {"issue": "I1ABCE", "repo": REPO, "branch": "master"},
        ],
    }
    assert http.delete("/tracking", params={"repo": REPO}).json()["code"] == "2001"
    assert http.get("/issue").json()["data"] == [
        {"issue": "I9ZZZZ", "repo": "https://gitee.com/x/y", "branch": "master"}
    ]


UNAUTHORIZED = 'Basic realm="Authentication Required"'


@pytest.mark.parametrize(
    "auth",
    [None, ("admin", "wrong"), ("root", "Passw0rd~"), ("admin", "")],
    ids=["absent", "wrong-password", "wrong-user", "empty-password"],
)
def test_writes_need_credentials(
    http: httpx.Client, server: ServerHandle, auth: tuple[str, str] | None
) -> None:
    http.post("/tracking", json=github_item())
    with server.client(auth=auth) as client:
        for answer in (
            client.post("/tracking", json=git_item()),
            client.delete("/tracking", params={"repo": REPO}),
        ):
            assert answer.status_code == 401
            assert answer.text == "Unauthorized Access"
            assert answer.headers["www-authenticate"] == UNAUTHORIZED
        assert client.get("/tracking").json()["data"] == [github_item()]


@pytest.mark.parametrize(
    "header", ["Bearer abc", "Basic", "Basic !!!notbase64", "Basic YWRtaW4="], ids=str
)
def test_malformed_authorization_header_is_401(server: ServerHandle, header: str) -> None:
    with server.client() as client:
        answer = client.post("/tracking", json=github_item(), headers={"authorization": header})
        assert answer.status_code == 401
        assert answer.text == "Unauthorized Access"


def test_root_is_404_and_no_trailing_slash_variants(anonymous: httpx.Client) -> None:
    assert anonymous.get("/").status_code == 404
    assert anonymous.head("/").status_code == 404
    assert anonymous.get("/tracking/").status_code == 404
    assert anonymous.get("/issue/").status_code == 404
    assert anonymous.head("/tracking").status_code == 200


def test_database_errors_have_envelopes_not_500(tmp_path: Path) -> None:
    """6004 (with a message), 6001 and 6003 when the state database fails underneath."""
    with running_server(tmp_path) as server, server.client(auth=True) as http:
        with server.app.state.state_db.engine.begin() as conn:
            conn.execute(text("DROP TABLE run"))
            conn.execute(text("DROP TABLE issue"))
            conn.execute(text("DROP TABLE tracking"))
        answer = http.post("/tracking", json=github_item())
        assert answer.status_code == 200
        assert answer.json() == {
            "code": "6004",
            "msg": "Failed to insert data into database",
            "data": None,
        }
        assert http.delete("/tracking", params={"repo": REPO}).json() == {
            "code": "6001",
            "msg": "Failed to delete database",
            "data": None,
        }
        assert http.get("/tracking").json() == {
            "code": "6003",
            "msg": "Unable to connect to the database, check the database configuration",
            "data": None,
        }
