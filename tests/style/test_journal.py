"""The ingest journal's owner and lease, on SQLite and PostgreSQL: replicas sharing one state store
never settle each other's live writes, and exactly one of them takes over a row whose owner died."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import cast

import pytest

from core import now_iso
from core.context import StudioContext
from core.state import StateStore
from tools.style.journal import IngestJournal, SourceWrite
from tools.style.schema import MIGRATIONS


@pytest.fixture
def store(state_url: str) -> Iterator[StateStore]:
    opened = StateStore(state_url)
    opened.migrate(MIGRATIONS)
    yield opened
    opened.close()


def replica(store: StateStore, lease_s: float) -> IngestJournal:
    """A journal as one server process has it (only the store of its context is used)."""
    return IngestJournal(cast(StudioContext, SimpleNamespace(state=store)), lease_s)


def write(source: str) -> SourceWrite:
    return SourceWrite(source=source, old_ids=["old-1"], new_ids=["new-1", "new-2"], started_at=now_iso())


def test_a_live_owners_rows_are_its_own_and_an_expired_row_goes_to_one_replica(store: StateStore) -> None:
    alive, other = replica(store, 60.0), replica(store, 60.0)
    alive.begin("kit", [write("a.md"), write("b.md")])
    [mine, _] = alive.settleable()
    assert mine.owner == alive.owner and mine.new_ids == frozenset({"new-1", "new-2"})
    assert mine.old_ids == frozenset({"old-1"}) and mine.lease_until > time.time() + 50
    assert other.settleable() == []  # the owner is alive: its writes are nobody else's to undo
    assert other.take_over(mine) is False
    other.finish("kit", ["a.md"])  # another owner's rows are not dropped
    assert [e.source for e in alive.settleable()] == ["a.md", "b.md"]
    alive.finish("kit", ["a.md"])
    assert [e.source for e in alive.settleable()] == ["b.md"]

    dead = replica(store, 0.05)
    dead.begin("kit", [write("c.md")])
    time.sleep(0.1)  # the owner stops renewing: its lease runs out
    [expired] = [e for e in other.settleable() if e.source == "c.md"]
    assert expired.owner == dead.owner
    assert other.take_over(expired) is True
    assert alive.take_over(expired) is False  # the row changed owner since it was read
    [taken] = [e for e in other.settleable() if e.source == "c.md"]
    assert taken.owner == other.owner and taken.lease_until > time.time()
    assert [e.source for e in alive.settleable()] == ["b.md"]


def test_renewing_keeps_a_row_its_owners_and_a_rewrite_takes_a_new_lease(store: StateStore) -> None:
    owner, other = replica(store, 0.3), replica(store, 0.3)
    owner.begin("kit", [write("a.md")])
    for _ in range(4):
        time.sleep(0.1)
        owner.renew()
    assert other.settleable() == []  # 0.4 s after it began, and still the owner's
    [before] = owner.settleable()
    time.sleep(0.05)
    owner.begin("kit", [SourceWrite("a.md", ["x"], ["y"], now_iso())])  # the same source written again: one row
    [after] = owner.settleable()
    assert after.new_ids == frozenset({"y"}) and after.lease_until > before.lease_until


def test_replicas_racing_for_an_expired_row_give_it_to_exactly_one(store: StateStore) -> None:
    dead = replica(store, 0.05)
    dead.begin("kit", [write(f"{i}.md") for i in range(5)])
    time.sleep(0.1)
    replicas = [replica(store, 60.0) for _ in range(4)]
    won: dict[str, list[str]] = {}
    barrier = threading.Barrier(len(replicas))

    def sweep(journal: IngestJournal) -> None:
        entries = journal.settleable()
        barrier.wait()
        for entry in entries:
            if journal.take_over(entry):
                won.setdefault(entry.source, []).append(journal.owner)

    threads = [threading.Thread(target=sweep, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(won) == [f"{i}.md" for i in range(5)]
    assert all(len(owners) == 1 for owners in won.values()), won
    by_owner = {e.source: e.owner for r in replicas for e in r.settleable()}
    assert by_owner == {source: owners[0] for source, owners in won.items()}
