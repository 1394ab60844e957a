"""The ``[feeds]`` settings: defaults, a schedule from TOML, refused values."""

from __future__ import annotations

from pathlib import Path

import pytest

from repotrack.config import load_settings
from repotrack.errors import ConfigError


def test_defaults_schedule_nothing() -> None:
    feeds = load_settings().feeds
    assert feeds.interval == {}
    assert feeds.watch_url == "https://watch.altlinux.org/pub/watch/watch-total.txt"
    assert (feeds.timeout, feeds.max_retries) == (60.0, 3)


def test_interval_table(tmp_path: Path) -> None:
    path = tmp_path / "repotrack.toml"
    path.write_text("[feeds]\ntimeout = 5\n[feeds.interval]\nwatch = 3600\n", encoding="utf-8")
    feeds = load_settings(path).feeds
    assert (feeds.timeout, feeds.interval) == (5.0, {"watch": 3600})


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[feeds.interval]\nnope = 5\n", "unknown feed 'nope'"),
        ("[feeds.interval]\nwatch = -1\n", "must not be negative"),
        ("[feeds]\ntimeout = 0\n", "feeds.timeout"),
    ],
)
def test_refused(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "repotrack.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(path)
