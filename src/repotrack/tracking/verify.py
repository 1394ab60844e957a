"""Does the patch series apply, in order, where it will land?

The original service's documentation promised a verification that its code never did.
Here the series is applied with ``git apply --cached`` to a throw-away index (a temporary
``GIT_INDEX_FILE``), so no work tree is written and the mirror's refs and HEAD stay as
they are; only blob objects are added to the object store.

Where it will land is what rpm builds: the upstream sources at the spec's ``Version:``
with the package's own patches applied first, in spec order, then the new ones (which
get the highest numbers). Checking against the pristine upstream tag alone reported
false conflicts for every series that touches lines a package patch had changed.

The sources are, in order of preference:

1. the upstream tree at the spec's ``Version:`` -- a tag ``v<ver>``, ``<ver>``, ``V<ver>``,
   ``release-<ver>`` or the same with ``_`` for ``.`` in the upstream mirror -- with the
   package's own patches (``earlier``) applied on top;
2. the downstream checkout, when it carries the sources (at least one file the series
   modifies exists there); its files are taken as they are.

Otherwise the result is ``unknown`` with the reason. ``git apply`` allows line offsets but
no fuzz, like rpm's ``%_default_patch_fuzz 0``. The verdicts:

- ``applies cleanly on upstream tag v1.2 after the package's 3 patch(es)``;
- ``conflicts with the package's patch 2 (fix-x.patch) in src/x.c at patch 1 (<sha>.patch)``
  when a failing new patch touches a file a package patch changed, else
  ``conflicts in F at patch N``;
- ``already in the package: patch N (<sha>.patch) is applied by its own patches`` when the
  change is there already (it applies in reverse; ``already applied ... is in <base>``
  when no package patch was involved);
- a package patch that is itself upstream now (it applies in reverse on the tag) is
  skipped and named: ``the package's patch 1 (fix.patch) is already upstream``.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from repotrack.errors import RepotrackError
from repotrack.tracking.patches import Patch
from repotrack.tracking.upstream import GitCommandError, Mirror, run_git

__all__ = ["EarlierPatch", "VerifyResult", "check_series", "tag_candidates"]

Status = Literal["clean", "conflict", "unknown"]

_APPLY_TIMEOUT = 120.0
_FAILED_FILE = (
    re.compile(r"^error: patch failed: (.+):\d+$", re.MULTILINE),
    re.compile(r"^error: (.+): (?:does not exist in index|already exists in index)$", re.MULTILINE),
    re.compile(r"^error: (.+): patch does not apply$", re.MULTILINE),
)
_DIFF_PATH = re.compile(rb"^diff --git a/(\S+) b/\S+$", re.MULTILINE)
#: Patches made with plain ``diff -u`` (common in packages) name files on ``+++`` lines.
_PLAIN_PATH = re.compile(rb"^\+\+\+ [^/\s]+/(\S+)", re.MULTILINE)


@dataclass(frozen=True)
class EarlierPatch:
    """One of the package's own patches: its spec number, file name and content."""

    number: int
    name: str
    content: bytes


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
    earlier: Sequence[EarlierPatch] = (),
) -> VerifyResult:
    """Apply ``earlier`` then ``patches`` onto the package's sources and say how it went."""
    if not patches:
        return VerifyResult("clean", "applies cleanly (no patches)")
    reasons = []
    if version and "%" not in version:
        for tag in tag_candidates(version):
            tree = mirror.has_tag(tag)
            if tree is not None:
                where = ["--git-dir", str(mirror.path)]
                base = f"upstream tag {tag}"
                return _apply_all(patches, git=where, tree=tree, base=base, earlier=earlier)
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


def _apply_all(
    patches: list[Patch],
    *,
    git: list[str],
    tree: str,
    base: str,
    earlier: Sequence[EarlierPatch] = (),
) -> VerifyResult:
    with tempfile.TemporaryDirectory(prefix="repotrack-verify-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        try:
            run_git([*git, "read-tree", tree], env=env, isolated=True, timeout=_APPLY_TIMEOUT)
        except RepotrackError as exc:
            return VerifyResult("unknown", f"could not check: cannot read {base} ({exc})")
        notes: list[str] = []
        applied: list[EarlierPatch] = []
        for own in earlier:
            outcome = _apply(git, env, own.content)
            if outcome == "reversed":
                notes.append(f"the package's patch {own.number} ({own.name}) is already upstream")
            elif outcome != "applied":
                return VerifyResult(
                    "unknown",
                    f"could not check: the package's patch {own.number} ({own.name}) "
                    f"does not apply on {base}",
                )
            else:
                applied.append(own)
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
                return _verdict(git, env, exc, number, patch, applied, base)
            except RepotrackError as exc:
                return VerifyResult("unknown", f"could not check: {exc}")
    after = f" after the package's {len(applied)} patch(es)" if applied else ""
    return VerifyResult("clean", "; ".join([f"applies cleanly on {base}{after}", *notes]))


def _apply(git: list[str], env: dict[str, str], content: bytes) -> str:
    """Apply to the index: ``applied``, ``reversed`` (already there) or ``failed``."""
    command = [*git, "apply", "--cached", "--whitespace=nowarn", "-"]
    try:
        run_git(command, env=env, isolated=True, stdin=content, timeout=_APPLY_TIMEOUT)
        return "applied"
    except GitCommandError:
        pass
    reverse = [*git, "apply", "--cached", "--check", "--reverse", "--whitespace=nowarn", "-"]
    try:
        run_git(reverse, env=env, isolated=True, stdin=content, timeout=_APPLY_TIMEOUT)
        return "reversed"
    except GitCommandError:
        return "failed"


def _verdict(
    git: list[str],
    env: dict[str, str],
    exc: GitCommandError,
    number: int,
    patch: Patch,
    applied: Sequence[EarlierPatch],
    base: str,
) -> VerifyResult:
    """Why new patch ``number`` failed: already there, a package patch, or the sources."""
    if _apply(git, env, patch.content) == "reversed":
        if applied:
            why = f"already in the package: patch {number} ({patch.filename}) is applied by "
            return VerifyResult("conflict", why + "its own patches")
        return VerifyResult(
            "conflict", f"already applied: patch {number} ({patch.filename}) is in {base}"
        )
    where = _failed_file(exc.stderr)
    if where is None:
        return VerifyResult("unknown", f"could not check: {exc} (patch {number})")
    for own in reversed(applied):
        if where in _touched(own.content):
            return VerifyResult(
                "conflict",
                f"conflicts with the package's patch {own.number} ({own.name}) in {where} "
                f"at patch {number} ({patch.filename})",
            )
    return VerifyResult(
        "conflict", f"conflicts in {where} at patch {number} ({patch.filename}) on {base}"
    )


def _touched(content: bytes) -> set[str]:
    return {raw.decode("utf-8", "replace") for raw in _DIFF_PATH.findall(content)} | {
        raw.decode("utf-8", "replace") for raw in _PLAIN_PATH.findall(content)
    }


def _failed_file(stderr: str) -> str | None:
    for pattern in _FAILED_FILE:
        match = pattern.search(stderr)
        if match:
            return match.group(1)
    return None
