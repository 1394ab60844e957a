"""Red Hat's CSAF VEX and its Security Data API say the same things about a CVE; read
by repotrack, both forms must give the same ranges (and so the same verdicts).

Excerpts of the real CVE-2024-6923 documents (``tests/data/redhat-reference``, see
PROVENANCE.md there) hold the two RHEL 8 entries on which the readers disagreed when
every RHEL stream of that CVE was judged at, below and above its fixed builds:

- python2 of the ``gimp:flatpak`` build (API ``gimp:flatpak/python2`` Will not fix, VEX
  ``pkg:rpm/redhat/python2?rpmmod=gimp:flatpak`` known_affected). The RPM lives inside
  the GIMP Flatpak, not on a RHEL 8 system: the API reader passed it over, the CSAF
  reader made every build of RHEL 8's own python2 vulnerable.
- python36 of the ``python36:3.6`` module (API ``python36:3.6/python36`` Not affected,
  VEX ``rpmmod=python36:3.6`` known_not_affected). That is an RPM of RHEL 8: the CSAF
  reader gave the statement, the API reader passed it over as if it were a container.
"""

from __future__ import annotations

from pathlib import Path

from repotrack.sources.vulns import PARSERS, VulnRecord

DATA = Path(__file__).parents[2] / "data" / "redhat-reference"
RHEL8 = "cpe:/o:redhat:enterprise_linux:8"


def _ranges(source: str, name: str) -> set[tuple[str, str, bool]]:
    path = DATA / name
    (record,) = PARSERS[source](path.read_bytes(), path=str(path))
    assert isinstance(record, VulnRecord)
    return {(r.criteria, r.end, r.not_affected) for r in record.ranges}


def test_flatpak_rpms_are_not_the_streams_rpms() -> None:
    """A VEX component with ``rpmmod=<app>:flatpak`` gives no range, as the API's
    ``<app>:flatpak/<rpm>`` gives none."""
    for source, name in (
        ("csaf", "cve-2024-6923-vex-excerpt.json"),
        ("redhat", "CVE-2024-6923-api-excerpt.json"),
    ):
        criteria = {c for c, _, _ in _ranges(source, name)}
        assert f"osv:{RHEL8}/python2" not in criteria, source


def test_module_rpm_states_are_read_like_the_vex() -> None:
    """The API's ``python36:3.6/python36`` names the RPM python36 of a module stream."""
    vex = _ranges("csaf", "cve-2024-6923-vex-excerpt.json")
    api = _ranges("redhat", "CVE-2024-6923-api-excerpt.json")
    assert vex == api == {(f"osv:{RHEL8}/python36", "", True)}
