"""A small world for pipeline tests: a local upstream, a fake forge with git, a state DB.

Shared by ``test_pipeline*.py``, the end-to-end test and the benchmark. Everything is
real: git repositories in a temporary directory, the fake forge in ``tests/forges``
serving the downstream bare repository over smart HTTP, SQLite or PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

SPEC = """\
Name:           hello
Version:        1.0
Release:        1%{?dist}
Summary:        Says hello
License:        MIT
Source0:        hello-%{version}.tar.gz

%description
Says hello.

%prep
%autosetup -p1

%files
/usr/bin/hello

%changelog
* Mon Jan 05 2026 Packager <p@example.org> - 1.0-1
- first build
"""

_EPOCH = 1767225600  # 2026-01-01T00:00:00Z
_ENV = {
    "GIT_AUTHOR_NAME": "Up Stream",
    "GIT_AUTHOR_EMAIL": "up@example.org",
    "GIT_COMMITTER_NAME": "Up Stream",
    "GIT_COMMITTER_EMAIL": "up@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(cwd: Path, *args: str, date: str | None = None) -> str:
    env = {**os.environ, **_ENV}
    if date is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def make_upstream(path: Path, *, branch: str = "main", tag: str = "v1.0") -> str:
    """A repository with one commit (tagged ``tag``); returns its sha."""
    path.mkdir(parents=True)
    git(path, "init", "--quiet", f"--initial-branch={branch}")
    (path / "hello.c").write_text("int main(void) { return 0; }\n", encoding="utf-8")
    (path / "NOTES").write_text("notes\n", encoding="utf-8")
    git(path, "add", ".")
    git(path, "commit", "--quiet", "-m", "initial import", date=f"@{_EPOCH} +0000")
    git(path, "tag", tag)
    return git(path, "rev-parse", "HEAD")


def add_commits(path: Path, count: int, *, start: int = 0) -> list[str]:
    """``count`` commits, each appending a line to NOTES; returns their shas, oldest first."""
    shas = []
    for n in range(start, start + count):
        with (path / "NOTES").open("a", encoding="utf-8") as notes:
            notes.write(f"change {n}\n")
        date = f"@{_EPOCH + 3600 * (n + 1)} +0000"  # fixed dates: the same shas every time
        git(
            path, "commit", "--quiet", "-am", f"change {n} | piped\n\nbody of change {n}", date=date
        )
        shas.append(git(path, "rev-parse", "HEAD"))
    return shas


@dataclass
class Downstream:
    full_name: str
    bare: Path


def seed_downstream(forge: object, full_name: str, *, spec: str = SPEC) -> Downstream:
    """A bare repository on the fake forge whose ``master`` holds ``<name>.spec``."""
    from tests.forges.githttp import init_repo

    bare = init_repo(forge, full_name)  # type: ignore[arg-type]
    work = bare.parent / (bare.name + ".seed")
    work.mkdir()
    git(work, "init", "--quiet", "--initial-branch=master")
    name = full_name.rsplit("/", 1)[1]
    (work / f"{name}.spec").write_text(spec, encoding="utf-8")
    git(work, "add", ".")
    git(work, "commit", "--quiet", "-m", "packaging")
    git(work, "push", "--quiet", str(bare), "master")
    return Downstream(full_name, bare)


def branches(bare: Path, prefix: str = "patch-tracking/") -> list[str]:
    out = git(bare, "for-each-ref", "--format=%(refname:short)", f"refs/heads/{prefix}")
    return [line for line in out.splitlines() if line]


def files_on(bare: Path, branch: str) -> list[str]:
    return git(bare, "ls-tree", "--name-only", branch).splitlines()


def show(bare: Path, branch: str, path: str) -> str:
    return git(bare, "show", f"{branch}:{path}")
