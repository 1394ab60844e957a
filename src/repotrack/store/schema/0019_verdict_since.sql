-- Since when a verdict has held (issue 13). A rematch writes every pair it covers again,
-- a full one every pair of the branch, so a verdict's write time (`ts`) says when it was
-- last computed, not when it last changed; the exports took it for the latter, and every
-- OSV record's `modified` moved at each full rematch although nothing had changed.
-- pvv_digest: what a verdict says (the build, status, reason and evidence rows in any
-- order), the same expression as security.verdict.verdict_digest_sql(); pvv_since: when a verdict with
-- that digest was first written for the pair, carried over by every rematch that finds
-- the same again (rows written before this migration: their write time).
ALTER TABLE PackagesVulnerabilityVerdict
    ADD COLUMN IF NOT EXISTS pvv_digest UInt64 DEFAULT cityHash64(pkg_hash,
        toString(pvv_status), toString(pvv_reason),
        arraySort(arrayZip(`pvv_evidence.kind`, `pvv_evidence.ref`, `pvv_evidence.detail`))),
    ADD COLUMN IF NOT EXISTS pvv_since DateTime64(3) DEFAULT ts;

-- The copy sorted by vulnerability (0012) carries both, for the rematch that reads the
-- previous verdicts of its vulnerabilities. Its rows written before have no digest (0):
-- the first rematch of each pair after this migration dates its verdict anew.
ALTER TABLE VulnVerdictsByVuln
    ADD COLUMN IF NOT EXISTS pvv_digest UInt64 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS pvv_since DateTime64(3) DEFAULT ts;

DROP VIEW IF EXISTS mv_vuln_verdicts_by_vuln;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_vuln_verdicts_by_vuln TO VulnVerdictsByVuln AS
SELECT pkgset_name, vuln_id, pkg_name, pkg_hash, pkg_version, pkg_release, vuln_hash,
    pvv_reason, ts, pvv_digest, pvv_since
FROM PackagesVulnerabilityVerdict;
