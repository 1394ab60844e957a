"""What to do with one delivered message, before any loader runs (reference §7.4).

``decide`` is a pure function of the service, the routing key, the headers and the
body, so every rule is tested without a broker. In order:

1. a routing key the service does not take: reject, not requeued;
2. ``x-delivery-count`` (set by quorum queues) above ``max_redeliver_count``: reject,
   not requeued (the broker dead-letters it when the queue has a dead-letter exchange);
3. a body that is not a JSON object: reject, not requeued;
4. the task service's own filters: a message without ``taskid`` is left unacked (as
   the original does), states and progress messages it does not load are acked and
   dropped;
5. everything else is work, unacked until the loader has finished with it.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from repotrack.daemon.config import ServiceConfig

__all__ = [
    "DEFAULT_TASK_KEYS",
    "Action",
    "Decision",
    "accepted_keys",
    "decide",
    "topic_matches",
]


class Action(enum.Enum):
    WORK = "work"  # hand to the loader; ack when it succeeds
    DROP = "drop"  # ack and ignore: a message the service does not load
    REJECT = "reject"  # reject without requeue: it would fail the same way again
    LEAVE = "leave"  # neither ack nor reject (a task message without ``taskid``)


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)


DEFAULT_TASK_KEYS = {
    "TASK_STATE": "task.state",
    "TASK_PROGRESS": "task.progress",
    "TASK_APPROVE": "task.subtask.approve",
    "TASK_DISAPPROVE": "task.subtask.disapprove",
}

#: Routing keys each service takes when its file names none (§7.3); topic patterns.
_DEFAULT_KEYS = {
    "acl_loader": "acl.#",
    "bugzilla_loader": "bugzilla.#",
    "repo_loader": "repo.load",
    "beehive_loader": "beehive.load",
    "repocop_loader": "repocop.load",
    "watch_loader": "watch.load",
}

#: Task states whose directory is loaded (``eperm`` only through ``task.progress``).
LOADED_STATES = frozenset({"done", "failed", "new", "tested"})
DELETED = "deleted"


def accepted_keys(service: str, config: ServiceConfig) -> tuple[str, ...]:
    """The topic patterns of the routing keys ``service`` takes."""
    if service == "task_loader":
        return tuple((config.routing_keys_dict or DEFAULT_TASK_KEYS).values())
    if service in ("acl_loader", "bugzilla_loader"):
        return (_as_topic(config.routing_key_pattern or _DEFAULT_KEYS[service]),)
    return (config.routing_key or _DEFAULT_KEYS[service],)


def _as_topic(pattern: str) -> str:
    """The original's ``routing_key_pattern`` may be a bare prefix (``acl.``)."""
    return pattern + "#" if pattern.endswith(".") else pattern


def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: ``*`` is exactly one word, ``#`` zero or more."""
    return _match(pattern.split("."), key.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head in ("*", words[0])) and _match(rest, words[1:])


def decide(
    service: str,
    config: ServiceConfig,
    routing_key: str,
    headers: Mapping[str, Any] | None,
    body: bytes,
) -> Decision:
    """The §7.4 rules, in the original's order."""
    if not any(topic_matches(p, routing_key) for p in accepted_keys(service, config)):
        return Decision(Action.REJECT, f"unexpected routing key {routing_key!r}")
    count = _delivery_count(headers)
    if count > config.max_redeliver_count:
        return Decision(
            Action.REJECT,
            f"delivered {count} times, more than max_redeliver_count {config.max_redeliver_count}",
        )
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Decision(Action.REJECT, f"body is not valid JSON ({exc})")
    if not isinstance(payload, dict):
        return Decision(Action.REJECT, "body is not a JSON object")
    if service == "task_loader":
        return _task_decision(config, routing_key, payload)
    return Decision(Action.WORK, payload=payload)


def _delivery_count(headers: Mapping[str, Any] | None) -> int:
    value = (headers or {}).get("x-delivery-count", 0)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _task_decision(config: ServiceConfig, key: str, payload: dict[str, Any]) -> Decision:
    keys = config.routing_keys_dict or DEFAULT_TASK_KEYS
    if "taskid" not in payload:
        return Decision(Action.LEAVE, "message has no taskid")
    if key == keys.get("TASK_STATE"):
        state = str(payload.get("state", "")).lower()
        if state == "eperm":
            return Decision(Action.DROP, "task.state eperm comes before the hashes")
        if state in LOADED_STATES or state == DELETED:
            return Decision(Action.WORK, payload=payload)
        return Decision(Action.DROP, f"task state {state!r} is not loaded")
    if key == keys.get("TASK_PROGRESS"):
        if (
            payload.get("stage") == "build-task"
            and str(payload.get("state", "")).lower() == "eperm"
            and payload.get("stage_status") in ("processed", "failed")
        ):
            return Decision(Action.WORK, payload=payload)
        return Decision(Action.DROP, "progress message not loaded")
    return Decision(Action.WORK, payload=payload)
