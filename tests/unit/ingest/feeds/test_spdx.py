"""``load spdx`` from a real git repository in the license-list-data layout (SPDX 3.28 files)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from repotrack.config import FeedsSettings
from repotrack.errors import UpstreamError
from repotrack.ingest.feeds import FeedRequest, run_feed
from repotrack.store import Store
from tests.conftest import need_fixtures, need_tool


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=cwd, check=True, capture_output=True,
    )  # fmt: skip


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    need_tool("git")
    spdx = need_fixtures("spdx")
    repo = tmp_path / "license-list-data"
    for folder, names in (
        ("details", ["MIT", "Apache-2.0"]),
        ("exceptions", ["GCC-exception-3.1"]),
    ):
        target = repo / "json" / folder
        target.mkdir(parents=True)
        for name in names:
            shutil.copy(spdx / folder / f"{name}.json", target)
    (repo / "json" / "details" / "broken.json").write_text("{", encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "3.28")
    return repo


def load(store: Store, origin: Path, root: Path, *, update: bool = True) -> int:
    settings = FeedsSettings(spdx_git_url=str(origin))
    options = {"git_root": str(root), "update": "1" if update else "0"}
    result = run_feed(store, settings, FeedRequest("spdx", options=options))
    assert result.skipped == 1 and "broken.json" in str(result.problems[0])
    return result.rows


def test_clone_load_pull_one_change(store: Store, origin: Path, tmp_path: Path) -> None:
    root = tmp_path / "SPDX"
    assert load(store, origin, root) == 3
    assert store.query(
        "SELECT spdx_id, spdx_type, spdx_name, length(spdx_urls) > 0 FROM SPDXLicenses ORDER BY 1"
    ) == [
        ("Apache-2.0", "license", "Apache License 2.0", True),
        ("GCC-exception-3.1", "exception", "GCC Runtime Library exception 3.1", True),
        ("MIT", "license", "MIT License", True),
    ]
    assert load(store, origin, root) == 0
    mit = origin / "json" / "details" / "MIT.json"
    data = json.loads(mit.read_text(encoding="utf-8"))
    data["name"] = "MIT License (renamed)"
    mit.write_text(json.dumps(data), encoding="utf-8")
    git(origin, "commit", "-qam", "rename")
    assert load(store, origin, root) == 1
    assert load(store, origin, root, update=False) == 0


def test_unreachable_repository_names_it(store: Store, tmp_path: Path) -> None:
    need_tool("git")
    settings = FeedsSettings(spdx_git_url=str(tmp_path / "nowhere"))
    request = FeedRequest("spdx", options={"git_root": str(tmp_path / "SPDX")})
    with pytest.raises(UpstreamError, match="git clone failed") as caught:
        run_feed(store, settings, request)
    assert caught.value.url == str(tmp_path / "nowhere")
