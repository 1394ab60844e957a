"""The options of every command that can hand its work to the running service.

``load repo``, ``load image|iso``, ``load task|package`` and ``tasks clean`` take the
same account and TLS options and build a ``HandOff`` from them the same way; they live
here once. ``load_remote`` itself (httpx, the polling) is imported only when a command
builds one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from repotrack.cli.common import get_settings

if TYPE_CHECKING:
    from repotrack.cli.load_remote import HandOff

__all__ = [
    "CacertOption",
    "InsecureOption",
    "PasswordOption",
    "ServerOption",
    "UserOption",
    "ViaServiceOption",
    "handoff",
]

#: ``--via-service`` of the loads whose one path the service reads.
ViaServiceOption = Annotated[
    bool,
    typer.Option(
        "--via-service",
        help="Hand the load to the running service (which reads PATH) without trying the "
        "store first.",
    ),
]
ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="REPOTRACK_SERVER",
        help="Service URL for a hand-off (default: from service.listen and its TLS files).",
    ),
]
UserOption = Annotated[
    str | None,
    typer.Option(
        "--user", envvar="REPOTRACK_USER", help="Service account (default: service.user)."
    ),
]
PasswordOption = Annotated[
    str | None,
    typer.Option(
        "--password",
        help="Service password; default $REPOTRACK_PASSWORD (--via-service: else a prompt).",
    ),
]
CacertOption = Annotated[
    Path | None,
    typer.Option(
        "--cacert", envvar="REPOTRACK_CACERT", help="PEM CA file to trust for the service."
    ),
]
InsecureOption = Annotated[
    bool, typer.Option("--insecure", help="Do not verify the service's TLS certificate.")
]


def handoff(
    ctx: typer.Context,
    *,
    via_service: bool,
    server: str | None,
    user: str | None,
    password: str | None,
    cacert: Path | None,
    insecure: bool,
    hint: str,
) -> HandOff:
    """The hand-off a command's options describe; ``hint`` tells a user without the
    account how to hand the command over."""
    from repotrack.cli.load_remote import HandOff, ServiceOptions

    options = ServiceOptions(
        server=server, cacert=cacert, insecure=insecure, user=user, password=password
    )
    return HandOff(get_settings(ctx), options, always=via_service, hint=hint)
