"""Upstream URLs and mirrors against real git repositories in tmp dirs."""

from __future__ import annotations

import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from repotrack.errors import InputError, UpstreamError
from repotrack.tracking.upstream import (
    HistoryRewritten,
    Mirror,
    redact_url,
    resolve_upstream_url,
)
from tests.unit.tracking.test_upstream_gitutil import Repo, git, make_history

GH = "https://github.com"


# --------------------------------------------------------------------------- URLs


def test_github_owner_name_maps_to_base_url() -> None:
    assert (
        resolve_upstream_url("github", "torvalds/linux", github_base_url=GH, allow_local=False)
        == "https://github.com/torvalds/linux.git"
    )
    assert (
        resolve_upstream_url(
            "github", " a/b.git/ ", github_base_url="http://127.0.0.1:9/", allow_local=False
        )
        == "http://127.0.0.1:9/a/b.git"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://gitlab.com/group/sub/project.git",
        "ssh://git@example.org:2222/repo.git",
        "git://git.kernel.org/pub/scm/git/git.git",
        "git@github.com:owner/name.git",
        "example.org:repo.git",
        "http://git.example.org/repo",
    ],
)
def test_remote_git_urls_are_accepted(url: str) -> None:
    assert resolve_upstream_url("git", url, github_base_url=GH, allow_local=False) == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ext::sh -c touch% /tmp/pwned", "whitespace"),
        ("ext::sh", "transport helpers"),
        ("fd::3", "transport helpers"),
        ("foo::https://example.org/x", "transport helpers"),
        ("-oProxyCommand=touch /tmp/x", "must not start with '-'"),
        ("--upload-pack=touch", "must not start with '-'"),
        ("ssh://-oProxyCommand=x/repo", "no usable host"),
        ("file:///etc", "file:// upstreams are refused"),
        ("/srv/git/repo.git", "local paths are refused"),
        ("./repo", "local paths are refused"),
        ("ftp://example.org/repo.git", "scheme 'ftp' is not allowed"),
        ("https:///nohost", "no usable host"),
        ("https://example.org/a\nb", "whitespace"),
        ("", "empty"),
    ],
)
def test_dangerous_urls_are_refused(url: str, why: str) -> None:
    with pytest.raises(InputError) as caught:
        resolve_upstream_url("git", url, github_base_url=GH, allow_local=False)
    assert caught.value.field == "scm_repo"
    assert why in str(caught.value)


def test_local_upstreams_only_when_allowed(tmp_path: Path) -> None:
    url = tmp_path.as_uri()
    assert resolve_upstream_url("git", url, github_base_url=GH, allow_local=True) == url
    assert resolve_upstream_url("git", str(tmp_path), github_base_url=GH, allow_local=True)
    # even when local paths are allowed, helpers and options stay refused
    with pytest.raises(InputError):
        resolve_upstream_url("git", "ext::sh", github_base_url=GH, allow_local=True)


@pytest.mark.parametrize("repo", ["owner", "a/b/c", "-x/y", "../etc", "a b/c", ""])
def test_bad_github_names_are_refused(repo: str) -> None:
    with pytest.raises(InputError) as caught:
        resolve_upstream_url("github", repo, github_base_url=GH, allow_local=False)
    assert caught.value.field == "scm_repo"


def test_unknown_version_control_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        resolve_upstream_url("svn", "x", github_base_url=GH, allow_local=False)
    assert caught.value.field == "version_control"


def test_redact_url() -> None:
    assert redact_url("https://user:tok@host/x") == "https://***@host/x"
    assert redact_url("git@host:x") == "git@host:x"


# --------------------------------------------------------------------------- mirrors


@pytest.fixture
def upstream(tmp_path: Path) -> tuple[Repo, dict[str, str]]:
    repo = Repo(tmp_path / "upstream")
    return repo, make_history(repo)


def test_new_commits_follow_the_first_parent_chain(
    upstream: tuple[Repo, dict[str, str]], tmp_path: Path
) -> None:
    repo, shas = upstream
    mirror = Mirror(tmp_path / "cache", repo.url, timeout=60)
    mirror.fetch()
    assert mirror.head("main") == shas["last"]
    commits = mirror.new_commits("main", shas["base"])
    expected = ["fix", "binary", "rename", "main2", "merge", "empty", "last"]
    assert [c.sha for c in commits] == [shas[k] for k in expected]
    fix = commits[0]
    assert fix.parents == (shas["base"],)
    assert fix.subject == "Fix off-by-one | in parser"
    assert fix.message == "Fix off-by-one | in parser\n\nLonger body\nwith two lines."
    assert (fix.author_name, fix.author_email) == ("Ada Upstream", "ada@example.org")
    assert fix.author_date.tzinfo == UTC
    stamp = int(repo.git("log", "-1", "--format=%at", fix.sha))
    assert fix.author_date == datetime.fromtimestamp(stamp, UTC)
    assert commits[4].parents == (shas["main2"], shas["side2"])
    assert commits[-1].subject == "Ünïcode subject"
    # an abbreviated sha works as the start too; the head itself means "nothing new"
    assert len(mirror.new_commits("main", shas["base"][:10])) == 7
    assert mirror.new_commits("main", shas["last"]) == []


def test_format_patch_series_applies_with_git_am(
    upstream: tuple[Repo, dict[str, str]], tmp_path: Path
) -> None:
    """Every patch (plain, binary, rename, merge) applies onto the previous one's result."""
    repo, shas = upstream
    mirror = Mirror(tmp_path / "cache", repo.url, timeout=60)
    mirror.fetch()
    commits = mirror.new_commits("main", shas["base"])
    work = tmp_path / "apply"
    git(tmp_path, "clone", "--quiet", repo.url, str(work))
    git(work, "checkout", "--quiet", "--detach", shas["base"])
    for commit in commits:
        content = mirror.format_patch(commit.sha)
        if commit.sha == shas["empty"]:
            assert b"diff --git" not in content  # format-patch has nothing to say
            continue
        assert content.startswith(f"From {commit.sha} ".encode())
        git(work, "am", "--quiet", "--keep-cr", stdin=content)
        assert git(work, "rev-parse", "HEAD^{tree}") == repo.head(f"{commit.sha}^{{tree}}")
    assert git(work, "log", "-1", "--format=%an <%ae>|%s") == "Ada Upstream <ada@example.org>|" + (
        "Ünïcode subject"
    )
    binary = mirror.format_patch(shas["binary"])
    assert b"GIT binary patch" in binary
    assert b"rename from old_name.txt" in mirror.format_patch(shas["rename"])
    merge = mirror.format_patch(shas["merge"])
    assert b"Subject: [PATCH] Merge branch 'feature'" in merge
    assert b"feature.txt" in merge and b"README" not in merge.split(b"---", 1)[1]


def test_force_push_is_reported_not_looped(
    upstream: tuple[Repo, dict[str, str]], tmp_path: Path
) -> None:
    repo, shas = upstream
    mirror = Mirror(tmp_path / "cache", repo.url, timeout=60)
    mirror.fetch()
    repo.git("reset", "--quiet", "--hard", shas["binary"])
    repo.commit("Rewritten history", {"README": "rewritten\n"})
    mirror.fetch()
    with pytest.raises(HistoryRewritten) as caught:
        mirror.new_commits("main", shas["merge"])
    assert caught.value.commit == shas["merge"]
    assert "force-pushed" in str(caught.value) or "not in the upstream" in str(caught.value)
    # a commit nobody has ever seen
    with pytest.raises(HistoryRewritten):
        mirror.new_commits("main", "0123456789abcdef0123456789abcdef01234567")


def test_side_branch_commit_is_not_on_first_parent_chain(
    upstream: tuple[Repo, dict[str, str]], tmp_path: Path
) -> None:
    repo, shas = upstream
    mirror = Mirror(tmp_path / "cache", repo.url, timeout=60)
    mirror.fetch()
    with pytest.raises(HistoryRewritten, match="first-parent"):
        mirror.new_commits("main", shas["side1"])


def test_bad_branch_and_sha_inputs(upstream: tuple[Repo, dict[str, str]], tmp_path: Path) -> None:
    repo, _ = upstream
    mirror = Mirror(tmp_path / "cache", repo.url, timeout=60)
    mirror.fetch()
    with pytest.raises(UpstreamError, match="does not exist"):
        mirror.head("no-such-branch")
    with pytest.raises(InputError):
        mirror.head("--upload-pack=x")
    with pytest.raises(InputError):
        mirror.head("a..b")
    with pytest.raises(InputError) as caught:
        mirror.new_commits("main", "HEAD~1")
    assert caught.value.field == "scm_commit"
    with pytest.raises(InputError):
        mirror.format_patch("--output=/tmp/x")


def test_ext_transport_is_refused_by_git_itself(tmp_path: Path) -> None:
    """Even if a hostile URL got past validation, git runs with protocol.ext.allow=never."""
    marker = tmp_path / "pwned"
    mirror = Mirror(tmp_path / "cache", f"ext::sh -c touch% {marker}", timeout=60)
    with pytest.raises(UpstreamError):
        mirror.fetch()
    assert not marker.exists()


def test_unreachable_upstreams(tmp_path: Path) -> None:
    missing = Mirror(tmp_path / "cache", (tmp_path / "nowhere").as_uri(), timeout=60)
    with pytest.raises(UpstreamError) as caught:
        missing.fetch()
    assert caught.value.url == (tmp_path / "nowhere").as_uri()
    refused = Mirror(tmp_path / "cache", "https://user:s3cret@127.0.0.1:1/x.git", timeout=30)
    with pytest.raises(UpstreamError) as caught:
        refused.fetch()
    assert "s3cret" not in str(caught.value)
    assert "https://***@127.0.0.1:1/x.git" in str(caught.value)
    with pytest.raises(UpstreamError, match="not been fetched"):
        Mirror(tmp_path / "other", "https://example.org/x.git").head("main")


def test_mirror_directories_are_distinct_and_stable(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    # URLs the original's rstrip(".git") mapped to the same directory
    urls = ["https://h/a/digit", "https://h/a/d", "https://h/a/d.git", "https://h/a_d"]
    paths = {Mirror(cache, url).path for url in urls}
    assert len(paths) == len(urls)
    assert Mirror(cache, urls[0]).path == Mirror(cache, urls[0]).path
    assert all(p.parent == cache / "upstream" for p in paths)


def test_mirror_shared_by_two_items_fetches_safely(
    upstream: tuple[Repo, dict[str, str]], tmp_path: Path
) -> None:
    repo, shas = upstream
    repo.git("branch", "stable", shas["rename"])
    first = Mirror(tmp_path / "cache", repo.url, timeout=60)
    second = Mirror(tmp_path / "cache", repo.url, timeout=60)
    assert first.path == second.path
    errors: list[BaseException] = []

    def fetch(mirror: Mirror) -> None:
        try:
            for _ in range(3):
                mirror.fetch()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fetch, args=(m,)) for m in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    head_file = (first.path / "HEAD").read_text()
    assert first.head("stable") == shas["rename"]
    assert second.head("main") == shas["last"]
    assert [c.sha for c in first.new_commits("stable", shas["base"])][-1] == shas["rename"]
    assert (first.path / "HEAD").read_text() == head_file  # reads never move HEAD
    assert not (first.path / "config").read_text().count(repo.url)  # URL not stored


def test_incremental_fetch_picks_up_new_commits_and_prunes(
    upstream: tuple[Repo, dict[str, str]], tmp_path: Path
) -> None:
    repo, shas = upstream
    repo.git("branch", "doomed")
    mirror = Mirror(tmp_path / "cache", repo.url, timeout=60)
    mirror.fetch()
    objects_before = _object_count(mirror.path)
    newer = repo.commit("Newer work", {"NEWS": "news\n"})
    repo.git("branch", "-D", "doomed")
    mirror.fetch()
    assert mirror.head("main") == newer
    assert [c.sha for c in mirror.new_commits("main", shas["last"])] == [newer]
    with pytest.raises(UpstreamError):
        mirror.head("doomed")
    # only the new commit's objects arrived (commit, tree, blob), not a second copy
    assert _object_count(mirror.path) - objects_before <= 6


def _object_count(git_dir: Path) -> int:
    out = subprocess.run(
        ["git", "--git-dir", str(git_dir), "count-objects", "-v"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fields = dict(line.split(": ") for line in out.splitlines())
    return int(fields["count"]) + int(fields["in-pack"])
