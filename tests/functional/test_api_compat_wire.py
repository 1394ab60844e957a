"""The compatibility routes byte for byte as the original Flask service answered.

Expected answers are the original's as reference ``patch_tracking.md`` records them
(§2) and as its code produces them: ``json.dumps`` defaults for the envelope, Flask's
first-value ``request.args``, SQLite's (repo, branch) key order for a ``repo``
filter, and Werkzeug's HTML 415 for ``request.json`` on a body not labelled JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from repotrack.state import StateDB, Tracking
from tests.functional.server import ServerHandle, running_server, temporary_postgres, wipe

REPO = "https://gitee.com/src-openeuler/zlib"
OTHER = "https://gitee.com/src-openeuler/bzip2"
WERKZEUG_415 = (
    b"<!doctype html>\n<html lang=en>\n<title>415 Unsupported Media Type</title>\n"
    b"<h1>Unsupported Media Type</h1>\n<p>Did not attempt to load JSON data because the "
    b"request Content-Type was not &#39;application/json&#39;.</p>\n"
)


def item(branch: str, *, repo: str = REPO, **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "version_control": "git",
        "scm_repo": "https://github.com/madler/zlib.git",
        "scm_branch": "develop",
        "scm_commit": None,
        "repo": repo,
        "branch": branch,
        "enabled": True,
    }
    fields.update(changes)
    return fields


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerHandle]:
    tmp = tmp_path_factory.mktemp("compat-wire")
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


def test_envelope_bytes_are_json_dumps_defaults(http: httpx.Client) -> None:
    body = item("openEuler-22.03-LTS", scm_repo="https://example.org/zlib-ünïcode.git")
    answer = http.post("/tracking", json=body)
    assert answer.content == json.dumps(
        {"code": "2001", "msg": "Successful Operation!", "data": body}
    ).encode("ascii")
    assert b'"code": "2001", "msg": ' in answer.content
    assert b"zlib-\\u00fcn\\u00efcode.git" in answer.content
    empty = http.get("/tracking", params={"repo": "nope"})
    assert empty.content == b'{"code": "2001", "msg": "Successful Operation!", "data": []}'
    bad = http.get("/tracking", params={"x": "1"})
    assert bad.content == (
        b'{"code": "4001", "msg": "Please enter the correct parameters", "data": null}'
    )
    assert http.delete("/tracking", params={"repo": "nope"}).content == (
        b'{"code": "6005", "msg": "The tracking you want to delete does not exist", "data": null}'
    )


def test_repo_filter_lists_by_branch_others_in_insertion_order(http: httpx.Client) -> None:
    order = ["openEuler-22.03-LTS", "master", "Multi-Version_1", "openEuler-20.03-LTS", "b"]
    for branch in order:
        http.post("/tracking", json=item(branch))
        http.post("/tracking", json=item(branch, repo=OTHER))
    by_repo = http.get("/tracking", params={"repo": REPO}).json()["data"]
    assert [row["branch"] for row in by_repo] == sorted(order)  # code-point order: upper first
    assert [row["branch"] for row in by_repo] == [
        "Multi-Version_1", "b", "master", "openEuler-20.03-LTS", "openEuler-22.03-LTS",
    ]  # fmt: skip
    enabled = http.get("/tracking", params={"repo": OTHER, "enabled": "true"}).json()["data"]
    assert [row["branch"] for row in enabled] == sorted(order)
    everything = http.get("/tracking").json()["data"]
    assert [(row["repo"], row["branch"]) for row in everything] == [
        (repo, branch) for branch in order for repo in (REPO, OTHER)
    ]
    by_branch = http.get("/tracking", params={"branch": "master"}).json()["data"]
    assert [row["repo"] for row in by_branch] == [REPO, OTHER]


def test_repeated_parameter_first_value_wins(http: httpx.Client) -> None:
    http.post("/tracking", json=item("master"))
    http.post("/tracking", json=item("next", enabled=False))
    first_repo = http.get("/tracking", params=[("repo", REPO), ("repo", "nope")]).json()
    assert [row["branch"] for row in first_repo["data"]] == ["master", "next"]
    assert http.get("/tracking", params=[("repo", "nope"), ("repo", REPO)]).json()["data"] == []
    enabled = http.get("/tracking", params=[("enabled", "true"), ("enabled", "false")]).json()
    assert [row["branch"] for row in enabled["data"]] == ["master"]
    http.post("/tracking", json=item("master", repo=OTHER))
    # DELETE ?repo=OTHER&repo=REPO deletes OTHER's items only.
    answer = http.delete("/tracking", params=[("repo", OTHER), ("repo", REPO)])
    assert answer.json()["code"] == "2001"
    assert [row["repo"] for row in http.get("/tracking").json()["data"]] == [REPO, REPO]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", None, "text/json"],
    ids=["text-plain", "form", "none", "text-json"],
)
def test_json_not_labelled_json_is_werkzeug_415(
    http: httpx.Client, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    raw = json.dumps(item("master")).encode()
    answer = http.post("/tracking", content=raw, headers=headers)
    assert answer.status_code == 415
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.content == WERKZEUG_415
    assert http.get("/tracking").json()["data"] == []


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/merge-patch+json"]
)
def test_json_labels_werkzeug_accepts(http: httpx.Client, content_type: str) -> None:
    raw = json.dumps(item("master")).encode()
    answer = http.post("/tracking", content=raw, headers={"content-type": content_type})
    assert answer.json()["code"] == "2001"


def test_415_only_after_credentials(server: ServerHandle) -> None:
    """Flask-HTTPAuth runs before the view: no credentials is still the 401."""
    with server.client() as anonymous:
        answer = anonymous.post("/tracking", content=b"x", headers={"content-type": "text/plain"})
    assert (answer.status_code, answer.text) == (401, "Unauthorized Access")


def test_listing_follows_writes_made_by_other_processes(
    http: httpx.Client, server: ServerHandle
) -> None:
    """The rendered listing is reused only while no item changed, whoever changed it."""
    http.post("/tracking", json=item("master"))
    http.post("/tracking", json=item("next"))
    first = http.get("/tracking").content
    assert http.get("/tracking").content == first
    other = StateDB(server.app.state.state_db.url, auto_migrate=False)  # like `track run`
    try:
        with other.session() as session:  # the tracker advancing an item: a Core UPDATE
            session.execute(
                sa.update(Tracking).where(Tracking.branch == "next").values(scm_commit="b" * 40)
            )
        assert [row["scm_commit"] for row in http.get("/tracking").json()["data"]] == [
            None, "b" * 40,
        ]  # fmt: skip
        with other.session() as session:
            session.execute(sa.delete(Tracking).where(Tracking.branch == "master"))
        assert [row["branch"] for row in http.get("/tracking").json()["data"]] == ["next"]
        with other.session() as session:
            session.add(Tracking(**item("third")))
        listed = http.get("/tracking", params={"repo": REPO}).json()["data"]
        assert [row["branch"] for row in listed] == ["next", "third"]
    finally:
        other.close()


def test_big_listing_is_served_gzip_to_clients_that_accept_it(
    http: httpx.Client, server: ServerHandle
) -> None:
    with server.app.state.state_db.session() as session:
        for n in range(400):
            session.add(Tracking(**item(f"b{n:04d}", repo=f"{REPO}{n}")))
    plain = http.get("/tracking", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    packed = http.get("/tracking", headers={"accept-encoding": "gzip, deflate"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert packed.content == plain.content  # httpx undid the gzip: the same bytes
    assert int(packed.headers["content-length"]) < len(plain.content) // 5
    assert len(plain.json()["data"]) == 400
