"""generate_password as an installed console script, and its hash logging in to the server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from repotrack.passwords import verify_password
from tests.functional.server import running_server

BIN = Path(sys.executable).parent


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "generate_password"), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_generated_hash_is_accepted_by_the_server(tmp_path: Path) -> None:
    done = run("S3cret~pw")
    assert (done.returncode, done.stderr) == (0, "")
    stored = done.stdout.strip()
    assert verify_password(stored, "S3cret~pw")
    item = {
        "version_control": "github",
        "scm_repo": "o/r",
        "scm_branch": "main",
        "scm_commit": None,
        "repo": "https://gitee.com/o/r",
        "branch": "master",
        "enabled": True,
    }
    service = {"password_hash": stored}
    with (
        running_server(tmp_path, password=None, service=service) as server,
        server.client() as http,
    ):
        assert (
            http.post("/tracking", json=item, auth=("admin", "S3cret~pw")).json()["code"] == "2001"
        )
        assert http.post("/tracking", json=item, auth=("admin", "S3cret~px")).status_code == 401


def test_weak_password_and_argument_count() -> None:
    """The original printed everything, refusals included, on stdout."""
    weak = run("password")
    assert (weak.returncode, weak.stderr) == (1, "")
    assert weak.stdout.startswith("usage: generate_password PASSWORD\n\nRequirements:\n")
    assert weak.stdout.endswith(
        "Password strength is not satisfied:\ndigit not satisfied.\n"
        "uppercase not satisfied.\nsymbol not satisfied.\n"
    )
    none = run()
    assert (none.returncode, none.stderr) == (1, "")
    assert none.stdout.endswith("[~!@#%^*_+=-]\n\nError: One password input allowed.\n")
