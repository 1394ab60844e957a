"""``generate_password PASSWORD`` and ``repotrack hash-password [PASSWORD]``.

Both print a hash for ``[service] password_hash`` after checking the original's
strength rules (reference §4.4). ``generate_password`` is the original to the letter:
usage text, messages and exit status 1 on failure, everything on stdout as its
``print`` calls wrote it, so scripts that capture its output keep working.
``hash-password`` prompts (twice, hidden) when the password is left out, so it need
not land in shell history or the process list, which was the original's weakness;
its complaints go to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, NoReturn

import typer

from repotrack.passwords import SYMBOLS, check_strength, hash_password

__all__ = ["NOT_LATIN1", "USAGE", "main", "register"]

#: The original's usage text; its ``print`` added one more newline after the last line.
USAGE = f"""usage: generate_password PASSWORD

Requirements:
1. PASSWORD must be within the 'latin1' character set
2. PASSWORD strength require:
    length must be between 6 and 32
    at least 1 digit [0-9]
    at least 1 alphabet [a-z]
    at least 1 alphabet of Upper Case [A-Z]
    at least 1 special character from [{SYMBOLS}]
"""
NOT_LATIN1 = "PASSWORD: only latin1 character set are allowed"


def strength_report(password: str) -> list[str]:
    """The original's failure lines, or an empty list when the password is acceptable."""
    try:
        password.encode("latin-1")
    except UnicodeEncodeError:
        return [NOT_LATIN1]
    failed = check_strength(password)
    if not failed:
        return []
    return ["Password strength is not satisfied:", *(f"{name} not satisfied." for name in failed)]


def main(argv: Sequence[str] | None = None) -> None:
    """``generate_password PASSWORD``: every line on stdout, exit 1 on any refusal."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        _refuse(["Error: One password input allowed."])
    problems = strength_report(args[0])
    if problems:
        _refuse(problems)
    print(hash_password(args[0]))


def _refuse(lines: list[str]) -> NoReturn:
    print(USAGE)
    print("\n".join(lines))
    sys.exit(1)


def hash_password_command(
    password: Annotated[
        str | None, typer.Argument(help="The password; prompted for (hidden) when left out.")
    ] = None,
) -> None:
    """Print a password hash for [service] password_hash (the original's strength rules)."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    problems = strength_report(password)
    if problems:
        typer.echo("\n".join(problems), err=True)
        raise typer.Exit(1)
    typer.echo(hash_password(password))


def register(app: typer.Typer) -> None:
    app.command("hash-password")(hash_password_command)
