"""The review family's tables, declared with SQLAlchemy Core (one schema for SQLite and PostgreSQL).

A review is one asset put before a human; its decisions are append-only (a later decision
supersedes, never erases), and the database enforces it with triggers. Kit material a decision sends
to retrieval waits in `review_kit_outbox` until Chroma has it: the decision commits with the state
change, and the outbox makes the retrieval write happen once Chroma answers, never twice."""

from __future__ import annotations

import sqlalchemy as sa

from core.state import METADATA, AppendOnly, Migration
from tools.production import tables

reviews = sa.Table(
    "reviews",
    METADATA,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("production", sa.Text, sa.ForeignKey(tables.productions.c.id), nullable=False),
    sa.Column("asset", sa.Text, sa.ForeignKey(tables.assets.c.id), nullable=False, unique=True),
    sa.Column("shot", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("provenance", sa.Text, nullable=False),
    sa.Column("findings", sa.Text, nullable=False),
    sa.Column("submitted_by", sa.Text),
    sa.Column("submitted_at", sa.Text, nullable=False),
    sa.Index("reviews_by_production", "production", "submitted_at"),
)

review_decisions = sa.Table(
    "review_decisions",
    METADATA,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("review", sa.Text, sa.ForeignKey("reviews.id"), nullable=False),
    sa.Column("decision", sa.Text, sa.CheckConstraint("decision IN ('approve', 'reject', 'revise')"), nullable=False),
    sa.Column("notes", sa.Text, nullable=False),
    sa.Column("reviewer", sa.Text),
    sa.Column("feedback", sa.Text, nullable=False),
    sa.Column("decided_at", sa.Text, nullable=False),
    sa.Index("review_decisions_by_review", "review", "seq"),
    sqlite_autoincrement=True,
)

review_kit_outbox = sa.Table(
    "review_kit_outbox",
    METADATA,
    sa.Column("decision", sa.Integer, sa.ForeignKey("review_decisions.seq"), primary_key=True, autoincrement=False),
    sa.Column("kit", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("entities", sa.Text, nullable=False),
    sa.Column("tags", sa.Text, nullable=False),
    sa.Column("written_at", sa.Text),
    sa.Column("last_error", sa.Text),
)

MIGRATIONS = [
    Migration(
        id="review-001-core",
        tables=(reviews, review_decisions, review_kit_outbox),
        append_only=(
            AppendOnly(
                table=reviews,
                on_update="a review submission is immutable: record a decision instead",
                on_delete="a review submission cannot be deleted",
            ),
            AppendOnly(
                table=review_decisions,
                on_update="decisions are append-only: record a new decision to supersede one",
                on_delete="decisions are append-only: they cannot be deleted",
            ),
        ),
    )
]
