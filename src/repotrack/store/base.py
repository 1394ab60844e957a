"""The contract every analytics-store backend keeps: the ``Store`` protocol.

Two backends implement it (``chdb_backend.ChdbStore`` for the embedded store,
``clickhouse_backend.ClickHouseStore`` for a ClickHouse server through
clickhouse-connect); callers never name a class, they call ``open_store(url)``.

Parameters
----------
SQL text never contains caller values. Write ClickHouse's server-side placeholders
``{name:Type}`` and pass ``params={"name": value}``::

    store.query(
        "SELECT pkg_name FROM Packages WHERE pkg_hash = {h:UInt64} AND pkg_arch = {a:String}",
        {"h": 2576980378357562977, "a": "x86_64"},
    )

The value is sent apart from the SQL and ClickHouse parses it as the declared type,
so a quote or a ``;`` inside it is data, never syntax. chDB's ``params=`` hands each
value to ClickHouse's parser in the "escaped" text form (the form of the HTTP
``param_<name>`` arguments), which chDB does not produce itself: ``params.render``
renders Python values into that form for both backends (``str``, ``int``, ``float``,
``bool``, ``datetime``, ``date``, ``UUID`` and lists/tuples of them for
``{x:Array(T)}``). Identifiers (table names) can be bound with ``{t:Identifier}``.

Insert values
-------------
``insert(table, columns, rows)`` takes rows as sequences in ``columns`` order and
sends them in batches of ``batch_rows``, each as one block of ClickHouse's Native
columnar format (``store.native``; the same bytes on both backends); no value is ever
formatted into SQL text. ``insert_blocks(table, columns, blocks)`` sends blocks that
were already encoded with ``native.encode_block`` (the loader's workers encode their
own rows, so the loading process only concatenates bytes); ``insert_select`` sends
such a block through a SELECT that derives the stored columns from it.

- ``FixedString(N)``: ``bytes`` of at most N bytes; shorter values (including ``b""``
  for a missing digest) are zero-padded as ALTRepo stores them; ``str`` is UTF-8 encoded.
- ``UUID``: ``uuid.UUID`` or its canonical string.
- ``DateTime``: an aware ``datetime`` (converted to UTC), a naive one (taken as UTC),
  or ``int`` seconds since the epoch. ``Date``: ``date``.
- ``Enum8``: the name (``"require"``) or its number.
- ``Array(T)``: a ``list``/``tuple`` of T values.
- ``Nested(a T1, b T2)`` columns are inserted as their flattened parallel arrays,
  named ``"col.a"`` and ``"col.b"`` (lists of equal length), e.g. ``pkg_changelog.date``.
- ``Nullable(T)``: ``None`` for NULL. ``Map(K, V)``: a ``dict``.

Results
-------
``query`` returns tuples of Python values, the same for both backends: integers as
``int``, ``String``/``Enum`` as ``str``, ``FixedString`` as ``bytes``, ``UUID`` as
``uuid.UUID``, ``DateTime`` as an aware UTC ``datetime``, ``Date`` as ``date``,
arrays as ``list``, maps as ``dict``, tuples as ``tuple``. Every connection runs with
``session_timezone = 'UTC'`` so that dates given by users mean UTC days.

chDB facts (measured with chDB 4.4.0 in this repository, see tests/unit/store)
------------------------------------------------------------------------------
- A process hosts ONE embedded server: ``chdb.connect(path)`` for a second, different
  path while connections to the first are open fails ("EmbeddedServer already
  initialized with path ..."). After every connection is closed another path opens.
- Several ``chdb.connect(path)`` connections to the same path coexist in one process
  and each runs its own query; one connection runs one query at a time. ``ChdbStore``
  therefore keeps one connection per thread.
- The directory is locked with ``flock`` on ``<dir>/status``. A second process that
  opens it gets "Cannot lock file .../status. Another server instance in same
  directory is already running" (printed on stderr by chDB) and a RuntimeError.
  ``ChdbStore`` probes that lock before connecting and raises ``StoreError`` naming
  the directory and the fact that the running service owns it.
- chDB's ``params=`` passes values unescaped into ClickHouse's escaped-text parser: a
  backslash or a tab in a raw value breaks parsing (or changes the value). That is why
  ``params.render`` escapes values itself.
- ``Buffer`` tables behave as in ClickHouse: rows are readable through the buffer at
  once and reach the target table (firing its materialized views) after the buffer's
  time/size limits (a Buffer with max_time 2 s had flushed after 3 s), on
  ``OPTIMIZE TABLE <buffer>``, and when the store closes.
- Inside a materialized view, every reference to its source table reads the inserted
  block only (also in subqueries); the schema's views rely on it.
- A closed store directory can be copied when its symlinks are kept as symlinks.
- pyarrow (a chDB dependency) imports pandas on first use, which costs seconds per
  process here; inserts therefore use the Native format, encoded by ``store.native``.
- ``send_insert(head, "Native")`` (chDB's streaming insert) reports success for rows
  that a failing materialized view or a violated CHECK dropped, so the embedded
  backend does not use it: a block is written to a file in the store directory and
  inserted with ``INSERT ... SELECT * FROM file(path, 'Native')``, an ordinary
  statement whose errors are raised. Several Native blocks may follow one another in
  one file; the insert converts column types to the table's (``String`` into
  ``LowCardinality(String)``, ``Int8`` into ``Enum8``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

__all__ = ["DEFAULT_BATCH_ROWS", "Params", "Row", "Store"]

#: Rows sent per insert request; bounded so that a long load never holds a
#: connection (and the embedded server) for one huge statement.
DEFAULT_BATCH_ROWS = 100_000

Params = Mapping[str, Any]
Row = tuple[Any, ...]


@runtime_checkable
class Store(Protocol):
    """An open analytics store: a ClickHouse-compatible database."""

    #: The URL it was opened with, with any password removed.
    url: str

    def query(self, sql: str, params: Params | None = None) -> list[Row]:
        """Run a SELECT and return its rows as tuples of Python values."""
        ...

    def query_dicts(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        """Run a SELECT and return its rows as dicts keyed by column name."""
        ...

    def command(self, sql: str, params: Params | None = None) -> None:
        """Run a statement that returns no rows (DDL, INSERT ... SELECT, OPTIMIZE)."""
        ...

    def insert(
        self,
        table: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> int:
        """Insert ``rows`` into ``table`` in batches; return the number of rows sent."""
        ...

    def insert_blocks(self, table: str, columns: Sequence[str], blocks: Sequence[bytes]) -> None:
        """Insert Native blocks of ``columns`` (from ``native.encode_block``) as one payload."""
        ...

    def insert_select(
        self, table: str, columns: Sequence[str], select: str, structure: str, payload: bytes
    ) -> None:
        """``INSERT INTO table (columns) <select>``, the SELECT reading Native ``payload``.

        ``select`` names the payload as ``{source}`` (``SELECT f(a), b FROM {source}``);
        ``structure`` is the payload's ``name Type, ...`` (``native.wire_structure``).
        The server computes what the SELECT says (hashes of names, for instance)
        in C++, which costs the loading process nothing per row.
        """
        ...

    def close(self) -> None:
        """Release connections (idempotent)."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
