"""Migration 0007: the tables, views, columns and functions the ALTRepo API reads.

The schema check lists every object with the columns and types the API's queries and
inserts expect; the queries are our own, written the way the API asks (argMax over ts,
'|'-separated search strings, latest snapshot views), run on an empty and a loaded store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from repotrack.store import Store, open_store
from tests.unit.store.rows import (
    BAR_SRC,
    FOO2_BIN,
    FOO2_SRC,
    FOO_BIN,
    FOO_SRC,
    JUNE,
    MAY,
)
from tests.unit.store.storeutil import fresh_store_url

#: object -> {column: type} (a subset: the columns the API names).
EXPECTED: dict[str, dict[str, str]] = {
    "Comments": {
        "comment_id": "UInt64",
        "comment_pid": "UInt64",
        "comment_rid": "UInt64",
        "comment_entity_type": "LowCardinality(String)",
        "comment_entity_link": "String",
        "comment_author": "String",
        "comment_text": "String",
        "comment_references.type": "Array(String)",
        "comment_references.link": "Array(String)",
        "comment_created": "DateTime64(3)",
    },
    "CommentsChangeHistory": {
        "cc_user": "String",
        "cc_user_ip": "String",
        "cc_reason": "String",
        "cc_action": "LowCardinality(String)",
        "comment_id": "UInt64",
        "ts": "DateTime64(3)",
    },
    "DefaultReasons": {
        "dr_text": "String",
        "dr_source": "LowCardinality(String)",
        "dr_action": "LowCardinality(String)",
        "dr_is_active": "UInt8",
        "dr_is_deleted": "UInt8",
        "ts": "DateTime64(3)",
    },
    "ErrataUsers": {
        "user": "String",
        "display_name": "String",
        "group": "LowCardinality(String)",
        "roles": "Array(LowCardinality(String))",
        "ts": "DateTime64(3)",
    },
    "ErrataUsersAliases": {"user": "String", "aliases": "Array(String)", "ts": "DateTime64(3)"},
    "ErrataUsersSubscriptions": {
        "user": "String",
        "entity_type": "LowCardinality(String)",
        "entity_link": "String",
        "state": "Enum8('inactive' = 0, 'active' = 1)",
        "assigner": "String",
        "date": "DateTime64(3)",
    },
    "GlobalSearch": {
        "type": "LowCardinality(String)",
        "lead": "String",
        "search_string": "String",
        "ts": "DateTime64(3)",
    },
    "FileSearch": {"search_string": "String", "lead": "UInt64", "ts": "DateTime64(3)"},
    "TaskProgress": {
        "task_id": "UInt32",
        "task_repo": "LowCardinality(String)",
        "task_state": "LowCardinality(String)",
        "task_owner": "LowCardinality(String)",
        "task_try": "UInt16",
        "task_iter": "UInt8",
        "task_testonly": "UInt8",
        "task_changed": "DateTime",
        "task_message": "String",
        "task_depends": "Array(UInt32)",
        "stage": "LowCardinality(String)",
        "stage_status": "LowCardinality(String)",
        "type": "LowCardinality(String)",
        "ts": "DateTime64(3)",
    },
    "TaskSubtaskProgress": {
        "task_id": "UInt32",
        "subtask_id": "UInt32",
        "task_repo": "LowCardinality(String)",
        "task_owner": "LowCardinality(String)",
        "subtask_type": (
            "Enum8('unknown' = 0, 'srpm' = 1, 'gear' = 2, 'copy' = 3, 'delete' = 4, 'rebuild' = 5)"
        ),
        "subtask_srpm": "String",
        "subtask_srpm_name": "String",
        "subtask_srpm_evr": "String",
        "subtask_dir": "String",
        "subtask_tag_id": "String",
        "subtask_tag_name": "String",
        "subtask_tag_author": "String",
        "subtask_package": "String",
        "subtask_pkg_from": "LowCardinality(String)",
        "subtask_changed": "DateTime",
        "arch": "LowCardinality(String)",
        "status": "LowCardinality(String)",
        "stage_status": "LowCardinality(String)",
        "type": "LowCardinality(String)",
        "ts": "DateTime64(3)",
    },
    "AntivirusScanStatus": {
        "av_scanner": "LowCardinality(String)",
        "av_type": "LowCardinality(String)",
        "av_issue": "String",
        "av_message": "String",
        "av_target": "LowCardinality(String)",
        "av_date": "DateTime",
        "file_name": "String",
        "pkgset_name": "LowCardinality(String)",
        "pkg_name": "String",
        "pkg_version": "String",
        "pkg_release": "String",
        "pkg_arch": "LowCardinality(String)",
    },
    "Packages": {"pkg_vcs": "String", "pkg_pretrans": "String", "pkg_posttrans": "String"},
    "Packages_buffer": {"pkg_vcs": "String", "pkg_pretrans": "String", "pkg_posttrans": "String"},
    "ErrataChangeHistory": {"ec_id_noversion": "String"},
    "PncChangeHistory": {"pncc_type": "LowCardinality(String)", "transaction_id": "UUID"},
    "lv_pkgset_stat": {
        "pkgset_name": "String",
        "pkgset_date": "DateTime",
        "pkg_arch": "String",
        "cnt": "UInt64",
    },
    "lv_all_image_packages": {
        "img_branch": "LowCardinality(String)",
        "img_edition": "LowCardinality(String)",
        "img_flavor": "LowCardinality(String)",
        "img_platform": "LowCardinality(String)",
        "img_release": "LowCardinality(String)",
        "img_version_major": "UInt32",
        "img_version_minor": "UInt32",
        "img_tag": "String",
        "img_file": "String",
        "pkgset_uuid": "UUID",
        "pkgset_date": "DateTime",
        "pkg_hash": "UInt64",
        "pkg_name": "String",
        "pkg_version": "String",
        "pkg_release": "String",
        "pkg_arch": "LowCardinality(String)",
    },
    "lv_image_packageset": {"img_branch": "LowCardinality(String)"},
    "lv_branch_deleted_packages": {
        "pkgset_name": "LowCardinality(String)",
        "pkg_name": "String",
        "hash": "UInt64",
        "task": "UInt32",
        "changed": "DateTime",
    },
    "lv_repository_statistics": {
        "branch": "String",
        "branch_date": "DateTime",
        "stats": "Array(Tuple(String, String, UInt64, UInt64, UUID))",
    },
    "PackageChangelog_view": {
        "pkg_hash": "UInt64",
        "changelog": "Array(Tuple(DateTime, String, String, String))",
    },
    "all_packages_with_source": {
        "pkgset_name": "String",
        "pkg_hash": "UInt64",
        "pkg_srcrpm_hash": "UInt64",
        "sourcepkgname": "String",
    },
}
FUNCTIONS = (
    "extractErrataIdVersion",
    "extractErrataIdNoVersion",
    "get_errata_user_original_name",
    "get_errata_user_aliases",
)


@pytest.fixture
def loaded(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    with open_store(fresh_store_url(tmp_path_factory, tmp_path / "store", loaded=True)) as store:
        yield store


def _columns(store: Store, table: str) -> dict[str, str]:
    rows = store.query(
        "SELECT name, type FROM system.columns WHERE database = currentDatabase()"
        " AND table = {t:String}",
        {"t": table},
    )
    return {name: type_ for name, type_ in rows}


@pytest.mark.parametrize("table", sorted(EXPECTED))
def test_object_has_the_columns_the_api_names(store: Store, table: str) -> None:
    columns = _columns(store, table)
    missing = {k: v for k, v in EXPECTED[table].items() if columns.get(k) != v}
    assert not missing, f"{table}: expected {missing}, have {columns}"


def test_functions_exist(store: Store) -> None:
    rows = store.query("SELECT name FROM system.functions WHERE origin = 'SQLUserDefined'")
    assert set(FUNCTIONS) <= {name for (name,) in rows}


def test_errata_id_functions(store: Store) -> None:
    rows = store.query(
        "SELECT extractErrataIdVersion('ALT-PU-2024-1234-12'),"
        " extractErrataIdNoVersion('ALT-PU-2024-1234-12'), extractErrataIdVersion('bogus')"
    )
    assert rows == [(12, "ALT-PU-2024-1234", 0)]


def test_errata_user_aliases_resolve_both_ways(store: Store) -> None:
    store.insert("ErrataUsersAliases", ("user", "aliases"), [("ivan", ["ivanov", "ivan2"])])
    store.insert("ErrataUsersAliases", ("user", "aliases"), [("olga", ["olga_k"])])
    names = store.query(
        "SELECT get_errata_user_original_name('ivan2'), get_errata_user_original_name('ivan'),"
        " get_errata_user_original_name('nobody')"
    )
    assert names == [("ivan", "ivan", "nobody")]
    aliases = store.query(
        "SELECT arraySort(get_errata_user_aliases('ivanov')), get_errata_user_aliases('nobody')"
    )
    assert aliases == [(["ivan", "ivan2", "ivanov"], ["nobody"])]


def test_errata_users_take_the_insert_the_api_sends(store: Store) -> None:
    # The API inserts four values into `ErrataUsers (*)`: ts must stay out of `*`.
    store.command("INSERT INTO ErrataUsers (*) VALUES ('ivan', 'Ivan I.', 'maintainer', ['admin'])")
    rows = store.query(
        "SELECT user, argMax(group, ts), argMax(roles, ts), argMax(display_name, ts)"
        " FROM ErrataUsers WHERE user = get_errata_user_original_name('ivan') GROUP BY user"
    )
    assert rows == [("ivan", "maintainer", ["admin"], "Ivan I.")]


# Our own queries in the API's style; each must run on an empty store and give no rows.
API_STYLE_QUERIES = {
    "task progress": (
        "SELECT task_id, argMax(task_repo, ts), argMax(task_state, ts), argMax(task_owner, ts),"
        " argMax(task_try, ts), argMax(task_iter, ts), argMax(task_testonly, ts),"
        " argMax(task_changed, ts), argMax(task_message, ts), argMax(task_depends, ts)"
        " FROM TaskProgress WHERE type = 'state' GROUP BY task_id"
    ),
    "task stage": (
        "SELECT task_id, argMax(stage, ts) FROM TaskProgress"
        " WHERE stage_status = 'started' AND task_state = 'BUILDING' GROUP BY task_id"
    ),
    "subtask progress": (
        "SELECT task_id, subtask_id, arch,"
        " argMax(if(status = 'excluded', status, stage_status), ts) FROM TaskSubtaskProgress"
        " WHERE type != 'progress' GROUP BY task_id, subtask_id, arch"
    ),
    "global search": (
        "SELECT toUInt32(lead), argMax(search_string, ts) FROM GlobalSearch"
        " WHERE type = 'task' GROUP BY lead ORDER BY max(ts) DESC"
    ),
    "file search": (
        "SELECT splitByChar('|', search_string)[2] AS fn_name, argMax(lead, ts) FROM FileSearch"
        " WHERE search_string LIKE 'p10|%bin%|%|binary|%' GROUP BY search_string, fn_name"
    ),
    "comments": (
        "SELECT c.comment_id, c.comment_text, h.last = 'discard' FROM Comments AS c LEFT JOIN"
        " (SELECT comment_id, argMax(cc_action, ts) AS last FROM CommentsChangeHistory"
        " GROUP BY comment_id) AS h ON c.comment_id = h.comment_id"
    ),
    "default reasons": (
        "SELECT dr_text, dr_source, dr_action, argMax(dr_is_deleted, ts) AS deleted"
        " FROM DefaultReasons GROUP BY dr_text, dr_source, dr_action HAVING deleted = 0"
    ),
    "subscriptions": (
        "SELECT user, entity_type, entity_link, argMax(state, date) AS last FROM"
        " ErrataUsersSubscriptions GROUP BY user, entity_type, entity_link HAVING last = 'active'"
    ),
    "antivirus": (
        "SELECT av_scanner, pkgset_name, max(av_date) FROM AntivirusScanStatus"
        " GROUP BY av_scanner, pkgset_name"
    ),
    "errata change history": (
        "SELECT ec_id_noversion, count() FROM ErrataChangeHistory GROUP BY ec_id_noversion"
    ),
    "pnc changes": "SELECT toString(pncc_type), transaction_id FROM PncChangeHistory",
    "image packages": (
        "SELECT DISTINCT img_file, img_edition, img_tag, pkg_name FROM lv_all_image_packages"
        " WHERE img_branch = 'p10'"
    ),
    "image branches": "SELECT img_branch FROM lv_image_packageset",
}


@pytest.mark.parametrize("name", sorted(API_STYLE_QUERIES))
def test_api_style_queries_run_on_an_empty_store(store: Store, name: str) -> None:
    assert store.query(API_STYLE_QUERIES[name]) == []


@pytest.mark.parametrize("name", sorted(API_STYLE_QUERIES))
def test_api_style_queries_run_on_a_loaded_store(loaded: Store, name: str) -> None:
    assert loaded.query(API_STYLE_QUERIES[name]) == []


def test_pkgset_stat_by_pkg_arch(loaded: Store) -> None:
    rows = loaded.query(
        "SELECT pkg_arch, cnt FROM lv_pkgset_stat WHERE pkgset_name = 'p10' ORDER BY pkg_arch"
    )
    # June's p10: sources foo, baz; binaries of foo (x86_64) and baz (see rows.py).
    srpm = dict(rows)["srpm"]
    assert srpm == 2
    assert loaded.query("SELECT count() FROM lv_pkgset_stat WHERE pkg_arch != arch") == [(0,)]


def test_repository_statistics_count_the_latest_snapshot(loaded: Store) -> None:
    rows = loaded.query("SELECT branch, branch_date, stats FROM lv_repository_statistics")
    assert len(rows) == 1
    branch, day, stats = rows[0]
    assert branch == "p10"
    assert day.replace(tzinfo=UTC) == JUNE
    by_component = {(arch, comp): count for arch, comp, count, _size, _uuid in stats}
    count = "SELECT countDistinct(pkg_hash) FROM last_packages WHERE pkgset_name = 'p10' AND "
    expected = loaded.query(count + "pkg_sourcepackage = 1")[0][0]
    assert by_component[("srpm", "srpm")] == expected
    binaries = loaded.query(count + "pkg_sourcepackage = 0")[0][0]
    assert by_component[("x86_64", "classic")] == binaries


def test_changelog_view_gives_entries_with_text(loaded: Store) -> None:
    rows = loaded.query(
        "SELECT pkg_hash, changelog FROM PackageChangelog_view"
        " WHERE pkg_hash IN ({a:UInt64}, {b:UInt64})",
        {"a": FOO_SRC, "b": FOO2_SRC},
    )
    by_hash = dict(rows)
    assert [entry[2:] for entry in by_hash[FOO2_SRC]] == [
        ("1.10-alt1", "- 1.10 released (fixes CVE-2024-0001)"),
        ("1.0-alt1", "- 1.0 released"),
    ]
    assert by_hash[FOO_SRC][0][0].replace(tzinfo=UTC) == datetime(2024, 4, 1, tzinfo=UTC)


def test_all_packages_with_source_names_the_source(loaded: Store) -> None:
    rows = loaded.query(
        "SELECT DISTINCT pkgset_date, sourcepkgname FROM all_packages_with_source"
        " WHERE pkg_hash IN ({a:UInt64}, {b:UInt64}) ORDER BY pkgset_date",
        {"a": FOO_BIN, "b": FOO2_BIN},
    )
    assert [(d.replace(tzinfo=UTC), name) for d, name in rows] == [(MAY, "foo"), (JUNE, "foo")]


def test_branch_deleted_packages(loaded: Store) -> None:
    # bar left p10 in June; a DONE task's history row says which task deleted it.
    loaded.insert(
        "BranchPackageHistory",
        ("pkgset_name", "task_id", "task_changed", "tplan_action", "pkg_hash", "pkg_name",
         "pkg_sourcepackage"),
        [("p10", 321, datetime(2024, 5, 15, tzinfo=UTC), "delete", BAR_SRC, "bar", 1)],
    )  # fmt: skip
    rows = loaded.query(
        "SELECT pkgset_name, pkg_name, hash, task FROM lv_branch_deleted_packages"
        " WHERE pkg_name LIKE '%ba%'"
    )
    assert rows == [("p10", "bar", BAR_SRC, 321)]
