"""Fixtures of the daemon tests that talk to the real RabbitMQ."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.daemon.broker import cleanup, prefix


@pytest.fixture
def pfx(amqp_url: str) -> Iterator[str]:
    """A private prefix for the test's queues and exchanges, deleted afterwards."""
    name = prefix()
    try:
        yield name
    finally:
        cleanup(name)
