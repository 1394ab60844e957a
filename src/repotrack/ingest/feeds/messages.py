"""Handlers of the AMQP messages that carry single acl and Bugzilla changes (§5.1, §5.3, §7.3).

The daemon calls these with the message body (bytes or already-decoded JSON) and the
routing key; each returns the number of rows it inserted. A body that is not the
expected JSON shape is an ``InputError`` naming the missing field, which the daemon
rejects without requeueing (it would fail the same way again).

- ``acl.*`` (``girar-ex``): ``{"_timestamp": <epoch>, "target": "<pkg or @group>",
  "repo": "<branch>", "new_owners": [...]}`` -> one ``Acl`` row.
- ``beehive.load``, ``repocop.load``, ``watch.load`` (``repodb-ex``): the payload is
  ignored and the whole feed runs (``handle_feed_load_message``), as in the original.
- ``bugzilla.comment.new`` / ``bugzilla.bug.changed.*`` (``bugzilla-ex``):
  ``{"_meta": {"time": "<ISO>"}, "payload": {...}}`` -> one ``Bugzilla`` row when the
  bug's 15 columns differ from its last stored state. Other keys are no-ops.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from repotrack.config import FeedsSettings
from repotrack.errors import InputError
from repotrack.ingest.feeds.acl import ACL_COLUMNS
from repotrack.ingest.feeds.bugzilla import BUG_COLUMNS
from repotrack.ingest.feeds.runner import FeedRequest, run_feed
from repotrack.sources.feeds import Bug
from repotrack.sources.times import STORE_END, store_time
from repotrack.store import Store

__all__ = [
    "ACL_ROUTING_PREFIX",
    "BUGZILLA_ROUTING_PREFIX",
    "handle_acl_message",
    "handle_bugzilla_message",
]

#: Routing keys that trigger a whole feed run, and the feed each runs.
FEED_LOAD_KEYS = {"beehive.load": "beehive", "repocop.load": "repocop", "watch.load": "watch"}
ACL_ROUTING_PREFIX = "acl."
BUGZILLA_ROUTING_PREFIX = "bugzilla."

_FULL_STATE = """
    SELECT argMax(tuple(bz_id, bz_status, bz_resolution, bz_severity, bz_priority,
        bz_product, bz_version, bz_platform, bz_component, bz_assignee, bz_reporter,
        bz_summary, bz_last_changed, bz_assignee_full, bz_reporter_full), ts)
    FROM Bugzilla WHERE bz_id = {id:UInt32} GROUP BY bz_id
"""


def handle_acl_message(store: Store, body: bytes | Mapping[str, Any]) -> int:
    """Insert the one acl change a girar ``acl.*`` message announces."""
    message = _decode(body)
    when = _unix_time(_field(message, "_timestamp")).replace(microsecond=0)
    target = str(_field(message, "target"))
    branch = str(_field(message, "repo"))
    owners = _field(message, "new_owners")
    if not isinstance(owners, list) or not all(isinstance(o, str) for o in owners):
        raise InputError("must be a list of nicknames", field="new_owners")
    store.insert("Acl", ACL_COLUMNS, [(when, target, branch, owners)])
    return 1


def handle_bugzilla_message(store: Store, routing_key: str, body: bytes | Mapping[str, Any]) -> int:
    """Insert the bug state a Bugzilla message carries, when it differs from the stored one."""
    key = routing_key.removeprefix(BUGZILLA_ROUTING_PREFIX)
    message = _decode(body)
    payload = _field(message, "payload")
    if key == "comment.new":
        bug = _field(_field(payload, "comment"), "bug")
    elif key.startswith("bug.changed"):
        bug = _field(payload, "bug")
    else:
        return 0
    text = str(_field(_field(message, "_meta"), "time"))
    try:
        changed = store_time(datetime.fromisoformat(text))
    except ValueError:
        raise InputError("must be an ISO 8601 time", field="_meta.time") from None
    row = _bug_row(bug, changed)
    rows = store.query(_FULL_STATE, {"id": row[0]})
    if rows and tuple(rows[0][0]) == row:
        return 0
    store.insert("Bugzilla", (*BUG_COLUMNS, "bz_assignee_full", "bz_reporter_full"), [row])
    return 1


def handle_feed_load_message(store: Store, settings: FeedsSettings, routing_key: str) -> int:
    """Run the feed a ``<feed>.load`` message names; the body is not read. Rows added."""
    feed = FEED_LOAD_KEYS.get(routing_key)
    if feed is None:
        raise InputError(f"expected one of {', '.join(FEED_LOAD_KEYS)}", field=routing_key)
    return run_feed(store, settings, FeedRequest(feed)).rows


def _bug_row(bug: Any, changed: datetime) -> tuple[object, ...]:
    assignee = str(_field(_field(bug, "assigned_to"), "login"))
    reporter = str(_field(_field(bug, "reporter"), "login"))
    record = Bug(
        bz_id=int(_field(bug, "id")),
        bz_status=str(_field(_field(bug, "status"), "label")),
        bz_resolution=str(bug.get("resolution") or ""),
        bz_severity=str(bug.get("severity") or ""),
        bz_priority=str(bug.get("priority") or ""),
        bz_product=str(_field(_field(bug, "product"), "name")),
        bz_version=_version(bug),
        bz_platform=str(bug.get("platform") or ""),
        bz_component=str(_field(_field(bug, "component"), "name")),
        bz_assignee=assignee.partition("@")[0],
        bz_reporter=reporter.partition("@")[0],
        bz_summary=str(bug.get("summary") or ""),
        bz_last_changed=changed.replace(microsecond=0),
    )
    return (*record.key(), assignee, reporter)


def _version(bug: Mapping[str, Any]) -> str:
    """The bug's version as sent (``""`` stays ``""``); ``all`` only when it is missing,
    as the original stored it."""
    version = bug.get("version")
    return "all" if version is None else str(version)


def _unix_time(value: Any) -> datetime:
    """A message's ``_timestamp`` (Unix seconds) as a stored time; an InputError naming
    the field for anything else (before 2026-12-07 the daemon rejected such a message
    with the interpreter's ``ValueError`` or ``OverflowError`` text)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InputError("must be a Unix time", field="_timestamp")
    try:
        seconds = float(value)
    except ValueError:
        raise InputError("must be a Unix time", field="_timestamp") from None
    if not 0 <= seconds <= STORE_END.timestamp():  # nan fails too
        raise InputError("must be a Unix time, 1970 to 2106", field="_timestamp")
    return datetime.fromtimestamp(seconds, UTC)


def _decode(body: bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        return body
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"message body is not JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise InputError("message body is not a JSON object")
    return message


def _field(data: Any, name: str) -> Any:
    if not isinstance(data, Mapping) or data.get(name) is None:
        raise InputError("missing from the message", field=name)
    return data[name]
