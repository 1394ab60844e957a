"""State tables: tracking items, the issues opened for them, and the runs of the tracker.

``tracking`` and ``issue`` keep the original patch-tracking columns (reference §3) so
the compatibility routes can serve them unchanged. Where the original was wrong they
are fixed:

* ``tracking.id`` is a real auto-increment surrogate key (the original's was always
  NULL); ``(repo, branch)`` stays the item's identity as a unique constraint, which is
  what upserts match on.
* ``issue`` rows belong to an item (``tracking_id``, ``ON DELETE CASCADE``): deleting an
  item deletes its issue rows and run history. Issue numbers are unique per downstream
  repository, not globally (GitHub, GitLab and Gitea number issues per repository).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = ["Base", "Issue", "Run", "Tracking", "utcnow"]

#: Field size limits; the API refuses longer values with a clear error.
URL_MAX = 1024
NAME_MAX = 255
SHA_MAX = 64


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Tracking(Base):
    """One tracking item: downstream ``repo``/``branch`` follows ``scm_repo``/``scm_branch``."""

    __tablename__ = "tracking"
    __table_args__ = (UniqueConstraint("repo", "branch", name="uq_tracking_repo_branch"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_control: Mapped[str] = mapped_column(String(32))
    scm_repo: Mapped[str] = mapped_column(String(URL_MAX))
    scm_branch: Mapped[str] = mapped_column(String(NAME_MAX))
    scm_commit: Mapped[str | None] = mapped_column(String(SHA_MAX), nullable=True)
    repo: Mapped[str] = mapped_column(String(URL_MAX))
    branch: Mapped[str] = mapped_column(String(NAME_MAX))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: Indexed: ``listing_fingerprint`` reads its maximum on every ``GET /tracking``.
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, index=True
    )
    #: Health, maintained by the tracker after each run.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Set while an item keeps failing: scans skip it until then.
    backoff_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: Upstream commits not yet processed, when the last scan could tell.
    commits_behind: Mapped[int | None] = mapped_column(Integer, nullable=True)

    issues: Mapped[list[Issue]] = relationship(
        back_populates="tracking", cascade="all, delete-orphan", passive_deletes=True
    )
    runs: Mapped[list[Run]] = relationship(
        back_populates="tracking", cascade="all, delete-orphan", passive_deletes=True
    )


class Issue(Base):
    """An issue opened on the downstream forge for one run of an item."""

    __tablename__ = "issue"
    __table_args__ = (UniqueConstraint("repo", "issue", name="uq_issue_repo_issue"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue: Mapped[str] = mapped_column(String(NAME_MAX))
    repo: Mapped[str | None] = mapped_column(String(URL_MAX), nullable=True)
    branch: Mapped[str | None] = mapped_column(String(NAME_MAX), nullable=True)
    tracking_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracking.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    tracking: Mapped[Tracking | None] = relationship(back_populates="issues")


class Run(Base):
    """One run of the tracker over one item: when, how it ended, and what it made."""

    __tablename__ = "run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tracking_id: Mapped[int] = mapped_column(
        ForeignKey("tracking.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: running | success | nothing-new | failed | cancelled
    outcome: Mapped[str] = mapped_column(String(32), default="running")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    commits_processed: Mapped[int] = mapped_column(Integer, default=0)
    from_commit: Mapped[str | None] = mapped_column(String(SHA_MAX), nullable=True)
    to_commit: Mapped[str | None] = mapped_column(String(SHA_MAX), nullable=True)
    #: The downstream branch, issue and pull request this run made or reused.
    branch_name: Mapped[str | None] = mapped_column(String(NAME_MAX), nullable=True)
    issue_number: Mapped[str | None] = mapped_column(String(NAME_MAX), nullable=True)
    pr_number: Mapped[str | None] = mapped_column(String(NAME_MAX), nullable=True)
    pr_url: Mapped[str | None] = mapped_column(String(URL_MAX), nullable=True)
    #: Whether the series applies: "applies cleanly", "conflicts in F at patch N", ...
    verification: Mapped[str | None] = mapped_column(Text, nullable=True)

    tracking: Mapped[Tracking] = relationship(back_populates="runs")
