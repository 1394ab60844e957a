"""The rows a feed stores equal those ALTRepo's loaders (altrepodb) insert for the same input.

Every expected value below is a literal that altrepodb 647565d produced for the same input
(its loaders run in a scratch environment with the database calls captured), so these
tests do not need altrepodb. Where repotrack deliberately differs, docs/feeds.md says so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from repotrack.ingest.feeds.messages import handle_bugzilla_message
from repotrack.sources.feeds import acl_list_branch, parse_acl_list, parse_bug_csv, parse_nvr
from repotrack.store import Store


def _bug(**fields: Any) -> dict[str, Any]:
    bug: dict[str, Any] = {
        "id": 42,
        "status": {"label": "NEW"},
        "resolution": "",
        "severity": "normal",
        "priority": "P3",
        "product": {"name": "Sisyphus"},
        "component": {"name": "foo"},
        "version": "",
        "platform": "all",
        "assigned_to": {"login": "ivan@altlinux.org"},
        "reporter": {"login": "petr@altlinux.org"},
        "summary": "s",
    }
    bug.update(fields)
    return {"_meta": {"time": "2026-01-01T03:00:00"}, "payload": {"bug": bug}}


def _stored(store: Store) -> list[tuple[object, ...]]:
    return store.query(
        "SELECT bz_id, bz_status, bz_resolution, bz_severity, bz_priority, bz_product, "
        "bz_version, bz_platform, bz_component, bz_assignee, bz_reporter, bz_summary, "
        "bz_last_changed, bz_assignee_full, bz_reporter_full FROM Bugzilla"
    )


def test_a_bugzilla_message_with_an_empty_version_stores_it_empty(store: Store) -> None:
    # altrepodb 647565d (uploaderd bugzilla_service) stored bz_version '' for "version": "";
    # only a message without the field gets 'all'.
    assert handle_bugzilla_message(store, "bugzilla.bug.changed.status", _bug()) == 1
    assert _stored(store) == [
        (42, "NEW", "", "normal", "P3", "Sisyphus", "", "all", "foo", "ivan", "petr", "s",
         datetime(2026, 1, 1, 3, 0, tzinfo=UTC), "ivan@altlinux.org", "petr@altlinux.org"),
    ]  # fmt: skip


def test_a_bugzilla_message_without_a_version_stores_all(store: Store) -> None:
    message = _bug()
    del message["payload"]["bug"]["version"]
    assert handle_bugzilla_message(store, "bugzilla.bug.changed.status", message) == 1
    assert [row[6] for row in _stored(store)] == ["all"]  # altrepodb 647565d: 'all'


def test_acl_branch_of_a_dotted_list_name() -> None:
    # altrepodb 647565d stored acl_branch 'c8.1' for list.packages.c8.1 ('p10' for .p10).
    assert acl_list_branch("list.packages.c8.1") == "c8.1"
    assert acl_list_branch("list.groups.p10") == "p10"


def test_acl_lines_as_altrepodb_stored_them() -> None:
    text = "foo\tivan petr\nbar\t@qa\nlibstdc++-devel\tivan\ntrail\tivan \ncrlf\tanna\r\n"
    parsed = parse_acl_list(text, source="list.packages.p10")
    # altrepodb 647565d: (acl_for, acl_list) of each line
    assert [(r.acl_for, list(r.members)) for r in parsed.records] == [
        ("foo", ["ivan", "petr"]),
        ("bar", ["@qa"]),
        ("libstdc++-devel", ["ivan"]),
        ("trail", ["ivan"]),
        ("crlf", ["anna"]),
    ]


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [  # altrepodb 647565d: (pkg_name, pkg_version, pkg_release) of BeehiveStatus
        ("foo-1.0-alt1.src.rpm", ("foo", "1.0", "alt1")),
        ("baz-1:2.0-alt1.src.rpm", ("baz", "2.0", "alt1")),
        ("my-pkg-name-3.1-alt0.1.src.rpm", ("my-pkg-name", "3.1", "alt0.1")),
        ("qux-1.0-rc1.src.rpm", ("qux-1.0-rc1", "", "")),
    ],
)
def test_beehive_names(file_name: str, expected: tuple[str, str, str]) -> None:
    nvr = parse_nvr(file_name)
    assert (nvr.name, nvr.version, nvr.release) == expected


def test_bugzilla_csv_rows() -> None:
    text = (
        "bug_id,bug_status,resolution,bug_severity,priority,product,version,rep_platform,"
        "component,assigned_to,reporter,short_desc,changeddate\n"
        "7,RESOLVED,FIXED,minor,P2,p10,none,x86_64,bar,anna,ivan,typo,2026-11-29 09:15:00\n"
        '8,ASSIGNED, ---,enhancement,P5,Sisyphus,unstable,all,libfoo,ivan,anna," padded summary ",'
        "2025-02-28 23:59:59\n"
    )
    bugs = parse_bug_csv(text, source="b.csv", zone=UTC).records
    # altrepodb 647565d (bin/bugzilla_loader, local zone UTC)
    assert [bug.key() for bug in bugs] == [
        (7, "RESOLVED", "FIXED", "minor", "P2", "p10", "none", "x86_64", "bar", "anna", "ivan",
         "typo", datetime(2026, 11, 29, 9, 15, tzinfo=UTC)),
        (8, "ASSIGNED", "", "enhancement", "P5", "Sisyphus", "unstable", "all", "libfoo", "ivan",
         "anna", " padded summary ", datetime(2025, 2, 28, 23, 59, 59, tzinfo=UTC)),
    ]  # fmt: skip
