-- The NVD CPE match feed (issue 13): each match criteria of a CVE expanded to the concrete
-- dictionary CPE names it covers (reference/vuln-formats.md §3, "Match Criteria API").
-- mcs_id is NVD's matchCriteriaId (legacy 1.0 feeds have none: 'legacy:<hash>');
-- mcs_hash is the hash of the source entry, so a re-read entry adds nothing and a changed
-- one adds a row that replaces it (the current row is argMax(mcs_hash, ts) per mcs_id).
CREATE TABLE IF NOT EXISTS CpeMatchStrings
(
    mcs_id                     String,
    mcs_hash                   UInt64,
    mcs_criteria               String,
    mcs_vendor                 String,
    mcs_product                String,
    mcs_target_sw              String,
    mcs_version_start          String,
    mcs_version_end            String,
    mcs_version_start_excluded Bool,
    mcs_version_end_excluded   Bool,
    mcs_active                 UInt8,
    mcs_created                DateTime,
    mcs_modified               DateTime,
    mcs_cpe_names              Array(String),
    mcs_json                   String,
    ts                         DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (mcs_id, mcs_hash);

-- A CpeMatch row of an NVD record names its matchCriteriaId, the key into CpeMatchStrings.
ALTER TABLE CpeMatch
    ADD COLUMN IF NOT EXISTS cpm_match_criteria_id String DEFAULT '';
