"""The OVAL export, evaluated by a real OVAL interpreter (OpenSCAP's ``oscap``).

The hand-checked world is matched and exported as OVAL; packages of the same names and
versions are built with rpmbuild and recorded in an rpm database of their own (rpm's
``--justdb``; Debian's rpm keeps it under ``$HOME``), and ``oscap oval eval`` judges
every definition on that host. A host holding exactly the branch's builds is vulnerable
to what the branch's verdicts call vulnerable and to nothing else; one holding builds
older than the branch's fixes is vulnerable to all of them; one without the release
package to none (the definitions are for that distribution only).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from repotrack.security import rematch_branch
from repotrack.security.oval_export import export_oval
from repotrack.store import Store
from tests.conftest import need_tool
from tests.unit.security.world import BRANCH, PACKAGES, build_world

SPEC = """\
Name: {name}
Version: {version}
Release: {release}
Summary: a package of the test host
License: MIT
BuildArch: noarch
%description
A package of the test host.
%files
"""
RELEASE_PACKAGE = "alt-release"


class Host:
    """An rpm database with the packages built for it, and oscap's verdicts on it."""

    def __init__(self, tmp_path: Path, name: str) -> None:
        self.tmp = tmp_path
        self.home = tmp_path / name
        self.home.mkdir()
        self.env = {"HOME": str(self.home), "PATH": "/usr/bin:/bin", "LC_ALL": "C"}
        subprocess.run(["rpm", "--initdb"], check=True, env=self.env, capture_output=True)

    def install(self, packages: list[tuple[str, str, str]]) -> None:
        rpms = [str(_build(self.tmp, *package)) for package in packages]
        subprocess.run(
            ["rpm", "-i", "--justdb", "--nodeps", "--noscripts", *rpms],
            check=True, env=self.env, capture_output=True,
        )  # fmt: skip

    def vulnerable(self, oval: Path) -> set[str]:
        """The CVE ids of the definitions oscap finds true on this host."""
        done = subprocess.run(
            ["oscap", "oval", "eval", str(oval)],
            check=True, env=self.env, capture_output=True, text=True,
        )  # fmt: skip
        assert "RPM:" not in done.stderr, done.stderr  # the rpminfo probe read the database
        verdicts = dict(re.findall(r"Definition (\S+): (true|false)", done.stdout))
        assert verdicts, done.stdout
        cves = _cves_by_definition(oval)
        assert set(verdicts) == set(cves)
        return {cves[d] for d, verdict in verdicts.items() if verdict == "true"}


def _build(tmp: Path, name: str, version: str, release: str) -> Path:
    top = tmp / "rpmbuild"
    spec = tmp / f"{name}-{version}-{release}.spec"
    spec.write_text(SPEC.format(name=name, version=version, release=release))
    subprocess.run(
        ["rpmbuild", "-bb", "--quiet", "--define", f"_topdir {top}", str(spec)],
        check=True, capture_output=True,
    )  # fmt: skip
    (rpm,) = (top / "RPMS" / "noarch").glob(f"{name}-{version}-{release}.noarch.rpm")
    return rpm


def _cves_by_definition(oval: Path) -> dict[str, str]:
    ns = {"d": "http://oval.mitre.org/XMLSchema/oval-definitions-5"}
    document = etree.parse(str(oval), etree.XMLParser(resolve_entities=False, no_network=True))
    return {
        str(d.get("id")): str(d.find(".//d:reference[@source='CVE']", ns).get("ref_id"))
        for d in document.findall(".//d:definition", ns)
    }


@pytest.fixture
def exported(store: Store, tmp_path: Path) -> tuple[Path, dict[str, set[str]]]:
    """The OVAL file of the world, and the CVE ids per verdict status."""
    need_tool("oscap")
    need_tool("rpmbuild")
    build_world(store, tmp_path)
    rematch_branch(store, branch=BRANCH)
    oval = export_oval(
        store, branch=BRANCH, out=tmp_path / "oval", namespace="io.repotrack",
        release_package=RELEASE_PACKAGE,
    )  # fmt: skip
    statuses: dict[str, set[str]] = {}
    for vuln_id, status in store.query(
        "SELECT vuln_id, argMax(pvv_status, ts) FROM PackagesVulnerabilityVerdict "
        "WHERE pkgset_name = {b:String} GROUP BY pkg_name, vuln_id",
        {"b": BRANCH},
    ):
        statuses.setdefault(status, set()).add(vuln_id)
    return oval, statuses


@pytest.mark.parametrize(
    ("release_package", "release", "vulnerable_to"),
    [
        (True, "alt1", ("vulnerable",)),  # the branch's builds: what the branch is
        (True, "alt0", ("vulnerable", "fixed")),  # older builds: also what it fixed
        (False, "alt0", ()),  # another distribution: not judged
    ],
    ids=["branch-builds", "older-builds", "other-distribution"],
)
def test_oscap_finds_the_host_vulnerable_to_what_the_verdicts_say(
    exported: tuple[Path, dict[str, set[str]]],
    tmp_path: Path,
    release_package: bool,
    release: str,
    vulnerable_to: tuple[str, ...],
) -> None:
    oval, statuses = exported
    assert statuses["vulnerable"] and statuses["fixed"]
    host = Host(tmp_path, "host")
    packages = [(n, v, release) for _, n, v, _ in PACKAGES]
    host.install([(RELEASE_PACKAGE, "10", "alt1")] * release_package + packages)
    expected: set[str] = set().union(*(statuses[s] for s in vulnerable_to))
    assert host.vulnerable(oval) == expected
