"""The enrichment queries over feeds loaded by the real loaders (offline files) into p10.

p10's newest set (2024-06-01, tests/unit/store/rows.py) holds the sources foo 1.10 and
baz 0.1, both ``GPLv2+``. Expected answers are counted by hand from the files below.
"""

from __future__ import annotations

import bz2
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from repotrack.config import FeedsSettings
from repotrack.errors import NotFoundError
from repotrack.ingest.feeds import FeedRequest, run_feed
from repotrack.rpm import VersionOrder
from repotrack.sources.feeds import REPOCOP_FIELDS
from repotrack.store import Store, open_store, seed_license_aliases
from repotrack.store.enrichment import (
    failing_to_build,
    maintainer_dashboard,
    newer_upstream,
    package_feeds,
)
from tests.conftest import need_fixtures
from tests.unit.ingest.feeds.feedserver import utc
from tests.unit.store.storeutil import fresh_store_url

BUGS = (
    "bug_id,bug_status,resolution,bug_severity,priority,product,version,rep_platform,"
    "component,assigned_to,reporter,short_desc,changeddate\n"
    "1,NEW, ---,normal,P3,Sisyphus,unstable,all,foo,ivan,petr,foo crashes,2024-06-01 10:00:00\n"
    "2,RESOLVED,FIXED,normal,P3,Sisyphus,unstable,all,foo,ivan,petr,old,2024-05-01 10:00:00\n"
    "3,ASSIGNED, ---,major,P2,p10,none,all,baz,petr,ivan,baz hangs,2024-06-02 10:00:00\n"
)
BUG3_MOVED = (
    BUGS.splitlines()[0]
    + "\n"
    + ("3,ASSIGNED, ---,major,P2,p10,none,all,bar,petr,ivan,baz hangs,2024-06-03 10:00:00\n")
)


def repocop_item(src: str, test: str, status: str) -> dict[str, str]:
    item = dict.fromkeys(REPOCOP_FIELDS, "")
    item.update(pkg_name=src, pkg_arch="x86_64", pkgset_name="p10", rc_srcpkg_name=src,
                rc_test_name=test, rc_test_status=status, rc_test_message=f"{test}!")  # fmt: skip
    return item


def put(path: Path, data: bytes | str, stamp: float = 1_717_300_000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    os.utime(path, (stamp, stamp))
    return path


def load(store: Store, feed: str, location: Path, **options: str) -> None:
    settings = FeedsSettings(beehive_branches=["p10"], beehive_arches=["x86_64"])
    run_feed(store, settings, FeedRequest(feed, location=str(location), options=options))


@pytest.fixture
def fed(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    store = open_store(fresh_store_url(tmp_path_factory, tmp_path / "store", loaded=True))
    try:
        seed_license_aliases(store)
        put(tmp_path / "acl/list.packages.p10", "foo\tivan @qa\nbaz\tpetr ivan\nbar\tpetr\n")
        put(tmp_path / "acl/list.groups.p10", "@qa\tanna ivan\n")
        load(store, "acl", tmp_path / "acl")
        latest = tmp_path / "bh/logs/p10/x86_64/latest"
        put(latest / "time.list", "foo-1.10-alt1.src.rpm\t5\nbaz-0.1-alt1.src.rpm\t2\n")
        put(latest / "error/foo-1.10-alt1", "log")
        put(latest / "success/baz-0.1-alt1", "log")
        put(tmp_path / "bh/stats/p10/x86_64/ftbfs-since", "foo\t1717000000\n")
        os.utime(latest, (1_717_300_000, 1_717_300_000))  # 2024-06-02
        load(store, "beehive", tmp_path / "bh")
        load(store, "bugzilla", put(tmp_path / "bugs.csv", BUGS))
        load(store, "bugzilla", put(tmp_path / "bugs2.csv", BUG3_MOVED))
        items = [repocop_item("foo", "rpm-obsolete", "warn"), repocop_item("foo", "x", "ok"),
                 repocop_item("baz", "y", "ok")]  # fmt: skip
        load(
            store,
            "repocop",
            put(tmp_path / "rc.json.bz2", bz2.compress(json.dumps(items).encode())),
        )
        watch = "ivan\tfoo\t1.0\t1.9\thttps://f/1.9\npetr\tbaz\t0.1\t0.2\thttps://b/0.2\n"
        load(store, "watch", put(tmp_path / "watch.txt", watch))
        spdx = need_fixtures("spdx")
        for name in ("GPL-2.0-or-later", "MIT"):
            put(
                tmp_path / f"spdx/json/details/{name}.json",
                (spdx / "details" / f"{name}.json").read_bytes(),
            )
        load(store, "spdx", tmp_path / "nowhere", git_root=str(tmp_path / "spdx"), update="0")
        yield store
    finally:
        store.close()


def test_package_feeds(fed: Store) -> None:
    foo = package_feeds(fed, branch="p10", name="foo")
    assert foo.acl == ["ivan", "@qa"]
    assert foo.groups == {"@qa": ["anna", "ivan"]}
    (build,) = foo.beehive
    assert (build.arch, build.status, build.version) == ("x86_64", "error", "1.10")
    assert build.ftbfs_since == utc(2024, 5, 29, 16, 26, 40)
    assert [b.bz_id for b in foo.bugs] == [1]
    assert [(w.test, w.status) for w in foo.repocop] == [("rpm-obsolete", "warn")]
    assert [(u.new_version, u.url) for u in foo.watch] == [("1.9", "https://f/1.9")]
    assert foo.license == "GPLv2+"
    assert [(d.token, d.spdx_id, d.type) for d in foo.licenses] == [
        ("GPLv2+", "GPL-2.0-or-later", "license")
    ]
    baz = package_feeds(fed, branch="p10", name="baz")
    assert baz.bugs == []  # bug 3 moved to component bar
    assert baz.repocop == []


def test_branch_queries(fed: Store) -> None:
    assert [(f.name, f.arch) for f in failing_to_build(fed, branch="p10")] == [("foo", "x86_64")]
    # watch's 1.9 is older than 1.10 by rpm's rules, so only baz is newer upstream
    assert [(n.name, n.version, n.new_version) for n in newer_upstream(fed, branch="p10")] == [
        ("baz", "0.1", "0.2")
    ]
    with pytest.raises(NotFoundError):
        newer_upstream(fed, branch="p99")
    # a branch is asked about as loads store it (lowercased); one without a package set
    # is no answer, not "0 failing build(s)" (before 2026-12-07 both answered nothing)
    assert failing_to_build(fed, branch=" P10") == failing_to_build(fed, branch="p10")
    assert newer_upstream(fed, branch="P10") == newer_upstream(fed, branch="p10")
    with pytest.raises(NotFoundError, match="no package set of branch p99"):
        failing_to_build(fed, branch="p99")


def test_no_feed_loaded_is_no_empty_answer(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """ "0 failing build(s)", no newer upstream version, no packages of a maintainer: each
    reads as "all is well", and before 2026-12-07 each was the answer when the feed had
    never been loaded (or, for a maintainer, when a typo named nobody)."""
    url = fresh_store_url(tmp_path_factory, tmp_path / "bare", loaded=True)  # p10, no feeds
    with open_store(url) as bare:
        with pytest.raises(NotFoundError, match=r"^no beehive run of p10 is loaded"):
            failing_to_build(bare, branch="p10")
        with pytest.raises(NotFoundError, match=r"^no watch data is loaded"):
            newer_upstream(bare, branch="p10")
        with pytest.raises(NotFoundError, match=r"^no acl of p10 is loaded"):
            maintainer_dashboard(bare, branch="p10", nick="ivan")


def test_package_feeds_of_a_typo_are_no_answer(fed: Store) -> None:
    """ "-" for every feed reads as "no bugs, no warnings". Before 2026-12-07 that was
    the answer for a branch typo (``p1O``: with foo's bug and watch filled in, since
    those feeds have no branch, so it looked like a real answer) and for a name no set
    or feed has."""
    with pytest.raises(NotFoundError, match=r"^no package set of branch p1o, nor any acl"):
        package_feeds(fed, branch="p1O", name="foo")
    with pytest.raises(NotFoundError, match=r"^no source package fooo in p10, nor a feed"):
        package_feeds(fed, branch="p10", name="fooo")
    assert package_feeds(fed, branch="P10", name="foo") == package_feeds(
        fed, branch="p10", name="foo"
    )


def test_a_maintainer_no_acl_names_is_no_empty_answer(fed: Store) -> None:
    with pytest.raises(NotFoundError, match=r"^no acl of p10 names ivanov$"):
        maintainer_dashboard(fed, branch="p10", nick="ivanov")


def test_maintainer_dashboard(fed: Store) -> None:
    ivan = {p.name: p for p in maintainer_dashboard(fed, branch="p10", nick="ivan")}
    assert sorted(ivan) == ["baz", "foo"]
    assert ivan["foo"].leader and not ivan["baz"].leader
    assert ivan["foo"].failing_arches == ["x86_64"]
    assert (ivan["foo"].open_bugs, ivan["foo"].repocop_warnings) == (1, 1)
    assert ivan["foo"].newer_version == ""
    assert (ivan["baz"].version, ivan["baz"].newer_version) == ("0.1", "0.2")
    assert maintainer_dashboard(fed, branch="P10", nick="ivan") == list(ivan.values())
    anna = maintainer_dashboard(fed, branch="p10", nick="anna")
    assert [(p.name, p.leader) for p in anna] == [("foo", False)]
    petr = {p.name: p for p in maintainer_dashboard(fed, branch="p10", nick="petr")}
    assert petr["bar"].open_bugs == 1 and petr["bar"].version == ""


def test_cli_faces(fed: Store) -> None:
    from typer.testing import CliRunner

    from repotrack.cli import main

    runner = CliRunner()
    url = ["--store", fed.url]
    shown = runner.invoke(main.app, ["query", "feeds", "foo", "-b", "p10", *url])
    assert shown.exit_code == 0, shown.output
    assert "  acl: ivan @qa\n  @qa: anna ivan\n" in shown.output
    assert "beehive x86_64: error 1.10-alt1 on 2024-06-02, failing since 2024-05-29" in shown.output
    assert "GPL-2.0-or-later (license)" in shown.output
    dash = runner.invoke(main.app, ["query", "maintainer", "-b", "p10", "-m", "ivan", *url])
    assert "foo 1.10: leader; FTBFS x86_64; 1 open bug(s); 1 repocop warning(s)" in dash.output
    assert "baz 0.1: newer 0.2" in dash.output
    newer = runner.invoke(main.app, ["query", "newer", "-b", "p10", "-f", "json", *url])
    assert json.loads(newer.output) == [
        {"name": "baz", "version": "0.1", "new_version": "0.2", "url": "https://b/0.2",
         "maintainer": "petr"}
    ]  # fmt: skip
    ftbfs = runner.invoke(main.app, ["query", "ftbfs", "-b", "p10", *url])
    assert "foo 1.10-alt1 x86_64 failing since 2024-05-29" in ftbfs.output
    bad = runner.invoke(main.app, ["query", "newer", "-b", "p99", *url])
    assert (
        bad.exit_code == 1 and bad.output.strip() == "NotFoundError: no package set of branch p99"
    )


def test_newer_upstream_in_the_branch_version_order(fed: Store, tmp_path: Path) -> None:
    """baz 0.1 against watch's ``0.a``: librpm calls 0.1 newer (a digit segment beats a
    letter one), ALT's rpm 0.a (tests/data/alt-vercmp), so an ALT branch has a newer
    upstream and the dashboard names it."""
    watch = "petr\tbaz\t0.1\t0.a\thttps://b/0.a\n"
    load(fed, "watch", put(tmp_path / "watch-next.txt", watch, stamp=1_717_400_000))
    assert newer_upstream(fed, branch="p10") == []
    alt = newer_upstream(fed, branch="p10", order=VersionOrder.ALT)
    assert [(n.name, n.version, n.new_version) for n in alt] == [("baz", "0.1", "0.a")]
    dash = maintainer_dashboard(fed, branch="p10", nick="petr", order=VersionOrder.ALT)
    assert {p.name: p.newer_version for p in dash}["baz"] == "0.a"
    dash = maintainer_dashboard(fed, branch="p10", nick="petr")
    assert {p.name: p.newer_version for p in dash}["baz"] == ""
