"""Messages per second through the daemon, beside a bare pika loop, on the local RabbitMQ.

Both sides use the same client library (pika) and the same broker (127.0.0.1:5672,
guest/guest), on private queues deleted afterwards. Measured, each over ``--messages``
messages already waiting in a durable queue:

* ``bare``: ``basic_get`` + ``basic_ack`` in a loop, nothing else;
* ``daemon``: ``repotrack.daemon.service.Daemon`` with a no-op loader: the §7.4 rules
  (routing key, delivery count, JSON), ack, and the status bookkeeping.

The ratio is the daemon's own cost per message. Then small task loads, as a user runs
them (whole processes, ``--tasks`` girar tasks of 10 packages each, generated once with
rpmbuild by ``tests/fixtures/girar.py`` and cached under ``benchmarks/.cache/``), each
into a fresh embedded store whose schema was made beforehand (untimed):

* ``load task``: one ``repotrack load task`` process over every task directory (the
  baseline: the same loads with no broker);
* ``daemon``: ``task.state`` DONE messages for every task already waiting on the queue,
  then ``repotrack daemon`` started; timed from the start of the process to the last
  settled message (read from its log), and separately from ``daemon ready``; then
  SIGTERM. Once with ``amqp_batch_size`` 1 (one load per message) and once with 10
  (the original's example: a batch's task directories load in one pass).

Each figure is given as wall time and CPU time (user+sys of the child processes, their
own reader processes included), over ``--repeat`` runs. The machine may be shared:
compare the rows of one run, not runs of different days.

Run: ``uv run python benchmarks/daemon.py [--messages 2000] [--tasks 20] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
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

HERE = Path(__file__).resolve().parent


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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    env["REPOTRACK_HOME"] = str(home)
    return env


def _repotrack(args: list[str], home: Path) -> tuple[float, float]:
    """One whole ``repotrack`` process: (wall seconds, CPU seconds)."""
    cpu, started = _children_cpu(), time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("repotrack")), *args],
        env=_env(home),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"repotrack {' '.join(args[:3])} ... failed: {done.stderr.strip()}")
    return seconds, _children_cpu() - cpu


def _task_daemon_files(root: Path, tasks_dir: Path, exchange: str, queue: str, batch: int) -> None:
    (root / "services.d").mkdir()
    service = {
        "idle_loop_sleep": 0.1,
        "amqp_batch_size": batch,
        "max_redeliver_count": 2,
        "tasks_dir": str(tasks_dir),
        "amqp": {
            "host": "127.0.0.1",
            "queue": {
                "name": queue,
                "type": "quorum",
                "bind_at_startup": [{"exchange": exchange, "routing_key": "task.state"}],
            },
        },
    }
    (root / "services.d" / "task_loader.json").write_text(json.dumps(service))
    (root / "config.json").write_text(
        json.dumps({"services": [{"name": "task_loader", "config": "task_loader.json"}]})
    )


def daemon_tasks(
    task_ids: list[int], tasks_dir: Path, home: Path, batch: int
) -> tuple[float, float, float]:
    """(wall from start, wall from ready, CPU) of ``repotrack daemon`` loading the tasks."""
    tag = uuid.uuid4().hex[:8]
    exchange, queue = f"bench-girar-{tag}", f"bench-tasks-{tag}"
    _task_daemon_files(home, tasks_dir, exchange, queue, batch)
    ch = _channel()
    ch.exchange_declare(exchange, exchange_type="topic", durable=True)
    ch.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    ch.queue_bind(queue, exchange, routing_key="task.state")
    for task_id in task_ids:
        body = json.dumps({"taskid": task_id, "state": "DONE"}).encode()
        ch.basic_publish(exchange, "task.state", body, pika.BasicProperties())
    ch.connection.close()
    log_path = home / "daemon.log"
    cpu = _children_cpu()
    started = time.perf_counter()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("repotrack")),
                "daemon",
                "-c",
                str(home / "config.json"),
                "-s",
                str(home / "services.d"),
            ],
            env=_env(home),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    ready = finished = 0.0
    try:
        while time.perf_counter() - started < 900:
            text = log_path.read_text(errors="replace")
            if not ready and "daemon ready" in text:
                ready = time.perf_counter()
            if text.count("task_loader task.state: done") >= len(task_ids):
                finished = time.perf_counter()
                break
            if "task_loader task.state: failed" in text or proc.poll() is not None:
                sys.exit(f"the daemon failed:\n{text[-3000:]}")
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)
        ch = _channel()
        ch.queue_delete(queue)
        ch.exchange_delete(exchange)
        ch.connection.close()
    if not finished:
        sys.exit("the daemon did not load every task within 900 s")
    return finished - started, finished - ready, _children_cpu() - cpu


def tasks_benchmark(count: int, repeat: int) -> None:
    sys.path.insert(0, str(HERE))
    from task_load import make_tasks

    tasks = make_tasks(count) / "tasks"
    dirs = sorted(p for p in tasks.iterdir() if p.name.isdigit())
    ids = [int(p.name) for p in dirs]
    rows: dict[str, list[tuple[float, float]]] = {}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="daemon-bench-") as tmp:
            cli_home = Path(tmp) / "cli"
            _repotrack(["db", "init"], cli_home)  # untimed: the schema of a fresh store
            rows.setdefault("load task", []).append(
                _repotrack(["load", "task", *(str(d) for d in dirs)], cli_home)
            )
            for batch in (1, 10):
                home = Path(tmp) / f"daemon-{batch}"
                _repotrack(["db", "init"], home)
                whole, after_ready, cpu = daemon_tasks(ids, tasks, home, batch)
                rows.setdefault(f"daemon {batch}", []).append((whole, cpu))
                rows.setdefault(f"ready {batch}", []).append((after_ready, float("nan")))
    print(f"{count} small task loads (10 packages each), whole processes, {repeat} runs:")
    for label, name in (
        ("repotrack load task, one process", "load task"),
        ("daemon, batch 1, start to last", "daemon 1"),
        ("daemon, batch 1, ready to last", "ready 1"),
        ("daemon, batch 10, start to last", "daemon 10"),
        ("daemon, batch 10, ready to last", "ready 10"),
    ):
        walls = sorted(w for w, _ in rows[name])
        cpus = sorted(c for _, c in rows[name])
        cpu_text = "" if name.startswith("ready") else f"  CPU {cpus[0]:6.2f}-{cpus[-1]:6.2f} s"
        print(
            f"  {label:34s} {walls[0]:6.2f}-{walls[-1]:6.2f} s  "
            f"{count / walls[-1]:6.1f}-{count / walls[0]:6.1f} tasks/s{cpu_text}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=20, help="small task loads (0: none)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the task loads")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    base = bare(args.messages)
    ours = daemon(args.messages)
    print(f"bare pika get+ack: {base:8.0f} messages/s")
    print(f"daemon, no-op:     {ours:8.0f} messages/s ({ours / base:.2f} of bare)")
    if args.tasks:
        tasks_benchmark(args.tasks, args.repeat)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
