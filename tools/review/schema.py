"""The review family's tables.

A review is one asset put before a human; its decisions are append-only (a later decision
supersedes, never erases), and SQLite enforces it with triggers. Kit material a decision sends to
retrieval waits in `review_kit_outbox` until Chroma has it: the decision commits with the state
change, and the outbox makes the retrieval write happen once Chroma answers, never twice."""

from __future__ import annotations

from core import Migration

MIGRATIONS = [
    Migration(
        id="review-001-core",
        sql="""
CREATE TABLE reviews (
    id TEXT PRIMARY KEY,
    production TEXT NOT NULL REFERENCES productions(id),
    asset TEXT NOT NULL UNIQUE REFERENCES assets(id),
    shot TEXT,
    note TEXT,
    provenance TEXT NOT NULL,
    findings TEXT NOT NULL,
    submitted_by TEXT,
    submitted_at TEXT NOT NULL
);
CREATE INDEX reviews_by_production ON reviews (production, submitted_at);
CREATE TRIGGER reviews_no_update BEFORE UPDATE ON reviews
BEGIN SELECT RAISE(ABORT, 'a review submission is immutable: record a decision instead'); END;
CREATE TRIGGER reviews_no_delete BEFORE DELETE ON reviews
BEGIN SELECT RAISE(ABORT, 'a review submission cannot be deleted'); END;
CREATE TABLE review_decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    review TEXT NOT NULL REFERENCES reviews(id),
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject', 'revise')),
    notes TEXT NOT NULL,
    reviewer TEXT,
    feedback TEXT NOT NULL,
    decided_at TEXT NOT NULL
);
CREATE INDEX review_decisions_by_review ON review_decisions (review, seq);
CREATE TRIGGER review_decisions_no_update BEFORE UPDATE ON review_decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only: record a new decision to supersede one'); END;
CREATE TRIGGER review_decisions_no_delete BEFORE DELETE ON review_decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only: they cannot be deleted'); END;
CREATE TABLE review_kit_outbox (
    decision INTEGER PRIMARY KEY REFERENCES review_decisions(seq),
    kit TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    entities TEXT NOT NULL,
    tags TEXT NOT NULL,
    written_at TEXT,
    last_error TEXT
);
""",
    )
]
