"""What the benchmarks that time ``repotrack`` commands as a user runs them share.

Imported by the scripts beside it (run as ``python benchmarks/<name>.py``, which puts this
folder first on ``sys.path``).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["fresh_store", "repotrack_command", "stored_number", "timed"]


def repotrack_command() -> str:
    """The ``repotrack`` entry point of this environment (the one the benchmark runs in)."""
    found = shutil.which("repotrack", path=str(Path(sys.executable).parent))
    if found is None:
        sys.exit("the repotrack command is not installed in this environment (uv sync)")
    return found


def fresh_store(home: Path) -> dict[str, str]:
    """The environment of commands on a new embedded store under ``home`` (no other
    ``REPOTRACK_*`` setting of the caller's), its schema made, untimed: the figures are
    those of the command timed, not of creating tables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    env["REPOTRACK_HOME"] = str(home)
    subprocess.run([repotrack_command(), "db", "init"], check=True, capture_output=True, env=env)
    return env


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run a command to its end: (wall seconds, CPU seconds of it and its descendants,
    stdout). A command that fails stops the benchmark with its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(argv, check=False, capture_output=True, text=True, env=env)
    wall = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv[:4])} ... exited with {done.returncode}:\n{done.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout.strip()


def stored_number(env: dict[str, str], sql: str) -> list[int]:
    """The numbers of the one row ``sql`` gives, asked of the embedded store of
    ``env["REPOTRACK_HOME"]`` by a process of its own (not the loader's summary)."""
    code = (
        "import os\n"
        "from repotrack.store import open_store\n"
        "with open_store('chdb://' + os.environ['REPOTRACK_HOME'] + '/store') as s:\n"
        f"    print(*s.query({sql!r})[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env
    )
    return [int(n) for n in done.stdout.split()]
