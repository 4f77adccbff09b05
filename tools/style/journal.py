"""The ingest journal: one row per source being written to Chroma, owned by the process writing it.

A row names its owner and holds a lease that the owner renews while it lives. Only the owner, or
anyone once the lease has run out (the owner died or hangs), may settle a row: finish or roll back
that source. So a replica starting up never undoes a write that another, live replica is making.
Taking over an expired row is a compare-and-set on (owner, lease), so two replicas never both do.

Calls are blocking state-store work: run them in a worker thread.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from core.context import StudioContext
from tools.style.schema import style_pending


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
            for w in writes:
                tx.upsert(style_pending, self._row(kit, w, lease_until), key=["kit", "source"])

    def _row(self, kit: str, w: SourceWrite, lease_until: float) -> dict[str, object]:
        return {
            "kit": kit,
            "source": w.source,
            "old_ids": json.dumps(list(w.old_ids)),
            "new_ids": json.dumps(list(w.new_ids)),
            "started_at": w.started_at,
            "owner": self.owner,
            "lease_until": lease_until,
        }

    def finish(self, kit: str, sources: Sequence[str]) -> None:
        """The sources are written: drop their rows (only ours; another owner's row is its business)."""
        if not sources:
            return
        t = style_pending.c
        with self._context.state.transaction() as tx:
            tx.execute(sa.delete(style_pending).where(t.kit == kit, t.source.in_(list(sources)), t.owner == self.owner))

    def renew(self) -> None:
        """Extend the lease of every row this process owns: it is alive, so they stay its to settle."""
        t = style_pending.c
        with self._context.state.transaction() as tx:
            tx.execute(
                sa.update(style_pending).where(t.owner == self.owner).values(lease_until=time.time() + self.lease_s)
            )

    def settleable(self) -> list[PendingSource]:
        """Rows this process may settle: its own, and those whose owner let the lease run out."""
        t = style_pending.c
        rows = self._context.state.rows(
            sa.select(t.kit, t.source, t.old_ids, t.new_ids, t.owner, t.lease_until)
            .where(sa.or_(t.owner == self.owner, t.lease_until < time.time()))
            .order_by(t.kit, t.source)
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
        t = style_pending.c
        with self._context.state.transaction() as tx:
            result = tx.execute(
                sa.update(style_pending)
                .where(
                    t.kit == entry.kit,
                    t.source == entry.source,
                    t.owner == entry.owner,
                    t.lease_until == entry.lease_until,
                    t.lease_until < time.time(),
                )
                .values(owner=self.owner, lease_until=time.time() + self.lease_s)
            )
            return result.rowcount == 1
