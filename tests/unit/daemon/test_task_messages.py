"""girar task messages through the daemon into a real chDB store (reference §7.4).

The task directories are the standard ones of ``tests.fixtures.girar``: 1100 (DONE,
only in the archive, ``_1/1100``), 2001 (FAILED) and 2002 (NEW); approvals,
deletion and a missing directory as girar announces them.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from repotrack.config import load_settings
from repotrack.daemon.handlers import work_for
from repotrack.store import Store
from tests.fixtures.girar import task_tree
from tests.unit.daemon.broker import publish, running, write_config
from tests.unit.store.storeutil import open_fresh_store

pytestmark = pytest.mark.services


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


def states(store: Store) -> list[tuple[int, str]]:
    rows = store.query("SELECT task_id, task_state FROM TaskStates ORDER BY task_id, ts")
    return [(int(t), str(s)) for t, s in rows]


def test_task_messages_load_once(
    pfx: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, store: Store
) -> None:
    tasks = task_tree(tmp_path_factory.mktemp("girar"), tmp_path / "tasks")
    root = tasks["root"]
    config = write_config(
        tmp_path / "cfg",
        pfx,
        ["task_loader"],
        task_loader={
            "idle_loop_sleep": 0.1,
            "tasks_dir": str(root),
            "tasks_archive_dir": str(root / "archive"),
        },
    )
    settings = load_settings(None)
    service = config.services["task_loader"]
    girar = f"{pfx}girar-ex"
    with running(config, lambda name: work_for(name, service, store, settings)) as run:
        publish(girar, "task.state", {"taskid": 1100, "state": "DONE"})  # from the archive
        publish(girar, "task.state", {"taskid": 2001, "state": "FAILED"})
        publish(girar, "task.state", {"taskid": 2002, "state": "DELETED"})
        publish(girar, "task.state", {"taskid": 2002, "state": "DELETED"})  # once only
        publish(girar, "task.state", {"taskid": 1100, "state": "DONE"})  # nothing new
        approval = base64.b64encode(b"2024-Jun-12 08:00:00 :: approved by erin\nship it\n")
        approve = {"taskid": 2001, "subtaskid": 100, "base64_message": approval.decode()}
        publish(girar, "task.subtask.approve", approve)
        publish(girar, "task.subtask.approve", approve)  # the same again: nothing new
        revoke = {
            "taskid": 2001,
            "subtaskid": 100,
            "revoked": True,
            "girar_user": "erin",
            "_timestamp": 1718200800,
        }
        publish(girar, "task.subtask.approve", revoke)
        publish(girar, "task.state", {"taskid": 3333, "state": "NEW"})  # no such directory
        # 3333 fails 3 times (max_redeliver_count 2), then is rejected unseen
        run.wait_for(lambda got: len(got) >= 12, timeout=240)
    outcomes = [(o.action, o.reason.split(":")[0]) for o in run.outcomes]
    assert [a for a, _ in outcomes] == [*["done"] * 8, *["failed"] * 3, "rejected"]
    reasons = [o.reason for o in run.outcomes]
    assert reasons[0].startswith("task 1100 DONE: 9 packages (9 new)")
    assert reasons[2] == "task 2002: marked deleted"
    assert reasons[3] == "task 2002: already marked deleted"
    assert "already loaded" in reasons[4]
    assert reasons[5] == "task 2001: approve of subtask 100 by erin stored"
    assert reasons[6] == "task 2001: approve of subtask 100 by erin already stored"
    assert reasons[7] == "task 2001: approve of subtask 100 by erin revoked"
    assert reasons[8].startswith("TaskDataError: task 3333: ")
    assert reasons[11] == "delivered 3 times, more than max_redeliver_count 2"
    approvals = store.query(
        "SELECT tapp_type, tapp_revoked, toString(tapp_date), tapp_message FROM TaskApprovals "
        "WHERE task_id = 2001 AND tapp_name = 'erin' ORDER BY tapp_revoked"
    )
    assert approvals == [
        ("approve", 0, "2024-06-12 08:00:00", "ship it"),
        ("approve", 1, "2024-06-12 14:00:00", ""),
    ]
    assert states(store) == [(1100, "DONE"), (2001, "FAILED"), (2002, "DELETED")]


def test_a_batch_of_task_messages_loads_in_one_pass(
    pfx: str,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``amqp_batch_size`` 10: runs of directory loads go through one ``load_tasks`` call.

    Order is kept (the deletion runs between the runs), a task named twice starts a new
    run, and a run with an unreadable task is done again message by message.
    """
    import repotrack.ingest.task as task_module
    from repotrack.daemon.handlers import batch_work_for
    from tests.unit.daemon.test_daemon_amqp import declare

    passes: list[list[str]] = []
    real = task_module.load_tasks

    def counting(store: Store, *, paths: list[Path], **kwargs: object) -> object:
        passes.append([Path(p).name for p in paths])
        return real(store, paths=paths, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(task_module, "load_tasks", counting)
    tasks = task_tree(tmp_path_factory.mktemp("girar"), tmp_path / "tasks")
    root = tasks["root"]
    config = write_config(
        tmp_path / "cfg",
        pfx,
        ["task_loader"],
        task_loader={
            "idle_loop_sleep": 0.1,
            "amqp_batch_size": 10,
            "requeue_on_reject": False,
            "tasks_dir": str(root),
            "tasks_archive_dir": str(root / "archive"),
        },
    )
    settings = load_settings(None)
    service = config.services["task_loader"]
    girar = f"{pfx}girar-ex"
    declare(config)  # all six wait on the queue: the first poll takes them together
    for body in (
        {"taskid": 1100, "state": "DONE"},
        {"taskid": 2001, "state": "FAILED"},
        {"taskid": 2002, "state": "NEW"},
        {"taskid": 2002, "state": "DELETED"},
        {"taskid": 3333, "state": "NEW"},  # no such directory
        {"taskid": 1100, "state": "DONE"},
    ):
        publish(girar, "task.state", body)
    with running(
        config,
        lambda name: work_for(name, service, store, settings),
        lambda name: batch_work_for(name, service, store, settings),
    ) as run:
        run.wait_for(lambda got: len(got) >= 6, timeout=240)
    outcomes = [(o.action, o.reason) for o in run.outcomes]
    assert [a for a, _ in outcomes] == ["done"] * 4 + ["failed", "done"]
    assert outcomes[0][1].startswith("task 1100 DONE: 9 packages (9 new)")
    assert outcomes[3][1] == "task 2002: marked deleted"
    assert outcomes[4][1].startswith("TaskDataError: task 3333: ")
    assert "already loaded" in outcomes[5][1]
    assert passes == [["1100", "2001", "2002"], ["3333", "1100"], ["3333"], ["1100"]]
    assert sorted(states(store)) == [
        (1100, "DONE"),
        (2001, "FAILED"),
        (2002, "DELETED"),
        (2002, "NEW"),
    ]
