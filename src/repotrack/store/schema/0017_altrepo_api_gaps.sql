-- Gaps found by running every SQL query of the ALTRepo API (liannnix/altrepoapi at
-- e18bcd4d) against a migrated store; see docs/altrepo-schema.md.
--
-- PncChangeHistory: the API's /management user activity (management/sql.py,
-- get_user_last_activities) keeps the manual changes made at the parent level with
-- `pncc_source = 'manual' AND pncc_origin = 'parent'`, as it does for
-- ErrataChangeHistory's ec_source and ec_origin. Both columns take ec_*'s type; rows
-- written before read as '' (neither manual nor parent), as nothing here records them.

ALTER TABLE PncChangeHistory ADD COLUMN IF NOT EXISTS pncc_source LowCardinality(String) DEFAULT '' AFTER pncc_reason;

ALTER TABLE PncChangeHistory ADD COLUMN IF NOT EXISTS pncc_origin LowCardinality(String) DEFAULT '' AFTER pncc_source;
