"""Shared helpers of the rpm-layer tests: where the test RPMs are, and how to ask rpm."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from tests.conftest import DATA, FIXTURES

OWN_RPMS = DATA / "rpms"
#: The home of the rpm commands the tests run. rpm run as root opens, and so creates, a
#: database under ``$HOME/.rpmdb`` even for ``-qp`` and ``-K``: a HOME of /nonexistent
#: made /nonexistent exist, and a test that needs a missing path then found one. A
#: throwaway directory, removed when the test process ends.
_RPM_HOME = tempfile.TemporaryDirectory(prefix="repotrack-rpm-home-")
RPM_ENV = {"LC_ALL": "C", "HOME": _RPM_HOME.name, "PATH": "/usr/bin:/bin"}
#: Third-party RPMs that once showed a difference from the real rpm (PROVENANCE.md there).
CORPUS_RPMS = DATA / "rpm-corpus"


def own_rpms() -> list[Path]:
    """The RPMs tests/data/make_rpms.sh built (committed)."""
    return sorted(OWN_RPMS.glob("*.rpm"))


def shared_rpms() -> list[Path]:
    """Third-party RPMs under ../shared/fixtures/rpm ([] when that folder is absent)."""
    root = FIXTURES / "rpm"
    return sorted(root.rglob("*.rpm")) if root.is_dir() else []


def all_rpms() -> list[Path]:
    return own_rpms() + shared_rpms()


def rpm_id(path: Path) -> str:
    """A short, unique test id for a fixture path."""
    for base in (OWN_RPMS, FIXTURES / "rpm"):
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return path.name


def run_rpm(*args: str) -> bytes:
    """Run the real rpm (C locale, no user config) and return its stdout bytes."""
    env = {**RPM_ENV, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    done = subprocess.run(["rpm", *args], capture_output=True, env=env, check=False)
    if done.returncode != 0:
        raise AssertionError(f"rpm {' '.join(args)} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout


def text(raw: bytes) -> str:
    """Decode like repotrack's reader: UTF-8, else latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
