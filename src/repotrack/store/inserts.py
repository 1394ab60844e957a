"""Rows -> Native payloads, in bounded batches: the insert path both backends share.

Backends differ only in how a payload travels (chDB's ``send_insert``, an HTTP POST
through clickhouse-connect); what is sent, and which values are refused, is decided
here once, so a load behaves the same on the embedded store and on a server.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from repotrack.errors import InputError
from repotrack.store.identifiers import quote_identifier
from repotrack.store.native import encode_block

__all__ = ["insert_head", "native_batches", "one_line"]


def insert_head(table: str, columns: Sequence[str]) -> str:
    """``INSERT INTO `t` (`a`, `b`)``, every name checked as an identifier."""
    return (
        f"INSERT INTO {quote_identifier(table)} ({', '.join(quote_identifier(c) for c in columns)})"
    )


def native_batches(
    table: str,
    columns: Sequence[str],
    types: Sequence[str],
    rows: Iterable[Sequence[Any]],
    batch_rows: int,
) -> Iterator[tuple[bytes, int]]:
    """``(Native block, row count)`` per batch of at most ``batch_rows`` rows."""
    if batch_rows < 1:
        raise InputError("must be at least 1", field="batch_rows")
    iterator = iter(rows)
    while batch := list(islice(iterator, batch_rows)):
        try:
            data = list(zip(*batch, strict=True))
        except ValueError:
            data = []
        if len(data) != len(columns):
            widths = sorted({len(row) for row in batch})
            raise InputError(f"rows have {widths} values for {len(columns)} columns", path=table)
        yield encode_block(table, columns, types, data), len(batch)


def one_line(exc: BaseException) -> str:
    """The first line of an exception's text (server errors run to pages)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
