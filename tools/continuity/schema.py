"""The continuity family's tables, declared with SQLAlchemy Core (one schema for SQLite and PostgreSQL).

Entity and alias names match case-insensitively ('Mara' is 'mara'). The first release declared those
columns COLLATE NOCASE on SQLite; PostgreSQL has no such collation, so the columns carry none and the
code compares `lower(...)` and reuses an entity's stored spelling (see ledger.py). Existing SQLite
databases keep their collation, which agrees with that.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.state import METADATA, Migration

continuity_entities = sa.Table(
    "continuity_entities",
    METADATA,
    sa.Column("production", sa.Text, primary_key=True),
    sa.Column("entity", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)

# Facts, references and aliases are append-only by design: the code only ever inserts them.
continuity_facts = sa.Table(
    "continuity_facts",
    METADATA,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("production", sa.Text, nullable=False),
    sa.Column("entity", sa.Text, nullable=False),
    sa.Column("attribute", sa.Text, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("from_scene", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Index("continuity_facts_entity", "production", "entity"),
    sqlite_autoincrement=True,
)

continuity_references = sa.Table(
    "continuity_references",
    METADATA,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("production", sa.Text, nullable=False),
    sa.Column("entity", sa.Text, nullable=False),
    sa.Column("asset", sa.Text, nullable=False),
    sa.Column("from_scene", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
    sqlite_autoincrement=True,
)

continuity_aliases = sa.Table(
    "continuity_aliases",
    METADATA,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("production", sa.Text, nullable=False),
    sa.Column("entity", sa.Text, nullable=False),
    sa.Column("alias", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Index("continuity_aliases_entity", "production", "entity"),
    sqlite_autoincrement=True,
)

continuity_findings = sa.Table(
    "continuity_findings",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("production", sa.Text, nullable=False),
    sa.Column("shot", sa.Text),
    sa.Column("asset", sa.Text),
    sa.Column("source", sa.Text, sa.CheckConstraint("source IN ('preflight', 'media', 'gemini')"), nullable=False),
    sa.Column("severity", sa.Text, sa.CheckConstraint("severity IN ('error', 'warning', 'info')"), nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("entity", sa.Text),
    sa.Column("expected", sa.Text),
    sa.Column("found", sa.Text),
    sa.Column("evidence", sa.Text),
    sa.Column("suggestion", sa.Text),
    sa.Column("time_s", sa.Float),
    sa.Column("resolved", sa.Integer, nullable=False, server_default="0"),
    sa.Column("resolved_note", sa.Text),
    sa.Column("resolved_at", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Index("continuity_findings_target", "production", "shot", "asset", "source"),
    sqlite_autoincrement=True,
)

LEDGER_MIGRATIONS = [
    Migration(id="continuity-001-ledger", tables=(continuity_entities, continuity_facts, continuity_references)),
    Migration(id="continuity-002-aliases", tables=(continuity_aliases,)),
]
REPORT_MIGRATIONS = [Migration(id="continuity-002-findings", tables=(continuity_findings,))]
MIGRATIONS = [*LEDGER_MIGRATIONS, *REPORT_MIGRATIONS]
