"""The §7.4 message rules, each on its own (no broker)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repotrack.daemon.config import ServiceConfig, load_service_config
from repotrack.daemon.rules import Action, decide, topic_matches
from tests.unit.daemon.examples import write_examples


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ServiceConfig]:
    _, services = write_examples(tmp_path_factory.mktemp("cfg"))
    return {p.stem: load_service_config(p) for p in services.glob("*.json")}


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("acl.#", "acl", True),
        ("acl.#", "acl.changed.pkg", True),
        ("acl.#", "aclx.changed", False),
        ("repo.load", "repo.load", True),
        ("repo.load", "repo.loads", False),
        ("bugzilla.*.new", "bugzilla.comment.new", True),
        ("bugzilla.*.new", "bugzilla.new", False),
        ("#", "anything.at.all", True),
    ],
)
def test_topic_matches(pattern: str, key: str, expected: bool) -> None:
    assert topic_matches(pattern, key) is expected


def test_unknown_routing_key_rejected(configs: dict[str, ServiceConfig]) -> None:
    got = decide("repo_loader", configs["repo_loader"], "repo.unload", None, body(branch="p10"))
    assert got.action is Action.REJECT and "repo.unload" in got.reason
    assert decide("acl_loader", configs["acl_loader"], "acl.x", None, b"{}").action is Action.WORK
    assert (
        decide("acl_loader", configs["acl_loader"], "bugzilla.x", None, b"{}").action
        is Action.REJECT
    )


def test_delivery_count_over_limit(configs: dict[str, ServiceConfig]) -> None:
    task = configs["task_loader"]
    message = body(taskid=1, state="DONE")
    assert (
        decide("task_loader", task, "task.state", {"x-delivery-count": 2}, message).action
        is Action.WORK
    )
    over = decide("task_loader", task, "task.state", {"x-delivery-count": 3}, message)
    assert over.action is Action.REJECT and "max_redeliver_count 2" in over.reason
    # max_redeliver_count 0: the first redelivery is already one too many
    assert (
        decide(
            "watch_loader", configs["watch_loader"], "watch.load", {"x-delivery-count": 1}, b"{}"
        ).action
        is Action.REJECT
    )


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[1, 2]", b'"text"'])
def test_invalid_json_rejected(configs: dict[str, ServiceConfig], raw: bytes) -> None:
    assert (
        decide("watch_loader", configs["watch_loader"], "watch.load", None, raw).action
        is Action.REJECT
    )


def test_routing_key_checked_before_json(configs: dict[str, ServiceConfig]) -> None:
    got = decide("watch_loader", configs["watch_loader"], "watch.other", None, b"{")
    assert "routing key" in got.reason


@pytest.mark.parametrize(
    ("key", "fields", "action"),
    [
        ("task.state", {"taskid": 5, "state": "DONE"}, Action.WORK),
        ("task.state", {"taskid": 5, "state": "tested"}, Action.WORK),
        ("task.state", {"taskid": 5, "state": "NEW"}, Action.WORK),
        ("task.state", {"taskid": 5, "state": "FAILED"}, Action.WORK),
        ("task.state", {"taskid": 5, "state": "DELETED"}, Action.WORK),
        ("task.state", {"taskid": 5, "state": "EPERM"}, Action.DROP),
        ("task.state", {"taskid": 5, "state": "BUILDING"}, Action.DROP),
        ("task.state", {"taskid": 5, "state": "AWAITING"}, Action.DROP),
        (
            "task.progress",
            {"taskid": 5, "stage": "build-task", "state": "EPERM", "stage_status": "processed"},
            Action.WORK,
        ),
        (
            "task.progress",
            {"taskid": 5, "stage": "build-task", "state": "EPERM", "stage_status": "failed"},
            Action.WORK,
        ),
        (
            "task.progress",
            {"taskid": 5, "stage": "build-task", "state": "EPERM", "stage_status": "started"},
            Action.DROP,
        ),
        (
            "task.progress",
            {"taskid": 5, "stage": "test", "state": "EPERM", "stage_status": "processed"},
            Action.DROP,
        ),
        ("task.subtask.approve", {"taskid": 5, "subtaskid": 100}, Action.WORK),
        ("task.state", {"state": "DONE"}, Action.LEAVE),
    ],
)
def test_task_filters(
    configs: dict[str, ServiceConfig], key: str, fields: dict[str, object], action: Action
) -> None:
    assert decide("task_loader", configs["task_loader"], key, None, body(**fields)).action is action


def test_defaults_without_files(tmp_path: Path) -> None:
    bare = ServiceConfig.model_validate({"amqp": {"queue": {"name": "q"}}})
    assert decide("task_loader", bare, "task.progress", None, body(taskid=1)).action is Action.DROP
    assert decide("repo_loader", bare, "repo.load", None, b"{}").action is Action.WORK
    assert decide("beehive_loader", bare, "beehive.load", None, b"{}").action is Action.WORK
