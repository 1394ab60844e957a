"""Does the patch series apply, in order, to the package's sources?

The original service's documentation promised a verification that its code never did.
Here the series is applied with ``git apply --cached`` to a throw-away index (a temporary
``GIT_INDEX_FILE``), so no work tree is written and the mirror's refs and HEAD stay as
they are; only blob objects are added to the object store.

The sources are, in order of preference:

1. the upstream tree at the spec's ``Version:`` — a tag ``v<ver>``, ``<ver>``, ``V<ver>``,
   ``release-<ver>`` or the same with ``_`` for ``.`` in the upstream mirror;
2. the downstream checkout, when it carries the sources (at least one file the series
   modifies exists there).

Otherwise the result is ``unknown`` with the reason. ``git apply`` allows line offsets but
no fuzz, like rpm's ``%_default_patch_fuzz 0``. The check does not apply the package's own
earlier patches first, so a series that depends on them reports a conflict.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from repotrack.errors import RepotrackError
from repotrack.tracking.patches import Patch
from repotrack.tracking.upstream import GitCommandError, Mirror, run_git

__all__ = ["VerifyResult", "check_series", "tag_candidates"]

Status = Literal["clean", "conflict", "unknown"]

_APPLY_TIMEOUT = 120.0
_FAILED_FILE = (
    re.compile(r"^error: patch failed: (.+):\d+$", re.MULTILINE),
    re.compile(r"^error: (.+): (?:does not exist in index|already exists in index)$", re.MULTILINE),
    re.compile(r"^error: (.+): patch does not apply$", re.MULTILINE),
)
_DIFF_PATH = re.compile(rb"^diff --git a/(\S+) b/\S+$", re.MULTILINE)


@dataclass(frozen=True)
class VerifyResult:
    """``clean``, ``conflict`` (``message`` names file and patch) or ``unknown`` (says why)."""

    status: Status
    message: str


def tag_candidates(version: str) -> list[str]:
    """The tag names an upstream commonly gives release ``version``."""
    underscored = version.replace(".", "_")
    names = [f"v{version}", version, f"V{version}", f"release-{version}"]
    if underscored != version:
        names += [f"v{underscored}", underscored]
    return names


def check_series(
    *,
    patches: list[Patch],
    mirror: Mirror,
    version: str | None,
    downstream_tree: Path | None,
) -> VerifyResult:
    """Apply ``patches`` in order onto the package's sources and say how it went."""
    if not patches:
        return VerifyResult("clean", "applies cleanly (no patches)")
    reasons = []
    if version and "%" not in version:
        for tag in tag_candidates(version):
            tree = mirror.has_tag(tag)
            if tree is not None:
                where = ["--git-dir", str(mirror.path)]
                return _apply_all(patches, git=where, tree=tree, base=f"upstream tag {tag}")
        reasons.append(f"no upstream tag for version {version}")
    else:
        reasons.append("the spec's Version is unknown")
    if downstream_tree is not None:
        if _carries_sources(downstream_tree, patches):
            where = ["-C", str(downstream_tree)]
            return _apply_all(patches, git=where, tree="HEAD", base="downstream tree")
        reasons.append("the downstream repository does not carry the sources")
    return VerifyResult("unknown", "could not check: " + "; ".join(reasons))


def _carries_sources(tree: Path, patches: list[Patch]) -> bool:
    for patch in patches:
        for raw in _DIFF_PATH.findall(patch.content):
            path = raw.decode("utf-8", "replace")
            if ".." not in path.split("/") and (tree / path).is_file():
                return True
    return False


def _apply_all(patches: list[Patch], *, git: list[str], tree: str, base: str) -> VerifyResult:
    with tempfile.TemporaryDirectory(prefix="repotrack-verify-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        try:
            run_git([*git, "read-tree", tree], env=env, isolated=True, timeout=_APPLY_TIMEOUT)
        except RepotrackError as exc:
            return VerifyResult("unknown", f"could not check: cannot read {base} ({exc})")
        for number, patch in enumerate(patches, start=1):
            try:
                run_git(
                    [*git, "apply", "--cached", "--whitespace=nowarn", "-"],
                    env=env,
                    isolated=True,
                    stdin=patch.content,
                    timeout=_APPLY_TIMEOUT,
                )
            except GitCommandError as exc:
                where = _failed_file(exc.stderr)
                if where is None:
                    return VerifyResult("unknown", f"could not check: {exc} (patch {number})")
                return VerifyResult(
                    "conflict",
                    f"conflicts in {where} at patch {number} ({patch.filename}) on {base}",
                )
            except RepotrackError as exc:
                return VerifyResult("unknown", f"could not check: {exc}")
    return VerifyResult("clean", f"applies cleanly on {base}")


def _failed_file(stderr: str) -> str | None:
    for pattern in _FAILED_FILE:
        match = pattern.search(stderr)
        if match:
            return match.group(1)
    return None
