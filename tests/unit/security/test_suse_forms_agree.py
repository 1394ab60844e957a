"""SUSE's CVRF and OVAL publications of the same facts reach the same verdicts.

SUSE publishes each fix as CVRF (an advisory, or one document per CVE) and as OVAL (one
file per product, and one per product family); a user maps a branch to one stream, the
product's name, and expects every form to land there. Real SUSE files under
``tests/data/suse-reference`` (see its PROVENANCE.md). Each test failed before the fix
it names (2026-12-07):

- SUSE's current CVRF files declare OASIS's CVRF 1.2 namespace, which was refused;
- SUSE's one-product OVAL definitions were placed on their CPE
  (``cpe:/o:opensuse:tumbleweed``), where the CVRF and the multi-product OVAL files name
  the same product (``openSUSE Tumbleweed``), so one mapping matched only some forms;
- a SUSE patch definition was named by its first reference, a bug number.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from repotrack.ingest.vulns import load_vulns
from repotrack.security import rematch_branch
from repotrack.sources.vulns import PARSERS, RecordProblem, VulnRecord
from repotrack.store import Store
from tests.unit.security.stream_branch import Build, judged_by_librpm, stream_branch

DATA = Path(__file__).parents[2] / "data" / "suse-reference"


def _records(source: str, name: str) -> list[VulnRecord]:
    found = list(PARSERS[source]((DATA / name).read_bytes(), path=name))
    assert [p for p in found if isinstance(p, RecordProblem)] == []
    return [r for r in found if isinstance(r, VulnRecord)]


def _verdicts(store: Store, branch: str, vuln_id: str) -> dict[str, str]:
    return {
        str(name): str(status)
        for name, status in store.query(
            "SELECT pkg_name, toString(argMax(pvv_status, ts)) FROM PackagesVulnerabilityVerdict"
            " WHERE pkgset_name = {b:String} AND vuln_id = {v:String} GROUP BY pkg_name",
            {"b": branch, "v": vuln_id},
        )
    }


def _cve(name: str) -> str:
    """The CVE a reference file is kept for (in its name, or CVE-2009-0316 for the
    SLE Micro family file, which holds two)."""
    return (
        "CVE-" + name.split("CVE-")[1].removesuffix(".xml") if "CVE-" in name else ("CVE-2009-0316")
    )


def _around(version: str, release: str) -> dict[str, Build]:
    """Builds just below, at and above ``version-release`` (epoch 0, as SUSE builds)."""
    head, _, last = release.rpartition(".")
    below = f"{head}.{int(last) - 1}" if head and int(last) > 0 else f"{release}~"
    return {"below": ("0", version, below), "at": ("0", version, release),
            "above": ("0", version, f"{release}.1")}  # fmt: skip


def _judge(
    store: Store, source: str, name: str, stream: str, fixes: dict[str, str], first_hash: int
) -> dict[tuple[str, str], str]:
    """(package, which build) → verdict of the file's record naming the CVE of ``name``,
    each build on its own branch mapped to ``stream``, ``name`` loaded alone."""
    load = load_vulns(store, source=source, paths=[DATA / name])
    assert load.problems == []
    (record,) = [r for r in _records(source, name) if r.vuln_id.endswith(_cve(name))]
    got: dict[tuple[str, str], str] = {}
    for n, which in enumerate(("below", "at", "above")):
        builds = {}
        for package, evr in fixes.items():
            version, _, release = evr.rpartition("-")
            builds[package] = _around(version, release)[which]
        branch = f"{source}-{which}"
        stream_branch(store, branch, stream, builds, first_hash=first_hash + 10 * n)
        rematch_branch(store, branch=branch)
        verdicts = _verdicts(store, branch, record.vuln_id)
        expected = judged_by_librpm(
            builds, {(p, "v"): ("0", *fixes[p].rsplit("-", 1)) for p in fixes}
        )
        for package in fixes:
            got[(package, which)] = verdicts.get(package, "none")
            assert got[(package, which)] == expected[f"{package} v"], (source, package, which)
    return got


def test_current_suse_cvrf_declares_oasis_namespace() -> None:
    """``cvrf-CVE-2022-38150.xml`` (varnish) is CVRF 1.2 in OASIS's namespace, as every
    file SUSE serves today; it was refused ("unknown CVRF namespace")."""
    (record,) = _records("cvrf", "cvrf-CVE-2022-38150.xml")
    assert record.vuln_id == "CVRF:CVE-2022-38150"  # "SUSE CVE-2022-38150" in the file
    assert ("CVE", "CVE-2022-38150") in record.references
    fixed = {(r.criteria, r.end) for r in record.ranges}
    assert ("osv:openSUSE Tumbleweed/varnish", "7.1.1-1.1") in fixed
    assert ("osv:openSUSE Leap 15.4/varnish", "7.1.1-bp154.2.6.1") in fixed
    assert ("osv:SUSE Package Hub 15 SP4/libvarnishapi3", "7.1.1-bp154.2.6.1") in fixed
    assert len(record.ranges) == 9


def test_suse_oval_one_product_definition_is_on_the_products_name() -> None:
    """Tumbleweed's OVAL file writes ``<platform>openSUSE Tumbleweed</platform>`` and
    ``<cpe>cpe:/o:opensuse:tumbleweed</cpe>``; the CVRF names the platform
    ``openSUSE Tumbleweed`` (its ``CPE`` attribute is the same CPE), so does a user."""
    (record,) = _records("oval", "opensuse.tumbleweed-CVE-2001-1267.xml")
    assert {r.criteria.rsplit("/", 1)[0] for r in record.ranges} == {"osv:openSUSE Tumbleweed"}


@pytest.mark.parametrize(
    ("name", "first_hash"),
    [
        ("suse.linux.enterprise.micro.5.2-CVE-2009-0316.xml", 7100),  # one product: a CPE
        ("suse.linux.enterprise.micro.5-affected.xml", 7200),  # the family: names
    ],
)
def test_both_oval_files_of_sle_micro_agree(store: Store, name: str, first_hash: int) -> None:
    """CVE-2009-0316 (vim) as SLE Micro 5.2's own OVAL file and as the SLE Micro 5 family
    file publish it: vim-small and vim-data-common fixed at 8.0.1568-5.14.1 on SLE Micro
    5.2. Judged on a branch mapped to ``SUSE Linux Enterprise Micro 5.2`` (the CVRF's
    name), builds below are vulnerable and builds at and above fixed, from either file;
    the one-product file gave no verdict at all."""
    fixes = {"vim-small": "8.0.1568-5.14.1", "vim-data-common": "8.0.1568-5.14.1"}
    got = _judge(store, "oval", name, "SUSE Linux Enterprise Micro 5.2", fixes, first_hash)
    assert got[("vim-small", "below")] == "vulnerable"
    assert got[("vim-small", "at")] == got[("vim-small", "above")] == "fixed"


@pytest.mark.parametrize(
    ("source", "name", "fixes", "first_hash"),
    [
        ("cvrf", "cvrf-CVE-2022-38150.xml", {"varnish": "7.1.1-1.1"}, 7300),
        ("oval", "opensuse.tumbleweed-CVE-2001-1267.xml", {"tar": "1.34-2.2"}, 7400),
    ],
)
def test_one_tumbleweed_mapping_serves_cvrf_and_oval(
    store: Store, source: str, name: str, fixes: dict[str, str], first_hash: int
) -> None:
    """A branch mapped once to ``openSUSE Tumbleweed`` gets the verdicts of SUSE's CVRF
    and of its Tumbleweed OVAL file alike (below: vulnerable; at, above: fixed)."""
    got = _judge(store, source, name, "openSUSE Tumbleweed", fixes, first_hash)
    (package,) = fixes
    assert [got[(package, w)] for w in ("below", "at", "above")] == [
        "vulnerable",
        "fixed",
        "fixed",
    ]


def test_suse_patch_definition_is_named_by_its_advisory() -> None:
    """SLE 15's patch definition for kernel-livepatch-tools lists ``1099306``
    (``source="BUGZILLA"``) first and ``SUSE-SU-2018:2426-1`` (``source="SUSE-SU"``)
    after: the record is the advisory, the id SUSE's CVRF gives the same update (named by
    a bug number, two updates citing one bug would replace each other)."""
    (record,) = _records("oval", "suse.linux.enterprise.server.15-patch-SUSE-SU-2018-2426-1.xml")
    assert record.vuln_id == "SUSE-SU-2018:2426-1"
    (one,) = record.ranges
    assert one.criteria == "osv:SUSE Linux Enterprise Live Patching 15/kernel-livepatch-tools"
    assert one.end.endswith("1.1-5.3.1") and one.end_excluded
