"""The public surfaces of ``repotrack.sources`` and ``repotrack.ingest`` stay honest."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("name", ["repotrack.sources", "repotrack.ingest"])
def test_all_names_exist_once(name: str) -> None:
    module = importlib.import_module(name)  # ruff (RUF022) keeps __all__ sorted
    exported = list(module.__all__)
    assert len(exported) == len(set(exported))
    for attr in exported:
        assert getattr(module, attr) is not None


def test_loader_function_signature_is_keyword_only() -> None:
    import inspect

    from repotrack.ingest import load_repo

    params = inspect.signature(load_repo).parameters
    assert [p for p in params if params[p].kind is inspect.Parameter.KEYWORD_ONLY] == [
        "branch",
        "path",
        "date",
        "tag",
        "force",
        "workers",
        "skip_bad",
        "verify_known",
        "progress",
    ]
