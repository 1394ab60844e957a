"""`repotrack load <feed>` and the `*_loader` aliases, offline from files, as a user would."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repotrack.cli import feed_loaders, main
from repotrack.store import open_store

WATCH = b"ivan\tfoo\t1.0\t1.2\thttps://example.org/foo\nbad\n"


def watch_file(tmp_path: Path) -> Path:
    path = tmp_path / "watch-total.txt"
    path.write_bytes(WATCH)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    return path


def test_load_watch_offline_then_unchanged(tmp_path: Path) -> None:
    path = watch_file(tmp_path)
    runner = CliRunner()
    first = runner.invoke(main.app, ["load", "watch", str(path)])
    assert first.exit_code == 0, first.output
    assert "watch: 1 rows added; 1 lines skipped" in first.output
    assert f"skipped: {path}:2: expected 5 tab-separated fields" in first.output
    second = runner.invoke(main.app, ["load", "watch", str(path)])
    assert "watch: 0 rows added (not modified since 2023-11-14 22:13:20 UTC)" in second.output
    with open_store(f"chdb://{os.environ['REPOTRACK_HOME']}/store") as store:
        assert store.query("SELECT pkg_name, new_version FROM PackagesWatch") == [("foo", "1.2")]


def test_bad_source_is_one_line_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main.app, ["load", "acl", str(tmp_path / "absent")])
    assert result.exit_code == 2
    assert result.output.strip() == f"InputError: {tmp_path / 'absent'}: no such directory"


def test_watch_loader_alias(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        feed_loaders.watch_main([str(watch_file(tmp_path))])
    assert done.value.code == 0
    assert "watch: 1 rows added" in capsys.readouterr().out
    with pytest.raises(SystemExit) as failed:
        feed_loaders.repocop_main(["ftp://example.org/x"])
    assert failed.value.code == 2
    assert "InputError: ftp://example.org/x: only http://" in capsys.readouterr().err
