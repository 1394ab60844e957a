-- Each build's last verdict while it was in its branch (issue 13), for "where is a CVE
-- fixed across branches, first in which build". That was read from every row of
-- PackagesVulnerabilityVerdict judged fixed; but a build that leaves the set gets an
-- 'unmatched' verdict under the same key, and a merge of the table's parts keeps only
-- that one, so a removed package lost its first fix when the engine happened to merge,
-- and a fix taken back (triage) counted until it did. Here 'unmatched' verdicts never
-- come, and the readers take each build's latest row (argMax by ts), merged or not.

CREATE TABLE IF NOT EXISTS VulnBuildVerdicts
(
    pkgset_name LowCardinality(String),
    vuln_id     String,
    pkg_name    String,
    pkg_hash    UInt64,
    pkg_version String,
    pkg_release String,
    pvv_status  Enum8('unknown' = 0, 'vulnerable' = 1, 'fixed' = 2, 'not_affected' = 3),
    pvv_since   DateTime64(3),
    ts          DateTime64(3)
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (vuln_id, pkgset_name, pkg_name, pkg_hash);

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_vuln_build_verdicts TO VulnBuildVerdicts AS
SELECT pkgset_name, vuln_id, pkg_name, pkg_hash, pkg_version, pkg_release, pvv_status,
    pvv_since, ts
FROM PackagesVulnerabilityVerdict
WHERE pvv_reason != 'unmatched';

-- The verdicts written before (what merges have not replaced yet); run again after a
-- crash, it writes the same rows again, which the engine and the readers take as one.
INSERT INTO VulnBuildVerdicts
SELECT pkgset_name, vuln_id, pkg_name, pkg_hash, pkg_version, pkg_release, pvv_status,
    pvv_since, ts
FROM PackagesVulnerabilityVerdict
WHERE pvv_reason != 'unmatched';
