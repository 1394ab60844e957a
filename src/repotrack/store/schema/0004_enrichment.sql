-- Enrichment tables (reference/altrepo.md §1.5): ACLs, repocop, Bugzilla, beehive,
-- watch, repository status, SPDX licenses and license aliases.

CREATE TABLE IF NOT EXISTS Acl
(
    acl_date   DateTime,
    acl_for    String,
    acl_branch String,
    acl_list   Array(String)
)
ENGINE = MergeTree
PRIMARY KEY (acl_date, acl_branch)
ORDER BY (acl_date, acl_branch, acl_for, acl_list);

CREATE VIEW IF NOT EXISTS last_acl AS
SELECT
    acl_branch,
    acl_for,
    max(date) AS acl_date,
    argMax(list, date) AS acl_list
FROM
(
    SELECT acl_branch, acl_for, acl_date AS date, acl_list AS list FROM Acl
)
GROUP BY acl_branch, acl_for;

CREATE TABLE IF NOT EXISTS last_acl_stage1
(
    acl_branch    String,
    acl_for       String,
    acl_date_last SimpleAggregateFunction(max, DateTime),
    acl_list      SimpleAggregateFunction(anyLast, Array(String))
)
ENGINE = AggregatingMergeTree
ORDER BY (acl_branch, acl_for);

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_last_acl TO last_acl_stage1 AS
SELECT acl_branch, acl_for, acl_date AS acl_date_last, acl_list
FROM Acl;

-- One row per (branch, package, member): @group entries are expanded into their members;
-- order_u is the member's position in the package's list, order_g its place in the group.
CREATE VIEW IF NOT EXISTS last_acl_with_groups AS
SELECT
    A.acl_branch AS acl_branch,
    A.acl_date AS acl_date,
    A.acl_for AS pkgname,
    if(startsWith(A.member, '@'), G.group_member, A.member) AS acl_user,
    A.order_u AS order_u,
    if(startsWith(A.member, '@'), G.order_g, 0) AS order_g
FROM
(
    SELECT acl_branch, acl_for, acl_date, member, order_u
    FROM last_acl
    ARRAY JOIN acl_list AS member, arrayEnumerate(acl_list) AS order_u
    WHERE NOT startsWith(acl_for, '@')
) AS A
LEFT JOIN
(
    SELECT acl_branch, acl_for AS group_name, group_member, order_g
    FROM last_acl
    ARRAY JOIN acl_list AS group_member, arrayEnumerate(acl_list) AS order_g
    WHERE startsWith(acl_for, '@')
) AS G ON G.acl_branch = A.acl_branch AND G.group_name = A.member;

CREATE TABLE IF NOT EXISTS PackagesRepocop
(
    pkg_name          String,
    pkg_version       String,
    pkg_release       String,
    pkg_arch          LowCardinality(String),
    pkgset_name       LowCardinality(String),
    rc_srcpkg_name    String,
    rc_srcpkg_version String,
    rc_srcpkg_release String,
    rc_test_name      LowCardinality(String),
    rc_test_date      DateTime,
    rc_test_status    LowCardinality(String),
    rc_test_message   String,
    ts                DateTime64 MATERIALIZED now64()
)
ENGINE = ReplacingMergeTree
ORDER BY (pkg_name, pkg_version, pkg_release, pkg_arch, pkgset_name, rc_test_name, rc_test_date);

CREATE TABLE IF NOT EXISTS Bugzilla
(
    bz_id            UInt32,
    bz_status        LowCardinality(String),
    bz_resolution    LowCardinality(String),
    bz_severity      LowCardinality(String),
    bz_priority      LowCardinality(String),
    bz_product       LowCardinality(String),
    bz_version       LowCardinality(String),
    bz_platform      LowCardinality(String),
    bz_component     String,
    bz_assignee      String,
    bz_reporter      String,
    bz_summary       String,
    bz_last_changed  DateTime,
    bz_assignee_full String,
    bz_reporter_full String,
    ts               DateTime64 MATERIALIZED now64()
)
ENGINE = MergeTree
PRIMARY KEY bz_id
ORDER BY (bz_id, bz_component, bz_assignee);

CREATE TABLE IF NOT EXISTS BeehiveStatus
(
    pkg_hash       UInt64,
    pkg_name       String,
    pkg_version    String,
    pkg_release    String,
    pkgset_name    LowCardinality(String),
    bh_arch        LowCardinality(String),
    bh_status      Enum8('error' = 0, 'success' = 1),
    bh_build_time  Float32,
    bh_updated     DateTime,
    bh_ftbfs_since DateTime
)
ENGINE = MergeTree
PRIMARY KEY (pkgset_name, pkg_name)
ORDER BY (pkgset_name, pkg_name, bh_updated, bh_arch, pkg_hash);

CREATE TABLE IF NOT EXISTS PackagesWatch
(
    acl         String,
    pkg_name    String,
    old_version String,
    new_version String,
    url         String,
    date_update DateTime
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(date_update)
ORDER BY (acl, date_update, pkg_name, old_version, new_version, url);

CREATE TABLE IF NOT EXISTS RepositoryStatus
(
    pkgset_name             LowCardinality(String),
    rs_start_date           DateTime,
    rs_end_date             DateTime,
    rs_show                 UInt8,
    rs_description_ru       String,
    rs_description_en       String,
    rs_mirrors_json         String,
    rs_mailing_list         LowCardinality(String),
    rs_pkgset_name_bugzilla LowCardinality(String),
    ts                      DateTime64 MATERIALIZED now64()
)
ENGINE = MergeTree
PRIMARY KEY pkgset_name
ORDER BY (pkgset_name, rs_show);

CREATE TABLE IF NOT EXISTS SPDXLicenses
(
    spdx_id     String,
    spdx_name   String,
    spdx_text   String,
    spdx_header String,
    spdx_urls   Array(String),
    spdx_type   Enum8('license' = 0, 'exception' = 1)
)
ENGINE = ReplacingMergeTree
ORDER BY (spdx_id, spdx_type, spdx_name, spdx_text);

CREATE TABLE IF NOT EXISTS LicenseAliases
(
    alias   String,
    spdx_id String
)
ENGINE = ReplacingMergeTree
ORDER BY (alias, spdx_id);
