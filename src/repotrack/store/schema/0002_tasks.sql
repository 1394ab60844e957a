-- girar build tasks (reference/altrepo.md §1.3), names and types as in ALTRepo.

CREATE TABLE IF NOT EXISTS Tasks
(
    task_id            UInt32,
    subtask_id         UInt32,
    task_repo          LowCardinality(String),
    task_owner         LowCardinality(String),
    task_changed       DateTime,
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
    ts                 DateTime MATERIALIZED now()
)
ENGINE = ReplacingMergeTree
PRIMARY KEY (task_id, subtask_id)
ORDER BY (task_id, subtask_id, task_changed, subtask_changed, subtask_deleted);

CREATE TABLE IF NOT EXISTS Tasks_buffer AS Tasks
ENGINE = Buffer(currentDatabase(), Tasks, 16, 10, 100, 1000, 100000, 100000, 1000000);

CREATE TABLE IF NOT EXISTS TaskStates
(
    task_changed       DateTime,
    task_id            UInt32,
    task_state         LowCardinality(String),
    task_runby         LowCardinality(String),
    task_depends       Array(UInt32),
    task_try           UInt16,
    task_testonly      UInt8,
    task_failearly     UInt8,
    task_shared        UInt8,
    task_message       String,
    task_version       String,
    task_prev          UInt32,
    task_eventlog_hash Array(UInt64),
    ts                 DateTime MATERIALIZED now()
)
ENGINE = ReplacingMergeTree
PRIMARY KEY (task_changed, task_id)
ORDER BY (task_changed, task_id, task_state, task_try);

CREATE TABLE IF NOT EXISTS TaskStates_buffer AS TaskStates
ENGINE = Buffer(currentDatabase(), TaskStates, 16, 10, 100, 1000, 100000, 100000, 1000000);

CREATE TABLE IF NOT EXISTS TaskApprovals
(
    task_id      UInt32,
    subtask_id   UInt32,
    tapp_type    Enum8('approve' = 0, 'disapprove' = 1),
    tapp_revoked UInt8,
    tapp_date    DateTime,
    tapp_name    LowCardinality(String),
    tapp_message String,
    ts           DateTime MATERIALIZED now()
)
ENGINE = MergeTree
ORDER BY (tapp_date, task_id, subtask_id);

CREATE TABLE IF NOT EXISTS TaskIterations
(
    task_id             UInt32,
    task_changed        DateTime,
    subtask_id          UInt32,
    subtask_arch        LowCardinality(String),
    titer_ts            DateTime,
    titer_status        LowCardinality(String),
    task_try            UInt16,
    task_iter           UInt8,
    titer_srcrpm_hash   UInt64,
    titer_pkgs_hash     Array(UInt64),
    titer_chroot_base   UInt64,
    titer_chroot_br     UInt64,
    titer_buildlog_hash UInt64,
    titer_srpmlog_hash  UInt64
)
ENGINE = ReplacingMergeTree
PRIMARY KEY (task_id, subtask_id)
ORDER BY (task_id, subtask_id, subtask_arch, task_changed, titer_ts, titer_status, task_try,
          task_iter);

CREATE TABLE IF NOT EXISTS TaskIterations_buffer AS TaskIterations
ENGINE = Buffer(currentDatabase(), TaskIterations, 16, 10, 100, 1000, 100000, 1000000, 10000000);

CREATE TABLE IF NOT EXISTS TaskChroots
(
    tch_hash   UInt64 MATERIALIZED murmurHash3_64(tch_chroot),
    tch_chroot Array(UInt64)
)
ENGINE = ReplacingMergeTree
ORDER BY tch_chroot;

CREATE TABLE IF NOT EXISTS TaskChroots_buffer AS TaskChroots
ENGINE = Buffer(currentDatabase(), TaskChroots, 16, 10, 100, 1000, 100000, 1000000, 10000000);

CREATE TABLE IF NOT EXISTS TaskLogs
(
    tlog_hash    UInt64,
    tlog_line    UInt32,
    tlog_ts      DateTime,
    tlog_message String
)
ENGINE = ReplacingMergeTree
ORDER BY (tlog_message, tlog_line, tlog_hash);

CREATE TABLE IF NOT EXISTS TaskLogs_buffer AS TaskLogs
ENGINE = Buffer(currentDatabase(), TaskLogs, 16, 10, 100, 1000, 100000, 1000000, 10000000);

CREATE TABLE IF NOT EXISTS TaskPlanPackages
(
    tplan_hash     UInt64,
    tplan_action   Enum8('add' = 0, 'delete' = 1),
    tplan_pkg_name String,
    tplan_pkg_evr  String,
    tplan_bin_file String,
    tplan_src_file String,
    tplan_arch     LowCardinality(String),
    tplan_comp     LowCardinality(String),
    tplan_subtask  UInt32
)
ENGINE = ReplacingMergeTree
ORDER BY (tplan_hash, tplan_action, tplan_src_file, tplan_bin_file);

CREATE TABLE IF NOT EXISTS TaskPlanPkgHash
(
    tplan_hash   UInt64,
    tplan_action Enum8('add' = 0, 'delete' = 1),
    tplan_sha256 FixedString(32)
)
ENGINE = ReplacingMergeTree
ORDER BY (tplan_hash, tplan_action, tplan_sha256);

CREATE TABLE IF NOT EXISTS TaskProgress
(
    task_id            UInt32,
    task_try           UInt16,
    task_iter          UInt8,
    subtask_id         UInt32,
    tp_girar_user      LowCardinality(String),
    tp_repo            LowCardinality(String),
    tp_owner           LowCardinality(String),
    tp_state           LowCardinality(String),
    tp_task_changed    DateTime,
    tp_subtask_changed Nullable(DateTime),
    tp_arch            LowCardinality(String),
    tp_json            String,
    tp_type            Enum8('task' = 0, 'subtask' = 1),
    tp_action          Enum8('state' = 0, 'abort' = 1, 'create' = 2, 'delete' = 3, 'share' = 4,
                             'deps' = 5, 'approve' = 6, 'disapprove' = 7, 'progress' = 8),
    ts                 DateTime64 MATERIALIZED now64()
)
ENGINE = MergeTree
PRIMARY KEY task_id
ORDER BY (task_id, subtask_id, tp_task_changed, tp_type, tp_action);

CREATE TABLE IF NOT EXISTS BranchPackageHistory
(
    pkgset_name       LowCardinality(String),
    task_id           UInt32,
    task_changed      DateTime,
    task_message      String,
    tplan_action      Enum8('add' = 0, 'delete' = 1),
    pkg_hash          UInt64,
    pkg_name          String,
    pkg_epoch         UInt32,
    pkg_version       String,
    pkg_release       String,
    pkg_arch          LowCardinality(String),
    pkg_sourcepackage UInt8,
    chlog_date        DateTime,
    chlog_name        String,
    chlog_nick        LowCardinality(String),
    chlog_evr         String,
    chlog_text        String
)
ENGINE = ReplacingMergeTree
ORDER BY (pkg_hash, pkgset_name, pkg_name, pkg_sourcepackage, task_id);

-- Plan hashes of the latest try/iteration of every task that reached DONE.
CREATE VIEW IF NOT EXISTS task_plan_hashes AS
SELECT
    task_id,
    murmurHash3_64(concat(toString(task_id), toString(task_try), toString(task_iter), arch))
        AS tplan_hash,
    arch AS tplan_arch
FROM
(
    SELECT
        task_id,
        argMax(task_try, task_changed)  AS task_try,
        argMax(task_iter, task_changed) AS task_iter,
        arrayDistinct(arrayConcat(groupUniqArray(subtask_arch), ['src', 'noarch', 'x86_64-i586']))
            AS archs
    FROM TaskIterations
    WHERE task_id IN (SELECT task_id FROM TaskStates WHERE task_state = 'DONE')
    GROUP BY task_id
)
ARRAY JOIN archs AS arch;

-- Fires when TaskStates_buffer flushes; TaskIterations, Tasks, TaskPlanPkgHash,
-- PackageHash and Packages must be flushed first (the task loader's order). The DONE
-- row being inserted is not yet visible in the TaskStates table, so the plan hashes are
-- computed here instead of through task_plan_hashes: inside a materialized view every
-- reference to TaskStates reads the inserted block.
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_package_history TO BranchPackageHistory AS
SELECT
    TR.task_repo AS pkgset_name,
    TS.task_id AS task_id,
    TS.task_changed AS task_changed,
    TS.task_message AS task_message,
    PL.tplan_action AS tplan_action,
    PK.pkg_hash AS pkg_hash,
    PK.pkg_name AS pkg_name,
    PK.pkg_epoch AS pkg_epoch,
    PK.pkg_version AS pkg_version,
    PK.pkg_release AS pkg_release,
    PK.pkg_arch AS pkg_arch,
    PK.pkg_sourcepackage AS pkg_sourcepackage,
    PK.chlog_date AS chlog_date,
    PK.chlog_name AS chlog_name,
    splitByChar('@', replaceOne(extract(PK.chlog_name, '<(.+)>'), ' at ', '@'))[1] AS chlog_nick,
    PK.chlog_evr AS chlog_evr,
    CL.chlog_text AS chlog_text
FROM
(
    SELECT task_id, task_changed, task_message
    FROM TaskStates
    WHERE task_state = 'DONE'
) AS TS
INNER JOIN
(
    SELECT task_id, any(task_repo) AS task_repo
    FROM Tasks
    GROUP BY task_id
) AS TR ON TR.task_id = TS.task_id
INNER JOIN
(
    SELECT TH.task_id AS task_id, TP.tplan_action AS tplan_action, PH.pkgh_mmh AS pkg_hash
    FROM
    (
        SELECT
            task_id,
            murmurHash3_64(concat(toString(task_id), toString(task_try), toString(task_iter), arch))
                AS tplan_hash
        FROM
        (
            SELECT
                task_id,
                argMax(task_try, task_changed)  AS task_try,
                argMax(task_iter, task_changed) AS task_iter,
                arrayDistinct(arrayConcat(groupUniqArray(subtask_arch),
                                          ['src', 'noarch', 'x86_64-i586'])) AS archs
            FROM TaskIterations
            WHERE task_id IN (SELECT task_id FROM TaskStates WHERE task_state = 'DONE')
            GROUP BY task_id
        )
        ARRAY JOIN archs AS arch
    ) AS TH
    INNER JOIN TaskPlanPkgHash AS TP ON TP.tplan_hash = TH.tplan_hash
    INNER JOIN
    (
        SELECT DISTINCT pkgh_mmh, pkgh_sha256 FROM PackageHash
    ) AS PH ON PH.pkgh_sha256 = TP.tplan_sha256
) AS PL ON PL.task_id = TS.task_id
INNER JOIN
(
    SELECT
        pkg_hash, pkg_name, pkg_epoch, pkg_version, pkg_release, pkg_arch, pkg_sourcepackage,
        pkg_changelog.date[1] AS chlog_date,
        pkg_changelog.name[1] AS chlog_name,
        pkg_changelog.evr[1]  AS chlog_evr,
        pkg_changelog.hash[1] AS chlog_hash
    FROM Packages
) AS PK ON PK.pkg_hash = PL.pkg_hash
LEFT JOIN
(
    SELECT chlog_hash, any(chlog_text) AS chlog_text
    FROM Changelog
    GROUP BY chlog_hash
) AS CL ON CL.chlog_hash = PK.chlog_hash;
