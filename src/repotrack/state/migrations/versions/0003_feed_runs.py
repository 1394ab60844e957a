"""feed_run table: run history of the enrichment feeds (start, end, outcome, rows, error)

Revision ID: 0003_feed_runs
Revises: 0002
Create Date: 2026-12-05 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_feed_runs"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("feed", sa.String(length=32), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("rows_added", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_run")),
    )
    op.create_index("ix_feed_run_feed_started", "feed_run", ["feed", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_feed_run_feed_started", table_name="feed_run")
    op.drop_table("feed_run")
