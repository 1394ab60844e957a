"""``repotrack feeds status``: each feed's schedule and its last run, from the state database.

Runs recorded there come from ``repotrack serve``'s scheduler, ``POST
/api/v1/feeds/{name}/run`` and ``repotrack load <feed>`` alike.
"""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

from repotrack.cli.common import console, get_settings, handle_errors

__all__ = ["register"]

app = typer.Typer(help="Enrichment feeds: schedule and run history.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="feeds")


@app.command("status")
@handle_errors
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every feed: interval (off unless [feeds] interval sets it), last run, next run."""
    import json

    from repotrack.daemon.feeds import FeedScheduler
    from repotrack.state import StateDB
    from repotrack.store import to_plain

    settings = get_settings(ctx)
    db = StateDB(settings.state_url)
    try:
        states = FeedScheduler(settings, db, _no_store).status()
    finally:
        db.close()
    if as_json:
        typer.echo(json.dumps(to_plain(states), indent=2))
        return
    for s in states:
        every = f"every {s.interval} s" if s.interval else "not scheduled"
        run = s.last_run
        if run is None:
            last = "never run"
        else:
            last = f"last {run.outcome} at {run.started_at:%Y-%m-%d %H:%M:%S} UTC ({run.trigger})"
            last += f", {run.rows_added} rows" if run.outcome == "success" else ""
            last += f": {run.error}" if run.error else ""
        nxt = f"; next {s.next_run:%Y-%m-%d %H:%M:%S} UTC" if s.next_run else ""
        running = "; running now" if s.running else ""
        console.print(
            f"{s.feed}: {every}; {last}{nxt}{running}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def _no_store() -> NoReturn:
    raise AssertionError("feeds status never opens the store")
