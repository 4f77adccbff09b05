"""The production family's tables, declared with SQLAlchemy Core (one schema for SQLite and PostgreSQL).

Brief versions and events are append-only, and the database enforces it: triggers abort any UPDATE
or DELETE on them, so no code path (ours or a future one) can rewrite a brief or the history."""

from __future__ import annotations

import sqlalchemy as sa

from core.state import METADATA, AppendOnly, Migration

productions = sa.Table(
    "productions",
    METADATA,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kit", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)

brief_versions = sa.Table(
    "brief_versions",
    METADATA,
    sa.Column("production", sa.Text, sa.ForeignKey("productions.id"), primary_key=True),
    sa.Column("version", sa.Integer, sa.CheckConstraint("version >= 1"), primary_key=True, autoincrement=False),
    sa.Column("logline", sa.Text, nullable=False),
    sa.Column("tone", sa.Text, nullable=False),
    sa.Column("must", sa.Text, nullable=False),
    sa.Column("must_not", sa.Text, nullable=False),
    sa.Column("budget_usd", sa.Float, sa.CheckConstraint("budget_usd IS NULL OR budget_usd >= 0")),
    sa.Column("note", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
)

shots = sa.Table(
    "shots",
    METADATA,
    sa.Column("production", sa.Text, sa.ForeignKey("productions.id"), primary_key=True),
    sa.Column("scene", sa.Text, primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
    # The asset a shot's status is about: its approved take, or the take a reviewer rejected.
    sa.Column("take", sa.Text),
)

production_events = sa.Table(
    "production_events",
    METADATA,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("production", sa.Text, sa.ForeignKey("productions.id"), nullable=False),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("tool", sa.Text, nullable=False),
    sa.Column("actor", sa.Text),
    sa.Column("inputs_digest", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index("production_events_by_production", "production", "seq"),
    sqlite_autoincrement=True,
)

assets = sa.Table(
    "assets",
    METADATA,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("production", sa.Text, sa.ForeignKey("productions.id"), nullable=False),
    sa.Column("shot", sa.Text),
    sa.Column("kind", sa.Text, sa.CheckConstraint("kind IN ('video', 'image')"), nullable=False),
    sa.Column("mime_type", sa.Text, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("bytes", sa.Integer, nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("provenance", sa.Text, nullable=False),
    sa.Column("parent", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Index("assets_by_production", "production", "created_at"),
)

spend_entries = sa.Table(
    "spend_entries",
    METADATA,
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("production", sa.Text, sa.ForeignKey("productions.id"), nullable=False),
    sa.Column("estimate_usd", sa.Float, sa.CheckConstraint("estimate_usd >= 0"), nullable=False),
    sa.Column("actual_usd", sa.Float, sa.CheckConstraint("actual_usd IS NULL OR actual_usd >= 0")),
    sa.Column("status", sa.Text, sa.CheckConstraint("status IN ('committed', 'spent', 'released')"), nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
    sa.Index("spend_entries_by_production", "production", "status"),
)

# The root of each shot's OpenTelemetry trace, so calls minutes apart land in one trace. Kept apart
# from `shots`, whose rows a re-plan replaces.
shot_traces = sa.Table(
    "shot_traces",
    METADATA,
    sa.Column("production", sa.Text, sa.ForeignKey("productions.id"), primary_key=True),
    sa.Column("shot", sa.Text, primary_key=True),
    sa.Column("trace_id", sa.Text, nullable=False),
    sa.Column("span_id", sa.Text, nullable=False),
)

MIGRATIONS = [
    Migration(
        id="production-001-core",
        tables=(productions, brief_versions, shots, production_events, assets, spend_entries),
        append_only=(
            AppendOnly(
                table=brief_versions,
                on_update="brief versions are immutable: append a new version instead",
                on_delete="brief versions are immutable: they cannot be deleted",
            ),
            AppendOnly(
                table=production_events,
                on_update="the event log is append-only",
                on_delete="the event log is append-only",
            ),
        ),
    ),
    Migration(id="production-002-shot-take", add_columns=(shots.c.take,)),
    Migration(id="production-003-shot-traces", tables=(shot_traces,)),
]
