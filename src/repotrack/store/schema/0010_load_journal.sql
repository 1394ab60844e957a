-- The load journal (repotrack's own, not ALTRepo's): what a running load is writing.
-- A loader records a batch's packages here before it writes their rows, and every
-- package-set node of a snapshot before its PackageSet rows; it deletes its entries
-- once the snapshot is published. Entries left by a killed load point the next load
-- (and `repotrack db gc`) at the partial rows to remove.

CREATE TABLE IF NOT EXISTS repotrack_load_journal
(
    load_id  UUID,
    started  DateTime,
    pkg_hash UInt64
)
ENGINE = MergeTree
ORDER BY (pkg_hash, load_id);

CREATE TABLE IF NOT EXISTS repotrack_pending_sets
(
    load_id UUID,
    started DateTime,
    root    UUID,
    node    UUID
)
ENGINE = MergeTree
ORDER BY (root, node);
