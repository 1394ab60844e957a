-- Vulnerability matching in the store (issue 13): what 0006 lacks.
-- CpeMatch gains the parsed CPE triplet and the sortable version keys of its bounds
-- (security/verkey.py), one pair per version order ('rpm' = librpm, 'alt' = ALT's rpm),
-- so that a branch is matched with plain '<'/'>' on strings. cpm_not_affected marks a
-- vendor statement (CSAF VEX known_not_affected) instead of an affected range. cpe_hash identifies one
-- range (criteria and bounds), so two ranges of one CPE never replace each other.

ALTER TABLE CpeMatch
    ADD COLUMN IF NOT EXISTS cpm_vendor        String DEFAULT '',
    ADD COLUMN IF NOT EXISTS cpm_product       String DEFAULT '',
    ADD COLUMN IF NOT EXISTS cpm_target_sw     String DEFAULT '',
    ADD COLUMN IF NOT EXISTS cpm_key_kind      LowCardinality(String) DEFAULT 'version',
    ADD COLUMN IF NOT EXISTS cpm_start_key     String DEFAULT '',
    ADD COLUMN IF NOT EXISTS cpm_end_key       String DEFAULT '',
    ADD COLUMN IF NOT EXISTS cpm_start_key_alt String DEFAULT '',
    ADD COLUMN IF NOT EXISTS cpm_end_key_alt   String DEFAULT '',
    ADD COLUMN IF NOT EXISTS cpm_unknown       UInt8 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS cpm_not_affected  UInt8 DEFAULT 0;

-- Where a record came from (nvd, cve5, osv:ALSA, ...): a later record of a weaker
-- source never replaces a stronger one.
ALTER TABLE Vulnerabilities
    ADD COLUMN IF NOT EXISTS vuln_source LowCardinality(String) DEFAULT '';

-- Sortable keys of package versions, filled before a branch is matched.
CREATE TABLE IF NOT EXISTS PackageVersionKeys
(
    pkg_hash   UInt64,
    vk_order   LowCardinality(String),
    vk_version String,
    vk_evr     String
)
ENGINE = ReplacingMergeTree
ORDER BY (vk_order, pkg_hash);

-- One verdict per (branch, package, vulnerability) and the rows that justify it.
-- pvv_evidence.kind: range, changelog, patch, triage, vex; ref names the row
-- (CPE and bounds, changelog date and EVR, patch file name, triage author).
CREATE TABLE IF NOT EXISTS PackagesVulnerabilityVerdict
(
    pkgset_name  LowCardinality(String),
    pkg_hash     UInt64,
    pkg_name     String,
    pkg_version  String,
    pkg_release  String,
    vuln_id      String,
    vuln_hash    UInt64,
    pvv_status   Enum8('unknown' = 0, 'vulnerable' = 1, 'fixed' = 2, 'not_affected' = 3),
    pvv_reason   LowCardinality(String),
    pvv_evidence Nested(kind String, ref String, detail String),
    ts           DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (pkgset_name, pkg_name, vuln_id, pkg_hash);

-- The match targets of a branch as of its last full rematch: every source package with its
-- version keys and, when mapped, one row per CPE / OSV package with the parsed triplet
-- (pkg_cpe '' when unmapped). An incremental rematch reuses them (same package set,
-- same mappings), so it reads a few index ranges instead of the whole branch.
CREATE TABLE IF NOT EXISTS VulnMatchTargets
(
    pkgset_name LowCardinality(String),
    vmt_run     DateTime64(3),
    pkg_hash    UInt64,
    pkg_name    String,
    pkg_version String,
    pkg_release String,
    vkey        String,
    ekey        String,
    pkg_cpe     String,
    vendor      String,
    product     String,
    target_sw   String
)
ENGINE = MergeTree
ORDER BY (pkgset_name, vmt_run, vendor, product);

-- Each rematch of a branch: the package set it saw and the newest vulnerability row
-- it took into account, and the VulnMatchTargets generation it used, so that the next
-- run can be incremental.
CREATE TABLE IF NOT EXISTS VulnMatchRuns
(
    pkgset_name  LowCardinality(String),
    vmr_root     UUID,
    vmr_order    LowCardinality(String),
    vmr_kind     LowCardinality(String),
    vmr_vuln_ts  DateTime64(3),
    vmr_targets  DateTime64(3),
    vmr_verdicts UInt64,
    ts           DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (pkgset_name, ts);

-- Errata id allocator (ALTRepo §6.2 ids are registered with an external errata server;
-- repotrack allocates them itself). A writer claims max(number) + 1 for (prefix, year)
-- and reads the claims of that number back: the claim with the smallest (ts, eic_claim)
-- wins, the others claim the next number. ts is the server's clock at insert time with
-- nanoseconds, so a claim that was written before another writer read the claims always
-- sorts first.
CREATE TABLE IF NOT EXISTS ErrataIdClaims
(
    eic_prefix LowCardinality(String),
    eic_year   UInt16,
    eic_number UInt32,
    eic_claim  UUID,
    eic_owner  String,
    ts         DateTime64(9) DEFAULT now64(9)
)
ENGINE = MergeTree
ORDER BY (eic_prefix, eic_year, eic_number);

-- Feeds read over HTTP: the validators of the last copy read (ETag, Last-Modified) and,
-- for the NVD API, when it was last read, so the next load asks only for what changed.
CREATE TABLE IF NOT EXISTS VulnFeedState
(
    vfs_url           String,
    vfs_etag          String,
    vfs_last_modified String,
    vfs_fetched       DateTime64(3),
    ts                DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY vfs_url;

-- CVE ids that the branch's changelog entries and spec patch names mention, as of the
-- targets generation: a full rematch writes them, incremental ones read the changed ids.
CREATE TABLE IF NOT EXISTS VulnMatchMentions
(
    pkgset_name LowCardinality(String),
    vmt_run     DateTime64(3),
    vuln_id     String,
    pkg_hash    UInt64,
    kind        LowCardinality(String),
    ref         String,
    detail      String
)
ENGINE = MergeTree
ORDER BY (pkgset_name, vmt_run, vuln_id);
