"""task_loader's options as the original reads them (altrepo §3.1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from repotrack.cli.repo_loader import store_url_from_args
from repotrack.cli.task_loader import _workers, task_loader_parser
from repotrack.errors import ConfigError


def test_workers_is_the_larger_of_option_and_config(tmp_path: Path) -> None:
    config = tmp_path / "config.ini"
    config.write_text("[DEFAULT]\nworkers = 6\n[DATABASE]\nhost = db.example\nport = 9000\n")
    parser = task_loader_parser()
    assert _workers(parser.parse_args(["/tasks/1"])) == 4
    assert _workers(parser.parse_args(["/tasks/1", "-w", "2", "-c", str(config)])) == 6
    assert _workers(parser.parse_args(["/tasks/1", "-w", "9", "-c", str(config)])) == 9
    args = parser.parse_args(["/tasks/1", "-c", str(config), "-u", "loader"])
    assert store_url_from_args(args) == "clickhouse://loader@db.example:8123/default"
    config.write_text("[DEFAULT]\nworkers = many\n")
    with pytest.raises(ConfigError, match="workers"):
        _workers(parser.parse_args(["/tasks/1", "-c", str(config)]))
