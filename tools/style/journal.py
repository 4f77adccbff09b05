"""The ingest journal: one row per source being written to Chroma, owned by the process writing it.

A row names its owner and holds a lease that the owner renews while it lives. Only the owner, or
anyone once the lease has run out (the owner died or hangs), may settle a row: finish or roll back
that source. So a replica starting up never undoes a write that another, live replica is making.
Taking over an expired row is a compare-and-set on (owner, lease), so two replicas never both do.

Calls are blocking SQLite work: run them in a worker thread.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from core import Migration, StudioContext

MIGRATIONS = [
    Migration(
        id="style-001-pending",
        sql="""CREATE TABLE style_pending (
            kit TEXT NOT NULL, source TEXT NOT NULL, old_ids TEXT NOT NULL, new_ids TEXT NOT NULL,
            started_at TEXT NOT NULL, PRIMARY KEY (kit, source))""",
    ),
    # Rows from before owners existed get owner '' and an expired lease: anyone may settle them.
    Migration(
        id="style-002-pending-owner",
        sql="""ALTER TABLE style_pending ADD COLUMN owner TEXT NOT NULL DEFAULT '';
        ALTER TABLE style_pending ADD COLUMN lease_until REAL NOT NULL DEFAULT 0;""",
    ),
]


@dataclass(frozen=True)
class PendingSource:
    kit: str
    source: str
    old_ids: frozenset[str]
    new_ids: frozenset[str]
    owner: str
    lease_until: float  # seconds since the epoch: replicas on one data directory share a clock


@dataclass(frozen=True)
class SourceWrite:
    source: str
    old_ids: Sequence[str]
    new_ids: Sequence[str]
    started_at: str


class IngestJournal:
    def __init__(self, context: StudioContext, lease_s: float) -> None:
        self._context = context
        self.lease_s = lease_s
        # Host and pid make the owner readable in the table and the logs; the random part keeps it unique.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def begin(self, kit: str, writes: Sequence[SourceWrite]) -> None:
        lease_until = time.time() + self.lease_s
        with self._context.state.transaction() as tx:
            tx.executemany(
                "INSERT OR REPLACE INTO style_pending (kit, source, old_ids, new_ids, started_at, owner, lease_until) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [self._row(kit, w, lease_until) for w in writes],
            )

    def _row(self, kit: str, w: SourceWrite, lease_until: float) -> tuple[object, ...]:
        old, new = json.dumps(list(w.old_ids)), json.dumps(list(w.new_ids))
        return (kit, w.source, old, new, w.started_at, self.owner, lease_until)

    def finish(self, kit: str, sources: Sequence[str]) -> None:
        """The sources are written: drop their rows (only ours; another owner's row is its business)."""
        with self._context.state.transaction() as tx:
            tx.executemany(
                "DELETE FROM style_pending WHERE kit = ? AND source = ? AND owner = ?",
                [(kit, source, self.owner) for source in sources],
            )

    def renew(self) -> None:
        """Extend the lease of every row this process owns: it is alive, so they stay its to settle."""
        with self._context.state.transaction() as tx:
            tx.execute(
                "UPDATE style_pending SET lease_until = ? WHERE owner = ?", (time.time() + self.lease_s, self.owner)
            )

    def settleable(self) -> list[PendingSource]:
        """Rows this process may settle: its own, and those whose owner let the lease run out."""
        rows = self._context.state.query(
            "SELECT kit, source, old_ids, new_ids, owner, lease_until FROM style_pending "
            "WHERE owner = ? OR lease_until < ? ORDER BY kit, source",
            (self.owner, time.time()),
        )
        return [
            PendingSource(
                kit=row["kit"],
                source=row["source"],
                old_ids=frozenset(json.loads(row["old_ids"])),
                new_ids=frozenset(json.loads(row["new_ids"])),
                owner=row["owner"],
                lease_until=float(row["lease_until"]),
            )
            for row in rows
        ]

    def take_over(self, entry: PendingSource) -> bool:
        """Make an expired row ours, unless its owner renewed it or another replica took it first."""
        with self._context.state.transaction() as tx:
            cursor = tx.execute(
                "UPDATE style_pending SET owner = ?, lease_until = ? "
                "WHERE kit = ? AND source = ? AND owner = ? AND lease_until = ? AND lease_until < ?",
                (
                    self.owner,
                    time.time() + self.lease_s,
                    entry.kit,
                    entry.source,
                    entry.owner,
                    entry.lease_until,
                    time.time(),
                ),
            )
            return cursor.rowcount == 1
