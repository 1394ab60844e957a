"""``repotrack query diff`` on an ALT branch says what ALT's rpm says of an update.

A branch set to ALT's version order (``vulns.branch_orders``) is one whose packages
ALT's apt upgrades by ALT's rpm, where a letter segment is newer than a digit one. The
same two snapshots are read once in upstream's order and once in ALT's: ``1.0.rc1`` ->
``1.0.0`` is an update for librpm (``rpm.labelCompare``, asked here) and a downgrade for
ALT's rpm (tests/data/alt-vercmp holds its answers), as is release ``alt1.git20200101``
-> ``alt1.1``; ``1.0`` -> ``1.10`` is an update for both.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repotrack.cli.main import app
from tests.conftest import need_tool
from tests.functional.server import running_server
from tests.unit.rpm.librpm import label_compare

SPEC = """\
Name: {name}
Version: {version}
Release: {release}
Summary: version order test package
License: MIT
BuildArch: noarch

%description
A package whose versions two rpm orders rank differently.

%files
"""

#: (name, old version-release, new version-release)
BUILDS = [
    ("rt-rc", ("1.0.rc1", "alt1"), ("1.0.0", "alt1")),
    ("rt-git", ("1.0", "alt1.git20200101"), ("1.0", "alt1.1")),
    ("rt-plain", ("1.0", "alt1"), ("1.10", "alt1")),
]


NAME_FORMAT = "%%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm"


def _build(tmp_path: Path, name: str, version: str, release: str, out: Path) -> None:
    spec = tmp_path / f"{name}-{version}-{release}.spec"
    spec.write_text(SPEC.format(name=name, version=version, release=release))
    top = tmp_path / "rpmbuild"
    subprocess.run(
        [need_tool("rpmbuild"), "-bb", "--quiet", "--define", f"_topdir {top}",
         "--define", f"_rpmdir {out}", "--define", f"_build_name_fmt {NAME_FORMAT}", str(spec)],
        check=True, capture_output=True,
    )  # fmt: skip


@pytest.fixture
def two_snapshots(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for name, before, after in BUILDS:
        _build(tmp_path, name, *before, old)
        _build(tmp_path, name, *after, new)
    for tree, day in ((old, "2024-05-01"), (new, "2024-06-01")):
        result = CliRunner().invoke(
            app, ["load", "repo", "sisyphus", str(tree), "--date", day, "-w", "1"]
        )
        assert result.exit_code == 0, result.output


def _directions() -> dict[str, int]:
    result = CliRunner().invoke(
        app, ["query", "diff", "sisyphus", "2024-05-01", "2024-06-01", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["added"] == [] and data["removed"] == []
    return {u["name"]: u["direction"] for u in data["updated"]}


@pytest.mark.usefixtures("two_snapshots")
def test_diff_follows_the_branch_version_order(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = label_compare([(("0", *after), ("0", *before)) for _, before, after in BUILDS])
    librpm = {name: answer for (name, _, _), answer in zip(BUILDS, answers, strict=True)}
    assert librpm == {"rt-rc": 1, "rt-git": 1, "rt-plain": 1}
    assert _directions() == librpm  # upstream's order: the default
    monkeypatch.setenv("REPOTRACK_VULNS__BRANCH_ORDERS__SISYPHUS", "alt")
    assert _directions() == {"rt-rc": -1, "rt-git": -1, "rt-plain": 1}
    shown = CliRunner().invoke(app, ["query", "diff", "sisyphus", "2024-05-01", "2024-06-01"])
    assert "~ rt-rc noarch: 1.0.rc1-alt1 <- (downgrade) 1.0.0-alt1" in shown.stdout
    assert "~ rt-plain noarch: 1.0-alt1 -> 1.10-alt1" in shown.stdout


@pytest.mark.usefixtures("two_snapshots")
def test_the_service_diff_follows_the_branch_version_order(tmp_path: Path) -> None:
    """``GET /api/v1/diff`` of the service, whose settings give the branch ALT's order."""
    home = Path(os.environ["REPOTRACK_HOME"])
    orders = {"branch_orders": {"sisyphus": "alt"}}
    with (
        running_server(tmp_path, tls=False, home=home, vulns=orders) as server,
        server.client() as http,
    ):
        answer = http.get(
            "/api/v1/diff",
            params={"branch": "sisyphus", "from": "2024-05-01", "to": "2024-06-01"},
        )
    assert answer.status_code == 200, answer.text
    directions = {u["name"]: u["direction"] for u in answer.json()["updated"]}
    assert directions == {"rt-rc": -1, "rt-git": -1, "rt-plain": 1}
