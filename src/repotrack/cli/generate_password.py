"""``generate_password PASSWORD`` and ``repotrack hash-password [PASSWORD]``.

Both print a hash for ``[service] password_hash`` after checking the original's
strength rules (reference §4.4), with its messages. ``hash-password`` prompts (twice,
hidden) when the password is left out, so it need not land in shell history or the
process list, which was the original's weakness.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from repotrack.passwords import SYMBOLS, check_strength, hash_password

__all__ = ["USAGE", "main", "register"]

USAGE = (
    "usage: generate_password PASSWORD\n"
    "  Print the hash of PASSWORD for the server's password_hash setting.\n"
    "  PASSWORD: 6 to 32 characters with at least one digit, one upper-case letter,\n"
    f"  one lower-case letter and one of {SYMBOLS}"
)


def strength_report(password: str) -> list[str]:
    """The original's failure lines, or an empty list when the password is acceptable."""
    try:
        password.encode("latin-1")
    except UnicodeEncodeError:
        return ["Error: the password must be Latin-1 text."]
    failed = check_strength(password)
    if not failed:
        return []
    return ["Password strength is not satisfied:", *(f"{name} not satisfied." for name in failed)]


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print(USAGE, file=sys.stderr)
        print("Error: One password input allowed.", file=sys.stderr)
        sys.exit(1)
    problems = strength_report(args[0])
    if problems:
        print(USAGE, file=sys.stderr)
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    print(hash_password(args[0]))


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
