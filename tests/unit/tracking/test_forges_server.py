"""The fake forges themselves refuse what the real ones refuse, so adapter tests mean something."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import need_tool
from tests.forges import ForgeServer


def test_gitee_requires_the_access_token_and_the_repo_field() -> None:
    with ForgeServer("gitee", token="tok") as fake, httpx.Client(base_url=fake.api_url) as client:
        assert client.post("/repos/o/issues", data={"repo": "r", "title": "t"}).status_code == 401
        answer = client.post("/repos/o/issues", data={"access_token": "tok", "title": "t"})
        assert (answer.status_code, answer.json()["message"]) == (400, "repo is missing")
        assert client.get("/user", params={"access_token": "tok"}).status_code == 200
        assert client.get("/user", headers={"Authorization": "Bearer tok"}).status_code == 200


def test_github_requires_user_agent_json_and_a_known_api_version() -> None:
    with ForgeServer("github", token="tok") as fake, httpx.Client(base_url=fake.api_url) as client:
        auth = {"Authorization": "Bearer tok"}
        assert client.get("/user", headers={**auth, "User-Agent": ""}).status_code == 403
        bad_version = {**auth, "X-GitHub-Api-Version": "1999-01-01"}
        assert client.get("/user", headers=bad_version).status_code == 400
        form = client.post("/repos/o/r/issues", headers=auth, data={"title": "t"})
        assert form.status_code == 415
        missing = client.post("/repos/o/r/issues", headers=auth, json={"body": "b"})
        assert missing.status_code == 422


def test_gitlab_needs_the_encoded_project_path() -> None:
    with ForgeServer("gitlab", token="tok") as fake, httpx.Client(base_url=fake.api_url) as client:
        headers = {"PRIVATE-TOKEN": "tok"}
        raw = client.post("/projects/g/r/issues", headers=headers, json={"title": "t"})
        assert raw.status_code == 404
        encoded = client.post("/projects/g%2Fr/issues", headers=headers, json={"title": "t"})
        assert encoded.status_code == 201 and encoded.json()["iid"] == 1


def test_gitea_caps_limit_at_50_and_sends_link_headers() -> None:
    with ForgeServer("gitea", token="tok") as fake, httpx.Client(base_url=fake.api_url) as client:
        for i in range(60):
            fake.add_issue("o/r", title=f"{i}", body="")
        page = client.get(
            "/repos/o/r/issues", params={"limit": 100}, headers={"Authorization": "token tok"}
        )
        assert len(page.json()) == 50
        assert 'rel="next"' in page.headers["link"] and page.headers["x-total-count"] == "60"


def test_fail_next_then_normal_service_and_calls_are_recorded() -> None:
    with ForgeServer("gitea", token="tok") as fake, httpx.Client(base_url=fake.api_url) as client:
        fake.fail_next("/user", 429, {"Retry-After": "1"})
        headers = {"Authorization": "token tok"}
        first = client.get("/user", headers=headers)
        assert (first.status_code, first.headers["retry-after"]) == (429, "1")
        assert client.get("/user", headers=headers).status_code == 200
        assert [c.status for c in fake.calls_to("GET", "/user")] == [429, 200]
        fake.fail_next("/user", 500, times=5)
        fake.clear_faults()
        assert client.get("/user", headers=headers).status_code == 200


def test_git_push_needs_the_token_and_pull_requests_need_the_branch(tmp_path: Path) -> None:
    need_tool("git")
    with ForgeServer("gitee", token="tok", git_root=tmp_path / "srv") as fake:
        fake.init_repo("o/r")
        work = tmp_path / "work"
        env = {
            **os.environ,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": "a",
            "GIT_AUTHOR_EMAIL": "a@example.org",
            "GIT_COMMITTER_NAME": "a",
            "GIT_COMMITTER_EMAIL": "a@example.org",
        }

        def git(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["git", "-C", str(work), *args],
                env=env,
                capture_output=True,
                text=True,
                check=check,
            )

        subprocess.run(["git", "init", "-q", "-b", "master", str(work)], check=True)
        (work / "r.spec").write_text("Name: r\n")
        git("add", "r.spec")
        git("commit", "-qm", "init")
        url = f"{fake.web_url}/o/r.git"
        assert git("push", url, "HEAD:refs/heads/master", check=False).returncode != 0
        authed = url.replace("http://", "http://bot:tok@")
        git("push", authed, "HEAD:refs/heads/master", "HEAD:refs/heads/pt/1")
        with httpx.Client(base_url=fake.api_url) as client:
            form = {"access_token": "tok", "title": "t", "base": "master"}
            assert client.post("/repos/o/r/pulls", data={**form, "head": "nope"}).status_code == 400
            assert client.post("/repos/o/r/pulls", data={**form, "head": "pt/1"}).status_code == 201
        clone = subprocess.run(
            ["git", "clone", "-q", url, str(tmp_path / "clone")], env=env, check=False
        )
        assert clone.returncode == 0 and (tmp_path / "clone" / "r.spec").is_file()
        assert any(c.path.endswith("git-receive-pack") and c.status == 200 for c in fake.calls)


@pytest.mark.parametrize("kind", ["gitee", "github", "gitlab", "gitea"])
def test_forge_settings_point_at_the_fake(kind: str) -> None:
    with ForgeServer(kind, token="tok") as fake:
        settings = fake.forge_settings()
        assert (settings.kind, settings.web_url, settings.api_url) == (
            kind,
            fake.web_url,
            fake.api_url,
        )
        assert settings.resolved_token(kind).get_secret_value() == "tok"
