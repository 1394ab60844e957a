-- The verdicts of a branch by vulnerability (issue 13): an incremental rematch reads the
-- previous verdicts of the changed vulnerabilities (a pair it no longer finds becomes
-- 'unmatched'). PackagesVulnerabilityVerdict is sorted by package name, so that read had
-- to scan every verdict of the branch; this copy, sorted by vulnerability, lets it read the
-- index ranges of the changed ones only. A materialized view keeps it (the verdict
-- evidence is left out: the rematch does not read it back).

CREATE TABLE IF NOT EXISTS VulnVerdictsByVuln
(
    pkgset_name LowCardinality(String),
    vuln_id     String,
    pkg_name    String,
    pkg_hash    UInt64,
    pkg_version String,
    pkg_release String,
    vuln_hash   UInt64,
    pvv_reason  LowCardinality(String),
    ts          DateTime64(3)
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (pkgset_name, vuln_id, pkg_name, pkg_hash);

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_vuln_verdicts_by_vuln TO VulnVerdictsByVuln AS
SELECT pkgset_name, vuln_id, pkg_name, pkg_hash, pkg_version, pkg_release, vuln_hash,
    pvv_reason, ts
FROM PackagesVulnerabilityVerdict;

-- The verdicts written before this migration (run again after a crash, it writes the same
-- rows again, which the engine and the readers' argMax take as one).
INSERT INTO VulnVerdictsByVuln
SELECT pkgset_name, vuln_id, pkg_name, pkg_hash, pkg_version, pkg_release, vuln_hash,
    pvv_reason, ts
FROM PackagesVulnerabilityVerdict
WHERE (pkgset_name, vuln_id, pkg_name, pkg_hash, ts) NOT IN
    (SELECT pkgset_name, vuln_id, pkg_name, pkg_hash, ts FROM VulnVerdictsByVuln);

-- A mention carries its package's name and version (from the targets generation), so an
-- incremental rematch makes a verdict from the evidence rows alone, without reading every
-- source package of the branch. Rows written before have none: a run records that its
-- targets generation has them (vmr_format 1), and a rematch builds incrementally only on
-- such a run (the first rematch after this migration is a full one).
ALTER TABLE VulnMatchMentions
    ADD COLUMN IF NOT EXISTS pkg_name    String DEFAULT '',
    ADD COLUMN IF NOT EXISTS pkg_version String DEFAULT '',
    ADD COLUMN IF NOT EXISTS pkg_release String DEFAULT '';

ALTER TABLE VulnMatchRuns
    ADD COLUMN IF NOT EXISTS vmr_format UInt8 DEFAULT 0;
