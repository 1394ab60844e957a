"""``repotrack db import-legacy``: the original's db.sqlite into the state database.

The legacy file is built with the exact schema of the ``db.sqlite`` the original
shipped (reference ``patch_tracking.md`` §3); results are checked by reading the
state database with plain ``sqlite3``, not through repotrack.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
#: The original's schema, as its shipped empty db.sqlite holds it.
ORIGINAL_SCHEMA = """
CREATE TABLE tracking (
    id INTEGER, version_control VARCHAR(80), scm_repo VARCHAR(80), scm_branch VARCHAR(80),
    scm_commit VARCHAR(80), repo VARCHAR(80) NOT NULL, branch VARCHAR(80) NOT NULL,
    enabled BOOLEAN, PRIMARY KEY (repo, branch), CHECK (enabled IN (0, 1))
);
CREATE TABLE issue (
    issue VARCHAR(80) NOT NULL, repo VARCHAR(80), branch VARCHAR(80), PRIMARY KEY (issue)
);
"""
ZLIB = "https://gitee.com/src-openeuler/zlib"
SHA = "0123456789abcdef0123456789abcdef01234567"
TRACKING = [
    ("github", "madler/zlib", "develop", SHA, ZLIB, "master", 1),
    ("git", "https://github.com/madler/zlib.git", "develop", None, ZLIB, "openEuler-22.03-LTS", 0),
    ("git", "https://sourceware.org/git/bzip2.git", "master", None, "src-openeuler/bzip2", "master",
     None),
]  # fmt: skip
ISSUES = [("I1ABCD", ZLIB, "master"), ("I1ABCE", ZLIB, "master"), ("I9ZZZZ", "x/gone", "master")]


def legacy_db(
    path: Path, tracking: list[tuple[object, ...]], issues: list[tuple[str, ...]]
) -> Path:
    with sqlite3.connect(path) as conn:
        conn.executescript(ORIGINAL_SCHEMA)
        conn.executemany(
            "INSERT INTO tracking (version_control, scm_repo, scm_branch, scm_commit, repo, "
            "branch, enabled) VALUES (?, ?, ?, ?, ?, ?, ?)",
            tracking,
        )
        conn.executemany("INSERT INTO issue VALUES (?, ?, ?)", issues)
    conn.close()
    return path


def repotrack(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REPOTRACK_HOME": str(home)}
    env.pop("REPOTRACK_CONFIG", None)
    return subprocess.run(
        [str(BIN / "repotrack"), *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=home.parent, env=env,
    )  # fmt: skip


def state_rows(home: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with sqlite3.connect(home / "state.sqlite") as conn:
        items = conn.execute(
            "SELECT version_control, scm_repo, scm_branch, scm_commit, repo, branch, enabled "
            "FROM tracking ORDER BY id"
        ).fetchall()
        issues = conn.execute(
            "SELECT issue.issue, issue.repo, issue.branch, tracking.branch FROM issue "
            "LEFT JOIN tracking ON tracking.id = issue.tracking_id ORDER BY issue.id"
        ).fetchall()
    conn.close()
    return items, issues


def test_import_copies_items_and_issues_then_adds_nothing_twice(tmp_path: Path) -> None:
    source = legacy_db(tmp_path / "db.sqlite", TRACKING, ISSUES)
    home = tmp_path / "home"
    first = repotrack(home, "db", "import-legacy", str(source))
    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout == (
        "tracking: 3 imported, 0 already present, 0 refused; "
        "issue: 3 imported, 0 already present, 0 refused\n"
    )
    items, issues = state_rows(home)
    # NULL "enabled" was never tracked by the original: imported as disabled.
    assert items == [(*row[:6], 1 if row[6] == 1 else 0) for row in TRACKING]
    assert issues == [
        ("I1ABCD", ZLIB, "master", "master"),
        ("I1ABCE", ZLIB, "master", "master"),
        ("I9ZZZZ", "x/gone", "master", None),
    ]
    again = repotrack(home, "db", "import-legacy", str(source))
    assert (again.returncode, again.stdout) == (
        0,
        "tracking: 0 imported, 3 already present, 0 refused; "
        "issue: 0 imported, 3 already present, 0 refused\n",
    )
    assert state_rows(home) == (items, issues)
    listed = repotrack(home, "track", "status", "--json")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count('"repo"') == 3


def test_items_already_tracked_here_are_kept(tmp_path: Path) -> None:
    home = tmp_path / "home"
    newer = "f" * 40
    moved = [(*TRACKING[0][:3], newer, *TRACKING[0][4:])]
    assert (
        repotrack(home, "db", "import-legacy", str(legacy_db(tmp_path / "a", moved, []))).returncode
        == 0
    )
    done = repotrack(home, "db", "import-legacy", str(legacy_db(tmp_path / "b", TRACKING, [])))
    assert done.stdout.startswith("tracking: 2 imported, 1 already present, 0 refused;")
    assert state_rows(home)[0][0][3] == newer


def test_invalid_rows_are_refused_by_name_and_the_rest_imported(tmp_path: Path) -> None:
    bad = [
        ("svn", "x", "trunk", None, ZLIB, "svn-branch", 1),
        ("git", "ext::sh -c touch% /tmp/pwned", "master", None, ZLIB, "ext", 1),
        ("git", "https://example.org/x.git", "master", "not-a-sha", ZLIB, "badsha", 1),
    ]
    source = legacy_db(tmp_path / "db.sqlite", [*bad, TRACKING[0]], [])
    home = tmp_path / "home"
    done = repotrack(home, "db", "import-legacy", str(source))
    assert done.returncode == 1
    assert done.stdout.startswith("tracking: 1 imported, 0 already present, 3 refused;")
    refused = done.stderr.splitlines()
    assert len(refused) == 3
    assert refused[0].startswith(f"refused tracking {ZLIB} svn-branch: ")
    assert "version_control" in refused[0]
    assert "scm_repo" in refused[1] and "scm_commit" in refused[2]
    assert "pwned" not in done.stderr  # the value is never echoed
    assert [row[5] for row in state_rows(home)[0]] == ["master"]


@pytest.mark.parametrize("kind", ["missing", "not-sqlite", "no-issue-table", "no-column"])
def test_not_a_patch_tracking_database_is_bad_input(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "db.sqlite"
    if kind == "not-sqlite":
        path.write_bytes(b"this is not a database" * 100)
    elif kind == "no-issue-table":
        with sqlite3.connect(path) as conn:
            conn.executescript(ORIGINAL_SCHEMA.split("CREATE TABLE issue")[0])
        conn.close()
    elif kind == "no-column":
        with sqlite3.connect(path) as conn:
            conn.executescript(ORIGINAL_SCHEMA.replace("scm_commit VARCHAR(80), ", ""))
        conn.close()
    home = tmp_path / "home"
    done = repotrack(home, "db", "import-legacy", str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"InputError: {path}")
    assert "Traceback" not in done.stderr
