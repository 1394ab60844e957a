-- ALT's manual CVE checks (CveChecked, ALTRepo §1.7) become evidence of the matcher
-- (issue 13). ALTRepo's table has no time of writing: ts tells an incremental rematch
-- which checks were loaded since the previous run. Rows stored before this migration
-- get the migration's time (MATERIALIZE), so that a default computed at each read
-- does not make them look new at every run.

ALTER TABLE CveChecked
    ADD COLUMN IF NOT EXISTS ts DateTime64(3) DEFAULT now64(3);

ALTER TABLE CveChecked MATERIALIZE COLUMN ts SETTINGS mutations_sync = 2;
