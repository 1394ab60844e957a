"""pkg_vcs, pkg_pretrans and pkg_posttrans (migration 0007) are filled from the header.

A package with a VCS tag and %pretrans/%posttrans scriptlets is built here with rpmbuild;
the loaded values must equal what ``rpm -qp`` prints for the same file.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from repotrack.ingest import load_repo
from repotrack.store import Store
from tests.conftest import need_tool
from tests.unit.store.storeutil import open_fresh_store

SPEC = """\
Name: rt-trans
Version: 1.0
Release: 1
Summary: pretrans, posttrans and VCS test package
License: MIT
BuildArch: noarch
VCS: git+https://git.example.org/rt-trans.git#abc123

%description
A package with transaction scriptlets.

%pretrans
echo before the transaction >/dev/null

%posttrans
echo after the transaction >/dev/null

%files
"""


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


def _build(tmp_path: Path) -> Path:
    rpmbuild = need_tool("rpmbuild")
    top = tmp_path / "top"
    spec = tmp_path / "rt-trans.spec"
    spec.write_text(SPEC)
    subprocess.run(
        [rpmbuild, "-bb", "--quiet", "--define", f"_topdir {top}", str(spec)],
        check=True,
        capture_output=True,
    )
    (rpm,) = (top / "RPMS" / "noarch").glob("rt-trans-*.rpm")
    return rpm


def _rpm_says(rpm: Path, tag: str) -> str:
    out = subprocess.run(
        ["rpm", "-qp", "--nosignature", "--qf", f"%{{{tag}}}", str(rpm)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "" if out == "(none)" else out


def test_trans_scriptlets_and_vcs_are_loaded(store: Store, tmp_path: Path) -> None:
    rpm = _build(tmp_path)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / rpm.name).write_bytes(rpm.read_bytes())
    load_repo(store, branch="p10", path=tree, date=date(2024, 5, 1))
    ((vcs, pretrans, posttrans),) = store.query(
        "SELECT pkg_vcs, pkg_pretrans, pkg_posttrans FROM Packages WHERE pkg_name = 'rt-trans'"
    )
    expected = tuple(_rpm_says(rpm, tag) for tag in ("VCS", "PRETRANS", "POSTTRANS"))
    assert (vcs, pretrans, posttrans) == expected
    assert "before the transaction" in pretrans and vcs.startswith("git+https://")
