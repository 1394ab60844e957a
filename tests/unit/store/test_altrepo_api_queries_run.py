"""The ALTRepo API's queries that found a gap in the store, run on a migrated store.

Every SQL query of the ALTRepo API (liannnix/altrepoapi at e18bcd4d: each ``sql.py`` under
``altrepo_api/api/`` and the SQL classes of ``altrepo_api/libs/``, 464 texts) was run on a
migrated store with its placeholders filled. The texts below are quoted from the API as
compatibility fixtures, byte for byte; only their placeholders are filled. Each failed on
this store before migration ``0017_altrepo_api_gaps.sql``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from repotrack.store import Store

# ruff: noqa: E501  (the quoted SQL keeps the API's own line lengths)
# -- altrepo_api/api/management/sql.py (e18bcd4d), SQL.get_user_last_activities, quoted --------
# Filled by endpoints/errata_user.py with the account name and the number of entries.
GET_USER_LAST_ACTIVITIES = """
WITH
get_errata_user_aliases('{user}') AS target_user,
{limit} AS target_limit,
_last_vuln_status_changes_by_author AS (
    SELECT
        vuln_id,
        vs_author,
        vs_updated
    FROM VulnerabilityStatus
    WHERE has(target_user, vs_author)
    ORDER BY vs_updated DESC
    LIMIT target_limit
),
last_vuln_statuses AS (
    SELECT
        'vuln_status' AS type,
        vuln_id AS id,
        'update' AS action,
        '' AS attr_type,
        '' AS attr_link,
        map(
            'text', ((arraySlice(vs_history, arrayFirstIndex(vs -> ((vs.1, vs.2, vs.8) = (R.vuln_id, R.vs_author, R.vs_updated)), vs_history), 2) AS vcs)[1]).5,
            'new', (vcs[1]).3,
            'old', (vcs[2]).3
        ) AS info_json,
        vs_updated AS date
    FROM
    (
        SELECT
            vuln_id,
            arrayReverseSort(vs -> (vs.8), groupUniqArray(tuple(*))) AS vs_history
        FROM VulnerabilityStatus
        WHERE vuln_id IN (
            SELECT vuln_id
            FROM _last_vuln_status_changes_by_author
        )
        GROUP BY vuln_id
    ) AS VulnStatusHistory
    RIGHT JOIN _last_vuln_status_changes_by_author AS R USING (vuln_id)
),
last_comments AS (
    SELECT
        'comment' AS type,
        CAST(comment_id, 'String') AS id,
        CAST(cc_action, 'String') AS action,
        comment_entity_type AS attr_type,
        comment_entity_link AS attr_link,
        map('text', comment_text) AS info_json,
        comment_created AS date
    FROM Comments
    RIGHT JOIN
    (
        SELECT
            comment_id,
            cc_action
        FROM CommentsChangeHistory
        WHERE has(target_user, cc_user)
        ORDER BY ts DESC
        LIMIT target_limit
    ) AS R USING (comment_id)
    ORDER BY date DESC
),
last_errata AS (
    SELECT
        'errata' AS type,
        errata_id AS id,
        CAST(ec_type, 'String') AS action,
        'package' AS attr_type,
        ec_id AS attr_link,
        map('text', JSONExtractString(ec_reason, 'message')) AS info_json,
        ec_updated AS date
    FROM ErrataChangeHistory
    WHERE startsWith(errata_id, 'ALT-PU')
        AND (ec_source = 'manual')
        AND (ec_origin = 'parent')
        AND (has(target_user, ec_user))
    ORDER BY date DESC
    LIMIT target_limit
),
last_exclusions AS (
    SELECT
        'exclusion' AS type,
        errata_id AS id,
        CAST(ec_type, 'String') AS action,
        JSONExtractString(eh_json, 'type') AS attr_type,
        ec_id AS attr_link,
        map('text', JSONExtractString(eh_json, 'reason')) AS info_json,
        ec_updated AS date
    FROM ErrataHistory
    RIGHT JOIN (
        SELECT
            ec_id,
            ec_type,
            errata_id,
            ec_updated
        FROM ErrataChangeHistory
        WHERE startsWith(errata_id, 'ALT-SA')
            AND (ec_source = 'manual')
            AND (ec_origin = 'parent')
            AND (has(target_user, ec_user))
        ORDER BY ec_updated DESC
        LIMIT target_limit
    ) AS R USING (errata_id)
    ORDER BY date DESC
),
last_cpes AS (
    SELECT
        'cpe' AS type,
        pkg_name AS id,
        CAST(pncc_type, 'String') AS action,
        pnc_type AS attr_type,
        pnc_result AS attr_link,
        map('text', JSONExtractString(pncc_reason, 'message')) AS info_json,
        ts AS date
    FROM PncChangeHistory
    WHERE (pnc_type = 'cpe')
        AND (pncc_source = 'manual')
        AND (pncc_origin = 'parent')
        AND (has(target_user, pncc_user))
    ORDER BY date DESC
    LIMIT target_limit
),
last_pncs AS (
    SELECT
        'pnc' AS type,
        pnc_result AS id,
        CAST(pncc_type, 'String') AS action,
        'pnc' AS attr_type,
        pkg_name AS attr_link,
        map('text', JSONExtractString(pncc_reason, 'message')) AS info_json,
        ts AS date
    FROM PncChangeHistory
    WHERE (pnc_type != 'cpe')
        AND (pncc_source = 'manual')
        AND (pncc_origin = 'parent')
        AND (has(target_user, pncc_user))
    ORDER BY date DESC
    LIMIT target_limit
)
SELECT * FROM (
    SELECT * FROM last_vuln_statuses
    UNION ALL
    SELECT * FROM last_comments
    UNION ALL
    SELECT * FROM last_errata
    UNION ALL
    SELECT * FROM last_exclusions
    UNION ALL
    SELECT * FROM last_cpes
    UNION ALL
    SELECT * FROM last_pncs
)
ORDER BY date DESC
LIMIT target_limit
"""


def _activities(store: Store, user: str, limit: int = 10) -> list[tuple[object, ...]]:
    return store.query(GET_USER_LAST_ACTIVITIES.format(user=user, limit=limit))


def test_pnc_change_history_has_the_api_source_and_origin(store: Store) -> None:
    """``pncc_source`` and ``pncc_origin`` take the types of ErrataChangeHistory's
    ``ec_source`` and ``ec_origin``, which the same query filters the same way."""
    rows = store.query(
        "SELECT table, name, type FROM system.columns WHERE database = currentDatabase() "
        "AND (table, name) IN (('PncChangeHistory', 'pncc_source'), "
        "('PncChangeHistory', 'pncc_origin'), ('ErrataChangeHistory', 'ec_source'), "
        "('ErrataChangeHistory', 'ec_origin'))"
    )
    types = {(table, name): kind for table, name, kind in rows}
    assert types == {
        ("PncChangeHistory", "pncc_source"): "LowCardinality(String)",
        ("PncChangeHistory", "pncc_origin"): "LowCardinality(String)",
        ("ErrataChangeHistory", "ec_source"): "LowCardinality(String)",
        ("ErrataChangeHistory", "ec_origin"): "LowCardinality(String)",
    }


def test_user_last_activities_runs_on_an_empty_store(store: Store) -> None:
    """Before 0017: ``Unknown expression or function identifier `pncc_source```."""
    assert _activities(store, "alice") == []


def test_user_last_activities_lists_manual_parent_pnc_changes(store: Store) -> None:
    """Only the manual changes made at the parent level are the user's activity; a row
    written without source and origin (as repotrack's own mapping commands write them)
    is not."""
    ts = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    columns = (
        "pncc_user", "pncc_reason", "pncc_source", "pncc_origin", "pkg_name", "pnc_result",
        "pnc_type", "pnc_state", "pnc_source", "pncc_type", "transaction_id", "ts",
    )  # fmt: skip
    reason = '{"message": "upstream name", "details": {}}'
    store.insert(
        "PncChangeHistory",
        columns,
        [
            ("alice", reason, "manual", "parent", "curl", "curl", "repology", "active",
             "manual", "create", uuid.uuid4(), ts),
            ("alice", reason, "manual", "parent", "curl", "cpe:2.3:a:haxx:curl", "cpe",
             "active", "manual", "create", uuid.uuid4(), ts),
            ("alice", reason, "manual", "child", "wget", "wget", "repology", "active",
             "manual", "create", uuid.uuid4(), ts),
            ("bob", reason, "manual", "parent", "zsh", "zsh", "repology", "active",
             "manual", "create", uuid.uuid4(), ts),
        ],
    )  # fmt: skip
    store.insert(
        "PncChangeHistory",
        ("pncc_user", "pncc_reason", "pkg_name", "pnc_result", "pnc_type", "pnc_state"),
        [("alice", reason, "bash", "bash", "repology", "active")],
    )
    rows = _activities(store, "alice")
    found = sorted((row[0], row[1], row[3], row[4], dict(row[5])["text"]) for row in rows)
    assert found == [
        ("cpe", "curl", "cpe", "cpe:2.3:a:haxx:curl", "upstream name"),
        ("pnc", "curl", "pnc", "curl", "upstream name"),
    ]


def test_a_mapping_set_by_hand_is_the_users_activity(store: Store) -> None:
    """``repotrack vulns map set`` is a manual change made at the package itself: the API
    lists it among the user's activities. Before 2026-12-07 repotrack wrote neither
    ``pncc_source`` nor ``pncc_origin``, so no change of its own was listed; the rows the
    repology sync copies from a project's mapping are automatic, derived ones."""
    from repotrack.security.mapping import set_mapping, write_mapping_rows

    set_mapping(store, pkg_name="curl", result="cpe:2.3:a:haxx:curl:*:*:*:*:*:*:*:*", user="alice")
    write_mapping_rows(
        store,
        [("wget", "cpe:2.3:a:gnu:wget:*:*:*:*:*:*:*:*", "cpe", "active", "repology", "")],
        "alice",
    )
    rows = _activities(store, "alice")
    assert [(row[0], row[1], row[4]) for row in rows] == [
        ("cpe", "curl", "cpe:2.3:a:haxx:curl:*:*:*:*:*:*:*:*")
    ]
    stored = store.query(
        "SELECT pkg_name, pncc_source, pncc_origin FROM PncChangeHistory ORDER BY pkg_name"
    )
    assert stored == [("curl", "manual", "parent"), ("wget", "auto", "child")]
