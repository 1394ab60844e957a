"""Build the apt-rpm and createrepo test trees once per session (tests/data/make_trees.sh)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DATA, need_tool

MAKE_TREES = DATA / "make_trees.sh"
RPMS = DATA / "rpms"


def build_trees(out: Path, rpms: Path = RPMS) -> Path:
    """Run make_trees.sh into ``out``; skips (or fails under CI) without rpm/createrepo_c."""
    need_tool("rpm")
    need_tool("createrepo_c")
    if not any(rpms.glob("*.rpm")):
        pytest.skip(f"no test RPMs in {rpms}; run tests/data/make_rpms.sh")
    subprocess.run(["sh", str(MAKE_TREES), str(out), str(rpms)], check=True, capture_output=True)
    return out


def copy_tree(src: Path, dst: Path) -> Path:
    """A private, modifiable copy (symlinks kept as symlinks, as in a real snapshot)."""
    shutil.copytree(src, dst, symlinks=True)
    return dst
