-- Two materialized views of 0002 and 0003, rewritten to read only the rows their inserted
-- block needs (their cost grew with everything the store held). Both give the same rows.
--
-- Publishing a snapshot (its root PackageSetName row) fills StaticLastPackages through
-- mv_last_packages_stage2. The view of 0003 joined the new root's nodes with the whole
-- PackageSet table and with the whole Packages table, so the cost of each publish grew
-- with everything the store had ever loaded (every snapshot of every branch). This view
-- gives the same rows, reading only the new root's nodes from PackageSet (its primary
-- key starts with pkgset_uuid) and only those nodes' packages from Packages.
-- Every reference to last_packages_stage1 inside the view reads the inserted root only.

DROP VIEW IF EXISTS mv_last_packages_stage2;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_last_packages_stage2 TO StaticLastPackages AS
WITH
    nodes AS
    (
        SELECT pkgset_uuid, pkgset_ruuid
        FROM PackageSetName
        WHERE pkgset_ruuid IN (SELECT pkgset_ruuid FROM last_packages_stage1)
    )
SELECT
    R.pkgset_name AS pkgset_name,
    R.pkgset_date AS pkgset_date,
    P.pkg_hash AS pkg_hash,
    P.pkg_name AS pkg_name,
    P.pkg_version AS pkg_version,
    P.pkg_release AS pkg_release,
    P.pkg_sourcepackage AS pkg_sourcepackage
FROM last_packages_stage1 AS R
INNER JOIN
(
    SELECT DISTINCT N.pkgset_ruuid AS pkgset_ruuid, PK.pkg_hash AS pkg_hash, PK.pkg_name AS pkg_name,
        PK.pkg_version AS pkg_version, PK.pkg_release AS pkg_release,
        PK.pkg_sourcepackage AS pkg_sourcepackage
    FROM
    (
        SELECT pkgset_uuid, pkg_hash
        FROM PackageSet_buffer
        WHERE pkgset_uuid IN (SELECT pkgset_uuid FROM nodes)
    ) AS S
    INNER JOIN nodes AS N ON N.pkgset_uuid = S.pkgset_uuid
    INNER JOIN
    (
        SELECT pkg_hash, pkg_name, pkg_version, pkg_release, pkg_sourcepackage
        FROM Packages_buffer
        WHERE pkg_hash IN
        (
            SELECT pkg_hash FROM PackageSet_buffer
            WHERE pkgset_uuid IN (SELECT pkgset_uuid FROM nodes)
        )
    ) AS PK ON PK.pkg_hash = S.pkg_hash
) AS P ON P.pkgset_ruuid = R.pkgset_ruuid;

-- A DONE task's packages in BranchPackageHistory (mv_package_history of 0002): that
-- view joined the inserted task states with all of Tasks, TaskPlanPkgHash, PackageHash,
-- Packages and Changelog, so every DONE state read (and hashed) every changelog text
-- ever stored. This one reads the rows of the inserted tasks only: their Tasks rows and
-- iterations (by task_id), their plans' hashes (by tplan_hash), the PackageHash rows of
-- those plans' files (a scan of the SHA-256 column alone), those packages' Packages
-- rows and their newest changelog entry (by chlog_hash). Same rows as before.
-- Inside the view every reference to TaskStates reads the inserted block.

DROP VIEW IF EXISTS mv_package_history;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_package_history TO BranchPackageHistory AS
WITH
    done AS (SELECT task_id FROM TaskStates WHERE task_state = 'DONE'),
    plans AS
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
            WHERE task_id IN (SELECT task_id FROM done)
            GROUP BY task_id
        )
        ARRAY JOIN archs AS arch
    ),
    planned AS
    (
        SELECT tplan_hash, tplan_action, tplan_sha256
        FROM TaskPlanPkgHash
        WHERE tplan_hash IN (SELECT tplan_hash FROM plans)
    ),
    hashes AS
    (
        SELECT DISTINCT pkgh_mmh, pkgh_sha256
        FROM PackageHash
        WHERE pkgh_sha256 IN (SELECT tplan_sha256 FROM planned)
    ),
    packages AS
    (
        SELECT
            pkg_hash, pkg_name, pkg_epoch, pkg_version, pkg_release, pkg_arch, pkg_sourcepackage,
            pkg_changelog.date[1] AS chlog_date,
            pkg_changelog.name[1] AS chlog_name,
            pkg_changelog.evr[1]  AS chlog_evr,
            pkg_changelog.hash[1] AS chlog_hash
        FROM Packages
        WHERE pkg_hash IN (SELECT pkgh_mmh FROM hashes)
    )
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
    WHERE task_id IN (SELECT task_id FROM done)
    GROUP BY task_id
) AS TR ON TR.task_id = TS.task_id
INNER JOIN
(
    SELECT TH.task_id AS task_id, TP.tplan_action AS tplan_action, PH.pkgh_mmh AS pkg_hash
    FROM plans AS TH
    INNER JOIN planned AS TP ON TP.tplan_hash = TH.tplan_hash
    INNER JOIN hashes AS PH ON PH.pkgh_sha256 = TP.tplan_sha256
) AS PL ON PL.task_id = TS.task_id
INNER JOIN packages AS PK ON PK.pkg_hash = PL.pkg_hash
LEFT JOIN
(
    SELECT chlog_hash, any(chlog_text) AS chlog_text
    FROM Changelog
    WHERE chlog_hash IN (SELECT chlog_hash FROM packages)
    GROUP BY chlog_hash
) AS CL ON CL.chlog_hash = PK.chlog_hash;
