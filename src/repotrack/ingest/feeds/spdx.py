"""``load spdx`` (§5.6): SPDX licenses and exceptions from a license-list-data git tree.

Order of work: bring the tree up to date (``git clone --depth=1`` when ``git_root``
has no repository, else ``git pull --ff-only``; 60 s and 300 s timeouts as in the
original, which pulled ``master`` by name where the tracked branch is used here);
read ``json/details`` and ``json/exceptions``; insert the records that are not in
``SPDXLicenses`` exactly as they are (a changed text or name is a new row), in one
insert. With ``update=False`` the tree is read as it is, offline.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from repotrack.errors import InputError, UpstreamError
from repotrack.ingest.feeds.result import FeedResult
from repotrack.sources.feeds import SpdxRecord, read_spdx_tree
from repotrack.store import Store

__all__ = ["SPDX_COLUMNS", "load_spdx", "update_tree"]

SPDX_COLUMNS = ("spdx_id", "spdx_name", "spdx_text", "spdx_header", "spdx_urls", "spdx_type")
CLONE_TIMEOUT = 60.0
PULL_TIMEOUT = 300.0


def load_spdx(store: Store, *, git_root: Path, git_url: str, update: bool) -> FeedResult:
    result = FeedResult("spdx")
    if update:
        update_tree(git_root, git_url)
    if not (git_root / "json").is_dir():
        raise InputError("no json/ folder of license-list-data", path=str(git_root))
    parsed = read_spdx_tree(git_root)
    result.add_problems(parsed.problems)
    stored = {
        (i, n, t, h, tuple(u), k)
        for i, n, t, h, u, k in store.query(
            "SELECT spdx_id, spdx_name, spdx_text, spdx_header, spdx_urls, toString(spdx_type) "
            "FROM SPDXLicenses"
        )
    }
    new = [r for r in dict.fromkeys(parsed.records) if _key(r) not in stored]
    if new:
        store.insert(
            "SPDXLicenses",
            SPDX_COLUMNS,
            [(*_key(r)[:4], list(r.spdx_urls), r.spdx_type) for r in new],
        )
    result.rows = len(new)
    return result


def _key(record: SpdxRecord) -> tuple[object, ...]:
    return (
        record.spdx_id,
        record.spdx_name,
        record.spdx_text,
        record.spdx_header,
        record.spdx_urls,
        record.spdx_type,
    )


def update_tree(git_root: Path, git_url: str) -> None:
    """Clone ``git_url`` into ``git_root`` or pull it there; failures name the URL."""
    if git_url.startswith("-") or "::" in git_url.split("/", 1)[0]:
        raise InputError("refused: not a plain URL or path", field=git_url)
    if (git_root / ".git").exists():
        argv = ["git", "-C", str(git_root), "pull", "--ff-only", "--quiet"]
        timeout = PULL_TIMEOUT
    else:
        git_root.parent.mkdir(parents=True, exist_ok=True)
        argv = ["git", "clone", "--depth=1", "--quiet", "--", git_url, str(git_root)]
        timeout = CLONE_TIMEOUT
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UpstreamError(f"git failed: {exc}", url=git_url) from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise UpstreamError(f"git {argv[1 if argv[1] != '-C' else 3]} failed: {last}", url=git_url)
