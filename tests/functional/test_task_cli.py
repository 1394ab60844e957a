"""Build tasks from the command line, as a user runs them: exit codes, output, JSON dump.

The commands run in-process (Typer's runner; the aliases' ``main`` with argv) against
the default embedded store under this test's ``$REPOTRACK_HOME``.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repotrack.cli import main
from repotrack.cli.task_loader import package_loader_main, task_cleaner_main, task_loader_main
from tests.fixtures.girar import task_tree


@pytest.fixture
def tasks(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> dict[str, Path]:
    return task_tree(tmp_path_factory.mktemp("girar"), tmp_path / "tasks")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main.app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_load_task_then_reload(tasks: dict[str, Path]) -> None:
    code, out, _ = run("load", "task", str(tasks["done"]))
    assert code == 0
    assert out.startswith("task 1100 DONE: 9 packages (9 new), 63 task rows")
    code, out, _ = run("load", "task", str(tasks["done"]))
    assert (code, out.strip()) == (0, "task 1100: already loaded, directory unchanged")


def test_dumpjson_writes_the_parsed_task(tasks: dict[str, Path]) -> None:
    code, out, _ = run("load", "task", "-J", str(tasks["failed"]))
    assert code == 0
    dump = Path("JSON") / f"dump-2001-{datetime.now(UTC):%Y-%m-%d}.json"
    assert f"wrote {dump}" in out
    data = json.loads(dump.read_text())
    assert data["state"]["task_id"] == 2001
    assert data["state"]["state"] == "FAILED"
    assert [s["subtask_id"] for s in data["subtasks"]] == [1]
    assert [it["arch"] for it in data["iterations"]] == ["x86_64", "i586"]
    assert data["approvals"][0]["name"] == "bob"


def test_bad_task_id_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "not-a-number").mkdir()
    code, _, err = run("load", "task", str(tmp_path / "not-a-number"))
    assert code == 2
    assert err.strip() == (
        f"InputError: {tmp_path / 'not-a-number'}: the task directory must be named by its "
        "integer id, got 'not-a-number'"
    )


def test_missing_file_names_it_and_stores_nothing(tasks: dict[str, Path]) -> None:
    (tasks["new"] / "task" / "state").unlink()
    code, out, err = run("load", "task", str(tasks["new"]))
    assert (code, out) == (1, "")
    state = tasks["new"] / "task" / "state"
    assert err.strip() == f"TaskDataError: task 2002: {state}: required file is missing"
    code, out, _ = run("query", "tasks")
    assert (code, out.strip()) == (0, "0 task(s)")


def test_queries_as_table_and_json(tasks: dict[str, Path]) -> None:
    assert run("load", "task", str(tasks["failed"]))[0] == 0
    code, out, _ = run("query", "task", "2001")
    assert code == 0
    assert "task 2001 p10 FAILED owner bob (2024-06-10 06:30:50 UTC)" in out
    assert "      ! error: Bad exit status from /usr/src/tmp/rpm-tmp (%build)" in out
    code, out, _ = run("query", "task", "2001", "--format", "json")
    assert code == 0
    body = json.loads(out)
    assert (body["task_id"], body["state"], body["subtasks"][0]["package"]) == (
        2001,
        "FAILED",
        "rt-delta",
    )
    code, out, _ = run("query", "tasks", "--branch", "p10", "--format", "json")
    assert [t["task_id"] for t in json.loads(out)] == [2001]
    code, out, _ = run("query", "package-history", "rt-delta", "--branch", "p10")
    assert out.splitlines()[0].split("\t")[:5] == ["2001", "#1", "build", "0.5-alt1", "FAILED"]
    assert run("query", "task", "77")[0] == 1  # not loaded
    assert run("query", "task", "abc")[0] == 2
    assert run("query", "tasks", "--since", "June")[0] == 2


def test_tasks_clean(tasks: dict[str, Path], tmp_path: Path) -> None:
    for name in ("failed", "new"):
        assert run("load", "task", str(tasks[name]))[0] == 0
    root = tasks["root"]
    shutil.rmtree(tasks["new"])  # girar removed task 2002
    (tasks["failed"] / "task" / "state").write_text("AWAITING\n")
    code, out, _ = run("tasks", "clean", str(root), "--dry-run")
    assert code == 0
    assert out.splitlines()[-1] == (
        "2 open task(s) checked, would mark 1 deleted, 1 with another state on disk"
    )
    assert "DELETED" not in run("query", "task", "2002")[1].splitlines()[0]
    code, out, _ = run("tasks", "clean", str(root))
    assert code == 0
    assert out.splitlines()[0] == "2002\tDELETED"
    assert Path("unclear_state_tasks.log").read_text() == "2001\tFAILED\tAWAITING\n"
    code, out, _ = run("query", "task", "2002", "--format", "json")
    body = json.loads(out)
    assert body["state"] == "DELETED"
    assert body["states"][-1]["message"] == "task found as deleted by task_cleaner"
    assert [s["package"] for s in body["subtasks"]] == ["rt-epsilon"]  # still readable
    code, out, _ = run("tasks", "clean", str(root))
    assert out.splitlines()[-1].startswith("1 open task(s) checked, marked 0 deleted")


def test_load_package(tasks: dict[str, Path]) -> None:
    srpm = tasks["rpms"] / "epsilon" / "rt-epsilon-3.1-alt1.src.rpm"
    code, out, _ = run("load", "package", str(srpm))
    assert code == 0 and out.startswith("rt-epsilon-3.1-alt1.src.rpm: loaded, pkg_hash ")
    code, out, _ = run("load", "package", str(srpm))
    assert code == 0 and "already loaded" in out
    binary = tasks["rpms"] / "epsilon" / "x86_64" / "rt-epsilon-3.1-alt1.x86_64.rpm"
    code, _, err = run("load", "package", str(binary))
    assert code == 2 and "not a source package" in err


def test_compatibility_commands(tasks: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    task_loader_main([str(tasks["done"]), "-w", "2"])  # returns: exit status 0
    assert capsys.readouterr().out.startswith("task 1100 DONE: 9 packages (9 new)")
    with pytest.raises(SystemExit) as bad:
        task_loader_main([str(tasks["root"])])
    assert bad.value.code == 2
    (tasks["failed"] / "acl" / "approved" / "1" / "bob").write_text("yes\n")
    with pytest.raises(SystemExit) as broken:
        task_loader_main([str(tasks["failed"])])
    assert broken.value.code == 1
    assert "task 2001: " in capsys.readouterr().err
    srpm = tasks["rpms"] / "alpha" / "rt-alpha-1.0-alt1.src.rpm"
    package_loader_main([str(srpm)])
    assert "already loaded" in capsys.readouterr().out  # task 1100 stored it
    task_cleaner_main([str(tasks["root"]), "-x"])
    assert "0 open task(s) checked" in capsys.readouterr().out
