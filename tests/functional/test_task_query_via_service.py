"""The girar task queries print the same whether the CLI opens the store or the service holds it.

The store is ``tests.fixtures.taskstore``'s (a sisyphus snapshot of task 1000, tasks
1100 DONE, 2001 FAILED and 2002 NEW). Each command runs with the store free, then while
``repotrack serve`` holds it; stdout, stderr and exit status must be identical.
"""

from __future__ import annotations

import pytest

from tests.fixtures.taskstore import loaded_task_store
from tests.functional.test_load_handoff import _free_port
from tests.functional.test_query_via_service import _env, _run, _serving

COMMANDS = [
    ("query", "task", "2001"),
    ("query", "task", "1100", "--format", "json"),
    ("query", "task-repo", "1100"),
    ("query", "task-repo", "2001", "--format", "json"),
    ("query", "package-history", "rt-delta", "--branch", "p10"),
    ("query", "package-history", "rt-alpha", "--branch", "sisyphus", "--format", "json"),
    ("query", "tasks"),
    ("query", "tasks", "--branch", "sisyphus", "--state", "DONE", "--format", "json"),
    ("query", "tasks", "--since", "2024-06-10", "--owner", "bob", "--limit", "1"),
    ("query", "task", "77"),
    ("query", "task-repo", "77"),
    ("query", "task", "0"),
    ("query", "tasks", "--limit", "0"),
    ("query", "package-history", "", "--branch", "p10"),
]

Outputs = tuple[list[tuple[int, str, str]], list[tuple[int, str, str]]]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    home = tmp_path_factory.mktemp("task-reads") / "home"
    loaded_task_store(tmp_path_factory, home / "store")
    port = _free_port()
    env = _env(home, port)
    alone = [_run(env, args) for args in COMMANDS]
    with _serving(env, port, home.parent / "serve.log"):
        held = [_run(env, args) for args in COMMANDS]
    return alone, held


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(COMMANDS)), ids=[" ".join(c) for c in COMMANDS])
def test_same_output_with_and_without_the_service(outputs: Outputs, index: int) -> None:
    alone, held = outputs
    assert "Traceback" not in alone[index][2]
    assert held[index] == alone[index]


@pytest.mark.slow
def test_the_answers_are_the_tasks_answers(outputs: Outputs) -> None:
    """Both ways answered with data, and the errors are the ones a user should see."""
    alone, _held = outputs
    code, out, _ = alone[0]
    assert code == 0 and out.startswith("task 2001 p10 FAILED owner bob")
    code, out, _ = alone[6]
    assert code == 0 and out.rstrip().endswith("3 task(s)")
    assert alone[9][:2] == (1, "") and alone[9][2].strip() == "NotFoundError: task 77 is not loaded"
    assert alone[11][0] == 2 and alone[11][2].startswith("InputError: ")
    assert alone[12][0] == 2 and alone[13][0] == 2
