"""The style family's one table in the state store, declared with SQLAlchemy Core: the ingest
journal (tools/style/journal.py). The kits themselves live in Chroma (tools/style/store.py)."""

from __future__ import annotations

import sqlalchemy as sa

from core.state import METADATA, Migration

style_pending = sa.Table(
    "style_pending",
    METADATA,
    sa.Column("kit", sa.Text, primary_key=True),
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("old_ids", sa.Text, nullable=False),
    sa.Column("new_ids", sa.Text, nullable=False),
    sa.Column("started_at", sa.Text, nullable=False),
    # Rows from before owners existed get owner '' and an expired lease: anyone may settle them.
    sa.Column("owner", sa.Text, nullable=False, server_default=""),
    sa.Column("lease_until", sa.Float, nullable=False, server_default="0"),
)

MIGRATIONS = [
    Migration(id="style-001-pending", tables=(style_pending,)),
    Migration(id="style-002-pending-owner", add_columns=(style_pending.c.owner, style_pending.c.lease_until)),
]
