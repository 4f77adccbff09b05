"""The consent family's tables, declared with SQLAlchemy Core (one schema for SQLite and PostgreSQL).

Consent records and refusals are append-only (triggers enforce it): the current consent of a
performer is their latest record, and the history says who recorded what, when."""

from __future__ import annotations

import sqlalchemy as sa

from core.state import METADATA, AppendOnly, Migration
from tools.production import tables

performers = sa.Table(
    "performers",
    METADATA,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
)

performer_names = sa.Table(
    "performer_names",
    METADATA,
    sa.Column("name_key", sa.Text, primary_key=True),
    sa.Column("performer", sa.Text, sa.ForeignKey("performers.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
)

performer_references = sa.Table(
    "performer_references",
    METADATA,
    sa.Column("performer", sa.Text, sa.ForeignKey("performers.id"), primary_key=True),
    sa.Column("asset", sa.Text, sa.ForeignKey(tables.assets.c.id), primary_key=True),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("added_at", sa.Text, nullable=False),
    sa.Index("performer_references_by_sha", "sha256"),
)

performer_roles = sa.Table(
    "performer_roles",
    METADATA,
    sa.Column("production", sa.Text, sa.ForeignKey(tables.productions.c.id), primary_key=True),
    sa.Column("character_key", sa.Text, primary_key=True),
    sa.Column("character", sa.Text, nullable=False),
    sa.Column("performer", sa.Text, sa.ForeignKey("performers.id"), nullable=False),
    sa.Column("added_at", sa.Text, nullable=False),
)

consents = sa.Table(
    "consents",
    METADATA,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("performer", sa.Text, sa.ForeignKey("performers.id"), nullable=False),
    sa.Column("action", sa.Text, sa.CheckConstraint("action IN ('grant', 'withdraw')"), nullable=False),
    sa.Column("likeness", sa.Integer, sa.CheckConstraint("likeness IN (0, 1)"), nullable=False),
    sa.Column("voice", sa.Integer, sa.CheckConstraint("voice IN (0, 1)"), nullable=False),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("expires", sa.Text),
    sa.Column("document", sa.Text),
    sa.Column("recorded_by", sa.Text),
    sa.Column("recorded_at", sa.Text, nullable=False),
    sa.Index("consents_by_performer", "performer", "seq"),
    sqlite_autoincrement=True,
)

consent_refusals = sa.Table(
    "consent_refusals",
    METADATA,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("production", sa.Text, sa.ForeignKey(tables.productions.c.id), nullable=False),
    sa.Column("performer", sa.Text, sa.ForeignKey("performers.id"), nullable=False),
    sa.Column("tool", sa.Text, nullable=False),
    sa.Column("shot", sa.Text),
    sa.Column("missing", sa.Text, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
    sa.Index("consent_refusals_by_production", "production", "seq"),
    sqlite_autoincrement=True,
)

MIGRATIONS = [
    Migration(
        id="consent-001-core",
        tables=(performers, performer_names, performer_references, performer_roles, consents, consent_refusals),
        append_only=(
            AppendOnly(
                table=consents,
                on_update="consent records are append-only: record a new one to amend or withdraw",
                on_delete="consent records are append-only: they cannot be deleted",
            ),
            AppendOnly(
                table=consent_refusals,
                on_update="the refusal log is append-only",
                on_delete="the refusal log is append-only",
            ),
        ),
    )
]
