"""Patch tracking: follow upstream branches, open patch branches, issues and PRs downstream.

Public names are imported on first use (``__getattr__``), so importing
``repotrack.tracking`` stays cheap for the CLI and never pulls in git or HTTP code.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ItemLock",
    "ItemResult",
    "ItemStatus",
    "Scheduler",
    "Tracker",
    "item_lock",
    "start_scheduler",
    "status_summary",
]

_WHERE = {
    "ItemLock": "locks",
    "item_lock": "locks",
    "ItemResult": "pipeline",
    "Tracker": "pipeline",
    "ItemStatus": "runs",
    "status_summary": "runs",
    "Scheduler": "scheduler",
    "start_scheduler": "scheduler",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'repotrack.tracking' has no attribute {name!r}")
    return getattr(importlib.import_module(f"repotrack.tracking.{module}"), name)
