"""Patch tracking: follow upstream branches, open patch branches, issues and PRs downstream.

Public names are imported on first use (``__getattr__``), so importing
``repotrack.tracking`` stays cheap for the CLI and never pulls in git or HTTP code.
"""

from __future__ import annotations

from repotrack.lazy_names import lazy_getattr

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


__getattr__ = lazy_getattr(__name__, _WHERE, globals())
