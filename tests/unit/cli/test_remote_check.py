"""Branch checks with git ls-remote against a real git daemon."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from repotrack.cli.remote_check import check_branch
from repotrack.errors import InputError
from tests.unit.cli.git_daemon import git_daemon, make_bare_repo


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("repos")
    with git_daemon(root) as url:
        make_bare_repo(root, "up.git", "main")
        yield url


def test_existing_branch_passes(daemon: str) -> None:
    assert check_branch(f"{daemon}/up.git", "main").ok


def test_missing_branch_is_named(daemon: str) -> None:
    result = check_branch(f"{daemon}/up.git", "nope")
    assert not result.ok
    assert str(result) == f"Branch: nope not exist. ({daemon}/up.git)"


def test_missing_repository_is_a_url_error(daemon: str) -> None:
    result = check_branch(f"{daemon}/missing.git", "main")
    assert not result.ok
    assert result.message == f"Git url: {daemon}/missing.git error."
    assert "not exported" in result.detail or "access denied" in result.detail


def test_closed_port_is_a_url_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = check_branch(f"git://127.0.0.1:{port}/up.git", "main")
    assert result.message == f"Git url: git://127.0.0.1:{port}/up.git error."


def test_silent_server_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        result = check_branch(f"git://127.0.0.1:{port}/up.git", "main", timeout=1)
    assert not result.ok
    assert result.detail == "no answer within 1 s"


@pytest.mark.parametrize("url", ["ext::sh -c id", "-oProxyCommand=id", "file:///etc", "/tmp/x"])
def test_unsafe_urls_never_reach_git(url: str, tmp_path: Path) -> None:
    with pytest.raises(InputError):
        check_branch(url, "main")
