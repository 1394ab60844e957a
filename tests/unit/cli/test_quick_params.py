"""Values converted without Typer's per-parameter pydantic adapters equal Typer's own.

``quick_params`` converts plain values itself and hands everything else to Typer; these
tests hold both conversions side by side, value by value, so that a Typer release that
converts differently fails here rather than changing what a command receives.
"""

from __future__ import annotations

import enum
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal

import pytest
from typer._coercion import build_runtime_param, resolve_type_descriptor
from typer.models import ArgumentInfo, OptionInfo

from repotrack.cli.quick_params import DECLINED, quick_value


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


def _typer(descriptor: Any, value: Any) -> tuple[str, Any]:
    """Typer's own conversion: ("ok", value) or ("error", message)."""
    try:
        return "ok", build_runtime_param(descriptor)._coerce_value(value, param=None, ctx=None)  # type: ignore[arg-type]
    except Exception as exc:
        return "error", str(exc)


_INT_VALUES = ["0", "7", "007", "123456789012345678", "1234567890123456789", "-3", "+3"]
_INT_VALUES += [" 5", "5 ", "1_000", "", "x", "１２", "٣", "3.0", 4, True, 2.5]
_STR_VALUES = ["", "p10", "a b", "-", "é", "2024-01-02", b"bytes", 5, None]
_PATH_VALUES = ["", ".", "/", "/tmp/", "x//y/", "~/x", "-", "a b", "é", "no/such/dir", 5]
_PATH_VALUES += [Path("/tmp"), Path("rel/x"), Path()]
_CASES: list[tuple[Any, Any, list[Any]]] = [
    (int, OptionInfo(), _INT_VALUES),
    (int, OptionInfo(min=1), ["0", "1", "5"]),
    (int, ArgumentInfo(), _INT_VALUES),
    (str, OptionInfo(), _STR_VALUES),
    (str, ArgumentInfo(), _STR_VALUES),
    (bool, OptionInfo(), [True, False, "true", "no", "", 1]),
    (Path, OptionInfo(), _PATH_VALUES),
    (Path, ArgumentInfo(), _PATH_VALUES),
    (Path, OptionInfo(exists=True), [".", "/", "no/such/dir", "/etc/hostname"]),
    (Path, OptionInfo(exists=True, dir_okay=False), [".", "/etc/hostname"]),
    (Path, OptionInfo(resolve_path=True), [".", "x/../y", "/tmp"]),
    (Colour, OptionInfo(), ["red", "GREEN", "blue", Colour.RED, ""]),
    (Colour, OptionInfo(case_sensitive=False), ["red", "GREEN", "blue"]),
    (Literal["table", "json"], OptionInfo(), ["table", "json", "csv", "JSON"]),
    (float, OptionInfo(), ["1.5", "2"]),
    (list[str], OptionInfo(), [["a", "b"], ("a", ""), (), [], "a", ["a", 1], [b"x"]]),
    (list[int], OptionInfo(), [["1", "2"], ()]),
]


@pytest.mark.parametrize(
    ("annotation", "info", "value"),
    [(a, i, v) for a, i, values in _CASES for v in values],
)
def test_a_quick_value_is_what_typer_gives(annotation: Any, info: Any, value: Any) -> None:
    descriptor = resolve_type_descriptor(annotation, info)
    quick = quick_value(descriptor, value)
    if quick is DECLINED:
        return  # Typer converts it: nothing of ours to compare
    outcome, expected = _typer(descriptor, value)
    assert outcome == "ok", f"quick converted {value!r}, Typer says {expected}"
    assert quick == expected
    assert type(quick) is type(expected)


def test_plain_values_are_taken_and_errors_left_to_typer() -> None:
    taken = [
        (int, "2"),
        (str, "p10"),
        (Path, "/tmp"),
        (bool, False),
        (Colour, "red"),
        (Literal["table", "json"], "json"),
        (list[str], ("a", "b")),
    ]
    for annotation, value in taken:
        descriptor = resolve_type_descriptor(annotation, OptionInfo())
        assert quick_value(descriptor, value) is not DECLINED, (annotation, value)
    declined = [(int, "x"), (int, "-3"), (Path, ""), (Colour, "blue"), (float, "1.5")]
    for annotation, value in declined:
        descriptor = resolve_type_descriptor(annotation, OptionInfo())
        assert quick_value(descriptor, value) is DECLINED, (annotation, value)


_RUN = """
import sys
from repotrack.cli import main
try:
    main.run(sys.argv[1:], "repotrack")
except SystemExit as exc:
    print("exit", exc.code)
print("adapters" if "typer._adapters" in sys.modules else "no adapters")
"""


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOTRACK_")}
    env["REPOTRACK_HOME"] = str(tmp_path / "home")
    return subprocess.run(
        [sys.executable, "-c", _RUN, *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def test_a_command_line_of_plain_values_builds_no_adapter(tmp_path: Path) -> None:
    """Every value parsed (the load then stops at the missing directory), no adapter."""
    missing = tmp_path / "missing"
    done = _run(tmp_path, "load", "repo", "p10", str(missing), "--date", "2024-01-02", "-w", "2")
    assert "no such directory" in done.stderr
    assert done.stdout.splitlines()[-1] == "no adapters", done.stdout + done.stderr


def test_a_bad_value_gets_typers_own_error(tmp_path: Path) -> None:
    done = _run(tmp_path, "load", "repo", "p10", str(tmp_path), "--date", "x", "-w", "two")
    assert "Invalid value for '--workers' / '-w'" in done.stderr
    assert "unable to parse string as an integer" in done.stderr
    assert "exit 2" in done.stdout
