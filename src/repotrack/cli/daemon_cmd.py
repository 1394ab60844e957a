"""``repotrack daemon`` (``uploaderd``, ``altrepod``) and ``repotrack fire`` (``repodb_amqpfire``).

``daemon`` reads the original's ``config.json`` and ``services.d/`` and runs every
listed service against repotrack's store until SIGTERM or SIGINT, which let the
message in hand finish and then exit 0. ``fire`` publishes one load request. The
standalone names are the same commands: ``uploaderd -c config.json -s services.d``.
"""

from __future__ import annotations

import itertools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from repotrack.cli.common import console, get_settings, handle_errors

__all__ = ["altrepod_main", "fire_main", "register", "uploaderd_main"]

daemon_app = typer.Typer(help="The AMQP daemon (uploaderd-compatible).")

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", help="The original's config.json."),
]
DaemonConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="The original's config.json (default: the daemon section of repotrack.toml, "
        "else /etc/uploaderd/config.json).",
    ),
]
ServiceDirOption = Annotated[
    Path | None,
    typer.Option(
        "--service-dir",
        "-s",
        help="Folder of the services' <name>.json files (default: /etc/uploaderd/services.d).",
    ),
]
DebugOption = Annotated[bool, typer.Option("--debug", "-D", help="Debug logging.")]


def register(root: typer.Typer) -> None:
    root.add_typer(daemon_app, name="daemon")
    root.command("fire")(fire_cmd)


def _setup_logging(debug: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s: %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    logging.getLogger("pika").setLevel(logging.DEBUG if debug else logging.WARNING)


@daemon_app.callback(invoke_without_command=True)
@handle_errors
def daemon_cmd(
    ctx: typer.Context,
    config: DaemonConfigOption = None,
    service_dir: ServiceDirOption = None,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker",
            help="Run the load jobs the service sends to the job queue (queue.url) instead.",
        ),
    ] = False,
    debug: DebugOption = False,
) -> None:
    """Run the configured services until SIGTERM (the message in hand is finished first)."""
    if ctx.invoked_subcommand is not None:
        return
    import signal

    from repotrack.daemon.config import resolve_daemon_config
    from repotrack.daemon.consumer import BatchWork, Work
    from repotrack.daemon.handlers import batch_work_for, work_for
    from repotrack.daemon.service import Daemon
    from repotrack.daemon.status import status_path
    from repotrack.daemon.systemd import notify
    from repotrack.errors import StoreLockedError
    from repotrack.store import Store, open_current_store

    settings = get_settings(ctx)
    if worker:
        from repotrack.daemon.worker import broker_of, job_work, worker_config

        broker = broker_of(settings)
        daemon_config = worker_config(broker)

        def works(store: Store) -> Callable[[str], Work | None]:
            work = job_work(store, settings, broker)
            return lambda name: work

        def batches(store: Store) -> Callable[[str], BatchWork | None] | None:
            return None

    else:
        source = str(settings.config_file) if settings.config_file else None
        daemon_config = resolve_daemon_config(settings.daemon, source, config, service_dir)

        def works(store: Store) -> Callable[[str], Work | None]:
            return lambda name: work_for(name, daemon_config.services[name], store, settings)

        def batches(store: Store) -> Callable[[str], BatchWork | None] | None:
            return lambda name: batch_work_for(name, daemon_config.services[name], store, settings)

    _setup_logging(debug)
    try:
        opened = open_current_store(settings.store_url)
    except StoreLockedError as exc:
        if not worker:
            raise
        from repotrack.daemon.worker import worker_store_locked

        raise worker_store_locked(exc) from exc
    with opened as store:
        daemon = Daemon(
            daemon_config,
            works(store),
            status_file=status_path(settings.home),
            batch_work=batches(store),
        )

        def stop(signum: int, _frame: object) -> None:
            logging.getLogger(__name__).info("signal %d: stopping", signum)
            notify("STOPPING=1")
            daemon.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

        def ready() -> None:
            names = ", ".join(daemon_config.services)
            notify(f"READY=1\nSTATUS=serving {names}")
            logging.getLogger(__name__).info("daemon ready: %s", names)

        daemon.run(on_ready=ready)


@daemon_app.command("status")
@handle_errors
def status_cmd(
    ctx: typer.Context,
    output: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """Show the daemon's services, queues, message in hand, counts and last errors."""
    import json

    from repotrack.daemon.status import read_status, status_path
    from repotrack.errors import InputError

    if output not in ("table", "json"):
        raise InputError("must be table or json", field="--format")
    status = read_status(status_path(get_settings(ctx).home))
    if output == "json":
        typer.echo(json.dumps(status, indent=2))
        return
    state = "running" if status["alive"] else "not running"
    typer.echo(f"daemon pid {status['pid']}: {state}, status of {status['updated']}")
    for service in status["services"]:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(service["counts"].items())) or "none"
        link = "connected" if service["connected"] else "not connected"
        typer.echo(f"{service['name']} ({service['queue']}, {link}): {counts}")
        if service["in_flight"]:
            typer.echo(f"  in hand: {service['in_flight']}")
        for error in service["last_errors"][-3:]:
            typer.echo(f"  {error['action']} {error['routing_key']}: {error['reason']}")


@handle_errors
def fire_cmd(
    service: Annotated[
        str, typer.Option("--service", "-s", help="repo, watch, repocop or beehive.")
    ],
    config: ConfigOption,
    params: Annotated[
        list[str] | None,
        typer.Option("--params", "-p", help="For repo: <branch> <YYYY-MM-DD> (give -p twice)."),
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Publish one load request for the daemon (the original's repodb_amqpfire)."""
    from repotrack.daemon.fire import fire, load_fire_config

    if debug:
        _setup_logging(debug)
    fire(load_fire_config(config), service, params or [])
    console.print("OK", markup=False, highlight=False)


def _alias(prefix: list[str]) -> None:
    from repotrack.cli.main import run

    run([*prefix, *sys.argv[1:]], prog_name=Path(sys.argv[0]).name)


def uploaderd_main() -> None:
    _alias(["daemon"])


altrepod_main = uploaderd_main


def fire_main() -> None:
    """``repodb_amqpfire -c CONFIG -s SERVICE [-p BRANCH DATE] [-D]``: ``-p`` takes the rest."""
    args = sys.argv[1:]
    if "-p" in args:  # the original's -p takes every following word (nargs="+")
        at = args.index("-p")
        rest = list(itertools.takewhile(lambda a: not a.startswith("-"), args[at + 1 :]))
        tail = args[at + 1 + len(rest) :]
        args = [*args[:at], *[x for p in rest for x in ("-p", p)], *tail]
    from repotrack.cli.main import run

    run(["fire", *args], prog_name=Path(sys.argv[0]).name)
