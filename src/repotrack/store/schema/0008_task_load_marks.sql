-- repotrack's own addition to the task tables (ALTRepo has no equivalent): one row per
-- task directory state loaded, so that loading an unchanged directory again is skipped
-- without reading it. The fingerprint covers every entry's path, type, size and mtime
-- (and the load options that change what is stored); the row is written after the
-- task's TaskStates row, so it never marks a task that was not completely stored.
CREATE TABLE IF NOT EXISTS TaskLoadMarks
(
    task_id         UInt32,
    tlm_fingerprint UInt64,
    ts              DateTime MATERIALIZED now()
)
ENGINE = ReplacingMergeTree
ORDER BY (task_id, tlm_fingerprint);
