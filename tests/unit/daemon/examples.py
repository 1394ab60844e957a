"""uploaderd configuration files in the original's shape (reference §7.2), for the tests.

``write_examples`` writes a ``config.json`` and one ``services.d/<name>.json`` per
service, keys and sections laid out as the original's examples lay them out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATABASE = {"dbname": "repodb", "host": "default", "port": 9000, "user": "default", "password": ""}


def amqp(
    queue: str, exchange: str, keys: list[str], *, publish: str = "uploaded-ex"
) -> dict[str, Any]:
    return {
        "host": "",
        "port": 5672,
        "vhost": "/",
        "exchange": publish,
        "username": "guest",
        "password": "guest",
        "cacert": "",
        "key": "",
        "cert": "",
        "queue": {
            "name": queue,
            "type": "quorum",
            "durable": True,
            "bind_at_startup": [{"exchange": exchange, "routing_key": k} for k in keys],
            "unbind_at_startup": [],
        },
    }


def service_files(prefix: str = "") -> dict[str, dict[str, Any]]:
    """One file body per service; ``prefix`` renames queues and exchanges (tests share a broker)."""
    girar, repodb, bugzilla = f"{prefix}girar-ex", f"{prefix}repodb-ex", f"{prefix}bugzilla-ex"
    common = {
        "workers_count": 1,
        "publish_on_done": False,
        "requeue_on_reject": False,
        "max_redeliver_count": 0,
        "database": DATABASE,
    }
    return {
        "task_loader": {
            "workers_count": 1,
            "idle_loop_sleep": 1.0,
            "amqp_batch_size": 10,
            "tasks_dir": "/tasks",
            "tasks_archive_dir": "/archive/tasks/done",
            "publish_on_done": True,
            "requeue_on_reject": True,
            "max_redeliver_count": 2,
            "routing_key": "task.state",
            "routing_keys_dict": {
                "TASK_STATE": "task.state",
                "TASK_PROGRESS": "task.progress",
                "TASK_APPROVE": "task.subtask.approve",
                "TASK_DISAPPROVE": "task.subtask.disapprove",
            },
            "database": DATABASE,
            "amqp": amqp(
                f"{prefix}task-loader-q",
                girar,
                ["task.state", "task.progress", "task.subtask.approve", "task.subtask.disapprove"],
                publish=f"{prefix}uploaded-ex",
            ),
        },
        "acl_loader": {
            **common,
            "routing_key_pattern": "acl.",
            "amqp": amqp(f"{prefix}acl-loader-q", girar, ["acl.#"]),
        },
        "bugzilla_loader": {
            **common,
            "routing_key_pattern": "bugzilla.",
            "amqp": amqp(f"{prefix}bugzilla-loader-q", bugzilla, ["bugzilla.#"]),
        },
        "repo_loader": {
            **common,
            "routing_key": "repo.load",
            "threads_count": 4,
            "validate_date": True,
            "repo_dirs": {
                "sisyphus": "/archive/repo/sisyphus/date/latest",
                "sisyphus_e2k": "/archive/ports/e2k/sisyphus/date/latest",
                "sisyphus_mipsel": "/archive/ports/mipsel/sisyphus/date/latest",
                "sisyphus_riscv64": "/archive/ports/riscv64/sisyphus/date/latest",
            },
            "amqp": amqp(f"{prefix}repo-loader-q", repodb, ["repo.#"]),
        },
        "beehive_loader": {
            **common,
            "routing_key": "beehive.load",
            "base_url": "https://git.altlinux.org/beehive",
            "archs": ["i586", "x86_64"],
            "branches": ["Sisyphus", "p10", "p9"],
            "timeout": 30,
            "amqp": amqp(f"{prefix}beehive-loader-q", repodb, ["beehive.#"]),
        },
        "repocop_loader": {
            **common,
            "routing_key": "repocop.load",
            "url": "http://repocop.altlinux.org/pub/repocop/prometheus3/packages.altlinux-sisyphus.json.xz",
            "timeout": 30,
            "amqp": amqp(f"{prefix}repocop-loader-q", repodb, ["repocop.#"]),
        },
        "watch_loader": {
            **common,
            "routing_key": "watch.load",
            "url": "https://watch.altlinux.org/pub/watch/watch-total.txt",
            "timeout": 30,
            "amqp": amqp(f"{prefix}watch-loader-q", repodb, ["watch.#"]),
        },
    }


def write_examples(
    root: Path, prefix: str = "", only: list[str] | None = None
) -> tuple[Path, Path]:
    """Write ``root/config.json`` and ``root/services.d/``; returns both paths."""
    services = root / "services.d"
    services.mkdir(parents=True, exist_ok=True)
    bodies = service_files(prefix)
    names = only or list(bodies)
    for name in names:
        (services / f"{name}.json").write_text(json.dumps(bodies[name], indent=4))
    main = {
        "services": [{"name": n, "config": f"{n}.json"} for n in names],
        "notifier": {
            "amqp": {
                "host": "",
                "port": 5672,
                "vhost": "/",
                "exchange": f"{prefix}notifier-ex",
                "username": "guest",
                "password": "guest",
                "cacert": "",
                "key": "",
                "cert": "",
            }
        },
    }
    config = root / "config.json"
    config.write_text(json.dumps(main, indent=4))
    return config, services
