"""A command's exit: the interpreter's garbage collections are skipped, nothing else is."""

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
