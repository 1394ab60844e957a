"""The embedded store ignores the files of the directory a command runs in.

chDB's default database also shows each file of the process's working directory as a
table of the same name: a maintainer who ran ``repotrack db init`` (or the first
``repotrack serve``) inside a package checkout holding a ``Changelog`` or a Debian
mirror's ``Packages`` got a failed migration, as ``CREATE TABLE IF NOT EXISTS`` saw the
file as the table. The store keeps its tables in a database of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES, need_tool

BIN = Path(sys.executable).parent
#: Files named as the store's tables, as a source checkout or a mirror holds them.
SHADOWS = {"Changelog": "my notes\n", "Packages": "Package: x\n", "Files": "", "Depends": "a\n"}


def _repotrack(cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    env["REPOTRACK_HOME"] = str(home)
    env["COLUMNS"] = "400"
    return subprocess.run(
        [str(BIN / "repotrack"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_files_named_like_tables_in_the_working_directory_change_nothing(tmp_path: Path) -> None:
    need_tool("rpm")
    work = tmp_path / "checkout"
    work.mkdir()
    for name, text in SHADOWS.items():
        (work / name).write_text(text)
    tree = tmp_path / "tree"
    tree.mkdir()
    rpms = [
        p for d in ("alt", "fedora", "centos") for p in sorted((FIXTURES / "rpm" / d).glob("*.rpm"))
    ]
    assert rpms
    for rpm in rpms:
        (tree / rpm.name).write_bytes(rpm.read_bytes())
    home = tmp_path / "home"

    init = _repotrack(work, home, "db", "init")
    assert init.returncode == 0, init.stderr
    load = _repotrack(work, home, "load", "repo", "b", str(tree), "--date", "2024-05-01")
    assert load.returncode == 0, load.stderr
    listed = _repotrack(work, home, "query", "packages", "-b", "b", "--format", "json")
    assert listed.returncode == 0, listed.stderr

    # Every package file is listed once, whatever the working directory holds (names
    # as rpm itself reads them).
    names = subprocess.run(
        ["rpm", "-qp", "--nosignature", "--qf", "%{NAME}\\n", *map(str, rpms)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sorted(p["name"] for p in json.loads(listed.stdout)["packages"]) == sorted(names)
    for name, text in SHADOWS.items():
        assert (work / name).read_text() == text
