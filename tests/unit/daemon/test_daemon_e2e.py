"""``repotrack fire`` -> ``repotrack daemon`` -> rows in the store, as a user runs them.

Real processes, the real RabbitMQ, real chDB. The daemon is stopped with SIGTERM and
must exit 0; the stored snapshot is checked against the tree's own count of RPMs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from repotrack.store import open_store
from tests.unit.daemon.broker import channel, depth
from tests.unit.daemon.examples import write_examples
from tests.unit.sources.treeutil import build_trees

pytestmark = pytest.mark.services

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_trees(tmp_path_factory.mktemp("trees"))


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    env["REPOTRACK_HOME"] = str(home)
    env["COLUMNS"] = "400"
    return env


def _daemon_files(root: Path, pfx: str, trees: Path) -> tuple[Path, Path, Path]:
    config, services = write_examples(root, pfx, ["repo_loader"])
    path = services / "repo_loader.json"
    body = json.loads(path.read_text())
    body.update(
        idle_loop_sleep=0.1,
        validate_date=False,
        threads_count=1,
        repo_dirs={"p10": str(trees / "apt")},
    )
    path.write_text(json.dumps(body))
    fire = root / "amqpfire.json"
    fire.write_text(
        json.dumps(
            {
                "host": "127.0.0.1",
                "port": 5672,
                "vhost": "/",
                "exchange": f"{pfx}repodb-ex",
                "username": "guest",
                "password": "guest",
                "known_branches": ["p9", "p10", "sisyphus"],
            }
        )
    )
    return config, services, fire


def _wait_line(log: Path, text: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not logged; log:\n{log.read_text(errors='replace')}")


def _status_until(home: Path, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """``repotrack daemon status --format json`` until ``ready`` (it is written once a second)."""
    deadline = time.monotonic() + 60
    while True:
        result = subprocess.run(
            [str(BIN / "repotrack"), "daemon", "status", "--format", "json"],
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        status: dict[str, Any] = json.loads(result.stdout)
        if ready(status) or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def test_fire_daemon_stores_the_snapshot(trees: Path, tmp_path: Path, pfx: str) -> None:
    home = tmp_path / "home"
    config, services, fire_config = _daemon_files(tmp_path, pfx, trees)
    log = tmp_path / "daemon.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "uploaderd"), "-c", str(config), "-s", str(services)],
            env=_env(home),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_line(log, "daemon ready", proc)
        fired = subprocess.run(
            [
                str(BIN / "repodb_amqpfire"),
                "-c",
                str(fire_config),
                "-s",
                "repo",
                "-p",
                "p10",
                "2024-05-01",
            ],
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert (fired.returncode, fired.stdout.strip(), fired.stderr) == (0, "OK", "")
        _wait_line(log, "repo_loader repo.load: done", proc)
        # the same request again: already published, so done without new rows
        again = subprocess.run(
            [
                str(BIN / "repotrack"),
                "fire",
                "-c",
                str(fire_config),
                "-s",
                "repo",
                "-p",
                "p10",
                "-p",
                "2024-05-01",
            ],
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert again.returncode == 0, again.stderr
        _wait_line(log, "already loaded", proc)
        running = _status_until(home, lambda s: s["services"][0]["counts"].get("done") == 2)
        assert running["alive"] is True and running["pid"] == proc.pid
        assert running["services"][0]["queue"] == f"{pfx}repo-loader-q"
        assert running["services"][0]["connected"] is True
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stopped = _status_until(home, lambda s: s["state"] == "stopped")
    assert stopped["alive"] is False
    table = subprocess.run(
        [str(BIN / "repotrack"), "daemon", "status"],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[1] == (
        f"repo_loader ({pfx}repo-loader-q, not connected): done 2"
    )
    assert depth(f"{pfx}repo-loader-q") == 0
    # every package once: the files themselves, not the RPMS.classic symlinks to them
    rpms = sum(1 for p in (trees / "apt").rglob("*.rpm") if not p.is_symlink())
    with open_store(f"chdb://{home / 'store'}") as store:
        roots = store.query(
            "SELECT pkgset_nodename, toString(toDate(pkgset_date)), "
            "pkgset_kv.v[indexOf(pkgset_kv.k, 'size')] FROM PackageSetName WHERE pkgset_depth = 0"
        )
    assert roots == [("p10", "2024-05-01", str(rpms))]


def test_fire_refuses_bad_requests(tmp_path: Path, pfx: str) -> None:
    fire_config = tmp_path / "amqpfire.json"
    fire_config.write_text(json.dumps({"host": "127.0.0.1", "exchange": f"{pfx}repodb-ex"}))
    home = tmp_path / "home"

    def fire(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "repodb_amqpfire"), "-c", str(fire_config), *args],
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    bad_branch = fire("-s", "repo", "-p", "c7", "2024-05-01")
    assert bad_branch.returncode == 2
    assert bad_branch.stderr.strip() == (
        "InputError: params: unknown branch 'c7'; known are p9, p10, sisyphus"
    )
    assert fire("-s", "repo", "-p", "p10").returncode == 2
    assert fire("-s", "images").returncode == 2
    nobody = fire("-s", "watch")  # the exchange does not exist: the broker refuses
    assert nobody.returncode == 1 and nobody.stderr.startswith("UpstreamError: amqp://127.0.0.1")
    assert len(nobody.stderr.strip().splitlines()) == 1
    ch = channel()
    ch.exchange_declare(f"{pfx}repodb-ex", exchange_type="topic", durable=True)
    ch.connection.close()
    unroutable = fire("-s", "watch")  # the exchange exists, but no queue takes watch.load
    assert unroutable.returncode == 1
    assert unroutable.stderr.strip() == (
        f"UpstreamError: amqp://127.0.0.1:5672/: no queue takes watch.load on exchange "
        f"{pfx}repodb-ex"
    )


def test_daemon_status_before_any_daemon(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BIN / "repotrack"), "daemon", "status"],
        env=_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"NotFoundError: no daemon status at {tmp_path / 'home' / 'daemon' / 'status.json'} "
        "(has the daemon run here?)"
    )


def test_daemon_bad_config_is_one_line(tmp_path: Path) -> None:
    config, services = write_examples(tmp_path, "x-", ["watch_loader"])
    body = json.loads((services / "watch_loader.json").read_text())
    body["workerz_count"] = 1
    (services / "watch_loader.json").write_text(json.dumps(body))
    result = subprocess.run(
        [str(BIN / "repotrack"), "daemon", "-c", str(config), "-s", str(services)],
        env=_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"ConfigError: {services / 'watch_loader.json'}: workerz_count: unknown key"
    )


CRASHING = Path(__file__).resolve().parents[2] / "functional" / "crashing_cli.py"


def _start(args: list[str], home: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(args, env=_env(home), stdout=out, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _writes(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_sigkill_mid_load_redelivers_and_stores_once(trees: Path, tmp_path: Path, pfx: str) -> None:
    config, services, fire_config = _daemon_files(tmp_path, pfx, trees)
    path = services / "repo_loader.json"
    body = json.loads(path.read_text())
    body["max_redeliver_count"] = 2  # the example's 0 would drop the redelivered message
    path.write_text(json.dumps(body))
    daemon = ["-c", str(config), "-s", str(services)]
    fire = [
        str(BIN / "repodb_amqpfire"),
        "-c",
        str(fire_config),
        "-s",
        "repo",
        "-p",
        "p10",
        "2024-05-01",
    ]

    # 1. count the store writes of starting up and of the whole load (nothing killed)
    count_home, writes, log = tmp_path / "count", tmp_path / "count.writes", tmp_path / "d1.log"
    proc = _start(
        [sys.executable, str(CRASHING), "0", str(writes), "daemon", *daemon], count_home, log
    )
    try:
        _wait_line(log, "daemon ready", proc)
        startup = _writes(writes)
        assert subprocess.run(fire, env=_env(count_home), check=False).returncode == 0
        _wait_line(log, "repo_loader repo.load: done", proc)
    finally:
        assert _stop(proc) == 0
    load_writes = _writes(writes) - startup
    assert load_writes > 2

    # 2. killed half way through the load: the message is unacked, so it comes back
    home, log = tmp_path / "home", tmp_path / "d2.log"
    kill_at = startup + load_writes // 2
    proc = _start(
        [sys.executable, str(CRASHING), str(kill_at), str(tmp_path / "w2"), "daemon", *daemon],
        home,
        log,
    )
    try:
        _wait_line(log, "daemon ready", proc)
        assert subprocess.run(fire, env=_env(home), check=False).returncode == 0
        assert proc.wait(120) == -signal.SIGKILL
    finally:
        _stop(proc)

    # 3. a fresh daemon takes the redelivered message and finishes the load
    log = tmp_path / "d3.log"
    proc = _start([str(BIN / "repotrack"), "daemon", *daemon], home, log)
    try:
        _wait_line(log, "repo_loader repo.load: done", proc)
    finally:
        assert _stop(proc) == 0
    assert depth(f"{pfx}repo-loader-q") == 0
    with open_store(f"chdb://{home / 'store'}") as store:
        roots = store.query(
            "SELECT pkgset_nodename, pkgset_kv.v[indexOf(pkgset_kv.k, 'size')] "
            "FROM PackageSetName WHERE pkgset_depth = 0"
        )
        packages = store.query("SELECT count(), uniqExact(pkg_hash) FROM Packages")
    assert roots == [("p10", "8")]
    assert packages[0][0] == packages[0][1] == 8  # no package stored twice
