"""The errata of a branch as ``repotrack vulns errata`` lists them and as the ALTRepo API does.

The API lists a branch's package errata with the query below (quoted from
liannnix/altrepoapi, ``altrepo_api/api/vulnerabilities/sql.py``, ``get_erratas``, as a
compatibility fixture; its ``{where_clause}`` is the branch filter the API adds): the
newest version of each erratum, left out when that version was discarded. A discard
record is written by the API's own management endpoints, which share a server's store.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path

import pytest

from repotrack.security import errata as errata_module
from repotrack.security.errata import branch_errata, build_branch_errata
from repotrack.store import Store
from tests.unit.security.world import BRANCH, build_world, squid_names_a_second_cve

#: altrepo_api/api/vulnerabilities/sql.py, SQL.get_erratas (e18bcd4d), as written: the
#: callers fill ``{where_clause}``.
GET_ERRATAS_TEMPLATE = """
SELECT
    errata_id,
    eh_references.type,
    eh_references.link,
    pkgset_name,
    task_id,
    subtask_id,
    task_state,
    toString(pkg_hash),
    pkg_name,
    pkg_version,
    pkg_release,
    eh_updated
FROM ErrataHistory
WHERE (errata_id, eh_updated) IN (
    SELECT
        eid, updated
    FROM (
        SELECT
            errata_id_noversion,
            argMax(errata_id, eh_updated) AS eid,
            max(eh_updated) AS updated
        FROM ErrataHistory
        WHERE eh_type IN ('branch', 'task')
        {where_clause}
        GROUP BY errata_id_noversion
    )
    WHERE eid NOT IN (
        SELECT errata_id FROM last_discarded_erratas
    )
)
ORDER BY eh_updated DESC
"""
GET_ERRATAS = GET_ERRATAS_TEMPLATE.replace("{where_clause}", "AND pkgset_name = {branch:String}")


def api_errata(store: Store) -> set[str]:
    return {row[0] for row in store.query(GET_ERRATAS, {"branch": BRANCH})}


def our_errata(store: Store) -> set[str]:
    listed = branch_errata(store, branch=BRANCH, start=date(2000, 1, 1), end=date(2100, 1, 1))
    return {e.errata_id for e in listed if e.kind in ("branch", "task")}


def discard(store: Store, errata_id: str) -> None:
    """A discard record as the API's management endpoint writes one."""
    now = datetime.now(UTC)
    store.insert(
        "ErrataChangeHistory",
        ("ec_id", "ec_created", "ec_updated", "ec_user", "ec_user_ip", "ec_reason", "ec_type",
         "ec_source", "ec_origin", "errata_id", "transaction_id"),
        [("ALT-EC-2099-900001-1", now, now, "admin", "", "{}", "discard", "manual", "parent",
          errata_id, uuid.uuid4())],
    )  # fmt: skip


def _bumped(store: Store, tmp_path: Path) -> tuple[str, str]:
    """The world's erratum, then its version 2; both lists checked at each step."""
    build_world(store, tmp_path)
    (pu,) = build_branch_errata(store, branch=BRANCH, user="tester").created
    assert api_errata(store) == our_errata(store) == {pu}
    squid_names_a_second_cve(store)  # its erratum gets version 2
    (pu2,) = build_branch_errata(store, branch=BRANCH, user="tester").updated
    assert api_errata(store) == our_errata(store) == {pu2}
    return pu, pu2


def test_the_api_and_the_cli_list_the_same_errata(store: Store, tmp_path: Path) -> None:
    _bumped(store, tmp_path)


def test_a_discarded_newest_version_takes_the_erratum_out(store: Store, tmp_path: Path) -> None:
    """Not back to the version before it."""
    _pu, pu2 = _bumped(store, tmp_path)
    discard(store, pu2)
    assert api_errata(store) == our_errata(store) == set()


def test_a_discarded_older_version_changes_nothing(store: Store, tmp_path: Path) -> None:
    pu, pu2 = _bumped(store, tmp_path)
    discard(store, pu)
    assert api_errata(store) == our_errata(store) == {pu2}


def test_a_new_version_is_updated_after_the_one_before(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API picks an erratum's newest version by ``eh_updated`` (seconds): versions 1
    and 2 written within the same second tied, and the API then took either (this
    test's module failed one run in three when the clock's second did not turn between
    the two builds). A new version is now stamped after every erratum already stored."""

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Frozen:
            return cls(2026, 12, 6, 12, 0, 0, 500, tzinfo=tz)

    monkeypatch.setattr(errata_module, "datetime", Frozen)
    pu, pu2 = _bumped(store, tmp_path)
    stamps = dict(store.query("SELECT errata_id, eh_updated FROM ErrataHistory"))
    assert stamps[pu2] > stamps[pu]
    discard(store, pu)
    assert api_errata(store) == our_errata(store) == {pu2}
