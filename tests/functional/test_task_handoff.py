"""``load task``, ``load package`` and ``tasks clean`` while ``repotrack serve`` holds the store.

Real processes: ``repotrack serve`` runs as a subprocess on a free port with its own
``REPOTRACK_HOME`` (stopped in ``finally``); every command runs as a subprocess twice,
once against a home of its own with no service (the local run, the reference) and once
against the service's home, where the store is locked so the command must hand its job
to the service. Both runs see their own copy of the same girar tasks, and must print
the same stdout and stderr (timings and the copy's path aside) and exit alike; the
handed-over run also says so on stderr, and what it stored is then read back through
the service.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from repotrack.passwords import hash_password
from tests.fixtures.girar import task_tree
from tests.functional.test_load_handoff import Service, _free_port
from tests.unit.store.storeutil import fresh_store_url

BIN = Path(sys.executable).parent
PASSWORD = "Passw0rd~"
HANDED = re.compile(r"^handed the load to the repotrack service at (\S+): job ([0-9a-f-]{36})\n")
_SECONDS = re.compile(r"\d+\.\d s\b")


@dataclass
class Side:
    """One way of running the commands: a home, its task tree, and its environment."""

    env: dict[str, str]
    tasks: dict[str, Path]
    cwd: Path

    def run(self, *args: str) -> tuple[int, str, str]:
        done = subprocess.run(
            [str(BIN / args[0]), *args[1:]],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        return done.returncode, done.stdout, done.stderr

    def normal(self, text: str) -> str:
        """Timings and this side's task tree path made neutral, for comparison."""
        return _SECONDS.sub("N s", text.replace(str(self.tasks["root"]), "<tasks>"))


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    env.update(REPOTRACK_HOME=str(home), COLUMNS="400")
    return env


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Side, Side, Service]]:
    """(local side, handed-over side, the running service)."""
    base = tmp_path_factory.mktemp("task-handoff")
    built = tmp_path_factory.mktemp("girar-built")
    local_home, served_home = base / "local-home", base / "served-home"
    fresh_store_url(tmp_path_factory, local_home / "store")
    fresh_store_url(tmp_path_factory, served_home / "store")
    local = Side(_base_env(local_home), task_tree(built, base / "local-tasks"), base / "local-cwd")
    port = _free_port()
    env = _base_env(served_home)
    env.update(
        REPOTRACK_SERVICE__LISTEN=f"127.0.0.1:{port}",
        REPOTRACK_SERVICE__PASSWORD_HASH=hash_password(PASSWORD, iterations=1000),
        REPOTRACK_LOADS__ALLOWED_ROOTS=json.dumps([str(base)]),
    )
    served = Side(
        {**env, "REPOTRACK_PASSWORD": PASSWORD},
        task_tree(built, base / "served-tasks"),
        base / "served-cwd",
    )
    local.cwd.mkdir()
    served.cwd.mkdir()
    log = (base / "serve.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "repotrack"), "serve", "--no-tracker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    service = Service(f"http://127.0.0.1:{port}", Path(), env)
    try:
        _wait_ready_http(service, proc, base / "serve.log")
        with httpx.Client(base_url=service.base_url, timeout=30.0) as http:
            # The service opens (and from now on holds) its store.
            assert http.get("/api/v1/tasks/1").status_code == 404
        yield local, served, service
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_ready_http(service: Service, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60.0
    with httpx.Client(base_url=service.base_url, timeout=30.0) as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"repotrack serve exited:\n{log.read_text()}")
            try:
                if http.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"repotrack serve did not start:\n{log.read_text()}")


def both(
    sides: tuple[Side, Side, Service], *args: str, handed_over: bool = True
) -> tuple[int, str, str]:
    """Run ``args`` on both sides (``{name}`` is a task path of that side); they must agree.

    Returns the handed-over run's exit status, stdout and stderr (without the
    "handed the load" line, which it must begin with unless ``handed_over`` is False:
    then it must not hand anything over).
    """
    local, served, _ = sides
    results = []
    for side in (local, served):
        argv = [a.format(**{k: str(v) for k, v in side.tasks.items()}) for a in args]
        results.append(side.run(*argv))
    (code_l, out_l, err_l), (code_s, out_s, err_s) = results
    handed = HANDED.match(err_s)
    assert bool(handed) == handed_over, err_s
    err_s = err_s[handed.end() :] if handed else err_s
    assert code_s == code_l, (err_l, err_s)
    assert served.normal(out_s) == local.normal(out_l)
    assert served.normal(err_s) == local.normal(err_l)
    return code_s, out_s, err_s


def test_load_task_is_handed_over_with_the_same_output(
    sides: tuple[Side, Side, Service],
) -> None:
    code, out, _ = both(sides, "repotrack", "load", "task", "-w", "2", "{failed}", "{new}")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("task 2001 FAILED: ") and lines[1].startswith("task 2002 NEW: ")
    # Unchanged: answered from the marks file beside the store, which the service's
    # job wrote; nothing to hand over.
    code, out, _ = both(sides, "repotrack", "load", "task", "{failed}", "{new}", handed_over=False)
    assert (code, out) == (
        0,
        "task 2001: already loaded, directory unchanged\n"
        "task 2002: already loaded, directory unchanged\n",
    )
    # With --force the tasks are read again: by the service.
    code, out, _ = both(sides, "repotrack", "load", "task", "-F", "{failed}", "{new}")
    assert code == 0 and out.splitlines()[0].startswith("task 2001 FAILED: ")
    service = sides[2]
    with httpx.Client(base_url=service.base_url, timeout=30.0) as http:
        body = http.get("/api/v1/tasks/2001").json()
        assert (body["task_id"], body["state"]) == (2001, "FAILED")
        http.auth = ("admin", PASSWORD)
        jobs = http.get("/api/v1/loads").json()["items"]
        assert [(j["kind"], j["params"]["force"]) for j in jobs] == [
            ("task", True),
            ("task", False),
        ]
        assert jobs[1]["params"]["paths"] == [
            str(sides[1].tasks["failed"]),
            str(sides[1].tasks["new"]),
        ]
        assert jobs[1]["summary"]["read"] == [2001, 2002] == jobs[0]["summary"]["read"]


def test_dumpjson_is_written_where_the_command_runs(sides: tuple[Side, Side, Service]) -> None:
    code, out, _ = both(sides, "repotrack", "load", "task", "-J", "{done}")
    dump = Path("JSON") / f"dump-1100-{datetime.now(UTC):%Y-%m-%d}.json"
    assert code == 0 and out.startswith(f"wrote {dump}\ntask 1100 DONE: 9 packages (9 new)")
    local, served, _ = sides
    assert json.loads((served.cwd / dump).read_text())["state"]["task_id"] == 1100
    assert local.normal((local.cwd / dump).read_text()) == served.normal(
        (served.cwd / dump).read_text()
    )


def test_a_failing_task_fails_alike(sides: tuple[Side, Side, Service]) -> None:
    for side in sides[:2]:
        (side.tasks["failed"] / "acl" / "approved" / "1" / "bob").write_text("yes\n")
    code, out, err = both(sides, "repotrack", "load", "task", "{failed}")
    assert (code, out) == (1, "")
    assert err.startswith("TaskDataError: task 2001: ")
    code, _, err = both(sides, "task_loader", "{failed}")
    assert code == 1 and err.startswith("TaskDataError: task 2001: ")


def test_load_package_and_the_aliases(sides: tuple[Side, Side, Service]) -> None:
    srpm = "{rpms}/epsilon/rt-epsilon-3.1-alt1.src.rpm"
    code, out, _ = both(sides, "repotrack", "load", "package", srpm)
    assert code == 0 and out.startswith("rt-epsilon-3.1-alt1.src.rpm: loaded, pkg_hash ")
    code, out, _ = both(sides, "repotrack", "load", "package", srpm)
    assert code == 0 and out.startswith("rt-epsilon-3.1-alt1.src.rpm: already loaded, pkg_hash ")
    code, out, _ = both(sides, "package_loader", "{rpms}/alpha/rt-alpha-1.0-alt1.src.rpm")
    assert code == 0 and "already loaded" in out
    code, out, _ = both(sides, "task_loader", "{done}", handed_over=False)
    assert (code, out) == (0, "task 1100: already loaded, directory unchanged\n")
    binary = "{rpms}/epsilon/x86_64/rt-epsilon-3.1-alt1.x86_64.rpm"
    code, _, err = both(sides, "repotrack", "load", "package", binary)
    assert code == 2 and "not a source package" in err


def test_tasks_clean_is_handed_over_and_writes_its_log_here(
    sides: tuple[Side, Side, Service],
) -> None:
    local, served, _ = sides
    for side in (local, served):
        shutil.rmtree(side.tasks["new"])  # girar removed task 2002
        (side.tasks["failed"] / "task" / "state").write_text("AWAITING\n")
    code, out, _ = both(sides, "task_cleaner", "{root}", "-x")
    assert code == 0
    assert out.splitlines()[-1].endswith("would mark 1 deleted, 1 with another state on disk")
    code, out, _ = both(sides, "repotrack", "tasks", "clean", "{root}")
    assert code == 0
    assert out.splitlines()[:2] == ["2002\tDELETED", "2001\tFAILED stored, AWAITING on disk"]
    for side in (local, served):
        assert (side.cwd / "unclear_state_tasks.log").read_text() == "2001\tFAILED\tAWAITING\n"
    with httpx.Client(base_url=sides[2].base_url, timeout=30.0) as http:
        assert http.get("/api/v1/tasks/2002").json()["state"] == "DELETED"
    root = str(served.tasks["root"])
    code, out, err = served.run("repotrack", "tasks", "clean", root, "--via-service", "-x")
    assert code == 0 and HANDED.match(err), err
    assert out.splitlines()[-1] == (
        "1 open task(s) checked, would mark 0 deleted, 1 with another state on disk"
    )


def test_without_a_password_the_command_says_how(sides: tuple[Side, Side, Service]) -> None:
    served = sides[1]
    env = {k: v for k, v in served.env.items() if k != "REPOTRACK_PASSWORD"}
    bare = Side(env, served.tasks, served.cwd)
    done = str(served.tasks["done"])
    code, out, err = bare.run("repotrack", "load", "task", done)  # unchanged: no store needed
    assert (code, out, err) == (0, "task 1100: already loaded, directory unchanged\n", "")
    code, out, err = bare.run("repotrack", "load", "task", "--force", done)
    assert (code, out) == (1, "")
    line = err.strip().splitlines()[-1]
    assert line.startswith("StoreError: chDB store ") and "is locked by another process" in line
    assert "REPOTRACK_PASSWORD" in line and "--via-service" in line
