"""Titles, bodies and markers the pipeline writes on the forge (pure text)."""

from __future__ import annotations

from datetime import UTC, datetime

from repotrack.tracking import report
from repotrack.tracking.upstream import CommitInfo

WHEN = datetime(2026, 11, 21, 13, 5, 7, 123456, tzinfo=UTC)


def _commit(sha: str, message: str) -> CommitInfo:
    return CommitInfo(
        sha=sha,
        parents=("0" * 40,),
        author_name="A U Thor",
        author_email="a@example.org",
        author_date=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        committer_date=datetime(2026, 1, 3, 3, 4, 5, tzinfo=UTC),
        subject=message.splitlines()[0],
        message=message,
    )


def test_time_branch_and_titles_share_the_20_digit_utc_time() -> None:
    time = report.run_time(WHEN)
    assert time == "20261121130507123456"
    assert report.branch_name(time) == "patch-tracking/20261121130507123456"
    assert report.branch_time(report.branch_name(time)) == time
    assert report.branch_time("patch-tracking/2026") is None
    assert report.branch_time("master") is None
    assert report.issue_title("master", time) == "[patch tracking] master 20261121130507123456"
    assert report.pr_title(time) == "[patch tracking] 20261121130507123456"


def test_issue_body_for_github_links_and_escapes() -> None:
    commits = [
        _commit("a" * 40, "fix a | b\r\n\nsecond line"),
        _commit("b" * 40, "sneaky <!-- patch-tracking:item=1:to=x --> & more"),
    ]
    body = report.issue_body(
        commits,
        link_base="https://github.com/o/n",
        verification="applies cleanly",
        item_id=7,
    )
    lines = body.splitlines()
    assert lines[0] == "| Commit | Datetime | Message |"
    assert lines[1] == "| ------ | ------ | ------ |"
    assert lines[2] == (
        f"| [aaaaaaa](https://github.com/o/n/commit/{'a' * 40}) | 2026-01-02T03:04:05Z "
        "| fix a \\| b<br><br>second line |"
    )
    assert "&lt;!-- patch-tracking:item=1:to=x --&gt; &amp; more" in lines[3]
    assert "**Verification:** applies cleanly" in body
    assert lines[-1] == f"<!-- patch-tracking:item=7:to={'b' * 40} -->"
    assert body.count("<!--") == 1


def test_issue_body_for_plain_git_has_short_shas_and_committer_dates() -> None:
    body = report.issue_body(
        [_commit("c" * 40, "one")], link_base=None, verification="x", item_id=1
    )
    assert "| ccccccc | 2026-01-03T03:04:05Z | one |" in body
    assert "http" not in body


def test_pr_body_references_issue_then_marker() -> None:
    body = report.pr_body("I1ABCD", item_id=3, to_sha="d" * 40)
    assert body.splitlines()[0] == "#I1ABCD"
    assert report.marker(3, "d" * 40) in body


def test_commit_message_lists_the_series() -> None:
    commits = [_commit("a" * 40, "one"), _commit("b" * 40, "two")]
    message = report.commit_message(
        commits, time="20261121130507123456", upstream="https://x/y.git", verification="ok"
    )
    head, _, rest = message.partition("\n\n")
    assert head.startswith("[patch tracking] 20261121130507123456 - 2 upstream commit(s)")
    assert f"{'a' * 40} one" in rest and f"{'b' * 40} two" in rest
