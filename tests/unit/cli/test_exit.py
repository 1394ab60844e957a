"""A command's garbage collection: less often while it runs, none at its exit, nothing
else changed."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from repotrack.cli import common


def test_an_entry_point_freezes_the_objects_at_exit_once(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[Callable[[], object]] = []
    monkeypatch.setattr(common, "_exit_collection_skipped", False)
    monkeypatch.setattr(common, "_collection_tuned", True)  # leave pytest's own collection alone
    monkeypatch.setattr(common.atexit, "register", registered.append)
    entry = common.guarded(lambda: None)
    entry()
    entry()  # a second command in the same process (tests, the aliases) adds nothing
    assert registered == [gc.freeze]


def test_what_a_command_writes_and_logs_is_all_there_after_exit(tmp_path: Path) -> None:
    """Run as its own process: exit handlers still run (logging's flush to a file), the
    standard streams are flushed, and the exit status is the command's."""
    log_file = tmp_path / "command.log"
    script = textwrap.dedent(
        f"""
        import logging, sys
        from repotrack.cli.common import guarded

        handler = logging.FileHandler({str(log_file)!r})
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)

        def entry():
            cycle = []
            cycle.append(cycle)  # garbage the exit no longer collects
            for n in range(20000):
                sys.stdout.write(f"line {{n}}\\n")
            logging.getLogger("repotrack").info("load done")
            raise SystemExit(3)

        guarded(entry)()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 3, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 20000
    assert lines[-1] == "line 19999"
    assert log_file.read_text() == "load done\n"


def test_an_entry_point_collects_less_often_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    monkeypatch.setattr(common, "_collection_tuned", False)
    monkeypatch.setattr(common, "_exit_collection_skipped", True)
    monkeypatch.setattr(common.gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(common.gc, "set_threshold", lambda *n: calls.append(n))
    entry = common.guarded(lambda: None)
    entry()
    entry()
    assert calls == ["freeze", common.COLLECTION_THRESHOLDS]


def test_a_command_still_frees_reference_cycles_as_it_runs() -> None:
    """Run as its own process: the thresholds are raised, collection stays on, and
    cycles that became garbage are freed without anyone calling ``gc.collect``."""
    script = textwrap.dedent(
        """
        import gc, sys, weakref
        from repotrack.cli.common import COLLECTION_THRESHOLDS, guarded

        class Node:
            pass

        def entry():
            assert gc.isenabled() and gc.get_threshold() == COLLECTION_THRESHOLDS
            freed = []
            for _ in range(3):
                node = Node()
                node.self = node  # a cycle: only the collector frees it
                weakref.finalize(node, freed.append, 1)
                del node
            assert freed == []
            keep = [[n] for n in range(2 * COLLECTION_THRESHOLDS[0])]  # new containers
            assert len(freed) == 3, freed
            sys.stdout.write(f"{len(keep)} ok")

        guarded(entry)()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(" ok")
