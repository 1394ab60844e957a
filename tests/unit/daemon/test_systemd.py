"""``notify``: one datagram to ``$NOTIFY_SOCKET`` (a real Unix socket); a no-op without it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from repotrack.daemon.systemd import notify


def test_notify_sends_to_the_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        assert notify("READY=1\nSTATUS=serving repo_loader") is True
        assert server.recv(256) == b"READY=1\nSTATUS=serving repo_loader"


def test_notify_without_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert notify("READY=1") is False


def test_unit_file_is_type_notify() -> None:
    unit = (
        Path(__file__).resolve().parents[3] / "packaging" / "systemd" / "repotrack-daemon.service"
    )
    text = unit.read_text()
    assert "Type=notify" in text and "Restart=on-failure" in text
    assert "repotrack daemon -c /etc/uploaderd/config.json -s /etc/uploaderd/services.d" in text


def test_worker_unit_file() -> None:
    unit = (
        Path(__file__).resolve().parents[3] / "packaging" / "systemd" / "repotrack-worker@.service"
    )
    text = unit.read_text()
    assert "Type=notify" in text and "Restart=on-failure" in text
    assert "ExecStart=/usr/bin/repotrack daemon --worker\n" in text
