"""The patch series: one ``<full sha>.patch`` file per new upstream commit, oldest first.

Each file is ``git format-patch`` output against the commit's first parent (mail headers,
author, date, subject, full diff with binary hunks), so ``git am`` and ``patch -p1`` both take
it, and applying the series in order onto the old head reproduces the new head's tree.

A commit that changes nothing against its first parent (``--allow-empty`` commits, merges
resolved with ``-s ours``) gets no file: rpm's ``%patch``/``%autopatch`` run GNU patch, which
fails on a patch without hunks. Such commits are still "processed" (the caller moves past
them); :func:`build_series` returns only the commits that carry a change.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from repotrack.tracking.upstream import CommitInfo, Mirror

__all__ = ["Patch", "build_series", "has_changes", "patch_filename"]

log = logging.getLogger(__name__)

_FULL_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")


@dataclass(frozen=True)
class Patch:
    """One generated patch file: the commit it came from, its file name and its bytes."""

    commit: CommitInfo
    filename: str
    content: bytes


def patch_filename(sha: str) -> str:
    """``<full sha>.patch``; refuses anything that is not a full lowercase sha (no paths)."""
    if not _FULL_SHA.fullmatch(sha):
        raise ValueError(f"not a full commit sha: {sha!r}")
    return f"{sha}.patch"


def has_changes(content: bytes) -> bool:
    """Whether a format-patch text carries at least one file diff."""
    return b"\ndiff --git " in content


def build_series(mirror: Mirror, commits: list[CommitInfo]) -> list[Patch]:
    """Patches for ``commits`` (oldest first, as :meth:`Mirror.new_commits` returns them)."""
    series: list[Patch] = []
    for commit in commits:
        content = mirror.format_patch(commit.sha)
        if not has_changes(content):
            log.info("skipping commit without changes", extra={"sha": commit.sha})
            continue
        series.append(Patch(commit=commit, filename=patch_filename(commit.sha), content=content))
    return series
