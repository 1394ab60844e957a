"""``[daemon]`` in repotrack.toml says what config.json and services.d say (same checks)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from repotrack.config import load_settings
from repotrack.daemon.config import (
    DEFAULT_CONFIG,
    load_daemon_config,
    resolve_daemon_config,
)
from repotrack.errors import ConfigError
from tests.unit.daemon.examples import write_examples


def toml_value(value: Any) -> str:
    """A JSON value as TOML (inline tables and arrays; JSON strings are TOML strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)


def native_toml(config: Path, services: Path) -> str:
    """The ``[daemon]`` section that says the same as the original's two kinds of file."""
    main = json.loads(config.read_text())
    lines = []
    for entry in main["services"]:
        body = json.loads((services / entry["config"]).read_text())
        lines.append(f"[daemon.services.{entry['name']}]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in body.items())
    if "notifier" in main:
        lines.append("[daemon.notifier]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in main["notifier"].items())
    return "\n".join(lines) + "\n"


def settings_from(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in [n for n in os.environ if n.startswith("REPOTRACK_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "repotrack.toml"
    path.write_text(f'home = "{tmp_path}"\n' + text)
    return load_settings(path), str(path)


def test_native_section_says_the_same_as_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, services = write_examples(tmp_path)
    settings, source = settings_from(tmp_path, native_toml(config, services), monkeypatch)

    native = resolve_daemon_config(settings.daemon, source)
    assert native == load_daemon_config(config, services)
    assert list(native.services) == [
        "task_loader",
        "acl_loader",
        "bugzilla_loader",
        "repo_loader",
        "beehive_loader",
        "repocop_loader",
        "watch_loader",
    ]
    assert native.services["task_loader"].amqp_batch_size == 10


def test_handwritten_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = """
[daemon.services.repo_loader]
workers_count = 2
max_redeliver_count = 1
repo_dirs = {p10 = "/archive/repo/p10/date/latest"}

[daemon.services.repo_loader.amqp]
host = "rabbit.example.org"
exchange = "uploaded-ex"

[daemon.services.repo_loader.amqp.queue]
name = "repo-loader-q"
type = "quorum"
bind_at_startup = [{exchange = "repodb-ex", routing_key = "repo.#"}]

[daemon.notifier.amqp]
host = "rabbit.example.org"
exchange = "notifier-ex"
"""
    settings, source = settings_from(tmp_path, text, monkeypatch)
    daemon = resolve_daemon_config(settings.daemon, source)
    repo = daemon.services["repo_loader"]
    assert (repo.workers_count, repo.max_redeliver_count) == (2, 1)
    assert repo.repo_dirs == {"p10": Path("/archive/repo/p10/date/latest")}
    assert repo.queue.bind_at_startup[0].routing_key == "repo.#"
    assert repo.amqp.effective_host == "rabbit.example.org"
    assert daemon.notifier is not None and daemon.notifier.amqp.exchange == "notifier-ex"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[daemon.services.watch_loader]\namqp = {queue = {name = "q", colour = "blue"}}\n',
            ": daemon.services.watch_loader.amqp.queue.colour: unknown key",
        ),
        (
            '[daemon.services.spdx_loader]\namqp = {queue = {name = "q"}}\n',
            ": daemon.services.spdx_loader: unknown service 'spdx_loader'",
        ),
        (
            "[daemon.services.watch_loader]\nworkers_count = 1\n",
            ": daemon.services.watch_loader.amqp.queue: is required",
        ),
        (
            '[daemon.services.watch_loader]\nworkers_count = 0\namqp = {queue = {name = "q"}}\n',
            ": daemon.services.watch_loader.workers_count: Input should be",
        ),
        (
            '[daemon]\nconfig = "/etc/uploaderd/config.json"\n'
            '[daemon.services.watch_loader]\namqp = {queue = {name = "q"}}\n',
            ": daemon.services: give the services here or name the original's files",
        ),
        (
            '[daemon.notifier.amqp]\nhost = "x"\n',
            ": daemon.notifier: goes with daemon.services",
        ),
        (
            '[daemon.notifier]\namqp = {host = "x", colour = 1}\n'
            '[daemon.services.watch_loader]\namqp = {queue = {name = "q"}}\n',
            ": daemon.notifier.amqp.colour: unknown key",
        ),
    ],
)
def test_bad_native_section_names_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    settings, source = settings_from(tmp_path, text, monkeypatch)
    with pytest.raises(ConfigError) as caught:
        resolve_daemon_config(settings.daemon, source)
    assert str(caught.value).startswith(source + message), str(caught.value)


def test_unknown_key_of_the_section_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'daemon\.servces'"):
        settings_from(tmp_path, "[daemon]\nservces = {}\n", monkeypatch)


def test_files_named_in_the_section_and_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, services = write_examples(tmp_path / "files", only=["watch_loader"])
    text = f'[daemon]\nconfig = "{config}"\nservice_dir = "{services}"\n'
    settings, source = settings_from(tmp_path, text, monkeypatch)
    expected = load_daemon_config(config, services)
    assert resolve_daemon_config(settings.daemon, source) == expected
    # -c / -s win over the section
    other_config, other_services = write_examples(tmp_path / "other", only=["acl_loader"])
    got = resolve_daemon_config(settings.daemon, source, other_config, other_services)
    assert list(got.services) == ["acl_loader"]
    # nothing anywhere: the original's default path, named in the error
    empty, _ = settings_from(tmp_path, "", monkeypatch)
    with pytest.raises(ConfigError, match=str(DEFAULT_CONFIG)):
        resolve_daemon_config(empty.daemon, None)
