"""Each forge adapter against its local fake forge: shapes on the wire and idempotence."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from repotrack.errors import ForgeError
from repotrack.tracking.forges import Forge, ForgeTarget, make_forge, parse_downstream
from tests.forges import ForgeServer

KINDS = ["gitee", "github", "gitlab", "gitea"]
TOKEN = "tok-5ecret-value"
REPOS = {
    "gitee": "src-openeuler/zlib",
    "github": "o/zlib",
    "gitlab": "grp/sub/zlib",
    "gitea": "o/zlib",
}


@pytest.fixture(params=KINDS)
def server(request: pytest.FixtureRequest) -> Iterator[ForgeServer]:
    with ForgeServer(request.param, token=TOKEN) as fake:
        yield fake


def _target(server: ForgeServer) -> ForgeTarget:
    url = server.repo_url(REPOS[server.kind])
    return parse_downstream(url, {server.kind: server.forge_settings()})


def _forge(server: ForgeServer, sleeps: list[float] | None = None, token: str = TOKEN) -> Forge:
    from pydantic import SecretStr

    return make_forge(
        server.kind,
        token=SecretStr(token),
        api_url=server.api_url,
        timeout=5,
        max_retries=3,
        sleep=(sleeps if sleeps is not None else []).append,
    )


def test_check_token_accepts_the_good_one_and_refuses_a_bad_one(server: ForgeServer) -> None:
    _forge(server).check_token()
    with pytest.raises(ForgeError) as info:
        _forge(server, token="wrong-token-value").check_token()
    assert info.value.status == 401
    assert info.value.forge == server.kind
    assert "wrong-token-value" not in str(info.value)


def test_create_issue_and_find_it_by_marker(server: ForgeServer) -> None:
    forge, target = _forge(server), _target(server)
    body = "| Commit | Datetime | Message |\n\n<!-- patch-tracking:abc123 -->"
    assert forge.find_issue(target, marker="patch-tracking:abc123") is None
    ref = forge.create_issue(target, title="[patch tracking] master 2024", body=body)
    [issue] = server.issues(REPOS[server.kind])
    assert (issue.title, issue.body) == ("[patch tracking] master 2024", body)
    assert ref.number == issue.number and ref.url == issue.url
    assert forge.find_issue(target, marker="patch-tracking:abc123") == ref
    assert forge.find_issue(target, marker="patch-tracking:other") is None


def test_find_issue_finds_closed_issues_never_pull_requests(server: ForgeServer) -> None:
    """A maintainer closing our issue must not make the next run open a second one."""
    forge, target, repo = _forge(server), _target(server), REPOS[server.kind]
    server.add_pull(repo, title="pr", body="MARK", head="b", base="master")
    assert forge.find_issue(target, marker="MARK") is None
    closed = server.add_issue(repo, title="old", body="MARK", state="open")
    server.set_state(repo, closed.number, "closed")
    found = forge.find_issue(target, marker="MARK")
    assert found is not None and found.number == closed.number


def test_find_issue_by_exact_title_when_the_marker_is_gone(server: ForgeServer) -> None:
    forge, target, repo = _forge(server), _target(server), REPOS[server.kind]
    title = "[patch tracking] master 20260105101010123456"
    server.add_issue(repo, title=f"{title} (copy)", body="text")
    wanted = server.add_issue(repo, title=title, body="the table, marker stripped")
    assert forge.find_issue(target, marker="MARK") is None
    found = forge.find_issue(target, marker="MARK", title=title)
    assert found is not None and found.number == wanted.number


def test_find_issue_walks_pages(server: ForgeServer) -> None:
    forge, target, repo = _forge(server), _target(server), REPOS[server.kind]
    wanted = server.add_issue(repo, title="first", body="the MARKER is here")
    for i in range(130):
        server.add_issue(repo, title=f"noise {i}", body="nothing")
    found = forge.find_issue(target, marker="MARKER")
    assert found is not None and found.number == wanted.number
    pages = [c for c in server.calls if c.method == "GET" and "issues" in c.path]
    if server.kind != "gitlab":  # GitLab narrows the list server-side with ``search``
        assert len(pages) >= 2


def test_create_pull_request_and_find_it_by_head(server: ForgeServer) -> None:
    forge, target, repo = _forge(server), _target(server), REPOS[server.kind]
    head = "patch-tracking/20240102030405123456"
    assert forge.find_pull_request(target, head=head) is None
    ref = forge.create_pull_request(
        target, title="[patch tracking] 20240102030405123456", body="#I1", head=head, base="master"
    )
    [pull] = server.pulls(repo)
    assert (pull.title, pull.body, pull.head, pull.base) == (
        "[patch tracking] 20240102030405123456",
        "#I1",
        head,
        "master",
    )
    assert ref.number == pull.number and ref.url == pull.url
    assert forge.find_pull_request(target, head=head) == ref
    assert forge.find_pull_request(target, head="patch-tracking/other") is None


def test_a_duplicate_pull_request_returns_the_open_one(server: ForgeServer) -> None:
    forge, target, repo = _forge(server), _target(server), REPOS[server.kind]
    existing = server.add_pull(repo, title="t", body="b", head="feature", base="master")
    ref = forge.create_pull_request(target, title="t2", body="b2", head="feature", base="master")
    assert ref.number == existing.number
    assert len(server.pulls(repo)) == 1


def test_missing_repository_is_a_404_forge_error() -> None:
    with ForgeServer("github", token=TOKEN, repos=["o/exists"]) as server:
        target = parse_downstream(server.repo_url("o/missing"), {"github": server.forge_settings()})
        with pytest.raises(ForgeError) as info:
            _forge(server).create_issue(target, title="t", body="b")
        assert info.value.status == 404
        assert "Not Found" in str(info.value)


# -- per-forge wire details --------------------------------------------------------------
def test_gitee_speaks_form_encoded_access_token_like_the_original() -> None:
    with ForgeServer("gitee", token=TOKEN) as server:
        forge, target = _forge(server), _target(server)
        forge.check_token()
        issue = forge.create_issue(target, title="[patch tracking] master T", body="rows")
        forge.create_pull_request(
            target, title="[patch tracking] T", body=f"#{issue.number}", head="pt/x", base="master"
        )
        [user] = server.calls_to("GET", "/user")
        assert user.query["access_token"] == TOKEN
        [post_issue] = server.calls_to("POST", "/repos/src-openeuler/issues")
        assert post_issue.content_type == "form"
        assert post_issue.fields == {
            "access_token": TOKEN,
            "repo": "zlib",
            "title": "[patch tracking] master T",
            "body": "rows",
        }
        assert issue.number.startswith("I")
        [post_pull] = server.calls_to("POST", "/repos/src-openeuler/zlib/pulls")
        assert post_pull.content_type == "form"
        assert post_pull.fields == {
            "access_token": TOKEN,
            "repo": "zlib",
            "title": "[patch tracking] T",
            "head": "pt/x",
            "base": "master",
            "body": f"#{issue.number}",
            "prune_source_branch": "true",
        }
        # The pipeline looks for the PR just before; the adapter lists PRs only when Gitee
        # refuses a duplicate (HTTP 400), not on every creation.
        assert [c.method for c in server.calls if c.path.endswith("/pulls")] == ["POST"]


def test_github_sends_bearer_json_api_version_and_owner_head_filter() -> None:
    with ForgeServer("github", token=TOKEN) as server:
        forge, target = _forge(server), _target(server)
        forge.create_issue(target, title="t", body="b")
        forge.find_pull_request(target, head="pt/x")
        [post] = server.calls_to("POST", "/repos/o/zlib/issues")
        assert post.headers["authorization"] == f"Bearer {TOKEN}"
        assert post.headers["x-github-api-version"] == "2022-11-28"
        assert post.headers["accept"] == "application/vnd.github+json"
        assert post.headers["user-agent"]
        assert post.content_type == "json" and post.fields == {"title": "t", "body": "b"}
        [find] = server.calls_to("GET", "/repos/o/zlib/pulls")
        assert find.query["head"] == "o:pt/x" and find.query["state"] == "all"


def test_gitlab_encodes_the_project_path_and_uses_iids() -> None:
    with ForgeServer("gitlab", token=TOKEN) as server:
        forge, target = _forge(server), _target(server)
        issue = forge.create_issue(target, title="t", body="b")
        pull = forge.create_pull_request(target, title="t", body="b", head="pt/x", base="main")
        assert (issue.number, pull.number) == ("1", "1")  # iids count per kind and project
        post = server.calls_to("POST", "/projects/grp/sub/zlib/merge_requests")[0]
        assert "/projects/grp%2Fsub%2Fzlib/merge_requests" in post.raw_path
        assert post.headers["private-token"] == TOKEN
        assert post.fields == {
            "source_branch": "pt/x",
            "target_branch": "main",
            "title": "t",
            "description": "b",
            "remove_source_branch": True,
        }
        assert pull.url.endswith("/grp/sub/zlib/-/merge_requests/1")
        assert forge.find_issue(target, marker="b") == issue
        [find] = [c for c in server.calls if c.method == "GET" and c.path.endswith("/issues")]
        assert (find.query["state"], find.query["in"]) == ("all", "description")


def test_gitea_uses_token_header_and_limit_paging() -> None:
    with ForgeServer("gitea", token=TOKEN) as server:
        forge, target = _forge(server), _target(server)
        for i in range(60):
            server.add_pull("o/zlib", title=f"p{i}", body="", head=f"h{i}", base="main")
        ref = forge.find_pull_request(target, head="h0")  # the oldest: on the second page
        assert ref is not None and ref.number == "1"
        gets = server.calls_to("GET", "/repos/o/zlib/pulls")
        assert [c.query["page"] for c in gets] == ["1", "2"]
        assert all(c.query["limit"] == "50" for c in gets)
        assert gets[0].headers["authorization"] == f"token {TOKEN}"


def test_gitee_finds_an_issue_a_maintainer_moved_to_progressing() -> None:
    with ForgeServer("gitee", token=TOKEN) as server:
        forge, target = _forge(server), _target(server)
        issue = server.add_issue(REPOS["gitee"], title="t", body="MARK")
        server.set_state(REPOS["gitee"], issue.number, "progressing")
        found = forge.find_issue(target, marker="MARK")
        assert found is not None and found.number == issue.number
        server.set_state(REPOS["gitee"], issue.number, "closed")
        closed = forge.find_issue(target, marker="MARK")
        assert closed is not None and closed.number == issue.number


def test_github_fork_is_ready_when_its_git_objects_are_there_not_when_it_exists() -> None:
    """GitHub's ``POST /forks`` answers 202 with the fork, which ``GET /repos`` then finds
    at once; its git objects come later ("Create a fork" in GitHub's REST description).
    Readiness is the default branch being readable, else a push races the copy."""
    with ForgeServer("github", token=TOKEN) as server:
        server.fork_delay = 2
        forge, target = _forge(server), _target(server)
        fork = forge.create_fork(target)
        assert forge.find_fork(target, server.login) == fork  # there at once
        assert [forge.fork_ready(fork) for _ in range(3)] == [False, False, True]
        branch_path = f"/repos/{fork.full_name}/branches/master"
        assert [c.status for c in server.calls_to("GET", branch_path)] == [404, 404, 200]


@pytest.mark.parametrize("status", ["failed", "canceled"])
def test_gitlab_fork_whose_copy_ended_unfinished_is_an_error_at_once(
    status: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitLab's ``import_status`` ends ``finished``, ``failed`` or ``canceled``; a fork
    in either of the last two never becomes ready, so waiting for it would only end at
    the fork timeout (minutes) with a message that says nothing of why."""
    with ForgeServer("gitlab", token=TOKEN) as server:
        forge, target = _forge(server), _target(server)
        fork = forge.create_fork(target)
        dialect = server._dialect
        plain = dialect.project_json

        def ended(full_name: str, *, lookup: bool = True) -> dict[str, object]:
            return {**plain(full_name, lookup=lookup), "import_status": status}

        monkeypatch.setattr(dialect, "project_json", ended)
        with pytest.raises(ForgeError, match=f"forking into {fork.full_name} {status}"):
            forge.fork_ready(fork)
