"""Repology → CPE mappings: ALT name → repology project (``load repology``, offline file)
→ the project's CPEs, written for the ALT name with their history; overrides win."""

from __future__ import annotations

import json
from pathlib import Path

from repotrack.config import FeedsSettings
from repotrack.ingest.feeds import FeedRequest, run_feed
from repotrack.security.mapping import list_mappings, set_mapping, sync_repology, unset_mapping
from repotrack.store import Store

OPENSSL = "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*"
MC = "cpe:2.3:a:midnight-commander:midnight_commander:*:*:*:*:*:*:*:*"
SQUID = "cpe:2.3:a:squid-cache:squid:*:*:*:*:*:*:*:*"


def _repology(store: Store, tmp_path: Path, projects: dict[str, list[dict[str, str]]]) -> None:
    path = tmp_path / "projects.json"
    path.write_text(json.dumps(projects), encoding="utf-8")
    request = FeedRequest("repology", location=str(path), options={"repos": "alt_p10"})
    run_feed(store, FeedsSettings(), request)


def _alt(name: str) -> list[dict[str, str]]:
    return [{"repo": "debian_12", "srcname": "x", "version": "1"},
            {"repo": "alt_p10", "srcname": name, "version": "1"}]  # fmt: skip


def _state(store: Store) -> list[tuple[str, str, str]]:
    """(package, CPE, state) of the repology CPE rows, read back independently."""
    rows = store.query(
        "SELECT pkg_name, pnc_result, argMax(pnc_state, ts) FROM PackagesNameConversion "
        "WHERE pnc_source = 'repology' AND pnc_type = 'cpe' GROUP BY pkg_name, pnc_result "
        "ORDER BY pkg_name, pnc_result"
    )
    return [(str(n), str(r), str(s)) for n, r, s in rows]


def _history(store: Store) -> list[tuple[str, str, str, str]]:
    rows = store.query(
        "SELECT pkg_name, pnc_result, pnc_state, pncc_reason FROM PncChangeHistory "
        "WHERE pnc_source = 'repology' ORDER BY ts, pkg_name"
    )
    return [(str(n), str(r), str(s), str(why)) for n, r, s, why in rows]


def test_projects_cpes_reach_differently_named_packages(store: Store, tmp_path: Path) -> None:
    _repology(
        store,
        tmp_path,
        {"openssl": _alt("openssl3"), "mc": _alt("mc"), "squid": _alt("squid-cache")},
    )
    # The projects' CPEs: openssl's and squid's set by hand under the project names; mc
    # shares its name with its package, so it needs nothing from the sync.
    set_mapping(store, pkg_name="openssl", result=OPENSSL, user="t")
    set_mapping(store, pkg_name="mc", result=MC, user="t")
    set_mapping(store, pkg_name="squid", result=SQUID, user="t")
    first = sync_repology(store, user="sync")
    assert first.activated == [("openssl3", OPENSSL), ("squid-cache", SQUID)]
    assert (first.deactivated, first.overridden) == ([], 0)
    assert _state(store) == [("openssl3", OPENSSL, "active"), ("squid-cache", SQUID, "active")]
    assert _history(store) == [
        ("openssl3", OPENSSL, "active", "repology alt_p10: project openssl"),
        ("squid-cache", SQUID, "active", "repology alt_p10: project squid"),
    ]
    assert [m.source for m in list_mappings(store, pkg_name="openssl3")] == ["repology"]

    again = sync_repology(store, user="sync")  # a re-run adds nothing
    assert (again.activated, again.deactivated) == ([], [])
    ((rows,),) = store.query("SELECT count() FROM PncChangeHistory WHERE pnc_source='repology'")
    assert rows == 2

    # An override: squid-cache mapped by hand elsewhere; its repology row goes, and the
    # sync leaves it alone from then on.
    other = "cpe:2.3:a:squid:squid:*:*:*:*:*:*:*:*"
    set_mapping(store, pkg_name="squid-cache", result=other, user="t")
    overridden = sync_repology(store, user="sync")
    assert (overridden.deactivated, overridden.overridden) == ([("squid-cache", SQUID)], 1)
    assert _history(store)[-1] == (
        "squid-cache",
        SQUID,
        "inactive",
        "overridden by a manual mapping",
    )
    assert [m.result for m in list_mappings(store, pkg_name="squid-cache")] == [other]

    # The project's CPE changes: the package's mapping follows, both steps in the history.
    new = "cpe:2.3:a:openssl_project:openssl:*:*:*:*:*:*:*:*"
    unset_mapping(store, pkg_name="openssl", result=OPENSSL, user="t")
    set_mapping(store, pkg_name="openssl", result=new, user="t")
    changed = sync_repology(store, user="sync")
    assert (changed.activated, changed.deactivated) == (
        [("openssl3", new)],
        [("openssl3", OPENSSL)],
    )
    assert _state(store) == [
        ("openssl3", OPENSSL, "inactive"),
        ("openssl3", new, "active"),
        ("squid-cache", SQUID, "inactive"),
    ]

    # Repology drops the package: its mapping goes too.
    _repology(store, tmp_path, {"mc": _alt("mc")})
    gone = sync_repology(store, repos=["alt_p10"], user="sync")
    assert gone.deactivated == [("openssl3", new)]
    assert _history(store)[-1][2:] == ("inactive", "no longer in repology")


def test_a_manual_set_of_the_same_pair_is_not_undone(store: Store, tmp_path: Path) -> None:
    _repology(store, tmp_path, {"openssl": _alt("openssl3")})
    set_mapping(store, pkg_name="openssl", result=OPENSSL, user="t")
    assert sync_repology(store).activated == [("openssl3", OPENSSL)]
    set_mapping(store, pkg_name="openssl3", result=OPENSSL, user="t")  # the same pair by hand
    done = sync_repology(store)
    assert (done.activated, done.deactivated, done.overridden) == ([], [], 1)
    # What the matcher reads (newest row per package and CPE, any source): still active.
    ((state,),) = store.query(
        "SELECT argMax(pnc_state, ts) FROM PackagesNameConversion "
        "WHERE pkg_name = 'openssl3' AND pnc_result = {c:String}",
        {"c": OPENSSL},
    )
    assert state == "active"


def test_the_matcher_uses_a_mapping_from_repology(store: Store, tmp_path: Path) -> None:
    """A package the world does not map, named differently from its repology project,
    gets the project's CPE, and the next rematch finds the project's vulnerability."""
    from datetime import timedelta

    from repotrack.security import rematch_branch
    from tests.unit.security.world import BRANCH, DAY, build_world, verdicts
    from tests.unit.store.rows import load_branch_snapshot, package

    build_world(store, tmp_path)  # mc is mapped by hand to midnight_commander
    rematch_branch(store, branch=BRANCH)
    tui = package(301, "mc-tui", "4.8.21", source=True)
    load_branch_snapshot(store, BRANCH, DAY + timedelta(days=1), [tui], [])
    _repology(store, tmp_path, {"mc": _alt("mc-tui")})
    assert sync_repology(store).activated == [("mc-tui", MC)]
    run = rematch_branch(store, branch=BRANCH)
    assert run.kind == "full"  # a mapping changed
    assert verdicts(store)[("mc-tui", "CVE-2021-36370")] == ("vulnerable", "range")
