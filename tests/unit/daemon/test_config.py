"""The original's config.json and services.d/*.json, read as written (reference §7.2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repotrack.daemon.config import load_daemon_config
from repotrack.errors import ConfigError
from tests.unit.daemon.examples import write_examples


def test_examples_load_as_written(tmp_path: Path) -> None:
    config, services = write_examples(tmp_path)
    daemon = load_daemon_config(config, services)

    assert list(daemon.services) == [
        "task_loader",
        "acl_loader",
        "bugzilla_loader",
        "repo_loader",
        "beehive_loader",
        "repocop_loader",
        "watch_loader",
    ]
    task = daemon.services["task_loader"]
    assert (task.max_redeliver_count, task.requeue_on_reject, task.publish_on_done) == (
        2,
        True,
        True,
    )
    assert task.amqp_batch_size == 10
    assert task.tasks_archive_dir == Path("/archive/tasks/done")
    assert task.queue.name == "task-loader-q" and task.queue.type == "quorum"
    assert [b.routing_key for b in task.queue.bind_at_startup] == [
        "task.state",
        "task.progress",
        "task.subtask.approve",
        "task.subtask.disapprove",
    ]
    assert task.amqp.exchange == "uploaded-ex"
    assert task.amqp.effective_host == "localhost"  # the examples leave host empty
    repo = daemon.services["repo_loader"]
    assert repo.repo_dirs["sisyphus"] == Path("/archive/repo/sisyphus/date/latest")
    assert (repo.threads_count, repo.validate_date, repo.max_redeliver_count) == (4, True, 0)
    assert daemon.services["beehive_loader"].archs == ("i586", "x86_64")
    assert daemon.notifier is not None and daemon.notifier.amqp.exchange == "notifier-ex"
    assert "password=SecretStr(" in repr(daemon.notifier)  # passwords are secrets


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    config, services = write_examples(tmp_path)
    path = services / "acl_loader.json"
    body = json.loads(path.read_text())
    body["amqp"]["queue"]["colour"] = "blue"
    path.write_text(json.dumps(body))

    with pytest.raises(ConfigError) as caught:
        load_daemon_config(config, services)
    assert str(caught.value) == f"{path}: amqp.queue.colour: unknown key"


def test_unknown_top_level_key_in_config_json(tmp_path: Path) -> None:
    config, services = write_examples(tmp_path)
    body = json.loads(config.read_text())
    body["servces"] = []
    config.write_text(json.dumps(body))

    with pytest.raises(ConfigError, match=r"config\.json: servces: unknown key$"):
        load_daemon_config(config, services)


def test_unknown_service_name(tmp_path: Path) -> None:
    config, services = write_examples(tmp_path, only=["acl_loader"])
    config.write_text(json.dumps({"services": [{"name": "spdx_loader", "config": "x.json"}]}))

    with pytest.raises(ConfigError, match=r"services\.0\.name: unknown service 'spdx_loader'"):
        load_daemon_config(config, services)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "is not valid JSON"),
        ("[]", "must hold a JSON object"),
        (
            '{"workers_count": 0, "amqp": {"queue": {"name": "q"}}}',
            "workers_count: Input should be",
        ),
        ('{"workers_count": 1}', "amqp.queue: is required"),
    ],
)
def test_bad_service_file(tmp_path: Path, text: str, message: str) -> None:
    config, services = write_examples(tmp_path, only=["watch_loader"])
    path = services / "watch_loader.json"
    path.write_text(text)

    with pytest.raises(ConfigError, match=message) as caught:
        load_daemon_config(config, services)
    assert str(caught.value).startswith(str(path))


def test_missing_service_file(tmp_path: Path) -> None:
    config, services = write_examples(tmp_path, only=["watch_loader"])
    (services / "watch_loader.json").unlink()

    with pytest.raises(ConfigError, match=r"watch_loader\.json: cannot read"):
        load_daemon_config(config, services)
