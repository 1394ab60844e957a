"""The patch series, and rpm itself applying it through a rewritten spec (``rpmbuild -bp``)."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from repotrack.tracking.patches import Patch, build_series, patch_filename
from repotrack.tracking.specfile import update_spec
from repotrack.tracking.upstream import Mirror
from tests.conftest import need_fixtures, need_tool
from tests.unit.tracking.test_upstream_gitutil import Repo, git, make_history

WHEN = datetime(2026, 11, 21, tzinfo=UTC)


@pytest.fixture
def world(tmp_path: Path) -> tuple[Repo, dict[str, str], Mirror]:
    repo = Repo(tmp_path / "upstream")
    shas = make_history(repo)
    mirror = Mirror(tmp_path / "cache", repo.url, timeout=60)
    mirror.fetch()
    return repo, shas, mirror


def test_series_is_oldest_first_and_skips_empty_commits(
    world: tuple[Repo, dict[str, str], Mirror],
) -> None:
    _, shas, mirror = world
    commits = mirror.new_commits("main", shas["base"])
    series = build_series(mirror, commits)
    names = ["fix", "binary", "rename", "main2", "merge", "last"]
    assert [p.commit.sha for p in series] == [shas[n] for n in names]
    assert all(p.filename == f"{p.commit.sha}.patch" for p in series)
    assert series[0].content.startswith(f"From {shas['fix']} ".encode())
    assert b"Subject: [PATCH] Fix off-by-one | in parser" in series[0].content


def test_patch_filename_refuses_non_shas() -> None:
    assert patch_filename("a" * 40) == "a" * 40 + ".patch"
    for bad in ("../x", "abc", "A" * 40, "a" * 40 + "/"):
        with pytest.raises(ValueError):
            patch_filename(bad)


SPEC = """\
Name:           demo
Version:        1.0
Release:        1%{{?dist}}
Summary:        Demo package
License:        MIT
Source0:        demo-1.0.tar.gz
BuildArch:      noarch

%description
Demo.

%prep
{prep}

%changelog
* Mon Jan 01 2024 Jane Packager <jane@example.org> - 1.0-1
- Initial package
"""


def _rpmbuild_prep(
    tmp_path: Path, repo: Repo, series: list[Patch], prep: str, tag: str = "v1.0"
) -> Path:
    rpmbuild = need_tool("rpmbuild")
    top = tmp_path / "rpmbuild"
    sources = top / "SOURCES"
    sources.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar.gz", "--prefix=demo-1.0/", tag],
        cwd=repo.path,
        capture_output=True,
        check=True,
    ).stdout
    (sources / "demo-1.0.tar.gz").write_bytes(archive)
    for patch in series:
        (sources / patch.filename).write_bytes(patch.content)
    update = update_spec(
        SPEC.format(prep=prep),
        patch_names=[p.filename for p in series],
        first_sha=series[0].commit.sha,
        last_sha=series[-1].commit.sha,
        when=WHEN,
    )
    spec = top / "demo.spec"
    spec.write_text(update.text)
    done = subprocess.run(
        [rpmbuild, "-bp", "--nodeps", "--define", f"_topdir {top}", str(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return top / "BUILD" / "demo-1.0"


def _tree_matches(built: Path, repo: Repo, rev: str) -> None:
    listed = git(repo.path, "ls-tree", "-r", "--name-only", rev).splitlines()
    for name in listed:
        expected = subprocess.run(
            ["git", "show", f"{rev}:{name}"], cwd=repo.path, capture_output=True, check=True
        ).stdout
        assert (built / name).read_bytes() == expected, name


@pytest.mark.parametrize("prep", ["%autosetup -p1", "%setup -q"])
def test_rpm_applies_text_series_with_patch(
    world: tuple[Repo, dict[str, str], Mirror], tmp_path: Path, prep: str
) -> None:
    """GNU patch (what %autosetup and %patch run) takes renames and merges from the series."""
    repo, shas, mirror = world
    commits = [c for c in mirror.new_commits("main", shas["base"]) if c.sha != shas["binary"]]
    # without the binary commit: GNU patch cannot apply "GIT binary patch" hunks
    repo.git("tag", "v1.0-nobin", shas["base"])
    series = build_series(mirror, commits)
    built = _rpmbuild_prep(tmp_path, repo, series, prep, tag="v1.0-nobin")
    assert (built / "new_name.txt").read_text() == "keep me\n"
    assert not (built / "old_name.txt").exists()
    assert (built / "feature.txt").read_text() == "one\ntwo\n"
    assert "line thirty\n" in (built / "src/main.c").read_text()


def test_rpm_applies_binary_series_with_git_am(
    world: tuple[Repo, dict[str, str], Mirror], tmp_path: Path
) -> None:
    """With %autosetup -S git_am the whole series, binary hunks included, gives the new head."""
    need_tool("git")
    repo, shas, mirror = world
    series = build_series(mirror, mirror.new_commits("main", shas["base"]))
    built = _rpmbuild_prep(tmp_path, repo, series, "%autosetup -S git_am")
    _tree_matches(built, repo, shas["last"])


def _apply(tree: Path, series: list[Patch], tool: list[str], work: Path) -> None:
    for patch in series:
        path = work / patch.filename
        path.write_bytes(patch.content)
        done = subprocess.run(
            [*tool, str(path)], cwd=tree, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"{patch.commit.sha}: {done.stdout[-500:]}{done.stderr}"


@pytest.mark.parametrize(
    ("bundle", "branch"),
    [("inih.bundle", "master"), ("rpmfile.bundle", "main"), ("rpmfile.bundle", "fix-localized")],
)
@pytest.mark.parametrize(
    "tool",
    [
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "am", "-q", "--keep-cr"],
        ["patch", "-p1", "-s", "--no-backup-if-mismatch", "-i"],
    ],
    ids=["git-am", "gnu-patch"],
)
def test_real_histories_give_back_the_head_tree(
    tmp_path: Path, bundle: str, branch: str, tool: list[str]
) -> None:
    """Two real projects' whole first-parent histories (inih: 156 commits with merges of
    side branches; rpmfile: two branches), from the first commit: the series applied in
    order by git am and by GNU patch (what rpm's %patch runs) gives exactly the tree git
    itself has at the branch head."""
    need_tool(tool[0])
    source = need_fixtures("git", "bundles", bundle)
    upstream = tmp_path / "upstream.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(source), str(upstream)], check=True)
    first = git(upstream, "rev-list", "--first-parent", "--reverse", branch).split()[0]
    head = git(upstream, "rev-parse", branch).strip()
    mirror = Mirror(tmp_path / "cache", f"file://{upstream}", timeout=60)
    mirror.fetch()
    series = build_series(mirror, mirror.new_commits(branch, first))
    assert len(series) > 10
    tree = tmp_path / "tree"
    subprocess.run(["git", "clone", "-q", str(upstream), str(tree)], check=True)
    git(tree, "checkout", "-q", "-b", "applied", first)
    _apply(tree, series, tool, tmp_path)
    git(tree, "add", "-A")
    assert git(tree, "diff", "--cached", "--stat", head) == ""
