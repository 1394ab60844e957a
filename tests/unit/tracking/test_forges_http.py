"""The HTTP door: retries with backoff, Retry-After and rate-limit headers, token redaction.

Sleeps go to a list instead of the clock, so waits are asserted by value, never timed.
"""

from __future__ import annotations

import email.utils
import logging
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from repotrack.errors import ConfigError, ForgeError, RateLimitError
from repotrack.tracking.forges import Forge, ForgeTarget, make_forge, parse_downstream
from repotrack.tracking.forges.http import BACKOFF_BASE, parse_retry_after, redact
from tests.forges import ForgeServer

TOKEN = "gitee-5ecret-token"


@pytest.fixture
def gitee() -> Iterator[ForgeServer]:
    with ForgeServer("gitee", token=TOKEN) as fake:
        yield fake


def _setup(
    server: ForgeServer, sleeps: list[float], *, max_retries: int = 3, max_wait: float = 60
) -> tuple[Forge, ForgeTarget]:
    forge = make_forge(
        server.kind,
        token=SecretStr(server.token),
        api_url=server.api_url,
        timeout=5,
        max_retries=max_retries,
        sleep=sleeps.append,
        max_wait=max_wait,
    )
    target = parse_downstream(server.repo_url("o/r"), {server.kind: server.forge_settings()})
    return forge, target


def test_get_is_retried_after_500_with_exponential_backoff(gitee: ForgeServer) -> None:
    sleeps: list[float] = []
    forge, _ = _setup(gitee, sleeps)
    gitee.fail_next("/user", 500, times=2)
    forge.check_token()
    assert [c.status for c in gitee.calls_to("GET", "/user")] == [500, 500, 200]
    assert sleeps == [BACKOFF_BASE, BACKOFF_BASE * 2]


def test_retries_are_bounded(gitee: ForgeServer) -> None:
    sleeps: list[float] = []
    forge, _ = _setup(gitee, sleeps, max_retries=2)
    gitee.fail_next("/user", 502, times=10)
    with pytest.raises(ForgeError) as info:
        forge.check_token()
    assert info.value.status == 502
    assert len(gitee.calls_to("GET", "/user")) == 3
    assert len(sleeps) == 2


def test_429_with_retry_after_waits_then_succeeds(gitee: ForgeServer) -> None:
    sleeps: list[float] = []
    forge, target = _setup(gitee, sleeps)
    gitee.fail_next("/repos/o/issues", 429, {"Retry-After": "1"}, method="POST")
    ref = forge.create_issue(target, title="t", body="b")
    assert sleeps == [1.0]
    assert [c.status for c in gitee.calls_to("POST", "/repos/o/issues")] == [429, 201]
    assert [i.number for i in gitee.issues("o/r")] == [ref.number]


def test_retry_after_as_http_date(gitee: ForgeServer) -> None:
    sleeps: list[float] = []
    forge, _ = _setup(gitee, sleeps)
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    gitee.fail_next("/user", 503, {"Retry-After": when})
    forge.check_token()
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 31


def test_long_retry_after_raises_rate_limit_error_without_sleeping(gitee: ForgeServer) -> None:
    sleeps: list[float] = []
    forge, target = _setup(gitee, sleeps, max_wait=60)
    gitee.fail_next("/repos/o/issues", 429, {"Retry-After": "3600"})
    before = datetime.now(UTC)
    with pytest.raises(RateLimitError) as info:
        forge.create_issue(target, title="t", body="b")
    assert sleeps == []
    assert info.value.retry_at is not None
    assert before + timedelta(seconds=3590) <= info.value.retry_at
    assert info.value.retry_at <= datetime.now(UTC) + timedelta(seconds=3600)
    assert info.value.status == 429
    assert gitee.issues("o/r") == []


def test_github_quota_headers_wait_when_short_and_raise_when_long() -> None:
    with ForgeServer("github", token=TOKEN) as github:
        sleeps: list[float] = []
        forge, _ = _setup(github, sleeps)
        soon = str(int(time.time()) + 5)
        github.fail_next("/user", 403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": soon})
        forge.check_token()
        assert len(sleeps) == 1 and 0 < sleeps[0] <= 7
        later = str(int(time.time()) + 7200)
        github.fail_next("/user", 429, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": later})
        with pytest.raises(RateLimitError) as info:
            forge.check_token()
        assert info.value.retry_at is not None
        assert info.value.retry_at >= datetime.fromtimestamp(int(later), UTC)


def test_a_used_up_quota_stops_the_next_call_before_it_is_sent() -> None:
    with ForgeServer("github", token=TOKEN) as github:
        forge, _ = _setup(github, [])
        later = str(int(time.time()) + 7200)
        github.fail_next(
            "/user",
            200,
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": later},
            body={"login": "x", "id": 1},
        )
        forge.check_token()
        with pytest.raises(RateLimitError):
            forge.check_token()
        assert len(github.calls_to("GET", "/user")) == 1


def test_gitlab_ratelimit_reset_header() -> None:
    with ForgeServer("gitlab", token=TOKEN) as gitlab:
        sleeps: list[float] = []
        forge, _ = _setup(gitlab, sleeps)
        gitlab.fail_next(
            "/user", 429, {"RateLimit-Reset": str(int(time.time()) + 3)}, body="Retry later"
        )
        forge.check_token()
        assert len(sleeps) == 1 and 0 < sleeps[0] <= 5


def test_bare_429_backs_off_and_plain_403_is_not_retried(gitee: ForgeServer) -> None:
    sleeps: list[float] = []
    forge, _ = _setup(gitee, sleeps)
    gitee.fail_next("/user", 429)
    forge.check_token()
    assert sleeps == [BACKOFF_BASE]
    gitee.fail_next("/user", 403, body={"message": "Forbidden"})
    with pytest.raises(ForgeError) as info:
        forge.check_token()
    assert info.value.status == 403 and not isinstance(info.value, RateLimitError)
    assert len(sleeps) == 1


def test_post_500_after_the_issue_was_created_does_not_duplicate_it(gitee: ForgeServer) -> None:
    sleeps: list[float] = []
    forge, target = _setup(gitee, sleeps)
    gitee.fail_next("/repos/o/issues", 502, method="POST", effect=True)
    ref = forge.create_issue(target, title="[patch tracking] master T", body="rows")
    [issue] = gitee.issues("o/r")
    assert ref.number == issue.number
    assert len(gitee.calls_to("POST", "/repos/o/issues")) == 1


def test_post_500_that_did_nothing_is_posted_again(gitee: ForgeServer) -> None:
    forge, target = _setup(gitee, [])
    gitee.fail_next("/repos/o/r/pulls", 500, method="POST")
    ref = forge.create_pull_request(target, title="t", body="#I1", head="pt/a", base="master")
    assert [p.number for p in gitee.pulls("o/r")] == [ref.number]
    assert [c.status for c in gitee.calls_to("POST", "/repos/o/r/pulls")] == [500, 201]


@pytest.mark.parametrize("kind", ["github", "gitlab", "gitea"])
def test_pull_request_post_500_after_effect_returns_the_created_one(kind: str) -> None:
    with ForgeServer(kind, token=TOKEN) as server:
        forge, target = _setup(server, [])
        pulls_path = {
            "github": "/repos/o/r/pulls",
            "gitea": "/repos/o/r/pulls",
            "gitlab": "/projects/o/r/merge_requests",
        }[kind]
        server.fail_next(pulls_path, 500, method="POST", effect=True)
        ref = forge.create_pull_request(target, title="t", body="b", head="pt/a", base="main")
        assert [p.number for p in server.pulls("o/r")] == [ref.number]


def test_read_timeout_on_post_is_guarded_by_a_find(gitee: ForgeServer) -> None:
    forge = make_forge(
        "gitee",
        token=SecretStr(TOKEN),
        api_url=gitee.api_url,
        timeout=0.3,
        max_retries=2,
        sleep=[].append,
    )
    target = parse_downstream(gitee.repo_url("o/r"), {"gitee": gitee.forge_settings()})
    gitee.fail_next("/repos/o/issues", 201, method="POST", effect=True, delay=1.0)
    ref = forge.create_issue(target, title="t", body="b")
    assert [i.number for i in gitee.issues("o/r")] == [ref.number]
    assert len(gitee.calls_to("POST", "/repos/o/issues")) == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_connection_refused_is_retried_then_a_forge_error() -> None:
    sleeps: list[float] = []
    api = f"http://127.0.0.1:{_free_port()}/api/v5"
    forge = make_forge(
        "gitee", token=SecretStr(TOKEN), api_url=api, timeout=2, max_retries=2, sleep=sleeps.append
    )
    with pytest.raises(ForgeError) as info:
        forge.check_token()
    assert "ConnectError" in str(info.value)
    assert TOKEN not in str(info.value)
    assert len(sleeps) == 2


# -- secrets ---------------------------------------------------------------------------
def test_token_never_appears_in_errors_or_logs(
    gitee: ForgeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    forge, target = _setup(gitee, [])
    forge.check_token()  # GET with ?access_token=... in the URL
    gitee.fail_next("/repos/o/issues", 422, body={"message": f"bad access_token={TOKEN}"})
    with pytest.raises(ForgeError) as info:
        forge.create_issue(target, title="t", body="b")
    assert TOKEN not in str(info.value)
    assert "access_token=***" in str(info.value)
    gitee.fail_next("/repos/o/r/issues", 500, times=10)
    with pytest.raises(ForgeError) as info2:
        forge.find_issue(target, marker="m")
    assert TOKEN not in str(info2.value)
    assert "forge call: gitee GET" in caplog.text
    assert TOKEN not in caplog.text
    assert "access_token=***" in caplog.text  # the httpx line, redacted
    assert TOKEN not in repr(forge)


def test_redact_masks_values_parameters_headers_and_url_passwords() -> None:
    text = (
        "GET https://h/api?access_token=abc&x=1 private_token=zz "
        "https://user:pw@h/r.git PRIVATE-TOKEN: qq Authorization: Bearer sekrit-value"
    )
    out = redact(text, ["sekrit-value"])
    assert "abc" not in out and "zz " not in out and ":pw@" not in out
    assert "qq" not in out and "sekrit-value" not in out
    assert "x=1" in out


def test_parse_retry_after() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after("Mon, 01 Jan 2024 00:00:10 GMT", now) == 10.0
    assert parse_retry_after("Sun, 31 Dec 2023 00:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_github_secondary_limit_403_waits_a_minute() -> None:
    with ForgeServer("github", token=TOKEN) as github:
        sleeps: list[float] = []
        forge, _ = _setup(github, sleeps, max_wait=120)
        body = {
            "message": "You have exceeded a secondary rate limit.",
            "documentation_url": "https://docs.github.com/rest/overview/secondary-rate-limits",
        }
        github.fail_next("/user", 403, body=body)
        forge.check_token()
        assert sleeps == [60.0]


def test_unusable_api_urls_fail_at_once() -> None:
    sleeps: list[float] = []
    forge = make_forge(
        "gitea", token=SecretStr(TOKEN), api_url="ftp://127.0.0.1/api", sleep=sleeps.append
    )
    with pytest.raises(ForgeError, match="UnsupportedProtocol"):
        forge.check_token()
    assert sleeps == []
    with pytest.raises(ConfigError, match="api_url"):
        make_forge("gitea", token=SecretStr(TOKEN), api_url="http://127.0.0.1:port/api")


def test_redirect_loops_are_a_forge_error_not_retried(gitee: ForgeServer) -> None:
    sleeps: list[float] = []
    forge, _ = _setup(gitee, sleeps)
    gitee.fail_next("/user", 302, {"Location": gitee.api_url + "/user"}, times=100)
    with pytest.raises(ForgeError, match="TooManyRedirects"):
        forge.check_token()
    assert sleeps == []
