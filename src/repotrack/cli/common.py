"""What every command shares: loading settings lazily, and turning errors into exit codes.

Exit status: 0 success, 1 failure, 2 bad usage or bad input (``InputError``,
``ConfigError``). ``--debug`` prints the traceback as well.
"""

from __future__ import annotations

import atexit
import functools
import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

import typer

from repotrack.errors import RepotrackError

if TYPE_CHECKING:  # pydantic models cost ~0.1 s to build: not for ``--help``
    from rich.console import Console

    from repotrack.config import Settings

__all__ = [
    "AppState",
    "console",
    "err_console",
    "error_line",
    "fail",
    "get_settings",
    "guarded",
    "handle_errors",
]

P = ParamSpec("P")
R = TypeVar("R")


class _LazyConsole:
    """A Rich ``Console`` made on first use.

    Importing Rich's console costs about 0.02 s of CPU, which commands that print with
    ``typer.echo`` only (a no-change ``track run``, a task reload) need not pay.
    """

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def resolve(self) -> Console:
        """The Console itself, made now if not yet (for Rich objects that take one)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.resolve(), name)

    # Special methods are looked up on the type, never through __getattr__: Rich's live
    # display (the progress bar) enters its console as a context manager.
    def __enter__(self) -> Console:
        return self.resolve().__enter__()

    def __exit__(self, *exc: object) -> None:
        self.resolve().__exit__(*exc)


def real_console(console: Console) -> Console:
    """``console`` itself, or the Console behind one of the consoles above."""
    return console.resolve() if isinstance(console, _LazyConsole) else console


console = cast("Console", _LazyConsole())
#: Errors are one line each, whatever the terminal width (scripts grep them).
err_console = cast("Console", _LazyConsole(stderr=True, soft_wrap=True))


class AppState:
    """Options of the root command, kept on the Typer context for subcommands."""

    def __init__(self, config: Path | None = None, debug: bool = False) -> None:
        self.config = config
        self.debug = debug
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from repotrack.config import load_settings

            self._settings = load_settings(self.config)
        return self._settings


def get_state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj


def get_settings(ctx: typer.Context) -> Settings:
    """The settings, loaded on first use so that ``--help`` never reads a file."""
    return get_state(ctx).settings


def fail(message: str, *, code: int = 1) -> typer.Exit:
    """Print ``message`` on stderr and return the Exit to raise."""
    err_console.print(message, markup=False, highlight=False, emoji=False)
    return typer.Exit(code)


def error_line(exc: RepotrackError) -> str:
    """``TypeName: message``; an error relayed from the service keeps the service's type name
    (``type_name``), so a handed-over load fails with the same line as a local one."""
    name = getattr(exc, "type_name", None) or type(exc).__name__
    return f"{name}: {exc}"


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a ``RepotrackError`` as ``TypeName: message`` and exit with its code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except RepotrackError as exc:
            if _debug_requested(args, kwargs):
                err_console.print_exception()
            raise fail(error_line(exc), code=exc.exit_code) from exc

    return wrapper


def _debug_requested(args: Any, kwargs: Any) -> bool:
    ctx = next((a for a in (*args, *kwargs.values()) if isinstance(a, typer.Context)), None)
    if ctx is not None:
        return get_state(ctx).debug
    return "--debug" in sys.argv


def guarded(entry: Callable[[], object]) -> Callable[[], None]:
    """A console-script entry point that never ends in a traceback.

    The last resort behind ``handle_errors``: an error no command translated (an
    ``OSError`` from a path the user named, a bug) is printed as one
    ``TypeName: message`` line with exit status 1; ``--debug`` (or
    ``REPOTRACK_DEBUG=1``) shows the traceback instead.
    """

    @functools.wraps(entry)
    def run() -> None:
        # repotrack uses no pydantic plugin; looking for them reads the metadata of every
        # installed distribution (about 0.005 s of each command). Set the variable empty
        # to have pydantic load plugins again.
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
        _skip_collection_at_exit()
        _collect_less_often()
        try:
            entry()
        except RepotrackError as exc:
            raise SystemExit(_last_line(error_line(exc), exc.exit_code)) from None
        except Exception as exc:
            if "--debug" in sys.argv or os.environ.get("REPOTRACK_DEBUG") == "1":
                raise
            raise SystemExit(_last_line(f"{type(exc).__name__}: {exc}", 1)) from None

    return run


def _skip_collection_at_exit() -> None:
    """Spare the interpreter's exit its garbage collection (registered once per process).

    As an interpreter shuts down it collects garbage while it tears the modules down,
    and frees what it finds object by object. After a command that imported the
    settings' models, Typer, Rich and chDB (some 40 000 tracked objects), that took the
    last 70-100 ms of the command, after its work was done: a tenth of a reload of
    2008 packages. ``gc.freeze`` in an exit handler takes the objects out of every
    later collection, and the operating system frees the process's memory at once.
    Nothing that must happen is skipped: every exit handler still runs (logging's
    flush, the clean-up of multiprocessing, worker threads and temporary directories),
    the standard streams are flushed after them, and the stores and files a command
    writes are closed by the command. Only ``__del__`` of objects left in reference
    cycles no longer runs, which Python never promised for objects alive at exit.
    """
    global _exit_collection_skipped
    if not _exit_collection_skipped:
        _exit_collection_skipped = True
        atexit.register(gc.freeze)


_exit_collection_skipped = False

#: Container allocations (net) between two collections of the youngest generation, and
#: collections of one generation between two of the next (Python's defaults: 700, 10, 10).
COLLECTION_THRESHOLDS: tuple[int, int, int] = (50_000, 10, 10)


def _collect_less_often() -> None:
    """Collect garbage less often than Python's defaults (once per process).

    Why: a feed load or a large query builds hundreds of thousands of objects that all
    live on (the rows read back, the parsed records). With the defaults, every 700 new
    objects start a collection, and as the live objects grow the collector walks all of
    them again, again and again: `load acl` of 81 200 unchanged entries spent a third of
    its time there, and parsing an 80 000-row result took 130-240 ms against 40-45 ms
    with no collection at all. Raising the thresholds (and freezing what the imports made
    so far, which lives as long as the process) keeps almost all of that gain: whole
    processes, interleaved with the code before, medians, `load acl` again 1.56 -> 1.14 s,
    `load bugzilla` 1.42 -> 1.26 s (2026-12-06). Collection stays on: reference cycles,
    in a command or in the long-running service and daemon, are still freed, after at
    most 50 000 new container objects for the young ones.
    """
    global _collection_tuned
    if not _collection_tuned:
        _collection_tuned = True
        gc.freeze()
        gc.set_threshold(*COLLECTION_THRESHOLDS)


_collection_tuned = False


def _last_line(message: str, code: int) -> int:
    line = " ".join(message.split("\n")).strip()
    err_console.print(line, markup=False, highlight=False)
    return code
