"""tracking, issue and run tables

Revision ID: 0001
Revises:
Create Date: 2026-11-21 13:52:47.704772
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "tracking",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version_control", sa.String(length=32), nullable=False),
        sa.Column("scm_repo", sa.String(length=1024), nullable=False),
        sa.Column("scm_branch", sa.String(length=255), nullable=False),
        sa.Column("scm_commit", sa.String(length=64), nullable=True),
        sa.Column("repo", sa.String(length=1024), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("backoff_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("commits_behind", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking")),
        sa.UniqueConstraint("repo", "branch", name="uq_tracking_repo_branch"),
    )
    op.create_table(
        "issue",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue", sa.String(length=255), nullable=False),
        sa.Column("repo", sa.String(length=1024), nullable=True),
        sa.Column("branch", sa.String(length=255), nullable=True),
        sa.Column("tracking_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tracking_id"],
            ["tracking.id"],
            name=op.f("fk_issue_tracking_id_tracking"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue")),
        sa.UniqueConstraint("repo", "issue", name="uq_issue_repo_issue"),
    )
    with op.batch_alter_table("issue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issue_tracking_id"), ["tracking_id"], unique=False)

    op.create_table(
        "run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tracking_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("commits_processed", sa.Integer(), nullable=False),
        sa.Column("from_commit", sa.String(length=64), nullable=True),
        sa.Column("to_commit", sa.String(length=64), nullable=True),
        sa.Column("branch_name", sa.String(length=255), nullable=True),
        sa.Column("issue_number", sa.String(length=255), nullable=True),
        sa.Column("pr_number", sa.String(length=255), nullable=True),
        sa.Column("pr_url", sa.String(length=1024), nullable=True),
        sa.Column("verification", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tracking_id"],
            ["tracking.id"],
            name=op.f("fk_run_tracking_id_tracking"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run")),
    )
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_tracking_id"), ["tracking_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_tracking_id"))

    op.drop_table("run")
    with op.batch_alter_table("issue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issue_tracking_id"))

    op.drop_table("issue")
    op.drop_table("tracking")
