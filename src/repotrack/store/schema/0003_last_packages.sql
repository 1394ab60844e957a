-- "Latest snapshot" machinery and the read views over package sets (reference/altrepo.md §1.4).
-- StaticLastPackages is filled when a repository's ROOT PackageSetName row is inserted,
-- so loaders write that row last, after every PackageSet/Packages row of the set.

CREATE TABLE IF NOT EXISTS last_packages_stage1
(
    ts           DateTime64 MATERIALIZED now64(),
    pkgset_ruuid UUID,
    pkgset_name  String,
    pkgset_date  DateTime
)
ENGINE = MergeTree
ORDER BY pkgset_ruuid;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_last_packages_stage1 TO last_packages_stage1 AS
SELECT pkgset_ruuid, pkgset_nodename AS pkgset_name, pkgset_date
FROM PackageSetName
WHERE pkgset_depth = 0 AND pkgset_kv.v[indexOf(pkgset_kv.k, 'class')] = 'repository';

CREATE TABLE IF NOT EXISTS StaticLastPackages
(
    pkgset_name       String,
    pkgset_date       DateTime,
    pkg_hash          UInt64,
    pkg_name          String,
    pkg_version       String,
    pkg_release       String,
    pkg_sourcepackage UInt8
)
ENGINE = MergeTree
PRIMARY KEY (pkgset_name, pkg_name)
ORDER BY (pkgset_name, pkg_name, pkg_sourcepackage);

-- Every reference to last_packages_stage1 inside this view reads the inserted root
-- only, so the package lookup is limited to that snapshot's nodes.
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_last_packages_stage2 TO StaticLastPackages AS
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
    FROM PackageSet_buffer AS S
    INNER JOIN
    (
        SELECT pkgset_uuid, pkgset_ruuid
        FROM PackageSetName
        WHERE pkgset_ruuid IN (SELECT pkgset_ruuid FROM last_packages_stage1)
    ) AS N ON N.pkgset_uuid = S.pkgset_uuid
    INNER JOIN
    (
        SELECT pkg_hash, pkg_name, pkg_version, pkg_release, pkg_sourcepackage
        FROM Packages_buffer
    ) AS PK ON PK.pkg_hash = S.pkg_hash
) AS P ON P.pkgset_ruuid = R.pkgset_ruuid;

CREATE VIEW IF NOT EXISTS static_last_packages AS
SELECT *
FROM StaticLastPackages
WHERE (pkgset_name, pkgset_date) IN
(
    SELECT pkgset_name, max(pkgset_date) FROM StaticLastPackages GROUP BY pkgset_name
);

CREATE VIEW IF NOT EXISTS last_packages AS
SELECT
    SLP.pkgset_name AS pkgset_name,
    SLP.pkgset_date AS pkgset_date,
    lower(hex(P.pkg_cs)) AS pkg_cs,
    P.* EXCEPT (pkg_cs)
FROM Packages_buffer AS P
INNER JOIN
(
    SELECT DISTINCT pkg_hash, pkgset_name, pkgset_date FROM static_last_packages
) AS SLP ON SLP.pkg_hash = P.pkg_hash;

CREATE VIEW IF NOT EXISTS last_packages_with_source AS
SELECT
    LP.*,
    SRC.pkg_name AS sourcepkgname
FROM last_packages AS LP
LEFT JOIN
(
    SELECT DISTINCT pkg_hash, pkg_name FROM Packages_buffer WHERE pkg_sourcepackage = 1
) AS SRC ON SRC.pkg_hash = LP.pkg_srcrpm_hash;

CREATE VIEW IF NOT EXISTS last_depends AS
SELECT
    D.*,
    LP.pkgset_name AS pkgset_name,
    LP.pkg_name AS pkg_name,
    LP.pkg_arch AS pkg_arch,
    LP.pkg_version AS pkg_version,
    LP.pkg_release AS pkg_release,
    LP.pkg_sourcepackage AS pkg_sourcepackage
FROM Depends_buffer AS D
INNER JOIN
(
    SELECT pkg_hash, pkgset_name, pkg_name, pkg_arch, pkg_version, pkg_release, pkg_sourcepackage
    FROM last_packages
) AS LP ON LP.pkg_hash = D.pkg_hash;

-- Every package of every package set, with the set's root name, date and class and the
-- name of the node's parent (the component's arch, for instance).
CREATE VIEW IF NOT EXISTS all_pkgset AS
SELECT
    N.pkgset_uuid AS pkgset_uuid,
    N.pkgset_ruuid AS pkgset_ruuid,
    N.pkgset_nodename AS pkgset_nodename,
    N.pkgset_depth AS pkgset_depth,
    R.pkgset_nodename AS pkgset_name,
    R.pkgset_date AS pkgset_date,
    R.pkgset_class AS pkgset_class,
    PN.pkgset_nodename AS pkgset_pname,
    S.pkg_hash AS pkg_hash
FROM PackageSet_buffer AS S
INNER JOIN PackageSetName AS N ON N.pkgset_uuid = S.pkgset_uuid
INNER JOIN
(
    SELECT pkgset_uuid, pkgset_nodename, pkgset_date,
        pkgset_kv.v[indexOf(pkgset_kv.k, 'class')] AS pkgset_class
    FROM PackageSetName
    WHERE pkgset_depth = 0
) AS R ON R.pkgset_uuid = N.pkgset_ruuid
LEFT JOIN
(
    SELECT pkgset_uuid, pkgset_nodename FROM PackageSetName
) AS PN ON PN.pkgset_uuid = N.pkgset_puuid;

CREATE VIEW IF NOT EXISTS last_pkgset AS
SELECT *
FROM all_pkgset
WHERE pkgset_ruuid IN
(
    SELECT argMax(pkgset_ruuid, pkgset_date)
    FROM PackageSetName
    WHERE pkgset_depth = 0
    GROUP BY pkgset_nodename
);

CREATE VIEW IF NOT EXISTS all_packages AS
SELECT APS.pkgset_name AS pkgset_name, APS.pkgset_date AS pkgset_date, P.*
FROM Packages_buffer AS P
INNER JOIN
(
    SELECT DISTINCT pkg_hash, pkgset_name, pkgset_date FROM all_pkgset
) AS APS ON APS.pkg_hash = P.pkg_hash;

CREATE VIEW IF NOT EXISTS all_pkgnames AS
SELECT DISTINCT pkgset_name, pkg_name, pkg_sourcepackage
FROM all_packages;

CREATE VIEW IF NOT EXISTS last_pkgnames AS
SELECT DISTINCT pkgset_name, pkg_name, pkg_sourcepackage
FROM static_last_packages;

-- ALTRepo made this a LIVE VIEW (experimental, deprecated in current ClickHouse and not
-- usable on chDB). A plain view with the same name and columns answers the same query.
CREATE VIEW IF NOT EXISTS lv_pkgset_stat AS
SELECT
    LP.pkgset_name AS pkgset_name,
    LP.pkgset_date AS pkgset_date,
    if(LP.pkg_sourcepackage = 1, 'srpm', LP.pkg_arch) AS arch,
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
