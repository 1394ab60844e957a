"""What the pipeline writes on the forge: titles, issue and PR bodies, markers, commit message.

Pure text, so it is tested without git or a forge. Formats kept from the original
(reference §5.2): branch ``patch-tracking/<time>``, issue title
``[patch tracking] <branch> <time>``, PR title ``[patch tracking] <time>``, PR body
``#<issue>``, and an issue body that is a Markdown table ``| Commit | Datetime | Message |``.
Fixed on the way (§10.1 #12): ``|`` is escaped, commit links are made only for GitHub
upstreams (the original linked github.com even for plain git remotes), and times are UTC.

Upstream commit messages are untrusted text, so ``<``, ``>`` and ``&`` are escaped too:
a message can then neither inject HTML into the issue nor forge our idempotency marker.
The marker ``<!-- patch-tracking:item=<id>:to=<sha> -->`` sits on its own line in the
issue and PR bodies; a later run finds the issue by it instead of opening a second one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from repotrack.tracking.upstream import CommitInfo

__all__ = [
    "BRANCH_PREFIX",
    "TIME_FORMAT",
    "branch_name",
    "branch_time",
    "commit_message",
    "escape_cell",
    "issue_body",
    "issue_title",
    "marker",
    "pr_body",
    "pr_title",
    "run_time",
]

BRANCH_PREFIX: Final = "patch-tracking/"
#: 20 digits, UTC, microseconds included (the original's format since 2020-09).
TIME_FORMAT: Final = "%Y%m%d%H%M%S%f"
_TIME_RE: Final = re.compile(r"\d{20}")


def run_time(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).strftime(TIME_FORMAT)


def branch_name(time: str) -> str:
    return f"{BRANCH_PREFIX}{time}"


def branch_time(branch: str) -> str | None:
    """The ``<time>`` of a branch we named, or None for any other branch."""
    if not branch.startswith(BRANCH_PREFIX):
        return None
    time = branch[len(BRANCH_PREFIX) :]
    return time if _TIME_RE.fullmatch(time) else None


def marker(item_id: int, to_sha: str) -> str:
    return f"<!-- patch-tracking:item={item_id}:to={to_sha} -->"


def issue_title(tracked_branch: str, time: str) -> str:
    return f"[patch tracking] {tracked_branch} {time}"


def pr_title(time: str) -> str:
    return f"[patch tracking] {time}"


def escape_cell(text: str) -> str:
    """Text safe inside one Markdown table cell."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    return text.replace("\r", "").strip("\n").replace("\n", "<br>")


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _commit_cell(commit: CommitInfo, link_base: str | None) -> str:
    short = commit.sha[:7]
    if link_base is None:
        return short
    return f"[{short}]({link_base}/commit/{commit.sha})"


def issue_body(
    commits: Sequence[CommitInfo],
    *,
    link_base: str | None,
    verification: str,
    item_id: int,
) -> str:
    """The issue body: the commits table, the verification result and the marker.

    ``link_base`` is ``<github_base_url>/<owner>/<name>`` for GitHub upstreams, else
    None. GitHub rows show the author date, git rows the committer date, as before.
    """
    lines = ["| Commit | Datetime | Message |", "| ------ | ------ | ------ |"]
    for commit in commits:
        when = commit.author_date if link_base is not None else commit.committer_date
        cells = (_commit_cell(commit, link_base), _when(when), escape_cell(commit.message))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"**Verification:** {escape_cell(verification)}", ""]
    lines.append(marker(item_id, commits[-1].sha))
    return "\n".join(lines) + "\n"


def pr_body(
    issue_number: str, *, item_id: int, to_sha: str, verification: str | None = None
) -> str:
    """``#<issue>`` first (the original's whole body), then the pre-merge check's verdict."""
    check = f"Pre-merge check: {verification}\n\n" if verification else ""
    return f"#{issue_number}\n\n{check}{marker(item_id, to_sha)}\n"


def commit_message(
    commits: Sequence[CommitInfo], *, time: str, upstream: str, verification: str
) -> str:
    """One downstream commit carries the whole series (patch files plus the spec change)."""
    first, last = commits[0].sha, commits[-1].sha
    head = f"[patch tracking] {time} - {len(commits)} upstream commit(s) {first[:12]}..{last[:12]}"
    body = [f"Upstream: {upstream}", f"Verification: {verification}", ""]
    body += [f"{c.sha} {c.subject}" for c in commits]
    return head + "\n\n" + "\n".join(body) + "\n"
