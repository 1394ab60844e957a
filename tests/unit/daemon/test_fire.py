"""``repodb_amqpfire``'s config file and message bodies (reference §7.6), without a broker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repotrack.daemon.fire import fire_body, load_fire_config
from repotrack.errors import ConfigError, InputError


def write(tmp_path: Path, **body: object) -> Path:
    path = tmp_path / "amqpfire.json"
    path.write_text(json.dumps(body))
    return path


def test_bodies(tmp_path: Path) -> None:
    config = load_fire_config(write(tmp_path, host="rabbit", exchange="repodb-ex"))
    assert config.known_branches == ("p9", "p10", "sisyphus") and config.port == 5672
    assert fire_body("repo", ["p10", "2024-05-01"], config) == {
        "branch": "p10",
        "date": "2024-05-01",
    }
    for service in ("watch", "repocop", "beehive"):
        assert fire_body(service, [], config) == {}


@pytest.mark.parametrize(
    ("service", "params", "message"),
    [
        ("repo", ["p10"], "exactly two"),
        ("repo", ["p10", "2024-05-01", "x"], "exactly two"),
        ("repo", ["c7", "2024-05-01"], "unknown branch 'c7'"),
        ("repo", ["p10", "2024-13-01"], "is not a date"),
        ("images", [], "must be one of repo, watch, repocop, beehive"),
    ],
)
def test_bad_requests(tmp_path: Path, service: str, params: list[str], message: str) -> None:
    config = load_fire_config(write(tmp_path, known_branches=["p10", "c7x"]))
    with pytest.raises(InputError, match=message):
        fire_body(service, params, config)


def test_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"amqpfire\.json: cacert: no such file"):
        load_fire_config(write(tmp_path, cacert=str(tmp_path / "nope.pem")))
    with pytest.raises(ConfigError, match=r"amqpfire\.json: queue: unknown key"):
        load_fire_config(write(tmp_path, queue="x"))
    config = load_fire_config(write(tmp_path, password="hunter2"))
    assert "hunter2" not in repr(config)
