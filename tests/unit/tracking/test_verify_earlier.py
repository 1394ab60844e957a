"""The pre-merge check applies the package's own patches first, as rpm will (issue 11).

Upstream: tag ``v1.0``, then commits c0, c1 (each appends a line to NOTES, so c1's
context contains c0's line). The package already carries c0 as a patch of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from repotrack.tracking.patches import build_series
from repotrack.tracking.upstream import Mirror
from repotrack.tracking.verify import EarlierPatch, check_series
from tests.unit.tracking.pipeline_world import add_commits, git, make_upstream
from tests.unit.tracking.test_pipeline import FULL_NAME, World, world

__all__ = ["world"]


@pytest.fixture
def upstream(tmp_path: Path) -> tuple[Mirror, str, list[str]]:
    path = tmp_path / "up"
    base = make_upstream(path)  # tagged v1.0
    shas = add_commits(path, 2)
    mirror = Mirror(tmp_path / "cache", str(path), timeout=60)
    mirror.fetch()
    return mirror, base, shas


def own(mirror: Mirror, sha: str, number: int = 1, name: str = "backport.patch") -> EarlierPatch:
    return EarlierPatch(number, name, mirror.format_patch(sha))


def test_series_on_top_of_the_packages_patches_is_clean(
    upstream: tuple[Mirror, str, list[str]],
) -> None:
    mirror, _, (c0, _c1) = upstream
    series = build_series(mirror, mirror.new_commits("main", c0))  # c1 only
    pristine = check_series(patches=series, mirror=mirror, version="1.0", downstream_tree=None)
    assert pristine.status == "conflict"  # the false conflict of checking the bare tag
    landed = check_series(
        patches=series, mirror=mirror, version="1.0", downstream_tree=None,
        earlier=[own(mirror, c0)],
    )  # fmt: skip
    assert (landed.status, landed.message) == (
        "clean", "applies cleanly on upstream tag v1.0 after the package's 1 patch(es)",
    )  # fmt: skip


def test_change_the_package_already_carries(upstream: tuple[Mirror, str, list[str]]) -> None:
    mirror, base, (c0, _) = upstream
    series = build_series(mirror, mirror.new_commits("main", base))[:1]  # c0 again
    result = check_series(
        patches=series, mirror=mirror, version="1.0", downstream_tree=None,
        earlier=[own(mirror, c0)],
    )  # fmt: skip
    assert result.status == "conflict"
    assert result.message == (
        f"already in the package: patch 1 ({c0}.patch) is applied by its own patches"
    )


def test_conflict_names_the_package_patch(upstream: tuple[Mirror, str, list[str]]) -> None:
    mirror, base, _ = upstream
    series = build_series(mirror, mirror.new_commits("main", base))
    # a plain ``diff -u``, as packagers write them
    local = b"--- a/NOTES\n+++ b/NOTES\n@@ -1 +1 @@\n-notes\n+notes (packaged)\n"
    result = check_series(
        patches=series, mirror=mirror, version="1.0", downstream_tree=None,
        earlier=[EarlierPatch(3, "notes.patch", local)],
    )  # fmt: skip
    assert result.status == "conflict"
    assert result.message == (
        f"conflicts with the package's patch 3 (notes.patch) in NOTES at patch 1 "
        f"({series[0].filename})"
    )


def test_package_patch_now_upstream_is_named_and_skipped(
    upstream: tuple[Mirror, str, list[str]], tmp_path: Path
) -> None:
    mirror, _, (c0, _c1) = upstream
    git(tmp_path / "up", "tag", "v1.1", c0)  # release 1.1 contains the backport
    mirror.fetch()
    series = build_series(mirror, mirror.new_commits("main", c0))
    result = check_series(
        patches=series, mirror=mirror, version="1.1", downstream_tree=None,
        earlier=[own(mirror, c0)],
    )  # fmt: skip
    assert result.status == "clean"
    assert result.message == (
        "applies cleanly on upstream tag v1.1; "
        "the package's patch 1 (backport.patch) is already upstream"
    )


def test_pull_request_body_carries_the_verdict(world: World) -> None:
    add_commits(world.upstream, 1)
    assert world.tracker().run_item(world.item_id).outcome == "success"
    (pull,) = world.forge.pulls(FULL_NAME)
    lines = pull.body.splitlines()
    assert lines[0].startswith("#")  # the original's whole body stays the first line
    assert "Pre-merge check: applies cleanly on upstream tag v1.0" in lines
