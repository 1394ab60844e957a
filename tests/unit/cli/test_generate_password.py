"""generate_password and repotrack hash-password: the original's rules and messages."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from repotrack.cli import generate_password
from repotrack.cli.main import app
from repotrack.passwords import verify_password


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        generate_password.main(list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_strong_password_prints_a_verifiable_hash(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "Passw0rd~")
    assert (code, err) == (0, "")
    assert out.startswith("pbkdf2:sha256:600000$")
    assert verify_password(out.strip(), "Passw0rd~")


#: The original script's output when it refuses, byte for byte (its usage() then the reason).
ORIGINAL_USAGE = (
    "usage: generate_password PASSWORD\n\nRequirements:\n"
    "1. PASSWORD must be within the 'latin1' character set\n"
    "2. PASSWORD strength require:\n"
    "    length must be between 6 and 32\n"
    "    at least 1 digit [0-9]\n"
    "    at least 1 alphabet [a-z]\n"
    "    at least 1 alphabet of Upper Case [A-Z]\n"
    "    at least 1 special character from [~!@#%^*_+=-]\n\n"
)


@pytest.mark.parametrize("argv", [[], ["a", "b"], ["Passw0rd~", "Passw0rd~"]])
def test_exactly_one_argument(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, err) == (1, "")
    assert out == ORIGINAL_USAGE + "Error: One password input allowed.\n"


@pytest.mark.parametrize(
    ("password", "failed"),
    [
        ("abc", ["length", "digit", "uppercase", "symbol"]),
        ("Passw0rd$", ["symbol"]),
        ("PASSW0RD~", ["lowercase"]),
        ("a" * 30 + "A1~~", ["length"]),
        ("", ["length", "digit", "uppercase", "lowercase", "symbol"]),
    ],
)
def test_weak_passwords_list_each_criterion(
    capsys: pytest.CaptureFixture[str], password: str, failed: list[str]
) -> None:
    code, out, err = run(capsys, password)
    assert (code, err) == (1, "")
    reasons = "".join(f"{name} not satisfied.\n" for name in failed)
    assert out == ORIGINAL_USAGE + "Password strength is not satisfied:\n" + reasons


def test_non_latin1_password(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "Pässw0rd~€")
    assert (code, err) == (1, "")
    assert out == ORIGINAL_USAGE + "PASSWORD: only latin1 character set are allowed\n"


def test_hash_password_argument_and_prompt() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["hash-password", "Passw0rd~"])
    assert result.exit_code == 0
    assert verify_password(result.stdout.strip(), "Passw0rd~")
    result = runner.invoke(app, ["hash-password"], input="Passw0rd~\nPassw0rd~\n")
    assert result.exit_code == 0
    assert verify_password(result.stdout.strip().splitlines()[-1], "Passw0rd~")
    result = runner.invoke(app, ["hash-password", "weak"])
    assert result.exit_code == 1
    assert "length not satisfied." in result.output
