"""``GET /api/v1/daemon`` reads the status file the daemon writes (a real server, no broker)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from repotrack.daemon.config import ServiceConfig
from repotrack.daemon.consumer import ServiceConsumer
from repotrack.daemon.status import status_path, write_status
from tests.functional.server import running_server


def test_daemon_status_api(tmp_path: Path) -> None:
    home = tmp_path / "home-of-both"
    with running_server(tmp_path, tls=False, home=home) as server, server.client() as http:
        missing = http.get("/api/v1/daemon")
        assert missing.status_code == 404
        assert "no daemon status" in missing.text

        config = ServiceConfig.model_validate({"amqp": {"queue": {"name": "task-loader-q"}}})
        consumer = ServiceConsumer("task_loader", config, None)
        errors = {
            "task_loader": [
                {"routing_key": "task.state", "action": "failed", "reason": "TaskDataError: x"}
            ]
        }
        write_status(
            status_path(home),
            [consumer],
            {"task_loader": {"done": 3}},
            errors,
            state="running",
            started=datetime(2026, 12, 5, tzinfo=UTC),
        )
        got = http.get("/api/v1/daemon")
        assert got.status_code == 200
        body = got.json()
        assert body["pid"] == os.getpid() and body["alive"] is True
        assert body["services"] == [
            {
                "name": "task_loader",
                "queue": "task-loader-q",
                "connected": False,
                "in_flight": None,
                "counts": {"done": 3},
                "last_errors": errors["task_loader"],
            }
        ]
