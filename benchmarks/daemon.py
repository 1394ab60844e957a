"""Messages per second through the daemon, beside a bare pika loop, on the local RabbitMQ.

Both sides use the same client library (pika) and the same broker (127.0.0.1:5672,
guest/guest), on private queues deleted afterwards. Measured, each over ``--messages``
messages already waiting in a durable queue:

* ``bare``: ``basic_get`` + ``basic_ack`` in a loop, nothing else;
* ``daemon``: ``repotrack.daemon.service.Daemon`` with a no-op loader: the §7.4 rules
  (routing key, delivery count, JSON), ack, and the status bookkeeping.

The ratio is the daemon's own cost per message. A real load costs far more than
either (a task load is tens of milliseconds at least), so this bounds the overhead,
not the throughput of loads. Small task loads through the daemon are not measured yet.

Run: ``uv run python benchmarks/daemon.py [--messages 2000]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pika

from repotrack.daemon.config import load_daemon_config
from repotrack.daemon.service import Daemon


def _channel() -> Any:
    return pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672)).channel()


def _fill(queue: str, count: int) -> None:
    ch = _channel()
    ch.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    for n in range(count):
        ch.basic_publish("", queue, json.dumps({"n": n}).encode(), pika.BasicProperties())
    ch.connection.close()


def bare(count: int) -> float:
    queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
    _fill(queue, count)
    ch = _channel()
    started = time.perf_counter()
    done = 0
    while done < count:
        method, _props, _body = ch.basic_get(queue)
        if method is None:
            continue
        ch.basic_ack(method.delivery_tag)
        done += 1
    seconds = time.perf_counter() - started
    ch.queue_delete(queue)
    ch.connection.close()
    return count / seconds


def daemon(count: int) -> float:
    queue = f"bench-daemon-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "services.d").mkdir()
        service = {
            "idle_loop_sleep": 0.1,
            # messages go straight to the queue (default exchange): their key is its name
            "routing_key": queue,
            "amqp": {"host": "127.0.0.1", "queue": {"name": queue, "type": "quorum"}},
        }
        (root / "services.d" / "watch_loader.json").write_text(json.dumps(service))
        (root / "config.json").write_text(
            json.dumps({"services": [{"name": "watch_loader", "config": "watch_loader.json"}]})
        )
        config = load_daemon_config(root / "config.json", root / "services.d")
        _fill(queue, count)
        done = threading.Event()
        handled = 0

        def work(key: str, payload: Mapping[str, Any]) -> str:
            nonlocal handled
            handled += 1
            if handled == count:
                done.set()
            return ""

        runner = Daemon(config, lambda name: work)
        started = time.perf_counter()
        thread = threading.Thread(target=runner.run)
        thread.start()
        done.wait(600)
        seconds = time.perf_counter() - started
        runner.stop()
        thread.join()
    ch = _channel()
    ch.queue_delete(queue)
    ch.connection.close()
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    base = bare(args.messages)
    ours = daemon(args.messages)
    print(f"bare pika get+ack: {base:8.0f} messages/s")
    print(f"daemon, no-op:     {ours:8.0f} messages/s ({ours / base:.2f} of bare)")


if __name__ == "__main__":
    main()
