"""The production family's tables.

Brief versions and events are append-only, and SQLite enforces it: triggers abort any UPDATE or
DELETE on them, so no code path (ours or a future one) can rewrite a brief or the history."""

from __future__ import annotations

from core import Migration

MIGRATIONS = [
    Migration(
        id="production-001-core",
        sql="""
CREATE TABLE productions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kit TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE brief_versions (
    production TEXT NOT NULL REFERENCES productions(id),
    version INTEGER NOT NULL CHECK (version >= 1),
    logline TEXT NOT NULL,
    tone TEXT NOT NULL,
    must TEXT NOT NULL,
    must_not TEXT NOT NULL,
    budget_usd REAL CHECK (budget_usd IS NULL OR budget_usd >= 0),
    note TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (production, version)
);
CREATE TRIGGER brief_versions_no_update BEFORE UPDATE ON brief_versions
BEGIN SELECT RAISE(ABORT, 'brief versions are immutable: append a new version instead'); END;
CREATE TRIGGER brief_versions_no_delete BEFORE DELETE ON brief_versions
BEGIN SELECT RAISE(ABORT, 'brief versions are immutable: they cannot be deleted'); END;
CREATE TABLE shots (
    production TEXT NOT NULL REFERENCES productions(id),
    scene TEXT NOT NULL,
    number INTEGER NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (production, scene, number)
);
CREATE TABLE production_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    production TEXT NOT NULL REFERENCES productions(id),
    at TEXT NOT NULL,
    tool TEXT NOT NULL,
    actor TEXT,
    inputs_digest TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX production_events_by_production ON production_events (production, seq);
CREATE TRIGGER production_events_no_update BEFORE UPDATE ON production_events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER production_events_no_delete BEFORE DELETE ON production_events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TABLE assets (
    id TEXT PRIMARY KEY,
    production TEXT NOT NULL REFERENCES productions(id),
    shot TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('video', 'image')),
    mime_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    path TEXT NOT NULL,
    provenance TEXT NOT NULL,
    parent TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX assets_by_production ON assets (production, created_at);
CREATE TABLE spend_entries (
    job_id TEXT PRIMARY KEY,
    production TEXT NOT NULL REFERENCES productions(id),
    estimate_usd REAL NOT NULL CHECK (estimate_usd >= 0),
    actual_usd REAL CHECK (actual_usd IS NULL OR actual_usd >= 0),
    status TEXT NOT NULL CHECK (status IN ('committed', 'spent', 'released')),
    updated_at TEXT NOT NULL
);
CREATE INDEX spend_entries_by_production ON spend_entries (production, status);
""",
    ),
    Migration(
        id="production-002-shot-take",
        # The asset a shot's status is about: its approved take, or the take a reviewer rejected.
        sql="ALTER TABLE shots ADD COLUMN take TEXT;",
    ),
    Migration(
        id="production-003-shot-traces",
        # The root of each shot's OpenTelemetry trace, so calls minutes apart land in one trace. Kept
        # apart from `shots`, whose rows a re-plan replaces.
        sql="""
CREATE TABLE shot_traces (
    production TEXT NOT NULL REFERENCES productions(id),
    shot TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    PRIMARY KEY (production, shot)
);
""",
    ),
]
