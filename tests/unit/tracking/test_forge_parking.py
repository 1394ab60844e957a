"""Rate limits: Gitee's and GitLab's header-less 403 forms are recognised, and a limited
forge is parked as a whole while the scan goes on with the other forges (issue 11)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from repotrack.config import Settings
from repotrack.state import StateDB, Tracking
from repotrack.tracking.forges import make_forge
from repotrack.tracking.forges.http import BACKOFF_BASE
from repotrack.tracking.pipeline import Tracker
from tests.forges import ForgeServer
from tests.unit.tracking.pipeline_world import add_commits, make_upstream, seed_downstream

TOKEN = "t0ken"


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("gitee", {"message": "API rate limit exceeded for this token"}),
        ("gitee", {"message": "请求过于频繁，请稍后再试"}),
        ("gitlab", "Retry later"),
        (
            "gitlab",
            {"message": "This endpoint has been requested too many times. Try again later."},
        ),
    ],
)
def test_header_less_403_rate_limits_back_off(kind: str, body: object) -> None:
    with ForgeServer(kind, token=TOKEN) as fake:
        sleeps: list[float] = []
        forge = make_forge(
            kind, token=SecretStr(TOKEN), api_url=fake.api_url, sleep=sleeps.append, max_wait=60
        )
        fake.fail_next("/user", 403, body=body)
        forge.check_token()
        assert sleeps == [BACKOFF_BASE]
        assert [c.status for c in fake.calls_to("GET", "/user")] == [403, 200]


@pytest.fixture
def two_forges(tmp_path: Path) -> Iterator[tuple[Tracker, StateDB, ForgeServer, ForgeServer]]:
    with (
        ForgeServer("gitee", token=TOKEN, git_root=tmp_path / "gitee-git") as gitee,
        ForgeServer("gitea", token=TOKEN, git_root=tmp_path / "gitea-git") as gitea,
    ):
        settings = Settings(
            home=tmp_path / "home",
            tracking={"allow_local_upstreams": True, "max_retries": 0, "http_timeout": 10},
            forges={"gitee": gitee.forge_settings(), "gitea": gitea.forge_settings()},
        )
        db = StateDB(settings.state_url)
        with db.session() as session:
            for n, forge in enumerate((gitee, gitee, gitea)):
                upstream = tmp_path / f"up{n}"
                base = make_upstream(upstream)
                add_commits(upstream, 1)
                name = f"src/pkg{n}"
                seed_downstream(forge, name)
                session.add(
                    Tracking(
                        version_control="git",
                        scm_repo=str(upstream),
                        scm_branch="main",
                        scm_commit=base,
                        repo=forge.repo_url(name),
                        branch="master",
                        enabled=True,
                    )
                )
        yield Tracker(settings, db), db, gitee, gitea
        db.close()


def test_rate_limited_forge_is_parked_others_go_on(
    two_forges: tuple[Tracker, StateDB, ForgeServer, ForgeServer],
) -> None:
    tracker, _db, gitee, _gitea = two_forges
    gitee.fail_next("/repos/src/issues", 429, {"Retry-After": "3600"})
    first = {r.item_id: r for r in tracker.scan(workers=1)}
    assert first[1].outcome == "failed" and "RateLimitError" in (first[1].error or "")
    # The second Gitee item is not sent to Gitee at all; the Gitea item runs.
    assert first[2].outcome == "skipped" and "rate limited until" in (first[2].error or "")
    assert first[3].outcome == "success", first[3].error
    assert len(gitee.calls_to("POST", "/repos/src/issues")) == 1
    until = tracker.parking.until("gitee")
    assert until is not None and until > datetime.now(UTC) + timedelta(seconds=3500)
    again = {r.item_id: r.outcome for r in tracker.scan(due_only=False, workers=1)}
    assert again == {1: "skipped", 2: "skipped", 3: "nothing-new"}
    assert len(gitee.calls_to("POST", "/repos/src/issues")) == 1
    tracker.parking.park("gitee", datetime.now(UTC) - timedelta(seconds=1))  # no-op: later wins
    assert tracker.parking.until("gitee") == until
    tracker.parking = type(tracker.parking)()  # the reset time has come
    after = {r.item_id: r.outcome for r in tracker.scan(due_only=False, workers=1)}
    assert after == {1: "success", 2: "success", 3: "nothing-new"}
    assert len(gitee.issues("src/pkg0")) == 1 and len(gitee.issues("src/pkg1")) == 1
