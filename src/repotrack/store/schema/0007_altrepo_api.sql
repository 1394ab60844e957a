-- What the ALTRepo API (liannnix/altrepoapi, its api/*/sql.py) reads beyond ALTRepo's 2022 schema
-- file: tables written by the API itself (comments, default reasons, errata users), search
-- tables, the newer task-progress shape, live views, and a few columns and functions.
-- Names and types follow what the API's queries and inserts expect (reference/altrepo.md
-- §1.3, §1.7, §8). Tables that later loaders or the API fill stay empty until then.

-- Errata ids end in a version: 'ALT-PU-2024-1234-2' is version 2 of 'ALT-PU-2024-1234'.
CREATE FUNCTION IF NOT EXISTS extractErrataIdVersion AS (errata_id) ->
    toUInt32OrZero(extract(errata_id, '-([0-9]+)$'));

CREATE FUNCTION IF NOT EXISTS extractErrataIdNoVersion AS (errata_id) ->
    replaceRegexpOne(errata_id, '-[0-9]+$', '');

-- Columns the API selects from package headers that the 2022 file lacks.
ALTER TABLE Packages ADD COLUMN IF NOT EXISTS pkg_vcs String DEFAULT '';
ALTER TABLE Packages ADD COLUMN IF NOT EXISTS pkg_pretrans String DEFAULT '';
ALTER TABLE Packages ADD COLUMN IF NOT EXISTS pkg_posttrans String DEFAULT '';
ALTER TABLE Packages_buffer ADD COLUMN IF NOT EXISTS pkg_vcs String DEFAULT '';
ALTER TABLE Packages_buffer ADD COLUMN IF NOT EXISTS pkg_pretrans String DEFAULT '';
ALTER TABLE Packages_buffer ADD COLUMN IF NOT EXISTS pkg_posttrans String DEFAULT '';

-- The errata change log is grouped by the change id without its version.
ALTER TABLE ErrataChangeHistory ADD COLUMN IF NOT EXISTS
    ec_id_noversion String DEFAULT replaceRegexpOne(ec_id, '-[0-9]+$', '');

-- Package-name-conversion changes carry their kind and the transaction grouping them.
ALTER TABLE PncChangeHistory ADD COLUMN IF NOT EXISTS pncc_type LowCardinality(String) DEFAULT '';
ALTER TABLE PncChangeHistory ADD COLUMN IF NOT EXISTS
    transaction_id UUID DEFAULT toUUID('00000000-0000-0000-0000-000000000000');

-- The API reads task progress events with these columns (one row per event, newest ts wins);
-- the 2022 tp_* columns stay for the older event shape.
ALTER TABLE TaskProgress ADD COLUMN IF NOT EXISTS task_repo LowCardinality(String) DEFAULT '';
ALTER TABLE TaskProgress ADD COLUMN IF NOT EXISTS task_state LowCardinality(String) DEFAULT '';
ALTER TABLE TaskProgress ADD COLUMN IF NOT EXISTS task_owner LowCardinality(String) DEFAULT '';
ALTER TABLE TaskProgress ADD COLUMN IF NOT EXISTS task_testonly UInt8 DEFAULT 0;
ALTER TABLE TaskProgress ADD COLUMN IF NOT EXISTS task_changed DateTime DEFAULT 0;
ALTER TABLE TaskProgress ADD COLUMN IF NOT EXISTS task_message String DEFAULT '';
ALTER TABLE TaskProgress ADD COLUMN IF NOT EXISTS task_depends Array(UInt32) DEFAULT [];
ALTER TABLE TaskProgress ADD COLUMN IF NOT EXISTS stage LowCardinality(String) DEFAULT '';
ALTER TABLE TaskProgress ADD COLUMN IF NOT EXISTS stage_status LowCardinality(String) DEFAULT '';
ALTER TABLE TaskProgress ADD COLUMN IF NOT EXISTS type LowCardinality(String) DEFAULT '';

CREATE TABLE IF NOT EXISTS TaskSubtaskProgress
(
    task_id            UInt32,
    subtask_id         UInt32,
    task_repo          LowCardinality(String),
    task_owner         LowCardinality(String),
    task_try           UInt16,
    task_iter          UInt8,
    subtask_changed    DateTime,
    subtask_deleted    UInt8,
    subtask_userid     LowCardinality(String),
    subtask_dir        String,
    subtask_package    String,
    subtask_type       Enum8('unknown' = 0, 'srpm' = 1, 'gear' = 2, 'copy' = 3, 'delete' = 4,
                             'rebuild' = 5),
    subtask_pkg_from   LowCardinality(String),
    subtask_sid        String,
    subtask_tag_author String,
    subtask_tag_id     String,
    subtask_tag_name   String,
    subtask_srpm       String,
    subtask_srpm_name  String,
    subtask_srpm_evr   String,
    arch               LowCardinality(String),
    status             LowCardinality(String),
    stage              LowCardinality(String),
    stage_status       LowCardinality(String),
    type               LowCardinality(String),
    ts                 DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (task_id, subtask_id, arch, ts);

-- Search helpers the API's search boxes read: search_string is '|'-separated fields
-- ('branch|file name|...|binary|...' for files), lead the hit (a package hash, a task id).
CREATE TABLE IF NOT EXISTS FileSearch
(
    search_string String,
    lead          UInt64,
    ts            DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY search_string;

CREATE TABLE IF NOT EXISTS GlobalSearch
(
    type          LowCardinality(String),
    lead          String,
    search_string String,
    ts            DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (type, lead, search_string);

-- Antivirus scan findings per branch and package file.
CREATE TABLE IF NOT EXISTS AntivirusScanStatus
(
    pkgset_name LowCardinality(String),
    pkg_hash    UInt64,
    pkg_name    String,
    pkg_version String,
    pkg_release String,
    pkg_arch    LowCardinality(String),
    file_name   String,
    av_scanner  LowCardinality(String),
    av_type     LowCardinality(String),
    av_issue    String,
    av_message  String,
    av_target   LowCardinality(String),
    av_date     DateTime,
    ts          DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (pkgset_name, av_scanner, av_date, pkg_name);

-- Written by the API's management routes: comments on vulnerabilities, packages, errata.
CREATE TABLE IF NOT EXISTS Comments
(
    comment_id          UInt64,
    comment_pid         UInt64,
    comment_rid         UInt64,
    comment_entity_type LowCardinality(String),
    comment_entity_link String,
    comment_author      String,
    comment_text        String,
    comment_references  Nested(type String, link String),
    comment_created     DateTime64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (comment_entity_type, comment_entity_link, comment_id);

CREATE TABLE IF NOT EXISTS CommentsChangeHistory
(
    cc_user    String,
    cc_user_ip String,
    cc_reason  String,
    cc_action  LowCardinality(String),
    comment_id UInt64,
    ts         DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (comment_id, ts);

CREATE TABLE IF NOT EXISTS DefaultReasons
(
    dr_text       String,
    dr_source     LowCardinality(String),
    dr_action     LowCardinality(String),
    dr_is_active  UInt8,
    dr_is_deleted UInt8,
    ts            DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (dr_source, dr_action, dr_text, ts);

-- `INSERT INTO ErrataUsers (*)` names four values, so ts is MATERIALIZED (not in `*`).
CREATE TABLE IF NOT EXISTS ErrataUsers
(
    user         String,
    display_name String,
    group        LowCardinality(String),
    roles        Array(LowCardinality(String)),
    ts           DateTime64(3) MATERIALIZED now64(3)
)
ENGINE = MergeTree
ORDER BY (user, ts);

CREATE TABLE IF NOT EXISTS ErrataUsersAliases
(
    user    String,
    aliases Array(String),
    ts      DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (user, ts);

CREATE TABLE IF NOT EXISTS ErrataUsersSubscriptions
(
    user        String,
    entity_type LowCardinality(String),
    entity_link String,
    state       Enum8('inactive' = 0, 'active' = 1),
    assigner    String,
    date        DateTime64(3)
)
ENGINE = MergeTree
ORDER BY (user, entity_type, entity_link, date);

-- A user's names: the account itself and its latest aliases. An alias resolves to the
-- account that lists it; any other name is its own original.
CREATE FUNCTION IF NOT EXISTS get_errata_user_original_name AS (name) ->
    arrayFirst(
        u -> (u = name) OR has(
            arrayFlatten(arrayMap(p -> if(p.1 = u, p.2, []),
                (SELECT groupArray((user, aka)) FROM
                    (SELECT user, argMax(aliases, ts) AS aka FROM ErrataUsersAliases GROUP BY user)))),
            name),
        arrayPushBack(
            arrayMap(p -> p.1,
                (SELECT groupArray((user, aka)) FROM
                    (SELECT user, argMax(aliases, ts) AS aka FROM ErrataUsersAliases GROUP BY user))),
            name));

CREATE FUNCTION IF NOT EXISTS get_errata_user_aliases AS (name) ->
    arrayDistinct(arrayPushFront(
        arrayFlatten(arrayMap(p -> if(p.1 = get_errata_user_original_name(name), p.2, []),
            (SELECT groupArray((user, aka)) FROM
                (SELECT user, argMax(aliases, ts) AS aka FROM ErrataUsersAliases GROUP BY user)))),
        get_errata_user_original_name(name)));

-- ALTRepo's LIVE VIEWs (not usable on chDB) become plain views with the same columns.
-- lv_pkgset_stat gains pkg_arch, the name the API filters on ('srpm' for sources); arch stays.
CREATE OR REPLACE VIEW lv_pkgset_stat AS
SELECT
    LP.pkgset_name AS pkgset_name,
    LP.pkgset_date AS pkgset_date,
    if(LP.pkg_sourcepackage = 1, 'srpm', LP.pkg_arch) AS arch,
    arch AS pkg_arch,
    countDistinct(LP.pkg_sourcerpm_name) AS cnt
FROM
(
    SELECT
        pkgset_name, pkgset_date, pkg_arch, pkg_sourcepackage,
        if(pkg_sourcepackage = 1, pkg_name,
           arrayStringConcat(arrayPopBack(arrayPopBack(splitByChar('-', pkg_sourcerpm))), '-'))
            AS pkg_sourcerpm_name
    FROM last_packages
    WHERE pkg_arch != 'x86_64-i586'
) AS LP
GROUP BY pkgset_name, pkgset_date, arch;

-- Every package of every image, with the image's descriptive columns (mv_image_pkgset) and
-- its file name (the root's kv 'file').
CREATE VIEW IF NOT EXISTS lv_all_image_packages AS
SELECT
    I.img_branch AS img_branch,
    I.img_edition AS img_edition,
    I.img_flavor AS img_flavor,
    I.img_platform AS img_platform,
    I.img_release AS img_release,
    I.img_version_major AS img_version_major,
    I.img_version_minor AS img_version_minor,
    I.img_version_sub AS img_version_sub,
    I.img_arch AS img_arch,
    I.img_variant AS img_variant,
    I.img_type AS img_type,
    I.img_tag AS img_tag,
    I.img_file AS img_file,
    I.pkgset_uuid AS pkgset_uuid,
    I.pkgset_date AS pkgset_date,
    P.pkg_hash AS pkg_hash,
    P.pkg_name AS pkg_name,
    P.pkg_epoch AS pkg_epoch,
    P.pkg_version AS pkg_version,
    P.pkg_release AS pkg_release,
    P.pkg_arch AS pkg_arch,
    P.pkg_sourcepackage AS pkg_sourcepackage,
    P.pkg_srcrpm_hash AS pkg_srcrpm_hash
FROM
(
    SELECT IP.*, R.img_file AS img_file
    FROM ImagePackageSetName AS IP
    LEFT JOIN
    (
        SELECT pkgset_uuid, pkgset_kv.v[indexOf(pkgset_kv.k, 'file')] AS img_file
        FROM PackageSetName
        WHERE pkgset_depth = 0
    ) AS R ON R.pkgset_uuid = IP.pkgset_uuid
) AS I
INNER JOIN
(
    SELECT DISTINCT N.pkgset_ruuid AS pkgset_ruuid, S.pkg_hash AS pkg_hash
    FROM PackageSet_buffer AS S
    INNER JOIN PackageSetName AS N ON N.pkgset_uuid = S.pkgset_uuid
) AS M ON M.pkgset_ruuid = I.pkgset_uuid
INNER JOIN Packages_buffer AS P ON P.pkg_hash = M.pkg_hash;

CREATE VIEW IF NOT EXISTS lv_image_packageset AS
SELECT DISTINCT img_branch, img_edition, img_tag, pkgset_uuid, pkgset_date
FROM ImagePackageSetName;

-- Source packages a DONE task deleted from a branch and that its latest snapshot lacks.
CREATE VIEW IF NOT EXISTS lv_branch_deleted_packages AS
SELECT
    H.pkgset_name AS pkgset_name,
    H.pkg_name AS pkg_name,
    H.last_hash AS hash,
    H.last_task AS task,
    H.last_changed AS changed
FROM
(
    SELECT pkgset_name, pkg_name, argMax(pkg_hash, task_changed) AS last_hash,
        argMax(task_id, task_changed) AS last_task, max(task_changed) AS last_changed
    FROM BranchPackageHistory
    WHERE tplan_action = 'delete' AND pkg_sourcepackage = 1
    GROUP BY pkgset_name, pkg_name
) AS H
LEFT ANTI JOIN
(
    SELECT DISTINCT pkgset_name, pkg_name FROM static_last_packages WHERE pkg_sourcepackage = 1
) AS L ON L.pkgset_name = H.pkgset_name AND L.pkg_name = H.pkg_name;

-- Per latest repository snapshot: one (arch, component, count, size, uuid) tuple per node
-- that holds packages ('srpm' for sources).
CREATE VIEW IF NOT EXISTS lv_repository_statistics AS
SELECT
    pkgset_name AS branch,
    pkgset_date AS branch_date,
    groupArray((arch, component, cnt, size, uuid)) AS stats
FROM
(
    SELECT
        LP.pkgset_name AS pkgset_name,
        LP.pkgset_date AS pkgset_date,
        if(LP.pkgset_depth > 1, LP.pkgset_pname, LP.pkgset_nodename) AS arch,
        LP.pkgset_nodename AS component,
        countDistinct(LP.pkg_hash) AS cnt,
        sum(P.pkg_filesize) AS size,
        LP.pkgset_uuid AS uuid
    FROM (SELECT DISTINCT * FROM last_pkgset) AS LP
    INNER JOIN
    (
        SELECT pkg_hash, any(pkg_filesize) AS pkg_filesize FROM Packages_buffer GROUP BY pkg_hash
    ) AS P ON P.pkg_hash = LP.pkg_hash
    WHERE LP.pkgset_depth > 0 AND LP.pkgset_class = 'repository'
    GROUP BY pkgset_name, pkgset_date, arch, component, uuid
    ORDER BY arch, component
)
GROUP BY branch, branch_date;

-- A package's changelog entries as (date, name, evr, text), newest first as in the header.
CREATE VIEW IF NOT EXISTS PackageChangelog_view AS
SELECT
    E.pkg_hash AS pkg_hash,
    arrayMap(i -> (E.dates[i], E.names[i], E.evrs[i], E.texts[i]), arrayEnumerate(E.dates))
        AS changelog
FROM
(
    SELECT
        C.pkg_hash AS pkg_hash,
        groupArray(C.date) AS dates,
        groupArray(C.name) AS names,
        groupArray(C.evr) AS evrs,
        groupArray(C.text) AS texts
    FROM
    (
        SELECT PC.pkg_hash AS pkg_hash, PC.idx AS idx, PC.date AS date, PC.name AS name,
            PC.evr AS evr, T.chlog_text AS text
        FROM
        (
            SELECT pkg_hash, idx, pkg_changelog.date[idx] AS date, pkg_changelog.name[idx] AS name,
                pkg_changelog.evr[idx] AS evr, pkg_changelog.hash[idx] AS chlog_hash
            FROM Packages_buffer
            ARRAY JOIN arrayEnumerate(pkg_changelog.hash) AS idx
        ) AS PC
        LEFT JOIN
        (
            SELECT chlog_hash, any(chlog_text) AS chlog_text FROM Changelog_buffer GROUP BY chlog_hash
        ) AS T ON T.chlog_hash = PC.chlog_hash
        ORDER BY pkg_hash, idx
    ) AS C
    GROUP BY C.pkg_hash
) AS E;

-- all_packages with the name of each binary's source package.
CREATE VIEW IF NOT EXISTS all_packages_with_source AS
SELECT
    AP.*,
    SRC.pkg_name AS sourcepkgname
FROM all_packages AS AP
LEFT JOIN
(
    SELECT DISTINCT pkg_hash, pkg_name FROM Packages_buffer WHERE pkg_sourcepackage = 1
) AS SRC ON SRC.pkg_hash = AP.pkg_srcrpm_hash;
