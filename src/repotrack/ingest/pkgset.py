"""Package-set rows: the node hierarchy of one snapshot (ALTRepo §1.1, §2.5).

A snapshot is a tree of ``PackageSetName`` rows: the root (depth 0, named after the
branch) and below it ``srpm``, the arch nodes and their components. Readers find a
snapshot through its root, so the root row is written last, after every package and
every other node; a load that stops early leaves nodes no root points to, which no
query that starts from a root (as ALTRepo's do) can see.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

__all__ = ["ZERO_UUID", "PackageSetNode", "node_row"]

ZERO_UUID = uuid.UUID(int=0)
REPOSITORY_CLASS = "repository"


@dataclass(slots=True)
class PackageSetNode:
    """One node about to be written; ``kv`` keeps insertion order, as the original's dict."""

    node_id: uuid.UUID
    parent: uuid.UUID
    root: uuid.UUID
    depth: int
    name: str
    kv: dict[str, str] = field(default_factory=dict)
    complete: int = 0


def node_kv(
    *, depth: int, kind: str, size: int, repo: str, extra: dict[str, str]
) -> dict[str, str]:
    """The kv of a node in the original's key order."""
    kv = {"depth": str(depth), "type": kind, "size": str(size), "class": REPOSITORY_CLASS}
    kv.update(extra)
    if depth == 0:
        kv.setdefault("task", "0")  # the API reads toUInt32(kv['task']) of every root
    if kind != "repo":
        kv["repo"] = repo
    return kv


def snapshot_datetime(day: date) -> datetime:
    """A snapshot date is the UTC midnight that starts it."""
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def node_row(node: PackageSetNode, *, day: date, tag: str) -> tuple[Any, ...]:
    return (
        node.node_id,
        node.parent,
        node.root,
        node.depth,
        node.name,
        snapshot_datetime(day),
        tag,
        node.complete,
        list(node.kv.keys()),
        list(node.kv.values()),
    )
