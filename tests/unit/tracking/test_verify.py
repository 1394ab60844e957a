"""Series verification against the upstream tag or a downstream tree that carries sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from repotrack.tracking.patches import build_series
from repotrack.tracking.upstream import Mirror
from repotrack.tracking.verify import check_series, tag_candidates
from tests.unit.tracking.test_upstream_gitutil import Repo, git, make_history


@pytest.fixture
def world(tmp_path: Path) -> tuple[Repo, dict[str, str], Mirror]:
    repo = Repo(tmp_path / "upstream")
    shas = make_history(repo)
    mirror = Mirror(tmp_path / "cache", repo.url, timeout=60)
    mirror.fetch()
    return repo, shas, mirror


def test_clean_on_upstream_tag(world: tuple[Repo, dict[str, str], Mirror]) -> None:
    _, shas, mirror = world
    series = build_series(mirror, mirror.new_commits("main", shas["base"]))
    head_before = (mirror.path / "HEAD").read_text()
    result = check_series(patches=series, mirror=mirror, version="1.0", downstream_tree=None)
    assert result.status == "clean"
    assert result.message == "applies cleanly on upstream tag v1.0"
    assert (mirror.path / "HEAD").read_text() == head_before
    assert not (mirror.path / "index").exists()


def test_conflict_names_file_and_patch(
    world: tuple[Repo, dict[str, str], Mirror], tmp_path: Path
) -> None:
    repo, shas, mirror = world
    # a "1.1" tag where src/main.c already differs around line 30
    repo.git("checkout", "--quiet", "-b", "rel", shas["base"])
    text = (repo.path / "src/main.c").read_text().replace("line 29\n", "line 29 changed\n")
    repo.commit("Release 1.1", {"src/main.c": text})
    repo.git("tag", "1.1")
    repo.git("checkout", "--quiet", "main")
    mirror.fetch()
    series = build_series(mirror, mirror.new_commits("main", shas["base"]))
    result = check_series(patches=series, mirror=mirror, version="1.1", downstream_tree=None)
    assert result.status == "conflict"
    assert result.message.startswith(f"conflicts in src/main.c at patch 6 ({shas['last']}.patch)")
    assert "upstream tag 1.1" in result.message


def test_unknown_without_tag_or_sources(
    world: tuple[Repo, dict[str, str], Mirror], tmp_path: Path
) -> None:
    _, shas, mirror = world
    series = build_series(mirror, mirror.new_commits("main", shas["base"]))
    packaging = Repo(tmp_path / "packaging")
    packaging.commit("spec only", {"demo.spec": "Name: demo\n"})
    result = check_series(
        patches=series, mirror=mirror, version="9.9", downstream_tree=packaging.path
    )
    assert result.status == "unknown"
    assert result.message == (
        "could not check: no upstream tag for version 9.9; "
        "the downstream repository does not carry the sources"
    )
    result = check_series(patches=series, mirror=mirror, version="%{ver}", downstream_tree=None)
    assert result.message == "could not check: the spec's Version is unknown"


def test_downstream_tree_carrying_sources(
    world: tuple[Repo, dict[str, str], Mirror], tmp_path: Path
) -> None:
    repo, shas, mirror = world
    series = build_series(mirror, mirror.new_commits("main", shas["base"]))
    carried = tmp_path / "carried"
    git(tmp_path, "clone", "--quiet", repo.url, str(carried))
    git(carried, "checkout", "--quiet", "--detach", shas["base"])
    result = check_series(patches=series, mirror=mirror, version=None, downstream_tree=carried)
    assert (result.status, result.message) == ("clean", "applies cleanly on downstream tree")
    assert git(carried, "status", "--porcelain") == ""  # the work tree was not touched
    git(carried, "checkout", "--quiet", "--detach", shas["last"])
    result = check_series(patches=series, mirror=mirror, version=None, downstream_tree=carried)
    assert result.status == "conflict"
    assert result.message.startswith("already applied: patch 1 (")  # the tree has the series


def test_tag_candidates_and_empty_series(world: tuple[Repo, dict[str, str], Mirror]) -> None:
    _, _, mirror = world
    assert tag_candidates("1.2") == ["v1.2", "1.2", "V1.2", "release-1.2", "v1_2", "1_2"]
    result = check_series(patches=[], mirror=mirror, version="1.0", downstream_tree=None)
    assert result.status == "clean"
