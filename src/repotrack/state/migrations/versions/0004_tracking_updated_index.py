"""tracking.updated_at index: the GET /tracking listing's change check reads two index ends

Revision ID: 0004_tracking_updated_index
Revises: 0003_feed_runs
Create Date: 2026-12-05 13:00:00
"""

from alembic import op

revision = "0004_tracking_updated_index"
down_revision = "0003_feed_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tracking_updated_at", "tracking", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_tracking_updated_at", table_name="tracking")
