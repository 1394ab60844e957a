"""repotrack's updateinfo verdicts against ``dnf updateinfo`` on hosts holding the builds.

On 2026-12-07, 687 (advisory, installed build) pairs of real updateinfo files (Fedora 19,
Fedora 43, EPEL 6, Rocky 8 and 9, AlmaLinux 9, Amazon Linux 2/2022/2023, a CentOS 6 file)
were judged by dnf 4.14.0 (``dnf updateinfo list --available`` / ``--installed`` in an
installroot whose rpmdb held tiny RPMs built at the fixed build, just below it and above
it) and by repotrack. They agreed everywhere except where ``docs/vulnerabilities.md``
says why, and on AlmaLinux: its updateinfo writes ``<release>0</release>`` (every
advisory of every major release), which repotrack took for the stream ``0``, so a branch
mapped to ``AlmaLinux:9`` (the stream of Alma's OSV copy and of its errata JSON) got no
verdict at all while dnf found the advisory applicable.

The excerpts below are AlmaLinux 9 advisories as the test data of
MaineK00n/vuls-data-update (commit df506c4a927f9032f7ea2eb8c43b260af934362b, Apache-2.0)
holds them, ``pkg/fetch/alma/updateinfo/testdata/fixtures/happy/almalinux/9/{BaseOS,
AppStream}/x86_64/os/repodata/*-updateinfo.xml.gz``, cut to the elements read here;
AlmaLinux's own errata JSON has ``"release": "0"`` too. The expected answers are dnf's,
written down as it gave them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from repotrack.ingest.vulns import load_vulns
from repotrack.security import rematch_branch, set_mapping
from repotrack.store import Store
from tests.unit.store.rows import load_branch_snapshot, package

ALMA9 = b"""<?xml version="1.0" encoding="UTF-8"?>
<updates>
  <update from="packager@almalinux.org" status="final" type="security" version="1">
    <id>ALSA-2022:4940</id>
    <title>Important: xz security update</title>
    <issued date="2022-06-08 00:00:00"/>
    <updated date="2023-03-07 17:32:16"/>
    <rights>Copyright 2022 AlmaLinux OS</rights>
    <release>0</release>
    <pushcount>1</pushcount>
    <severity>Important</severity>
    <references>
      <reference href="https://access.redhat.com/security/cve/CVE-2022-1271" id="CVE-2022-1271"
                 type="cve" title="CVE-2022-1271"/>
      <reference href="https://errata.almalinux.org/9/ALSA-2022-4940.html" id="ALSA-2022:4940"
                 type="self" title="ALSA-2022:4940"/>
    </references>
    <pkglist>
      <collection short="almalinux-9-for-x86_64-baseos-rpms__9_1_default">
        <name>almalinux-9-for-x86_64-baseos-rpms__9_1_default</name>
        <package name="xz" version="5.2.5" release="8.el9_0" epoch="0" arch="x86_64"
                 src="xz-5.2.5-8.el9_0.src.rpm">
          <filename>xz-5.2.5-8.el9_0.x86_64.rpm</filename>
        </package>
      </collection>
    </pkglist>
  </update>
  <update from="packager@almalinux.org" status="final" type="security" version="1">
    <id>ALSA-2023:7549</id>
    <title>Moderate: nodejs security update</title>
    <issued date="2023-11-28 00:00:00"/>
    <updated date="2023-11-28 00:00:00"/>
    <release>0</release>
    <severity>Moderate</severity>
    <references>
      <reference href="https://access.redhat.com/security/cve/CVE-2023-44487" id="CVE-2023-44487"
                 type="cve" title="CVE-2023-44487"/>
    </references>
    <pkglist>
      <collection short="almalinux-9-for-x86_64-appstream-rpms__9_default">
        <name>almalinux-9-for-x86_64-appstream-rpms__9_default</name>
        <package name="nodejs" version="18.18.2" release="1.el9" epoch="1" arch="x86_64"
                 src="nodejs-18.18.2-1.el9.src.rpm">
          <filename>nodejs-18.18.2-1.el9.x86_64.rpm</filename>
        </package>
      </collection>
    </pkglist>
  </update>
</updates>
"""

#: (package, installed epoch:version-release) -> dnf's answer: ``vulnerable`` when dnf
#: lists the advisory as available for the installed build (``--available``), ``fixed``
#: when it lists it as installed (``--installed``).
DNF_ALMA9 = {
    ("xz", "0:5.2.4-8.el9_0"): ("ALSA-2022:4940", "vulnerable"),
    ("xz", "0:5.2.5-7.el9_0"): ("ALSA-2022:4940", "vulnerable"),
    ("xz", "0:5.2.5-8.el9_0"): ("ALSA-2022:4940", "fixed"),
    ("xz", "0:5.2.5-9.el9_0"): ("ALSA-2022:4940", "fixed"),
    ("xz", "1:5.2.5-8.el9_0"): ("ALSA-2022:4940", "fixed"),
    ("nodejs", "0:18.18.2-1.el9"): ("ALSA-2023:7549", "vulnerable"),
    ("nodejs", "1:18.18.1-1.el9"): ("ALSA-2023:7549", "vulnerable"),
    ("nodejs", "1:18.18.2-0.el9"): ("ALSA-2023:7549", "vulnerable"),
    ("nodejs", "1:18.18.2-1.el9"): ("ALSA-2023:7549", "fixed"),
    ("nodejs", "1:18.18.2-2.el9"): ("ALSA-2023:7549", "fixed"),
    ("nodejs", "2:18.18.2-1.el9"): ("ALSA-2023:7549", "fixed"),
}


@pytest.mark.parametrize(("name", "installed"), sorted(DNF_ALMA9))
def test_almalinux_release_zero_is_judged_in_its_major_stream(
    store: Store, tmp_path: Path, name: str, installed: str
) -> None:
    """A branch mapped to ``AlmaLinux:9`` gets dnf's answer for each build."""
    advisory, expected = DNF_ALMA9[(name, installed)]
    epoch, _, rest = installed.partition(":")
    version, release = rest.split("-")
    source = package(701, name, version, release, epoch=int(epoch), source=True, arch="src")
    load_branch_snapshot(store, "alma9", datetime(2026, 12, 1, tzinfo=UTC), [source], [])
    set_mapping(store, pkg_name=name, result=f"osv:AlmaLinux:9/{name}", user="tester")
    path = tmp_path / "updateinfo.xml"
    path.write_bytes(ALMA9)
    summary = load_vulns(store, source="updateinfo", paths=[path])
    assert (summary.written, summary.problems) == (2, [])
    rematch_branch(store, branch="alma9")
    found = store.query(
        "SELECT vuln_id, toString(argMax(pvv_status, ts)) FROM PackagesVulnerabilityVerdict "
        "GROUP BY vuln_id"
    )  # the branch holds this one package
    assert found == [(advisory, expected)]


def test_almalinux_ranges_name_the_major_stream(store: Store, tmp_path: Path) -> None:
    """Both advisories land in ``AlmaLinux:9``, read from the repository name's ``__9``
    (as the ``almalinux`` errata JSON source reads it), binary and source names alike."""
    path = tmp_path / "updateinfo.xml"
    path.write_bytes(ALMA9)
    load_vulns(store, source="updateinfo", paths=[path])
    rows = store.query("SELECT vuln_id, cpm_cpe, cpm_version_end FROM CpeMatch ORDER BY 1, 2")
    assert rows == [
        ("ALSA-2022:4940", "osv:AlmaLinux:9/xz", "0:5.2.5-8.el9_0"),
        ("ALSA-2023:7549", "osv:AlmaLinux:9/nodejs", "1:18.18.2-1.el9"),
    ]
