"""CSAF document versions when two writers claim the same version at once."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from repotrack.security.csaf_revisions import revise
from repotrack.store import Store
from tests.unit.store.storeutil import open_fresh_store


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Store]:
    yield from open_fresh_store(tmp_path_factory, tmp_path / "store")


def _document(status: str, when: str = "2025-01-02T03:04:05Z") -> dict[str, Any]:
    return {
        "document": {
            "title": "CVE-2024-0001 in p10",
            "tracking": {
                "current_release_date": when,
                "id": "p10-CVE-2024-0001",
                "initial_release_date": when,
                "revision_history": [{"date": when, "number": "1", "summary": "x"}],
                "status": "final",
                "version": "1",
            },
        },
        "vulnerabilities": [{"product_status": {status: ["p10:mc-0:4.8-alt1"]}}],
    }


class _Racing:
    """A store where another writer's claim of the same version, for other content,
    lands just before each of ours."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.raced = 0

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self.store.query(sql, params)

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if self.raced < 1:
            self.raced += 1
            rival = [(r[0], r[1], "f" * 64, r[3], "rival") for r in rows]
            self.store.insert(table, columns, rival)
        self.store.insert(table, columns, rows)


def test_versions_follow_content_and_a_lost_claim_takes_the_next(store: Store) -> None:
    first = _document("known_affected")
    revise(store, [first])
    assert first["document"]["tracking"]["version"] == "1"
    same = _document("known_affected", when="2025-06-01T00:00:00Z")
    revise(store, [same])  # same content, later build: the stored revision stands
    assert same["document"]["tracking"] == first["document"]["tracking"]

    changed = _document("fixed", when="2025-02-01T00:00:00Z")
    racing = _Racing(store)
    revise(racing, [changed])  # type: ignore[arg-type]
    tracking = changed["document"]["tracking"]
    # version 2 went to the rival's content; this content is version 3
    assert racing.raced == 1
    assert tracking["version"] == "3"
    assert [(r["number"], r["summary"]) for r in tracking["revision_history"]] == [
        ("1", "State of the branch."),
        ("2", "rival"),
        ("3", "The branch's verdicts changed."),
    ]
    assert tracking["initial_release_date"] == "2025-01-02T03:04:05Z"
    assert tracking["current_release_date"] == "2025-02-01T00:00:00Z"

    again = copy.deepcopy(_document("fixed", when="2024-01-01T00:00:00Z"))
    revise(store, [again])
    assert again["document"]["tracking"] == tracking
    # v1, the rival's v2, the lost claim of v2 (kept, never read), v3
    assert store.query("SELECT count() FROM CsafRevisions")[0][0] == 4
