"""Ref names are checked in Python exactly as ``git check-ref-format`` checks them."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repotrack.errors import InputError
from repotrack.tracking.upstream import check_branch_name, is_valid_ref_name

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

NAMES = [
    "refs/heads/master", "refs/heads/openEuler-22.03-LTS", "refs/heads/a/b/c", "refs/heads/.x",
    "refs/heads/x.lock", "refs/heads/a..b", "refs/heads/a@{b", "refs/heads/@", "@",
    "refs/heads/a b", "refs/heads/a~1", "refs/heads/a^", "refs/heads/a:b", "refs/heads/a?",
    "refs/heads/a*", "refs/heads/a[b", "refs/heads/a\\b", "refs/heads/a/", "refs/heads/a.",
    "refs/heads//a", "/refs/heads/a", "refs/heads/a\x7f", "refs/heads/a\tb", "master",
    "refs/heads/x.lock/y", "refs/heads/é", "refs/heads/a@b", "refs/heads/-x", "refs/heads/a.b",
    "refs/heads/lock", "refs/heads/.", "refs/heads/a/.b", "refs/heads/patch-tracking/2026",
]  # fmt: skip


def git_says(name: str) -> bool:
    done = subprocess.run(
        ["git", "check-ref-format", name], capture_output=True, check=False, timeout=30
    )
    return done.returncode == 0


@pytest.mark.parametrize("name", NAMES)
def test_agrees_with_git(name: str) -> None:
    assert is_valid_ref_name(name) == git_says(name)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="ab./@{}~^:?*[\\ -\x7f.lock", min_size=1, max_size=14))
def test_agrees_with_git_on_generated_names(tail: str) -> None:
    name = f"refs/heads/{tail}"
    assert is_valid_ref_name(name) == git_says(name)


def test_branch_check_runs_no_git() -> None:
    check_branch_name("openEuler-22.03-LTS")
    with pytest.raises(InputError, match="not a valid git branch name"):
        check_branch_name("a..b")
    with pytest.raises(InputError, match="not a usable branch name"):
        check_branch_name("--upload-pack=x")
