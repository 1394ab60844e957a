"""Helpers (no tests) for the git-backed tracking tests: real repositories in tmp dirs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

BASE_TIME = 1_700_000_000


def git_env(seconds: int = BASE_TIME) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Ada Upstream",
            "GIT_AUTHOR_EMAIL": "ada@example.org",
            "GIT_COMMITTER_NAME": "Ada Upstream",
            "GIT_COMMITTER_EMAIL": "ada@example.org",
            "GIT_AUTHOR_DATE": f"@{seconds} +0200",
            "GIT_COMMITTER_DATE": f"@{seconds} +0200",
        }
    )
    return env


def git(cwd: Path, *args: str, stdin: bytes | None = None, seconds: int = BASE_TIME) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=git_env(seconds),
        input=stdin,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr.decode()}")
    return done.stdout.decode("utf-8", "replace").strip()


class Repo:
    """A small non-bare repository with deterministic commit dates."""

    def __init__(self, path: Path, branch: str = "main") -> None:
        self.path = path
        self.clock = BASE_TIME
        path.mkdir(parents=True, exist_ok=True)
        git(path, "init", "--quiet", "-b", branch)

    @property
    def url(self) -> str:
        return self.path.as_uri()

    def git(self, *args: str, stdin: bytes | None = None) -> str:
        self.clock += 60
        return git(self.path, *args, stdin=stdin, seconds=self.clock)

    def write(self, files: dict[str, bytes | str | None]) -> None:
        for name, content in files.items():
            target = self.path / name
            if content is None:
                self.git("rm", "--quiet", "--", name)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode() if isinstance(content, str) else content)
            self.git("add", "--", name)

    def commit(self, message: str, files: dict[str, bytes | str | None] | None = None) -> str:
        self.write(files or {})
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.head()

    def head(self, rev: str = "HEAD") -> str:
        return self.git("rev-parse", rev)


def make_history(repo: Repo) -> dict[str, str]:
    """A main branch with plain, binary, rename, merge and empty commits; returns named shas."""
    shas: dict[str, str] = {}
    lines = "".join(f"line {i}\n" for i in range(1, 40))
    shas["base"] = repo.commit(
        "Initial import", {"src/main.c": lines, "README": "hello\n", "old_name.txt": "keep me\n"}
    )
    repo.git("tag", "v1.0")
    shas["fix"] = repo.commit(
        "Fix off-by-one | in parser\n\nLonger body\nwith two lines.",
        {"src/main.c": (fixed := lines.replace("line 5\n", "line five\n"))},
    )
    shas["binary"] = repo.commit(
        "Add logo", {"logo.bin": bytes(range(256)) * 8 + b"\x00\xff" * 100}
    )
    repo.git("mv", "old_name.txt", "new_name.txt")
    shas["rename"] = repo.commit("Rename a file")
    repo.git("checkout", "--quiet", "-b", "feature")
    shas["side1"] = repo.commit("Side work 1", {"feature.txt": "one\n"})
    shas["side2"] = repo.commit("Side work 2", {"feature.txt": "one\ntwo\n"})
    repo.git("checkout", "--quiet", "main")
    shas["main2"] = repo.commit("Main work while feature grows", {"README": "hello\nworld\n"})
    repo.git("merge", "--quiet", "--no-ff", "feature", "-m", "Merge branch 'feature'")
    shas["merge"] = repo.head()
    shas["empty"] = repo.commit("Empty commit")
    shas["last"] = repo.commit(
        "Ünïcode subject", {"src/main.c": fixed.replace("line 30\n", "line thirty\n")}
    )
    return shas
