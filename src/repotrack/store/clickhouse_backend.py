"""A ClickHouse server through clickhouse-connect (HTTP), the scale-out path.

No directory lock applies here: any number of processes may read and write. Values go
to the server as ``param_<name>`` arguments (clickhouse-connect renders them for the
``{name:Type}`` placeholders, after the same name and type checks as on chDB) and
inserts travel in ClickHouse's Native format, encoded by ``store.native`` exactly as on
chDB and sent as they are (``raw_insert``), so both backends accept and refuse the same
values.
clickhouse-connect exceptions are translated into ``StoreError`` here, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from repotrack.errors import StoreError
from repotrack.store.base import DEFAULT_BATCH_ROWS, Params, Row
from repotrack.store.columns import ColumnTypes
from repotrack.store.identifiers import quote_string
from repotrack.store.inserts import insert_head, native_batches, one_line
from repotrack.store.params import render_params
from repotrack.store.zones import require_utc

__all__ = ["ClickHouseStore", "ServerAddress"]

#: Seconds to wait for a connection and for a query's answer.
CONNECT_TIMEOUT = 10
QUERY_TIMEOUT = 300


@dataclass(frozen=True)
class ServerAddress:
    """Where the server is; ``password`` never appears in ``url``."""

    host: str
    port: int
    database: str
    username: str
    password: str
    secure: bool

    @property
    def url(self) -> str:
        scheme = "clickhouses" if self.secure else "clickhouse"
        return f"{scheme}://{self.username}@{self.host}:{self.port}/{self.database}"


class ClickHouseStore:
    """A ``Store`` over one clickhouse-connect client (thread-safe for queries)."""

    def __init__(self, address: ServerAddress) -> None:
        self.url = address.url
        self._client = _connect(address)
        self._types = ColumnTypes(self.query, self.url)
        try:
            ((zone,),) = self.query("SELECT serverTimezone()")
            require_utc(
                str(zone),
                where=f"the ClickHouse server at {self.url}",
                fix="set <timezone>UTC</timezone> in its configuration",
            )
        except BaseException:
            self._client.close()
            raise

    def query(self, sql: str, params: Params | None = None) -> list[Row]:
        _, rows = self._select(sql, params)
        return rows

    def query_dicts(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        names, rows = self._select(sql, params)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _select(self, sql: str, params: Params | None) -> tuple[list[str], list[Row]]:
        render_params(params)  # the same name and type checks as chDB; values go as given
        result = self._call(self._client.query, sql, parameters=dict(params or {}))
        rows = [tuple(_utc(v) for v in row) for row in result.result_rows]
        return list(result.column_names), rows

    def command(self, sql: str, params: Params | None = None) -> None:
        render_params(params)
        self._call(self._client.command, sql, parameters=dict(params or {}))

    def insert(
        self,
        table: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> int:
        insert_head(table, columns)
        types = self._types.of(table, columns)
        total = 0
        for payload, count in native_batches(table, columns, types, rows, batch_rows):
            self._raw_insert(table, columns, payload)
            total += count
        return total

    def insert_blocks(self, table: str, columns: Sequence[str], blocks: Sequence[bytes]) -> None:
        insert_head(table, columns)
        self._types.of(table, columns)
        if blocks:
            self._raw_insert(table, columns, b"".join(blocks))

    def insert_select(
        self, table: str, columns: Sequence[str], select: str, structure: str, payload: bytes
    ) -> None:
        head = insert_head(table, columns)
        self._types.of(table, columns)
        source = f"input({quote_string(structure)})"
        self._call(
            self._client.command,
            f"{head} {select.replace('{source}', source)} FORMAT Native",
            data=payload,
        )

    def _raw_insert(self, table: str, columns: Sequence[str], payload: bytes) -> None:
        self._call(
            self._client.raw_insert,
            table,
            column_names=list(columns),
            insert_block=payload,
            fmt="Native",
        )

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        from clickhouse_connect.driver.exceptions import ClickHouseError

        try:
            return method(*args, **kwargs)
        except ClickHouseError as exc:
            raise StoreError(f"{self.url}: {one_line(exc)}") from exc

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _connect(address: ServerAddress) -> Any:
    import clickhouse_connect
    from clickhouse_connect.driver.exceptions import ClickHouseError

    try:
        return clickhouse_connect.get_client(
            host=address.host,
            port=address.port,
            username=address.username,
            password=address.password,
            database=address.database,
            secure=address.secure,
            connect_timeout=CONNECT_TIMEOUT,
            send_receive_timeout=QUERY_TIMEOUT,
            settings={"session_timezone": "UTC"},
            autogenerate_session_id=False,
        )
    except ClickHouseError as exc:
        raise StoreError(f"{address.url}: {one_line(exc)}") from exc


def _utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value
