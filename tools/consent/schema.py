"""The consent family's tables. Consent records and refusals are append-only (triggers enforce it):
the current consent of a performer is their latest record, and the history says who recorded what, when."""

from __future__ import annotations

from core import Migration

MIGRATIONS = [
    Migration(
        id="consent-001-core",
        sql="""
CREATE TABLE performers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_by TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE performer_names (
    name_key TEXT PRIMARY KEY,
    performer TEXT NOT NULL REFERENCES performers(id),
    name TEXT NOT NULL
);
CREATE TABLE performer_references (
    performer TEXT NOT NULL REFERENCES performers(id),
    asset TEXT NOT NULL REFERENCES assets(id),
    sha256 TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (performer, asset)
);
CREATE INDEX performer_references_by_sha ON performer_references (sha256);
CREATE TABLE performer_roles (
    production TEXT NOT NULL REFERENCES productions(id),
    character_key TEXT NOT NULL,
    character TEXT NOT NULL,
    performer TEXT NOT NULL REFERENCES performers(id),
    added_at TEXT NOT NULL,
    PRIMARY KEY (production, character_key)
);
CREATE TABLE consents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    performer TEXT NOT NULL REFERENCES performers(id),
    action TEXT NOT NULL CHECK (action IN ('grant', 'withdraw')),
    likeness INTEGER NOT NULL CHECK (likeness IN (0, 1)),
    voice INTEGER NOT NULL CHECK (voice IN (0, 1)),
    scope TEXT NOT NULL,
    expires TEXT,
    document TEXT,
    recorded_by TEXT,
    recorded_at TEXT NOT NULL
);
CREATE INDEX consents_by_performer ON consents (performer, seq);
CREATE TRIGGER consents_no_update BEFORE UPDATE ON consents
BEGIN SELECT RAISE(ABORT, 'consent records are append-only: record a new one to amend or withdraw'); END;
CREATE TRIGGER consents_no_delete BEFORE DELETE ON consents
BEGIN SELECT RAISE(ABORT, 'consent records are append-only: they cannot be deleted'); END;
CREATE TABLE consent_refusals (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    production TEXT NOT NULL REFERENCES productions(id),
    performer TEXT NOT NULL REFERENCES performers(id),
    tool TEXT NOT NULL,
    shot TEXT,
    missing TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX consent_refusals_by_production ON consent_refusals (production, seq);
CREATE TRIGGER consent_refusals_no_update BEFORE UPDATE ON consent_refusals
BEGIN SELECT RAISE(ABORT, 'the refusal log is append-only'); END;
CREATE TRIGGER consent_refusals_no_delete BEFORE DELETE ON consent_refusals
BEGIN SELECT RAISE(ABORT, 'the refusal log is append-only'); END;
""",
    )
]
