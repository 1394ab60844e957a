"""OSV records of RPM ecosystems read as osv.dev, the OSV ecosystem's own reference, reads them.

On 2026-12-07 the answers of ``parse_osv`` plus the matcher's comparison were checked
against osv.dev (google/osv.dev 7e6c189, run outside this venv): its Python event reading
(``osv.impact.enumerate_versions`` over its RPM helper's sort key) and its API matcher's
walk over the stored, sorted events (go/internal/database/datastore, transcribed), for 72
records (56 of AlmaLinux/osv-database, 16 written from the schema for Rocky Linux, Red Hat,
SUSE, openSUSE and openEuler streams) and 4 219 candidate versions (each event version and
its neighbours: releases and versions one up and down, ``~``/``^`` suffixes, other epochs,
module and plain builds). The answers differed only where docs/vulnerabilities.md says
they do (a bound without an epoch takes the package's; module builds and plain builds are
separate streams), where osv.dev's two readers differ from each other (several ``limit``
events), for a ``last_affected`` without a release (compared on the version alone) — and
for listed ``versions`` beside ranges, which ``parse_osv`` dropped: fixed, tested here.

Each case keeps the structure of a real record (the file is named) and the answers
osv.dev gave; the comparison is the one ``matching._PAIRS`` makes on the keys
``ingest.vulns`` stores (a bound without an epoch compared with the package's version and
release alone, module bounds with module builds only).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from repotrack.ingest.vulns import cpe_match_row
from repotrack.rpm import evr_key, parse_evr, version_key
from repotrack.sources.vulns import AffectedRange, VulnRecord
from repotrack.sources.vulns.osv import parse_osv


def _ranges(affected: list[dict[str, Any]]) -> tuple[AffectedRange, ...]:
    record = {"id": "REF-1", "modified": "2026-01-01T00:00:00Z", "affected": affected}
    (parsed,) = parse_osv(json.dumps(record).encode(), path="ref.json")
    assert isinstance(parsed, VulnRecord)
    return parsed.ranges


def _matched(found: AffectedRange, evr: str) -> bool:
    """Whether a package of ``evr`` is in ``found``, as ``matching._PAIRS`` decides on
    the row ``ingest.vulns`` writes for it."""
    row = cpe_match_row("REF-1", 1, found)
    start, end, kind, start_key, end_key = row[4], row[5], row[11], row[12], row[13]
    epoch, version, release = parse_evr(evr)
    module_bound = ".module" in start or ".module" in end
    if kind == "evr" and module_bound != (".module" in (release or "")):
        return False
    if kind != "evr":
        key = version_key(version)
    elif ":" not in start and ":" not in end:
        key = evr_key(None, version, release)
    else:
        key = evr_key(epoch, version, release)
    if start_key and key < start_key:
        return False
    return not end_key or (key < end_key if found.end_excluded else key <= end_key)


def _affected(ranges: tuple[AffectedRange, ...], evr: str) -> bool:
    return any(_matched(found, evr) for found in ranges)


# The shape of AlmaLinux/osv-database advisories/almalinux10/ALSA-2025:10073.json (one
# ECOSYSTEM range, introduced 0 and a fixed EVR without epoch), in openEuler's stream and
# versions, plus a listed version as the schema allows beside ranges (docs/schema.md,
# "Evaluation": ``IncludedInVersions(v, affected.versions) || IncludedInRanges(...)``).
LISTED_BESIDE_A_RANGE = [
    {
        "package": {"ecosystem": "openEuler:22.03-LTS-SP1", "name": "zlib"},
        "ranges": [
            {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.11-25.oe2203sp1"}]}
        ],
        "versions": ["1.2.11-26.oe2203sp1"],
    }
]


@pytest.mark.parametrize(
    ("evr", "osv_dev"),
    [
        ("1.2.11-26.oe2203sp1", True),  # listed: affected, whatever the range says
        ("0:1.2.11-26.oe2203sp1", True),
        ("1.2.11-24.oe2203sp1", True),  # below the fix
        ("1.2.11-25.oe2203sp1", False),  # the fix
        ("1.2.11-27.oe2203sp1", False),  # neither
        ("1.2.11-26.oe2203sp1.1", False),
    ],
)
def test_listed_versions_count_beside_ranges(evr: str, osv_dev: bool) -> None:
    """Before 2026-12-07 ``versions`` were read only when an entry had no ECOSYSTEM or
    SEMVER range, so a listed version outside the ranges (osv.dev lists versions in the
    ecosystem's order: PyPI's ``2.0.0rc1`` sorts before ``fixed: 2.0.0`` there, after it
    in rpm's) was judged not affected; osv.dev and the schema call it affected."""
    assert _affected(_ranges(LISTED_BESIDE_A_RANGE), evr) is osv_dev


def test_a_listed_version_a_range_holds_adds_no_range() -> None:
    """Records that list every version of their ranges (osv.dev's exports do) store no
    more rows than their ranges give; a version the same comparison would not decide
    the same way (another epoch convention, a module build) keeps its own range."""
    entry = {
        "package": {"ecosystem": "AlmaLinux:8", "name": "zlib"},
        "ranges": [
            {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.11-25.el8"}]}
        ],
        "versions": ["1.2.11-24.el8", "1.2.11-10.el8", "1:1.2.11-24.el8", "1.2.11-24.module_el8"],
    }
    ranges = _ranges([entry])
    assert [(r.start, r.end) for r in ranges] == [
        ("", "1.2.11-25.el8"),
        ("1:1.2.11-24.el8", "1:1.2.11-24.el8"),
        ("1.2.11-24.module_el8", "1.2.11-24.module_el8"),
    ]
    everything = dict(entry, ranges=[{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}])
    assert len(_ranges([everything])) == 1


# AlmaLinux/osv-database advisories/almalinux8/ALSA-2021:2587.json: one package fixed in
# three module builds, one ``affected`` entry each.
MODULE_BUILDS = [
    {
        "package": {"ecosystem": "AlmaLinux:8", "name": "rubygem-abrt"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
    }
    for fixed in (
        "0.3.0-4.module_el8.5.0+2625+ec418553",
        "0.3.0-4.module_el8.5.0+259+8cec6917",
        "0.3.0-4.module_el8.5.0+2623+08a8ba32",
    )
]
# AlmaLinux/osv-database advisories/almalinux10/ALSA-2025:16441.json: a ``~`` in the fix.
TILDE = [
    {
        "package": {"ecosystem": "AlmaLinux:10", "name": "avahi"},
        "ranges": [
            {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0.9~rc2-1.el10_0.1"}]}
        ],
    }
]


@pytest.mark.parametrize(
    ("affected", "evr", "osv_dev"),
    [
        (MODULE_BUILDS, "0.3.0-4.module_el8.5.0+2625+ec418552", True),
        (MODULE_BUILDS, "0.3.0-4.module_el8.5.0+2625+ec418553", False),
        (MODULE_BUILDS, "0.3.0-4.module_el8.5.0+2625+ec418553~1", True),
        (MODULE_BUILDS, "0.3.0-4.module_el8.5.0+2623+08a8ba32^1", True),  # below +2625
        (MODULE_BUILDS, "0.3.0~rc1-4.module_el8.5.0+2625+ec418553", True),
        (MODULE_BUILDS, "0.3.0^1-4.module_el8.5.0+259+8cec6917", False),
        (MODULE_BUILDS, "0:0.3.0-4.module_el8.5.0+2625+ec418553", False),
        (TILDE, "0.9~rc2~rc1-1.el10_0.1", True),
        (TILDE, "0.9~rc2-1.el10_0.1~1", True),
        (TILDE, "0.9~rc2-1.el10_0.1", False),
        (TILDE, "0.9~rc2^1-1.el10_0.1", False),
        (TILDE, "0.9~rc3-1.el10_0.1", False),
        (TILDE, "1-1", False),
    ],
)
def test_real_records_answer_as_osv_dev(
    affected: list[dict[str, Any]], evr: str, osv_dev: bool
) -> None:
    assert _affected(_ranges(affected), evr) is osv_dev
