"""``repotrack serve``, ``repotrack gen-cert`` and the ``patch-tracking`` console script.

``patch-tracking`` is ``repotrack serve`` for installations migrating from the
original: when no repotrack settings file is found it reads the legacy
``/etc/patch-tracking/settings.conf`` (parsed as ``KEY = "value"`` lines, never
executed) and, when no certificate is configured, uses the original launcher's
``self-signed.crt``/``self-signed.key`` next to it. A ``repotrack.toml`` always wins.
FastAPI and uvicorn are imported inside the commands, so ``--help`` stays fast.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from repotrack.cli.common import get_settings, guarded, handle_errors
from repotrack.errors import InputError

if TYPE_CHECKING:
    from repotrack.config import Settings

__all__ = ["LEGACY_SETTINGS", "patch_tracking_main", "register"]

LEGACY_SETTINGS = Path("/etc/patch-tracking/settings.conf")

ListenOpt = Annotated[
    str | None,
    typer.Option(
        "--listen", help="host:port, [IPv6]:port (default: service.listen, 127.0.0.1:5001)."
    ),
]
CertOpt = Annotated[
    Path | None,
    typer.Option("--certfile", help="TLS certificate (PEM); with --keyfile turns HTTPS on."),
]
KeyOpt = Annotated[Path | None, typer.Option("--keyfile", help="TLS private key (PEM).")]
InsecureOpt = Annotated[
    bool,
    typer.Option(
        "--insecure-http",
        help="Allow plain HTTP on a non-loopback address (only behind a TLS proxy).",
    ),
]
TrackerOpt = Annotated[
    bool, typer.Option("--tracker/--no-tracker", help="Run the tracking scheduler in the service.")
]


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("gen-cert")(gen_cert)


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Alembic narrates every plugin and migration step at INFO; only problems matter here.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.root.level))


@handle_errors
def serve(
    ctx: typer.Context,
    listen: ListenOpt = None,
    certfile: CertOpt = None,
    keyfile: KeyOpt = None,
    insecure_http: InsecureOpt = False,
    tracker: TrackerOpt = True,
) -> None:
    """Serve the REST API (patch-tracking routes and /api/v1) and run the tracker.

    Without configuration: SQLite state under the data directory (migrated
    automatically), plain HTTP on 127.0.0.1:5001. Give --certfile/--keyfile for HTTPS.
    """
    from repotrack.service.server import serve as run_server

    settings = get_settings(ctx)
    _setup_logging(settings)
    run_server(
        settings,
        listen=listen,
        certfile=certfile,
        keyfile=keyfile,
        insecure_http=insecure_http,
        scheduler=tracker,
    )


@handle_errors
def gen_cert(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--out", help="Directory for the pair (default: <home>/tls).")
    ] = None,
    cn: Annotated[str, typer.Option("--cn", help="Certificate common name.")] = "self-signed",
    days: Annotated[int, typer.Option("--days", help="Validity in days.")] = 3650,
    bits: Annotated[int, typer.Option("--bits", help="RSA key size: 2048, 3072 or 4096.")] = 4096,
    host: Annotated[
        list[str] | None,
        typer.Option("--host", help="Extra DNS name or IP for subjectAltName (repeatable)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing pair.")] = False,
) -> None:
    """Make a self-signed certificate and key (key file mode 0600) for `repotrack serve`."""
    from repotrack.service.tls import generate_self_signed

    directory = out if out is not None else get_settings(ctx).home / "tls"
    pair = generate_self_signed(
        directory,
        common_name=cn,
        days=days,
        key_size=bits,
        hosts=tuple(host or ()),
        overwrite=force,
    )
    typer.echo(f"certificate: {pair.certfile}")
    typer.echo(f"key:         {pair.keyfile}")
    typer.echo(f"serve with:  repotrack serve --certfile {pair.certfile} --keyfile {pair.keyfile}")


def _legacy_settings(path: Path) -> tuple[Settings, Path | None, Path | None]:
    """Settings from a legacy settings.conf, and the launcher's certificate pair if present."""
    from repotrack.config import load_settings
    from repotrack.legacy_settings import legacy_to_settings, parse_settings_conf

    tree = legacy_to_settings(parse_settings_conf(path), source=str(path))
    settings = load_settings(None, **tree)
    cert, key = path.parent / "self-signed.crt", path.parent / "self-signed.key"
    if cert.is_file() and key.is_file():
        return settings, cert, key
    return settings, None, None


def _legacy_path(given: Path | None) -> Path | None:
    """The legacy file to read: the one given (which must exist), else the default if present.

    A mistyped ``--settings-conf`` must not start a service on defaults (another
    password, another port) without a word: it is bad input, exit status 2.
    """
    if given is None:
        return LEGACY_SETTINGS if LEGACY_SETTINGS.is_file() else None
    if not given.is_file():
        raise InputError("no such file", path=str(given), field="--settings-conf")
    return given


_legacy_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@_legacy_app.command()
@handle_errors
def _patch_tracking(
    settings_conf: Annotated[
        Path | None,
        typer.Option(
            "--settings-conf",
            help="Legacy settings.conf, read when no repotrack.toml exists "
            f"(default: {LEGACY_SETTINGS} if present). A missing file given here is an error.",
        ),
    ] = None,
    listen: ListenOpt = None,
    certfile: CertOpt = None,
    keyfile: KeyOpt = None,
    insecure_http: InsecureOpt = False,
    tracker: TrackerOpt = True,
) -> None:
    """patch-tracking: the repotrack service, reading a legacy settings.conf if needed."""
    from repotrack.config import load_settings
    from repotrack.service.server import serve as run_server

    legacy = _legacy_path(settings_conf)
    settings = load_settings()
    if settings.config_file is None and legacy is not None:
        settings, legacy_cert, legacy_key = _legacy_settings(legacy)
        if certfile is None and keyfile is None and settings.service.certfile is None:
            certfile, keyfile = legacy_cert, legacy_key
    _setup_logging(settings)
    run_server(
        settings,
        listen=listen,
        certfile=certfile,
        keyfile=keyfile,
        insecure_http=insecure_http,
        scheduler=tracker,
    )


def patch_tracking_main() -> None:
    guarded(_legacy_app)()
