-- Vulnerabilities and errata.
-- Legacy tables of the 2022 schema (reference/altrepo.md §1.7), names and types as there;
-- then the tables the 2026 ALTRepo API reads (§6.1). The 2022 schema does not define the
-- latter; their column names are the API's, their types are inferred from its use:
-- hashes UInt64, dates DateTime, flags UInt8/Bool, *_json String, ts DateTime64.

CREATE TABLE IF NOT EXISTS Cve
(
    pkg_hash                    UInt64,
    cve_id                      String,
    cve_description             String,
    cve_url                     String,
    cve_score                   Float64,
    cve_attacktype              String,
    cve_status                  Enum8('check' = 0, 'patched' = 1,
                                      'discarded_by_version_check' = 2, 'manually_excluded' = 3),
    cve_uris                    Array(String),
    cve_modifieddate            DateTime,
    cve_parsingdate             DateTime,
    cve_cpe                     String,
    cve_version_start_excluding Nullable(String),
    cve_version_start_including Nullable(String),
    cve_version_end_excluding   Nullable(String),
    cve_version_end_including   Nullable(String),
    cc_id                       Nullable(UInt64)
)
ENGINE = MergeTree
ORDER BY (pkg_hash, cve_id, cve_modifieddate, cve_parsingdate);

CREATE VIEW IF NOT EXISTS last_cve AS
SELECT LP.pkgset_name AS pkgset_name, LP.pkg_name AS pkg_name, LP.pkg_version AS pkg_version,
    LP.pkg_release AS pkg_release, C.*
FROM Cve AS C
INNER JOIN
(
    SELECT pkg_hash, pkgset_name, pkg_name, pkg_version, pkg_release FROM last_packages
) AS LP ON LP.pkg_hash = C.pkg_hash;

CREATE TABLE IF NOT EXISTS CveAbsentPackages
(
    cap_product_name String,
    cve_id           String,
    cve_description  String,
    cve_url          String,
    cve_score        Float64,
    cve_attacktype   String,
    cve_uris         Array(String),
    cve_modifieddate DateTime,
    cve_parsingdate  DateTime
)
ENGINE = MergeTree
ORDER BY (cap_product_name, cve_id, cve_modifieddate);

CREATE TABLE IF NOT EXISTS CveChecked
(
    cve_id            String,
    pkg_name          String,
    cc_id             UInt64 MATERIALIZED
        murmurHash3_64(cve_id, pkg_name, cc_checked_ver.pkg_evr, cc_checked_ver.pkg_branch),
    cc_status         Enum8('patched' = 0, 'manually_excluded' = 1),
    cc_checkdate      DateTime,
    cc_description    String,
    cc_description_ru String,
    cc_checked_ver    Nested(pkg_evr String, pkg_branch String)
)
ENGINE = MergeTree
PRIMARY KEY (cve_id, pkg_name)
ORDER BY (cve_id, pkg_name, cc_checkdate);

CREATE TABLE IF NOT EXISTS FstecBduList
(
    bdu_identifier          String,
    bdu_name                String,
    bdu_description         String,
    bdu_identify_date       Date,
    bdu_severity            String,
    bdu_solution            String,
    bdu_vul_status          String,
    bdu_exploit_status      String,
    bdu_fix_status          String,
    bdu_sources             String,
    bdu_other               String,
    bdu_vulnerable_software Nested(vendor String, type Array(String), name String, version String),
    bdu_environment         Nested(vendor String, version String, name String, platform String),
    bdu_cwe                 Nested(identifier String),
    bdu_cvss                Nested(vector String, score Float32),
    bdu_identifiers         Nested(identifier String, type String, link String)
)
ENGINE = MergeTree
ORDER BY bdu_identifier;

CREATE TABLE IF NOT EXISTS Vulnerabilities
(
    vuln_id             String,
    vuln_hash           UInt64,
    vuln_type           LowCardinality(String),
    vuln_summary        String,
    vuln_score          Float32,
    vuln_severity       LowCardinality(String),
    vuln_url            String,
    vuln_modified_date  DateTime,
    vuln_published_date DateTime,
    vuln_json           String,
    vuln_references     Nested(type String, link String),
    vuln_rejected       UInt8,
    ts                  DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (vuln_id, vuln_hash);

CREATE TABLE IF NOT EXISTS CpeMatch
(
    vuln_id                    String,
    vuln_hash                  UInt64,
    cpe_hash                   UInt64,
    cpm_cpe                    String,
    cpm_version_start          String,
    cpm_version_end            String,
    cpm_version_start_excluded Bool,
    cpm_version_end_excluded   Bool,
    ts                         DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (vuln_id, vuln_hash, cpe_hash);

CREATE TABLE IF NOT EXISTS PackagesNameConversion
(
    pkg_name   String,
    pnc_result String,
    pnc_type   LowCardinality(String),
    pnc_state  LowCardinality(String),
    pnc_source LowCardinality(String),
    ts         DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (pkg_name, pnc_type, pnc_result, pnc_source);

CREATE TABLE IF NOT EXISTS PncChangeHistory
(
    pncc_user   String,
    pncc_reason String,
    pkg_name    String,
    pnc_result  String,
    pnc_type    LowCardinality(String),
    pnc_state   LowCardinality(String),
    pnc_source  LowCardinality(String),
    ts          DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (pkg_name, pnc_type, ts);

CREATE TABLE IF NOT EXISTS PackagesCveMatch
(
    key_hash         UInt64,
    pkg_hash         UInt64,
    pkg_name         String,
    pkg_cpe          String,
    pkg_cpe_hash     UInt64,
    vuln_id          String,
    vuln_hash        UInt64,
    cpm_cpe          String,
    cpm_cpe_hash     UInt64,
    cpm_version_hash UInt64,
    is_vulnerable    UInt8,
    ts               DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (key_hash, pkg_hash, vuln_id);

CREATE TABLE IF NOT EXISTS PackagesVulnerabilityStatus
(
    pkg_hash      UInt64,
    pkg_name      String,
    pkgset_name   LowCardinality(String),
    vuln_id       String,
    vuln_hash     UInt64,
    is_vulnerable UInt8,
    is_fixed      UInt8,
    ts            DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (pkgset_name, pkg_name, pkg_hash, vuln_id);

CREATE TABLE IF NOT EXISTS ErrataHistory
(
    errata_id           String,
    errata_id_noversion String MATERIALIZED arrayStringConcat(arrayPopBack(splitByChar('-', errata_id)), '-'),
    errata_id_version   UInt32 MATERIALIZED toUInt32OrZero(splitByChar('-', errata_id)[-1]),
    eh_hash             UInt64,
    eh_type             LowCardinality(String),
    eh_source           LowCardinality(String),
    eh_created          DateTime,
    eh_updated          DateTime,
    eh_references       Nested(type String, link String),
    eh_json             String,
    pkg_hash            UInt64,
    pkg_name            String,
    pkg_version         String,
    pkg_release         String,
    pkgset_name         LowCardinality(String),
    task_id             UInt32,
    subtask_id          UInt32,
    task_state          LowCardinality(String),
    ts                  DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (errata_id, eh_hash);

CREATE TABLE IF NOT EXISTS ErrataChangeHistory
(
    ec_id          String,
    ec_created     DateTime,
    ec_updated     DateTime,
    ec_user        String,
    ec_user_ip     String,
    ec_reason      String,
    ec_type        LowCardinality(String),
    ec_source      LowCardinality(String),
    ec_origin      LowCardinality(String),
    errata_id      String,
    transaction_id UUID,
    ts             DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (ec_id, errata_id, ts);

-- Errata whose latest change record discards them.
CREATE VIEW IF NOT EXISTS last_discarded_erratas AS
SELECT errata_id
FROM
(
    SELECT errata_id, argMax(ec_type, ts) AS last_type
    FROM ErrataChangeHistory
    GROUP BY errata_id
)
WHERE last_type = 'discard';

CREATE TABLE IF NOT EXISTS VulnerabilityStatus
(
    vuln_id        String,
    vs_status      LowCardinality(String),
    vs_resolution  LowCardinality(String),
    vs_reason      String,
    vs_author      String,
    vs_json        String,
    vs_subscribers Array(String),
    vs_updated     DateTime,
    ts             DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (vuln_id, ts);
