-- The revisions of exported CSAF VEX documents (CSAF 2.0 §3.2.1.12, document tracking).
-- A consumer takes a tracking id and version for one document, so an export whose
-- content changed must carry the next version and list the earlier revisions. One row
-- per claimed revision: the document's id, its version, the SHA-256 of its content
-- (everything but the tracking object), the revision's date and summary. Two writers
-- that claim one version with different content are told apart by `ts`: the earliest
-- claim holds the version and the other writer claims the next one.

CREATE TABLE IF NOT EXISTS CsafRevisions
(
    csaf_id      String,
    csaf_version UInt32,
    csaf_digest  String,
    csaf_date    DateTime64(3, 'UTC'),
    csaf_summary String,
    ts           DateTime64(9) DEFAULT now64(9)
)
ENGINE = MergeTree
ORDER BY (csaf_id, csaf_version, ts);
