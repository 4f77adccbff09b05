"""The Veo jobs' table, declared with SQLAlchemy Core (one schema for SQLite and PostgreSQL).

A partial unique index keeps at most one live job per request digest, so the same request twice is
one job. Each pending job is polled by one replica at a time: the one holding its poll lease (see
store.py)."""

from __future__ import annotations

import sqlalchemy as sa

from core.state import METADATA, Migration

LIVE_STATUSES = ("submitting", "pending", "done", "unknown_submission")

video_jobs = sa.Table(
    "video_jobs",
    METADATA,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("production", sa.Text, sa.ForeignKey("productions.id"), nullable=False),
    sa.Column("shot", sa.Text, nullable=False),
    sa.Column("request_digest", sa.Text, nullable=False),
    sa.Column(
        "status",
        sa.Text,
        sa.CheckConstraint("status IN ('submitting', 'pending', 'done', 'failed', 'cancelled', 'unknown_submission')"),
        nullable=False,
    ),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("negative_prompt", sa.Text, nullable=False),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("grounding", sa.Text, nullable=False),
    sa.Column("estimate_usd", sa.Float, nullable=False),
    sa.Column("actual_usd", sa.Float),
    sa.Column("price_source", sa.Text, nullable=False),
    sa.Column("preflight", sa.Text, nullable=False),
    sa.Column("parent_asset", sa.Text),
    sa.Column("operation", sa.Text),
    sa.Column("asset", sa.Text),
    sa.Column("output_uri", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("error_kind", sa.Text),
    sa.Column("polls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("created_ts", sa.Float, nullable=False),
    sa.Column("submitted_at", sa.Text),
    sa.Column("finished_at", sa.Text),
    sa.Column("deadline_ts", sa.Float, nullable=False),
    sa.Column("next_poll_ts", sa.Float, nullable=False, server_default="0"),
    # The replica that may poll (or is submitting) the job, and until when: the poll lease.
    sa.Column("poll_owner", sa.Text, nullable=False, server_default=""),
    sa.Column("poll_lease_until", sa.Float, nullable=False, server_default="0"),
)

_live = video_jobs.c.status.in_(LIVE_STATUSES)
sa.Index(
    "video_jobs_one_live_per_request",
    video_jobs.c.request_digest,
    unique=True,
    sqlite_where=_live,
    postgresql_where=_live,
)
sa.Index("video_jobs_by_production", video_jobs.c.production, video_jobs.c.created_ts)
sa.Index("video_jobs_due", video_jobs.c.status, video_jobs.c.next_poll_ts)

MIGRATIONS = [
    Migration(id="generation-001-video-jobs", tables=(video_jobs,)),
    Migration(id="generation-002-poll-lease", add_columns=(video_jobs.c.poll_owner, video_jobs.c.poll_lease_until)),
]
