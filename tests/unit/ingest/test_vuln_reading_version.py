"""A record stored by an older reading of its source is read again after an upgrade.

A load skips a record whose ``vuln_hash`` is stored already, and the hash was the
record's text alone: after an upgrade that reads the same text differently (2026-12-07:
Red Hat's "Unaffected components" OVAL definitions, read before as affected in every
version), loading the same file again wrote nothing, and the record kept the ranges of
the old reading until its source published a new version of it. The reading is now part
of the hash (``ingest.vulns.READINGS``), so the same file, loaded after the reading
changed, writes the record anew and its old ranges are no longer the record's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

import repotrack.ingest.vulns as ingest_vulns
from repotrack.ingest.vulns import load_vulns
from repotrack.sources.vulns import PARSERS, RecordProblem, VulnRecord
from repotrack.sources.vulns.oval import parse_oval
from repotrack.store import Store
from tests.conftest import DATA

UNAFFECTED = DATA / "oval-reference" / "rhel-9-unaffected-CVE-2002-0059.xml"

_CURRENT_RANGES = """
SELECT cpm_cpe, cpm_version_start, cpm_version_end FROM CpeMatch
WHERE (vuln_id, vuln_hash) IN
    (SELECT vuln_id, argMax(vuln_hash, ts) FROM Vulnerabilities GROUP BY vuln_id)
ORDER BY cpm_cpe
"""


def _old_reading(data: bytes, *, path: str) -> Iterator[VulnRecord | RecordProblem]:
    """The same records, read as an older version read them: with other ranges."""
    for record in parse_oval(data, path=path):
        if isinstance(record, VulnRecord):
            record = dataclasses.replace(record, ranges=record.ranges[:0])
        yield record


def test_the_same_file_after_a_reading_change_is_read_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = sorted(
        (r.criteria, r.start, r.end)
        for rec in parse_oval(UNAFFECTED.read_bytes(), path=str(UNAFFECTED))
        if isinstance(rec, VulnRecord)
        for r in rec.ranges
    )
    assert expected, "the fixture's definition gives ranges"

    with monkeypatch.context() as old:
        old.setitem(PARSERS, "oval", _old_reading)
        readings = getattr(ingest_vulns, "READINGS", {})
        older = {**readings, "oval": readings.get("oval", 1) - 1}
        old.setattr(ingest_vulns, "READINGS", older, raising=False)
        assert load_vulns(store, source="oval", paths=[UNAFFECTED]).written == 1
    assert store.query(_CURRENT_RANGES) == []

    again = load_vulns(store, source="oval", paths=[Path(UNAFFECTED)])

    assert again.written == 1
    assert len(store.query(_CURRENT_RANGES)) == len(expected)
    assert load_vulns(store, source="oval", paths=[UNAFFECTED]).written == 0  # a re-run
