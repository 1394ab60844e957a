"""The feed parsers on their own: listings, NVRs, acl/time/ftbfs/watch lines, Bugzilla CSV."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repotrack.ingest.feeds.bugzilla import BUG_COLUMNS
from repotrack.sources.feeds import (
    Nvr,
    acl_list_branch,
    parse_acl_list,
    parse_bug_csv,
    parse_ftbfs_since,
    parse_listing,
    parse_nvr,
    parse_time_list,
    parse_watch,
)

NGINX = """<html><body><h1>Index of /acl/</h1><hr><pre><a href="../">../</a>
<a href="list.groups.p10">list.groups.p10</a>                    05-Dec-2026 09:10    1234
<a href="latest/">latest/</a>                                    04-Dec-2026 23:59       -
<a href="odd%20name">odd name</a>                                05-Dec-2026 09:10:07  12
</pre><hr></body></html>"""

APACHE = """<table><tr><th><a href="?C=N;O=D">Name</a></th></tr>
<tr><td><a href="/">Parent Directory</a></td></tr>
<tr><td><a href="list.packages.c8.1">list.packages.c8.1</a></td>
<td align="right">2021-08-18 10:00  </td><td align="right">1.2K</td></tr>
<tr><td><a href="http://elsewhere.example/">x</a></td></tr></table>"""


def test_nginx_listing() -> None:
    entries = parse_listing(NGINX)
    assert [(e.name, e.is_dir, e.mtime) for e in entries] == [
        ("list.groups.p10", False, datetime(2026, 12, 5, 9, 10)),
        ("latest", True, datetime(2026, 12, 4, 23, 59)),
        ("odd name", False, datetime(2026, 12, 5, 9, 10, 7)),
    ]


def test_apache_listing_skips_sort_parent_and_foreign_links() -> None:
    (entry,) = parse_listing(APACHE)
    assert (entry.name, entry.mtime) == ("list.packages.c8.1", datetime(2021, 8, 18, 10, 0))


def test_acl_branch_names() -> None:
    assert acl_list_branch("list.packages.c8.1") == "c8.1"
    assert acl_list_branch("list.groups.sisyphus") == "sisyphus"
    assert acl_list_branch("list.other.p10") is None
    assert acl_list_branch("README") is None


def test_acl_lines() -> None:
    parsed = parse_acl_list("foo\tivan petr\n@qa\tanna\nbar\n<b>x\tivan\n", source="f")
    assert [(r.acl_for, r.members) for r in parsed.records] == [
        ("foo", ("ivan", "petr")),
        ("@qa", ("anna",)),
    ]
    assert [str(p) for p in parsed.problems] == ["f:3: no members", "f:4: bad name '<b>x'"]


def test_nvr_rules() -> None:
    assert parse_nvr("foo-bar-1.2-alt1.src.rpm") == Nvr("foo-bar", "1.2", "alt1")
    assert parse_nvr("foo-1:2.0-alt0.1") == Nvr("foo", "2.0", "alt0.1")
    assert parse_nvr("foo-1.2-rc1") == Nvr("foo-1.2-rc1", "", "")
    assert parse_nvr("alt1") == Nvr("alt1", "", "")


def test_time_list_and_ftbfs() -> None:
    times = parse_time_list("a-1-alt1.src.rpm\t1.5\nb-1-alt1.src.rpm\tx\n\nc\n", source="t")
    assert [(t.nvr.name, t.seconds) for t in times.records] == [("a", 1.5)]
    assert [p.line for p in times.problems] == [2, 4]
    since = parse_ftbfs_since("a\t1700000000\nb\t-5\n", source="s")
    assert since.records == [("a", 1700000000)] and since.problems[0].line == 2


def test_bugzilla_csv_quoting_zone_and_resolution() -> None:
    text = (
        "bug_id,bug_status,resolution,bug_severity,priority,product,version,rep_platform,"
        "component,assigned_to,reporter,short_desc,changeddate\n"
        '5,NEW, ---,normal,P3,Sisyphus,unstable,all,foo,ivan,petr,"a, ""quoted""\nsummary",'
        "2026-01-01 03:00:00\n"
        "6,NEW,,normal,P3,Sisyphus,unstable,all,foo,ivan,petr,x,yesterday\n"
    )
    parsed = parse_bug_csv(text, source="b.csv", zone=ZoneInfo("Europe/Moscow"))
    (bug,) = parsed.records
    assert bug.bz_resolution == "" and bug.bz_summary == 'a, "quoted"\nsummary'
    assert bug.bz_last_changed == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert [str(p) for p in parsed.problems] == ["b.csv:4: bad changeddate 'yesterday'"]


def test_a_bug_key_is_its_fields_in_order() -> None:
    text = (
        "bug_id,bug_status,resolution,bug_severity,priority,product,version,rep_platform,"
        "component,assigned_to,reporter,short_desc,changeddate\n"
        "7,RESOLVED,FIXED,minor,P2,p10,none,x86_64,bar,anna,ivan,typo,2026-11-29 09:15:00\n"
    )
    (bug,) = parse_bug_csv(text, source="b.csv", zone=UTC).records
    assert bug.key() == dataclasses.astuple(bug)
    assert [f.name for f in dataclasses.fields(bug)] == list(BUG_COLUMNS)


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-01 03:00:00",
        "2026-1-2 3:04:05",  # not zero-padded: strptime reads it
        "2026-02-30 10:00:00",
        "2026-01-01 24:00:00",
        "2026-01-01 10:60:00",
        "2026-01-01T10:00:00",
        "2026-01-01 10:00:00+03:00",
        "2026-01-01",
        "",
    ],
)
def test_a_change_date_is_read_as_strptime_reads_it(text: str) -> None:
    from repotrack.sources.feeds.bugzilla import _changed

    try:
        expected: object = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        expected = ValueError
    try:
        found: object = _changed(text)
    except ValueError:
        found = ValueError
    assert found == expected


_field = st.text(alphabet=st.characters(blacklist_characters="\t\r\n"), min_size=1).filter(
    lambda s: s.strip() == s
)


@given(st.lists(st.tuples(_field, _field, _field, _field, _field), max_size=5))
def test_watch_round_trip(lines: list[tuple[str, str, str, str, str]]) -> None:
    text = "".join("\t".join(line) + "\n" for line in lines)
    parsed = parse_watch(text, source="w")
    assert parsed.problems == []
    assert [
        (r.acl, r.pkg_name, r.old_version, r.new_version, r.url) for r in parsed.records
    ] == lines


@given(st.text())
def test_line_parsers_never_raise(text: str) -> None:
    for parse in (parse_watch, parse_acl_list, parse_time_list, parse_ftbfs_since):
        parsed = parse(text, source="x")  # type: ignore[operator]
        assert all(p.line >= 1 for p in parsed.problems)
    parse_listing(text)
