"""tracking_lock table: one row per item being run (the SQLite run lock)

PostgreSQL uses session advisory locks instead, but the table is created there too so
that both back-ends share one schema.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracking_lock",
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_tracking_lock")),
    )


def downgrade() -> None:
    op.drop_table("tracking_lock")
