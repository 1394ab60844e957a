"""A broker that stops answering: the daemon drops the link, connects again, goes on.

RabbitMQ 3.10's quorum queues were seen, under heavy disk load, to leave a
``basic.get`` unanswered for good; pika waits for a reply with no limit. The proxy
between the daemon and the real broker makes that happen on demand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from repotrack.daemon import consumer
from repotrack.daemon.config import load_daemon_config
from tests.unit.daemon.broker import (
    depth,
    drain,
    listen,
    publish_all,
    running,
    write_config,
)
from tests.unit.daemon.freezing_proxy import freezing_proxy

pytestmark = pytest.mark.services


def test_unanswered_get_drops_the_link_and_the_daemon_goes_on(
    pfx: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumer, "REPLY_TIMEOUT", 1.0)
    monkeypatch.setattr(consumer, "RECONNECT_DELAY", 0.2)
    write_config(tmp_path, pfx, ["repo_loader"], repo_loader={"idle_loop_sleep": 0.1})
    reports = listen(f"{pfx}notifier-ex")
    seen: list[int] = []

    def work(key: str, payload: Mapping[str, Any]) -> str:
        seen.append(int(payload["n"]))
        return "ok"

    with freezing_proxy() as proxy:
        path = tmp_path / "services.d" / "repo_loader.json"
        body = json.loads(path.read_text())
        body["amqp"]["port"] = proxy.port  # the loader's link goes through the proxy
        path.write_text(json.dumps(body))
        config = load_daemon_config(tmp_path / "config.json", tmp_path / "services.d")
        with running(config, lambda name: work) as run:
            assert run.daemon.consumers[0].connected
            assert proxy.freeze() == 1  # the daemon's next basic.get gets no answer
            publish_all(f"{pfx}repodb-ex", "repo.load", [{"n": n} for n in range(20)])
            run.wait_for(lambda got: sum(o.action == "done" for o in got) >= 20, timeout=30)
    assert sorted(seen) == list(range(20))  # each once: none was in hand when the link went
    assert [o.action for o in run.outcomes] == ["done"] * 20
    notes = drain(reports)
    assert [k for k, _ in notes] == ["service_error.warning"]  # the dropped link, reported
    assert "did not answer basic.get" in json.loads(notes[0][1])["message"]
    assert depth(f"{pfx}repo-loader-q") == 0
