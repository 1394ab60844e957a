"""``load bugzilla`` (CSV export) and the Bugzilla/acl message handlers."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from repotrack.config import FeedsSettings
from repotrack.errors import InputError
from repotrack.ingest.feeds.messages import handle_acl_message, handle_bugzilla_message
from repotrack.store import Store
from tests.unit.ingest.feeds.conftest import run
from tests.unit.ingest.feeds.feedserver import FeedServer, Reply, utc

HEADER = (
    "bug_id,bug_status,resolution,bug_severity,priority,product,version,rep_platform,"
    "component,assigned_to,reporter,short_desc,changeddate\n"
)
BUG1 = (
    '101,NEW, ---,normal,P3,Sisyphus,unstable,all,foo,ivan,petr,"foo, crashes",'
    "2026-11-30 10:00:00\n"
)
BUG2 = "102,RESOLVED,FIXED,minor,P2,p10,none,x86_64,bar,anna,ivan,bar typo,2026-11-29 09:15:00\n"
BAD = "oops,NEW\n"


def bug_rows(store: Store) -> list[tuple[object, ...]]:
    return store.query(
        "SELECT bz_id, bz_status, bz_resolution, bz_summary, bz_last_changed, bz_assignee_full "
        "FROM Bugzilla ORDER BY bz_id, ts"
    )


def test_first_load_reload_and_one_changed_bug(
    store: Store, feeds: FeedsSettings, feed_server: FeedServer
) -> None:
    feed_server.set("/buglist.cgi", Reply((HEADER + BUG1 + BUG2 + BAD).encode()))
    url = feed_server.url + "/buglist.cgi"
    first = run(store, feeds, "bugzilla", url)
    assert (first.rows, first.skipped) == (2, 1)
    assert bug_rows(store) == [
        (101, "NEW", "", "foo, crashes", utc(2026, 11, 30, 10), ""),
        (102, "RESOLVED", "FIXED", "bar typo", utc(2026, 11, 29, 9, 15), ""),
    ]
    query = parse_qs(feed_server.hits("/buglist.cgi")[0].query)
    assert query["ctype"] == ["csv"] and query["limit"] == ["0"]
    assert query["columnlist"][0].startswith("id,bug_status,resolution")
    assert run(store, feeds, "bugzilla", url).rows == 0
    changed = BUG1.replace("NEW", "ASSIGNED").replace("10:00:00", "12:00:00")
    feed_server.set("/buglist.cgi", Reply((HEADER + changed + BUG2).encode()))
    assert run(store, feeds, "bugzilla", url).rows == 1
    assert store.query("SELECT argMax(bz_status, ts), count() FROM Bugzilla WHERE bz_id = 101") == [
        ("ASSIGNED", 2)
    ]


def test_offline_csv_and_an_html_page_refused(
    store: Store, feeds: FeedsSettings, tmp_path: Path
) -> None:
    export = tmp_path / "bugs.csv"
    export.write_text(HEADER + BUG2, encoding="utf-8")
    assert run(store, feeds, "bugzilla", str(export)).rows == 1
    page = tmp_path / "login.html"
    page.write_text("<html>\n<body>log in</body>\n</html>\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a Bugzilla CSV export"):
        run(store, feeds, "bugzilla", str(page))


def _bug_message(status: str, time: str = "2026-12-01T10:00:00+00:00") -> bytes:
    bug = {
        "id": 7,
        "status": {"label": status},
        "resolution": "",
        "severity": "major",
        "priority": "P1",
        "product": {"name": "Sisyphus"},
        "component": {"name": "foo"},
        "platform": "all",
        "assigned_to": {"login": "ivan@altlinux.org"},
        "reporter": {"login": "petr@altlinux.org"},
        "summary": "it breaks",
    }
    return json.dumps({"_meta": {"time": time}, "payload": {"bug": bug}}).encode()


def test_bugzilla_messages(store: Store) -> None:
    assert handle_bugzilla_message(store, "bugzilla.bug.changed.status", _bug_message("NEW")) == 1
    assert handle_bugzilla_message(store, "bugzilla.bug.changed.status", _bug_message("NEW")) == 0
    comment = json.loads(_bug_message("ASSIGNED", "2026-12-01T11:00:00+00:00"))
    comment["payload"] = {"comment": {"bug": comment["payload"]["bug"]}}
    assert handle_bugzilla_message(store, "bugzilla.comment.new", comment) == 1
    assert handle_bugzilla_message(store, "bugzilla.attachment.new", comment) == 0
    assert store.query(
        "SELECT bz_status, bz_version, bz_assignee, bz_assignee_full, bz_last_changed "
        "FROM Bugzilla ORDER BY ts"
    ) == [
        ("NEW", "all", "ivan", "ivan@altlinux.org", utc(2026, 12, 1, 10)),
        ("ASSIGNED", "all", "ivan", "ivan@altlinux.org", utc(2026, 12, 1, 11)),
    ]
    with pytest.raises(InputError, match="payload"):
        handle_bugzilla_message(store, "bugzilla.bug.changed", b'{"_meta": {}}')


def test_acl_message(store: Store) -> None:
    body = {"_timestamp": 1764583200.5, "target": "foo", "repo": "p10", "new_owners": ["a", "b"]}
    assert handle_acl_message(store, json.dumps(body).encode()) == 1
    assert store.query("SELECT acl_date, acl_for, acl_branch, acl_list FROM Acl") == [
        (utc(2025, 12, 1, 10), "foo", "p10", ["a", "b"])
    ]
    with pytest.raises(InputError, match="new_owners"):
        handle_acl_message(store, {**body, "new_owners": "a b"})
    with pytest.raises(InputError, match="not JSON"):
        handle_acl_message(store, b"{")


@pytest.mark.parametrize("stamp", ["soon", 1e20, float("nan"), -1e20, [1]])
def test_an_acl_message_with_a_bad_time_is_an_input_error(store: Store, stamp: object) -> None:
    """Before 2026-12-07 the daemon rejected such a message with the interpreter's
    ``ValueError``/``OverflowError`` text instead of naming the field."""
    body = {"_timestamp": stamp, "target": "foo", "repo": "p10", "new_owners": ["a"]}
    with pytest.raises(InputError, match=r"^_timestamp: must be a Unix time"):
        handle_acl_message(store, body)
    assert store.query("SELECT count() FROM Acl") == [(0,)]


def test_a_bugzilla_message_with_a_bad_time_is_an_input_error(store: Store) -> None:
    message = {"_meta": {"time": "yesterday"}, "payload": {"bug": {"id": 1}}}
    with pytest.raises(InputError, match=r"^_meta.time: must be an ISO 8601 time"):
        handle_bugzilla_message(store, "bugzilla.bug.changed", message)


def test_a_configured_query_is_kept_beside_the_export_query(
    store: Store, feeds: FeedsSettings, feed_server: FeedServer
) -> None:
    """A Bugzilla URL with a filter of its own (one product): the export's parameters are
    added to it; httpx's ``params`` would have replaced it and exported every bug."""
    feed_server.set("/buglist.cgi", Reply((HEADER + BUG1).encode()))
    run(store, feeds, "bugzilla", feed_server.url + "/buglist.cgi?product=Sisyphus")
    query = parse_qs(feed_server.hits("/buglist.cgi")[0].query)
    assert query["product"] == ["Sisyphus"] and query["ctype"] == ["csv"]
