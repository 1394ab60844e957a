"""An approval message from girar is stored as it was written, line by line."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from repotrack.daemon.handlers import _approval
from repotrack.store import Store
from tests.unit.store.storeutil import open_fresh_store


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


def test_an_approval_message_keeps_what_its_lines_hold(store: Store) -> None:
    """``base64_message`` is an approval file: its lines end as a text file's do, and a
    form feed, U+0085 or U+2028 inside a line stays there (``str.splitlines`` made them
    line breaks in the stored message)."""
    odd = "ship\x0cit\x85now\u2028sep\x1crecord"
    text = f"\n2024-Jun-12 08:00:00 :: approved by erin\r\n{odd}\rmore\n"
    payload = {"subtaskid": 100, "base64_message": base64.b64encode(text.encode()).decode()}
    assert _approval(store, 2001, "task.subtask.approve", payload).endswith("stored")
    rows = store.query("SELECT tapp_name, tapp_message FROM TaskApprovals")
    assert rows == [("erin", f"{odd}\nmore")]
