"""Upstream host allow/deny list: private and loopback ranges refused unless allowed (issue 9)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from repotrack.errors import ConfigError, InputError
from repotrack.tracking.hosts import HostPolicy, url_host
from tests.unit.cli.git_daemon import git_daemon
from tests.unit.tracking.pipeline_world import add_commits, git
from tests.unit.tracking.test_pipeline import World, world

__all__ = ["world"]

NAMES = {
    "git.internal.example": ["10.1.2.3"],
    "intranet.example": ["192.168.7.7"],
    "public.example": ["93.184.216.34"],
    "sneaky.example": ["93.184.216.34", "::ffff:127.0.0.1"],
}


def policy(**kwargs: list[str]) -> HostPolicy:
    return HostPolicy(resolve=lambda host: NAMES.get(host, []), **kwargs)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://git.example.org/x.git", "git.example.org"),
        ("git://127.0.0.1:9418/x.git", "127.0.0.1"),
        ("ssh://git@[::1]:22/x.git", "::1"),
        ("git@intranet.example:pkg/x.git", "intranet.example"),
        ("localhost:/srv/x.git", "localhost"),
        ("/srv/git/x.git", None),
        ("file:///srv/git/x.git", None),
    ],
)
def test_url_host(url: str, host: str | None) -> None:
    assert url_host(url) == host


@pytest.mark.parametrize(
    "url",
    [
        "git://127.0.0.1/x.git",
        "http://[::1]:8080/x.git",
        "https://10.0.0.5/x.git",
        "http://169.254.169.254/latest/x.git",
        "http://100.64.0.1/x.git",
        "https://0.0.0.0/x.git",
        "https://git.internal.example/x.git",
        "git@intranet.example:x.git",
        "ssh://sneaky.example/x.git",
        "http://[::ffff:192.168.0.1]/x.git",
    ],
)
def test_private_and_loopback_refused_by_default(url: str) -> None:
    with pytest.raises(InputError, match="private or loopback") as caught:
        policy().check(url)
    assert caught.value.field == "scm_repo"
    assert "upstream_allow_hosts" in str(caught.value)


def test_public_and_unresolvable_hosts_pass() -> None:
    policy().check("https://public.example/x.git")
    policy().check("https://does-not-resolve.example/x.git")  # git reports it
    policy().check("/srv/git/x.git")


def test_allow_list_lets_named_hosts_and_networks_in() -> None:
    allowing = policy(allow=["127.0.0.1", "10.0.0.0/8", "*.internal.example"])
    allowing.check("git://127.0.0.1:9418/x.git")
    allowing.check("https://10.9.9.9/x.git")
    allowing.check("https://git.internal.example/x.git")
    with pytest.raises(InputError):
        allowing.check("http://[::1]/x.git")


def test_deny_list_wins_over_allow_and_public() -> None:
    strict = policy(allow=["public.example"], deny=["public.example", "93.184.216.0/24"])
    with pytest.raises(InputError, match="upstream_deny_hosts"):
        strict.check("https://public.example/x.git")
    with pytest.raises(InputError, match="upstream_deny_hosts"):
        strict.check("https://93.184.216.40/x.git")


def test_bad_entries_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="upstream_allow_hosts"):
        HostPolicy(allow=["not a host!"])


def _serve_upstream(world: World, root: Path) -> Path:
    bare = root / "up.git"
    git(world.tmp, "clone", "--quiet", "--bare", str(world.upstream), str(bare))
    (bare / "git-daemon-export-ok").touch()
    return bare


def test_loopback_upstream_refused_leaves_no_mirror_or_lock(world: World) -> None:
    root = world.tmp / "served"
    root.mkdir()
    _serve_upstream(world, root)
    with git_daemon(root) as base:
        world.set_item(scm_repo=f"{base}/up.git")
        (result,) = world.tracker().scan()
    assert result.outcome == "failed"
    assert "private or loopback" in (result.error or "")
    cache = world.settings.git_cache_dir / "upstream"
    assert not cache.exists() or list(cache.iterdir()) == []


def test_loopback_upstream_runs_when_allowed_explicitly(world: World) -> None:
    root = world.tmp / "served"
    root.mkdir()
    bare = _serve_upstream(world, root)
    world.settings.tracking.upstream_allow_hosts = ["127.0.0.1"]
    with git_daemon(root) as base:
        world.set_item(scm_repo=f"{base}/up.git")
        shas = add_commits(world.upstream, 1)
        git(world.upstream, "push", "--quiet", str(bare), "main")
        (result,) = world.tracker().scan()
    assert result.outcome == "success", result.error
    assert world.item().scm_commit == shas[-1]
    shutil.rmtree(root)
