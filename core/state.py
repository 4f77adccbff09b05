"""The transactional state store: SQLite in WAL mode, with per-family migrations.

Every family declares its tables as a list of `Migration`s; the store applies each exactly
once, in order, and records it in `schema_migrations`. Calls are synchronous and
serialised by a lock: callers on the event loop run them in a worker thread.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel


class Migration(BaseModel):
    id: str  # unique and stable, e.g. "style-001-sources"
    sql: str


class StateStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )

    def migrate(self, migrations: Sequence[Migration]) -> list[str]:
        """Apply the migrations not yet applied; returns their ids."""
        applied: list[str] = []
        with self.transaction() as conn:
            done = {row["id"] for row in conn.execute("SELECT id FROM schema_migrations")}
            for migration in migrations:
                if migration.id in done:
                    continue
                conn.executescript_in_tx(migration.sql)
                conn.execute(
                    "INSERT INTO schema_migrations (id, applied_at) VALUES (?, datetime('now'))", (migration.id,)
                )
                applied.append(migration.id)
        return applied

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One atomic unit of work: committed on success, rolled back on any exception."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def trace(self, callback: Callable[[str], None] | None) -> None:
        """Call `callback` with every SQL statement this store runs (None stops): for tests and debugging."""
        with self._lock:
            self._conn.set_trace_callback(callback)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class Tx:
    """The connection as seen inside a transaction (what `StateStore.transaction` yields)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor:
        return self._conn.executemany(sql, rows)

    def executescript_in_tx(self, script: str) -> None:
        # sqlite3.executescript would COMMIT first; run statement by statement instead.
        for statement in _split_sql(script):
            self._conn.execute(statement)


def _split_sql(script: str) -> list[str]:
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return [s for s in statements if s]
