"""State database: tracking items, issues, runs (SQLAlchemy 2 + Alembic; SQLite or PostgreSQL).

Sits below ``tracking/``, ``service/`` and ``cli/``; imports nothing above it.
"""

from repotrack.state.db import StateDB, make_engine, migrate, migration_head
from repotrack.state.models import Base, Issue, Run, Tracking, utcnow

__all__ = [
    "Base",
    "Issue",
    "Run",
    "StateDB",
    "Tracking",
    "make_engine",
    "migrate",
    "migration_head",
    "utcnow",
]
