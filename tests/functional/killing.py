"""Kill a repotrack command after each of its writes, run it again, compare with a clean run.

What every ``test_*_crash.py`` does with ``crashing_cli.py``: a command run as a user
runs it, or SIGKILLed right after its k-th write to the store; a store template copied
into a fresh ``REPOTRACK_HOME`` for each case; and ``every_kill``, which tries every k
and compares what readers see after the rerun with what one clean run left.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from repotrack.store import Store, open_store

__all__ = ["every_kill", "freeze", "home_from", "prepared", "rows", "run_cli"]

CRASHING = Path(__file__).resolve().parent / "crashing_cli.py"
BIN = Path(sys.executable).parent

#: What a clean run leaves, as readers see it: name -> rows (a Counter, a set, a value).
Dump = Callable[[Path], dict[str, Any]]


def run_cli(
    home: Path, args: list[str], *, kill_after: int | None = None, insert_rows: int | None = None
) -> subprocess.CompletedProcess[str]:
    """``repotrack args`` as a user runs it in ``home``, or (``kill_after``) killed after
    that many writes, its inserts sent ``insert_rows`` rows a statement (0: only log the
    writes to ``home/writes.log``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    env.pop("CRASH_INSERT_ROWS", None)
    env["REPOTRACK_HOME"] = str(home)
    head = [str(BIN / "repotrack")]
    if kill_after is not None:
        head = [sys.executable, str(CRASHING), str(kill_after), str(home / "writes.log")]
        if insert_rows is not None:
            env["CRASH_INSERT_ROWS"] = str(insert_rows)
    return subprocess.run(
        [*head, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def freeze(value: Any) -> Any:
    """A row as a hashable value (arrays become tuples, maps sorted pairs)."""
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    return value


def rows(store: Store, sql: str) -> Counter[Any]:
    """The rows of ``sql`` as a multiset: a row stored twice is counted twice."""
    return Counter(freeze(row) for row in store.query(sql))


def home_from(factory: pytest.TempPathFactory, template: Path, name: str) -> Path:
    """A fresh home whose store is a copy of the closed store directory ``template``."""
    home = factory.mktemp(name)
    shutil.copytree(template, home / "store", symlinks=True)
    return home


def prepared(
    factory: pytest.TempPathFactory, name: str, source: Path, fill: Callable[[Store], None]
) -> Path:
    """A closed store directory: a copy of ``source``, then ``fill``."""
    path = factory.mktemp(name) / "store"
    shutil.copytree(source, path, symlinks=True)
    with open_store(f"chdb://{path}") as store:
        fill(store)
    return path


def every_kill(
    factory: pytest.TempPathFactory,
    template: Path,
    args: list[str],
    dump: Dump,
    *,
    said: str = "",
    published: str | None = None,
    insert_rows: int | None = None,
    reruns: int = 1,
) -> tuple[list[str], dict[str, Any]]:
    """Kill ``args`` after each of its writes, run it again, compare with a clean run.

    The clean run (which prints ``said``) logs its writes; for every k, a copy of
    ``template`` gets the command killed after write k, then ``reruns`` normal runs,
    each compared with the clean run by ``dump``. With ``published`` (a write, such as
    ``insert PackageSetName``), a run killed after the last such write has published
    its result: the rerun must refuse with exit 1 and ``already loaded``, and the
    journal entries the killed run had not forgotten yet are left to the next load's
    repair (they name a published root, so it deletes nothing else); before it, and
    without ``published``, the rerun must succeed. Every failing k is collected and
    reported together. Returns the clean run's writes and what it left.
    """
    clean = home_from(factory, template, "clean")
    done = run_cli(clean, args, kill_after=0, insert_rows=insert_rows)
    assert done.returncode == 0, done.stderr
    assert said in done.stdout, done.stdout
    writes = (clean / "writes.log").read_text().splitlines()
    assert writes, "the clean run wrote nothing"
    want = dump(clean)
    last = len(writes) + 1
    if published is not None:
        last = max(i for i, w in enumerate(writes, 1) if w == published)
    failures = []
    for after in range(1, len(writes) + 1):
        home = home_from(factory, template, f"kill{after}")
        killed = run_cli(home, args, kill_after=after, insert_rows=insert_rows)
        assert killed.returncode == -signal.SIGKILL, (after, killed.stderr)
        for rerun in range(1, reruns + 1):
            again = run_cli(home, args)
            got = dump(home)
            wrong = [_differs(key, got.get(key), value) for key, value in want.items()]
            wrong = [w for w in wrong if w]
            if after >= last and [w.split(":")[0] for w in wrong] == ["journal"]:
                wrong = []  # killed while forgetting its entries: the next repair drops them
            refused = again.returncode == 1 and "already loaded" in again.stderr
            ok = refused if after >= last else again.returncode == 0
            if not ok or wrong:
                failures.append(
                    f"killed after write {after} of {len(writes)} ({writes[after - 1]}), "
                    f"run {rerun} after: exit {again.returncode}, printed "
                    f"{again.stdout.strip()!r} {again.stderr.strip()!r}; "
                    f"differs: {'; '.join(wrong) or 'nothing'}"
                )
        shutil.rmtree(home)
    assert not failures, "\n".join(failures)
    return writes, want


def _differs(key: str, got: Any, want: Any) -> str:
    """How ``got`` differs from the clean run's ``want`` ('' when it does not)."""
    if got == want:
        return ""
    if isinstance(got, Counter) and isinstance(want, Counter):
        return (
            f"{key}: {sum(got.values())} rows, {sum((got - want).values())} not in a clean "
            f"run, {sum((want - got).values())} missing"
        )
    return f"{key}: {got!r} against {want!r}"
