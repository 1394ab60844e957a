"""The embedded store: ClickHouse in-process through chDB, one directory per store.

See ``base`` for what was measured about chDB. In short: one embedded server (one
directory) per process, a connection per thread, and a directory lock that keeps
other processes out; this module turns those facts into clear ``StoreError``s.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from repotrack.errors import StoreError, StoreLockedError
from repotrack.store.base import DEFAULT_BATCH_ROWS, Params, Row
from repotrack.store.chdb_memory import release_startup_pages
from repotrack.store.chtypes import result_converter
from repotrack.store.columns import ColumnTypes
from repotrack.store.identifiers import quote_string
from repotrack.store.inserts import insert_head, native_batches, one_line
from repotrack.store.params import render_params
from repotrack.store.urls import chdb_url
from repotrack.store.zones import require_utc

__all__ = ["ChdbStore"]

log = logging.getLogger(__name__)

#: Where insert blocks wait for their ``INSERT ... SELECT FROM file()`` (see ``_send``).
SPOOL_DIR = "repotrack-spool"
_RESULT_FORMAT = "JSONCompactEachRowWithNamesAndTypes"
#: Settings every connection runs with (chDB takes them in the connection string): UTC
#: for dates, and 64-bit integers as JSON numbers (Python's json reads them exactly).
_CONNECTION_SETTINGS = "session_timezone=UTC&output_format_json_quote_64bit_integers=0"

# chDB hosts one embedded server per process; we count our open stores per directory
# so that a second directory gets a clear error and our own lock is not mistaken for
# another process's.
_registry_lock = threading.Lock()
_open_paths: dict[Path, int] = {}
#: The descriptor of each directory's ``repotrack.lock`` this process holds.
_locks: dict[Path, int] = {}
LOCK_FILE = "repotrack.lock"
#: The database that holds a store's tables. chDB's default database also shows each
#: file of the process's working directory as a table of the same name (a file named
#: ``Changelog`` or ``Packages`` made ``CREATE TABLE IF NOT EXISTS`` of that table do
#: nothing, and the migration fail): a store made by this version keeps its tables in a
#: database of its own, where only tables are. A store made earlier has its tables in
#: ``default`` and keeps them there.
STORE_DATABASE = "repotrack"
#: The database each open directory's tables are in, decided at its first connection.
_databases: dict[Path, str] = {}
#: Whether an embedded server has started in this process (see ``_server_started``).
_started = False


class ChdbStore:
    """A ``Store`` over a chDB directory; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        self.url = chdb_url(self.path)
        self._local = threading.local()
        self._connections: list[Any] = []
        self._conn_lock = threading.Lock()
        self._closed = False
        self._types = ColumnTypes(self.query, self.url)
        self._claim()
        try:
            self._connection()
        except BaseException:
            self._release()
            raise
        _server_started()

    # -- lifecycle ------------------------------------------------------------------

    def _claim(self) -> None:
        with _registry_lock:
            others = [p for p, n in _open_paths.items() if n and p != self.path]
            if others:
                raise StoreError(
                    f"cannot open chDB store {self.path}: this process already has "
                    f"{others[0]} open (chDB hosts one store directory per process)"
                )
            if not _open_paths.get(self.path):
                _ensure_directory(self.path)
                _locks[self.path] = _take_lock(self.path)
                try:
                    _probe_lock(self.path)
                    _reset_spool(self.path / SPOOL_DIR)
                except BaseException:
                    os.close(_locks.pop(self.path))
                    raise
            _open_paths[self.path] = _open_paths.get(self.path, 0) + 1

    def _release(self) -> None:
        with _registry_lock:
            _open_paths[self.path] -= 1
            if not _open_paths[self.path]:
                del _open_paths[self.path]
                _databases.pop(self.path, None)
                with contextlib.suppress(KeyError, OSError):
                    os.close(_locks.pop(self.path))

    def _connection(self) -> Any:
        if self._closed:
            raise StoreError(f"chDB store {self.path} is closed")
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        connect: Any = _import_chdb().connect  # typed in some chDB builds, untyped in others
        try:
            conn = self._connect(connect)
        except RuntimeError as exc:
            if "lock" in str(exc).lower():  # a process that does not take our lock
                raise _locked(self.path, _owner(self.path / "status")) from exc
            raise StoreError(f"cannot open chDB store {self.path}: {exc}") from exc
        with self._conn_lock:
            self._connections.append(conn)
        self._local.conn = conn
        return conn

    def _connect(self, connect: Any) -> Any:
        """A connection whose current database is the one the store's tables are in."""
        database = _databases.get(self.path)
        if database is None:
            with _engine_zone_utc():  # the embedded server starts here (see there)
                boot = connect(f"{self.path}?{_CONNECTION_SETTINGS}")
            try:
                _check_engine_zone(boot)
                database = _store_database(boot)
            except BaseException:
                boot.close()
                raise
            _databases[self.path] = database
            if database == "default":
                return boot
            try:
                return connect(f"{self.path}?{_CONNECTION_SETTINGS}&database={database}")
            finally:  # closed once the other is open: the embedded server stays up
                boot.close()
        return connect(f"{self.path}?{_CONNECTION_SETTINGS}&database={database}")

    def close(self) -> None:
        with self._conn_lock:
            if self._closed:
                return
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(Exception):
                conn.close()
        self._release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- statements -----------------------------------------------------------------

    def _discard(self, conn: Any) -> None:
        """Close a connection that saw a failure, so the next statement gets a fresh one.

        chDB keeps the partial output of a query that failed part-way through its
        result in the connection and hands it to the next query on that connection as
        if it were its result (measured with chDB 26.9: the next ``SELECT 42`` returned
        the failed query's first 200 000 rows). A connection is therefore never reused
        after an error.
        """
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None
        with self._conn_lock:
            if conn in self._connections:
                self._connections.remove(conn)
        with contextlib.suppress(Exception):
            conn.close()

    def _run(self, sql: str, params: Params | None, fmt: str) -> Any:
        rendered = render_params(params)
        conn = self._connection()
        try:
            return conn.query(sql, fmt, params=rendered)
        except Exception as exc:
            self._discard(conn)
            raise StoreError(one_line(exc)) from exc

    def query(self, sql: str, params: Params | None = None) -> list[Row]:
        _, rows = self._select(sql, params)
        return rows

    def query_dicts(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        names, rows = self._select(sql, params)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _select(self, sql: str, params: Params | None) -> tuple[list[str], list[Row]]:
        result = self._run(sql, params, _RESULT_FORMAT)
        text = result.bytes().decode("utf-8", "surrogateescape")
        try:
            return _parse_json_rows(text)
        except (ValueError, TypeError) as exc:  # never a half-read result as an answer
            raise StoreError(f"unreadable result from chDB: {one_line(exc)}") from exc

    def command(self, sql: str, params: Params | None = None) -> None:
        self._run(sql, params, "CSV")

    def insert(
        self,
        table: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> int:
        head = insert_head(table, columns)
        types = self._types.of(table, columns)
        total = 0
        for payload, count in native_batches(table, columns, types, rows, batch_rows):
            self._send(head, payload)
            total += count
        log.debug("store insert", extra={"table": table, "rows": total})
        return total

    def insert_blocks(self, table: str, columns: Sequence[str], blocks: Sequence[bytes]) -> None:
        head = insert_head(table, columns)
        self._types.of(table, columns)
        if blocks:
            self._send(head, b"".join(blocks))

    def insert_select(
        self, table: str, columns: Sequence[str], select: str, structure: str, payload: bytes
    ) -> None:
        self._types.of(table, columns)
        self._send(insert_head(table, columns), payload, select=select)

    def _send(self, head: str, payload: bytes, *, select: str = "SELECT * FROM {source}") -> None:
        """Run ``head SELECT ... FROM file(<payload>, Native)``: an ordinary statement.

        chDB's streaming insert (``send_insert``) reports success when the rows are
        dropped after parsing: a failing materialized view or a violated CHECK lost
        the whole block without an error (chDB 26.9). A load must never believe rows
        are stored that are not, so the block goes through a file in the store's
        own directory and a plain ``INSERT ... SELECT``, whose errors are raised.
        """
        conn = self._connection()
        spool = self._spool_dir()
        fd, name = tempfile.mkstemp(dir=spool, suffix=".native")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
            source = f"file({quote_string(name)}, 'Native')"
            conn.query(f"{head} {select.replace('{source}', source)}", "CSV")
        except OSError as exc:
            raise StoreError(f"cannot spool an insert under {spool}: {exc.strerror}") from exc
        except Exception as exc:
            self._discard(conn)
            raise StoreError(one_line(exc)) from exc
        finally:
            with contextlib.suppress(OSError):
                Path(name).unlink()

    def _spool_dir(self) -> Path:
        """The directory insert blocks are written to (emptied when the store is first
        opened in this process, see ``_claim``)."""
        return self.path / SPOOL_DIR


@contextlib.contextmanager
def _engine_zone_utc() -> Iterator[None]:
    """The process's time zone set to UTC while chDB's engine loads and its embedded
    server starts, then given back.

    chDB (26.9) reads the process's zone (``TZ``, else ``/etc/localtime``) once, as its
    engine loads, and uses it for every function of a stored ``DateTime`` column
    (``toDate``, ``toString``, ``formatDateTime``...): the connection's
    ``session_timezone=UTC`` reaches literals and parameters only. West of UTC, a
    snapshot dated June 1st (midnight UTC) fell on May 31st, so ``query packages --date
    2024-05-31`` answered with it; east of it, a time late in the UTC day fell on the
    next. Every date the store holds is UTC, so the engine must read them in UTC
    (``tests/unit/store/test_chdb_timezone.py``). The rest of the process keeps its own
    zone: it is given back at once (another thread asking for local time in these few
    milliseconds would get UTC)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def _check_engine_zone(conn: Any) -> None:
    """A StoreError unless the engine reads stored times in UTC (``_engine_zone_utc``;
    chDB's engine loaded by someone else first, in another zone, stays in it)."""
    zone = conn.query("SELECT serverTimezone()", "CSV").bytes().decode().strip().strip('"')
    require_utc(
        zone,
        where="chDB's engine in this process",
        fix="it was loaded before repotrack opened a store (open the store before other "
        "code imports chdb, or run with TZ=UTC)",
    )


def _store_database(conn: Any) -> str:
    """``default`` for a store whose tables are there already, else ``STORE_DATABASE``
    (created here)."""
    legacy = conn.query(
        "SELECT count() FROM system.tables "
        "WHERE database = 'default' AND name = 'repotrack_migrations'",
        "CSV",
    )
    if int(legacy.bytes().strip() or b"0"):
        return "default"
    conn.query(f"CREATE DATABASE IF NOT EXISTS {STORE_DATABASE} ENGINE = Atomic", "CSV")
    return STORE_DATABASE


def _parse_json_rows(text: str) -> tuple[list[str], list[Row]]:
    """Names, then rows, of a ``JSONCompactEachRowWithNamesAndTypes`` result.

    Lines end at ``\n`` only: ClickHouse escapes that one in a value, but writes others
    as they are (U+0085, U+2028, ``\x1c``...), where ``str.splitlines`` would cut a row
    in two. The rows are parsed in one call, as one JSON array (about three times
    faster than a call per row for results of thousands of rows); only the columns whose
    type needs it are converted.
    """
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()
    if len(lines) < 2:
        return [], []
    names = json.loads(lines[0])
    converters = [result_converter(t) for t in json.loads(lines[1])]
    converted = [(n, c) for n, c in enumerate(converters) if c is not None]
    width = len(converters)
    rows: list[Row] = []
    for values in json.loads("[" + ",".join(lines[2:]) + "]"):
        if len(values) != width:
            raise ValueError(f"a row of {len(values)} values for {width} columns")
        for n, convert in converted:
            if values[n] is not None:
                values[n] = convert(values[n])
        rows.append(tuple(values))
    return names, rows


def _server_started() -> None:
    """Once per process, after the first store opened: start-up pages of chDB go back
    (``chdb_memory``; its import released the library's initializers already)."""
    global _started
    with _registry_lock:
        if _started:
            return
        _started = True
    release_startup_pages()


def _import_chdb() -> Any:
    """chDB's connection module (``chdb.state``: its ``connect`` is ``chdb.connect``),
    imported without pyarrow and without the connection ``import chdb`` makes.

    chDB imports pyarrow (and through it numpy) when it is installed, for its Arrow
    result formats; the store uses none of them, and the import cost 0.3 s of every
    command's start (0.45 s for ``import chdb`` in all, 0.15 s without). chDB treats
    pyarrow as optional, so it is hidden while chDB is imported, and while
    ``chdb.state`` (the module ``chdb.connect`` imports on first use) is: that import
    otherwise brought pyarrow and numpy in at the first store open, 38 MiB of every
    process's resident memory. A later ``import pyarrow`` elsewhere in the process
    works as usual. The library's start-up pages are then given back
    (``chdb_memory``).

    The engine is loaded as ``_load_engine`` says, or by ``import chdb`` where that
    does not apply.
    """
    state = sys.modules.get("chdb.state")
    if state is not None:
        return state
    with _import_lock:  # two threads opening stores at once: one loads the engine
        return _import_chdb_once()


def _import_chdb_once() -> Any:
    state = sys.modules.get("chdb.state")
    if state is not None:
        return state
    hidden = "pyarrow" not in sys.modules
    if hidden:
        sys.modules["pyarrow"] = None  # type: ignore[assignment]
    try:
        with _engine_zone_utc():  # ``import chdb`` starts a server, which reads the zone
            state = _load_engine()
            if state is None:
                import chdb
                import chdb.state  # what chdb.connect imports: it tries pyarrow too

                state = chdb.state
    finally:
        if hidden and sys.modules.get("pyarrow", False) is None:
            del sys.modules["pyarrow"]
    release_startup_pages()
    return state


_import_lock = threading.Lock()
#: ``dlopen`` flag (Linux): the library resolves its own symbols first.
_RTLD_DEEPBIND = 0x8


def _load_engine() -> Any:
    """``chdb.state`` imported without running ``chdb/__init__.py``; None where chDB's
    files are not laid out as this expects (then ``import chdb`` does it).

    Why: ``chdb/__init__.py`` (chDB 4.x) starts an in-memory embedded server, asks it
    for its version and shuts it down, at every import: 0.045 s of every process that
    opens a store, spent before the store's own server starts. The connection module
    needs the engine extension (``chdb._chdb``) and two small pure-Python modules of
    the package only, so those are imported under a package module that is not
    executed, loaded as ``chdb/__init__.py`` loads the extension: the library opened
    first with ``RTLD_DEEPBIND`` (its bundled libraries' symbols before the process's)
    and from the package's directory. That package module is then taken out of
    ``sys.modules``: a later ``import chdb`` runs chDB's own ``__init__``, which reuses
    the extension loaded here (and, as with any second in-memory server, fails while a
    store is open in the process).
    """
    import importlib
    import importlib.util

    try:
        spec = importlib.util.find_spec("chdb")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None or not spec.submodule_search_locations:
        return None
    directory = Path(spec.origin).parent
    library = directory / "_chdb.abi3.so"
    if "chdb" in sys.modules or "chdb._chdb" in sys.modules or not library.is_file():
        return None
    package = importlib.util.module_from_spec(spec)
    sys.modules["chdb"] = package
    cwd = Path.cwd()
    try:
        os.chdir(directory)
        try:
            if sys.platform == "linux":
                import ctypes

                ctypes.CDLL(str(library), mode=sys.getdlopenflags() | _RTLD_DEEPBIND)
            importlib.import_module("chdb._chdb")
        finally:
            os.chdir(cwd)
        state = importlib.import_module("chdb.state")
    except ImportError:
        for name in [m for m in sys.modules if m == "chdb" or m.startswith("chdb.")]:
            if name != "chdb._chdb":  # an extension module cannot be loaded twice
                del sys.modules[name]
        return None
    finally:
        if sys.modules.get("chdb") is package:
            del sys.modules["chdb"]
    return state


def _ensure_directory(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create chDB store directory {path}: {exc.strerror}") from exc


def _reset_spool(spool: Path) -> None:
    """Empty the insert spool (blocks a killed process left) before anything inserts."""
    shutil.rmtree(spool, ignore_errors=True)
    try:
        spool.mkdir(mode=0o700)
    except OSError as exc:
        raise StoreError(f"cannot create {spool}: {exc.strerror}") from exc


def _take_lock(path: Path) -> int:
    """Hold ``<dir>/repotrack.lock`` for as long as this process has the store open.

    chDB locks its own ``status`` file only once the embedded server starts; a second
    process arriving before that (two loads on a new home) got chDB's raw "Cannot lock
    file" on stderr and an obscure error. Our lock is taken first, right after the
    directory exists, and names its holder's pid, so the second process always gets
    the same clear ``StoreLockedError``.
    """
    lock = path / LOCK_FILE
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StoreError(f"cannot open chDB store {path}: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        holder = _holder_pid(fd)
        os.close(fd)
        raise _locked(path, f" (pid {holder})" if holder else "") from exc
    except OSError as exc:
        os.close(fd)
        raise StoreError(f"cannot open chDB store {path}: {exc.strerror}") from exc
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


#: How long a process that found the store locked waits for the holder's pid to appear.
PID_WAIT = 1.0


def _holder_pid(fd: int) -> str:
    """The pid in the lock file; the holder writes it just after its ``flock``, so a
    process arriving in between waits up to ``PID_WAIT`` for it (empty if none came)."""
    deadline = time.monotonic() + PID_WAIT
    while not (holder := _read_pid(fd)) and time.monotonic() < deadline:
        time.sleep(0.01)
    return holder


def _read_pid(fd: int) -> str:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return text if text.isdigit() else ""


def _locked(path: Path, owner: str) -> StoreLockedError:
    return StoreLockedError(
        f"chDB store {path} is locked by another process{owner}: the repotrack "
        "service owns the embedded store while it runs; submit the job to the service "
        "or stop it"
    )


def _probe_lock(path: Path) -> None:
    """Fail clearly when another process (normally ``repotrack serve``) holds the store."""
    status = path / "status"
    if not status.exists():
        return
    try:
        with status.open("rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(handle, fcntl.LOCK_UN)
    except BlockingIOError as exc:
        raise _locked(path, _owner(status)) from exc
    except OSError as exc:
        raise StoreError(f"cannot open chDB store {path}: {exc.strerror}") from exc


def _owner(status: Path) -> str:
    """`` (pid N)`` from the status file the owning process wrote, when readable."""
    try:
        first = status.read_text(encoding="utf-8", errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return ""
    label, _, pid = first.partition(":")
    return f" (pid {pid.strip()})" if label == "PID" and pid.strip().isdigit() else ""
